"""The JSON files of probing results (labels, probes, rankings): tagged, versioned, no pickle.

Example:
    >>> write_doc("probe.json", "neuroheat-probe", {"weights": [[1.0]]})   # doctest: +SKIP
    >>> read_doc("probe.json", "neuroheat-probe", "a probe", "Probe.save")  # doctest: +SKIP
    {'format': 'neuroheat-probe', 'weights': [[1.0]]}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from neuroheat.errors import InputError

__all__ = ["read_doc", "write_doc"]


def write_doc(path: str | os.PathLike, tag: str, doc: dict[str, Any], *,
              compact: bool = False) -> Path:
    """Write ``doc`` as JSON with ``"format": tag`` first; returns the path."""
    path = Path(path)
    text = json.dumps({"format": tag, **doc},
                      separators=(",", ":") if compact else None)
    path.write_text(text, encoding="utf-8")
    return path


def read_doc(path: str | os.PathLike, tag: str, what: str, writer: str) -> dict[str, Any]:
    """The JSON document at ``path``, which must carry ``"format": tag``; an InputError
    naming ``what`` it should be and the ``writer`` that makes it otherwise."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path} cannot be read as {what} ({exc}); write it with "
                         f"{writer}") from exc
    if not isinstance(doc, dict) or doc.get("format") != tag:
        raise InputError(f"{path} is not {what} written by {writer}")
    return doc
