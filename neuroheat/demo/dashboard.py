"""The dashboard part of ``neuroheat demo``: the offline site of every neuron of the store.

Example:
    >>> demo_dashboard("demo_output/minilm.h5", "demo_output")   # doctest: +SKIP
    {'site': PosixPath('demo_output/site/index.html'), ...}
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import neuroheat as nh

log = logging.getLogger(__name__)

TITLE = "neuroheat demo: all-MiniLM-L6-v2 on pydoc sentences"


def demo_dashboard(store: str | os.PathLike, outdir: str | os.PathLike, *,
                   probe: str | os.PathLike | None = None) -> dict[str, Any]:
    """Write ``outdir/site`` (every neuron; the demo probe's weights when ``probe`` names
    its JSON) and return ``{"site": index.html, "text": a line to print}``."""
    loaded = nh.probing.Probe.load(probe) if probe is not None and Path(probe).exists() \
        else None
    index = nh.report.build_site(store, Path(outdir) / "site", probe=loaded, title=TITLE,
                                 overwrite=True)
    text = f"Dashboard of every neuron: {index} (open it in a browser; works offline)"
    log.info("%s", text)
    return {"site": index, "text": text}
