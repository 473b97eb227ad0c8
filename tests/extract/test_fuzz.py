"""Fuzzed corpora through ``neuroheat extract`` and the store readers (hypothesis).

Random bytes and random Unicode (control characters, lone surrogates as UTF-8-like bytes,
BOMs, CRLF, NUL, 10,000-character words): every run either succeeds with every line accounted
for, or exits 2 with one line; never a traceback, never a store marked complete that is not.
60 examples, well under a minute.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neuroheat as nh
from neuroheat.cli import main
from neuroheat.errors import IncompleteStoreError

COUNTER = itertools.count()

PIECES = st.one_of(
    st.text(max_size=12),
    st.text(st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Mn"]),
            max_size=6),
    st.sampled_from(["\ufeff", "\x00", "\r", "\r\n", "\n", "\t", "\x1c", "\u2028", "\u200b",
                     "##", "é", "ا", "漢字", "🙂"]),
    st.builds(lambda c, n: c * n, st.sampled_from("ab漢"), st.integers(200, 10_000)),
)
TEXT = st.lists(PIECES, max_size=8).map("".join).map(lambda t: t.encode("utf-8"))
BYTES = st.one_of(
    st.binary(max_size=200),
    TEXT,
    st.tuples(TEXT, st.sampled_from([b"\xed\xa0\x80", b"\xff", b"\xef\xbb\xbf", b"\x00",
                                      b"\r\n", b"\xc3"]), TEXT).map(b"".join),
    TEXT.map(lambda b: b"\xef\xbb\xbf" + b),
)


def _expected(data: bytes) -> list[list[str]]:
    """The corpus as documented: lines split on \\n, a final \\n ends the last line."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [raw.removesuffix(b"\r").decode("utf-8").split() for raw in lines]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=BYTES, shard=st.booleans())
def test_fuzzed_corpus(tiny_bert, workdir, capsys, data, shard):
    run = workdir / str(next(COUNTER))
    run.mkdir()
    corpus = run / "c.txt"
    corpus.write_bytes(data)
    out = run / "acts.h5"
    argv = ["extract", str(tiny_bert), str(corpus), str(out), "--device", "cpu", "--quiet",
            "--max-length", "32"]
    if shard:
        argv += ["--shard", "1/2"]
        out = run / "acts-shard1of2.h5"
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    if code != 0:
        assert code == 2, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("neuroheat: error: "), err
        if out.exists():
            with pytest.raises(IncompleteStoreError):
                nh.open_store(out)
        return
    expected = _expected(data)  # a successful run read valid UTF-8 without NULs
    with nh.open_store(out) as store:
        assert store.meta["complete"]
        start, stop = int(store.meta["sentence_start"]), int(store.meta["sentence_stop"])
        assert store.meta["num_sentences_total"] == len(expected)
        assert store.num_sentences == stop - start
        assert [store.words(i) for i in range(store.num_sentences)] == expected[start:stop]
        assert store.num_words == sum(len(s) for s in expected[start:stop])
        for i in range(store.num_sentences):
            assert store.sentence(i).shape == (len(expected[start + i]), store.num_layers,
                                               store.width)
        if store.num_words:
            assert store.neuron(store.layers[-1], 0).shape == (store.num_words,)
            assert isinstance(nh.analysis.top_words(store, store.layers[-1], 0, k=3), list)
    assert main(["info", str(out), "--json"]) == 0


@pytest.fixture(scope="module")
def good_store(tiny_bert, workdir) -> bytes:
    out = nh.extract_activations(tiny_bert, ["the cat sat", "", "a dog ran far"],
                                 workdir / "good.h5", device="cpu", quiet=True)
    return out.read_bytes()


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(cut=st.floats(0, 1), flips=st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)),
                                           max_size=4), noise=st.binary(max_size=64))
def test_damaged_stores_are_one_line_errors(good_store, workdir, capsys, cut, flips, noise):
    """Truncated, bit-flipped or garbage store files through the readers (info, top-words)."""
    data = bytearray(good_store[:max(1, int(len(good_store) * cut))] if cut < 1 else good_store)
    for where, xor in flips:
        data[min(len(data) - 1, int(len(data) * where))] ^= xor
    path = workdir / f"damaged{next(COUNTER)}.h5"
    path.write_bytes(bytes(data) if data else noise)
    for argv in (["info", str(path), "--json"], ["top-words", str(path), "--layer", "1",
                                                 "--neuron", "0"]):
        capsys.readouterr()
        code = main(argv)
        err = capsys.readouterr().err
        assert code in (0, 2), err
        if code:
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("neuroheat: error: "), err
