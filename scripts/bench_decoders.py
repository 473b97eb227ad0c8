"""Benchmark: extraction of modern decoders (Llama architecture) against their bounds.

Models are built from ``transformers.LlamaConfig`` with random seeded weights (no model hub);
the tokenizer is a SentencePiece-style BPE with byte fallback and BOS, trained on the spot on
the pydoc sentences (a small trained vocabulary; the model's vocabulary keeps its real size).

CPU part (default), ``component="resid"``, float16 store, every timing the best of
``--rounds`` interleaved rounds:

a. 8 layers, width 512, vocabulary 32k: ``nh.extract_activations`` words/s against a
   forward-only loop over exactly the batches extraction plans (goal >= 0.85);
b. 16 layers, same width: ``layers=[2]`` against all layers (goal <= 0.25 of the time: only
   the blocks up to the deepest requested layer run), and the ``layers=[2]`` values against
   the full run's layer-2 column, bit for bit.

GPU part (``--device cuda``, or ``--gpu-shape`` on any device): a Llama-3.2-1B-shaped model
(16 layers, hidden 2048, intermediate 8192, 32 heads, 8 kv heads, vocabulary 128256) in
bfloat16, all 17 layers of ``resid`` stored as float16: end-to-end tokens/s against forward
only (same batches), against the disk write bound of the same bytes (``tofile`` + fsync) and
against one sentence at a time (goal: >= 0.80 of min(forward, disk)).

    python scripts/bench_decoders.py                                # CPU part
    python scripts/bench_decoders.py --quick                        # CPU part, smoke sizes
    python scripts/bench_decoders.py --device cuda                  # GPU part
    python scripts/bench_decoders.py --device cpu --quick --gpu-shape   # GPU code path, tiny
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import neuroheat as nh
from neuroheat.corpora import pydoc_sentences
from neuroheat.extract.activations import _build
from neuroheat.extract.shard import plan_block
from neuroheat.model.loading import load_model
from neuroheat.model.sites import get_site_kind

LLAMA_CPU = dict(hidden_size=512, intermediate_size=1376, num_attention_heads=8,
                 num_key_value_heads=4, vocab_size=32000)
LLAMA_1B = dict(num_hidden_layers=16, hidden_size=2048, intermediate_size=8192,
                num_attention_heads=32, num_key_value_heads=8, vocab_size=128256)
LLAMA_TINY = dict(num_hidden_layers=2, hidden_size=64, intermediate_size=128,
                  num_attention_heads=4, num_key_value_heads=2, vocab_size=32000)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _corpus(n: int) -> list[list[str]]:
    base = pydoc_sentences()
    return [list(s) for s in itertools.islice(itertools.cycle(base), n)]


def llama_tokenizer(vocab_size: int = 8000, max_length: int = 1024):
    """Llama-style tokenizer: BPE with byte fallback, ``▁`` word marks, BOS first."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first")
    tok.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace()])
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    text = [" ".join(s) for s in pydoc_sentences()]
    tok.train_from_iterator(text, trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=["<unk>", "<s>", "</s>", *byte_tokens],
        show_progress=False))
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", tok.token_to_id("<s>"))])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                                   unk_token="<unk>", model_max_length=max_length)


def llama_model(tokenizer, device: torch.device, dtype: torch.dtype, seed: int = 0, **shape):
    """A seeded random ``LlamaModel`` (no LM head: extraction never runs one)."""
    from transformers import LlamaConfig, LlamaModel

    cfg = LlamaConfig(max_position_embeddings=4096, bos_token_id=tokenizer.bos_token_id,
                      eos_token_id=tokenizer.eos_token_id, **shape)
    torch.manual_seed(seed)
    with torch.device(device):
        model = LlamaModel(cfg)
    return model.to(dtype).eval()


def plan(loaded, layers, sentences, batch_tokens=None):
    """The runner, units and encodings extraction builds for ``resid`` at ``layers``."""
    return _build(loaded, get_site_kind("resid"), layers, sentences, "last", False,
                  batch_tokens, "float16", None, first_line=1,
                  block=plan_block(len(sentences)))


def forward_only(model, runner, units, device) -> float:
    """Seconds for the model alone on every planned micro-batch."""
    _sync(device)
    t0 = time.perf_counter()
    with torch.inference_mode():
        for unit in units:
            for micro in unit.micro:
                ids, mask = runner._inputs(unit, micro)
                model(input_ids=ids, attention_mask=mask)
    _sync(device)
    return time.perf_counter() - t0


