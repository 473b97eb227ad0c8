"""``neuroheat extract MODEL CORPUS OUTPUT``: dump per-layer word activations into a store."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("extract", help="extract activations of a corpus into an HDF5 store",
                       description="Extract per-layer activations of every word of CORPUS (one "
                       "sentence per line) into the store OUTPUT.")
    p.add_argument("model", help="Hugging Face id or local model directory (offline)")
    p.add_argument("corpus", help="text file, one sentence per line, words separated by spaces")
    p.add_argument("output", help="output store (.h5); may contain {shard} and {num_shards}")
    p.add_argument("--layers", default=None, help='layers to keep, e.g. "0,6" or "1-4" '
                   "(0 = embeddings; default all)")
    p.add_argument("--aggregation", default="last", choices=["first", "last", "average", "none"],
                   help="how subwords become one row per word (default last, like NeuroX)")
    p.add_argument("--dtype", default="float16", choices=["float16", "float32"])
    p.add_argument("--component", default="hidden", help="hidden (default) or mlp")
    p.add_argument("--include-special-tokens", action="store_true",
                   help="also store rows for [CLS]/[SEP]-like tokens")
    p.add_argument("--random-weights", action="store_true",
                   help="random weights from the model's config (control baseline)")
    p.add_argument("--seed", type=int, default=0, help="seed for --random-weights")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N")
    p.add_argument("--batch-tokens", type=int, default=None,
                   help="padded tokens per forward pass (default 1024 on CPU, 16384 on GPU)")
    p.add_argument("--max-length", type=int, default=None,
                   help="window length in tokens (default: the model's limit)")
    p.add_argument("--shard", default=None,
                   help='process shard I of N ("I/N"), or "auto" from torchrun/SLURM variables')
    p.add_argument("--plan-block", type=int, default=None,
                   help="sentences per plan block: batches never cross blocks and shard ranges "
                   "snap to them (default from the corpus size; env NEUROHEAT_PLAN_BLOCK)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--overwrite", action="store_true", help="replace an existing OUTPUT")
    mode.add_argument("--resume", action="store_true", help="continue an interrupted run")
    p.add_argument("--quiet", action="store_true", help="no progress bar or info messages")
    p.add_argument("--trust-remote-code", action="store_true",
                   help="allow model code from the model directory (off by default)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import logging

    from neuroheat.extract.activations import extract_activations

    if args.quiet:
        logging.getLogger("neuroheat").setLevel(logging.WARNING)
    path = extract_activations(
        args.model, args.corpus, args.output, layers=args.layers, aggregation=args.aggregation,
        dtype=args.dtype, component=args.component, device=args.device,
        batch_tokens=args.batch_tokens, include_special_tokens=args.include_special_tokens,
        resume=args.resume, overwrite=args.overwrite, shard=args.shard,
        random_weights=args.random_weights, seed=args.seed, max_length=args.max_length,
        quiet=args.quiet, trust_remote_code=args.trust_remote_code, plan_block=args.plan_block,
    )
    if not args.quiet:
        print(path)
    return 0
