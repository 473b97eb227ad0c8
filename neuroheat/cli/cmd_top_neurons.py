"""``neuroheat top-neurons``: the neurons for which a word scores highest.

Example:
    $ neuroheat top-neurons acts.h5 Paris -k 5
    $ neuroheat top-neurons 'acts-shard*.h5' Paris --layers 4-6 --json
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
        "top-neurons", help="neurons for which a word scores highest",
        description="Rank neurons by the top-words score of WORD (1.0 = WORD is the neuron's "
                    "top word). Needs one pass over every layer.")
    add_store_argument(p)
    p.add_argument("word", metavar="WORD", help="word type, matched exactly")
    p.add_argument("-k", type=int, default=10, metavar="K", help="neurons to list (default 10)")
    add_layers_argument(p, legacy_layer=True,
                        help='only these model layers, e.g. "0,6", "1-4" (default all)')
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true",
                     help='print [{"layer": L, "neuron": N, "score": S}, ...]')
    fmt.add_argument("--csv", action="store_true", help="print layer,neuron,score")
    add_analysis_run_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from neuroheat.analysis import word_neurons

    apply_quiet(args)
    found = word_neurons(store_source(args), args.word, k=args.k, layers=layers_of(args),
                        options=analysis_options(args))
    if args.json:
        write_json(found.to_records())
    elif args.csv:
        sys.stdout.write(found.to_csv() or "")
    else:
        for f in found:
            sys.stdout.write(f"layer {f.layer} neuron {f.neuron}: {f.score:.3f}\n")
    return 0
