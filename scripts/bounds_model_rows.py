"""The probe and ablation rows of ``scripts/bench_bounds.py`` (issue 25).

- the default probe on one layer against its data passes x one numpy pass of ``W @ Xᵀ``,
  softmax cross-entropy and its gradient (<= 1.5x);
- 64 single-neuron ablations against one forward of the replicated batch from the unit's
  layer on (>= 0.80).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from bounds_harness import best_of, row, sibling

import neuroheat as nh
from neuroheat.corpora import pydoc_sentences

__all__ = ["ablation_row", "probe_row"]


def _probe_pass(x_cols, y, outputs: int, n_passes: int) -> None:
    """``n_passes`` of the probe objective's data term on in-memory float32 columns
    ``x_cols`` (``[columns, rows]``, the faster layout for ``W @ Xᵀ``): logits, softmax
    cross-entropy, and its gradient ``G @ X`` (numpy, as the default probe on the CPU)."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((outputs, x_cols.shape[0])).astype(np.float32) * 1e-3
    b = np.zeros(outputs, np.float32)
    rows = np.arange(len(y))
    for _ in range(n_passes):
        out = w @ x_cols
        out += b[:, None]
        out -= out.max(axis=0)
        np.exp(out, out=out)
        norm = out.sum(axis=0)
        float(np.log(norm).sum(dtype=np.float64) - out[y, rows].sum(dtype=np.float64))
        out /= norm
        out[y, rows] -= 1.0
        out @ x_cols.T
        out.sum(axis=1, dtype=np.float64)


def probe_row(args, tmp: Path) -> dict | None:
    """The default probe on layer 3 of MiniLM's pydoc store (``bench_probe.py``'s labels and
    split) against its number of loss evaluations x one pass over the training rows."""
    from neuroheat.model.loading import bundled_minilm_path
    from neuroheat.probing import Probe, read_labels, split_sentences

    word_class = sibling("bench_probe").word_class
    n_sent = 300 if args.quick else 3000
    path = tmp / f"probe_{n_sent}.h5"
    if not path.exists():
        nh.extract_activations(bundled_minilm_path(), pydoc_sentences(n_sent), path,
                               quiet=True, overwrite=True)
    layer = 3
    with nh.open_store(path) as store:
        labels = read_labels(None, store=store, label_fn=word_class)
        offsets = np.asarray(store.offsets)
        test = split_sentences(store.num_sentences, test_fraction=0.2, seed=0)
        train = np.concatenate([np.arange(offsets[i], offsets[i + 1])
                                for i in range(store.num_sentences) if not test[i]])
        x = store.rows(layer, 0, store.num_words)[train]
    y = np.asarray(labels.ids)[train].astype(np.int64)
    x_cols = np.ascontiguousarray(x.T, dtype=np.float32)
    outputs = len(labels.classes)
    fitted: list = []

    def ours() -> None:
        with nh.open_store(path) as s:
            fitted.append(Probe(seed=0).fit(s, labels, layers=str(layer), test_fraction=0.2))

    # the number of passes over the data: every L-BFGS fit the default probe runs (the
    # penalty's selection included), counted by wrapping the data term (bench only)
    from neuroheat.probing import training

    name = "numpy_data_grad" if hasattr(training, "numpy_data_grad") else "_numpy_data_grad"
    grad, calls, rows_seen = getattr(training, name), [0], [0]

    def counted(data, *a, **kw):
        calls[0] += 1
        rows_seen[0] += data.num_rows("train")
        return grad(data, *a, **kw)

    setattr(training, name, counted)
    try:
        ours()  # warm-up, and the number of evaluations
    finally:
        setattr(training, name, grad)
    n_eval = calls[0] or len(fitted[-1].losses)
    # the selection's fits see fewer rows: the bound is that many rows' worth of full passes
    passes = rows_seen[0] / len(y) if calls[0] else float(n_eval)
    n_full = max(1, int(np.ceil(passes)))
    _probe_pass(x_cols, y, outputs, 2)
    best = best_of({"bound": lambda: _probe_pass(x_cols, y, outputs, n_full), "ours": ours},
                 args.rounds)
    best["bound"] *= passes / n_full
    r = row(f"default probe, layer {layer} ({len(train):,} train rows x {x.shape[1]})",
            best["ours"], best["bound"], "<= 1.5x")
    r["note"] = (f"{n_eval} passes over the data in all, {passes:.1f} training sets' worth "
                 f"of rows (the final fit: "
                 f"{len(fitted[-1].losses)} loss evaluations); test accuracy "
                 f"{fitted[-1].accuracy['test']:.4f}; fit from the file (reading included)")
    return r


