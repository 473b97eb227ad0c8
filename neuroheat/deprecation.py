"""Deprecated spellings: one helper that names the replacement.

Every public concept has one name; an older spelling that README documented keeps working
for one release and warns (``DeprecationWarning``) with the new one.

Example:
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     renamed("store.hidden_size", "store.width")
    >>> str(caught[0].message)
    'store.hidden_size is deprecated; use store.width'
"""

from __future__ import annotations

import warnings


def renamed(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Warn that the spelling ``old`` is deprecated in favour of ``new``."""
    warnings.warn(f"{old} is deprecated; use {new}", DeprecationWarning, stacklevel=stacklevel)
