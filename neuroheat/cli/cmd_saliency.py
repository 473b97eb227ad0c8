"""``neuroheat saliency MODEL TEXT -o OUT.json``: which tokens drove each prediction.

The output format follows the suffix of ``-o``: ``.json`` is the :class:`Saliency` file
(``Saliency.load``). Rendered views register a writer in ``WRITERS`` (suffix -> function
``(saliency, path, args) -> None``); other suffixes fail with the list of supported ones.

Example:
    $ neuroheat saliency path/to/bert-mlm "The cat sat on the mat ." -o cat.json
    $ neuroheat saliency gpt2-dir "Once upon a time" --generate 10 -o story.json
    $ neuroheat saliency classifier-dir "great film" --target class:1 --method ig -o s.json
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from neuroheat.cli.config_args import add_config_arguments, config_from_args
from neuroheat.cli.options import add_overwrite_argument, check_output_file
from neuroheat.errors import InputError
from neuroheat.viz.saliency.registry import SUFFIXES, VIEWS


def _write_json(sal: Any, path: Path, _args: argparse.Namespace) -> None:
    sal.save(path)


def _write_view(sal: Any, path: Path, args: argparse.Namespace) -> None:
    from neuroheat.viz.saliency.registry import write_view

    write_view(sal, path, view=getattr(args, "view", "focus"))


# Suffix -> writer. The views (SVG/HTML) add theirs here.
WRITERS: dict[str, Callable[[Any, Path, argparse.Namespace], None]] = {
    ".json": _write_json,
    **{suffix: _write_view for suffix in SUFFIXES},
}


def register(subparsers: Any) -> None:
    from neuroheat.attribution.config import SaliencyConfig

    p = subparsers.add_parser(
        "saliency", help="saliency of every target of a text (one batched pass)",
        description="Which input tokens drove each prediction: masked-LM, next-token, generated, "
                    "class or neuron targets, all in one batched forward and backward pass.",
    )
    p.add_argument("model", help="Hub id (from the local cache) or model directory")
    p.add_argument("text", help="the input text")
    p.add_argument("-o", "--output", required=True, type=Path,
                   help="output file; the suffix picks the format: .json (the result), .html "
                        "(interactive page), .svg/.png/.pdf (static --view)")
    p.add_argument("--view", default="focus", choices=VIEWS,
                   help="static view for .svg/.png/.pdf: focus (textualheatmap look), minimap, "
                        "tall or dense (default: focus)")
    p.add_argument("--target", default="auto",
                   help="auto | mlm | causal | classifier | class:K (index or label) | "
                        "neuron:LAYER,NEURON[,POSITION] (layer 0 = embeddings; LAYER may be a "
                        "site such as mlp.3)")
    add_config_arguments(p, SaliencyConfig)
    add_overwrite_argument(p, help="replace an existing output file")
    p.set_defaults(func=run)


def parse_target(text: str) -> Any:
    """The ``--target`` value as the Python API takes it."""
    value = text.strip()
    lower = value.lower()
    if lower in ("auto", "mlm", "causal", "classifier"):
        return lower
    if lower.lstrip("-").isdigit():
        return int(lower)
    if lower.startswith("class:"):
        cls = value.split(":", 1)[1].strip()
        return int(cls) if cls.lstrip("-").isdigit() else cls
    if lower.startswith("neuron:"):
        parts = [p.strip() for p in value.split(":", 1)[1].split(",")]
        layer_ok = parts and (parts[0].lstrip("-").isdigit() or "." in parts[0])
        if len(parts) not in (2, 3) or not layer_ok or \
                not all(p.lstrip("-").isdigit() for p in parts[1:]):
            raise InputError(f"--target {text!r}: write neuron:LAYER,NEURON or "
                             "neuron:LAYER,NEURON,POSITION with integers (LAYER may be a site "
                             "such as mlp.3)")
        layer = int(parts[0]) if parts[0].lstrip("-").isdigit() else parts[0]
        return (layer, *(int(p) for p in parts[1:]))
    raise InputError(f"--target {text!r} is not understood; use auto, mlm, causal, classifier, "
                     "class:K or neuron:LAYER,NEURON[,POSITION]")


def run(args: argparse.Namespace) -> int:
    suffix = check_output_file(args.output, WRITERS, args.overwrite)
    target = parse_target(args.target)
    from neuroheat.attribution import saliency
    from neuroheat.attribution.config import SaliencyConfig

    sal = saliency(args.model, args.text, target=target,
                   config=config_from_args(SaliencyConfig, args))
    WRITERS[suffix](sal, args.output, args)
    print(f"wrote {args.output}: {sal.method}, {sal.n_targets} {sal.target} targets x "
          f"{sal.n_tokens} tokens")
    return 0
