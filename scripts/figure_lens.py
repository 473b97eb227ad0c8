"""Render docs/figures/lens.svg and lens.png: the logit lens of a tiny GPT-2 trained on the spot.

A 4-layer GPT-2 (hidden 64) learns the test sentences (tests/helpers/builders.TRAIN_TEXT) for a
few hundred steps on CPU (about a minute), then the logit lens shows where each next token
appears. Needs rsvg-convert for the PNG.

Usage: python scripts/figure_lens.py [OUTDIR]   (default docs/figures)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def train(path: Path) -> Path:
    import torch
    import transformers as tf

    from tests.helpers.builders import TRAIN_TEXT, bpe_tokenizer

    tok = bpe_tokenizer("gpt2", vocab_size=400)
    torch.manual_seed(0)
    cfg = tf.GPT2Config(vocab_size=len(tok), n_embd=64, n_layer=4, n_head=4, n_positions=64,
                        bos_token_id=0, eos_token_id=0)
    model = tf.GPT2LMHeadModel(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    batch = [tok(t)["input_ids"] for t in TRAIN_TEXT]
    width = max(map(len, batch))
    ids = torch.tensor([b + [0] * (width - len(b)) for b in batch])
    mask = torch.tensor([[1] * len(b) + [0] * (width - len(b)) for b in batch])
    labels = ids.masked_fill(mask == 0, -100)
    model.train()
    for _ in range(300):
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval().save_pretrained(path)
    tok.save_pretrained(path)
    return path


def main() -> None:
    import neuroheat as nh

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "figures"
    with tempfile.TemporaryDirectory() as tmp:
        model = train(Path(tmp) / "gpt2")
        res = nh.lens.logit_lens(model, "Vinken will join the board as a director",
                                 top_k=5, device="cpu")
    fig = res.show("svg", title="Logit lens of a tiny GPT-2: the top next token at every "
                                "layer, coloured by entropy")
    svg = fig.save(out / "lens.svg")
    subprocess.run(["rsvg-convert", "-z", "2", str(svg), "-o", str(out / "lens.png")],
                   check=True)
    print(f"wrote {svg} and {out / 'lens.png'}")


if __name__ == "__main__":
    main()
