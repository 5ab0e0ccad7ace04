"""Helpers for the real-tray tests: a session bus, trayer on Xvfb, the tray process, xdotool."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xvfb import require_tools, screenshot, xvfb_display

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
TRAYER = [
    "trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
    "--height", "32", "--transparent", "false", "--tint", "0xffffff",
]  # fmt: skip


def wait_for(
    what: str, predicate: Callable[[], Any], timeout: float = 20, step: float = 0.2
) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


def _stop(process: subprocess.Popen[Any], grace: float = 5) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def session_bus() -> Iterator[str]:
    """A private D-Bus session bus (what dbus-run-session starts); yields its address."""
    require_tools("dbus-daemon", "dbus-monitor")
    daemon = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        address = daemon.stdout.readline().strip() if daemon.stdout else ""
        if not address:
            raise RuntimeError("dbus-daemon did not print its address")
        yield address
    finally:
        _stop(daemon)


@dataclass
class Desktop:
    """Xvfb + trayer + a session bus + a notification monitor: the tray's surroundings."""

    display: str
    bus: str
    notifications_log: Path
    children: list[subprocess.Popen[Any]] = field(default_factory=list)

    def env(self, base: Mapping[str, str]) -> dict[str, str]:
        env = dict(base)
        env.update(DISPLAY=self.display, DBUS_SESSION_BUS_ADDRESS=self.bus)
        env.pop("WAYLAND_DISPLAY", None)
        # No accessibility bus runs on this private session bus: GTK would wait for one (up
        # to its D-Bus timeout) at start and exit, and warn about it.
        env.setdefault("NO_AT_BRIDGE", "1")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
        return env

    def spawn(
        self, args: Sequence[str], env: Mapping[str, str], **kwargs: Any
    ) -> subprocess.Popen[Any]:
        child = subprocess.Popen(list(args), env=dict(env), start_new_session=True, **kwargs)
        self.children.append(child)
        return child

    def xdotool(self, *args: str, timeout: float = 15) -> str:
        done = subprocess.run(
            ["xdotool", *args], env=self.env(os.environ), capture_output=True, text=True,
            timeout=timeout, check=True,
        )  # fmt: skip
        return done.stdout.strip()

    def notifications(self) -> str:
        return self.notifications_log.read_text(encoding="utf-8", errors="replace")

    def notification_calls(self) -> list[dict[str, Any]]:
        """What the notification daemon (started with ``desktop(..., daemon=True)``) was asked:
        one dict per Notify / CloseNotification call, in order."""
        path = self.notifications_log.with_name("notification-calls.jsonl")
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def screenshot(self, name: str) -> Path:
        return screenshot(self.display, "root", ARTIFACTS / name)


@contextlib.contextmanager
def desktop(tmp: Path, daemon: bool = False) -> Iterator[Desktop]:
    """``daemon``: also a notification daemon that answers (each notification its own id)
    and records every call (``Desktop.notification_calls``)."""
    require_tools("Xvfb", "xdotool", "trayer", "import", "dbus-daemon", "dbus-monitor")
    with xvfb_display() as display, session_bus() as bus:
        desk = Desktop(display, bus, tmp / "notifications.log")
        try:
            if daemon:
                calls = tmp / "notification-calls.jsonl"
                desk.spawn(
                    [sys.executable, str(Path(__file__)), "notification-daemon", str(calls)],
                    desk.env(os.environ), stderr=subprocess.DEVNULL,
                )  # fmt: skip
                wait_for("the notification daemon", calls.exists, timeout=15, step=0.05)
            with desk.notifications_log.open("w") as out:
                desk.spawn(
                    ["dbus-monitor", "--session", "interface='org.freedesktop.Notifications'"],
                    desk.env(os.environ), stdout=out, stderr=subprocess.STDOUT,
                )  # fmt: skip
            _start_trayer(desk, tmp / "trayer.log")
            yield desk
        finally:
            for child in reversed(desk.children):
                _stop(child)


