"""Corpora as researchers keep them: JSONL, JSONL.gz, Parquet and saved datasets, word units
bit-identical to the text file, and token units in contexts of N tokens (issue 23)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

import neuroheat as nh
from neuroheat.cli import main
from tests.extract.corpora_helpers import (
    LINES,
    dump,
    tiny_bos_decoder,
    write_jsonl,
    write_parquet,
    write_saved_dataset,
)

pytest.importorskip("pyarrow")

OPTS = dict(dtype="float32", batch_tokens=96, quiet=True, device="cpu")


@pytest.fixture(scope="module")
def corpora(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("corpora")
    (d / "c.txt").write_text("\n".join(LINES) + "\n", encoding="utf-8")
    return {
        "txt": d / "c.txt",
        "jsonl": write_jsonl(d / "c.jsonl", LINES),
        "jsonl.gz": write_jsonl(d / "c.jsonl.gz", LINES, gz=True),
        "parquet-folder": write_parquet(d / "pq", LINES, files=3, row_group=2),
        "parquet-glob": Path(str(write_parquet(d / "pq2", LINES, files=2)) + "/*.parquet"),
        "saved-dataset": write_saved_dataset(d / "saved", LINES, files=2, batch=3),
    }


@pytest.fixture(scope="module")
def text_store(tiny_models, corpora, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("txt") / "txt.h5"
    return nh.extract_activations(tiny_models["gpt2"], corpora["txt"], out, **OPTS)


@pytest.mark.parametrize("fmt", ["jsonl", "jsonl.gz", "parquet-folder", "parquet-glob",
                                 "saved-dataset"])
def test_each_format_gives_the_text_files_store(tiny_models, corpora, text_store, fmt,
                                                tmp_path):
    out = nh.extract_activations(tiny_models["gpt2"], str(corpora[fmt]), tmp_path / "s.h5",
                                 **OPTS)
    got, ref = dump(out), dump(text_store)
    assert got.keys() == ref.keys()
    for key in ref:   # activation bytes, words, offsets, vocabulary, word ids, statistics
        assert got[key] == ref[key], key
    with nh.open_store(out) as s:
        expected = {"jsonl": "jsonl", "jsonl.gz": "jsonl", "saved-dataset": "arrow"}
        assert s.meta["corpus_format"] == expected.get(fmt, "parquet")
        assert s.meta["text_field"] == "text" and s.units == "words"
        files = s.meta["corpus_files"]
        assert len(files) == len(s.meta["corpus_file_sha256"]) >= 1
        assert s.token_ids is None


def test_text_field_picks_the_column(tiny_models, corpora, text_store, tmp_path):
    path = write_jsonl(tmp_path / "c.jsonl", LINES, field="content")
    assert main(["extract", str(tiny_models["gpt2"]), str(path), str(tmp_path / "s.h5"),
                 "--text-field", "content", "--dtype", "float32", "--batch-tokens", "96",
                 "--device", "cpu", "--quiet"]) == 0
    assert dump(tmp_path / "s.h5") == dump(text_store)


# -- token units --------------------------------------------------------------------------

DOCS = [" ".join(LINES[:4]), LINES[4], "", "short", " ".join(LINES[5:]) * 2]


@pytest.fixture(scope="module")
def decoder(tmp_path_factory) -> Path:
    return tiny_bos_decoder(tmp_path_factory.mktemp("bos") / "llama")


@pytest.fixture(scope="module")
def doc_corpus(tmp_path_factory) -> Path:
    return write_parquet(tmp_path_factory.mktemp("docs") / "docs", DOCS, files=2, row_group=1)


def _doc_ids(tok, text):
    return tok(text, add_special_tokens=False)["input_ids"]


@pytest.mark.parametrize("concatenate", [False, True])
def test_token_contexts(decoder, doc_corpus, tmp_path, concatenate):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(decoder)
    assert tok("a")["input_ids"][0] == tok.bos_token_id   # the tokenizer adds BOS
    n = 12
    out = nh.extract_activations(decoder, str(doc_corpus), tmp_path / "t.h5", units="tokens",
                                 context_tokens=n, concatenate=concatenate, **OPTS)
    with nh.open_store(out) as s:
        assert s.units == "tokens" and s.meta["context_tokens"] == n
        ids = s.token_ids
        stream: dict[int, list[int]] = {}
        joined = []
        for i in range(s.num_sentences):
            a, b = int(s.offsets[i]), int(s.offsets[i + 1])
            ctx = ids[a:b].tolist()
            words = s.words(i)
            assert ctx[0] == tok.bos_token_id and words[0] == "<s>" and len(ctx) <= n
            src = s.source(i)
            text = "".join(w for w, t in zip(words[1:], ctx[1:], strict=True)
                           if t != tok.eos_token_id)
            if "end_row" not in src:
                assert DOCS[src["row"]][src["start"]:src["end"]] == text
            if concatenate:
                assert len(ctx) == n or i == s.num_sentences - 1
                joined.extend(ctx[1:])
            else:
                stream.setdefault(src["row"], []).extend(ctx[1:])
                # the context's ids are the tokenizer's ids of its span of the document
                assert ctx[1:] == _doc_ids(tok, DOCS[src["row"]])[
                    len(stream[src["row"]]) - len(ctx) + 1:len(stream[src["row"]])]
        if concatenate:   # every token once, documents joined with EOS
            expect = [t for d in DOCS if d for t in [*_doc_ids(tok, d), tok.eos_token_id]]
            assert joined == expect
        else:             # every token of every document exactly once, in order
            assert stream == {r: _doc_ids(tok, d) for r, d in enumerate(DOCS) if d}
        # the stored rows are the model's hidden states of the context as one sequence
        import torch
        from transformers import AutoModel

        model = AutoModel.from_pretrained(decoder).eval()
        a, b = int(s.offsets[1]), int(s.offsets[2])
        with torch.no_grad():
            hs = model(torch.from_numpy(ids[None, a:b]), output_hidden_states=True).hidden_states
        np.testing.assert_allclose(s.sentence(1), torch.stack(hs, 2)[0].numpy(), atol=1e-4)


def test_analysis_commands_run_on_a_token_store(decoder, doc_corpus, tmp_path, capsys):
    store = tmp_path / "t.h5"
    assert main(["extract", str(decoder), str(doc_corpus), str(store), "--units", "tokens",
                 "--context-tokens", "16", "--dtype", "float32", "--device", "cpu",
                 "--quiet"]) == 0
    assert main(["info", str(store)]) == 0
    info = capsys.readouterr().out
    assert "tokens (contexts of 16 tokens)" in info and "parquet, field 'text'" in info
    assert main(["top-words", str(store), "--layer", "1", "--neuron", "3"]) == 0
    out = capsys.readouterr().out
    assert out.strip() and "Ġ" not in out   # tokens shown as text, not as BPE symbols
    assert main(["contexts", str(store), "--layer", "1", "--neuron", "3"]) == 0
    shown = [line.split(": ", 1)[1] for line in capsys.readouterr().out.splitlines()]
    assert shown   # tokens joined as the text reads: a span of a document after BOS
    for line in shown:
        text = line.replace("[[", "").replace("]]", "").removeprefix("<s>")
        assert any(text in d for d in DOCS), line
    with nh.open_store(store) as s:   # a label per token: does it start a word?
        labels = [" ".join("WORD" if w.startswith(" ") else "PIECE" for w in s.words(i))
                  for i in range(s.num_sentences)]
    (tmp_path / "labels.txt").write_text("\n".join(labels) + "\n")
    assert main(["probe", str(store), str(tmp_path / "labels.txt"), "-o",
                 str(tmp_path / "p.json"), "--layers", "1", "--epochs", "3"]) == 0
    assert main(["report", str(store), "-o", str(tmp_path / "site"), "--quiet"]) == 0
    assert (tmp_path / "site" / "index.html").exists()
    manifest = next((tmp_path / "site").rglob("site.js")).read_text()
    assert '"units":"tokens"' in manifest.replace(" ", "")   # contexts render without spaces


# -- shards ---------------------------------------------------------------------------------

@pytest.mark.parametrize("units", ["words", "tokens"])
def test_parquet_shards_merge_to_one_process(tiny_models, decoder, tmp_path, monkeypatch,
                                             units):
    monkeypatch.setenv("NEUROHEAT_PLAN_BLOCK", "3")
    corpus = write_parquet(tmp_path / "pq", LINES * 3, files=3, row_group=4)
    model = tiny_models["gpt2"] if units == "words" else decoder
    extra = ["--units", "tokens", "--context-tokens", "8"] if units == "tokens" else []
    base = ["--dtype", "float32", "--batch-tokens", "64", "--device", "cpu", "--quiet", *extra]
    assert main(["extract", str(model), str(corpus), str(tmp_path / "one.h5"),
                 "--plan-shards", "3", *base]) == 0
    for i in range(3):
        assert main(["extract", str(model), str(corpus), str(tmp_path / "s.h5"),
                     "--shard", f"{i}/3", *base]) == 0
    assert list(corpus.glob(".*.nhrows"))   # the row index is cached for the other shards
    assert main(["merge", str(tmp_path / "m.h5"), str(tmp_path / "s-shard*of3.h5")]) == 0
    got, ref = dump(tmp_path / "m.h5"), dump(tmp_path / "one.h5")
    assert got.keys() == ref.keys()
    for key in ref:
        if not key.startswith("stats/"):
            assert got[key] == ref[key], key
    with nh.open_store(tmp_path / "m.h5") as m, nh.open_store(tmp_path / "one.h5") as one:
        for key, value in one.stats().items():
            np.testing.assert_allclose(m.stats()[key], value, rtol=1e-9)
        if units == "tokens":
            assert [m.source(i) for i in range(m.num_sentences)] == \
                [one.source(i) for i in range(one.num_sentences)]
    if units == "tokens":   # a virtual merge and the shards read as one keep the records too
        assert main(["merge", str(tmp_path / "v.h5"), str(tmp_path / "s-shard*of3.h5"),
                     "--virtual"]) == 0
        with nh.open_store(tmp_path / "v.h5") as v, \
                nh.open_store(str(tmp_path / "s-shard*of3.h5")) as sh, \
                nh.open_store(tmp_path / "one.h5") as one:
            for store in (v, sh):
                np.testing.assert_array_equal(store.token_ids, one.token_ids)
                assert store.units == "tokens" and store.num_sentences == one.num_sentences
                assert store.source(store.num_sentences - 1) == one.source(-1)


def test_resume_refuses_another_corpus(tiny_models, tmp_path, capsys):
    corpus = write_jsonl(tmp_path / "c.jsonl", LINES)
    out = tmp_path / "s.h5"
    args = ["extract", str(tiny_models["gpt2"]), str(corpus), str(out), "--device", "cpu",
            "--quiet"]
    assert main(args) == 0
    write_jsonl(corpus, LINES[::-1])
    assert main([*args, "--resume"]) == 2
    assert "corpus_sha256" in capsys.readouterr().err


def test_merge_refuses_shards_of_another_corpus(tiny_models, tmp_path, capsys):
    a = write_parquet(tmp_path / "a", LINES, files=2)
    b = write_parquet(tmp_path / "b", [t.upper() for t in LINES], files=2)
    for i, corpus in enumerate((a, b)):
        assert main(["extract", str(tiny_models["gpt2"]), str(corpus), str(tmp_path / "s.h5"),
                     "--shard", f"{i}/2", "--device", "cpu", "--quiet"]) == 0
    assert main(["merge", str(tmp_path / "m.h5"), str(tmp_path / "s-shard*of2.h5")]) == 2
    assert "corpus_sha256" in capsys.readouterr().err and not (tmp_path / "m.h5").exists()


# -- bad corpora: one line, exit 2, no store --------------------------------------------------

def _bad_jsonl(d: Path) -> Path:
    return write_jsonl(d / "c.jsonl", ["a b", "c d"], field="body")


def _wrong_type(d: Path) -> Path:
    path = d / "c.jsonl"
    path.write_text('{"text": "a b"}\n{"text": 42}\n')
    return path


def _wrong_type_parquet(d: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"text": pa.array([1, 2], pa.int64())}), d / "c.parquet")
    return d / "c.parquet"


def _null_parquet(d: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"text": pa.array(["a", None], pa.string())}), d / "c.parquet")
    return d / "c.parquet"


def _corrupt_parquet(d: Path) -> Path:
    folder = write_parquet(d / "pq", LINES, files=1)
    path = next(folder.glob("*.parquet"))
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    return folder


def _truncated_gz(d: Path) -> Path:
    path = write_jsonl(d / "c.jsonl.gz", LINES * 50, gz=True)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) - 40])
    return path


def _garbage_gz(d: Path) -> Path:
    path = d / "c.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"text": "a"}\n')[:10] + b"not gzip at all")
    return path


@pytest.mark.parametrize("make, words", [
    (_bad_jsonl, ["no field 'text'", "line 1", "--text-field"]),
    (_wrong_type, ["line 2", "int, not a string"]),
    (_wrong_type_parquet, ["c.parquet", "int64, not a string"]),
    (_null_parquet, ["row 1", "null, not a string"]),
    (_corrupt_parquet, ["not a readable Parquet file"]),
    (_truncated_gz, ["c.jsonl.gz", "truncated"]),
    (_garbage_gz, ["c.jsonl.gz", "truncated or damaged"]),
])
def test_bad_corpora_fail_in_one_line(tiny_models, tmp_path, capsys, make, words):
    corpus = make(tmp_path)
    out = tmp_path / "out.h5"
    assert main(["extract", str(tiny_models["gpt2"]), str(corpus), str(out), "--device", "cpu",
                 "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    for w in words:
        assert w in err
    assert not out.exists() and not list(tmp_path.glob("out.h5*"))


def test_token_options_are_checked(tiny_models, tmp_path, capsys):
    corpus = write_jsonl(tmp_path / "c.jsonl", LINES)
    base = ["extract", str(tiny_models["gpt2"]), str(corpus), str(tmp_path / "o.h5"), "--quiet"]
    assert main([*base, "--units", "tokens"]) == 2
    assert "--context-tokens" in capsys.readouterr().err
    assert main([*base, "--context-tokens", "8"]) == 2
    assert "--units tokens" in capsys.readouterr().err
    assert main([*base, "--units", "tokens", "--context-tokens", "100000"]) == 2
    assert "limit" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["jsonl", "jsonl.gz", "parquet-folder", "parquet-glob",
                                 "saved-dataset"])
def test_rows_are_read_by_range_and_weighed_like_text_lines(corpora, fmt, tmp_path):
    from neuroheat.extract.corpus import open_corpus

    text = open_corpus(corpora["txt"])
    for cache in (False, True, True):   # built, then cached, then loaded from the cache
        rows = open_corpus(str(corpora[fmt]), cache_index=cache, index_dir=tmp_path)
        np.testing.assert_array_equal(rows.bounds, text.bounds)  # the same shard cuts
        assert rows.num_sentences == len(LINES)
        for a, b in ((0, len(LINES)), (3, 4), (5, 11), (len(LINES) - 1, len(LINES)), (2, 2)):
            assert rows.texts(a, b) == LINES[a:b]
            assert rows.read(a, b) == text.read(a, b)
    assert rows.checksum != text.checksum and len(rows.file_sha256) == len(rows.files)


def test_sae_latents_in_token_units(decoder, doc_corpus, tmp_path):
    from tests.sae import saes

    folder, _ = saes.saelens(tmp_path / "sae", "blocks.0.hook_resid_post", 32, 64)
    dense = nh.extract_activations(decoder, str(doc_corpus), tmp_path / "d.h5", units="tokens",
                                   context_tokens=12, **OPTS)
    out = nh.extract_activations(decoder, str(doc_corpus), tmp_path / "lat.h5",
                                 saes=[f"resid.1={folder}"], units="tokens", context_tokens=12,
                                 **OPTS)
    with nh.open_store(out) as lat, nh.open_store(dense) as d:
        assert lat.sparse and lat.units == "tokens"
        np.testing.assert_array_equal(lat.token_ids, d.token_ids)
        assert [lat.source(i) for i in range(lat.num_sentences)] == \
            [d.source(i) for i in range(d.num_sentences)]
