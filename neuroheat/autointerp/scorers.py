"""The explainer and the three scorers of one neuron: build prompts, ask, read, score.

- :func:`explain_neuron` asks for the explanation.
- :func:`detection`: the activating scoring windows (truth 1) and the non-activating ones
  (truth 0), unmarked, shuffled, ``examples_per_prompt`` per prompt.
- :func:`fuzzing`: the activating scoring windows; a seeded half marked correctly (their
  words above the median: truth 1), the others at as many random words that are not above
  it (truth 0; a window with no such word is marked correctly instead, truth 1).
- Detection and fuzzing also report ``auc`` when every answer came with log-probabilities:
  the AUC of P(1) at each example's label token (ties half).
- :func:`simulation`: every scoring window; Pearson correlation of the simulated and the
  stored activations over all their words pooled.

An unreadable answer raises :class:`~neuroheat.autointerp.clients.RequestFailed`: the
neuron is recorded as failed.

Example:
    >>> records, scores = detection(client, "dates", examples, per_prompt=5, seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuroheat.autointerp import prompts as P
from neuroheat.autointerp.clients.base import Client, RequestFailed
from neuroheat.autointerp.examples import Example, NeuronExamples
from neuroheat.autointerp.parse import read_explanation, read_labels
from neuroheat.autointerp.scores import auc, correlation, metrics_from_records

__all__ = ["detection", "explain_neuron", "fuzzing", "simulation"]

_SALT = {"detection": 1, "fuzzing": 2}


def explain_neuron(client: Client, ex: NeuronExamples, max_tokens: int) -> str:
    """The explanation of a neuron from its explanation examples."""
    windows = [(e.words, P.normalise(e.values, ex.threshold, ex.top)) for e in ex.explain]
    answer = client.chat(P.explainer_prompt(windows), max_tokens)
    text = read_explanation(answer)
    if text is None:
        raise RequestFailed(f"explainer: no explanation in the answer {answer[:80]!r}")
    return text


def _ask(client: Client, scorer: str, explanation: str, items: list[tuple[Example, Any, int]],
         per_prompt: int, max_tokens: int) -> tuple[list[dict[str, Any]], float | None]:
    """The records of one scorer and, when every answer came with P(1) per example, the
    AUC of those probabilities."""
    records = []
    probs: list[float] | None = []
    judge = getattr(client, "judge", None)
    for start in range(0, len(items), per_prompt):
        chunk = items[start:start + per_prompt]
        if scorer == "detection":
            msgs = P.detection_prompt(explanation, [e.words for e, _, _ in chunk])
        else:
            msgs = P.fuzzing_prompt(explanation, [(e.words, m) for e, m, _ in chunk])
        if judge is not None:
            answer, p1 = judge(msgs, max_tokens)
        else:
            answer, p1 = client.chat(msgs, max_tokens), None
        labels = read_labels(answer, len(chunk))
        if labels is None:
            raise RequestFailed(f"{scorer}: unreadable answer {answer[:80]!r} (expected "
                                + ("0 or 1" if len(chunk) == 1 else
                                   f"a JSON list of {len(chunk)} 0/1") + ")")
        if probs is not None and p1 is not None and len(p1) == len(chunk):
            probs += p1
        else:
            probs = None
        for (e, _, truth), label in zip(chunk, labels, strict=True):
            records.append({"sentence": e.sentence, "position": e.position,
                            "activating": bool(truth), "scorer": scorer,
                            "prediction": int(label)})
    area = None if not probs else auc([int(r["activating"]) for r in records], probs)
    return records, area


def _scored(records: list[dict[str, Any]], area: float | None, scorer: str) -> dict | None:
    metrics = metrics_from_records(records, scorer)
    if metrics is not None and area is not None:
        metrics["auc"] = area
    return metrics


def _order(items: list, ex: NeuronExamples, seed: int, scorer: str) -> list:
    rng = np.random.default_rng([seed, ex.layer, ex.neuron, _SALT[scorer]])
    return [items[i] for i in rng.permutation(len(items))]


def detection(client: Client, explanation: str, ex: NeuronExamples, *, per_prompt: int,
              seed: int, max_tokens: int) -> tuple[list[dict[str, Any]], dict | None]:
    """``(score_examples records, metrics)`` of the detection scorer."""
    items = [(e, None, 1) for e in ex.activating] + [(e, None, 0) for e in ex.non_activating]
    records, area = _ask(client, "detection", explanation,
                         _order(items, ex, seed, "detection"), per_prompt, max_tokens)
    return records, _scored(records, area, "detection")


def fuzz_marks(ex: NeuronExamples, seed: int) -> list[tuple[Example, list[int], int]]:
    """``(example, marked indices, truth)`` of each activating example for fuzzing."""
    rng = np.random.default_rng([seed, ex.layer, ex.neuron, 3])
    n = len(ex.activating)
    correct = set(rng.permutation(n)[: (n + 1) // 2].tolist())
    out = []
    for i, e in enumerate(ex.activating):
        right = e.active(ex.threshold) or [e.center]
        others = [j for j in range(len(e.words)) if j not in set(right)]
        if i in correct or not others:
            out.append((e, right, 1))
        else:
            k = min(len(right), len(others))
            out.append((e, sorted(rng.choice(others, size=k, replace=False).tolist()), 0))
    return out


def fuzzing(client: Client, explanation: str, ex: NeuronExamples, *, per_prompt: int,
            seed: int, max_tokens: int) -> tuple[list[dict[str, Any]], dict | None]:
    """``(score_examples records, metrics)`` of the fuzzing scorer."""
    items = fuzz_marks(ex, seed)
    records, area = _ask(client, "fuzzing", explanation, _order(items, ex, seed, "fuzzing"),
                         per_prompt, max_tokens)
    return records, _scored(records, area, "fuzzing")


def simulation(client: Client, explanation: str, ex: NeuronExamples) -> dict | None:
    """``{"correlation"}`` of simulated and true activations over every scoring word."""
    simulated: list[float] = []
    true: list[float] = []
    for e in ex.activating + ex.non_activating:
        text, spots = P.simulation_prompt(explanation, e.words)
        simulated += client.simulate(text, spots)
        true += [float(v) for v in e.values]
    r = correlation(simulated, true)
    return None if r is None else {"correlation": r}
