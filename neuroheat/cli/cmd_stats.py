"""``neuroheat stats``: per-neuron count, mean, std, min, max (and fraction above a threshold).

Example:
    $ neuroheat stats acts.h5 --layer 3 --csv --threshold 0.5 > stats.csv
"""

from __future__ import annotations

import argparse
import sys

from neuroheat.cli.options import (
    add_run_arguments,
    add_store_argument,
    check_chunk_mb,
    run_options,
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
    p.add_argument("--layer", type=int, action="append", metavar="L",
                   help="only this model layer (repeatable; default every stored layer)")
    p.add_argument("--threshold", type=float, default=None, metavar="T",
                   help="also report the fraction of words with activation > T")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--csv", action="store_true", help="print CSV with a header row")
    fmt.add_argument("--json", action="store_true", help="print one JSON object per neuron")
    add_run_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from neuroheat.analysis import neuron_stats

    check_chunk_mb(args.chunk_mb)
    table = neuron_stats(store_source(args), layers=args.layer, threshold=args.threshold,
                         **run_options(args))
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
