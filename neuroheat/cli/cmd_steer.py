"""``neuroheat steer MODEL --prompt TEXT -o STEER.json --site SITE (--vector V | --clamp
UNIT=VALUE)``: generate with a site pushed along a vector, next to the default continuation.

``V`` is a ``.npy`` file of the site's width, ``mlp.L:N`` (that neuron's output direction) or
``sae:DIR:LATENT`` (that latent's decoder row). ``-o`` with ``.html`` / ``.svg`` draws the two
continuations with the per-step KL instead of writing the JSON.

Example:
    $ neuroheat steer path/to/gpt2 --prompt "The cat" --site resid.2 --vector mlp.2:5 \\
        --alpha 8 -o steer.json
    $ neuroheat steer path/to/gpt2 --prompt "The cat" --site mlp.2 --clamp mlp.2:17=5 -o s.svg
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from neuroheat.cli.config_args import add_config_arguments, config_from_args
from neuroheat.cli.options import add_overwrite_argument, check_output_file

SUFFIXES = (".json", ".html", ".svg")


def register(subparsers: Any) -> None:
    from neuroheat.intervene.patch_config import SteerConfig

    p = subparsers.add_parser(
        "steer", help="generate with a steering vector (or a clamped unit) at a site",
        description="Generate the default and the steered continuation of a prompt (add a "
                    "vector, project it out, or clamp a unit at every steered position, "
                    "under the KV cache) and the KL between them at each step.",
    )
    p.add_argument("model", help="Hub id (from the local cache) or causal-LM directory")
    p.add_argument("--prompt", required=True, help="the prompt text")
    p.add_argument("-o", "--output", required=True, type=Path,
                   help="output file: .json (STEER.json), .html or .svg (a figure)")
    add_config_arguments(p, SteerConfig)
    add_overwrite_argument(p, help="replace an existing output file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_output_file(args.output, SUFFIXES, args.overwrite)
    from neuroheat.intervene import SteerConfig, steer

    res = steer(args.model, args.prompt, config_from_args(SteerConfig, args))
    res.save(args.output)
    kl = [k for k in res.kl if k is not None]
    print(f"wrote {args.output}: {len(res.steered['token_ids'])} steered token(s) at "
          f"{res.site} ({res.method}), mean KL {sum(kl) / max(len(kl), 1):.4g}")
    return 0
