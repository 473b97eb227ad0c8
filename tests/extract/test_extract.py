"""Extraction: alignment, aggregation against unbatched references, windows, every word kept."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

import neuroheat as nh
from neuroheat.extract import align

CORPUS = [
    "The quick brown fox jumps over the lazy dog .",
    "",
    "Vinken joined the unbelievable interpretability board on Nov. 29 .",
    "cats run",
    "Numbers like 1234 and 56.78 & symbols < > appear .",
]
AGGS = ["first", "last", "average", "none"]


def _reference(path, words, aggregation):
    """Unbatched computation: one sentence, one forward pass, no padding, no windows."""
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    if model.config.is_encoder_decoder:
        model = model.get_encoder()
    enc = align.encode_corpus(tok, [words], aggregation)[0]
    sp = align.special_tokens(tok)
    ids = torch.tensor([sp.prefix + enc.ids.tolist() + sp.suffix])
    with torch.no_grad():
        hs = torch.stack(model(input_ids=ids, output_hidden_states=True).hidden_states, 2)[0]
    content = hs[len(sp.prefix):len(sp.prefix) + len(enc.ids)].numpy()
    rows = []
    for r in range(len(enc.rows)):
        toks = np.flatnonzero(enc.row_of_token == r)
        v = content[toks]
        rows.append({"first": v[0], "last": v[-1], "average": v.mean(0), "none": v[0]}[aggregation])
    return np.stack(rows)


@pytest.mark.parametrize("name", ["bert", "roberta", "gpt2", "t5"])
@pytest.mark.parametrize("aggregation", AGGS)
def test_batched_equals_unbatched(tiny_models, tmp_path, name, aggregation):
    path = tiny_models[name]
    out = nh.extract_activations(path, CORPUS, tmp_path / "s.h5", aggregation=aggregation,
                                 dtype="float32", batch_tokens=48, quiet=True)
    with nh.open_store(out) as store:
        assert store.num_sentences == len(CORPUS)
        assert store.num_layers == 3 and store.layers == [0, 1, 2]
        for i, line in enumerate(CORPUS):
            words = line.split()
            if aggregation != "none":
                assert store.words(i) == words
            if not words:
                assert store.sentence(i).shape == (0, 3, 32)
                continue
            ref = _reference(path, words, aggregation)
            np.testing.assert_allclose(store.sentence(i), ref, atol=1e-5, rtol=0)


def test_bert_alignment_matches_word_ids(tiny_bert):
    tok = AutoTokenizer.from_pretrained(tiny_bert)
    words = "Vinken joined the unbelievable board , 61 years old .".split()
    enc = align.encode_corpus(tok, [words], "none")[0]
    ref = tok(words, is_split_into_words=True, add_special_tokens=False)
    assert enc.row_of_token.tolist() == list(range(len(ref["input_ids"])))
    word_of = align.encode_corpus(tok, [words], "last")[0].row_of_token
    assert word_of.tolist() == ref.word_ids()


def test_stored_words_are_original_words(tiny_bert, tmp_path):
    out = nh.extract_activations(tiny_bert, CORPUS, tmp_path / "s.h5", quiet=True)
    with nh.open_store(out) as store:
        flat = [w for line in CORPUS for w in line.split()]
        assert store.all_words() == flat
        assert not any("##" in w for w in store.all_words())
        assert store.meta["dtype"] == "float16"


def test_long_sentence_keeps_every_word(tiny_models, tmp_path):
    words = " ".join(f"word{i % 50} dog" for i in range(2500))  # 5,000 words
    for name in ("bert", "gpt2"):
        out = nh.extract_activations(tiny_models[name], [words, "short one"],
                                     tmp_path / f"{name}.h5", dtype="float32", quiet=True)
        with nh.open_store(out) as store:
            assert store.words(0) == words.split()
            acts = store.sentence(0)
            assert acts.shape == (5000, 3, 32)
            assert np.isfinite(acts).all()


def test_windows_choose_most_context():
    wins = align.make_windows(0, 10, capacity=4, causal=False)
    owner = np.empty(10, int)
    for k, w in enumerate(wins):
        owner[w.owned] = k
        assert w.stop - w.start == 4
    assert sorted(np.concatenate([w.owned for w in wins]).tolist()) == list(range(10))
    # token 3 sits at the edge of window 0 [0,4) and in the middle of window 1 [2,6)
    assert wins[owner[3]].start == 2
    causal = align.make_windows(0, 10, capacity=4, causal=True)
    for w in causal:
        assert all(w.start <= t < w.stop for t in w.owned)


def test_window_rows_match_truncated_forward(tiny_bert, tmp_path):
    """Tokens owned by the first window equal a forward of that window alone."""
    words = ["dog"] * 200
    out = nh.extract_activations(tiny_bert, [" ".join(words)], tmp_path / "w.h5",
                                 dtype="float32", max_length=20, quiet=True)
    ref = _reference(tiny_bert, words[:18], "last")
    with nh.open_store(out) as store:
        got = store.sentence(0)
    wins = align.make_windows(0, 200, capacity=18, causal=False)
    owned0 = wins[0].owned
    np.testing.assert_allclose(got[owned0], ref[owned0], atol=1e-5)


def test_zero_width_word_is_kept_with_warning(tiny_bert, tmp_path, caplog):
    corpus = ["a \u200b b", "c d"]
    with caplog.at_level("WARNING"):
        out = nh.extract_activations(tiny_bert, corpus, tmp_path / "z.h5", quiet=True)
    assert "tokenize to nothing" in caplog.text and "line 1" in caplog.text
    with nh.open_store(out) as store:
        assert store.words(0) == ["a", "\u200b", "b"]
        assert store.untokenized.tolist() == [1]


def test_layers_selection_and_special_tokens(tiny_bert, tmp_path):
    out = nh.extract_activations(tiny_bert, ["cats run"], tmp_path / "l.h5", layers="0,2",
                                 include_special_tokens=True, quiet=True)
    with nh.open_store(out) as store:
        assert store.layers == [0, 2]
        assert store.words(0) == ["[CLS]", "cats", "run", "[SEP]"]
        assert store.sentence(0, layer=2).shape == (4, 32)
        with pytest.raises(nh.errors.StoreError, match="stored layers: 0, 2"):
            store.sentence(0, layer=1)


def test_in_memory_matches_store(tiny_bert, tmp_path):
    from neuroheat.extract.activations import activations_for_words

    arrays = activations_for_words(tiny_bert, [CORPUS[0], CORPUS[2]], layers=[1])
    out = nh.extract_activations(tiny_bert, [CORPUS[0], CORPUS[2]], tmp_path / "m.h5",
                                 layers=[1], dtype="float32", quiet=True)
    with nh.open_store(out) as store:
        for i, a in enumerate(arrays):
            np.testing.assert_allclose(a, store.sentence(i), atol=1e-6)


def test_statistics_match_stored_values(tiny_bert, tmp_path):
    out = nh.extract_activations(tiny_bert, CORPUS, tmp_path / "st.h5", batch_tokens=40,
                                 quiet=True)
    with nh.open_store(out) as store:
        data = np.concatenate([store.sentence(i) for i in range(len(store))]).astype(np.float64)
        stats = store.stats()
        np.testing.assert_allclose(stats["mean"], data.mean(0), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(stats["M2"] / stats["count"], data.var(0), rtol=1e-9,
                                   atol=1e-12)
        np.testing.assert_array_equal(stats["min"], data.min(0))
        np.testing.assert_array_equal(stats["count"], np.full_like(data[0], len(data)))


def test_minilm_integration(minilm, tmp_path):
    corpus = ["The cat sat on the mat .", "Researchers study neurons in transformers ."]
    out = nh.extract_activations(minilm, corpus, tmp_path / "mini.h5", quiet=True)
    with nh.open_store(out) as store:
        assert store.num_layers == 7 and store.width == 384
        assert store.words(1) == corpus[1].split()
        assert store.meta["model_type"] == "bert"


def test_random_weights_are_seeded_and_differ(tiny_bert, tmp_path):
    def run(name, **kw):
        out = nh.extract_activations(tiny_bert, ["cats run fast"], tmp_path / name, quiet=True,
                                     dtype="float32", layers=[2], **kw)
        with nh.open_store(out) as store:
            return store.sentence(0), store.meta

    trained, _ = run("t.h5")
    rand_a, meta = run("a.h5", random_weights=True, seed=1)
    rand_b, _ = run("b.h5", random_weights=True, seed=1)
    rand_c, _ = run("c.h5", random_weights=True, seed=2)
    assert meta["random_weights"] is True or meta["random_weights"] == 1
    np.testing.assert_array_equal(rand_a, rand_b)
    assert not np.allclose(rand_a, trained) and not np.allclose(rand_a, rand_c)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU error")
def test_cuda_without_gpu_is_a_clear_error(tiny_bert, tmp_path):
    with pytest.raises(nh.errors.InputError, match="no CUDA GPU"):
        nh.extract_activations(tiny_bert, ["a"], tmp_path / "s.h5", device="cuda")
