"""``neuroheat export --format neurox STORE... OUTPUT``: write a store in another tool's layout.

Example:
    $ neuroheat export --format neurox acts.h5 for_neurox.hdf5 --layers 0,6
    $ neuroheat export --format neurox 'acts-shard*.h5' for_neurox.json
"""

from __future__ import annotations

import argparse
import sys

from neuroheat.cli.options import add_overwrite_argument, layers_of, store_source


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export", help="export a store to NeuroX's layout",
        description="Write a store (or shards: several files, or a quoted glob) in NeuroX's "
        "HDF5 layout (one dataset per sentence [layers, tokens, width] plus "
        "sentence_to_index), readable by neurox.data.loader.load_activations; OUTPUT ending in "
        ".json gives NeuroX JSON lines.")
    p.add_argument("--format", required=True, choices=["neurox"], help="target layout")
    p.add_argument("store", nargs="+", metavar="STORE",
                   help="store file, several shard files, or a quoted glob ('acts-*.h5')")
    p.add_argument("output", help="output file: .hdf5 (NeuroX picks its reader by extension) "
                   "or .json")
    p.add_argument("--layers", default=None, metavar="SPEC",
                   help='layers to write, e.g. "0,6", "1-4" or "all" (default all)')
    p.add_argument("--dtype", default="float32", choices=["float32", "float16"],
                   help="dtype of the HDF5 datasets (default float32, as NeuroX)")
    add_overwrite_argument(p, help="replace an existing OUTPUT")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from neuroheat.store.interop.neurox import export_neurox

    path = export_neurox(store_source(args), args.output, layers=layers_of(args),
                         dtype=args.dtype, overwrite=args.overwrite)
    sys.stdout.write(f"{path}\n")
    return 0
