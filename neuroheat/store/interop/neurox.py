"""NeuroX interop: import NeuroX activation files into a store, export a store to NeuroX's layout.

NeuroX (``neurox.data.writer`` / ``neurox.data.loader.load_activations``) keeps two layouts:

- **HDF5** (``.hdf5``): one dataset per sentence, named by its index ``"0"``..``"N-1"``, shape
  ``[n_layers, n_tokens, width]`` (float32 by default, float16 with ``--dtype``), plus a
  dataset ``sentence_to_index`` of shape ``(1,)`` holding one JSON string that maps each
  sentence's text (its tokens joined by spaces) to its index as a string. A repeated sentence
  gets the key ``"<text> (Occurrence 2)"``, ``3``, ... NeuroX's loader walks that mapping in
  order, so the keys are written in index order.
- **JSON lines** (``.json``): one object per sentence,
  ``{"linex_index": i, "features": [{"token": t, "layers": [{"index": k, "values": [...]},
  ...]}, ...]}``.

NeuroX records no layer numbers (its layer axis is whatever was extracted, embeddings first
unless ``--ignore_embeddings``/``--filter_layers``); imports number them 0..n-1 unless told
otherwise (``layers=``). Exports add file attributes (``neuroheat_layers``, ``model``...) that
NeuroX ignores and imports read back, and write model layer numbers as JSON ``"index"``.
Float values survive both ways exactly (JSON values are written with full float precision).

Reading is :mod:`~neuroheat.store.interop.neurox_import`, writing
:mod:`~neuroheat.store.interop.neurox_export`; this module gathers the public names.

Example:
    >>> import_neurox("activations.hdf5", "acts.h5")                      # doctest: +SKIP
    >>> export_neurox("acts.h5", "for_neurox.hdf5")                        # doctest: +SKIP
"""

from __future__ import annotations

from neuroheat.store.interop.neurox_export import export_neurox
from neuroheat.store.interop.neurox_import import SENTENCE_TO_INDEX, import_neurox, is_neurox_file

__all__ = ["SENTENCE_TO_INDEX", "export_neurox", "import_neurox", "is_neurox_file"]
