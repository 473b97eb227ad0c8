"""Other tools' activation layouts, read into and written from stores (NeuroX today).

:mod:`~neuroheat.store.interop.neurox` describes NeuroX's layouts and gathers
:func:`import_neurox` (``neurox_import.py``) and :func:`export_neurox` (``neurox_export.py``).

Example:
    >>> from neuroheat.store.interop import export_neurox, import_neurox
    >>> import_neurox("activations.hdf5", "acts.h5")     # doctest: +SKIP
"""

from __future__ import annotations

from neuroheat.store.interop.neurox import export_neurox, import_neurox, is_neurox_file

__all__ = ["export_neurox", "import_neurox", "is_neurox_file"]
