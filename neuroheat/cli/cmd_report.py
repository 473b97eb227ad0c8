"""``neuroheat report``: a static, offline dashboard of every neuron of a store.

Example:
    $ neuroheat report acts.h5 -o site/ --layers 3-6 --top-contexts 10 --window 8
    $ neuroheat report acts.h5 -o site/ --probe probe.json --model path/to/gpt2
    $ neuroheat report acts.h5 -o site/ --explanations EXPLAIN.json
"""

from __future__ import annotations

import argparse
import logging

from neuroheat.cli.options import (
    add_analysis_run_arguments,
    add_overwrite_argument,
    add_store_argument,
    analysis_options,
    apply_quiet,
    store_source,
)

log = logging.getLogger("neuroheat")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "report", help="a static offline dashboard site of every neuron",
        description="Write SITE/index.html (every neuron: sort, filter, search a word) and "
                    "SITE/neuron.html#L{layer}N{neuron} (statistics, histogram, top words, "
                    "top and bottom contexts, quantile samples, probe weights, output tokens). "
                    "The folder works from file:// with no network and no server.")
    add_store_argument(p)
    p.add_argument("-o", "--output", required=True, metavar="SITE", help="output folder")
    p.add_argument("--layers", default=None, metavar="SPEC",
                   help='layers, e.g. "0,6", "1-4" or "all" (default all)')
    p.add_argument("--top-contexts", type=int, default=10, metavar="K",
                   help="top and bottom contexts per neuron (default 10)")
    p.add_argument("--window", type=int, default=8, metavar="W",
                   help="words shown on each side of a context's peak (default 8)")
    p.add_argument("--probe", default=None, metavar="RESULT.json",
                   help="a probe saved by `neuroheat probe -o`: its weights per class")
    p.add_argument("--model", default=None, metavar="MODEL",
                   help="the store's model with a causal-LM or masked-LM head: output "
                        "tokens each neuron promotes and suppresses")
    p.add_argument("--explanations", default=None, metavar="EXPLAIN.json",
                   help="explanations written by `neuroheat explain`: each neuron's "
                        "explanation and scores on its page, searchable from the index")
    p.add_argument("--quantiles", default="value", choices=("value", "rank", "count"),
                   help="quantile bands: equal-width values (default), OpenAI's rank bands, "
                        "equal-count bands")
    p.add_argument("--samples", type=int, default=2, metavar="S",
                   help="contexts sampled per quantile band (0 = none; default 2)")
    p.add_argument("--effects", nargs="+", default=None, metavar="EFFECTS.json",
                   help="effects of `neuroheat ablate` (several files or a quoted glob): "
                        "each ablated neuron's page shows delta_ce, kl and the tokens it "
                        "promotes / suppresses")
    add_overwrite_argument(p, help="replace the site in an existing SITE folder")
    add_analysis_run_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from neuroheat.errors import InputError
    from neuroheat.report.build import build_site

    apply_quiet(args)
    if args.top_contexts < 1:
        raise InputError(f"--top-contexts must be >= 1, got {args.top_contexts}")
    if args.window < 0:
        raise InputError(f"--window must be >= 0, got {args.window}")
    probe = None
    if args.probe is not None:
        from neuroheat.probing.probe import Probe

        probe = Probe.load(args.probe)
    index = build_site(store_source(args), args.output, layers=args.layers,
                       k=args.top_contexts, window=args.window, probe=probe, model=args.model,
                       explanations=args.explanations,
                       quantiles=args.quantiles, samples=args.samples,
                       effects=args.effects, overwrite=args.overwrite, options=analysis_options(args))
    log.info("open %s in a browser (works offline, from file://)", index)
    return 0
