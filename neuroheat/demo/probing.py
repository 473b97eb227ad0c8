"""The demo's probing stage: which MiniLM neurons tell function words from content words?

Labels are a real, classic probing property computed exactly and offline: each word of the
pydoc corpus is ``FUNC`` (a closed-class English function word: determiners, pronouns,
prepositions, conjunctions, auxiliaries and modals, from the fixed list below), ``PUNCT`` (no
letter or digit), ``NUM`` (digits) or ``CONTENT`` (everything else). A closed class is a list,
so no tagger model is needed (none installs offline from PyPI from its authors). One probe per
layer, then the ablation of the "one grain of sand" paper on the best layer: test accuracy
with the top / random / bottom fraction of its neurons by probe weight.

Example:
    >>> word_class("the"), word_class("Python"), word_class(","), word_class("42")
    ('FUNC', 'CONTENT', 'PUNCT', 'NUM')
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import neuroheat as nh

FUNCTION_WORDS = frozenset("""
a an the this that these those some any each every no another either neither such what which
whose i me my mine you your yours he him his she her hers it its we us our ours they them their
theirs myself yourself himself herself itself ourselves themselves who whom whoever whatever
of in on at by for with from to into onto upon about above below under over between among
through during before after without within against along across behind beyond toward towards
via per than as like since until unless although though because while whereas if whether
and or but nor so yet also not
be am is are was were been being have has had having do does did doing done
can could may might must shall should will would
there here then when where why how very too only just
""".split())
FRACTIONS = (0.02, 0.1, 0.5, 1.0)
TEST_FRACTION = 0.2
# L-BFGS steps per probe: the demo trains 15 probes; 50 steps reach the plateau here
MAX_ITER = 50


def word_class(word: str) -> str:
    """``FUNC``, ``PUNCT``, ``NUM`` or ``CONTENT`` (see the module docstring)."""
    if not any(ch.isalnum() for ch in word):
        return "PUNCT"
    if any(ch.isdigit() for ch in word) and not any(ch.isalpha() for ch in word):
        return "NUM"
    return "FUNC" if word.lower() in FUNCTION_WORDS else "CONTENT"


def demo_probing(store: str | Path, outdir: str | Path, *, seed: int = 0) -> dict[str, Any]:
    """Probe every layer, ablate the best one, write ``probe.json``, ``probing.json`` and
    ``figures/ablation.svg``; returns the tables and a text report."""
    from neuroheat import probing
    from neuroheat.probing.ablations import ablation_figure

    out = Path(outdir)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    with nh.open_store(store) as opened:
        labels = probing.read_labels(None, store=opened, label_fn=word_class)
        per_layer = probing.layerwise(opened, labels, test_fraction=TEST_FRACTION, seed=seed,
                                      max_iter=MAX_ITER)
        best = max(per_layer, key=lambda lay: (per_layer[lay]["test"] or 0.0, -lay))
        probe = probing.Probe(seed=seed, max_iter=MAX_ITER).fit(opened, labels, layers=[best],
                                             test_fraction=TEST_FRACTION)
        order = probing.neuron_ordering(probe)
        table = probing.ablation(opened, labels, order, layers=[best], fractions=FRACTIONS,
                                 test_fraction=TEST_FRACTION, seed=seed, max_iter=MAX_ITER)
    sizes = {k: max(1, round(float(k) * len(order))) for k in table["top"]}
    probe.save(out / "probe.json")
    figure = ablation_figure(table, sizes, title=f"function vs content words, layer "
                                     f"{best}")
    figure.save(out / "figures" / "ablation.svg")
    accs = ", ".join(f"L{lay} {v['test']:.3f}" for lay, v in per_layer.items())
    top10 = table["top"].get("0.1")
    text = "\n".join([
        f"Probing FUNC/CONTENT/PUNCT/NUM words ({len(labels)} words, "
        f"{int(TEST_FRACTION * 100)}% of sentences held out): test accuracy {accs}",
        f"  best layer {best}: the top 10% of its {len(order)} neurons keep {top10:.3f} "
        f"(random {table['random']['0.1']:.3f}, bottom {table['bottom']['0.1']:.3f}); "
        f"figure: {out / 'figures' / 'ablation.svg'}",
    ])
    return {"per_layer": per_layer, "best_layer": best, "ablation": table, "text": text,
            "probe": out / "probe.json", "figure": out / "figures" / "ablation.svg"}
