"""Arguments shared by the analysis commands (top-words, top-neurons, contexts, stats)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_store_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", nargs="+", metavar="STORE",
                        help="store file, several shard files, or a quoted glob ('acts-*.h5')")


def add_run_arguments(parser: argparse.ArgumentParser, *, threads: bool = False) -> None:
    parser.add_argument("--chunk-mb", type=float, default=64, metavar="M",
                        help="MiB of activations read at once (bounds memory; default 64)")
    if threads:
        parser.add_argument("--threads", type=int, default=None, metavar="T",
                            help="threads of this process (default: one per CPU, at most 4)")
    parser.add_argument("--workers", type=int, default=1, metavar="W",
                        help="local worker processes over shards/layers (0 = one per CPU; "
                             "default 1)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="run on a Dask cluster (e.g. tcp://host:8786; needs "
                             "neuroheat[cluster] and store files visible to the workers)")


def store_source(args: argparse.Namespace) -> Any:
    """One path, or the list of shard paths."""
    return args.store[0] if len(args.store) == 1 else list(args.store)


def run_options(args: argparse.Namespace, *, threads: bool = False) -> dict[str, Any]:
    opts = {"chunk_mb": args.chunk_mb, "workers": args.workers, "scheduler": args.scheduler}
    if threads:
        opts["threads"] = args.threads
    return opts


def check_chunk_mb(value: float) -> None:
    from neuroheat.errors import InputError

    if not value > 0:
        raise InputError(f"--chunk-mb must be a positive number of MiB, got {value}")


def write_json(data: list[Any]) -> None:
    """A JSON list, one item per line."""
    items = [json.dumps(item, ensure_ascii=False) for item in data]
    sys.stdout.write("[\n" + ",\n".join(items) + "\n]\n" if items else "[]\n")
