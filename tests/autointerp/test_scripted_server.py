"""The explain loop against a scripted server on 127.0.0.1: every score is a hand computation."""

from __future__ import annotations

import json
import logging
import random
import re
import time

import pytest

from neuroheat.autointerp import ExplainResult, explain, load_explanations
from neuroheat.autointerp.clients.http import HTTPClient
from neuroheat.cli import main
from tests.autointerp.server import ScriptedServer, kind_of, n_examples, ones

UNITS = "1:0,1:1,1:2,1:3"
SMALL = {"explain_examples": 4, "score_examples": 4, "non_activating": 6, "window": 2,
         "quiet": True}


def test_always_one_judge_hand_scores(planted, tmp_path):
    with ScriptedServer(ones) as srv:
        res = explain(planted["file"], tmp_path / "E.json", units=UNITS, endpoint=srv.url,
                      scorers="detection,fuzzing", examples_per_prompt=3, **SMALL)
    assert len(res) == 4 and not res.failed
    for r in res.neurons:
        assert r["explanation"] == "the word cat"
        det = [x for x in r["score_examples"] if x["scorer"] == "detection"]
        n_act = sum(x["activating"] for x in det)
        assert 0 < n_act < len(det)
        d = r["scores"]["detection"]
        assert d["recall"] == 1.0
        assert d["precision"] == pytest.approx(n_act / len(det))
        assert d["accuracy"] == pytest.approx(n_act / len(det))
        assert d["balanced_accuracy"] == pytest.approx(0.5)  # all "1": recall 1, TNR 0
        assert d["f1"] == pytest.approx(2 * (n_act / len(det)) / (n_act / len(det) + 1))
        fz = [x for x in r["score_examples"] if x["scorer"] == "fuzzing"]
        n_ok = sum(x["activating"] for x in fz)
        # half marked correctly (rounded up), the rest at other words
        assert n_ok == (len(fz) + 1) // 2
        assert r["scores"]["fuzzing"]["precision"] == pytest.approx(n_ok / len(fz))
    # prompts carry at most examples_per_prompt examples; answers were JSON lists
    assert max(n_examples(q["body"]) for q in srv.of_kind("detection")) == 3


