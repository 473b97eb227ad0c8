"""The harness of ``scripts/bench_bounds.py``: interleaved best-of timing, table rows.

Each row times neuroheat and its bound in the same process, interleaved round by round;
the ratio is the bound's time over ours for speed goals (``>=``) and ours over the bound's
for time goals (``<=``).
"""

from __future__ import annotations

import gc
import importlib.util
import os
import time
from pathlib import Path

__all__ = ["best_of", "fmt", "load", "row", "set_sync", "sibling"]


def load() -> str:
    return open("/proc/loadavg").read().split()[0] if os.path.exists("/proc/loadavg") else "?"


_sync = [lambda: None]  # called before the clock starts and stops (set_sync)


def set_sync(fn) -> None:
    """Time every function of :func:`best_of` up to ``fn()`` (a device's synchronize)."""
    _sync[0] = fn


def best_of(fns: dict, rounds: int) -> dict[str, float]:
    """Best time of each function over ``rounds`` interleaved rounds (in dict order)."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            gc.collect()
            _sync[0]()
            t0 = time.perf_counter()
            fn()
            _sync[0]()
            times[name].append(time.perf_counter() - t0)
    return {name: min(ts) for name, ts in times.items()}


def row(path: str, ours: float, bound: float, goal: str) -> dict:
    """One table row; ``goal`` is ``">= x"`` (fraction of the bound's speed) or ``"<= x"``
    (times the bound's time)."""
    speed = goal.startswith(">=")
    ratio = bound / ours if speed else ours / bound
    limit = float(goal.split()[1].rstrip("x"))
    met = ratio >= limit if speed else ratio <= limit
    return {"path": path, "neuroheat": ours, "bound": bound, "ratio": ratio, "goal": goal,
            "met": met, "load": load()}


def sibling(name: str):
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def fmt(r: dict) -> str:
    unit = "" if r["goal"].startswith(">=") else "x"
    return (f"| {r['path']} | {r['neuroheat']:.3f} s | {r['bound']:.3f} s | "
            f"{r['ratio']:.2f}{unit} | {r['goal']} {'met' if r['met'] else 'NOT met'} | "
            f"load {r['load']} |")
