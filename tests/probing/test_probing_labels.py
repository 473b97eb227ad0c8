"""read_labels: NeuroX format, CoNLL-U, label_fn, sentence-level labels, count errors."""

from __future__ import annotations

import numpy as np
import pytest

from neuroheat import open_store
from neuroheat.errors import InputError
from neuroheat.probing import Labels, read_labels
from neuroheat.store import write_store

SENTS = [["The", "cat", "sat"], ["A", "dog", "ran", "far"]]

CONLLU = """# sent_id = 1
# text = The cat sat
1\tThe\tthe\tDET\tDT\tDefinite=Def\t2\tdet\t_\t_
2\tcat\tcat\tNOUN\tNN\tNumber=Sing\t3\tnsubj\t_\t_
3\tsat\tsit\tVERB\tVBD\tTense=Past\t0\troot\t_\t_

# sent_id = 2
1-2\tAdog\t_\t_\t_\t_\t_\t_\t_\t_
1\tA\ta\tDET\tDT\t_\t2\tdet\t_\t_
2\tdog\tdog\tNOUN\tNN\tNumber=Sing\t3\tnsubj\t_\t_
3\tran\trun\tVERB\tVBD\tTense=Past\t0\troot\t_\t_
3.1\tquickly\tquickly\tADV\tRB\t_\t_\t_\t3:advmod\t_
4\tfar\tfar\tADV\tRB\t_\t3\tadvmod\t_\t_
"""


@pytest.fixture
def store(tmp_path):
    rng = np.random.default_rng(0)
    acts = [rng.standard_normal((len(s), 1, 4)).astype(np.float32) for s in SENTS]
    path = write_store(tmp_path / "acts.h5", SENTS, acts)
    with open_store(path) as s:
        yield s


def test_neurox_format(tmp_path, store):
    path = tmp_path / "labels.txt"
    path.write_text("DT NN VBD\nDT NN  VBD\tRB\n", encoding="utf-8")
    labels = read_labels(path, store=store)
    assert labels.classes == ["DT", "NN", "RB", "VBD"]
    assert labels.names(0) == ["DT", "NN", "VBD"]
    assert labels.names(1) == ["DT", "NN", "VBD", "RB"]
    assert labels.offsets.tolist() == [0, 3, 7] and len(labels) == 7
    assert labels.ids.dtype.kind == "i"
    assert labels.counts.tolist() == [2, 2, 1, 2]


@pytest.mark.parametrize(("column", "expected"), [
    ("upos", ["DET", "NOUN", "VERB", "DET", "NOUN", "VERB", "ADV"]),
    ("xpos", ["DT", "NN", "VBD", "DT", "NN", "VBD", "RB"]),
    ("feats", ["Definite=Def", "Number=Sing", "Tense=Past", "_", "Number=Sing", "Tense=Past",
               "_"]),
    ("deprel", ["det", "nsubj", "root", "det", "nsubj", "root", "advmod"]),
])
def test_conllu_columns(tmp_path, store, column, expected):
    path = tmp_path / "train.conllu"
    path.write_text(CONLLU, encoding="utf-8")
    labels = read_labels(path, column=column, store=store)
    assert labels.names() == expected
    assert labels.lines.tolist() == [3, 9]  # first word line of each sentence


def test_conllu_detected_without_extension(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text(CONLLU, encoding="utf-8")
    assert read_labels(path).names(0) == ["DET", "NOUN", "VERB"]
    assert read_labels(path, format="neurox").num_sentences > 2  # forced: read as lines


def test_word_count_mismatch_names_line_and_counts(tmp_path, store):
    path = tmp_path / "labels.txt"
    path.write_text("DT NN VBD\nDT NN VBD\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 2 \(sentence 1\) has 3 labels but the store "
                                         r"has 4 words"):
        read_labels(path, store=store)


def test_sentence_count_mismatch(tmp_path, store):
    path = tmp_path / "labels.txt"
    path.write_text("DT NN VBD\n", encoding="utf-8")
    with pytest.raises(InputError, match="has 1 lines but the store has 2 sentences"):
        read_labels(path, store=store)
    path.write_text("DT NN VBD\nDT NN VBD RB\n\n", encoding="utf-8")
    with pytest.raises(InputError, match="extra lines at the end are empty"):
        read_labels(path, store=store)


def test_conllu_mismatch_names_start_line(tmp_path, store):
    path = tmp_path / "x.conllu"
    path.write_text(CONLLU.replace("4\tfar\tfar\tADV\tRB\t_\t3\tadvmod\t_\t_\n", ""),
                    encoding="utf-8")
    with pytest.raises(InputError, match=r"sentence 1 \(from line 9\) has 3 labels .* 4 words"):
        read_labels(path, store=store)


def test_bad_conllu_line(tmp_path):
    path = tmp_path / "x.conllu"
    path.write_text("1\tThe\tthe\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 1 has 3 tab-separated fields"):
        read_labels(path)


def test_label_fn(store):
    labels = read_labels(None, store=store, label_fn=lambda w: w[:1].isupper())
    assert labels.classes == ["False", "True"]
    assert labels.names(1) == ["True", "False", "False", "False"]
    with pytest.raises(InputError, match="store="):
        read_labels(None, label_fn=len)
    with pytest.raises(InputError, match="not both"):
        read_labels("x.txt", store=store, label_fn=len)


def test_sentence_level(tmp_path, store):
    path = tmp_path / "sent.txt"
    path.write_text("positive\nnegative review\n", encoding="utf-8")
    labels = read_labels(path, sentence_level=True, store=store)
    assert labels.sentence_level and len(labels) == 2
    assert labels.names() == ["positive", "negative review"]
    assert labels.offsets.tolist() == [0, 1, 2]
    by_fn = read_labels(None, store=store, label_fn=len, sentence_level=True)
    assert by_fn.names() == ["3", "4"]
    path.write_text("positive\n\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2 is empty"):
        read_labels(path, sentence_level=True)


def test_save_load_roundtrip(tmp_path, store):
    path = tmp_path / "train.conllu"
    path.write_text(CONLLU, encoding="utf-8")
    labels = read_labels(path, store=store)
    back = Labels.load(labels.save(tmp_path / "labels.json"))
    assert back.classes == labels.classes and back.sentence_level == labels.sentence_level
    np.testing.assert_array_equal(back.ids, labels.ids)
    np.testing.assert_array_equal(back.offsets, labels.offsets)
    np.testing.assert_array_equal(back.lines, labels.lines)
    (tmp_path / "bad.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(InputError, match="not a labels file"):
        Labels.load(tmp_path / "bad.json")


def test_classes_are_deterministic(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("z y x\n", encoding="utf-8")
    b.write_text("x z y\n", encoding="utf-8")
    assert read_labels(a).classes == read_labels(b).classes == ["x", "y", "z"]


def test_input_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_labels(tmp_path / "missing.txt")
    with pytest.raises(InputError, match="unknown labels format"):
        read_labels(tmp_path / "missing.txt", format="csv")
    (tmp_path / "x.conllu").write_text(CONLLU, encoding="utf-8")
    with pytest.raises(InputError, match="unknown CoNLL-U column"):
        read_labels(tmp_path / "x.conllu", column="lemma")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        read_labels(tmp_path / "latin1.txt")
    with pytest.raises(InputError, match="no labels"):
        read_labels(None)

