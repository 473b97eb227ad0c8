"""``neuroheat render``: draw one neuron's activations on text as .svg, .png or .pdf.

From a store (no model needed)::

    neuroheat render acts.h5 --sentence 3 --layer 2 --neuron 17 -o n17.pdf
    neuroheat render acts.h5 --sentences 3,8,21 --layer 2 --neuron 17 -o n17.svg
    neuroheat render acts.h5 --card --layer 2 --neuron 17 -o card17.pdf

From a model, on any text (loads the model once)::

    neuroheat render all-MiniLM-L6-v2 --text "The cat sat" --layer 2 --neuron 17 -o n17.png

TARGET is read as a store when it is an HDF5 file, otherwise as a model id or directory.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from neuroheat.cli.options import add_device_argument, add_overwrite_argument, expand_stores
from neuroheat.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "render",
        help="draw a neuron's activations on text (.svg/.png/.pdf)",
        description=__doc__.split("\n\n", 1)[0],
        epilog="TARGET is a store when it is an HDF5 file, else a model id or directory.",
    )
    p.add_argument("target", metavar="TARGET", nargs="+",
                   help="store file (.h5), several shard files or a quoted glob, or a model "
                        "id/directory")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--sentence", type=int, help="sentence index in the store")
    src.add_argument("--sentences", help="comma-separated sentence indices (shared scale)")
    src.add_argument("--text", help="text to run through the model (split on spaces)")
    src.add_argument("--card", action="store_true",
                     help="neuron card from a store: top words and top contexts")
    p.add_argument("--layer", type=int, required=True, help="layer (0 = embeddings)")
    p.add_argument("--neuron", type=int, required=True, help="neuron index in the layer")
    p.add_argument("-o", "--output", required=True, help="output file: .svg, .png or .pdf")
    p.add_argument("--rtl", action="store_true", help="right-to-left paragraph direction")
    p.add_argument("--filter", choices=["top_tokens"],
                   help="keep only |a| > 0.8 max |a| (NeuroX's top_tokens)")
    p.add_argument("--char-limit", type=int, default=60, help="characters per line (60)")
    p.add_argument("--width", type=float, help="wrap lines wider than this many pixels")
    p.add_argument("--font-size", type=float, default=20, help="font size in pixels (20)")
    p.add_argument("--darken", type=int, default=2, help="stacked colour layers (2)")
    p.add_argument("--cmap", help="colour map (viridis, RdBu, ...; default NeuroX red/blue)")
    p.add_argument("--vmin", type=float, help="lower end of the colour scale")
    p.add_argument("--vmax", type=float, help="upper end of the colour scale")
    p.add_argument("--colorbar", action="store_true", help="draw a colour bar")
    p.add_argument("--title", help="title above the figure ('auto': layer and neuron)")
    p.add_argument("--text-mode", choices=["paths", "embed"], default="paths",
                   help="glyphs as paths (default) or text with an embedded font subset")
    p.add_argument("--scale", type=float, default=2.0, help="PNG pixels per SVG pixel (2)")
    p.add_argument("--k-words", type=int, default=10, help="top words on a card (10)")
    p.add_argument("--k-contexts", type=int, default=5, help="contexts on a card (5)")
    add_device_argument(p)
    add_overwrite_argument(p, help="overwrite the output file")
    p.set_defaults(func=run)


def _is_hdf5(path: Path) -> bool:
    if not path.is_file():
        return False
    with open(path, "rb") as f:
        head = f.read(8)
    return head == b"\x89HDF\r\n\x1a\n"


def _indices(args: argparse.Namespace) -> list[int]:
    if args.sentences is None:
        return [args.sentence]
    try:
        out = [int(s) for s in args.sentences.split(",") if s.strip()]
    except ValueError:
        raise InputError(
            f"--sentences must be comma-separated integers like 3,8,21, not {args.sentences!r}"
        ) from None
    if not out:
        raise InputError("--sentences needs at least one index, e.g. --sentences 3,8")
    return out


def _from_store(args: argparse.Namespace, path: Any):
    from neuroheat.store import open_store

    idx = _indices(args)
    with open_store(path) as store:
        n = store.num_sentences
        for i in idx:
            if not 0 <= i < n:
                raise InputError(f"sentence {i} does not exist: the store has sentences 0..{n - 1}")
        store.layer_index(args.layer)  # StoreError naming the valid layers
        if not 0 <= args.neuron < store.width:
            raise InputError(
                f"neuron {args.neuron} does not exist: layers have neurons "
                f"0..{store.width - 1}"
            )
        sentences = [store.words(i) for i in idx]
        acts = [store.sentence(i, layer=args.layer)[:, args.neuron] for i in idx]
        labels = [f"#{i}" for i in idx] if len(idx) > 1 else None
    return sentences, acts, labels


def _from_model(args: argparse.Namespace):
    from neuroheat.viz import TransformersVisualizer

    if args.text is None:
        raise InputError(
            f"{args.target} is not a store file, so it is read as a model: pass --text \"...\" "
            "(or give a store .h5 path to use --sentence)"
        )
    words = args.text.split()
    vis = TransformersVisualizer(args.target, device=args.device)
    acts = vis.activations(words, args.layer)
    if words and not 0 <= args.neuron < acts.shape[1]:
        raise InputError(
            f"neuron {args.neuron} does not exist: layer {args.layer} has neurons "
            f"0..{acts.shape[1] - 1}"
        )
    return [words], [acts[:, args.neuron] if words else acts[:, :0].ravel()], None


def _options(args: argparse.Namespace) -> dict:
    """The figure options the command line sets (those it leaves unset keep their defaults)."""
    title = args.title
    if title == "auto":
        title = f"layer {args.layer}, neuron {args.neuron}"
    options = dict(
        vmin=args.vmin, vmax=args.vmax, cmap=args.cmap, title=title, width=args.width,
        text_mode=args.text_mode,
    )
    return {k: v for k, v in options.items() if v is not None}


def _neurox(args: argparse.Namespace) -> dict:
    """NeuroX's arguments of :func:`~neuroheat.viz.visualize_activations` from the CLI."""
    return dict(
        darken=args.darken, text_direction="rtl" if args.rtl else "ltr",
        char_limit=args.char_limit if args.char_limit and args.char_limit > 0 else None,
        font_size=args.font_size,
    )


