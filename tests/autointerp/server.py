"""A scripted OpenAI-compatible server on 127.0.0.1 (stdlib ``http.server`` in a thread).

A test chooses how it answers with ``script(kind, body) -> (status, content)``: ``kind`` is
``"explain"``, ``"detection"``, ``"fuzzing"`` (chat) or ``"completion"``; ``content`` is the
message text, or ``{"content", "logprobs"}`` (chat), or a full JSON answer (completion). Every request is recorded.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Script = Callable[[str, dict], tuple[int, Any]]


def kind_of(body: dict) -> str:
    if "prompt" in body:
        return "completion"
    user = body["messages"][-1]["content"]
    if "Activations:" in user:
        return "explain"
    return "fuzzing" if "marked words are the ones" in user else "detection"


def n_examples(body: dict) -> int:
    user = body["messages"][-1]["content"]
    return max(1, len(re.findall(r"^Example \d+:", user, re.MULTILINE)))


def ones(kind: str, body: dict) -> tuple[int, str]:
    """A judge that always answers 1 (and a fixed explanation)."""
    if kind == "explain":
        return 200, "Explanation: the word cat"
    n = n_examples(body)
    return 200, "1" if n == 1 else json.dumps([1] * n)


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and left: expected in the slow-answer tests


class ScriptedServer:
    """``with ScriptedServer(script) as srv: srv.url`` -> ``http://127.0.0.1:PORT/v1``."""

    def __init__(self, script: Script = ones, delay: float = 0.0) -> None:
        self.script, self.delay = script, delay
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.inflight = self.max_inflight = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # as real servers (uvicorn) do

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, payload: Any) -> None:
                data = (payload if isinstance(payload, bytes) else
                        json.dumps(payload).encode())
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._send(200, {"object": "list", "data": [{"id": "scripted"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                kind = kind_of(body)
                with outer.lock:
                    outer.requests.append({"path": self.path, "kind": kind, "body": body,
                                           "auth": self.headers.get("Authorization")})
                    outer.inflight += 1
                    outer.max_inflight = max(outer.max_inflight, outer.inflight)
                try:
                    if outer.delay:
                        time.sleep(outer.delay)
                    status, content = outer.script(kind, body)
                finally:
                    with outer.lock:
                        outer.inflight -= 1
                if status != 200:
                    self._send(status, {"error": "scripted failure"})
                elif kind == "completion":
                    self._send(200, content)
                elif isinstance(content, bytes):
                    self._send(200, content)
                elif isinstance(content, dict):  # {"content": text, "logprobs": {...}}
                    self._send(200, {"id": "x", "object": "chat.completion", "choices": [
                        {"index": 0, "message": {"role": "assistant",
                                                 "content": content["content"]},
                         "logprobs": content["logprobs"], "finish_reason": "stop"}]})
                else:
                    self._send(200, {"id": "x", "object": "chat.completion", "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": "stop"}]})

        self.httpd = _Quiet(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["kind"] == kind]
