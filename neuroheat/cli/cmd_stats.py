"""``neuroheat stats``: per-neuron count, mean, std, min, max (and fraction above a threshold).

Example:
    $ neuroheat stats acts.h5 --layers 3 --csv --threshold 0.5 > stats.csv
    $ neuroheat stats 'acts-shard*.h5' --layers 0,6 --json
"""

from __future__ import annotations

import argparse
import sys

from neuroheat.cli.options import (
    add_analysis_run_arguments,
    add_layers_argument,
    add_store_argument,
    analysis_options,
    apply_quiet,
    layers_of,
    store_source,
    write_json,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "stats", help="per-neuron statistics (from the store; one pass for --threshold)",
        description="Count, mean, population std, min and max of every neuron, read from the "
                    "store's statistics; --threshold T adds the fraction of words above T "
                    "(one pass over each layer).")
    add_store_argument(p)
    add_layers_argument(p, legacy_layer=True,
                        help='only these model layers, e.g. "0,6", "1-4" (default all)')
    p.add_argument("--threshold", type=float, default=None, metavar="T",
                   help="also report the fraction of words with activation > T")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--csv", action="store_true", help="print CSV with a header row")
    fmt.add_argument("--json", action="store_true", help="print one JSON object per neuron")
    add_analysis_run_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from neuroheat.analysis import neuron_stats

    apply_quiet(args)
    table = neuron_stats(store_source(args), layers=layers_of(args), threshold=args.threshold,
                         options=analysis_options(args))
    if args.csv:
        sys.stdout.write(table.to_csv() or "")
    elif args.json:
        write_json(table.to_records())
    else:
        cols = table.columns
        sys.stdout.write("".join(f"{c:>12}" for c in cols) + "\n")
        for row in table:
            sys.stdout.write("".join(
                f"{v:>12.5g}" if isinstance(v, float) else f"{v:>12}" for v in row.values())
                + "\n")
    return 0
