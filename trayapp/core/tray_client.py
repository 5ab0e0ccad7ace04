"""The client half of the tray's Unix socket (core/tray_socket has the protocol and the
tray's half): ask the running tray, and the socket helpers both halves use.

Light to import (os, socket, stat, struct and core/lean): ``credential-process --server``
asks the tray before anything else is loaded, so that the tray's answer costs about what the
quick reading of the files costs.
"""

from __future__ import annotations

import os
import socket
import stat
import struct

TYPE_CHECKING = False  # typing's, without importing typing: start-up time
if TYPE_CHECKING:
    from pathlib import Path
    from types import TracebackType
    from typing import Any

MAX_ANSWER_BYTES = 64 * 1024  # credentials JSON is ~2 KiB
CONNECT_SECONDS = 2.0
SUN_PATH_BYTES = 100  # sockaddr_un holds 104-108 bytes: longer paths go through /proc/self/fd


def ask_tray(
    socket_file: str | Path, request: dict[str, str], *, timeout: float = 130.0
) -> dict[str, Any] | None:
    """The running tray's answer to ``request``; None when no tray of this user listens (no
    socket, a stale one, another uid's): the caller falls back to doing the work itself.

    ``timeout`` bounds the wait for the answer (the tray may be asking for an MFA code); a
    tray that does not answer in time gives an ``error`` answer, not None, so the caller does
    not ask for a second code meanwhile."""
    from trayapp.core import lean

    if not hasattr(socket, "AF_UNIX"):
        return None
    try:
        st = os.lstat(socket_file)
    except OSError:
        return None
    if not stat.S_ISSOCK(st.st_mode) or st.st_uid != os.getuid():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with sock:
        sock.settimeout(CONNECT_SECONDS)
        try:
            with SocketAddress(os.fspath(socket_file)) as address:
                sock.connect(address)
        except OSError:  # refused (a tray that died), vanished, full backlog: no tray
            return None
        if peer_uid(sock) not in (None, os.getuid()):
            return None
        try:
            sock.sendall(lean.dumps(request).encode("utf-8"))
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(timeout)
            data = read_all(sock, MAX_ANSWER_BYTES)
        except TimeoutError:
            return {"error": f"The aacli tray did not answer within {timeout:.0f} s."}
        except OSError:
            return None  # the tray went away meanwhile
    try:
        answer = lean.loads(data.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError is one too
        answer = None
    if not isinstance(answer, dict):
        return {"error": "The aacli tray's answer was not understood."}
    return answer


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end (Linux: SO_PEERCRED); None where the platform
    cannot tell (the folder's mode is then the only guard)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    size = struct.calcsize("3i")
    _pid, uid, _gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, option, size))
    return int(uid)


def read_all(sock: socket.socket, limit: int) -> bytes:
    """Bytes until the peer's end of data, at most ``limit`` of them."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = sock.recv(min(65536, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


class SocketAddress:
    """``with SocketAddress(path) as address``: ``path`` as a socket address. A long path (a
    deep AACLI_HOME, a test's temp folder) goes through an open handle on its folder,
    ``/proc/self/fd/N/tray.sock``, since sockaddr_un holds only about 104 bytes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._folder: int | None = None

    def __enter__(self) -> str:
        if len(os.fsencode(self.path)) <= SUN_PATH_BYTES or not hasattr(os, "O_PATH"):
            return self.path
        folder, name = os.path.split(self.path)
        self._folder = os.open(folder or ".", os.O_PATH | os.O_DIRECTORY)
        return f"/proc/self/fd/{self._folder}/{name}"

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._folder is not None:
            os.close(self._folder)
            self._folder = None
