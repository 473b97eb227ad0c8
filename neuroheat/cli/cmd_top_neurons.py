"""``neuroheat top-neurons``: the neurons for which a word scores highest.

Example:
    $ neuroheat top-neurons acts.h5 Paris -k 5
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
        "top-neurons", help="neurons for which a word scores highest",
        description="Rank neurons by the top-words score of WORD (1.0 = WORD is the neuron's "
                    "top word). Needs one pass over every layer.")
    add_store_argument(p)
    p.add_argument("word", metavar="WORD", help="word type, matched exactly")
    p.add_argument("-k", type=int, default=10, metavar="K", help="neurons to list (default 10)")
    p.add_argument("--layer", type=int, action="append", metavar="L",
                   help="only this model layer (repeatable; default every stored layer)")
    p.add_argument("--json", action="store_true",
                   help='print [{"layer": L, "neuron": N, "score": S}, ...]')
    add_run_arguments(p, threads=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from neuroheat.analysis import top_neurons

    check_chunk_mb(args.chunk_mb)
    found = top_neurons(store_source(args), args.word, k=args.k, layers=args.layer,
                        **run_options(args, threads=True))
    if args.json:
        write_json([f._asdict() for f in found])
    else:
        for f in found:
            sys.stdout.write(f"layer {f.layer} neuron {f.neuron}: {f.score:.3f}\n")
    return 0
