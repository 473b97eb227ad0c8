"""``neuroheat explain STORE... -o EXPLAIN.json``: a scored explanation for every neuron asked.

Options are the fields of :class:`~neuroheat.autointerp.config.ExplainConfig`, so the CLI and
``neuroheat.autointerp.explain`` take the same settings.

Example:
    $ neuroheat explain acts.h5 -o EXPLAIN.json --units 3:0-9 \\
          --endpoint http://127.0.0.1:8000/v1 --scorers detection,fuzzing
    $ neuroheat explain acts.h5 -o EXPLAIN.json --layers 3 --explainer-model path/to/model
"""

from __future__ import annotations

import argparse

from neuroheat.cli.config_args import add_config_arguments, config_from_args
from neuroheat.cli.options import add_store_argument, apply_quiet, store_source


def register(sub: argparse._SubParsersAction) -> None:
    from neuroheat.autointerp.config import ExplainConfig

    p = sub.add_parser(
        "explain", help="explain and score neurons with a local model or a loopback server",
        description="Write a natural-language explanation of each neuron asked, scored by "
        "detection, fuzzing and (with log-probabilities) simulation, to EXPLAIN.json.")
    add_store_argument(p)
    p.add_argument("-o", "--output", required=True, metavar="EXPLAIN.json",
                   help="output file (written as neurons finish)")
    add_config_arguments(p, ExplainConfig)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true",
                      help="keep OUTPUT's finished neurons; redo the missing and failed ones")
    mode.add_argument("--overwrite", action="store_true", help="replace an existing OUTPUT")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from neuroheat.autointerp.config import ExplainConfig
    from neuroheat.autointerp.runner import explain

    apply_quiet(args)
    config = config_from_args(ExplainConfig, args)
    result = explain(store_source(args), args.output, config, overwrite=args.overwrite)
    if not config.quiet:
        print(result.summary())
    return 0
