"""Fault injection for the sandbox: make the next requests fail the ways networks and AWS fail.

Tests queue faults on a running sandbox, e.g. ``sandbox.faults.next("throttling", count=3)``;
each request that matches takes the first queued fault. Kinds:

- ``delay``: wait ``seconds`` (default 0.5), then answer normally;
- ``timeout``: wait ``seconds`` (default 30) without answering, longer than the client waits;
- ``500`` / ``503``: an AWS ``InternalFailure`` / ``ServiceUnavailable`` error;
- ``throttling``: the 400 ``Throttling`` error STS sends when rate limited;
- ``drop``: close the connection without a byte of answer;
- ``malformed``: 200 OK with XML that is cut off.
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

KINDS = ("delay", "timeout", "500", "503", "throttling", "drop", "malformed")
_DEFAULT_SECONDS = {"delay": 0.5, "timeout": 30.0}
_ERRORS = {
    "500": ("500 Internal Server Error", "InternalFailure", "An internal error occurred."),
    "503": ("503 Service Unavailable", "ServiceUnavailable", "Service is unavailable."),
    "throttling": ("400 Bad Request", "Throttling", "Rate exceeded"),
}
_NS = "https://sts.amazonaws.com/doc/2011-06-15/"

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class Fault:
    kind: str
    seconds: float = 0.0
    action: str | None = None  # only requests for this STS action; None: any request


class Faults:
    """A queue of faults for the next requests, and a log of the ones applied."""

    def __init__(self) -> None:
        self._queue: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._released = threading.Event()  # set by clear(): ends pending timeouts at once
        self.applied: list[str] = []

    def next(
        self, kind: str, count: int = 1, *, seconds: float | None = None, action: str | None = None
    ) -> None:
        """Make the next ``count`` matching requests fail with ``kind``."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(KINDS)}")
        wait = _DEFAULT_SECONDS.get(kind, 0.0) if seconds is None else seconds
        with self._lock:
            self._released.clear()
            self._queue.extend(Fault(kind, wait, action) for _ in range(count))

    def clear(self) -> None:
        """Drop queued faults and end any timeout that is still holding a request."""
        with self._lock:
            self._queue.clear()
            self._released.set()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def take(self, action: str | None) -> Fault | None:
        with self._lock:
            for fault in self._queue:
                if fault.action is None or fault.action == action:
                    self._queue.remove(fault)
                    self.applied.append(fault.kind)
                    return fault
        return None

    def serve(
        self,
        fault: Fault,
        environ: dict[str, Any],
        start_response: StartResponse,
        app: WsgiApp,
    ) -> Iterable[bytes]:
        """Answer one request the way ``fault`` says."""
        if fault.kind == "delay":
            self._released.wait(fault.seconds)
            return app(environ, start_response)
        if fault.kind == "timeout":
            self._released.wait(fault.seconds)
            return _drop(environ, start_response)
        if fault.kind == "drop":
            return _drop(environ, start_response)
        if fault.kind == "malformed":
            body = f'<AssumeRoleResponse xmlns="{_NS}"><AssumeRoleResult><Credentials><Acc'
            return _answer(start_response, "200 OK", body.encode())
        status, code, message = _ERRORS[fault.kind]
        body = (
            f'<ErrorResponse xmlns="{_NS}"><Error><Type>Receiver</Type><Code>{code}</Code>'
            f"<Message>{message}</Message></Error><RequestId>{uuid.uuid4()}</RequestId>"
            "</ErrorResponse>"
        )
        return _answer(start_response, status, body.encode())


def action_of(environ: dict[str, Any]) -> str | None:
    """The STS ``Action`` of a request (query or form body; the body is put back to be read)."""
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return query["Action"][0]
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    form = parse_qs(body.decode("utf-8", "replace"))
    return form["Action"][0] if "Action" in form else None


def _answer(start_response: StartResponse, status: str, body: bytes) -> list[bytes]:
    start_response(
        status,
        [
            ("Content-Type", "text/xml"),
            ("Content-Length", str(len(body))),
            ("x-amzn-RequestId", str(uuid.uuid4())),
        ],
    )
    return [body]


def _drop(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
    """Close the client's connection without answering (what a dead peer or proxy does)."""
    connection = environ.get("werkzeug.socket")
    if isinstance(connection, socket.socket):
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_RDWR)
    # werkzeug's write of the answer below then fails on the closed socket and is dropped.
    start_response("500 Internal Server Error", [("Content-Length", "0")])
    return []
