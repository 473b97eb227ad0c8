"""Independent references for the ablation tests: one unpadded forward per line with a plain
forward pre-hook on the down projection, and the metrics in float64 numpy."""

from __future__ import annotations

import numpy as np
import torch

LINES = ["The quick brown fox jumps over the lazy dog .",
         "Researchers extract activations and rank the top words of every neuron .",
         "cats dogs birds fish run",
         "Pierre Vinken , 61 years old , is chairman of Elsevier N.V. ."]


def logprobs(model, tok, lines, hooks=()):
    """Per line: float64 numpy log-probs ``[T, V]`` with ``hooks`` = [(module, pre_hook)]."""
    handles = [m.register_forward_pre_hook(h) for m, h in hooks]
    out = []
    try:
        with torch.no_grad():
            for line in lines:
                ids = torch.tensor([tok(line)["input_ids"]])
                logits = model(ids).logits[0].double().numpy()
                lp = logits - logits.max(-1, keepdims=True)
                out.append((ids[0].numpy(), lp - np.log(np.exp(lp).sum(-1, keepdims=True))))
    finally:
        for h in handles:
            h.remove()
    return out


def set_neuron(neuron, fn):
    """A pre-hook on a down projection replacing neuron ``neuron`` by ``fn(values)``."""
    def hook(module, args):
        x = args[0].clone()
        x[..., neuron] = fn(x[..., neuron])
        return (x, *args[1:])
    return hook


def metrics(clean, edited):
    """delta_ce, kl, delta_entropy and the mean log-prob change, over predicted tokens."""
    dce, kl, dh, n, dlp = 0.0, 0.0, 0.0, 0, 0.0
    for (ids, c), (_, e) in zip(clean, edited, strict=True):
        c, e, t = c[:-1], e[:-1], ids[1:]
        rows = np.arange(len(t))
        dce += float((c[rows, t] - e[rows, t]).sum())
        kl += float((np.exp(c) * (c - e)).sum())
        dh += float((-(np.exp(e) * e).sum(-1) + (np.exp(c) * c).sum(-1)).sum())
        dlp = dlp + (e - c).sum(0)
        n += len(t)
    return {"delta_ce": dce / n, "kl": kl / n, "delta_entropy": dh / n, "tokens": n,
            "dlogp": dlp / n}


def clean_ce(clean):
    ce, n = 0.0, 0
    for ids, c in clean:
        ce += float(-c[np.arange(len(ids) - 1), ids[1:]].sum())
        n += len(ids) - 1
    return ce / n
