"""The local-model client on a tiny checkpoint (a random Llama with a chat template)."""

from __future__ import annotations

import json

import pytest

from neuroheat.autointerp.clients.local import LocalClient
from neuroheat.cli import main


@pytest.fixture(scope="module")
def client(chat_model):
    c = LocalClient(str(chat_model), device="cpu", batch_size=4)
    yield c
    c.close()


def test_explainer_model_writes_an_explanation_for_every_neuron(planted, chat_model, tmp_path):
    out = tmp_path / "E.json"
    code = main(["explain", planted["file"], "-o", str(out), "--units", "1:0,1:1,1:3",
                 "--explainer-model", str(chat_model), "--device", "cpu",
                 "--scorers", "simulation", "--explain-examples", "3", "--score-examples", "2",
                 "--non-activating", "2", "--window", "2", "--max-new-tokens", "12",
                 "--batch-size", "4", "--quiet"])
    assert code == 0
    data = json.loads(out.read_text())
    assert [(r["layer"], r["neuron"]) for r in data["neurons"]] == [(1, 0), (1, 1), (1, 3)]
    for r in data["neurons"]:
        assert isinstance(r["explanation"], str) and r["explanation"] and r["error"] is None
        assert -1.0 <= r["scores"]["simulation"]["correlation"] <= 1.0
    assert data["explainer"]["model"] == str(chat_model)


def test_batched_answers_equal_one_at_a_time(client):
    from concurrent.futures import ThreadPoolExecutor

    prompts = [[{"role": "user", "content": f"Say {w}"}] for w in ("cat", "a dog ran", "1")]
    alone = [client.chat(p, max_tokens=6) for p in prompts]
    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(lambda p: client.chat(p, max_tokens=6), prompts))
    assert together == alone


def test_chat_template_and_simulation(client):
    text = client.render([{"role": "system", "content": "S"}, {"role": "user", "content": "U"}])
    assert text == "<|system|>\nS\n<|user|>\nU\n<|assistant|>\n"
    sim_text = "cats\nthe\tunknown\ncat\tunknown\n"
    values = client.simulate(sim_text, [sim_text.index("unknown"), sim_text.rindex("unknown")])
    assert len(values) == 2 and all(0.0 <= v <= 10.0 for v in values)


def test_judge_answers_come_with_label_probabilities(client):
    assert client._labels  # 0 / 1 are single tokens of the tiny tokenizer
    text, probs = client.judge([{"role": "user", "content": "Answer 1 or 0."}], max_tokens=8)
    assert isinstance(text, str) and probs is not None
    assert all(0.0 <= p <= 1.0 for p in probs)


def test_without_a_chat_template_messages_are_plain_text(client, monkeypatch):
    monkeypatch.setattr(client.tok, "chat_template", None)
    text = client.render([{"role": "system", "content": "S"}, {"role": "user", "content": "U"}])
    assert text == "S\n\nU\n\nAnswer:"
    assert isinstance(client.chat([{"role": "user", "content": "U"}], max_tokens=3), str)
