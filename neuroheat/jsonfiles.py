"""JSON files of result objects: written atomically (a temporary file and a rename, so an
interrupted save never leaves a truncated file that looks complete), read with a one-line
error naming what is wrong.

Example:
    >>> path = write_json("patch.json", {"metric": "logit_diff"})      # doctest: +SKIP
    >>> read_json(path, ("metric",), "PATCH.json")["metric"]            # doctest: +SKIP
    'logit_diff'
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from neuroheat.errors import InputError

__all__ = ["read_json", "write_json"]


def write_json(path: str | os.PathLike, data: Any, *, allow_nan: bool = False) -> Path:
    """Write ``data`` as JSON (UTF-8, indented) to ``path`` atomically; returns the path.
    ``allow_nan=False`` refuses NaN and infinities, which JSON cannot hold."""
    path = Path(path)
    text = json.dumps(data, ensure_ascii=False, indent=1, allow_nan=allow_nan) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_json(path: str | os.PathLike, keys: tuple[str, ...], what: str) -> dict[str, Any]:
    """The JSON object in ``path``; an InputError when it cannot be read or lacks ``keys``
    (``what`` names the kind of file in the message)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {what} {path}: {exc}") from None
    missing = [k for k in keys if not isinstance(data, dict) or k not in data]
    if missing:
        raise InputError(f"{path} is not a {what} file: keys {', '.join(missing)} are missing")
    return data