def _from_layer(model, block: int, hidden, mask, copies: int, per_run: int) -> None:
    """The bound of an ablation: ``copies`` replicas of the batch run from ``block`` on
    (blocks ``block..L-1``, the final norm and the head), ``per_run`` replicas at a time."""
    import torch

    inner = model.model
    blocks = inner.layers
    inner.layers = torch.nn.ModuleList(list(blocks)[block:])
    try:
        with torch.inference_mode():
            for c0 in range(0, copies, per_run):
                c = min(per_run, copies - c0)
                model(inputs_embeds=hidden.repeat(c, 1, 1), attention_mask=mask.repeat(c, 1),
                      use_cache=False)
    finally:
        inner.layers = blocks


def ablation_row(args, tmp: Path) -> dict | None:
    """64 single-neuron zero ablations at ``mlp.13`` of a random Llama (16 x 128, as in
    ``bench_interventions.py``) on 32 pydoc lines against one forward of the 64 replicas of
    the batch from block 13 on (the clean prefix is computed once, outside the bound), run
    the faster of two ways: 16,384 tokens of replicas per run, or one replica per run (on a
    CPU the big runs' logits, 360 MB a run, made the bound up to 1.5x slower than one replica
    at a time)."""
    if importlib.util.find_spec("neuroheat.intervene") is None:
        return None
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    dec = sibling("bench_decoders")
    tok = dec.llama_tokenizer(max_length=256)
    tok.pad_token = tok.eos_token
    torch.manual_seed(0)
    cfg = LlamaConfig(num_hidden_layers=16, hidden_size=128, intermediate_size=512,
                      num_attention_heads=8, num_key_value_heads=4, max_position_embeddings=256,
                      vocab_size=len(tok), bos_token_id=tok.bos_token_id,
                      eos_token_id=tok.eos_token_id, pad_token_id=tok.eos_token_id)
    model = LlamaForCausalLM(cfg).eval().to(args.device)
    n_lines, n_neurons, layer = (8, 8, 13) if args.quick else (32, 64, 13)
    lines = [s for s in (" ".join(w) for w in pydoc_sentences()) if 5 < len(s.split()) < 40]
    lines = lines[:n_lines]
    corpus = tmp / "ablate_corpus.txt"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    enc = tok(lines, return_tensors="pt", padding=True).to(args.device)
    with torch.inference_mode():
        hidden = model.model(**enc, output_hidden_states=True,
                             use_cache=False).hidden_states[layer - 1]
    units = [f"mlp.{layer}:0-{n_neurons - 1}"]
    per_run = max(1, 16384 // int(enc["input_ids"].numel()))

    def ours() -> None:
        nh.intervene.ablate((model, tok), str(corpus), units, device=args.device, quiet=True)

    ours()
    _from_layer(model, layer - 1, hidden, enc["attention_mask"], 2, per_run)
    mask = enc["attention_mask"]
    best = best_of({"bound": lambda: _from_layer(model, layer - 1, hidden, mask, n_neurons,
                                               per_run),
                  "bound, one replica a run": lambda: _from_layer(model, layer - 1, hidden, mask,
                                                                  n_neurons, 1),
                  "ours": ours}, args.rounds)
    bound = min(best["bound"], best["bound, one replica a run"])
    r = row(f"ablation of {n_neurons} single neurons (mlp.{layer} of 16)", best["ours"],
            bound, ">= 0.80")
    r["note"] = (f"random Llama 16 x 128, {n_lines} pydoc lines "
                 f"({int(enc['attention_mask'].sum())} tokens), zero ablation; bound with "
                 f"{per_run} replicas a run {best['bound']:.3f} s, one a run "
                 f"{best['bound, one replica a run']:.3f} s")
    return r
