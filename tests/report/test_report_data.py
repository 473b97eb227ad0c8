"""report.data.collect: context windows over empty sentences, byte-level rows decoded."""

from __future__ import annotations

import numpy as np

from neuroheat.analysis import top_contexts
from neuroheat.analysis.all_contexts import top_contexts_all
from neuroheat.formats.bytelevel import decode_token
from neuroheat.report.data import collect
from neuroheat.store import write_store


def test_empty_sentences_and_windows(tmp_path):
    sents = [["a", "b"], [], ["c"], [], [], ["d", "e", "f"]]
    rng = np.random.default_rng(0)
    acts = [rng.standard_normal((len(s), 1, 3)).astype(np.float32) for s in sents]
    write_store(tmp_path / "e.h5", sents, acts)
    found = top_contexts_all(tmp_path / "e.h5", k=6)
    for n in range(3):
        for lowest in (False, True):
            assert found.contexts(0, n, lowest).to_records() == \
                top_contexts(tmp_path / "e.h5", 0, n, k=6, lowest=lowest).to_records()
    block = collect(tmp_path / "e.h5", k=6, window=1).block(0, 0, 3)
    for rec in block["neurons"]:
        for c in rec["top"] + rec["bottom"]:
            words = [block["vocab"][i] for i in c["w"]]
            s, p = sents[c["s"]], c["p"]
            assert words == s[max(0, p - 1):p + 2] and words[c["o"]] == s[p]
            assert len(c["a"]) == len(words)


def test_byte_level_rows_are_shown_decoded(tmp_path):
    sents = [["Ġcaf", "Ã©", "Ġau", "Ġlait"], ["æĹ¥", "æľ¬", "Ġcaf"]]
    acts = [np.arange(len(s) * 2, dtype=np.float32).reshape(len(s), 1, 2) for s in sents]
    write_store(tmp_path / "b.h5", sents, acts, meta={"aggregation": "none"})
    data = collect(tmp_path / "b.h5", k=2, window=3)
    assert data.display == ["caf", "é", "au", "lait", "日", "本"]
    block = data.block(0, 0, 2)
    shown = {w for rec in block["neurons"] for c in rec["top"] for w in
             (block["vocab"][i] for i in c["w"])}
    assert "é" in shown and all(not w.startswith("Ġ") for w in shown)
    assert decode_token("Ã") == "\\xc3"  # half of a character: its byte
    write_store(tmp_path / "w.h5", sents, acts)  # words (not subword rows): as written
    assert collect(tmp_path / "w.h5", k=2, window=3).display[1] == "Ã©"
