"""``neuroheat convert NEUROX_FILE OUTPUT``: import a NeuroX activations file into a store."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "convert", help="import a NeuroX .hdf5 or .json activations file",
        description="Convert a NeuroX activations file (HDF5: one dataset per sentence plus "
        "sentence_to_index; or JSON lines) into a neuroheat store.")
    p.add_argument("source", metavar="NEUROX_FILE", help="NeuroX .hdf5 or .json file")
    p.add_argument("output", help="store to write (.h5)")
    p.add_argument("--layers", default=None,
                   help='model layer numbers of the file\'s layers, e.g. "1-12" for a file '
                   "extracted with --ignore_embeddings (default 0..n-1)")
    p.add_argument("--dtype", default=None, choices=["float16", "float32"],
                   help="storage dtype (default: the file's)")
    p.add_argument("--model", default=None, help="model name to record in the store")
    p.add_argument("--overwrite", action="store_true", help="replace an existing OUTPUT")
    p.set_defaults(func=run)


def parse_layer_list(text: str | None) -> list[int] | None:
    """``"0,3,6"`` or ``"1-12"`` (or a mix) as a list of ints; None stays None."""
    if text is None:
        return None
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part[1:]:
            cut = part.index("-", 1)
            out.extend(range(int(part[:cut]), int(part[cut + 1:]) + 1))
        elif part:
            out.append(int(part))
    return out


def run(args: argparse.Namespace) -> int:
    from neuroheat.store.neurox import import_neurox

    try:
        layers = parse_layer_list(args.layers)
    except ValueError:
        raise ValueError(f"--layers {args.layers!r} is not a list like 0,3,6 or 1-12") from None
    path = import_neurox(args.source, args.output, layers=layers, dtype=args.dtype,
                         model=args.model, overwrite=args.overwrite)
    print(path)
    return 0