def _card(args: argparse.Namespace, target: Any, out: Path) -> int:
    from neuroheat.report.card import neuron_card
    from neuroheat.viz.export import save

    dwg = neuron_card(
        target, args.layer, args.neuron, k_words=args.k_words, k_contexts=args.k_contexts,
        **_neurox(args), **_options(args),
    )
    save(dwg, out, scale=args.scale)
    print(out)
    return 0


def run(args: argparse.Namespace) -> int:
    from neuroheat.viz.activations.figure import render_sentences
    from neuroheat.viz.activations.style import RenderStyle
    from neuroheat.viz.export import FORMATS, save

    out = Path(args.output)
    if out.suffix.lower() not in FORMATS:
        raise InputError(f"-o {out.name}: the output must end in {', '.join(FORMATS)}")
    if out.exists() and not args.overwrite:
        raise InputError(f"{out} exists; pass --overwrite to replace it (old spelling: --force)")
    targets = [Path(t) for t in expand_stores(args.target)]
    target = targets[0]
    is_store = all(_is_hdf5(t) for t in targets)
    source: Any = [str(t) for t in targets] if len(targets) > 1 else str(target)
    if len(targets) > 1 and not is_store:
        bad = next(t for t in targets if not _is_hdf5(t))
        raise InputError(f"{bad} is not an HDF5 store; several TARGETs must all be store shards")
    if args.card:
        if not is_store:
            raise InputError(f"--card needs a store file; {target} is not an HDF5 store")
        return _card(args, source, out)
    if is_store:
        if args.text is not None:
            raise InputError(f"{target} is a store: use --sentence/--sentences, not --text")
        sentences, acts, labels = _from_store(args, source)
    else:
        if args.text is None and target.suffix.lower() in (".h5", ".hdf5"):
            raise InputError(f"store {target} does not exist or is not an HDF5 file")
        args.target = str(target)
        sentences, acts, labels = _from_model(args)
    options = _options(args)
    if args.colorbar:
        options["colorbar"] = True
    style = RenderStyle.from_options(options, filter_fn=args.filter, **_neurox(args))
    dwg = render_sentences(sentences, acts, style, labels=labels)
    save(dwg, out, scale=args.scale)
    print(out)
    return 0
