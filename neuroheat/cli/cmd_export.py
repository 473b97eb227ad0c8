"""``neuroheat export --format neurox STORE OUTPUT``: write a store in another tool's layout."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export", help="export a store to NeuroX's layout",
        description="Write a store (or shards, as a quoted glob) in NeuroX's HDF5 layout (one "
        "dataset per sentence [layers, tokens, width] plus sentence_to_index), readable by "
        "neurox.data.loader.load_activations; OUTPUT ending in .json gives NeuroX JSON lines.")
    p.add_argument("--format", required=True, choices=["neurox"], help="target layout")
    p.add_argument("store", help="store file, or a quoted glob of shards")
    p.add_argument("output", help="output file: .hdf5 (NeuroX picks its reader by extension) "
                   "or .json")
    p.add_argument("--layers", default=None, help='layers to write, e.g. "0,6" (default all)')
    p.add_argument("--dtype", default="float32", choices=["float32", "float16"],
                   help="dtype of the HDF5 datasets (default float32, as NeuroX)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing OUTPUT")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from neuroheat.cli.cmd_convert import parse_layer_list
    from neuroheat.store.neurox import export_neurox

    try:
        layers = parse_layer_list(args.layers)
    except ValueError:
        raise ValueError(f"--layers {args.layers!r} is not a list like 0,6 or 1-4") from None
    path = export_neurox(args.store, args.output, layers=layers, dtype=args.dtype,
                         overwrite=args.overwrite)
    print(path)
    return 0