def _recompute(rows: list[dict]) -> dict[str, float]:
    tp = sum(1 for r in rows if r["activating"] and r["prediction"] == 1)
    fp = sum(1 for r in rows if not r["activating"] and r["prediction"] == 1)
    fn = sum(1 for r in rows if r["activating"] and r["prediction"] == 0)
    tn = sum(1 for r in rows if not r["activating"] and r["prediction"] == 0)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    tnr = tn / (tn + fp) if tn + fp else None
    bal = (rec + tnr) / 2 if tnr is not None else rec
    return {"accuracy": (tp + tn) / len(rows), "balanced_accuracy": bal, "precision": prec,
            "recall": rec, "f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0}


def test_random_judge_scores_equal_records(planted, tmp_path):
    rng = random.Random(7)

    def coin(kind, body):
        if kind == "explain":
            return 200, "animals"
        n = n_examples(body)
        return 200, json.dumps([rng.randint(0, 1) for _ in range(n)])

    with ScriptedServer(coin) as srv:
        out = tmp_path / "E.json"
        explain(planted["file"], out, units=UNITS, endpoint=srv.url, concurrency=1,
                examples_per_prompt=4, **SMALL)
    data = json.loads(out.read_text())
    assert set(data) == {"explainer", "neurons"}
    for r in data["neurons"]:
        assert list(r) == ["layer", "neuron", "explanation", "explain_examples",
                           "score_examples", "scores", "error"]
        for scorer in ("detection", "fuzzing"):
            rows = [x for x in r["score_examples"] if x["scorer"] == scorer]
            assert r["scores"][scorer] == pytest.approx(_recompute(rows))
        for x in r["explain_examples"]:
            assert set(x) == {"sentence", "position", "value"}
    settings = data["explainer"]
    assert settings["window"] == 2 and settings["seed"] == 0 and settings["model"] == "scripted"
    assert settings["scorers"] == ["detection", "fuzzing"]


def test_one_example_per_prompt_reads_yes_no(planted, tmp_path):
    def yes_no(kind, body):
        if kind == "explain":
            return 200, '"cats"'
        text = body["messages"][-1]["content"]
        return 200, "Yes." if "cat" in text.split("Example:")[1] else "no"

    with ScriptedServer(yes_no) as srv:
        res = explain(planted["file"], tmp_path / "E.json", units="1:0", endpoint=srv.url,
                      scorers="detection", examples_per_prompt=1, **SMALL)
    r = res[(1, 0)]
    assert r["explanation"] == "cats"
    # "cat" in the window exactly when the window activates: a perfect judge
    assert r["scores"]["detection"]["accuracy"] == 1.0
    assert len(srv.of_kind("detection")) == len(r["score_examples"])


def test_garbage_and_500_leave_errors_and_resume_retries_them(planted, tmp_path):
    def flaky(kind, body):
        text = body["messages"][-1]["content"]
        if kind == "explain":
            if "<<dog>>" in text:
                return 500, None
            if "<<bird>>" in text:
                return 200, b"this is not json"
            return 200, "cat neuron" if "<<cat>>" in text else "something else"
        if '"cat neuron"' in text:
            return 200, "I cannot tell."
        return ones(kind, body)

    out = tmp_path / "E.json"
    with ScriptedServer(flaky) as srv:
        code = main(["explain", planted["file"], "-o", str(out), "--units", UNITS,
                     "--endpoint", srv.url, "--scorers", "detection", "--retries", "1",
                     "--window", "2", "--explain-examples", "4", "--score-examples", "4",
                     "--non-activating", "6", "--quiet"])
    assert code == 0
    res = ExplainResult.load(out)
    errors = {(r["layer"], r["neuron"]): r["error"] for r in res.neurons}
    assert "HTTP 500" in errors[(1, 1)] and "after 2 tries" in errors[(1, 1)]
    assert "not JSON" in errors[(1, 2)]
    assert "unreadable answer" in errors[(1, 0)]
    failed = {k for k, v in errors.items() if v}
    with ScriptedServer(ones) as srv2:
        code = main(["explain", planted["file"], "-o", str(out), "--units", UNITS,
                     "--endpoint", srv2.url, "--scorers", "detection", "--window", "2",
                     "--explain-examples", "4", "--score-examples", "4",
                     "--non-activating", "6", "--quiet", "--resume"])
    assert code == 0
    assert len(srv2.of_kind("explain")) == len(failed)  # exactly the failed neurons again
    res2 = ExplainResult.load(out)
    assert not res2.failed and len(res2) == 4
    for key in set(errors) - failed:  # kept as they were
        assert res2[key] == res[key]


def test_remote_endpoint_refused_before_any_connection(planted, tmp_path, capsys):
    code = main(["explain", planted["file"], "-o", str(tmp_path / "E.json"),
                 "--endpoint", "http://10.0.0.1:8000/v1", "--units", "1:0"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--allow-remote" in err
    assert not (tmp_path / "E.json").exists()


def test_retries_after_500_then_succeeds(planted, tmp_path, monkeypatch):
    calls = {"n": 0}

    def two_failures(kind, body):
        calls["n"] += 1
        return (500, None) if calls["n"] <= 2 else ones(kind, body)

    monkeypatch.setattr(HTTPClient, "backoff", 0.01)
    with ScriptedServer(two_failures) as srv:
        res = explain(planted["file"], tmp_path / "E.json", units="1:0", endpoint=srv.url,
                      scorers="detection", retries=2, concurrency=1, **SMALL)
    assert not res.failed and calls["n"] > 3


def test_api_key_sent_never_written_or_logged(planted, tmp_path, monkeypatch, caplog):
    secret = "sk-test-very-secret-0123"
    monkeypatch.setenv("NH_TEST_KEY", secret)
    out = tmp_path / "E.json"
    with caplog.at_level(logging.DEBUG, logger="neuroheat"), ScriptedServer(ones) as srv:
        explain(planted["file"], out, units="1:0", endpoint=srv.url, api_key_env="NH_TEST_KEY",
                scorers="detection", **SMALL)
    assert {r["auth"] for r in srv.requests} == {f"Bearer {secret}"}
    assert secret not in out.read_text() and secret not in caplog.text
    assert json.loads(out.read_text())["explainer"]["api_key_env"] == "NH_TEST_KEY"


def _echo_logprobs(body: dict, value_of) -> dict:
    """A /completions answer whose prompt log-probabilities put each placeholder's whole
    mass on ``value_of(word)``."""
    text = body["prompt"]
    offsets, tops, pos = [], [], 0
    for line in text.split("\n"):
        if "\t" in line:
            word = line.split("\t")[0]
            offsets.append(pos + len(word) + 1)
            tops.append({str(value_of(word)): 0.0, "x": -20.0})
        pos += len(line) + 1
    return {"choices": [{"text": "", "index": 0, "logprobs": {
        "text_offset": offsets, "top_logprobs": tops, "tokens": ["unknown"] * len(offsets)}}]}


def test_simulation_correlation_is_pearson(planted, tmp_path):
    import numpy as np

    def sim(kind, body):
        if kind == "explain":
            marked = set(re.findall(r"<<(.*?)>>", body["messages"][-1]["content"]))
            return 200, "the word cat" if marked - {"like this"} == {"cat"} else "anything"
        if kind == "completion":
            if '"the word cat"' in body["prompt"]:
                return 200, _echo_logprobs(body, lambda w: 10 if w == "cat" else 0)
            return 200, _echo_logprobs(body, lambda w: len(w) % 11)
        return ones(kind, body)

    with ScriptedServer(sim) as srv:
        res = explain(planted["file"], tmp_path / "E.json", units="1:0,1:3",
                      endpoint=srv.url, scorers="simulation", **SMALL)
    assert res[(1, 0)]["scores"]["simulation"]["correlation"] == pytest.approx(1.0)
    # neuron 3 is random: Pearson over its scoring windows' words, pooled, by hand
    from neuroheat.autointerp.examples import select_examples

    ex = select_examples(planted["file"], {1: [3]}, explain=4, activating=4,
                         non_activating=6, window=2, seed=0)[(1, 3)]
    windows = ex.activating + ex.non_activating
    words = [w for e in windows for w in e.words]
    true = np.concatenate([e.values for e in windows])
    expected = np.corrcoef([len(w) % 11 for w in words], true)[0, 1]
    assert res[(1, 3)]["scores"]["simulation"]["correlation"] == pytest.approx(expected)


def test_simulation_skipped_with_warning_without_logprobs(planted, tmp_path, caplog):
    def no_lp(kind, body):
        if kind == "completion":
            return 200, {"choices": [{"text": "", "index": 0, "logprobs": None}]}
        return ones(kind, body)

    with caplog.at_level(logging.WARNING, logger="neuroheat"), ScriptedServer(no_lp) as srv:
        res = explain(planted["file"], tmp_path / "E.json", units="1:0,1:1",
                      endpoint=srv.url, scorers="detection,simulation", concurrency=1,
                      **SMALL)
    assert "simulation scorer skipped" in caplog.text
    assert not res.failed
    assert all("simulation" not in r["scores"] and "detection" in r["scores"]
               for r in res.neurons)
    assert len(srv.of_kind("completion")) == 1  # asked once, then skipped


def test_loader_for_dashboards(planted, tmp_path):
    out = tmp_path / "E.json"
    with ScriptedServer(ones) as srv:
        explain(planted["file"], out, layers="1", endpoint=srv.url, scorers="detection",
                **SMALL)
    found = load_explanations(out)
    assert set(found) == {(1, 0), (1, 1), (1, 2), (1, 3)}
    assert found[(1, 0)].explanation == "the word cat"
    assert found[(1, 0)].score == 0.5 == found[(1, 0)].scores["detection"]["balanced_accuracy"]
    assert kind_of({"prompt": ""}) == "completion"


def _examples_of(path):
    data = json.loads(path.read_text())
    return [(r["layer"], r["neuron"], r["explain_examples"], r["score_examples"], r["scores"])
            for r in data["neurons"]]


def test_seeded_runs_identical_and_shards_equal_one_file(planted, tmp_path):
    outs = []
    with ScriptedServer(ones) as srv:
        for i, source in enumerate([planted["file"], planted["file"], planted["shards"]]):
            outs.append(tmp_path / f"E{i}.json")
            explain(source, outs[-1], units=UNITS, endpoint=srv.url, seed=5, **SMALL)
        explain(planted["file"], tmp_path / "other.json", units=UNITS, endpoint=srv.url,
                seed=6, **SMALL)
    first = _examples_of(outs[0])
    assert first == _examples_of(outs[1]) == _examples_of(outs[2])
    assert first != _examples_of(tmp_path / "other.json")
    assert outs[0].read_text() == outs[1].read_text()


def test_slow_server_times_out_into_an_error(planted, tmp_path):
    with ScriptedServer(ones, delay=1.5) as srv:
        t0 = time.monotonic()
        res = explain(planted["file"], tmp_path / "E.json", units="1:0", endpoint=srv.url,
                      timeout=0.3, retries=0, scorers="detection", **SMALL)
    assert time.monotonic() - t0 < 1.5
    assert "timed out" in res[(1, 0)]["error"] and res[(1, 0)]["explanation"] is None


@pytest.mark.parametrize("argv,message", [
    (["--units", "1:0"], "no explainer"),
    (["--units", "1:0", "--endpoint", "http://127.0.0.1:9/v1", "--explainer-model", "m"],
     "not both"),
    (["--units", "7:0", "--endpoint", "http://127.0.0.1:9/v1"], "layer 7 is not in the store"),
    (["--units", "1:99", "--endpoint", "http://127.0.0.1:9/v1"], "out of range"),
    (["--endpoint", "http://127.0.0.1:9/v1", "--scorers", "detection,vibes"],
     "unknown scorer 'vibes'"),
    (["--endpoint", "ftp://127.0.0.1/v1"], "not an http(s) URL"),
    (["--endpoint", "http://127.0.0.1:9/v1", "--api-key-env", "NH_SURELY_UNSET_VAR"],
     "NH_SURELY_UNSET_VAR"),
])
def test_bad_input_is_one_line(planted, tmp_path, capsys, argv, message):
    code = main(["explain", planted["file"], "-o", str(tmp_path / "E.json"), "--quiet", *argv])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err, err


def test_existing_output_needs_resume_or_overwrite(planted, tmp_path, capsys):
    out = tmp_path / "E.json"
    out.write_text("{}")
    code = main(["explain", planted["file"], "-o", str(out), "--units", "1:0",
                 "--endpoint", "http://127.0.0.1:9/v1"])
    assert code == 2 and "--resume" in capsys.readouterr().err


def test_auc_from_chat_logprobs(planted, tmp_path):
    import math

    def windows_of(body):
        user = body["messages"][-1]["content"]
        return [line.split(": ", 1)[1] for line in user.splitlines()
                if re.match(r"^Example( \d+)?: ", line)]

    def p_one(window: str) -> float:  # confident on cats, fooled by "and"
        words = window.split()
        return 0.9 if "cat" in words else 0.95 if "and" in words else 0.1

    def scripted(kind, body):
        if kind == "explain":
            return 200, "the word cat"
        steps = [{"token": "[", "logprob": 0.0, "top_logprobs": []}]
        for i, w in enumerate(windows_of(body)):
            p = p_one(w)
            steps.append({"token": "1", "logprob": math.log(p), "top_logprobs": [
                {"token": "1", "logprob": math.log(p)},
                {"token": "0", "logprob": math.log(1 - p)}]})
            steps.append({"token": "," if i < len(windows_of(body)) - 1 else "]",
                          "logprob": 0.0, "top_logprobs": []})
        n = len(windows_of(body))
        return 200, {"content": json.dumps([1] * n), "logprobs": {"content": steps}}

    from neuroheat.autointerp.examples import select_examples

    with ScriptedServer(scripted) as srv:
        res = explain(planted["file"], tmp_path / "E.json", units="1:0", endpoint=srv.url,
                      scorers="detection", examples_per_prompt=3, **SMALL)
    assert all(q["body"].get("logprobs") is True for q in srv.of_kind("detection"))
    ex = select_examples(planted["file"], {1: [0]}, explain=4, activating=4,
                         non_activating=6, window=2, seed=0)[(1, 0)]
    # every positive (a cat window, 0.9) beats a negative without "and" (0.1) and loses to
    # one with "and" (0.95)
    plain = sum("and" not in e.words for e in ex.non_activating)
    assert 0 < plain < len(ex.non_activating)
    assert res[(1, 0)]["scores"]["detection"]["auc"] == pytest.approx(
        plain / len(ex.non_activating))


def test_server_refusing_logprobs_is_asked_without(planted, tmp_path):
    def strict(kind, body):
        if body.get("logprobs"):
            return 400, None
        return ones(kind, body)

    with ScriptedServer(strict) as srv:
        res = explain(planted["file"], tmp_path / "E.json", units="1:0", endpoint=srv.url,
                      scorers="detection", concurrency=1, **SMALL)
    assert not res.failed and "auc" not in res[(1, 0)]["scores"]["detection"]
    assert sum(1 for q in srv.requests if q["body"].get("logprobs")) == 1


def test_resume_adds_units_and_keeps_finished_ones(planted, tmp_path):
    out = tmp_path / "E.json"
    with ScriptedServer(ones) as srv:
        explain(planted["file"], out, units="1:0", endpoint=srv.url, scorers="detection",
                **SMALL)
        first = ExplainResult.load(out)[(1, 0)]
        res = explain(planted["file"], out, units="1:0,1:1", endpoint=srv.url,
                      scorers="detection", resume=True, **SMALL)
        assert len(srv.of_kind("explain")) == 2  # 1:0 once, 1:1 once
        with pytest.raises(ValueError, match="window=2"):
            explain(planted["file"], out, units="1:2", endpoint=srv.url, scorers="detection",
                    resume=True, **{**SMALL, "window": 3})
    assert res[(1, 0)] == first and len(res) == 2


@pytest.mark.parametrize("concurrency", [1, 3])
def test_concurrency_and_output_written_as_neurons_finish(planted, tmp_path, concurrency):
    import threading

    out = tmp_path / "E.json"
    seen: list[int] = []
    done = threading.Event()

    def watch():  # every read of the file is whole JSON (atomic writes)
        while not done.is_set():
            if out.exists():
                seen.append(len(json.loads(out.read_text())["neurons"]))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    with ScriptedServer(ones, delay=0.15) as srv:
        watcher.start()
        try:
            explain(planted["file"], out, units="0:3,1:0-3", endpoint=srv.url,
                    scorers="detection", concurrency=concurrency, examples_per_prompt=6,
                    **SMALL)
        finally:
            done.set()
            watcher.join()
    assert srv.max_inflight <= concurrency and srv.max_inflight >= min(2, concurrency)
    if concurrency == 1:  # about 2 s of requests: rewritten as neurons finish
        assert any(0 < n < 5 for n in seen)
    assert len(json.loads(out.read_text())["neurons"]) == 5
