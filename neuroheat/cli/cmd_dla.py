"""``neuroheat dla MODEL --text TEXT --answer TOK -o OUT.json|.svg``: who writes the answer.

Direct logit attribution at one position: the embeddings, every attention and MLP output and,
with ``--neurons``, MLP neurons. ``.json`` is the :class:`~neuroheat.lens.DLAResult` file,
``.svg`` a bar chart for papers.

Example:
    $ neuroheat dla path/to/gpt2 --text "The capital of France is" --answer " Paris" \\
        --foil " Rome" --neurons all -o paris.svg
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from neuroheat.cli.config_args import add_config_arguments, config_from_args
from neuroheat.cli.options import add_overwrite_argument, check_output_file

SUFFIXES = (".json", ".svg")


def register(subparsers: Any) -> None:
    from neuroheat.lens.config import DlaConfig

    p = subparsers.add_parser(
        "dla", help="direct logit attribution of an answer to components and neurons",
        description="How much the embeddings, each attention and MLP output and each MLP "
                    "neuron add directly to the answer's logit (minus the foil's) at one "
                    "position, with the final norm's scale frozen there.",
    )
    p.add_argument("model", help="Hub id (from the local cache) or causal-LM directory")
    p.add_argument("--text", required=True, help="the input text")
    p.add_argument("--answer", required=True, metavar="TOKEN",
                   help="the token whose logit to attribute (one token, e.g. ' Paris')")
    p.add_argument("-o", "--output", required=True, type=Path,
                   help="output file: .json (the result) or .svg (bar chart)")
    add_config_arguments(p, DlaConfig)
    add_overwrite_argument(p, help="replace an existing output file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    suffix = check_output_file(args.output, SUFFIXES, args.overwrite)
    from neuroheat.lens import DlaConfig, dla

    res = dla(args.model, args.text, args.answer, config_from_args(DlaConfig, args))
    if suffix == ".json":
        res.save(args.output)
    else:
        res.show().save(args.output)
    what = f"{res.answer!r} - {res.foil!r}" if res.foil is not None else repr(res.answer)
    print(f"wrote {args.output}: {what} at position {res.position}: {res.logit:.4g} = "
          f"{len(res.components)} components + bias {res.bias:.4g}")
    return 0
