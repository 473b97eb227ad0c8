"""What a client does: answer chat prompts, and (when it can) simulate activations.

Example:
    >>> issubclass(NoLogprobs, RequestFailed)
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from neuroheat.errors import NeuroheatError

__all__ = ["Client", "Messages", "NoLogprobs", "RequestFailed", "expected_digit",
           "label_probabilities"]

_POSITIVE, _NEGATIVE = {"1", "yes", "true"}, {"0", "no", "false"}

Messages = Sequence[dict[str, str]]


class RequestFailed(NeuroheatError):
    """A request kept failing (the neuron is recorded with this error; the run goes on);
    ``status``: the HTTP status of a refused request (4xx), else None."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class NoLogprobs(RequestFailed):
    """The client cannot return log-probabilities: the simulation scorer is skipped."""


class Client(Protocol):
    """A source of answers. Implementations are safe to call from several threads."""

    #: a short description of the model, recorded in EXPLAIN.json
    name: str

    def chat(self, messages: Messages, max_tokens: int) -> str:
        """The answer to a chat prompt (greedy)."""
        ...

    def judge(self, messages: Messages, max_tokens: int) -> tuple[str, list[float] | None]:
        """The answer and, when the client has log-probabilities, P(1) at each 0/1 (yes/no)
        token of it, in order (see :func:`label_probabilities`); else None."""
        ...

    def simulate(self, text: str, spots: Sequence[int]) -> list[float]:
        """Expected 0–10 value of the next token at each character offset of ``spots`` in
        ``text``; raises :class:`NoLogprobs` if the client cannot tell."""
        ...

    def close(self) -> None:
        """Release the model or connections."""
        ...


def expected_digit(logprobs: dict[str, float]) -> float | None:
    """Expected value over the tokens ``0``..``10`` of a ``{token: logprob}`` map (their
    probabilities renormalised; None if none of them is there).

    Example:
        >>> round(expected_digit({"0": -0.6931, " 10": -0.6931, "cat": -3.0}), 3)
        5.0
    """
    import math

    mass, total = 0.0, 0.0
    for token, lp in logprobs.items():
        t = token.strip()
        if t.isdigit() and int(t) <= 10 and lp is not None:
            p = math.exp(lp)
            mass += p
            total += p * int(t)
    return total / mass if mass > 0 else None


def label_probabilities(steps: Sequence[tuple[str, dict[str, float]]]) -> list[float] | None:
    """P(1) at each label token of an answer: ``steps`` are the answer's tokens with their
    top log-probabilities; a token reading 0/1/yes/no/true/false (case and spaces ignored)
    is a label, and P(1) is the probability mass of the positive spellings among its
    alternatives over that of all label spellings. None if a label has no label
    alternatives.

    Example:
        >>> import math
        >>> steps = [("[", {}), ("1", {"1": math.log(0.6), "0": math.log(0.2)}), (",", {}),
        ...          (" 0", {" 0": 0.0})]
        >>> [round(p, 3) for p in label_probabilities(steps)]
        [0.75, 0.0]
    """
    import math

    out: list[float] = []
    for token, top in steps:
        if token.strip().lower() not in _POSITIVE | _NEGATIVE:
            continue
        pos = sum(math.exp(lp) for t, lp in top.items() if t.strip().lower() in _POSITIVE)
        neg = sum(math.exp(lp) for t, lp in top.items() if t.strip().lower() in _NEGATIVE)
        if pos + neg <= 0:
            return None
        out.append(pos / (pos + neg))
    return out