def _start_trayer(desk: Desktop, log: Path, tries: int = 3) -> None:
    """trayer, and its window shown; started again when it exits or shows nothing in time
    (seen once in a while on a busy machine), its output kept in ``log`` for the failure."""
    for _ in range(tries):
        with log.open("a") as out:
            trayer = desk.spawn(TRAYER, desk.env(os.environ), stdout=out, stderr=out)
        with contextlib.suppress(AssertionError):
            wait_for(
                "trayer's window",
                lambda: trayer.poll() is not None or bool(_search(desk, "--class", "trayer")),
                timeout=15,
            )
        if _search(desk, "--class", "trayer"):
            return
        _stop(trayer)
    said = log.read_text(errors="replace").strip()[-500:]
    raise AssertionError(f"trayer's window never appeared in {tries} starts: {said}")


def _search(desk: Desktop, *args: str) -> list[str]:
    try:
        return desk.xdotool("search", "--onlyvisible", *args).split()
    except subprocess.CalledProcessError:
        return []


@dataclass
class Tray:
    """The tray process and what it shows (AACLI_TRAY_DEBUG_MENU)."""

    desk: Desktop
    process: subprocess.Popen[Any]
    menu_file: Path
    log_file: Path
    _before_menu: set[str] = field(default_factory=set)  # windows shown before open_menu

    def model(self) -> dict[str, Any]:
        try:
            return json.loads(self.menu_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> None:
        assert self.process.poll() is None, f"the tray exited: {self.log()}"

    def icon_centre(self) -> tuple[int, int]:
        """The tray icon's position: the middle of trayer's window, which holds only our icon."""

        def found() -> tuple[int, int] | None:
            for window in _search(self.desk, "--class", "trayer"):
                geometry = self.desk.xdotool("getwindowgeometry", "--shell", window)
                values = dict(line.split("=", 1) for line in geometry.splitlines())
                width, height = int(values["WIDTH"]), int(values["HEIGHT"])
                if width >= 16 and height >= 16:
                    return int(values["X"]) + width // 2, int(values["Y"]) + height // 2
            return None

        return wait_for("the tray icon inside trayer", found)

    def _popups(self) -> list[str]:
        """The menu windows GTK mapped since open_menu (a popup per open (sub)menu level)."""
        popups = []
        for window in set(_search(self.desk, "--name", "")) - self._before_menu:
            try:
                geometry = self.desk.xdotool("getwindowgeometry", "--shell", window)
            except subprocess.CalledProcessError:
                continue  # unmapped meanwhile
            values = dict(line.split("=", 1) for line in geometry.splitlines() if "=" in line)
            if int(values.get("WIDTH", 0)) > 20 and int(values.get("HEIGHT", 0)) > 20:
                popups.append(window)
        return popups

    def open_menu(self) -> None:
        """Right-click the icon and wait until GTK has mapped the popup (a bounded poll)."""
        x, y = self.icon_centre()
        self._before_menu = set(_search(self.desk, "--name", ""))
        self.desk.xdotool("mousemove", str(x), str(y))
        self.desk.xdotool("click", "3")
        wait_for("the tray menu to open", self._popups, timeout=10, step=0.05)

    def walk(self, *labels: str) -> None:
        """With the menu open, select the entries starting with ``labels``, one level each.

        Keyboard navigation (Down to the entry, Right to enter a submenu) does
        not depend on fonts or coordinates. Disabled entries and separators
        are skipped by GTK, so they are skipped in the count too.
        """
        entries = self.model()["menu"]
        for depth, label in enumerate(labels):
            selectable = [e for e in entries if e != "---" and e["enabled"]]
            index = next(
                (i for i, e in enumerate(selectable) if e["label"].startswith(label)), None
            )
            assert index is not None, f"no enabled entry {label!r} in {selectable}"
            # A top-level popup starts with nothing selected; a submenu opened with
            # Right starts on its first entry.
            presses = index + 1 if depth == 0 else index
            if presses:
                # One xdotool call: the X server delivers the keys in order, paced by --delay.
                self.desk.xdotool("key", "--delay", "80", *["Down"] * presses)
            entry = selectable[index]
            if entry["children"] and depth < len(labels) - 1:
                levels = len(self._popups())
                self.desk.xdotool("key", "Right")
                wait_for(
                    f"the submenu of {label!r} to open",
                    lambda levels=levels: len(self._popups()) > levels,
                    timeout=10,
                    step=0.05,
                )
            entries = entry["children"]

    def activate(self) -> None:
        self.desk.xdotool("key", "Return")

    def close_menu(self) -> None:
        """Escape out of every open level, until no menu window is left (bounded)."""
        deadline = time.monotonic() + 10
        while self._popups():
            assert time.monotonic() < deadline, "the tray menu did not close"
            self.desk.xdotool("key", "Escape")
            time.sleep(0.05)

    def stop(self) -> None:
        _stop(self.process)


def start_tray(desk: Desktop, env: Mapping[str, str], tmp: Path, **extra: str) -> Tray:
    menu_file = tmp / "tray-menu.json"
    log_file = tmp / "tray.log"
    tray_env = desk.env(env)
    tray_env.update(AACLI_TRAY_DEBUG_MENU=str(menu_file), AACLI_TRAY_BACKEND="gtk", **extra)
    with log_file.open("w") as out:
        process = desk.spawn(
            [sys.executable, "-m", "trayapp.tray.main"], tray_env,
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    tray = Tray(desk, process, menu_file, log_file)
    wait_for("the tray's menu", lambda: tray.process.poll() is not None or tray.model())
    tray.alive()
    tray.icon_centre()
    return tray


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` from /proc, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


_NOTIFICATIONS_XML = """<node><interface name="org.freedesktop.Notifications">
<method name="Notify"><arg type="s" direction="in"/><arg type="u" direction="in"/>
<arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="s" direction="in"/>
<arg type="as" direction="in"/><arg type="a{sv}" direction="in"/><arg type="i" direction="in"/>
<arg type="u" direction="out"/></method>
<method name="CloseNotification"><arg type="u" direction="in"/></method>
<method name="GetCapabilities"><arg type="as" direction="out"/></method>
<method name="GetServerInformation"><arg type="s" direction="out"/><arg type="s" direction="out"/>
<arg type="s" direction="out"/><arg type="s" direction="out"/></method>
</interface></node>"""


def serve_notifications(calls: Path) -> None:
    """A notification daemon on the session bus that shows nothing and records every call
    (a JSON line each); ``calls`` is created once the name is owned."""
    import itertools

    from gi.repository import Gio, GLib

    node = Gio.DBusNodeInfo.new_for_xml(_NOTIFICATIONS_XML)
    ids = itertools.count(1)

    def record(entry: dict[str, Any]) -> None:
        with calls.open("a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")

    def called(_conn, _sender, _path, _iface, method, params, invocation):  # type: ignore[no-untyped-def]
        args = params.unpack()
        if method == "Notify":
            nid = args[1] or next(ids)
            record({"call": "Notify", "id": nid, "replaces_id": args[1], "summary": args[3],
                    "body": args[4], "urgency": args[6].get("urgency"), "time": time.time()})  # fmt: skip
            invocation.return_value(GLib.Variant("(u)", (nid,)))
        elif method == "CloseNotification":
            record({"call": "CloseNotification", "id": args[0], "time": time.time()})
            invocation.return_value(None)
        elif method == "GetCapabilities":
            invocation.return_value(GLib.Variant("(as)", (["body"],)))
        else:
            invocation.return_value(GLib.Variant("(ssss)", ("fake", "aacli-tests", "1", "1.2")))

    def bus_acquired(conn, _name):  # type: ignore[no-untyped-def]
        conn.register_object("/org/freedesktop/Notifications", node.interfaces[0], called)

    def name_acquired(_conn, _name):  # type: ignore[no-untyped-def]
        calls.touch()

    Gio.bus_own_name(
        Gio.BusType.SESSION, "org.freedesktop.Notifications", Gio.BusNameOwnerFlags.NONE,
        bus_acquired, name_acquired, None,
    )  # fmt: skip
    GLib.MainLoop().run()


if __name__ == "__main__" and sys.argv[1:2] == ["notification-daemon"]:
    serve_notifications(Path(sys.argv[2]))
