"""``neuroheat probe STORE LABELS -o RESULT.json``: train a linear probe on stored activations.

Prints one summary line. RESULT.json is the probe (``Probe.load`` reads it) plus
``ranking`` (column indices, most important first, by ``neuron_ordering`` of the weights)
and, with ``--control-task``, ``control`` (``{"accuracy": {"train", "test"},
"selectivity": f}``). Keys: ``classes``, ``neurons`` (``[layer, index]`` per column),
``weights`` (classes × neurons), ``bias``, ``accuracy`` (``{"train", "test"}``), ``f1``,
``per_class``, ``correlation`` (regression), ``ranking``, ``settings``, ``split``, and
``selected`` (``{"l2", "iterations", ...}``: the penalty the default recipe chose on a
development split of the training sentences; null when ``--l1`` / ``--l2`` fix it).
The options are made from :class:`~neuroheat.probing.config.ProbeConfig` and
:class:`~neuroheat.probing.config.Split`; RESULT.json is a
:class:`~neuroheat.probing.results.ProbeResult`.

Example:
    $ neuroheat probe acts.h5 train.conllu -o pos.json --layers 3 --test-fraction 0.2
    probe: layer 3, 384 neurons, 17 classes: train accuracy 0.953, test 0.941 -> pos.json
    $ neuroheat probe acts.h5 tags.txt -o tags.json --test-sentences 0:100 --control-task
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from neuroheat.cli.config_args import add_config_arguments, config_from_args
from neuroheat.cli.options import add_layers_argument, add_overwrite_argument, layers_of
from neuroheat.errors import InputError, OutputExistsError


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """STORE LABELS, ``-o``, ``--layers``, the labels' format and column, and the split's
    options (made from :class:`~neuroheat.probing.config.Split`'s fields)."""
    from neuroheat.probing.config import Split

    parser.add_argument("store", metavar="STORE", help="activation store (.h5)")
    parser.add_argument("labels", metavar="LABELS",
                        help="labels: NeuroX format (one line per sentence, one label per "
                             "word) or CoNLL-U")
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="OUT.json",
                        help="result file (JSON)")
    add_layers_argument(parser, help='layers whose neurons are the columns, e.g. "3" or '
                                     '"0,6" (default all)')
    add_config_arguments(parser, Split)
    parser.add_argument("--labels-format", default="auto", choices=("auto", "neurox", "conllu"),
                        help="format of LABELS (default auto)")
    parser.add_argument("--column", default="upos", choices=("upos", "xpos", "feats", "deprel"),
                        help="CoNLL-U column (default upos)")
    add_overwrite_argument(parser, help="replace an existing output")


def add_probe_arguments(parser: argparse.ArgumentParser) -> None:
    """The probe's options, made from :class:`~neuroheat.probing.config.ProbeConfig`'s
    fields (``--task``, ``--recipe``, ``--l1``, ``--l2``, ``--epochs``, ``--seed``,
    ``--balance``, ``--standardize``, ...)."""
    from neuroheat.probing.config import ProbeConfig

    add_config_arguments(parser, ProbeConfig)


def check_output(args: argparse.Namespace) -> None:
    if args.output.exists() and not args.overwrite:
        raise OutputExistsError(f"{args.output} exists; pass --overwrite to replace it")


def settings_of(args: argparse.Namespace, **split_overrides: Any) -> tuple[Any, Any]:
    """The :class:`ProbeConfig` and :class:`Split` of ``args`` (a bad value fails here,
    before any store is opened)."""
    from neuroheat.probing.config import ProbeConfig, Split

    return (config_from_args(ProbeConfig, args),
            config_from_args(Split, args, **split_overrides))


def load_labels(args: argparse.Namespace, store: Any) -> Any:
    from neuroheat.probing.labels import read_labels

    return read_labels(args.labels, format=args.labels_format, column=args.column, store=store)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "probe", help="train a linear probe from neuron activations to word labels",
        description="Train a logistic (or linear) probe from the activations of STORE to the "
                    "word labels of LABELS, write the probe, its scores and its neuron "
                    "ranking to OUT.json and print one summary line.")
    add_data_arguments(p)
    add_probe_arguments(p)
    p.add_argument("--control-task", action="store_true",
                   help="also train on a control task (Hewitt & Liang 2019) and report "
                        "selectivity = task - control accuracy")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from neuroheat import open_store
    from neuroheat.probing.control import control_task
    from neuroheat.probing.probe import Probe
    from neuroheat.probing.results import ProbeResult

    check_output(args)
    config, split = settings_of(args)
    if args.control_task and config.task != "classification":
        raise InputError("--control-task needs --task classification")
    layers = layers_of(args)
    with open_store(args.store) as store:
        labels = load_labels(args, store)
        probe = Probe(config).fit(store, labels, layers=layers, split=split)
        control = None
        if args.control_task:
            control = control_task(store, labels, task_accuracy=probe.accuracy,
                                   layers=layers, config=config, split=split)
    result = ProbeResult(probe, split=split.to_json(config.seed), control=control)
    result.save(args.output)
    print(f"probe: {result.show()} -> {args.output}")
    return 0
