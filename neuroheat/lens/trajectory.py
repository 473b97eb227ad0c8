"""What the logit and tuned lenses share: logits of every layer from one forward, and the
summaries of them (top-K, entropy, KL to the final layer, the target's log-prob and rank).

Example:
    >>> res = trajectory(loaded, "The cat sat", LensConfig(top_k=3))   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from neuroheat.lens.config import LensConfig
from neuroheat.lens.final_norm import readout_of
from neuroheat.lens.inputs import encode, record_sites, token_id
from neuroheat.lens.result import LensResult

__all__ = ["Translate", "layer_logits", "trajectory"]

#: ``(layer, resid_l) -> resid'_l``: what a lens does to the residual before the readout
Translate = Callable[[int, Any], Any]


def layer_logits(loaded: Any, ids: list[int], translate: Translate | None = None
                 ) -> tuple[Any, Iterator[Any]]:
    """One forward of the token ids ``ids``: the model's logits ``[T, vocab]`` and an iterator
    of the float32 logits of layers 0..L (computed one layer at a time, so memory holds one
    ``[T, vocab]`` table per layer only while it is summarised; layer L is the model's)."""
    n = loaded.num_layers
    final, sites = record_sites(loaded, ids, {"resid": list(range(n))})
    read = readout_of(loaded.model)

    def layers() -> Iterator[Any]:
        for layer, resid in enumerate(sites["resid"]):
            h = resid.float()
            yield read.logits(translate(layer, h) if translate is not None else h)
        yield final.float()

    return final.float(), layers()


def trajectory(loaded: Any, text: str, cfg: LensConfig, translate: Translate | None = None,
               lens: str = "logit") -> LensResult:
    """The :class:`LensResult` of ``text`` for a lens given by ``translate``."""
    import torch

    from neuroheat.model.unembedding import token_texts

    tok = loaded.tokenizer
    ids = encode(tok, text)
    target = token_id(tok, cfg.target, "--target") if cfg.target is not None else None
    last, logits = layer_logits(loaded, ids, translate)
    names: dict[int, str] = {}

    def text_of(index: list[int]) -> list[str]:
        new = [i for i in dict.fromkeys(index) if i not in names]
        if new:
            names.update(zip(new, token_texts(tok, new), strict=True))
        return [names[i] for i in index]

    final = torch.log_softmax(last.double(), -1)
    k = min(cfg.top_k, final.shape[-1])
    top, entropy, kl, t_logprob, t_rank = [], [], [], [], []
    for raw in logits:
        logp = torch.log_softmax(raw.double(), -1)
        p = logp.exp()
        entropy.append((-(p * logp).nan_to_num().sum(-1)).tolist())
        kl.append((final.exp() * (final - logp)).nan_to_num().sum(-1).clamp_min(0).tolist())
        values, index = logp.topk(k, -1)
        top.append([[[name, float(v)] for name, v in zip(text_of(row_i), row_v.exp().tolist(),
                                                         strict=True)]
                    for row_v, row_i in zip(values, index.tolist(), strict=True)])
        if target is not None:
            lp = logp[:, target]
            t_logprob.append(lp.tolist())
            t_rank.append((logp > lp[:, None]).sum(-1).tolist())
    meta = {"model": loaded.name, "lens": lens}
    tgt = None if target is None else {"token": text_of([target])[0], "logprob": t_logprob,
                                       "rank": t_rank}
    return LensResult(text_of(ids), list(range(len(top))), top, entropy, kl, tgt, meta)
