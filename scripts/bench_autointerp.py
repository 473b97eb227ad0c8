"""Benchmark: ``neuroheat explain`` throughput with concurrent requests.

A scripted OpenAI-compatible server on 127.0.0.1 (``tests/autointerp/server.py``, threaded
stdlib ``http.server``) answers every request after a fixed ``--delay`` (an explanation, or
a judge that answers 1). A store with one layer of ``--neurons`` neurons (each fires on its
own word) is explained with the detection scorer at ``--concurrency`` 1 and at 16; the
whole ``explain`` call is timed (example selection included). The issue asks the 16-way run
to take at most 1/8 of the time of the 1-way run.

Usage: python scripts/bench_autointerp.py [--neurons 200] [--delay 0.05] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo: tests/ helpers

from neuroheat.autointerp import explain  # noqa: E402
from neuroheat.store import write_store  # noqa: E402
from tests.autointerp.server import ScriptedServer, ones  # noqa: E402


def make_store(path: Path, neurons: int, sentences: int = 400, seed: int = 0) -> Path:
    """One layer; neuron j is 1.0 on word ``w{j}`` and 0 elsewhere."""
    rng = np.random.default_rng(seed)
    sents, acts = [], []
    for _ in range(sentences):
        ids = rng.integers(0, neurons, int(rng.integers(4, 12)))
        sents.append([f"w{j}" for j in ids])
        a = np.zeros((len(ids), 1, neurons), np.float32)
        a[np.arange(len(ids)), 0, ids] = 1.0
        acts.append(a)
    write_store(path, sents, acts, layers=[0])
    return path


def run(store: Path, out: Path, url: str, concurrency: int, neurons: int) -> float:
    t0 = time.perf_counter()
    res = explain(str(store), out, units=f"0:0-{neurons - 1}", endpoint=url,
                  scorers="detection", explain_examples=4, score_examples=4,
                  non_activating=4, examples_per_prompt=4, window=2,
                  concurrency=concurrency, quiet=True, overwrite=True)
    elapsed = time.perf_counter() - t0
    assert len(res) == neurons and not res.failed, res.summary()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--neurons", type=int, default=200)
    ap.add_argument("--delay", type=float, default=0.05, help="seconds per answer")
    ap.add_argument("--concurrency", type=int, default=16)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ScriptedServer(ones, delay=args.delay) as srv:
        store = make_store(Path(tmp) / "acts.h5", args.neurons)
        out = Path(tmp) / "EXPLAIN.json"
        run(store, out, srv.url, args.concurrency, min(args.neurons, 8))  # warm imports
        n0 = len(srv.requests)
        one = run(store, out, srv.url, 1, args.neurons)
        n1 = len(srv.requests) - n0
        many = run(store, out, srv.url, args.concurrency, args.neurons)
    print(f"{args.neurons} neurons, {n1} requests each run, answers after {args.delay}s")
    print(f"concurrency 1:  {one:7.2f} s")
    print(f"concurrency {args.concurrency}: {many:7.2f} s")
    print(f"ratio {one / many:.1f}x (the issue asks >= 8x: "
          f"{'met' if one / many >= 8 else 'NOT met'})")


if __name__ == "__main__":
    main()
