"""Benchmark: SAE latents stored sparsely, against dense storage and extraction without the SAE.

A tiny Llama-architecture decoder (random seeded weights, 4 layers, hidden 128) and a SAELens
top-k SAE (k = 32 of 16,384 latents) at ``blocks.1.hook_resid_post`` (neuroheat ``resid.2``),
on the pydoc sentences (``neuroheat.corpora.pydoc_sentences``), CPU, float16 stores; timings
are the best of ``--rounds`` interleaved rounds:

a. bytes per word of the latent store (whole file, and the CSR datasets alone) against the
   dense float16 layout of the same values (16,384 x 2 bytes per word; a dense store of the
   same values is written and measured) — goal <= 1/100;
b. extraction words/s with the SAE against the same run without it (``component="resid"``,
   ``layers=[2]``: the same forward passes and early exit, 128 floats stored per word);
c. ``top_words_all`` over all 16,384 latents on the latent store against the dense store of
   the same values (the tables are checked equal);
d. ``top_contexts_all`` (k = 10, bottom-k, 40-bin histograms, value-band samples) over all
   16,384 latents on the latent store (non-zeros only, zeros in closed form) against the
   dense store of the same values (every array is checked equal).

    python scripts/bench_sae.py              # 2,143 sentences (43k words); dense part 400
    python scripts/bench_sae.py --quick      # smoke sizes
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import neuroheat as nh
from neuroheat.corpora import pydoc_sentences

D_IN, D_SAE, K = 128, 16384, 32
LLAMA = dict(num_hidden_layers=4, hidden_size=D_IN, intermediate_size=344,
             num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024)


def tokenizer(vocab_size: int = 8000):
    """A BPE tokenizer trained on the pydoc sentences (byte-level, GPT-2 style)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator([" ".join(s) for s in pydoc_sentences()], trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=["<|endoftext|>"], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>",
                                   pad_token="<|endoftext|>", model_max_length=1024)


def model_and_sae(root: Path):
    import transformers as tf
    from safetensors.numpy import save_file

    tok = tokenizer()
    torch.manual_seed(0)
    model = tf.LlamaModel(tf.LlamaConfig(vocab_size=len(tok), pad_token_id=0, bos_token_id=0,
                                         eos_token_id=0, **LLAMA)).eval()
    rng = np.random.default_rng(0)
    sae = root / "sae"
    sae.mkdir()
    (sae / "cfg.json").write_text(json.dumps({
        "architecture": "topk", "k": K, "d_in": D_IN, "d_sae": D_SAE,
        "apply_b_dec_to_input": True, "normalize_activations": "none",
        "metadata": {"hook_name": "blocks.1.hook_resid_post"}}))
    save_file({"W_enc": rng.normal(0, D_IN ** -0.5, (D_IN, D_SAE)).astype(np.float32),
               "b_enc": np.zeros(D_SAE, np.float32),
               "W_dec": rng.normal(0, D_SAE ** -0.5, (D_SAE, D_IN)).astype(np.float32),
               "b_dec": np.zeros(D_IN, np.float32)}, str(sae / "sae_weights.safetensors"))
    return (model, tok), sae


