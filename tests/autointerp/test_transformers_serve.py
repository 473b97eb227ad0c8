"""One explanation end to end through a real ``transformers serve`` on loopback (slow)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from neuroheat.autointerp import explain

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(chat_model, tmp_path_factory):
    """``transformers serve DIR`` (the model preloaded) on 127.0.0.1:PORT, offline."""
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    exe = Path(sys.executable).with_name("transformers")
    cmd = [str(exe)] if exe.exists() else [shutil.which("transformers") or "transformers"]
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "OMP_NUM_THREADS": "1"}
    with open(log, "wb") as out:
        proc = subprocess.Popen([*cmd, "serve", str(chat_model), "--host", "127.0.0.1",
                                 "--port", str(port)], stdout=out, stderr=subprocess.STDOUT,
                                env=env)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url + "/models", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"transformers serve did not start: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_one_explanation_through_transformers_serve(served, planted, chat_model, tmp_path,
                                                    caplog):
    out = tmp_path / "E.json"
    with caplog.at_level(logging.WARNING, logger="neuroheat"):
        res = explain(planted["file"], out, units="1:0", endpoint=served,
                      model_name=str(chat_model), scorers="simulation", explain_examples=3,
                      score_examples=2, non_activating=2, window=2, max_new_tokens=12,
                      timeout=60, retries=1, quiet=True)
    r = res[(1, 0)]
    assert isinstance(r["explanation"], str) and r["explanation"] and r["error"] is None
    # transformers serve's /v1/completions returns no log-probabilities: skipped, warned
    assert "simulation scorer skipped" in caplog.text and "simulation" not in r["scores"]
    assert json.loads(out.read_text())["explainer"]["model"] == str(chat_model)
    # the random model cannot answer a JSON list: detection records the failure, run goes on
    res = explain(planted["file"], tmp_path / "D.json", units="1:0", endpoint=served,
                  model_name=str(chat_model), scorers="detection", explain_examples=3,
                  score_examples=2, non_activating=2, window=2, max_new_tokens=12,
                  examples_per_prompt=4, timeout=60, retries=0, quiet=True)
    assert res[(1, 0)]["explanation"] and "unreadable answer" in res[(1, 0)]["error"]
