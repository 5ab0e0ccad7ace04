"""The running tray's Unix socket: other aacli processes (``credential-process --server``,
``env --server``) ask it for a role's credentials or its credential server's variables.

One JSON object per connection each way: the client sends its request and shuts its side
down, the tray answers and closes. Requests (``target`` is a label or a shortening):
``{"op": "credentials", "target": T}`` -> the credential_process JSON (``Version`` 1 ...);
``{"op": "server-env", "target": T}`` -> the two variables of the tray's credential server.
Any failure is ``{"error": "<the sentence the user sees>"}``.

Who may ask: the socket lives in aacli's private state folder (0700) and is itself 0600, and
the tray answers only a peer of its own uid (``SO_PEERCRED``); the client checks that the tray
is of its uid too. On macOS the peer check would be ``getpeereid`` (``LOCAL_PEERCRED``); it is
not built, so there the folder's and the socket's modes alone keep others out. On Windows
(not built) this would be a named pipe ``\\\\.\\pipe\\aacli-tray-<user SID>`` created with a
DACL for the user alone and ``PIPE_REJECT_REMOTE_CLIENTS``, the peer checked through
``GetNamedPipeClientProcessId`` and that process's token SID.

The client half (``ask_tray``) is core/tray_client: light, on credential-process's fast path.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trayapp.core.tray_client import SocketAddress, peer_uid, read_all

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 4096  # a request names an operation and a target: far less than this
REQUEST_SECONDS = 5.0  # a client must have sent its whole request by then
SEND_SECONDS = 5.0
DRAIN_SECONDS = 1.0
MAX_DRAIN_BYTES = 1024 * 1024
MAX_CLIENTS = 8  # answered at once (each may wait for an MFA dialog); more are told "busy"

Handler = Callable[[dict[str, str]], dict[str, Any]]


class TraySocket:
    """The tray's side: ``serve()`` binds the socket and answers on threads; ``stop()`` closes
    it and removes the file. ``handler`` gets the request and returns the answer; it may block
    (an MFA dialog), and an AacliError it raises becomes the ``error`` answer."""

    def __init__(
        self,
        path: Path,
        handler: Handler,
        *,
        max_clients: int = MAX_CLIENTS,
        request_seconds: float = REQUEST_SECONDS,
    ) -> None:
        self.path = path
        self.handler = handler
        self.request_seconds = request_seconds
        self._slots = threading.BoundedSemaphore(max_clients)
        self._listener: socket.socket | None = None
        self._inode: int | None = None
        self._stopping = threading.Event()

    def serve(self) -> TraySocket:
        """Bind and listen (replacing a stale socket a killed tray left: the tray lock says no
        other tray runs), then answer on a thread of its own."""
        from trayapp.core.errors import AacliError, UnsafeFileError
        from trayapp.core.files import private_dir

        if not hasattr(socket, "AF_UNIX"):
            raise AacliError("this system has no Unix sockets (Windows: a named pipe, not built)")
        private_dir(self.path.parent)
        with contextlib.suppress(FileNotFoundError):
            st = os.lstat(self.path)
            if not stat.S_ISSOCK(st.st_mode):
                raise UnsafeFileError(
                    f"{self.path} is not a socket; remove it so the tray can listen there."
                )
            os.unlink(self.path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with SocketAddress(str(self.path)) as address:
                listener.bind(address)
            os.chmod(self.path, 0o600)  # the folder is 0700: no one could connect before this
            self._inode = os.lstat(self.path).st_ino
            listener.listen(16)
        except OSError:
            listener.close()
            raise
        self._listener = listener
        threading.Thread(target=self._accept, name="aacli-tray-socket", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop answering and remove the socket file (if it is still this one)."""
        self._stopping.set()
        listener, self._listener = self._listener, None
        if listener is None:
            return
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() below on Linux
        listener.close()
        with contextlib.suppress(OSError):
            if os.lstat(self.path).st_ino == self._inode:
                os.unlink(self.path)

    def _accept(self) -> None:
        listener = self._listener
        while listener is not None and not self._stopping.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                if self._stopping.is_set():
                    return
                continue
            if not self._slots.acquire(blocking=False):
                self._reply(conn, {"error": "The aacli tray is busy; try again in a moment."})
                conn.close()
                continue
            threading.Thread(
                target=self._serve_one, args=(conn,), name="aacli-tray-client", daemon=True
            ).start()

    def _serve_one(self, conn: socket.socket) -> None:
        try:
            with conn:
                self._reply(conn, self._answer(conn))
                _drain(conn)
        finally:
            self._slots.release()

    def _answer(self, conn: socket.socket) -> dict[str, Any]:
        from trayapp.core.errors import AacliError

        uid = peer_uid(conn)
        if uid is not None and uid != os.getuid():
            log.warning("tray socket: refused a process of uid %s", uid)
            return {"error": "This aacli tray answers only its own user."}
        conn.settimeout(self.request_seconds)
        try:
            data = read_all(conn, MAX_REQUEST_BYTES + 1)
        except OSError:
            return {"error": f"No request arrived within {self.request_seconds:.0f} s."}
        if len(data) > MAX_REQUEST_BYTES:
            return {"error": f"The request is larger than {MAX_REQUEST_BYTES} bytes."}
        request = _parse_request(data)
        if request is None:
            return {"error": 'Not a request: expected {"op": ..., "target": ...} in JSON.'}
        try:
            return self.handler(request)
        except AacliError as exc:
            return {"error": str(exc)}
        except Exception as exc:  # the type only: a message might hold a secret
            log.warning("tray socket: %s failed: %s", request.get("op"), type(exc).__name__)
            return {"error": f"The aacli tray failed ({type(exc).__name__})."}

    @staticmethod
    def _reply(conn: socket.socket, answer: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):  # the client gave up: nothing to tell
            conn.settimeout(SEND_SECONDS)
            conn.sendall(json.dumps(answer).encode("utf-8"))


def _drain(conn: socket.socket) -> None:
    """Read what an oversized request still had in flight (bounded), so that closing does not
    reset the connection before the client has read the error."""
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(DRAIN_SECONDS)
        read_all(conn, MAX_DRAIN_BYTES)


def _parse_request(data: bytes) -> dict[str, str] | None:
    try:
        request = json.loads(data.decode("utf-8"))
    except ValueError:
        return None
    if not isinstance(request, dict) or not isinstance(request.get("op"), str):
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in request.items()):
        return None
    return request
