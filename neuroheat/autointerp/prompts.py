"""The four prompts: explainer, detection, fuzzing and simulation (pinned by golden files).

A chat prompt is a list of ``{"role", "content"}`` messages (a system message, then the
user's). Words of a window are joined by spaces; marked words are written ``<<word>>``.

- **Explainer** shows windows with the activating words marked (the words above the neuron's
  median) and, after each window, every marked word with its activation normalised to 0–10:
  ``ceil(10 · (a − m) / (top − m))`` clipped to 0..10, with ``m`` the median's upper bracket
  and ``top`` the largest value of the shown windows (rounded *up*, as delphi, so every
  marked word shows at least 1; OpenAI's explainer rounds down).
- **Detection** shows unmarked windows and asks, for each, whether the neuron activates on
  it according to the explanation.
- **Fuzzing** shows marked windows and asks, for each, whether the marked words are the ones
  the neuron activates on.
- **Simulation** is a completion prompt (no chat template): the explanation, then one line per
  word ``word<TAB>unknown``; the scorer reads the next-token distribution over ``0``..``10``
  where each ``unknown`` starts, and takes its expected value (OpenAI's all-at-once simulator).

Answers to detection and fuzzing: a JSON list of 0/1, one per example in order (one prompt
shows ``examples_per_prompt`` windows), or a lone 0/1/yes/no when a prompt shows one.

Example:
    >>> msgs = detection_prompt("dates", [["on", "May", "5"]])
    >>> msgs[1]["content"].splitlines()[-1]
    'Answer 1 if the neuron activates, 0 if it does not, and nothing else.'
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["PLACEHOLDER", "SYSTEM", "detection_prompt", "explainer_prompt", "fuzzing_prompt",
           "mark", "normalise", "simulation_prompt"]

SYSTEM = ("You are a careful interpretability researcher who studies the neurons of a "
          "language model from text excerpts.")
PLACEHOLDER = "unknown"
_INTRO = "We are studying a neuron of a language model."


def normalise(values: Sequence[float], median: float, top: float) -> list[int]:
    """``ceil(10 · (a − median) / (top − median))`` clipped to 0..10 (0 at or below the
    median, or when ``top`` is not above it).

    Example:
        >>> normalise([0.0, 0.5, 0.51, 1.0], median=0.0, top=1.0)
        [0, 5, 6, 10]
    """
    span = top - median
    out = []
    for a in values:
        if not span > 0 or not a > median:
            out.append(0)
        else:
            out.append(int(min(10, max(0, math.ceil(10 * (a - median) / span - 1e-9)))))
    return out


def mark(words: Sequence[str], marked: Sequence[int]) -> str:
    """The words joined by spaces, those at ``marked`` indices written ``<<word>>``.

    Example:
        >>> mark(["a", "cat", "sat"], [1])
        'a <<cat>> sat'
    """
    chosen = set(marked)
    return " ".join(f"<<{w}>>" if i in chosen else w for i, w in enumerate(words))


def _chat(user: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def explainer_prompt(windows: Sequence[tuple[Sequence[str], Sequence[int]]]
                     ) -> list[dict[str, str]]:
    """The explainer's messages; ``windows``: ``(words, activations 0..10)`` per example.

    Example:
        >>> explainer_prompt([(["a", "cat"], [0, 7])])[1]["content"].count("<<cat>>")
        1
    """
    lines = [f"{_INTRO} Below are text excerpts where it is active. In each excerpt the "
             "words on which the neuron activates are marked <<like this>>, and the line "
             "after the excerpt lists each marked word with its activation on a scale from 0 "
             "to 10 (10: the strongest activation shown).", ""]
    for i, (words, acts) in enumerate(windows, 1):
        marked = [j for j, a in enumerate(acts) if a > 0]
        lines.append(f"Example {i}: {mark(words, marked)}")
        listed = ", ".join(f"{words[j]} ({acts[j]})" for j in marked)
        lines.append(f"Activations: {listed or 'none'}")
        lines.append("")
    lines.append("What do the marked words, and the words around them, have in common? "
                 "Answer with one short sentence that explains what the neuron responds to, "
                 "and nothing else.")
    return _chat("\n".join(lines))


def _examples(texts: Sequence[str]) -> list[str]:
    if len(texts) == 1:
        return [f"Example: {texts[0]}", ""]
    out = [f"Example {i}: {t}" for i, t in enumerate(texts, 1)]
    return [*out, ""]


def _answer(n: int, yes: str, no: str) -> str:
    if n == 1:
        return f"Answer 1 if {yes}, 0 if {no}, and nothing else."
    example = ", ".join("1" if i % 2 == 0 else "0" for i in range(n))
    return (f"Answer with a JSON list of {n} numbers, one per example in order: 1 if {yes}, "
            f"0 if {no}. Answer with the list only, e.g. [{example}].")


def detection_prompt(explanation: str, windows: Sequence[Sequence[str]]
                     ) -> list[dict[str, str]]:
    """Detection: does the neuron activate on each of these (unmarked) windows?"""
    n = len(windows)
    lines = [f"{_INTRO} This explanation says what it responds to:", f'"{explanation}"', "",
             "Below " + ("is a text excerpt. Decide whether the neuron activates on it"
                         if n == 1 else f"are {n} text excerpts. For each, decide whether "
                         "the neuron activates on it") + ", according to the explanation.", ""]
    lines += _examples([" ".join(w) for w in windows])
    lines.append(_answer(n, "the neuron activates", "it does not"))
    return _chat("\n".join(lines))


def fuzzing_prompt(explanation: str, windows: Sequence[tuple[Sequence[str], Sequence[int]]]
                   ) -> list[dict[str, str]]:
    """Fuzzing: are the marked words of each window the ones the neuron activates on?"""
    n = len(windows)
    lines = [f"{_INTRO} This explanation says what it responds to:", f'"{explanation}"', "",
             "Below " + ("is a text excerpt" if n == 1 else f"are {n} text excerpts") +
             " with some words marked <<like this>>. " +
             ("Decide whether" if n == 1 else "For each, decide whether") +
             " the marked words are the ones on which the neuron activates, according to the "
             "explanation.", ""]
    lines += _examples([mark(w, m) for w, m in windows])
    lines.append(_answer(n, "the marked words are the right ones", "they are not"))
    return _chat("\n".join(lines))


def simulation_prompt(explanation: str, words: Sequence[str]) -> tuple[str, list[int]]:
    """The simulation text and the character offset of each word's placeholder.

    Example:
        >>> text, spots = simulation_prompt("cats", ["a", "cat"])
        >>> [text[s:s + 7] for s in spots]
        ['unknown', 'unknown']
    """
    head = (f"{_INTRO} This explanation says what it responds to:\n\"{explanation}\"\n\n"
            "For each word of the text below, predict the neuron's activation on a scale "
            "from 0 (none) to 10 (its strongest), one word per line.\n\n")
    text, spots = head, []
    for w in words:
        text += " ".join(w.split()) + "\t"
        spots.append(len(text))
        text += PLACEHOLDER + "\n"
    return text, spots
