"""``neuroheat info STORE [--json]``: what a store holds."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="summarize a store", description="Print what a store holds.")
    p.add_argument("store", help="store file (.h5)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from neuroheat.store.summary import format_summary, summarize

    info = summarize(args.store)
    print(json.dumps(info, indent=2) if args.json else format_summary(info))
    return 0 if info["complete"] else 1
