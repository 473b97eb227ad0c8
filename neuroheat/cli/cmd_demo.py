"""``neuroheat demo [OUTDIR]``: the whole pipeline offline on MiniLM and pydoc sentences."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the main job end to end offline (MiniLM, real text)")
    p.add_argument("outdir", nargs="?", default="demo_output", help="output folder")
    p.add_argument("--sentences", type=int, default=400, help="number of sentences (400)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from neuroheat.demo import run_demo

    result = run_demo(args.outdir, sentences=args.sentences, quiet=args.quiet)
    print(result["summary"])
    analysis = result.get("analysis")
    if isinstance(analysis, dict) and analysis.get("text"):
        print()
        print(analysis["text"])
    for key in ("figures", "views"):
        for path in result.get(key) or []:
            print(f"wrote {path}")
    probing = result.get("probing")
    if isinstance(probing, dict) and probing.get("text"):
        print()
        print(probing["text"])
    return 0
