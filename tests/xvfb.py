"""A private Xvfb display for tests that open windows, and the tools they drive it with."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import need_tool

SCREEN = "1280x800x24"


def require_tools(*names: str) -> None:
    """Fail on CI (where the tools must be installed), skip elsewhere, if one is missing."""
    missing = [name for name in names if shutil.which(name) is None]
    if not missing:
        return
    message = f"needs {', '.join(missing)} (installed by .ci/run)"
    need_tool(message)


@contextlib.contextmanager
def xvfb_display(screen: str = SCREEN, timeout: float = 10.0) -> Iterator[str]:
    """Start Xvfb on a free display number and yield its DISPLAY (":N"); stop it after.

    ``-displayfd`` lets the server pick a free number itself and write it once it
    accepts connections, which avoids racing other servers for ":99".
    """
    require_tools("Xvfb", "xdpyinfo")
    read_end, write_end = os.pipe()
    # Its messages go to a file: a pipe nobody reads would stop the server once full.
    errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", screen, "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )
    server.stderr = errors  # type: ignore[assignment]  # read back when it fails to start
    os.close(write_end)
    try:
        number = _read_display_number(read_end, server, timeout)
        display = f":{number}"
        _wait_until_ready(display, server, timeout)
        yield display
    finally:
        os.close(read_end)
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        errors.close()


def _read_display_number(fd: int, server: subprocess.Popen[bytes], timeout: float) -> int:
    data = b""
    deadline = time.monotonic() + timeout
    os.set_blocking(fd, False)
    while not data.endswith(b"\n"):
        if server.poll() is not None:
            said = b""
            if server.stderr is not None:
                server.stderr.seek(0)
                said = server.stderr.read()
            raise RuntimeError(
                f"Xvfb exited with {server.returncode}: {said.decode(errors='replace').strip()}"
            )
        if time.monotonic() > deadline:
            raise RuntimeError("Xvfb did not report its display number in time")
        with contextlib.suppress(BlockingIOError):
            data += os.read(fd, 64)
        time.sleep(0.02)
    return int(data.strip())


def _wait_until_ready(display: str, server: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        probe = subprocess.run(["xdpyinfo", "-display", display], capture_output=True, check=False)
        if probe.returncode == 0:
            return
        time.sleep(0.05)
    raise RuntimeError(f"Xvfb on {display} did not come up")


@pytest.fixture(scope="session")
def xvfb() -> Iterator[str]:
    """DISPLAY of a private Xvfb shared by the session's tests (move into conftest.py)."""
    with xvfb_display() as display:
        yield display


def display_env(display: str) -> dict[str, str]:
    """The current environment pointed at ``display``, with this checkout importable."""
    env = dict(os.environ, DISPLAY=display)
    env.pop("WAYLAND_DISPLAY", None)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def xdotool(display: str, *args: str, timeout: float = 10.0) -> str:
    """Run xdotool against ``display``; its stdout, stripped."""
    done = subprocess.run(
        ["xdotool", *args],
        env=display_env(display),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return done.stdout.strip()


def screenshot(display: str, window: str, path: Path) -> Path:
    """Save ``window`` ("root" or an X window id) of ``display`` as a PNG."""
    require_tools("import")
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["import", "-display", display, "-window", window, str(path)],
        capture_output=True,
        timeout=20,
        check=True,
    )
    return path


def screenshot_when(
    display: str,
    window: str,
    path: Path,
    ready: Callable[[Path], bool],
    what: str,
    timeout: float = 10.0,
) -> Path:
    """Screenshots of ``window`` until ``ready(path)`` holds (the event, e.g. text drawn),
    polled within ``timeout``; the last one is kept at ``path``. Fails naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        screenshot(display, window, path)
        if ready(path):
            return path
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


class _ClientMessage(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("window", ctypes.c_ulong),
        ("message_type", ctypes.c_ulong),
        ("format", ctypes.c_int),
        ("data", ctypes.c_long * 5),
    ]


class _XEvent(ctypes.Union):
    _fields_ = [("xclient", _ClientMessage), ("pad", ctypes.c_long * 24)]


def close_window(display: str, window: str) -> None:
    """Ask ``window`` to close as a window manager would: a WM_DELETE_WINDOW message.

    A bare Xvfb has no window manager and xdotool 3.2016 has no ``windowquit``,
    so the ICCCM message is sent through libX11 directly.
    """
    x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XSendEvent.argtypes = [
        ctypes.c_void_p,
        ctypes.c_ulong,
        ctypes.c_int,
        ctypes.c_long,
        ctypes.POINTER(_XEvent),
    ]
    x11.XFlush.argtypes = [ctypes.c_void_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    connection = x11.XOpenDisplay(display.encode())
    if not connection:
        raise RuntimeError(f"cannot open display {display}")
    try:
        event = _XEvent()
        event.xclient.type = 33  # ClientMessage
        event.xclient.window = int(window)
        event.xclient.message_type = x11.XInternAtom(connection, b"WM_PROTOCOLS", 0)
        event.xclient.format = 32
        event.xclient.data[0] = x11.XInternAtom(connection, b"WM_DELETE_WINDOW", 0)
        event.xclient.data[1] = 0  # CurrentTime
        x11.XSendEvent(connection, int(window), 0, 0, ctypes.byref(event))
        x11.XFlush(connection)
    finally:
        x11.XCloseDisplay(connection)
