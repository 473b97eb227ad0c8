"""Corpus files of every format, and a tiny decoder whose tokenizer adds BOS (tests only)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import h5py
import numpy as np

from tests.helpers.builders import TRAIN_TEXT, bpe_tokenizer

LINES = [*TRAIN_TEXT, "", "  spaced   out  words ", "naïve café — “quoted” 東京", *TRAIN_TEXT[:3]]


def write_jsonl(path: Path, texts: list, field: str = "text", gz: bool = False) -> Path:
    opener = gzip.open if gz else open
    with opener(path, "wt", encoding="utf-8") as fh:
        for i, t in enumerate(texts):
            fh.write(json.dumps({"id": i, field: t}, ensure_ascii=False) + "\n")
    return path


def write_parquet(folder: Path, texts: list, *, files: int = 2, row_group: int = 2,
                  field: str = "text") -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    cut = np.array_split(np.arange(len(texts)), files)
    for k, idx in enumerate(cut):
        table = pa.table({"id": pa.array(idx.tolist(), pa.int64()),
                          field: pa.array([texts[i] for i in idx], pa.string())})
        pq.write_table(table, folder / f"part-{k:05d}.parquet", row_group_size=row_group)
    return folder


def write_saved_dataset(folder: Path, texts: list, *, files: int = 2, batch: int = 3) -> Path:
    """The layout of ``datasets.Dataset.save_to_disk``: Arrow *stream* files
    ``data-0000k-of-0000n.arrow`` listed in ``state.json``, plus ``dataset_info.json``."""
    import pyarrow as pa

    folder.mkdir(parents=True, exist_ok=True)
    schema = pa.schema([("text", pa.string()), ("id", pa.int64())])
    names = []
    for k, idx in enumerate(np.array_split(np.arange(len(texts)), files)):
        name = f"data-{k:05d}-of-{files:05d}.arrow"
        with pa.OSFile(str(folder / name), "wb") as sink, \
                pa.ipc.new_stream(sink, schema) as writer:
            for a in range(0, len(idx), batch):
                part = idx[a:a + batch]
                writer.write_batch(pa.record_batch(
                    [pa.array([texts[i] for i in part], pa.string()),
                     pa.array(part.tolist(), pa.int64())], schema=schema))
        names.append(name)
    (folder / "state.json").write_text(json.dumps({
        "_data_files": [{"filename": n} for n in names], "_fingerprint": "0123456789abcdef",
        "_format_columns": None, "_format_kwargs": {}, "_format_type": None,
        "_output_all_columns": False, "_split": None}))
    (folder / "dataset_info.json").write_text(json.dumps({
        "citation": "", "description": "", "homepage": "", "license": "",
        "features": {"text": {"dtype": "string", "_type": "Value"},
                     "id": {"dtype": "int64", "_type": "Value"}}}))
    return folder


def tiny_bos_decoder(path: Path, seed: int = 0, max_positions: int = 64) -> Path:
    """A tiny Llama-style decoder whose byte-level BPE tokenizer adds ``<s>`` (BOS) to every
    sequence, with ``<|endoftext|>`` as EOS."""
    import torch
    from tokenizers import processors
    from transformers import LlamaConfig, LlamaModel, PreTrainedTokenizerFast

    backend = bpe_tokenizer("gpt2")._tokenizer
    backend.add_special_tokens(["<s>"])
    bos, eos = backend.token_to_id("<s>"), backend.token_to_id("<|endoftext|>")
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)])
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<s>",
                                  eos_token="<|endoftext|>", pad_token="<|endoftext|>",
                                  model_max_length=max_positions)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64,
                      num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                      max_position_embeddings=max_positions, bos_token_id=bos,
                      eos_token_id=eos, pad_token_id=eos)
    torch.manual_seed(seed)
    path.mkdir(parents=True, exist_ok=True)
    LlamaModel(cfg).eval().save_pretrained(path)
    tok.save_pretrained(path)
    return path


def dump(path: Path) -> dict:
    """Every dataset of a store (bytes) and the statistics, to compare stores exactly."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = obj[...].tobytes() if obj.dtype.kind != "O" else \
                    [x for x in obj.asstr()[...]]
        f.visititems(visit)
    return out
