"""Other tools' activation layouts, read into and written from stores (NeuroX today).

:mod:`~neuroheat.store.interop.neurox` reads NeuroX files (and describes their layouts),
:mod:`~neuroheat.store.interop.neurox_export` writes them.

Example:
    >>> from neuroheat.store.interop import export_neurox, import_neurox
    >>> import_neurox("activations.hdf5", "acts.h5")     # doctest: +SKIP
"""

from __future__ import annotations

from neuroheat.store.interop.neurox import import_neurox, is_neurox_file
from neuroheat.store.interop.neurox_export import export_neurox

__all__ = ["export_neurox", "import_neurox", "is_neurox_file"]
