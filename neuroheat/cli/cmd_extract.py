"""``neuroheat extract MODEL CORPUS OUTPUT``: dump per-layer word activations into a store.

Options are the fields of :class:`~neuroheat.extract.config.ExtractConfig`, so the CLI and
``nh.extract_activations`` take the same settings.

Example:
    $ neuroheat extract all-MiniLM-L6-v2 corpus.txt acts.h5 --layers 0,6 --component mlp
    $ neuroheat extract gpt2 'fineweb/*.parquet' acts.h5 --units tokens --context-tokens 128
"""

from __future__ import annotations

import argparse

from neuroheat.cli.config_args import add_config_arguments, config_from_args
from neuroheat.cli.options import apply_quiet


def register(sub: argparse._SubParsersAction) -> None:
    from neuroheat.extract.config import ExtractConfig

    p = sub.add_parser("extract", help="extract activations of a corpus into an HDF5 store",
                       description="Extract per-layer activations of every word of CORPUS (one "
                       "sentence per line, or one row per document: JSONL, Parquet, a saved "
                       "dataset) into the store OUTPUT; with --units tokens, of every token "
                       "in contexts of --context-tokens tokens.")
    p.add_argument("model", help="Hugging Face id or local model directory (offline)")
    p.add_argument("corpus", help="text file (one sentence per line, words separated by "
                   "spaces), .jsonl / .jsonl.gz file, .parquet file(s) (a file, a glob or a "
                   "folder) or a datasets.save_to_disk folder (see --text-field)")
    p.add_argument("output", help="output store (.h5); may contain {shard} and {num_shards}")
    add_config_arguments(p, ExtractConfig)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--overwrite", action="store_true", help="replace an existing OUTPUT")
    mode.add_argument("--resume", action="store_true", help="continue an interrupted run")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from neuroheat.extract.activations import extract_activations
    from neuroheat.extract.config import ExtractConfig

    apply_quiet(args)
    config = config_from_args(ExtractConfig, args)
    path = extract_activations(args.model, args.corpus, args.output, config)
    if not config.quiet:
        print(path)
    return 0
