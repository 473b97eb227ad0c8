"""Whole-corpus alignment (``align._encode_all``) gives every sentence the same ids, rows,
token-to-row map and token choice as aligning it on its own (``align._encode_one``), for
WordPiece, byte-level BPE and unigram tokenizers, odd words and empty lines included."""

from __future__ import annotations

import numpy as np
import pytest
from transformers import AutoTokenizer

from neuroheat.corpora import pydoc_sentences
from neuroheat.extract import align

ODD = [
    [],
    ["The", "quick", "brown", "fox", "."],
    ["\u200b", "zero", "\u200b", "width"],          # words that tokenize to nothing
    ["émigré", "漢字", "🙂", "a" * 300, "x"],
    ["Numbers", "1234", "56.78", "&", "<", ">"],
    [],
    ["##", "don't", "U.S.A.", "e-mail", "\t"],
    ["one"],
    [],
]


def _same(got: align.Encoded, ref: align.Encoded) -> None:
    for name in ("ids", "row_of_token", "use_token"):
        a, b = getattr(got, name), getattr(ref, name)
        assert a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert got.rows == ref.rows
    assert got.untokenized == ref.untokenized
    assert got.special_rows == ref.special_rows


@pytest.mark.parametrize("model", ["bert", "roberta", "t5"])
@pytest.mark.parametrize("aggregation", align.AGGREGATIONS)
@pytest.mark.parametrize("special", [False, True])
def test_whole_corpus_alignment_equals_one_sentence_at_a_time(tiny_models, model, aggregation,
                                                              special):
    tok = AutoTokenizer.from_pretrained(tiny_models[model])
    sentences = [*ODD[:4], *pydoc_sentences(40), *ODD[4:]]
    encoded = align.encode_corpus(tok, sentences, aggregation, include_special_tokens=special)
    specials = align.special_tokens(tok) if special else None
    texts = [" ".join(w) for w in sentences]
    batch = tok(texts, add_special_tokens=False, return_offsets_mapping=True)
    fast = align._encode_all(sentences, texts, batch["input_ids"], batch["offset_mapping"],
                             aggregation, specials)
    assert sum(e is not None for e in fast) > 40 or aggregation == "none"
    for i, words in enumerate(sentences):
        ref = align._encode_one(tok, words, batch["input_ids"][i], batch["offset_mapping"][i],
                                aggregation, specials, i + 1, [])
        _same(encoded[i], ref)


@pytest.mark.parametrize("aggregation", ["first", "last", "average"])
def test_a_token_past_the_last_word_belongs_to_it(aggregation):
    """An empty token at the very end of a line (offsets (4, 4) of "ab c") maps to the last
    word in both paths, in every line of the corpus, not to the next line's first word."""
    sentences = [["ab", "c"], ["de", "f"], [], ["g"]]
    texts = [" ".join(w) for w in sentences]
    ids = [[5, 6, 7], [8, 9, 10], [], [11, 12]]
    offsets = [[(0, 2), (3, 4), (4, 4)], [(0, 1), (1, 2), (3, 4)], [], [(0, 1), (1, 1)]]
    fast = align._encode_all(sentences, texts, ids, offsets, aggregation, None)
    for i, words in enumerate(sentences):
        ref = align._encode_one(None, words, ids[i], offsets[i], aggregation, None, i + 1, [])
        _same(fast[i], ref)
    assert fast[0].row_of_token.tolist() == [0, 1, 1]