def best(fn, rounds: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(rounds):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke sizes")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--sentences", type=int, default=None)
    ap.add_argument("--dense-sentences", type=int, default=None,
                    help="sentences of the dense comparison store (default 400)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    n = args.sentences or (200 if args.quick else len(pydoc_sentences()))
    n_dense = args.dense_sentences or (50 if args.quick else 400)
    corpus = [list(s) for s in itertools.islice(itertools.cycle(pydoc_sentences()), n)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        pair, sae = model_and_sae(root)
        kw = dict(device="cpu", quiet=True, overwrite=True)

        def with_sae(words=corpus, name="lat.h5"):
            return nh.extract_activations(pair, words, root / name, saes=[str(sae)], **kw)

        def without():
            return nh.extract_activations(pair, corpus, root / "resid.h5", component="resid",
                                          layers=[2], **kw)

        with_sae()  # warm-up: tokenizer caches, weights on the device
        t_sae, t_plain = float("inf"), float("inf")
        for _ in range(args.rounds):  # interleaved rounds
            t_sae = min(t_sae, best(with_sae, 1)[0])
            t_plain = min(t_plain, best(without, 1)[0])
        with nh.open_store(root / "lat.h5") as s:
            words = s.num_words
            nnz = s.nnz(2)
            csr_bytes = (words + 1) * 8 + nnz * (4 + 2)
            file_bytes = os.path.getsize(root / "lat.h5")

        # the dense comparison: the same values (a prefix of the corpus) in the dense layout
        small = with_sae(corpus[:n_dense], "small.h5")
        with nh.open_store(small) as s:
            sents = [s.words(i) for i in range(s.num_sentences)]
            rows = [s.sentence(i).astype(np.float16) for i in range(s.num_sentences)]
            small_words, small_file = s.num_words, os.path.getsize(small)
        dense = nh.store.write_store(root / "dense.h5", sents, rows, layers=[2],
                                     dtype="float16")
        del rows
        dense_file = os.path.getsize(dense)
        t_tw_sparse, a = best(lambda: nh.analysis.top_words_all(small, k=10, threads=1),
                              args.rounds)
        t_tw_dense, b = best(lambda: nh.analysis.top_words_all(dense, k=10, threads=1),
                             args.rounds)
        same = bool(np.array_equal(a.types, b.types))
        t_tc_sparse, ca = best(lambda: nh.analysis.top_contexts_all(small, k=10, threads=1),
                               args.rounds)
        t_tc_dense, cb = best(lambda: nh.analysis.top_contexts_all(dense, k=10, threads=1),
                              args.rounds)
        la, lb = ca.layer(2), cb.layer(2)
        same_ctx = all(np.array_equal(getattr(la, f), getattr(lb, f), equal_nan=True)
                       for f in ("top_rows", "top_values", "bottom_rows", "bottom_values",
                                 "histogram", "sample_rows", "sample_values"))
    dense_row = D_SAE * 2
    figures = {
        "words": words, "latents": D_SAE, "k": K, "active_per_word": nnz / words,
        "dense_bytes_per_word": dense_row,
        "sparse_csr_bytes_per_word": csr_bytes / words,
        "sparse_file_bytes_per_word": file_bytes / words,
        "ratio_csr_to_dense": csr_bytes / words / dense_row,
        "dense_store_file_bytes_per_word": dense_file / small_words,
        "sparse_store_file_bytes_per_word_same_values": small_file / small_words,
        "ratio_files_same_values": small_file / dense_file,
        "extract_words_per_s_with_sae": words / t_sae,
        "extract_words_per_s_without_sae": words / t_plain,
        "extract_ratio": t_plain / t_sae,
        "top_words_all_words": small_words,
        "top_words_all_s_sparse": t_tw_sparse, "top_words_all_s_dense": t_tw_dense,
        "top_words_all_speedup": t_tw_dense / t_tw_sparse, "tables_equal": same,
        "top_contexts_all_s_sparse": t_tc_sparse, "top_contexts_all_s_dense": t_tc_dense,
        "top_contexts_all_speedup": t_tc_dense / t_tc_sparse, "contexts_equal": same_ctx,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"a. {words} words, {nnz / words:.1f} active latents per word (k={K} of {D_SAE}):")
    print(f"   CSR {csr_bytes / words:.0f} B/word, whole file {file_bytes / words:.0f} B/word; "
          f"dense float16 {dense_row} B/word -> 1/{dense_row * words / csr_bytes:.0f} "
          f"(CSR), 1/{dense_row * words / file_bytes:.0f} (file); same values, {small_words} "
          f"words: files 1/{dense_file / small_file:.0f}")
    print(f"b. extraction {words / t_sae:,.0f} words/s with the SAE, {words / t_plain:,.0f} "
          f"without (resid.2 dense): {t_plain / t_sae:.2f}x")
    print(f"c. top_words_all over {D_SAE} latents, {small_words} words: sparse "
          f"{t_tw_sparse:.2f} s, dense {t_tw_dense:.2f} s: {t_tw_dense / t_tw_sparse:.1f}x "
          f"faster (tables equal: {same})")
    print(f"d. top_contexts_all over {D_SAE} latents, {small_words} words: sparse "
          f"{t_tc_sparse:.2f} s, dense {t_tc_dense:.2f} s: {t_tc_dense / t_tc_sparse:.1f}x "
          f"faster (every array equal: {same_ctx})")


if __name__ == "__main__":
    main()
