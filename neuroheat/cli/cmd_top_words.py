"""``neuroheat top-words``: the top words of one neuron, or of every neuron.

Example:
    $ neuroheat top-words acts.h5 --layer 3 --neuron 17 -k 5
    $ neuroheat top-words acts.h5 --all --csv > top_words.csv
    $ neuroheat top-words 'acts-shard*.h5' --layers 0,6 --json
"""

from __future__ import annotations

import argparse
import sys

from neuroheat.cli.options import (
    add_analysis_run_arguments,
    add_store_argument,
    analysis_options,
    apply_quiet,
    layers_of,
    store_source,
    warn_deprecated,
    write_json,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "top-words", help="top words of a neuron or of every neuron (NeuroX score)",
        description="Rank word types by NeuroX's score: the mean over a word's occurrences of "
                    "|a - mean| / std, divided by the best word's; keep scores above "
                    "--min-threshold, best first. One neuron: --layer L --neuron N; every "
                    "neuron: --all, or --layers SPEC for the neurons of some layers.")
    add_store_argument(p)
    p.add_argument("--layer", type=int, metavar="L",
                   help="model layer number of --neuron (0 = embeddings)")
    p.add_argument("--neuron", type=int, metavar="N", help="neuron index in the layer")
    p.add_argument("--all", action="store_true", help="every neuron (one pass per layer)")
    p.add_argument("--layers", default=None, metavar="SPEC",
                   help='every neuron of these layers, e.g. "0,6", "1-4" or "all" (implies '
                        "--all)")
    p.add_argument("-k", type=int, default=10, metavar="K",
                   help="words per neuron (0 = every word above the threshold; default 10)")
    p.add_argument("--min-threshold", type=float, default=0.1, metavar="T",
                   help="keep words scoring above T (0..1, default 0.1)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true",
                     help='print [{"layer": L, "neuron": N, "words": [[word, score], ...]}]')
    fmt.add_argument("--csv", action="store_true", help="print layer,neuron,rank,word,score")
    add_analysis_run_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from neuroheat.analysis import top_words, top_words_all
    from neuroheat.analysis.tables import TopWordsTable
    from neuroheat.errors import InputError

    apply_quiet(args)
    options = analysis_options(args)
    if args.k < 0:
        raise InputError(f"-k must be >= 0 (0 = every word above the threshold), got {args.k}")
    k = args.k or None
    source = store_source(args)
    every = args.all or args.layers is not None
    if every:
        if args.neuron is not None:
            raise InputError("--all / --layers rank every neuron; drop --neuron (or rank one "
                             "neuron with --layer L --neuron N)")
        layers = layers_of(args)
        if args.layer is not None:
            if args.layers is not None:
                raise InputError("give the layers once: --layers SPEC")
            warn_deprecated("--all --layer L", "--layers L")
            layers = [args.layer]
        table = top_words_all(source, k=k, layers=layers, min_threshold=args.min_threshold,
                              options=options)
    else:
        if args.layer is None or args.neuron is None:
            raise InputError("give --layer L --neuron N for one neuron, or --all for every "
                             "neuron")
        words = top_words(source, args.layer, args.neuron, k=k,
                          min_threshold=args.min_threshold, options=options)
        table = TopWordsTable.single(args.layer, args.neuron, words, k, args.min_threshold)
    if args.json:
        write_json(table.to_records())
    elif args.csv:
        sys.stdout.write(table.to_csv() or "")
    else:
        for row in table:
            words = ", ".join(f"{w} ({s:.3f})" for w, s in row.words) or "(no word: constant)"
            sys.stdout.write(f"layer {row.layer} neuron {row.neuron}: {words}\n")
    return 0
