"""An OpenAI-compatible HTTP client (vLLM, llama.cpp's server, ``transformers serve``), stdlib only.

- Hosts: loopback only (127.0.0.0/8, ::1, ``localhost``) unless ``allow_remote``; checked
  when the client is made, before any connection (names are not resolved).
- The API key is read from the environment variable named by ``api_key_env`` and sent as a
  bearer token; it is never written to a file, a log or an error message.
- Each thread keeps one connection alive (``http.client``). Each request has a timeout;
  timeouts, connection errors, 429 and 5xx answers are retried
  ``retries`` times with exponential backoff (``backoff · 2^attempt`` seconds, or the
  server's ``Retry-After`` when shorter than 60 s); then :class:`RequestFailed`.
- ``/chat/completions`` answers prompts (greedy; judges ask for ``logprobs``, dropped if
  the server refuses them); ``/completions`` with ``echo`` and
  ``logprobs`` simulates activations, when the server returns prompt log-probabilities.

Example:
    >>> check_endpoint("http://10.0.0.1:8000/v1")
    Traceback (most recent call last):
    ...
    neuroheat.errors.InputError: --endpoint http://10.0.0.1:8000/v1 is not a loopback address (127.0.0.0/8, ::1, localhost); pass --allow-remote to send the corpus to that host
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import os
import socket
import threading
import time
import urllib.parse
from collections.abc import Sequence
from typing import Any

from neuroheat.autointerp.clients.base import (
    Messages,
    NoLogprobs,
    RequestFailed,
    expected_digit,
    label_probabilities,
)
from neuroheat.errors import InputError

log = logging.getLogger("neuroheat")

__all__ = ["HTTPClient", "check_endpoint", "is_loopback"]

_RETRY_STATUS = {408, 409, 425, 429}


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost`` (no name is resolved).

    Example:
        >>> is_loopback("127.0.0.2"), is_loopback("::1"), is_loopback("example.org")
        (True, True, False)
    """
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint(url: str, allow_remote: bool = False) -> str:
    """The endpoint's base URL (ending before ``/chat/completions``); refuses a host outside
    loopback unless ``allow_remote``, and anything but http(s)."""
    parts = urllib.parse.urlsplit(str(url).strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"--endpoint {url} is not an http(s) URL; give e.g. "
                         "http://127.0.0.1:8000/v1")
    if not allow_remote and not is_loopback(parts.hostname):
        raise InputError(f"--endpoint {url} is not a loopback address (127.0.0.0/8, ::1, "
                         "localhost); pass --allow-remote to send the corpus to that host")
    base = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "",
                                    ""))
    for tail in ("/chat/completions", "/completions"):
        if base.endswith(tail):
            base = base[: -len(tail)]
    return base


