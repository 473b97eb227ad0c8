"""Direct logit attribution: which components and neurons write the answer at one position.

The final norm's scale ``σ`` (and, for LayerNorm, its centring) is frozen at its value on the
residual at position P; ``u = W_U[:, answer] − W_U[:, foil]`` (without a foil ``W_U[:, answer]``).
A vector ``c`` written into the residual stream contributes ``⟨g ⊙ C(c)/σ, u⟩``. Components are
``embed`` (``resid.0``), ``attn_out.l`` and ``mlp_out.l`` (after post-norms where a family has
them); the ``bias`` term is the final norm's bias and the output bias along ``u``, so
``Σ components + bias`` is the logit (difference) at P — before soft-capping, said as
``softcap``. Neurons of ``mlp.l``: ``a_n · ⟨g ⊙ C(W_out[:, n])/σ, u⟩``; with the down
projection's bias term (``neuron_bias_terms`` in the JSON) they sum to ``mlp_out.l``'s value.
Computed in float64.

Example:
    >>> res = dla("path/to/gpt2", "The capital of France is", " Paris", foil=" Rome",
    ...           neurons="all", top=10)              # doctest: +SKIP
    >>> res.components[0]["name"]                     # doctest: +SKIP
    'embed'
"""

from __future__ import annotations

from typing import Any

from neuroheat.errors import InputError, UnsupportedModelError
from neuroheat.lens.config import DlaConfig
from neuroheat.lens.final_norm import readout_of
from neuroheat.lens.inputs import encode, load_causal, record_sites, token_id
from neuroheat.lens.result import DLAResult

__all__ = ["dla", "down_projection"]


def down_projection(model: Any, layer: int) -> tuple[Any, Any]:
    """``(W_out [width, hidden], bias [hidden] or None)`` of block ``layer``'s MLP, float64 CPU.

    Example:
        >>> w, b = down_projection(gpt2, 1)   # doctest: +SKIP
    """
    from neuroheat.model.architectures import architecture_of, base_of, submodule
    from neuroheat.model.unembedding import down_rows

    w = down_rows(model, layer).detach().double().cpu()
    arch = architecture_of(getattr(model.config, "model_type", None))
    block = submodule(base_of(model), arch.blocks)[layer - 1]
    bias = getattr(submodule(block, arch.mlp), "bias", None)
    return w, (bias.detach().double().cpu() if bias is not None else None)


def _position(position: int, n: int) -> int:
    if isinstance(position, bool) or not isinstance(position, int) or not -n <= position < n:
        raise InputError(f"position {position!r} is outside the {n} tokens of the text; give "
                         f"0..{n - 1} or -1 for the last")
    return position % n


def _neuron_layers(loaded: Any, spec: Any) -> list[int]:
    from neuroheat.layerspec import select_layers
    from neuroheat.model.final_norm import NORMS
    from neuroheat.model.sites import get_site_kind

    model_type = loaded.config.model_type
    if NORMS.get(model_type) is not None and NORMS[model_type].post_norms:
        raise UnsupportedModelError(
            f"neuron DLA is not defined for {model_type!r}: its MLP output passes through a "
            "post-norm before the residual stream, so neurons do not add up to mlp_out; leave "
            "out --neurons (components still work)")
    return select_layers(get_site_kind("mlp").layers(loaded.model), spec)


def dla(model: Any, text: str, answer: str | int, config: DlaConfig | None = None,
        **options: Any) -> DLAResult:
    """Direct logit attribution of ``answer`` (minus ``foil``) at one position of ``text``.

    ``options`` are :class:`~neuroheat.lens.config.DlaConfig` fields: ``foil``, ``position``
    (-1 = last), ``neurons`` (``"2,5"``, ``"all"``), ``top``, ``device``.

    Example:
        >>> dla(model_dir, "The cat sat on the", " mat", foil=" dog").logit   # doctest: +SKIP
    """
    cfg = DlaConfig.build(config, **options)
    loaded = load_causal(model, cfg.device)
    tok = loaded.tokenizer
    a = token_id(tok, answer, "answer")
    f = token_id(tok, cfg.foil, "foil") if cfg.foil is not None else None
    ids = encode(tok, text)
    p = _position(cfg.position, len(ids))
    n = loaded.num_layers
    neuron_layers = _neuron_layers(loaded, cfg.neurons) if cfg.neurons is not None else []
    layers = list(range(1, n + 1))
    _, sites = record_sites(loaded, ids, {"resid": [0, n], "attn_out": layers,
                                          "mlp_out": layers, "mlp": neuron_layers})
    read = readout_of(loaded.model)
    x = sites["resid"][1][p].double().cpu()
    sigma = read.norm.scale(x).squeeze(-1)
    u = read.direction(a, f).double().cpu()
    norm_bias = read.norm.bias
    bias = (float((norm_bias.double().cpu() * u).sum()) if norm_bias is not None else 0.0) \
        + read.output_bias(a, f)
    vectors = [("embed", sites["resid"][0][p])] + [
        (f"{kind}.{lay}", sites[kind][k][p]) for k, lay in enumerate(layers)
        for kind in ("attn_out", "mlp_out")]
    components = [{"name": name, "value": float(read.direct_effect(v.double().cpu(), sigma, u))}
                  for name, v in vectors]
    neurons, bias_terms = [], {}
    for k, lay in enumerate(neuron_layers):
        acts = sites["mlp"][k][p].double().cpu()
        w_out, b_out = down_projection(loaded.model, lay)
        values = acts * read.direct_effect(w_out, sigma, u)
        neurons += [{"unit": f"mlp.{lay}:{i}", "value": float(v)}
                    for i, v in enumerate(values.tolist())]
        # Σ neurons + this term = mlp_out.l's value
        bias_terms[f"mlp.{lay}"] = 0.0 if b_out is None else float(
            read.direct_effect(b_out, sigma, u))
    neurons.sort(key=lambda item: -abs(item["value"]))
    # the logit (difference) itself, before soft-capping: the readout applied to resid.L at P
    normed = read.norm.center(x) / sigma * read.norm.gain.double().cpu()
    logit = float((normed * u).sum()) + bias
    names = _names(tok, a, f)
    return DLAResult(names[0], names[1], p, logit, bias, components, neurons[:cfg.top],
                     read.softcap,
                     meta={"model": loaded.name, "tokens": _texts(tok, ids),
                           "neuron_bias_terms": bias_terms})


def _names(tok: Any, a: int, f: int | None) -> tuple[str, str | None]:
    texts = _texts(tok, [a] if f is None else [a, f])
    return texts[0], (texts[1] if f is not None else None)


def _texts(tok: Any, ids: list[int]) -> list[str]:
    from neuroheat.model.unembedding import token_texts

    return token_texts(tok, ids)

