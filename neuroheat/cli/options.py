"""Options every command spells the same way, and the store/run arguments of analysis commands.

One spelling per idea: ``--overwrite`` (``--force`` is a deprecated alias), ``--layers SPEC``
(``0,6``, ``1-4``, ``all``; a repeated ``--layer L`` still works, deprecated), ``--device auto``,
``--quiet``, ``--json``; store arguments accept several files and quoted globs.

Example:
    >>> p = argparse.ArgumentParser(); add_layers_argument(p)
    >>> layers_of(p.parse_args(["--layers", "1-3"]))
    [1, 2, 3]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from typing import Any

log = logging.getLogger("neuroheat")


class DeprecatedAlias(argparse.Action):
    """An old spelling that still works for one release, with a deprecation warning."""

    def __init__(self, option_strings, dest, new: str = "", store_value: Any = None,
                 append: bool = False, **kwargs):
        self.new, self.store_value, self.append = new, store_value, append
        if store_value is not None:
            kwargs["nargs"] = 0
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        msg = f"{option_string} is deprecated and will be removed; use {self.new}"
        warnings.warn(msg, DeprecationWarning, stacklevel=2)
        log.warning("%s", msg)
        value = self.store_value if self.store_value is not None else values
        if self.append:
            current = getattr(namespace, self.dest, None)
            current = [] if current in (None, "all") else list(current)
            current.append(value)
            value = current
        setattr(namespace, self.dest, value)


def add_layers_argument(parser: argparse.ArgumentParser, *, help: str | None = None,
                        legacy_layer: bool = False) -> None:
    """``--layers SPEC`` (default all); ``legacy_layer`` keeps a repeated ``--layer L``."""
    parser.add_argument("--layers", default=None, metavar="SPEC",
                        help=help or 'layers, e.g. "0,6", "1-4" or "all" (default all)')
    if legacy_layer:
        parser.add_argument("--layer", dest="layers", type=int, action=DeprecatedAlias,
                            append=True, new="--layers SPEC", help=argparse.SUPPRESS)


def layers_of(args: argparse.Namespace) -> list[int] | None:
    """The parsed ``--layers`` of ``args`` (None = all)."""
    from neuroheat.layerspec import parse_layers

    return parse_layers(getattr(args, "layers", None))


def add_overwrite_argument(parser: Any, *, help: str = "replace an existing output") -> None:
    """``--overwrite``; the old ``--force`` spelling still works, deprecated."""
    parser.add_argument("--overwrite", action="store_true", help=help)
    parser.add_argument("--force", dest="overwrite", action=DeprecatedAlias, store_value=True,
                        new="--overwrite", help=argparse.SUPPRESS)


def check_output_file(path: Any, suffixes: Any, overwrite: bool) -> str:
    """The lower-case suffix of the output file ``path``: a one-line error when it is not one
    of ``suffixes`` or when the file exists without ``--overwrite``."""
    from pathlib import Path

    from neuroheat.errors import InputError, OutputExistsError

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in suffixes:
        raise InputError(f"cannot write {path.name!r}: supported output suffixes are "
                         f"{', '.join(sorted(suffixes))}")
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} exists; pass --overwrite to replace it")
    return suffix


def add_device_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto",
                        help="auto (default: CUDA when available), cpu, cuda, cuda:N")


def add_quiet_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="no progress bar or info messages")


def apply_quiet(args: argparse.Namespace) -> None:
    if getattr(args, "quiet", False):
        logging.getLogger("neuroheat").setLevel(logging.WARNING)


def expand_stores(patterns: list[str]) -> list[str]:
    """Store arguments with globs expanded (sorted), in the order given; a glob matching
    nothing is kept as written so the error names it."""
    import glob

    out: list[str] = []
    for pattern in patterns:
        if any(c in pattern for c in "*?["):
            out.extend(sorted(glob.glob(pattern)) or [pattern])
        else:
            out.append(pattern)
    return out


def add_store_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", nargs="+", metavar="STORE",
                        help="store file, several shard files, or a quoted glob ('acts-*.h5')")


def store_source(args: argparse.Namespace) -> Any:
    """One path, or the list of shard paths (quoted globs are passed through to open_store)."""
    return args.store[0] if len(args.store) == 1 else list(args.store)


def check_chunk_mb(value: float) -> None:
    from neuroheat.errors import InputError

    if not value > 0:
        raise InputError(f"--chunk-mb must be a positive number of MiB, got {value}")


def write_json(data: list[Any]) -> None:
    """A JSON list, one item per line."""
    items = [json.dumps(item, ensure_ascii=False) for item in data]
    sys.stdout.write("[\n" + ",\n".join(items) + "\n]\n" if items else "[]\n")


def warn_deprecated(old: str, new: str) -> None:
    """Warn (DeprecationWarning and a log line) that spelling ``old`` is replaced by ``new``."""
    msg = f"{old} is deprecated and will be removed; use {new}"
    warnings.warn(msg, DeprecationWarning, stacklevel=2)
    log.warning("%s", msg)


def add_analysis_run_arguments(parser: argparse.ArgumentParser) -> None:
    """``--chunk-mb``, ``--threads``, ``--workers``, ``--scheduler`` (the fields of
    :class:`~neuroheat.analysis.options.RunOptions`) and ``--quiet``."""
    from neuroheat.analysis.options import RunOptions
    from neuroheat.cli.config_args import add_config_arguments

    add_config_arguments(parser, RunOptions)
    add_quiet_argument(parser)


def analysis_options(args: argparse.Namespace) -> Any:
    """The :class:`~neuroheat.analysis.options.RunOptions` of the options added by
    :func:`add_analysis_run_arguments` (``--quiet`` turns the progress bar off)."""
    from neuroheat.analysis.options import RunOptions
    from neuroheat.cli.config_args import config_from_args

    if "chunk_mb" in args:
        check_chunk_mb(args.chunk_mb)
    quiet = {"quiet": True} if getattr(args, "quiet", False) else {}
    return config_from_args(RunOptions, args, **quiet)


def write_json_value(data: Any) -> None:
    """One JSON value, indented (a summary object rather than a list of rows)."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
