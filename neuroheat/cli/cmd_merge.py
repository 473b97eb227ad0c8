"""``neuroheat merge OUTPUT SHARD... [--virtual]``: join shard stores into one store."""

from __future__ import annotations

import argparse


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
    p.add_argument("--overwrite", action="store_true", help="replace an existing OUTPUT")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from neuroheat.store.merge import merge_stores

    path = merge_stores(args.output, args.shards, virtual=args.virtual, overwrite=args.overwrite)
    print(path)
    return 0
