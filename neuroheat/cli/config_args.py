"""CLI options made from config dataclasses: each setting is named once, in its config.

:func:`add_config_arguments` adds ``--kebab-case`` options for the fields of a
:class:`~neuroheat.config.Config` whose metadata says ``cli=True`` (help, choices and types
from the field); :func:`config_from_args` builds the config back from the parsed namespace.

Example:
    >>> import argparse
    >>> from neuroheat.extract.config import ExtractConfig
    >>> p = argparse.ArgumentParser()
    >>> add_config_arguments(p, ExtractConfig)
    >>> config_from_args(ExtractConfig, p.parse_args(["--aggregation", "first"])).aggregation
    'first'
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Collection
from typing import Any, TypeVar

C = TypeVar("C")


def add_config_arguments(parser: Any, cls: type, *, exclude: Collection[str] = ()) -> None:
    """Add one option per CLI field of ``cls`` (a config dataclass) to ``parser``."""
    for f in dataclasses.fields(cls):
        meta = f.metadata
        if not meta.get("cli", True) or f.name in exclude:
            continue
        flag = meta.get("flag") or "--" + f.name.replace("_", "-")
        kwargs: dict[str, Any] = {"dest": f.name, "help": meta.get("help"),
                                  "default": argparse.SUPPRESS}
        if isinstance(f.default, bool):
            kwargs["action"] = "store_true"
        elif isinstance(f.default, tuple):  # a repeatable option (e.g. --sae DIR --sae DIR)
            kwargs["action"] = "append"
            kwargs["metavar"] = meta.get("metavar")
        else:
            kind = meta.get("type") or (type(f.default) if f.default is not None else None)
            if kind in (int, float):
                kwargs["type"] = kind
            if meta.get("choices"):
                kwargs["choices"] = list(meta["choices"])
            if meta.get("metavar"):
                kwargs["metavar"] = meta["metavar"]
            if f.default is not None and kwargs["help"]:
                kwargs["help"] += f" (default: {f.default})" if "default" not in \
                    kwargs["help"] else ""
        parser.add_argument(flag, **kwargs)


def config_from_args(cls: type[C], args: argparse.Namespace, **overrides: Any) -> C:
    """The config of ``cls`` from parsed options given on the command line, plus overrides."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    given = {k: v for k, v in vars(args).items() if k in names}
    given.update(overrides)
    return cls.build(None, **given)  # type: ignore[attr-defined]
