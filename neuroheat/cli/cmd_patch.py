"""``neuroheat patch MODEL PAIRS.jsonl -o PATCH.json (--grid KIND | --units U...)``: which
activations carry the difference between clean and corrupt prompts.

PAIRS.jsonl lines are ``{"clean", "corrupt", "answer", "foil"}``; the metric (``logit_diff`` or
``logprob``) is read at the last position. ``--grid resid`` patches every (layer, position) of
the residual stream from the clean run into the corrupt run, one at a time; ``--units
mlp.3:0-63`` patches each unit at every position; ``--method attribution`` estimates the same
from one forward and backward pass per pair.

Example:
    $ neuroheat patch path/to/gpt2 pairs.jsonl -o patch.json --grid resid
    $ neuroheat patch path/to/gpt2 pairs.jsonl -o units.json --units mlp.2:all --method attribution
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from neuroheat.cli.config_args import add_config_arguments, config_from_args
from neuroheat.cli.options import add_overwrite_argument, apply_quiet
from neuroheat.errors import InputError, OutputExistsError


def register(subparsers: Any) -> None:
    from neuroheat.intervene.patch_config import PatchConfig

    p = subparsers.add_parser(
        "patch", help="activation / attribution patching of clean-corrupt prompt pairs",
        description="Patch activations from each clean run into its corrupt run (a grid of "
                    "(layer, position) or single units at every position) and score how much "
                    "of the metric's clean-corrupt difference each patch restores.",
    )
    p.add_argument("model", help="Hub id (from the local cache) or causal-LM directory")
    p.add_argument("pairs", help='PAIRS.jsonl: {"clean", "corrupt", "answer", "foil"} per line')
    p.add_argument("-o", "--output", required=True, type=Path, help="PATCH.json to write")
    p.add_argument("--units", action="append", default=[], metavar="U",
                   help="SITE:INDEX, SITE:5,17, SITE:0-63 or SITE:all (mlp.3:17); repeatable")
    add_config_arguments(p, PatchConfig)
    add_overwrite_argument(p, help="replace an existing output file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.output.suffix.lower() != ".json":
        raise InputError(f"cannot write {args.output.name!r}: patching results are written "
                         "as .json")
    if args.output.exists() and not args.overwrite:
        raise OutputExistsError(f"{args.output} exists; pass --overwrite to replace it")
    from neuroheat.intervene import PatchConfig, patch

    apply_quiet(args)
    cfg = config_from_args(PatchConfig, args)
    res = patch(args.model, args.pairs, args.units or None, cfg)
    res.save(args.output)
    print(f"wrote {args.output}: {len(res.results)} result(s), {cfg.method} patching "
          f"({cfg.metric}) of {len(res.clean)} pair(s)")
    return 0