class HTTPClient:
    """Answers from an OpenAI-compatible server (see the module docstring).

    Example:
        >>> client = HTTPClient("http://127.0.0.1:8000/v1", model="m")   # doctest: +SKIP
        >>> client.chat([{"role": "user", "content": "Say 1"}], max_tokens=4)  # doctest: +SKIP
        '1'
    """

    #: seconds of the first retry's wait (doubled at each retry)
    backoff = 0.5

    def __init__(self, endpoint: str, *, model: str | None = None,
                 api_key_env: str | None = None, allow_remote: bool = False,
                 timeout: float = 120.0, retries: int = 3, seed: int = 0) -> None:
        self.base = check_endpoint(endpoint, allow_remote)
        self._key: str | None = None
        if api_key_env:
            key = os.environ.get(api_key_env)
            if not key:
                raise InputError(f"--api-key-env {api_key_env}: that environment variable is "
                                 "not set or empty; export it, or leave the option out")
            self._key = key
        self.timeout, self.retries, self.seed = float(timeout), int(retries), int(seed)
        self.model = model
        self.name = model or ""
        self._local = threading.local()  # one kept-alive connection per thread
        self._chat_logprobs = True

    def __repr__(self) -> str:  # never the key
        return f"HTTPClient({self.base!r}, model={self.model!r})"

    # -- transport ----------------------------------------------------------------------------
    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's kept-alive connection, and whether it is new."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn, False
        parts = urllib.parse.urlsplit(self.base)
        cls = http.client.HTTPSConnection if parts.scheme == "https" else \
            http.client.HTTPConnection
        conn = cls(parts.hostname, parts.port, timeout=self.timeout)
        conn.connect()
        # small requests and answers: Nagle's algorithm with delayed ACKs would add ~40 ms
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._local.conn = conn
        return conn, True

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    def _send(self, path: str, data: bytes | None, headers: dict[str, str]
              ) -> tuple[int, bytes, str | None]:
        """One exchange on this thread's connection; a kept-alive connection the server has
        closed meanwhile is reopened once (not a retry)."""
        target = urllib.parse.urlsplit(self.base).path + path
        for _ in range(2):
            conn, fresh = self._connection()
            try:
                conn.request("GET" if data is None else "POST", target, body=data,
                             headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
                    http.client.CannotSendRequest):
                self._drop()
                if fresh:
                    raise
                continue
            except BaseException:
                self._drop()
                raise
            if resp.will_close:
                self._drop()
            return resp.status, raw, resp.getheader("Retry-After")
        raise ConnectionError("the server closed the connection")  # pragma: no cover

    def _request(self, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        last = ""
        for attempt in range(self.retries + 1):
            wait = self.backoff * 2 ** attempt
            try:
                status, raw, after = self._send(path, data, headers)
            except (OSError, http.client.HTTPException) as exc:
                last = f"{path}: {type(exc).__name__}: {exc}"
            else:
                if status == 200:
                    try:
                        return json.loads(raw.decode("utf-8"))
                    except ValueError:
                        last = f"{path}: the answer is not JSON"
                else:
                    detail = raw[:300].decode("utf-8", "replace").strip().replace("\n", " ")
                    last = f"{path}: HTTP {status} {detail}".strip()
                    if status < 500 and status not in _RETRY_STATUS:
                        raise RequestFailed(last, status=status)
                    if after and after.replace(".", "", 1).isdigit() and float(after) < 60:
                        wait = float(after)
            if attempt < self.retries:
                log.debug("retrying %s in %.2fs (%s)", path, wait, last)
                time.sleep(wait)
        raise RequestFailed(f"{last} (after {self.retries + 1} tries)")

    def _model(self) -> str:
        if self.model is None:
            try:
                models = self._request("/models", None).get("data") or []
                self.model = str(models[0]["id"])
            except (RequestFailed, LookupError, TypeError, AttributeError) as exc:
                raise RequestFailed(f"cannot list the server's models ({exc}); pass "
                                    "--model-name NAME") from None
            self.name = self.model
        return self.model

    # -- the client protocol ------------------------------------------------------------------
    def _chat(self, messages: Messages, max_tokens: int, logprobs: bool) -> dict[str, Any]:
        body = {"model": self._model(), "messages": list(messages), "max_tokens": max_tokens,
                "temperature": 0, "seed": self.seed, "stream": False}
        if logprobs and self._chat_logprobs:
            body.update(logprobs=True, top_logprobs=5)
        try:
            answer = self._request("/chat/completions", body)
        except RequestFailed as exc:
            if "logprobs" not in body or exc.status not in (400, 422):
                raise
            self._chat_logprobs = False  # a server that refuses the option: ask without it
            return self._chat(messages, max_tokens, False)
        try:
            choice = answer["choices"][0]
            choice["message"].get("content")
        except (LookupError, TypeError, AttributeError):
            raise RequestFailed("/chat/completions: the answer has no choices[0].message"
                                ) from None
        return choice

    def chat(self, messages: Messages, max_tokens: int) -> str:
        content = self._chat(messages, max_tokens, False)["message"].get("content")
        return "" if content is None else str(content)

    def judge(self, messages: Messages, max_tokens: int) -> tuple[str, list[float] | None]:
        choice = self._chat(messages, max_tokens, True)
        content = choice["message"].get("content")
        steps = None
        try:
            steps = [(str(t["token"]), {str(a["token"]): float(a["logprob"])
                                        for a in t.get("top_logprobs") or []})
                     for t in choice["logprobs"]["content"]]
        except (LookupError, TypeError, ValueError, AttributeError):
            pass  # no log-probabilities in the answer
        return ("" if content is None else str(content),
                None if steps is None else label_probabilities(steps))

    def simulate(self, text: str, spots: Sequence[int]) -> list[float]:
        body = {"model": self._model(), "prompt": text, "max_tokens": 1, "temperature": 0,
                "echo": True, "logprobs": 15}
        try:
            answer = self._request("/completions", body)
        except RequestFailed as exc:
            if exc.status is None:  # the server is down or failing: not a missing feature
                raise
            raise NoLogprobs(f"the server has no usable /completions ({exc})") from None
        try:
            lp = answer["choices"][0]["logprobs"]
            offsets, tops = lp["text_offset"], lp["top_logprobs"]
        except (LookupError, TypeError) as exc:
            raise NoLogprobs(f"the server returns no prompt log-probabilities on "
                             f"/completions ({exc})") from None
        at = {int(o): i for i, o in enumerate(offsets)}
        out = []
        for spot in spots:
            i = at.get(int(spot))
            top = tops[i] if i is not None and i < len(tops) else None
            value = expected_digit(top) if isinstance(top, dict) else None
            if value is None:
                raise NoLogprobs("the server's prompt log-probabilities do not cover the "
                                 "simulated positions")
            out.append(value)
        return out

    def close(self) -> None:
        self._drop()  # the calling thread's; worker threads' go with their threads
