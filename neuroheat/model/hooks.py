"""Forward hooks that record tensors of named modules, with early exit.

:func:`record` registers one hook per distinct module, counts calls (a module shared by
several layers, as in ALBERT, is counted once per call), keeps the tensors of the wanted
calls, and — with ``stop=True`` — raises :class:`StopForward` once the last wanted call has
run, so later blocks never compute (values are unchanged: they depend only on earlier blocks).

Example:
    >>> with record([(block.mlp.c_proj, "input") for block in gpt2.h], {3: 0}) as rec:  # doctest: +SKIP
    ...     run_until_stopped(gpt2, input_ids=ids)
    >>> rec.values[0].shape                                                         # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal


class StopForward(Exception):
    """Raised by a hook once every wanted tensor is recorded: skip the rest of the forward."""


@dataclass
class Recording:
    """Tensors captured by :func:`record`: ``values[k]`` for the k-th wanted call."""

    values: list[Any]
    calls: int = 0
    handles: list[Any] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return all(v is not None for v in self.values)


@contextmanager
def record(sites: Sequence[tuple[Any, Literal["input", "output"]]], wanted: Mapping[int, int],
           *, stop: bool = False) -> Iterator[Recording]:
    """Record the tensors of calls ``wanted`` (1-based call number -> slot) of ``sites``.

    ``sites`` are ``(module, "input"|"output")`` in call order; the call number counts every
    call of any of them (a module listed with both ``input`` and ``output`` counts twice per
    call: its input first). With ``stop``, :class:`StopForward` is raised after the last wanted
    call; catch it with :func:`run_until_stopped`.
    """
    rec = Recording([None] * len(wanted))
    last = max(wanted) if wanted else 0

    def keep(value: Any) -> None:
        rec.calls += 1
        slot = wanted.get(rec.calls)
        if slot is not None:
            rec.values[slot] = value[0] if isinstance(value, tuple | list) else value
        if stop and rec.calls == last:
            raise StopForward

    seen: set[tuple[int, str]] = set()
    for module, where in sites:
        if (id(module), where) in seen:  # a shared module: one hook, counted per call
            continue
        seen.add((id(module), where))
        if where == "output":
            rec.handles.append(module.register_forward_hook(lambda m, a, out: keep(out)))
        else:
            rec.handles.append(module.register_forward_pre_hook(
                lambda m, a, kw: keep(first_input(a, kw)), with_kwargs=True))
    try:
        yield rec
    finally:
        for handle in rec.handles:
            handle.remove()


def first_input(args: tuple, kwargs: dict[str, Any]) -> Any:
    """The main input of a module call: its first positional argument, else the
    ``hidden_states`` keyword (or the first keyword) argument."""
    if args:
        return args[0]
    if "hidden_states" in kwargs:
        return kwargs["hidden_states"]
    return next(iter(kwargs.values()))


def run_until_stopped(fn: Callable[..., Any], /, **kwargs: Any) -> Any:
    """``fn(**kwargs)``, returning None instead of raising when a hook stopped it early."""
    try:
        return fn(**kwargs)
    except StopForward:
        return None
