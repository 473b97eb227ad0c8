"""``neuroheat merge OUTPUT SHARD... [--virtual]``: join shard stores into one store.

Example:
    $ neuroheat merge acts.h5 'acts-shard*of8.h5'
    $ neuroheat merge acts.h5 acts-shard0of2.h5 acts-shard1of2.h5 --virtual --json
"""

from __future__ import annotations

import argparse
import sys

from neuroheat.cli.options import (
    add_overwrite_argument,
    add_quiet_argument,
    apply_quiet,
    expand_stores,
    write_json_value,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "merge", help="merge shard stores into one store",
        description="Merge the shards of a `neuroheat extract --shard` run into one store equal "
        "to a single-process run (activations, words, offsets; statistics merged with Chan's "
        "formula). Shards may be given in any order, or as a quoted glob.")
    p.add_argument("output", help="merged store to write (.h5)")
    p.add_argument("shards", nargs="+", metavar="SHARD", help="shard stores, or a quoted glob "
                   "such as 'acts-shard*of8.h5'")
    p.add_argument("--virtual", action="store_true",
                   help="do not copy activations: map the shards with HDF5 virtual datasets "
                   "(instant; keep the shards next to OUTPUT)")
    add_overwrite_argument(p, help="replace an existing OUTPUT")
    p.add_argument("--json", action="store_true",
                   help='print {"output", "shards", "virtual", "sentences", "words"}')
    add_quiet_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from neuroheat.store import open_store
    from neuroheat.store.merge import merge_stores

    apply_quiet(args)
    path = merge_stores(args.output, args.shards, virtual=args.virtual, overwrite=args.overwrite)
    if args.json:
        with open_store(path) as merged:
            write_json_value({"output": str(path), "shards": expand_stores(args.shards),
                              "virtual": bool(args.virtual),
                              "sentences": merged.num_sentences, "words": merged.num_words})
    else:
        sys.stdout.write(f"{path}\n")
    return 0
