"""Config dataclasses: one per job, shared by the Python API and the CLI.

A config field made with :func:`option` carries its help text, its choices and whether the
CLI shows it; :mod:`neuroheat.cli.options` turns the fields into ``--kebab-case`` options, so
a setting is named once. ``record=True`` marks the fields a store records as attributes, and
``match=True`` those that resume, shards and merges must agree on.

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Demo(Config):
    ...     k: int = option(10, "how many")
    >>> Demo.build(None, k=3)
    Demo(k=3)
    >>> Demo.build(None, q=1)
    Traceback (most recent call last):
    ...
    neuroheat.errors.InputError: unknown option q for Demo; valid options: k
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar

from neuroheat.deprecation import renamed
from neuroheat.errors import InputError

C = TypeVar("C", bound="Config")


def option(default: Any, help: str, *, choices: Sequence[Any] | None = None, cli: bool = True,
           flag: str | None = None, record: bool = False, match: bool = False,
           type: Any = None, metavar: str | None = None) -> Any:
    """A dataclass field with the metadata the CLI and the store read."""
    meta = {"help": help, "choices": tuple(choices) if choices else None, "cli": cli,
            "flag": flag, "record": record or match, "match": match, "type": type,
            "metavar": metavar}
    return dataclasses.field(default=default, metadata=meta)


class Config:
    """Mixin of config dataclasses: build from keyword arguments, validate choices."""

    #: deprecated spellings: old keyword -> (field, how the old value becomes the field's)
    aliases: ClassVar[dict[str, tuple[str, Callable[[Any], Any]]]] = {}

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]

    @classmethod
    def fields_where(cls, key: str) -> list[str]:
        """Names of the fields whose metadata ``key`` is true (``record``, ``match``, ``cli``)."""
        return [f.name for f in dataclasses.fields(cls)  # type: ignore[arg-type]
                if f.metadata.get(key)]

    @classmethod
    def build(cls: type[C], config: C | None = None, **overrides: Any) -> C:
        """``config`` (or the defaults) with ``overrides`` applied; unknown names are errors."""
        names = cls.field_names()
        for old, (new, convert) in cls.aliases.items():
            if old in overrides:
                renamed(f"{cls.__name__}'s {old}=", f"{new}=")
                value = overrides.pop(old)
                overrides.setdefault(new, convert(value))
        unknown = [k for k in overrides if k not in names]
        if unknown:
            raise InputError(f"unknown option {', '.join(unknown)} for {cls.__name__}; valid "
                             f"options: {', '.join(names)}")
        if config is not None and not isinstance(config, cls):
            raise InputError(f"config must be a {cls.__name__}, got {type(config).__name__}")
        base = config if config is not None else cls()
        out = dataclasses.replace(base, **overrides) if overrides else base  # type: ignore
        out.check()
        return out

    def check(self) -> None:
        """Raise :class:`InputError` for a value outside a field's choices."""
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            choices = f.metadata.get("choices")
            value = getattr(self, f.name)
            if choices and isinstance(value, str | int | float) and value not in choices:
                raise InputError(f"unknown {f.name} {value!r}; choose one of "
                                 f"{', '.join(str(c) for c in choices)}")

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore
