"""``neuroheat ablate MODEL CORPUS -o EFFECTS.json --units U``: what removing a unit does to the
model's next-token predictions over a corpus.

Units are ``SITE:INDEX`` (``mlp.3:17``, ``mlp.3:0-63``, ``mlp.3:all``, ``sae.resid.3:1234`` with
``--sae DIR``). With ``--shard I/N`` the units are split across processes and each writes
``EFFECTS.I-of-N.json``; ``neuroheat report --effects 'EFFECTS.*.json'`` and
``nh.intervene.load`` read them as one.

Example:
    $ neuroheat ablate path/to/gpt2 corpus.txt -o effects.json --units mlp.10:0-63 --method mean
    $ neuroheat ablate path/to/gpt2 corpus.txt -o splice.json --sae saes/resid6 --splice
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from neuroheat.cli.config_args import add_config_arguments, config_from_args
from neuroheat.cli.options import add_overwrite_argument, apply_quiet
from neuroheat.errors import InputError, OutputExistsError


def register(subparsers: Any) -> None:
    from neuroheat.intervene.config import AblateConfig

    p = subparsers.add_parser(
        "ablate", help="ablation effects of neurons / SAE latents over a corpus",
        description="Ablate each unit on its own (or --jointly) and report the change of "
                    "cross-entropy, KL and entropy of the next-token predictions, and the "
                    "tokens promoted / suppressed; with --sae DIR --splice, SAELens' fidelity "
                    "metrics of the SAE's reconstruction.",
    )
    p.add_argument("model", help="Hub id (from the local cache) or causal-LM directory")
    p.add_argument("corpus", help="text file, one sequence per line")
    p.add_argument("-o", "--output", required=True, type=Path, help="EFFECTS.json to write")
    p.add_argument("--units", action="append", default=[], metavar="U",
                   help="SITE:INDEX, SITE:5,17, SITE:0-63 or SITE:all (mlp.3:17, "
                        "sae.resid.3:1234); repeatable")
    add_config_arguments(p, AblateConfig)
    add_overwrite_argument(p, help="replace an existing output file")
    p.set_defaults(func=run)


def output_path(path: Path, shard: Any) -> Path:
    """``EFFECTS.json``, or ``EFFECTS.I-of-N.json`` for shard I of N (N > 1)."""
    if shard is None:
        return path
    from neuroheat.extract.shard import parse_shard

    index, count = parse_shard(shard)
    return path if count == 1 else path.with_name(f"{path.stem}.{index}-of-{count}{path.suffix}")


def run(args: argparse.Namespace) -> int:
    if args.output.suffix.lower() != ".json":
        raise InputError(f"cannot write {args.output.name!r}: effects are written as .json")
    from neuroheat.intervene import AblateConfig, ablate

    apply_quiet(args)
    cfg = config_from_args(AblateConfig, args)
    out = output_path(args.output, cfg.shard)
    if out.exists() and not args.overwrite:
        raise OutputExistsError(f"{out} exists; pass --overwrite to replace it")
    res = ablate(args.model, args.corpus, args.units, cfg)
    res.save(out)
    print(f"wrote {out}: {len(res.results)} result(s), {cfg.method} ablation over "
          f"{res.tokens} predicted tokens")
    return 0
