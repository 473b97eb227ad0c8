"""The ``neuroheat`` command line: a thin layer over the Python API.

Each sub-command lives in its own module ``neuroheat/cli/cmd_<name>.py`` that defines
``register(subparsers) -> None``; the parser it adds calls ``set_defaults(func=run)`` where
``run(args) -> int``. Modules are discovered at start-up, so adding a command touches no
other file. Command modules import heavy libraries (torch, transformers) only inside ``run``.

Example:
    $ neuroheat info store.h5 --json
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from neuroheat import __version__
from neuroheat.errors import NeuroheatError

log = logging.getLogger("neuroheat")


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every discovered sub-command."""
    parser = argparse.ArgumentParser(
        prog="neuroheat",
        description="Neuron interpretability for transformer language models.",
    )
    parser.add_argument("--version", action="version", version=f"neuroheat {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    package = importlib.import_module(__name__)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``neuroheat`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s: %(message)s",
    )
    level = log.level  # --quiet lowers it for this command only
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # `neuroheat ... | head`: the reader left, not an error
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except (NeuroheatError, OSError) as exc:  # user input and the file system: one line
        # A plain ValueError/TypeError is a bug in neuroheat, not bad input (user-input errors
        # are NeuroheatError subclasses), so it keeps its traceback.
        if args.verbose:
            log.exception("failed")
        msg = " ".join(str(exc).split()) or type(exc).__name__
        sys.stderr.write(f"neuroheat: error: {msg}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("neuroheat: interrupted\n")
        return 130
    finally:
        log.setLevel(level)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
