"""``neuroheat ablate``: EFFECTS.json with exactly the issue's keys, shard file names, and
bad input as one line with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from neuroheat.cli import main
from tests.intervene import reference as R


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_text("\n".join(R.LINES) + "\n", encoding="utf-8")
    return path


def test_ablate_writes_effects_json(lms, corpus, tmp_path, capsys):
    out = tmp_path / "effects.json"
    rc = main(["ablate", str(lms["gpt2"]), str(corpus), "-o", str(out), "--units", "mlp.2:3,5",
               "--units", "resid.1:0", "--method", "scale", "--value", "0.5", "--device", "cpu",
               "--quiet"])
    assert rc == 0
    data = json.loads(out.read_text())
    assert set(data) == {"model", "corpus", "method", "tokens", "clean", "results"}
    assert set(data["clean"]) == {"ce", "entropy"}
    assert [r["units"] for r in data["results"]] == [["mlp.2:3"], ["mlp.2:5"], ["resid.1:0"]]
    assert set(data["results"][0]) == {"units", "delta_ce", "kl", "delta_entropy",
                                       "top_promoted", "top_suppressed"}
    assert len(data["results"][0]["top_promoted"]) == 10
    rc = main(["ablate", str(lms["gpt2"]), str(corpus), "-o", str(out), "--units", "mlp.2:0-3",
               "--shard", "1/2", "--device", "cpu", "--quiet"])
    assert rc == 0
    shard = json.loads((tmp_path / "effects.1-of-2.json").read_text())
    assert [r["units"] for r in shard["results"]] == [["mlp.2:2"], ["mlp.2:3"]]


@pytest.mark.parametrize("extra,message", [
    (["--units", "mlp.7:0"], "does not exist"),
    (["--units", "mlp.2:4096"], "outside"),
    (["--units", "mlp.2:x"], "cannot read unit"),
    (["--units", "mlp.2:0", "--method", "fixed"], "needs --value"),
    ([], "no units given"),
])
def test_bad_input_is_one_line_and_exit_2(lms, corpus, tmp_path, extra, message):
    cmd = [sys.executable, "-m", "neuroheat", "ablate", str(lms["gpt2"]), str(corpus), "-o",
           str(tmp_path / "e.json"), "--device", "cpu", *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    lines = [x for x in proc.stderr.splitlines() if x.startswith("neuroheat: error")]
    assert len(lines) == 1 and message in lines[0], proc.stderr


def test_a_model_without_a_head_is_refused(tiny_bert, corpus, tmp_path, capsys):
    rc = main(["ablate", str(tiny_bert), str(corpus), "-o", str(tmp_path / "e.json"),
               "--units", "mlp.1:0", "--device", "cpu"])
    assert rc == 2
    assert "language model with its head" in capsys.readouterr().err
