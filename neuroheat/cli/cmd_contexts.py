"""``neuroheat contexts``: the words, in their sentences, where a neuron fires most.

Example:
    $ neuroheat contexts acts.h5 --layer 3 --neuron 17 -k 5
    $ neuroheat contexts 'acts-shard*.h5' --layer 3 --neuron 17 --json
"""

from __future__ import annotations

import argparse
import sys

from neuroheat.cli.options import (
    add_analysis_run_arguments,
    add_store_argument,
    analysis_options,
    apply_quiet,
    store_source,
    write_json,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "contexts", help="sentences where a neuron's activation is highest (or lowest)",
        description="The k words of the corpus where the neuron's activation is highest "
                    "(--lowest: lowest), with their sentences; ties go to the earlier word.")
    add_store_argument(p)
    p.add_argument("--layer", type=int, required=True, metavar="L",
                   help="model layer number (0 = embeddings)")
    p.add_argument("--neuron", type=int, required=True, metavar="N", help="neuron index")
    p.add_argument("-k", type=int, default=10, metavar="K", help="contexts (default 10)")
    p.add_argument("--lowest", action="store_true", help="lowest activations instead")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true",
                     help='print [{"sentence", "position", "word", "value", "words"}, ...]')
    fmt.add_argument("--csv", action="store_true",
                     help="print sentence,position,word,value,words (words as a JSON list)")
    add_analysis_run_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from neuroheat.analysis import top_contexts

    apply_quiet(args)
    found = top_contexts(store_source(args), args.layer, args.neuron, k=args.k,
                         lowest=args.lowest, options=analysis_options(args))
    if args.json:
        write_json(found.to_records())
        return 0
    if args.csv:
        sys.stdout.write(found.to_csv() or "")
        return 0
    sep = " " if _units(args) == "words" else ""   # tokens carry their own spaces
    for c in found:
        marked = sep.join(f"[[{w}]]" if i == c.position else w for i, w in enumerate(c.words))
        sys.stdout.write(f"{c.value:+.4f}  sentence {c.sentence} word {c.position}: {marked}\n")
    return 0


def _units(args: argparse.Namespace) -> str:
    """``words`` or ``tokens``: how the store's rows read (tokens join without spaces)."""
    from neuroheat.store import open_store

    with open_store(store_source(args)) as store:
        return str(store.meta.get("units") or "words")
