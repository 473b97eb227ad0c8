"""Former home of NeuroX interop, kept so old imports work: see :mod:`neuroheat.store.interop`.

Example:
    >>> from neuroheat.store.interop import export_neurox, import_neurox   # the new path
"""

from __future__ import annotations

from neuroheat.store.interop import export_neurox, import_neurox, is_neurox_file

__all__ = ["export_neurox", "import_neurox", "is_neurox_file"]
