"""Steering vectors: read from a ``.npy`` file, a neuron's output direction, an SAE latent's
decoder row, or the mean difference of stored activations between two word labels.

Vector specs (``--vector V``): ``PATH.npy`` (the site's width); ``mlp.L:N`` (the column of
block L's down projection that neuron N feeds, width d_model); ``sae:DIR:LATENT`` (row LATENT of
the SAE's ``W_dec``). Vectors are float32.

Example:
    >>> v = mean_difference("store.h5", "labels.txt", "NOUN", "VERB", layer=6)  # doctest: +SKIP
    >>> np.save("noun.npy", v)                                                # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.errors import InputError

__all__ = ["mean_difference", "neuron_direction", "read_vector"]

FORMS = ("give a .npy file of the site's width, mlp.L:N (a neuron's output direction) or "
         "sae:DIR:LATENT (an SAE latent's decoder row)")


def neuron_direction(model: Any, unit: str) -> np.ndarray:
    """The output direction of MLP neuron ``mlp.L:N``: the down-projection column it feeds.

    Example:
        >>> neuron_direction(gpt2, "mlp.3:17").shape     # doctest: +SKIP
        (768,)
    """
    from neuroheat.intervene.units import parse_units
    from neuroheat.model.edits import site_of
    from neuroheat.model.sites import get_site_kind

    units = parse_units([unit], lambda s: int(site_of(model, s).width or 0))
    if len(units) != 1 or not units[0].site.startswith("mlp."):
        raise InputError(f"vector {unit!r}: give one MLP neuron, mlp.L:N; {FORMS}")
    u = units[0]
    module, where = get_site_kind("mlp").hook_point(model, int(u.site.split(".")[1]))
    if where != "input" or not hasattr(module, "weight"):
        raise InputError(f"vector {unit!r}: this model's MLP has no down projection to read "
                         "a neuron's output direction from")
    w = module.weight.detach()
    # nn.Linear stores [out, in]; GPT-2's Conv1D stores [in, out]
    col = w[:, u.index] if hasattr(module, "in_features") else w[u.index]
    return col.float().cpu().numpy()


def _sae_row(spec: str) -> np.ndarray:
    from neuroheat.intervene.splice import load_decoder
    from neuroheat.sae.formats import load_sae

    body = spec[len("sae:"):]
    folder, sep, latent = body.rpartition(":")
    if not sep or not folder:
        raise InputError(f"vector {spec!r}: write sae:DIR:LATENT (e.g. sae:saes/resid6:1234)")
    try:
        index = int(latent)
    except ValueError:
        raise InputError(f"vector {spec!r}: latent {latent!r} is not an integer") from None
    sae = load_sae(folder, site="resid.0")  # the site is not used: only the decoder is read
    w = load_decoder(sae)
    if not 0 <= index < w.shape[0]:
        raise InputError(f"vector {spec!r}: latent {index} is outside the SAE (0..{w.shape[0] - 1})")
    return w[index]


def read_vector(model: Any, spec: str | os.PathLike | np.ndarray | Any, width: int) -> np.ndarray:
    """The float32 vector of ``spec`` (see the module docstring; an array is taken as it is),
    checked against the steered site's ``width``.

    Example:
        >>> read_vector(model, "mlp.2:5", 64).shape    # doctest: +SKIP
        (64,)
    """
    if isinstance(spec, np.ndarray) or hasattr(spec, "detach"):
        vec = np.asarray(spec.detach().cpu() if hasattr(spec, "detach") else spec)
        what = "the vector"
    else:
        text = os.fspath(spec)
        what = f"vector {text!r}"
        if text.startswith("sae:"):
            vec = _sae_row(text)
        elif text.lower().endswith(".npy"):
            if not Path(text).is_file():
                raise InputError(f"vector file {text} does not exist; {FORMS}")
            try:
                vec = np.load(text, allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise InputError(f"cannot read vector {text}: {exc}") from None
        elif text.startswith("mlp.") and ":" in text:
            vec = neuron_direction(model, text)
        else:
            raise InputError(f"cannot read vector {text!r}; {FORMS}")
    vec = np.asarray(vec, dtype=np.float32).reshape(-1) if np.ndim(vec) <= 1 else vec
    if vec.ndim != 1 or vec.shape[0] != width:
        raise InputError(f"{what} has shape {tuple(np.shape(vec))}; the steered site is "
                         f"{width} wide: give a vector of width {width}")
    if not np.all(np.isfinite(vec)):
        raise InputError(f"{what} has NaN or infinite values")
    return vec


def mean_difference(store: Any, labels: Any, pos: str, neg: str, layer: int) -> np.ndarray:
    """Mean activation of ``layer`` over the words labelled ``pos`` minus over those labelled
    ``neg`` (float32 ``[width]``); save it with ``np.save`` for ``--vector``.

    ``store``: a path or an open store; ``labels``: a labels file (NeuroX format or CoNLL-U),
    a :class:`~neuroheat.probing.Labels` or per-sentence lists of word labels.

    Example:
        >>> v = mean_difference("store.h5", "labels.txt", "CAP", "LOW", 2)   # doctest: +SKIP
    """
    from neuroheat.probing.labels import Labels, read_labels
    from neuroheat.store import open_store

    own = isinstance(store, str | os.PathLike)
    st = open_store(store) if own else store
    try:
        if isinstance(labels, Labels):
            lab = labels
        elif isinstance(labels, str | os.PathLike):
            lab = read_labels(labels, store=st)
        else:
            lab = Labels.from_sentences([list(s) for s in labels])
        if lab.num_sentences != st.num_sentences:
            raise InputError(f"the labels have {lab.num_sentences} sentences, the store "
                             f"{st.num_sentences}")
        for name in (pos, neg):
            if name not in lab.classes:
                raise InputError(f"label {name!r} does not occur; labels: "
                                 f"{', '.join(lab.classes[:20])}")
        sums = {pos: 0.0, neg: 0.0}
        counts = {pos: 0, neg: 0}
        ids = {name: lab.classes.index(name) for name in (pos, neg)}
        for i in range(st.num_sentences):
            rows = st.sentence(i, layer).astype(np.float64)
            row_ids = lab.ids[lab.offsets[i]:lab.offsets[i + 1]]
            if len(row_ids) != len(rows):
                raise InputError(f"sentence {i}: {len(row_ids)} labels for {len(rows)} words")
            for name in (pos, neg):
                sel = row_ids == ids[name]
                sums[name] = sums[name] + rows[sel].sum(axis=0)
                counts[name] += int(sel.sum())
    finally:
        if own:
            st.close()
    return (sums[pos] / counts[pos] - sums[neg] / counts[neg]).astype(np.float32)
