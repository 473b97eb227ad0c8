"""``neuroheat lens MODEL --text TEXT -o OUT.json|.svg|.html``: what each layer predicts.

The suffix of ``-o`` picks the format: ``.json`` (the :class:`~neuroheat.lens.LensResult`
file), ``.svg`` (the layer x position table, for papers) or ``.html`` (the same table, top-K on
hover, offline). Cells are coloured by entropy, or by the ``--target`` token's log-probability.

Example:
    $ neuroheat lens path/to/gpt2 --text "The capital of France is" -o lens.svg
    $ neuroheat lens path/to/gpt2 --text "..." --lens tuned --tuned-lens lenses/gpt2 -o t.json
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from neuroheat.cli.config_args import add_config_arguments, config_from_args
from neuroheat.cli.options import add_overwrite_argument, check_output_file

SUFFIXES = (".json", ".svg", ".html")


def register(subparsers: Any) -> None:
    from neuroheat.lens.config import LensConfig

    p = subparsers.add_parser(
        "lens", help="logit lens / tuned lens: what each layer predicts",
        description="What the model would predict at every layer and position: the final norm "
                    "(statistics recomputed per layer) and unembedding applied to each "
                    "residual; with --lens tuned, a tuned lens' translators first.",
    )
    p.add_argument("model", help="Hub id (from the local cache) or causal-LM directory")
    p.add_argument("--text", required=True, help="the input text")
    p.add_argument("-o", "--output", required=True, type=Path,
                   help="output file: .json (the result), .svg (table) or .html (table with "
                        "the top-K on hover)")
    add_config_arguments(p, LensConfig)
    add_overwrite_argument(p, help="replace an existing output file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    suffix = check_output_file(args.output, SUFFIXES, args.overwrite)
    from neuroheat.lens import LensConfig, logit_lens

    cfg = config_from_args(LensConfig, args)
    res = logit_lens(args.model, args.text, cfg)
    if suffix == ".json":
        res.save(args.output)
    else:
        color = "target" if cfg.target is not None else "entropy"
        if suffix == ".svg":
            res.show("svg", color=color).save(args.output)
        else:
            res.show("html", color=color).save(args.output)
    print(f"wrote {args.output}: {cfg.lens} lens, {len(res.layers)} layers x "
          f"{len(res.tokens)} tokens")
    return 0
