"""Put a secret on the clipboard for a short while: through the platform's clipboard tool (text
on stdin, never in argv, never waited on), marked sensitive where the tool can say so, and
cleared after :data:`CLEAR_AFTER_SECONDS`, or earlier when asked, if it still holds our text.

What each tool allows (checked against their manuals and sources):
- ``wl-copy`` (wl-clipboard ≥ 2.3) has ``--sensitive``: it offers ``x-kde-passwordManagerHint``
  = ``secret`` beside the text, so Klipper, KDE Connect and cliphist keep it out of history.
  Older versions lack the flag; aacli asks ``wl-copy --help`` and uses it when it is there.
- ``xclip`` and ``xsel`` serve one target only, so no hint can be offered beside the text: on
  X11 the text is not marked (a clipboard manager may keep it); the timed clear still applies.
- ``pbcopy`` (macOS) and ``clip`` (Windows) cannot mark the data either.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from trayapp.core import children
from trayapp.core.errors import AacliError

CLEAR_AFTER_SECONDS = 45.0
# A copy tool reads its stdin and goes to the background (to serve the selection) at once.
TOOL_SECONDS = 2.0
CONFIRM_SECONDS = 1.0


class ClipboardError(AacliError):
    """No clipboard tool could take the text."""


@dataclass(frozen=True)
class Tool:
    """One clipboard program: how to copy (stdin), read back, and empty the clipboard."""

    name: str
    copy: tuple[str, ...]
    paste: tuple[str, ...] | None
    clear: tuple[str, ...] | None = None  # None: copy an empty text instead
    sensitive_flag: str | None = None  # marks the data sensitive, when the tool supports it
    needs: str | None = None  # the variable that says the display server is there


TOOLS = (
    Tool(
        "wl-copy",
        ("wl-copy",),
        ("wl-paste", "--no-newline"),
        ("wl-copy", "--clear"),
        sensitive_flag="--sensitive",
        needs="WAYLAND_DISPLAY",
    ),
    Tool(
        "xclip",
        ("xclip", "-selection", "clipboard", "-in"),
        ("xclip", "-selection", "clipboard", "-out"),
        needs="DISPLAY",
    ),
    Tool(
        "xsel",
        ("xsel", "--clipboard", "--input"),
        ("xsel", "--clipboard", "--output"),
        ("xsel", "--clipboard", "--clear"),
        needs="DISPLAY",
    ),
    Tool("pbcopy", ("pbcopy",), ("pbpaste",)),
    Tool("clip", ("clip",), None),
)


@dataclass(frozen=True)
class Copied:
    """What a copy did: the tool, whether the data is marked sensitive, when it is cleared,
    and whether reading the clipboard back gave our text (None: this tool cannot read)."""

    tool: str
    sensitive: bool
    clear_after: float
    confirmed: bool | None


def available_tools(env: Mapping[str, str], platform: str = sys.platform) -> list[Tool]:
    """The tools installed here whose display server is there, in order of preference."""
    found = []
    for tool in TOOLS:
        if tool.name == "pbcopy" and platform != "darwin":
            continue
        if tool.name == "clip" and platform != "win32":
            continue
        if tool.needs and not env.get(tool.needs):
            continue
        if shutil.which(tool.copy[0], path=env.get("PATH")):
            found.append(tool)
    return found


class SecretClipboard:
    """The secret aacli last put on the clipboard, and taking it off again.

    Only a digest of the text is kept, to tell whether the clipboard still holds it; the
    clipboard is never emptied when the user has copied something else since.
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        clear_after: float = CLEAR_AFTER_SECONDS,
        tools: Sequence[Tool] | None = None,
        on_cleared: Callable[[str], None] | None = None,
    ) -> None:
        # Built once, without aacli's secrets: none is kept here or handed to a tool.
        self._env = children.child_env(base=env)
        self._tools = list(tools) if tools is not None else None
        self.clear_after = clear_after
        self._on_cleared = on_cleared
        self._lock = threading.Lock()
        self._held: tuple[Tool, bytes, str] | None = None  # tool, digest, owner
        self._timer: threading.Timer | None = None
        self._copies = 0

    def copy(self, text: str, owner: str) -> Copied:
        """Put ``text`` (belonging to ``owner``, e.g. a target) on the clipboard, to be
        cleared after ``clear_after`` seconds. Raises ClipboardError when no tool took it."""
        tools = self._tools if self._tools is not None else available_tools(self._env)
        if not tools:
            raise ClipboardError(
                "No clipboard tool was found (install wl-clipboard or xclip); nothing was copied."
            )
        data = text.encode("utf-8")
        for tool in tools:
            flag = tool.sensitive_flag if self._supports(tool) else None
            sensitive = flag is not None
            argv = [*tool.copy, flag] if flag is not None else list(tool.copy)
            if not self._feed(argv, data):
                continue
            # False (another program took the clipboard at once?) is told, and still cleared
            # later: the tool may hold the text all the same.
            confirmed = self._confirm(tool, data)
            with self._lock:
                self._held = (tool, _digest(data), owner)
                self._schedule()
            return Copied(tool.name, sensitive, self.clear_after, confirmed)
        names = ", ".join(tool.name for tool in tools)
        raise ClipboardError(f"The clipboard tools ({names}) could not copy; nothing was copied.")

    def clear_if_ours(self, owner: str | None = None) -> bool:
        """Empty the clipboard if it still holds what aacli put there (for ``owner`` only,
        when given); True when it was emptied."""
        with self._lock:
            held = self._held
            if held is None or (owner is not None and held[2] != owner):
                return False
            self._held = None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        tool, digest, who = held
        current = self._read(tool)
        if current is not None and not hmac.compare_digest(_digest(current), digest):
            return False  # the user copied something else since: leave it
        self._empty(tool)
        if self._on_cleared is not None:
            self._on_cleared(who)
        return True

    def holds(self, owner: str | None = None) -> bool:
        """Whether aacli believes the clipboard holds its text (for ``owner``)."""
        with self._lock:
            return self._held is not None and (owner is None or self._held[2] == owner)

    # The tools

    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._copies += 1
        self._timer = threading.Timer(self.clear_after, self._expire, args=(self._copies,))
        self._timer.daemon = True
        self._timer.start()

    def _expire(self, copy_number: int) -> None:
        with self._lock:
            if copy_number != self._copies:
                return  # a later copy's timer is in charge now
        self.clear_if_ours()

    def _child_env(self) -> dict[str, str]:
        return dict(self._env)

    def _supports(self, tool: Tool) -> bool:
        if tool.sensitive_flag is None:
            return False
        try:
            done = children.run(
                [tool.copy[0], "--help"], timeout=TOOL_SECONDS, env=self._child_env()
            )
        except (OSError, subprocess.SubprocessError):
            return False
        return tool.sensitive_flag.encode() in done.stdout + done.stderr

    def _feed(self, argv: Sequence[str], data: bytes) -> bool:
        """Start the tool with ``data`` on stdin; True when it took it (exit 0, or still
        serving after the brief wait). Its output is never captured, so never waited for."""
        try:
            child = children.start(argv, env=self._child_env(), stdin=subprocess.PIPE)
        except OSError:
            return False
        try:
            assert child.stdin is not None
            child.stdin.write(data)  # a few KiB: fits in the pipe, never blocks
            child.stdin.close()
        except OSError:
            with contextlib.suppress(OSError):
                child.kill()
            return False
        status = children.wait_briefly(child, TOOL_SECONDS)
        return status is None or status == 0

    def _confirm(self, tool: Tool, data: bytes) -> bool | None:
        """Whether the clipboard now holds ``data`` (None: it cannot be read). xclip's parent
        exits a moment before its background copy owns the selection, so this polls briefly."""
        deadline = time.monotonic() + CONFIRM_SECONDS
        while True:
            read = self._read(tool)
            if read is None or hmac.compare_digest(read, data):
                return None if read is None else True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    def _read(self, tool: Tool) -> bytes | None:
        """The clipboard's text (b"" when it holds none), or None when it cannot be read."""
        if tool.paste is None:
            return None
        try:
            done = children.run(tool.paste, timeout=TOOL_SECONDS, env=self._child_env())
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout if done.returncode == 0 else b""

    def _empty(self, tool: Tool) -> None:
        if tool.clear is not None:
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                children.run(tool.clear, timeout=TOOL_SECONDS, env=self._child_env())
            return
        if self._feed(tool.copy, b""):
            self._confirm(tool, b"")  # returns once the empty text owns the clipboard


def _digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
