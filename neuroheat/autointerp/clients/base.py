"""What a client does: answer chat prompts, and (when it can) simulate activations.

Example:
    >>> issubclass(NoLogprobs, RequestFailed)
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from neuroheat.errors import NeuroheatError

__all__ = ["Client", "Messages", "NoLogprobs", "RequestFailed"]

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
