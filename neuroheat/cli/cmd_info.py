"""``neuroheat info STORE... [--json]``: what one or several stores hold.

Example:
    $ neuroheat info acts.h5
    $ neuroheat info 'acts-shard*of8.h5' --json
"""

from __future__ import annotations

import argparse
import json
import sys

from neuroheat.cli.options import add_store_argument


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "info", help="summarize stores",
        description="Print what each store holds (one block per file; exit status 1 when one "
        "is incomplete).")
    add_store_argument(p)
    p.add_argument("--json", action="store_true",
                   help="print JSON: an object for one file, a list of objects for several")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from neuroheat.store.summary import format_summary, summarize_all

    infos = summarize_all(args.store)
    if args.json:
        data = infos[0] if len(infos) == 1 else infos
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        sys.stdout.write("\n\n".join(format_summary(info) for info in infos) + "\n")
    return 0 if all(info["complete"] for info in infos) else 1
