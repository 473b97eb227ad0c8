"""Benchmark: 64 single-neuron ablations with ``neuroheat.intervene.ablate`` against the
hooked-forward loop TransformerLens users write (one full forward of the corpus per neuron,
a pre-hook on the down projection zeroing that neuron, the same float64 metrics).

A Llama-architecture decoder with random seeded weights (16 layers, hidden 128, intermediate
512, GQA 8/4 heads, the test BPE tokenizer) on the pydoc sentences, CPU. Two layers: one in the
model's last quarter (goal: neuroheat <= 1/3 of the loop) and the first (goal: <= the loop).
Each measured with torch's default threads and with one thread (shared machines give one),
best of ``--rounds`` interleaved rounds; the loop runs batches of 16 lines, neuroheat its
default budget (1,024 padded tokens on CPU).
The metrics of both are checked equal (1e-5).

    python scripts/bench_interventions.py            # 64 neurons, 32 lines
    python scripts/bench_interventions.py --quick    # smoke sizes
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

import neuroheat as nh
from neuroheat.corpora import pydoc_sentences

LLAMA = dict(num_hidden_layers=16, hidden_size=128, intermediate_size=512,
             num_attention_heads=8, num_key_value_heads=4, max_position_embeddings=256)


def build(path: Path) -> Path:
    import transformers as tf

    from tests.helpers import builders

    tok = builders.bpe_tokenizer("gpt2")
    tok.model_max_length = LLAMA["max_position_embeddings"]  # no line is split into windows
    torch.manual_seed(0)
    cfg = tf.LlamaConfig(**LLAMA, vocab_size=len(tok), pad_token_id=0, bos_token_id=0,
                         eos_token_id=0)
    model = tf.LlamaForCausalLM(cfg).eval()
    with torch.no_grad():  # matrices x2: one neuron's effect well above float rounding
        for param in model.parameters():
            if param.ndim == 2:
                param.mul_(2.0)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def hooked_loop(model, tok, lines, layer, neurons, batch_lines=16):
    """One forward of the corpus per neuron (batches of ``batch_lines``), float64 metrics."""
    tok.pad_token = tok.pad_token or tok.eos_token
    tok.padding_side = "right"
    batches = []
    with torch.no_grad():
        for i in range(0, len(lines), batch_lines):
            enc = tok(lines[i:i + batch_lines], return_tensors="pt", padding=True)
            scored = enc["attention_mask"].bool().clone()
            scored[:, :-1] &= enc["attention_mask"][:, 1:].bool()
            scored[:, -1] = False
            targets = torch.zeros_like(enc["input_ids"])
            targets[:, :-1] = enc["input_ids"][:, 1:]
            clean = torch.log_softmax(model(**enc).logits[scored].double(), -1)
            batches.append((enc, scored, targets[scored], clean))
    down = model.model.layers[layer - 1].mlp.down_proj
    out = []
    for n in neurons:
        def zero(module, args, n=n):
            x = args[0].clone()
            x[..., n] = 0
            return (x, *args[1:])
        handle = down.register_forward_pre_hook(zero)
        dce = kl = count = 0.0
        with torch.no_grad():
            for enc, scored, t, clean in batches:
                lp = torch.log_softmax(model(**enc).logits[scored].double(), -1)
                dce += float((clean.gather(1, t[:, None]) - lp.gather(1, t[:, None])).sum())
                kl += float((clean.exp() * (clean - lp)).sum())
                count += len(t)
        handle.remove()
        out.append((dce / count, kl / count))
    return out


def measure(path, corpus, lines, layer, neurons, rounds):
    """Best of ``rounds`` interleaved runs of the loop and of neuroheat (default budget)."""
    import transformers as tf

    model = tf.AutoModelForCausalLM.from_pretrained(path).eval()
    tok = tf.AutoTokenizer.from_pretrained(path)
    loop = ours = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        ref = hooked_loop(model, tok, lines, layer, neurons)
        loop = min(loop, time.perf_counter() - t0)
        t0 = time.perf_counter()
        res = nh.intervene.ablate((model, tok), corpus, [f"mlp.{layer}:0-{len(neurons) - 1}"],
                                  device="cpu", quiet=True)
        ours = min(ours, time.perf_counter() - t0)
    for (dce, kl), r in zip(ref, res.results, strict=True):
        assert abs(r["delta_ce"] - dce) < 1e-5 and abs(r["kl"] - kl) < 1e-5, (r, dce, kl)
    return loop, ours


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--neurons", type=int, default=64)
    ap.add_argument("--lines", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    n_neurons, n_lines = (8, 8) if args.quick else (args.neurons, args.lines)
    lines = [s for s in (" ".join(w) for w in pydoc_sentences()) if 5 < len(s.split()) < 40]
    lines = lines[:n_lines]
    threads = torch.get_num_threads()
    with tempfile.TemporaryDirectory() as tmp:
        path = build(Path(tmp) / "llama16")
        corpus = Path(tmp) / "corpus.txt"
        corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
        last = LLAMA["num_hidden_layers"] * 3 // 4 + 1
        print(f"{n_neurons} single-neuron zero ablations, {n_lines} lines, Llama 16 x 128, CPU")
        print(f"{'layer':>6} {'threads':>8} {'loop s':>9} {'neuroheat s':>12} {'ratio':>7}")
        for n_threads in dict.fromkeys((threads, 1)):
            torch.set_num_threads(n_threads)
            for layer in (last, 1):
                loop, ours = measure(path, corpus, lines, layer, list(range(n_neurons)),
                                     args.rounds)
                print(f"{layer:>6} {n_threads:>8} {loop:>9.2f} {ours:>12.2f} "
                      f"{ours / loop:>7.3f}")
        torch.set_num_threads(threads)


if __name__ == "__main__":
    main()
