"""Benchmark: ``nh.intervene.patch(grid="resid")`` against the loop TransformerLens users write
(one full forward of the corrupt batch per (layer, position), a hook patching the clean value).

A tiny Llama-architecture decoder (random seeded weights, grouped-query attention, 8 layers,
hidden 128) with a word-level tokenizer over the pydoc sentences; pairs are sentences of one
length whose corrupt twin swaps one word. CPU, float32, one thread by default; timings are the
best of ``--rounds`` interleaved rounds, and the two grids are checked equal (1e-5).

    python scripts/bench_patching.py            # 16 pairs of 16 tokens
    python scripts/bench_patching.py --quick    # smoke sizes

Measured (shared, loaded 2-core CPU, one thread, 2026-12-07; runs vary): 16 pairs x 16 tokens,
9 x 16 = 144 grid entries: neuroheat 1.12-1.67 s, the loop 3.32-3.44 s (ratio 0.34-0.49);
--quick: 0.15 s vs 0.74 s (0.21). The patched runs skip the blocks before the site, so the cost
is about half the loop's block passes for a full grid, plus the head at the last position only.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

import neuroheat as nh
from neuroheat.corpora import pydoc_sentences

LLAMA = dict(num_hidden_layers=8, hidden_size=128, intermediate_size=344, num_attention_heads=4,
             num_key_value_heads=2, max_position_embeddings=256)


def setup(n_pairs: int, length: int):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    sents = [s for s in pydoc_sentences(4000) if len(s) >= length]
    words = sorted({w for s in pydoc_sentences(4000) for w in s})
    vocab = {"<unk>": 0, **{w: i + 1 for i, w in enumerate(words)}}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>")
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=len(vocab), **LLAMA)).eval()
    rng = np.random.default_rng(0)
    pairs = []
    for s in sents[:n_pairs]:
        clean = s[:length]
        corrupt = list(clean)
        corrupt[rng.integers(length - 1)] = words[rng.integers(len(words))]
        pairs.append({"clean": " ".join(clean), "corrupt": " ".join(corrupt),
                      "answer": words[1], "foil": words[2]})
    return model, tok, pairs


def _hook(blocks, layer: int, fn):
    """``fn(h) -> h or None`` on resid.``layer`` (the first block's input for 0)."""
    def pre(m, args, kw):
        new = fn(args[0] if args else kw["hidden_states"])
        if new is None:
            return None
        return ((new, *args[1:]), kw) if args else (args, {**kw, "hidden_states": new})

    def post(m, args, o):
        new = fn(o[0] if isinstance(o, tuple) else o)
        if new is None:
            return None
        return (new, *o[1:]) if isinstance(o, tuple) else new

    if layer == 0:
        return blocks[0].register_forward_pre_hook(pre, with_kwargs=True)
    return blocks[layer - 1].register_forward_hook(post)


def loop(model, tok, pairs):
    """One full forward per (layer, position), as with TransformerLens hooks."""
    ids = {k: torch.tensor([tok(p[k])["input_ids"] for p in pairs]) for k in ("clean", "corrupt")}
    a, f = tok(pairs[0]["answer"])["input_ids"][0], tok(pairs[0]["foil"])["input_ids"][0]
    blocks = model.model.layers
    out = []
    with torch.inference_mode():
        for layer in range(len(blocks) + 1):
            saved: dict = {}
            h = _hook(blocks, layer, lambda x, saved=saved: saved.update(h=x.clone()))
            model(ids["clean"])
            h.remove()
            for p in range(ids["clean"].shape[1]):
                def put(x, p=p, saved=saved):
                    x = x.clone()
                    x[:, p] = saved["h"][:, p]
                    return x
                h = _hook(blocks, layer, put)
                logits = model(ids["corrupt"]).logits[:, -1].double()
                h.remove()
                out.append((logits[:, a] - logits[:, f]).numpy())
    return np.array(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    n, length = (4, 8) if args.quick else (16, 16)
    model, tok, pairs = setup(n, length)
    best = {"neuroheat": np.inf, "loop": np.inf}
    for _ in range(args.rounds):
        t = time.perf_counter()
        res = nh.intervene.patch((model, tok), pairs, grid="resid", device="cpu", quiet=True)
        best["neuroheat"] = min(best["neuroheat"], time.perf_counter() - t)
        t = time.perf_counter()
        ref = loop(model, tok, pairs)
        best["loop"] = min(best["loop"], time.perf_counter() - t)
    got = np.array([r["per_pair"] for r in res.results])
    np.testing.assert_allclose(got, ref, atol=1e-5)
    print(json.dumps({"pairs": n, "tokens": length, "layers": LLAMA["num_hidden_layers"],
                      "threads": args.threads, "neuroheat_s": round(best["neuroheat"], 3),
                      "loop_s": round(best["loop"], 3),
                      "ratio": round(best["neuroheat"] / best["loop"], 3)}))


if __name__ == "__main__":
    main()
