"""Streaming corpus: a shard reads only its own lines, through a cached line index."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

import neuroheat as nh
from neuroheat.errors import CorpusError
from neuroheat.extract import line_index as li
from neuroheat.extract.corpus import open_corpus, read_corpus_file

TRICKY = [b"", b"\n", b"a", b"a\n", b"a b\n\nc", b"\xef\xbb\xbf", b"\xef\xbb\xbf\n",
          b"\xef\xbb\xbfx y\r\nz\n", b"a\n\n\n", b"\r\n\r\n", b"one\ntwo\nthree\nfour\nfive"]


@pytest.mark.parametrize("data", TRICKY)
@pytest.mark.parametrize("chunk", [2, 7, 8 << 20])
def test_index_reads_what_the_whole_file_reader_reads(tmp_path, monkeypatch, data, chunk):
    monkeypatch.setattr(li, "_CHUNK", chunk)  # lines that cross chunk edges
    path = tmp_path / "c.txt"
    path.write_bytes(data)
    lines = open_corpus(path)
    whole = read_corpus_file(path)
    assert lines.num_sentences == len(whole)
    assert lines.read(0, lines.num_sentences) == whole
    assert [w for k in range(len(whole)) for w in lines.read(k, k + 1)] == whole
    assert lines.checksum == hashlib.sha256(data).hexdigest()


def _corpus(tmp_path, n=40, bad_last=b""):
    path = tmp_path / "c.txt"
    path.write_bytes(b"".join(b"word %d and more words\n" % i for i in range(n)) + bad_last)
    return path


def test_a_shard_never_reads_the_other_shards_lines(tiny_bert, tmp_path):
    corpus = _corpus(tmp_path, bad_last=b"bad \xff line\n")
    first = nh.extract_activations(tiny_bert, corpus, tmp_path / "s.h5", shard="0/2",
                                   quiet=True)
    with nh.open_store(first) as store:
        assert store.meta["complete"] and store.meta["sentence_stop"] == 20
        assert store.meta["num_sentences_total"] == 41
        assert store.meta["corpus_sha256"] == hashlib.sha256(corpus.read_bytes()).hexdigest()
    with pytest.raises(CorpusError, match="line 41 is not valid UTF-8"):
        nh.extract_activations(tiny_bert, corpus, tmp_path / "s.h5", shard="1/2", quiet=True)


def test_the_index_is_cached_and_rebuilt_when_the_corpus_changes(tiny_bert, tmp_path):
    corpus = _corpus(tmp_path)
    cached = tmp_path / "c.txt.nhindex"
    nh.extract_activations(tiny_bert, corpus, tmp_path / "s.h5", shard="0/2", quiet=True)
    stamp = cached.stat().st_mtime_ns
    nh.extract_activations(tiny_bert, corpus, tmp_path / "s.h5", shard="1/2", quiet=True)
    assert cached.stat().st_mtime_ns == stamp  # the second shard mapped it
    with corpus.open("ab") as fh:
        fh.write(b"one more line\n")
    index = li.line_index(corpus)
    assert index.num_lines == 41 and cached.stat().st_mtime_ns != stamp
    one = nh.extract_activations(tiny_bert, corpus, tmp_path / "one.h5", quiet=True)
    with nh.open_store(one) as store:  # a one-process run has the same checksum
        assert store.meta["corpus_sha256"] == index.sha256


def test_index_falls_back_next_to_the_output(tmp_path):
    corpus = _corpus(tmp_path)
    (tmp_path / "c.txt.nhindex").mkdir()  # not writable as a file
    out = tmp_path / "out"
    out.mkdir()
    index = li.line_index(corpus, fallback_dir=out)
    assert index.num_lines == 40
    assert len(list(out.glob(".c.txt.*.nhindex"))) == 1
    assert li.line_index(corpus, fallback_dir=out).sha256 == index.sha256


def test_nul_in_a_word_names_the_line(tiny_bert, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_bytes(b"good line\nbad wo\x00rd\n")
    proc = subprocess.run([sys.executable, "-m", "neuroheat", "extract", str(tiny_bert),
                           str(corpus), str(tmp_path / "s.h5")], capture_output=True,
                          text=True, timeout=300)
    err = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(err) == 1, proc.stderr
    assert "line 2 contains a NUL character (column 7)" in err[0]
    assert not (tmp_path / "s.h5").exists()
    with pytest.raises(CorpusError, match="sentence 1: word 'wo\\\\x00rd'"):
        nh.extract_activations(tiny_bert, [["ok"], ["wo\x00rd"]], tmp_path / "t.h5")
    with pytest.raises(CorpusError, match="lone surrogate"):
        nh.extract_activations(tiny_bert, ["a \ud800"], tmp_path / "t.h5")


def test_lines_without_index_or_sentences_is_refused():
    import numpy as np

    from neuroheat.extract.corpus import Lines

    with pytest.raises(CorpusError, match="open_corpus"):
        Lines(bounds=np.array([0, 3]), checksum="x").read(0, 1)
