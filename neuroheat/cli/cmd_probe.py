"""``neuroheat probe STORE LABELS -o RESULT.json``: train a linear probe on stored activations.

Prints one summary line. RESULT.json is the probe (``Probe.load`` reads it) plus
``ranking`` (column indices, most important first, by ``neuron_ordering`` of the weights)
and, with ``--control-task``, ``control`` (``{"accuracy": {"train", "test"},
"selectivity": f}``). Keys: ``classes``, ``neurons`` (``[layer, index]`` per column),
``weights`` (classes × neurons), ``bias``, ``accuracy`` (``{"train", "test"}``), ``f1``,
``per_class``, ``correlation`` (regression), ``ranking``, ``settings``, ``split``.

Example:
    $ neuroheat probe acts.h5 train.conllu -o pos.json --layers 3 --test-fraction 0.2
    probe: layer 3, 384 neurons, 17 classes: train accuracy 0.953, test 0.941 -> pos.json
    $ neuroheat probe acts.h5 tags.txt -o tags.json --test-sentences 0:100 --control-task
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from neuroheat.cli.options import add_layers_argument, add_overwrite_argument, layers_of
from neuroheat.errors import InputError, OutputExistsError


def parse_range(text: str) -> tuple[int, int]:
    """``"A:B"`` → ``(A, B)`` (InputError otherwise)."""
    parts = text.split(":")
    try:
        if len(parts) != 2:
            raise ValueError
        return int(parts[0]), int(parts[1])
    except ValueError:
        raise InputError(f"--test-sentences takes START:STOP (e.g. 0:100), got {text!r}"
                         ) from None


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """STORE LABELS, ``-o``, ``--layers``, the split, the labels' format and column."""
    parser.add_argument("store", metavar="STORE", help="activation store (.h5)")
    parser.add_argument("labels", metavar="LABELS",
                        help="labels: NeuroX format (one line per sentence, one label per "
                             "word) or CoNLL-U")
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="OUT.json",
                        help="result file (JSON)")
    add_layers_argument(parser, help='layers whose neurons are the columns, e.g. "3" or '
                                     '"0,6" (default all)')
    split = parser.add_mutually_exclusive_group()
    split.add_argument("--test-sentences", metavar="A:B",
                       help="hold out sentences A..B-1 as the test split")
    split.add_argument("--test-fraction", type=float, metavar="F",
                       help="hold out a seeded random fraction F of the sentences")
    parser.add_argument("--labels-format", default="auto", choices=("auto", "neurox", "conllu"),
                        help="format of LABELS (default auto)")
    parser.add_argument("--column", default="upos", choices=("upos", "xpos", "feats", "deprel"),
                        help="CoNLL-U column (default upos)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split, balancing, "
                                                            "probe and control task (default 0)")
    add_overwrite_argument(parser, help="replace an existing output")


def add_probe_arguments(parser: argparse.ArgumentParser) -> None:
    """``--task``, ``--l1``, ``--l2``, ``--epochs``, ``--recipe``, ``--balance``,
    ``--standardize``."""
    parser.add_argument("--task", default="classification",
                        choices=("classification", "regression"), help="default classification")
    parser.add_argument("--l1", type=float, default=1e-5, help="L1 penalty (default 1e-5)")
    parser.add_argument("--l2", type=float, default=1e-5,
                        help="penalty on the Frobenius norm of W (default 1e-5)")
    parser.add_argument("--epochs", type=int, default=10,
                        help="epochs of the neurox recipe (default 10)")
    parser.add_argument("--recipe", default="default", choices=("default", "neurox"),
                        help="default: full-batch L-BFGS; neurox: NeuroX's Adam recipe")
    parser.add_argument("--balance", action="store_true",
                        help="undersample the training rows of every class to the rarest")
    parser.add_argument("--standardize", action="store_true",
                        help="centre and scale every column by the training split")


def check_output(args: argparse.Namespace) -> None:
    if args.output.exists() and not args.overwrite:
        raise OutputExistsError(f"{args.output} exists; pass --overwrite to replace it")


def split_of(args: argparse.Namespace) -> dict[str, Any]:
    """``test_sentences`` (parsed ``A:B``) and ``test_fraction`` of ``args``."""
    sentences = None if args.test_sentences is None else parse_range(args.test_sentences)
    return {"test_sentences": sentences, "test_fraction": args.test_fraction}


def probe_settings(args: argparse.Namespace) -> dict[str, Any]:
    return {"task": args.task, "recipe": args.recipe, "l1": args.l1, "l2": args.l2,
            "epochs": args.epochs}


def load_labels(args: argparse.Namespace, store: Any) -> Any:
    from neuroheat.probing.labels import read_labels

    return read_labels(args.labels, format=args.labels_format, column=args.column, store=store)


def write_result(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc), encoding="utf-8")


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


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def run(args: argparse.Namespace) -> int:
    from neuroheat import open_store
    from neuroheat.probing.probe import Probe
    from neuroheat.probing.rankings import neuron_ordering

    check_output(args)
    split_of(args)  # a bad A:B fails before the store is opened
    if args.control_task and args.task != "classification":
        raise InputError("--control-task needs --task classification")
    with open_store(args.store) as store:
        labels = load_labels(args, store)
        split = split_of(args)
        data_kw = dict(layers=layers_of(args), balance=args.balance,
                       standardize=args.standardize, **split)
        probe = Probe(seed=args.seed, **probe_settings(args)).fit(store, labels, **data_kw)
        doc = probe.to_dict()
        doc["ranking"] = [int(c) for c in neuron_ordering(probe)]
        doc["split"] = {"test_sentences": None if split["test_sentences"] is None
                        else list(split["test_sentences"]),
                        "test_fraction": args.test_fraction, "seed": args.seed}
        control = None
        if args.control_task:
            from neuroheat.probing.control import control_task

            control = control_task(store, labels, task_accuracy=probe.accuracy,
                                   seed=args.seed, **data_kw, **probe_settings(args))
            doc["control"] = {"accuracy": control["accuracy"],
                              "selectivity": control["selectivity"]}
    write_result(args.output, doc)
    layers = sorted({lay for lay, _ in probe.neurons})
    where = f"layer{'s' if len(layers) > 1 else ''} {','.join(map(str, layers))}"
    if args.task == "classification":
        score = (f"train accuracy {_fmt(probe.accuracy.get('train'))}, "
                 f"test {_fmt(probe.accuracy.get('test'))}")
        if control is not None:
            score += (f", control test {_fmt(control['accuracy'].get('test'))}, "
                      f"selectivity {control['selectivity']:.3f}")
        what = f"{len(probe.classes)} classes"
    else:
        score = (f"train pearson {_fmt(probe.correlation['train'].get('pearson'))}, "
                 f"test {_fmt(probe.correlation['test'].get('pearson'))}")
        what = "regression"
    print(f"probe: {where}, {len(probe.neurons)} neurons, {what}: {score} -> {args.output}")
    return 0
