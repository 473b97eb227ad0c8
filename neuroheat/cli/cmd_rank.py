"""``neuroheat rank STORE LABELS -o RANK.json --method M``: rank neurons, then ablate.

Ranks the neurons of ``--layers`` with one method of :mod:`neuroheat.probing.methods`
(``weights``, ``probeless``, ``gaussian``, ``iou``) on the training sentences, then retrains
(``--mode zero``: zeroes out) with the top / random / bottom ``--fractions`` of the ranking
and reports test accuracy (Dalvi et al. 2019). Prints one summary line. RANK.json keys:
``method``, ``ranking`` (``[layer, index]``, most important first), ``order`` (column
indices), ``scores`` (per column), ``neurons`` (``[layer, index]`` per column), ``ablation``
(``{"top": {"0.1": acc, ...}, "random": {...}, "bottom": {...}}``), ``sizes`` (neurons kept
per fraction), ``mode``, ``split``, ``metric``, ``format`` (RANK.json is an
:class:`~neuroheat.probing.ablations.AblationResult`: ``AblationResult.load`` reads it).
``--figure FIG.svg`` (or .png / .pdf) draws the table.
Without ``--test-sentences`` / ``--test-fraction`` a
seeded 20 % of the sentences is held out.

Example:
    $ neuroheat rank acts.h5 train.conllu -o rank.json --method probeless --layers 3 \
        --figure ablation.svg
    rank: probeless, 384 neurons; test accuracy top/random/bottom at 0.1: 0.81/0.55/0.31 -> rank.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

from neuroheat.cli.cmd_probe import (
    add_data_arguments,
    add_probe_arguments,
    check_output,
    load_labels,
    settings_of,
)
from neuroheat.cli.options import layers_of
from neuroheat.errors import InputError

METHOD_NAMES = ("weights", "probeless", "gaussian", "iou")
DEFAULT_TEST_FRACTION = 0.2


def parse_fractions(text: str) -> list[float]:
    """``"0.01,0.1,1"`` → ``[0.01, 0.1, 1.0]`` (InputError otherwise)."""
    from neuroheat.probing.ablations import check_fractions

    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(f"--fractions takes comma-separated numbers in (0, 1], got {text!r}"
                         ) from None
    return check_fractions(values)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "rank", help="rank neurons by a property and ablate (top / random / bottom k%%)",
        description="Rank the neurons of STORE for the labels of LABELS with --method, then "
                    "report the test accuracy of probes on the top / random / bottom "
                    "fractions of the ranking; write RANK.json and print one summary line.")
    add_data_arguments(p)
    p.add_argument("--method", required=True, choices=METHOD_NAMES,
                   help="weights (probe weights), probeless (class-mean differences), "
                        "gaussian (Gaussian probe, greedy), iou (mask overlap)")
    p.add_argument("--fractions", default="0.01,0.05,0.1,0.2,0.5,1",
                   help="fractions of the neurons to keep (default 0.01,0.05,0.1,0.2,0.5,1)")
    p.add_argument("--mode", default="retrain", choices=("retrain", "zero"),
                   help="retrain a probe per subset (default) or zero out the others")
    p.add_argument("--figure", type=Path, metavar="FIG.svg",
                   help="also draw the ablation table (.svg, .png or .pdf)")
    add_probe_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from neuroheat import open_store
    from neuroheat.probing.ablations import ablation
    from neuroheat.probing.methods import get_method, rank

    check_output(args)
    if args.figure is not None:
        if args.figure.suffix.lower() not in (".svg", ".png", ".pdf"):
            raise InputError(f"--figure {args.figure}: the name must end in .svg, .png or .pdf")
        if args.figure.exists() and not args.overwrite:
            raise InputError(f"{args.figure} exists; pass --overwrite to replace it")
    get_method(args.method)  # a missing module fails before any work
    fractions = parse_fractions(args.fractions)
    config, split = settings_of(args)
    if not split.has_test:
        config, split = settings_of(args, test_fraction=DEFAULT_TEST_FRACTION)
    layers = layers_of(args)
    with open_store(args.store) as store:
        labels = load_labels(args, store)
        ranking = rank(args.method, store, labels, layers, config=config, split=split)
        neurons = [tuple(int(v) for v in pair) for pair in ranking.neurons]
        result = ablation(store, labels, ranking, neurons=neurons, fractions=fractions,
                          mode=args.mode, config=config, split=split)
    result.save(args.output)
    if args.figure is not None:
        result.show().save(args.figure)
    table = result.to_dict()["ablation"]
    key = "0.1" if "0.1" in table["top"] else next(iter(table["top"]))
    accs = "/".join("n/a" if table[s][key] is None else f"{table[s][key]:.3f}"
                    for s in ("top", "random", "bottom"))
    print(f"rank: {args.method}, {len(neurons)} neurons; test accuracy top/random/bottom "
          f"at {key}: {accs} -> {args.output}")
    return 0
