"""``neuroheat convert NEUROX_FILE OUTPUT``: import a NeuroX activations file into a store.

Example:
    $ neuroheat convert activations.hdf5 acts.h5 --layers 1-12 --model bert-base-cased
"""

from __future__ import annotations

import argparse
import sys

from neuroheat.cli.options import add_overwrite_argument, layers_of


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "convert", help="import a NeuroX .hdf5 or .json activations file",
        description="Convert a NeuroX activations file (HDF5: one dataset per sentence plus "
        "sentence_to_index; or JSON lines) into a neuroheat store.")
    p.add_argument("source", metavar="NEUROX_FILE", help="NeuroX .hdf5 or .json file")
    p.add_argument("output", help="store to write (.h5)")
    p.add_argument("--layers", default=None, metavar="SPEC",
                   help='model layer numbers of the file\'s layers, e.g. "1-12" for a file '
                   "extracted with --ignore_embeddings (default 0..n-1)")
    p.add_argument("--dtype", default=None, choices=["float16", "float32"],
                   help="storage dtype (default: the file's)")
    p.add_argument("--model", default=None, help="model name to record in the store")
    add_overwrite_argument(p, help="replace an existing OUTPUT")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from neuroheat.store.interop.neurox import import_neurox

    path = import_neurox(args.source, args.output, layers=layers_of(args), dtype=args.dtype,
                         model=args.model, overwrite=args.overwrite)
    sys.stdout.write(f"{path}\n")
    return 0