def timed_extract(model, sentences, out: Path, **options) -> float:
    device = torch.device(options["device"])
    _sync(device)
    t0 = time.perf_counter()
    nh.extract_activations(model, sentences, out, component="resid", dtype="float16",
                           quiet=True, overwrite=True, **options)
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
    """Batch 1: every block's output hooked (resid), last subword per word, copied to the host."""
    kept: list = []

    def grab(_m, args, out=None):
        x = args[0] if out is None else out
        kept.append(x[0] if isinstance(x, tuple) else x)

    hooks = [model.layers[0].register_forward_pre_hook(grab)]
    hooks += [block.register_forward_hook(grab) for block in model.layers]
    tokens = 0
    _sync(device)
    t0 = time.perf_counter()
    try:
        with torch.inference_mode():
            for words in sentences:
                enc = tokenizer(words, is_split_into_words=True, truncation=True,
                                return_tensors="pt")
                ids = enc.word_ids()
                last = [max(t for t, w in enumerate(ids) if w == k)
                        for k in range(len(words)) if k in ids]
                kept.clear()
                model(input_ids=enc["input_ids"].to(device))
                states = torch.stack(kept, 0)[:, 0, last].half().cpu().numpy()
                tokens += enc["input_ids"].shape[1]
                del states
        _sync(device)
    finally:
        for h in hooks:
            h.remove()
    return time.perf_counter() - t0, tokens


def _tokens(runner, units) -> tuple[int, int]:
    n_special = runner.n_pre + runner.n_suf
    real = sum(w.stop - w.start + n_special for u in units for w in u.windows)
    padded = sum(len(m) * max(u.windows[j].stop - u.windows[j].start + n_special for j in m)
                 for u in units for m in u.micro)
    return real, padded


def cpu_part(args, device: torch.device, tokenizer) -> dict:
    n_sent = args.sentences or (24 if args.quick else 500)
    sentences = pydoc_sentences(n_sent)
    n_words = sum(map(len, sentences))
    dev = str(device)
    fig: dict = {"device": f"{dev} ({torch.get_num_threads()} torch threads)",
                 "sentences": len(sentences), "words": n_words, "rounds": args.rounds}
    print(f"{fig['device']}; Llama config, random weights, float32 compute, resid stored as "
          f"float16; {len(sentences)} pydoc sentences, {n_words} words; best of {args.rounds}")

    # (a) 8 layers: extraction against forward only on the same batches
    shape = dict(LLAMA_CPU, num_hidden_layers=2 if args.quick else 8)
    model = llama_model(tokenizer, device, torch.float32, **shape)
    loaded = load_model((model, tokenizer), device=dev)
    layers = list(range(loaded.num_layers + 1))
    runner, units, _ = plan(loaded, layers, sentences, args.batch_tokens)
    real, padded = _tokens(runner, units)
    t_fwd, t_ext = [], []
    with tempfile.TemporaryDirectory(dir=args.out_dir) as tmp:
        out = Path(tmp) / "acts.h5"
        timed_extract((model, tokenizer), sentences[:8], out, device=dev)  # warm-up
        forward_only(model, runner, units[:1], device)
        for _ in range(args.rounds):
            t_fwd.append(forward_only(model, runner, units, device))
            t_ext.append(timed_extract((model, tokenizer), sentences, out, device=dev,
                                       batch_tokens=args.batch_tokens))
    del runner, units, loaded, model
    fwd, ext = min(t_fwd), min(t_ext)
    fig["a"] = {"layers": shape["num_hidden_layers"], "tokens": real, "padded_tokens": padded,
                "forward_s": t_fwd, "extract_s": t_ext, "forward_words_s": n_words / fwd,
                "extract_words_s": n_words / ext, "ratio": fwd / ext}
    print(f"(a) {shape['num_hidden_layers']} layers, width 512: {real} tokens "
          f"({padded / real:.3f}x padded), all {len(layers)} layers of resid")
    print(f"    forward only, same batches  {n_words / fwd:9,.0f} words/s  {fwd:6.2f} s  "
          f"(rounds {', '.join(f'{t:.2f}' for t in t_fwd)})")
    print(f"    extraction (end to end)     {n_words / ext:9,.0f} words/s  {ext:6.2f} s  "
          f"(rounds {', '.join(f'{t:.2f}' for t in t_ext)})")
    print(f"    extraction / forward only = {fwd / ext:.3f}  (goal >= 0.85)")

    # (b) 16 layers: layers=[2] against all layers, and bitwise equality of layer 2
    n_layers = 4 if args.quick else 16
    model = llama_model(tokenizer, device, torch.float32, **dict(LLAMA_CPU,
                                                                 num_hidden_layers=n_layers))
    pair = (model, tokenizer)
    t_all, t_two = [], []
    with tempfile.TemporaryDirectory(dir=args.out_dir) as tmp:
        full, two = Path(tmp) / "all.h5", Path(tmp) / "two.h5"
        timed_extract(pair, sentences[:8], two, device=dev, layers=[2])  # warm-up
        for _ in range(args.rounds):
            t_all.append(timed_extract(pair, sentences, full, device=dev,
                                       batch_tokens=args.batch_tokens))
            t_two.append(timed_extract(pair, sentences, two, device=dev, layers=[2],
                                       batch_tokens=args.batch_tokens))
        with nh.open_store(full) as a, nh.open_store(two) as b:
            ref = a.rows(2, 0, a.num_words)
            got = b.rows(2, 0, b.num_words)
            same = bool(ref.shape == got.shape and np.array_equal(ref.view(np.uint16),
                                                                  got.view(np.uint16)))
            n_diff = int((ref != got).sum()) if ref.shape == got.shape else -1
    del model, pair
    full_t, two_t = min(t_all), min(t_two)
    fig["b"] = {"layers": n_layers, "all_s": t_all, "layer2_s": t_two,
                "all_words_s": n_words / full_t, "layer2_words_s": n_words / two_t,
                "time_ratio": two_t / full_t, "bitwise_equal": same}
    print(f"(b) {n_layers} layers, width 512: layers=[2] against all {n_layers + 1} layers")
    print(f"    all layers                  {n_words / full_t:9,.0f} words/s  {full_t:6.2f} s  "
          f"(rounds {', '.join(f'{t:.2f}' for t in t_all)})")
    print(f"    layers=[2]                  {n_words / two_t:9,.0f} words/s  {two_t:6.2f} s  "
          f"(rounds {', '.join(f'{t:.2f}' for t in t_two)})")
    print(f"    time layers=[2] / all = {two_t / full_t:.3f}  (goal <= 0.25; ideal about "
          f"2/{n_layers} = {2 / n_layers:.3f} plus fixed costs)")
    print(f"    layer 2 bitwise equal to the full run: {same}"
          + ("" if same else f" ({n_diff} of {ref.size} values differ)"))
    return fig


def gpu_part(args, device: torch.device, tokenizer) -> dict:
    cuda = device.type == "cuda"
    n_sent = args.sentences or (24 if args.quick else 3000)
    n_base = args.baseline_sentences or (6 if args.quick else 300)
    shape = LLAMA_TINY if args.quick else LLAMA_1B
    batch_tokens = args.batch_tokens or (16384 if cuda else 1024)
    dev = str(device)
    model = llama_model(tokenizer, device, torch.bfloat16, **shape)
    loaded = load_model((model, tokenizer), device=dev)
    sentences = _corpus(n_sent)
    layers = list(range(loaded.num_layers + 1))
    name = (torch.cuda.get_device_name(device) if cuda
            else f"CPU ({torch.get_num_threads()} threads)")
    size = "Llama-3.2-1B shape" if not args.quick else "tiny Llama (smoke sizes)"
    print(f"device: {name}; {size} ({shape['num_hidden_layers']} layers, hidden "
          f"{shape['hidden_size']}), random weights, bfloat16 compute, all {len(layers)} layers "
          f"of resid stored as float16; {n_sent} sentences, batch_tokens={batch_tokens}")
    t0 = time.perf_counter()
    runner, units, encoded = plan(loaded, layers, sentences, batch_tokens)
    t_plan = time.perf_counter() - t0
    tokens, padded = _tokens(runner, units)
    rows = sum(len(e.rows) for e in encoded)
    n_bytes = rows * len(layers) * loaded.hidden_size * 2
    with tempfile.TemporaryDirectory(dir=args.out_dir) as tmp:
        tmp = Path(tmp)
        warm = sentences[: max(4, min(64, n_sent // 10))]
        timed_extract(loaded, warm, tmp / "warm.h5", device=dev, batch_tokens=batch_tokens)
        forward_only(model, runner, units[:1], device)
        t_fwd = forward_only(model, runner, units, device)
        del runner, units, encoded
        t_ext = timed_extract(loaded, sentences, tmp / "acts.h5", device=dev,
                              batch_tokens=batch_tokens)
        store_bytes = (tmp / "acts.h5").stat().st_size
        (tmp / "acts.h5").unlink()
        t_disk = disk_seconds(tmp, n_bytes)
    one_at_a_time(model, tokenizer, sentences[:2], device)  # warm-up
    t_base, base_tokens = one_at_a_time(model, tokenizer, sentences[:n_base], device)
    fig = {
        "device": name, "shape": shape, "sentences": n_sent, "rows": rows, "tokens": tokens,
        "padded_tokens": padded, "bytes": n_bytes, "store_bytes": store_bytes,
        "batch_tokens": batch_tokens, "tokenize_plan_s": t_plan, "extract_s": t_ext,
        "forward_s": t_fwd, "disk_s": t_disk, "extract_tok_s": tokens / t_ext,
        "forward_tok_s": tokens / t_fwd, "disk_tok_s": tokens / t_disk,
        "disk_GB_s": n_bytes / t_disk / 1e9, "baseline_sentences": n_base,
        "baseline_tok_s": base_tokens / t_base,
    }
    bound = min(fig["forward_tok_s"], fig["disk_tok_s"])
    fig["fraction_of_bound"] = fig["extract_tok_s"] / bound
    fig["speedup_vs_one_at_a_time"] = fig["extract_tok_s"] / fig["baseline_tok_s"]
    print(f"{tokens} real tokens ({padded / tokens:.3f}x padded), {rows} words, "
          f"{n_bytes / 2**30:.2f} GiB of activations (store file {store_bytes / 2**30:.2f} GiB)")
    print(f"tokenize + plan                 {t_plan:8.2f} s (inside extraction)")
    print(f"extraction (end to end)         {fig['extract_tok_s']:12,.0f} tokens/s  {t_ext:8.2f} s")
    print(f"forward only, same batches      {fig['forward_tok_s']:12,.0f} tokens/s  {t_fwd:8.2f} s")
    print(f"disk, same bytes (tofile+fsync) {fig['disk_tok_s']:12,.0f} tokens/s  {t_disk:8.2f} s"
          f"  ({fig['disk_GB_s']:.2f} GB/s)")
    print(f"one sentence at a time ({n_base} sent.) {fig['baseline_tok_s']:9,.0f} tokens/s")
    print(f"extraction / min(forward, disk) = {fig['fraction_of_bound']:.2f}  (goal >= 0.80)")
    print(f"extraction / one-at-a-time      = {fig['speedup_vs_one_at_a_time']:.1f}x")
    return fig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu", help="cpu (default: the CPU part) or cuda "
                    "(the GPU part)")
    ap.add_argument("--gpu-shape", action="store_true",
                    help="run the GPU part (1B shape; tiny with --quick) on --device")
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    ap.add_argument("--sentences", type=int, default=None,
                    help="CPU part: the first N pydoc sentences (default 500, quick 24); GPU "
                    "part: cycled up to N (default 3000, quick 24)")
    ap.add_argument("--baseline-sentences", type=int, default=None,
                    help="GPU part: sentences for the one-at-a-time run (default 300, quick 6)")
    ap.add_argument("--rounds", type=int, default=3, help="CPU part: best of N rounds")
    ap.add_argument("--batch-tokens", type=int, default=None,
                    help="padded tokens per forward pass (default: neuroheat's on CPU, "
                    "16384 in the GPU part on CUDA)")
    ap.add_argument("--out-dir", default=None, help="where stores and the disk test go "
                    "(default: a temporary directory)")
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = ap.parse_args()

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("bench_decoders: --device cuda but torch sees no CUDA device here "
                         f"(torch {torch.__version__}); run it on a GPU machine, or use "
                         "--device cpu [--gpu-shape]")
    if device.type not in ("cpu", "cuda"):
        raise SystemExit(f"bench_decoders: --device {args.device}: use cpu or cuda")
    t0 = time.perf_counter()
    tokenizer = llama_tokenizer()
    print(f"tokenizer: BPE with byte fallback trained on pydoc ({len(tokenizer)} pieces, "
          f"{time.perf_counter() - t0:.1f} s)")
    if device.type == "cuda" or args.gpu_shape:
        fig = gpu_part(args, device, tokenizer)
    else:
        fig = cpu_part(args, device, tokenizer)
    if args.json:
        Path(args.json).write_text(json.dumps(fig, indent=2) + "\n")


if __name__ == "__main__":
    main()
