"""Issue 12, "The tray's own behaviour", with the real icon: Xvfb + trayer + the gtk backend,
a session bus with a notification daemon that records what it is asked, xdotool."""

from __future__ import annotations

import configparser
import os
import signal
import subprocess
import sys
import time

import pytest
from tray_harness import desktop, start_tray, wait_for

pytestmark = [pytest.mark.display, pytest.mark.slow]


def _sections(path):
    parser = configparser.RawConfigParser()
    parser.read(path)
    return parser.sections()


def _windows(desk, name):
    found = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", name],
        env=desk.env({}), capture_output=True, text=True, timeout=10,
    )  # fmt: skip
    return found.stdout.split()


def _sign_in(configured, *targets):
    for n, target in enumerate(targets):
        code = configured.code() if n == 0 else configured.next_code()
        result = configured.aacli("auth", target, "--code", code)
        assert result.returncode == 0, result.stderr


def test_a_left_click_opens_the_menu_and_the_tooltip_lists_the_sessions(configured, tmp_path):
    """Issue 12 item 6 (Icon): with the gtk backend a left click opens the menu; the tooltip
    names each session and its time left; no Gdk-CRITICAL is printed (item 11)."""
    _sign_in(configured, "dev/DEVELOPER")
    with desktop(tmp_path) as desk:
        tray = start_tray(desk, configured.environ(), tmp_path)
        wait_for("the session in the menu", lambda: tray.model().get("state") == "active")
        x, y = tray.icon_centre()
        tray._before_menu = set(_windows(desk, ""))
        desk.xdotool("mousemove", str(x), str(y))
        desk.xdotool("click", "1")
        wait_for("the menu to open on a left click", tray._popups, timeout=10, step=0.05)
        tray.close_menu()
        title = tray.model()["title"]
        assert title.startswith("aacli: 1 active session\n"), title
        assert "acme/dev/DEVELOPER \u2014 " in title and title.endswith(" min left")
        tray.alive()
        assert "CRITICAL" not in tray.log(), tray.log()


def test_a_second_tray_does_not_start_a_second_icon(configured, tmp_path):
    """Issue 12 item 8 (Lifecycle): a second start exits at once with a one-line message, and
    trayer still holds one icon."""
    with desktop(tmp_path) as desk:
        tray = start_tray(desk, configured.environ(), tmp_path)
        width = _trayer_width(desk)
        env = desk.env(configured.environ())
        env["AACLI_TRAY_BACKEND"] = "gtk"
        second = subprocess.run(
            [sys.executable, "-m", "trayapp.tray.main"],
            env=env, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert second.returncode != 0
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and "already running" in lines[0], second.stderr
        assert _trayer_width(desk) == width
        tray.alive()


def _trayer_width(desk):
    window = _windows(desk, "")  # trayer's own window is found by its class
    found = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--class", "trayer"],
        env=desk.env({}), capture_output=True, text=True, timeout=10,
    )  # fmt: skip
    assert window is not None
    widths = []
    for win in found.stdout.split():
        geometry = desk.xdotool("getwindowgeometry", "--shell", win)
        widths.append(int(dict(line.split("=", 1) for line in geometry.splitlines())["WIDTH"]))
    return max(widths)


def test_notifications_in_the_same_second_are_each_shown_and_quit_leaves_them(configured, tmp_path):
    """Issue 12 item 7 (Notifications): two notices in the same second (Quit signing out of
    two sessions) are two notifications, neither replacing the other, and Quit does not close
    them; the Quit item says what it does (item 8)."""
    _sign_in(configured, "dev/DEVELOPER", "prod/ReadOnly")
    with desktop(tmp_path, daemon=True) as desk:
        tray = start_tray(desk, configured.environ(), tmp_path)
        wait_for("both sessions", lambda: tray.model().get("menu", [{}])[1] != "---")
        quit_item = [e for e in tray.model()["menu"] if e != "---"][-1]
        tray.open_menu()
        tray.walk("Quit")
        tray.activate()
        tray.process.wait(timeout=10)
        time.sleep(0.3)  # let the daemon write its last line
        calls = desk.notification_calls()
    notices = [c for c in calls if c["call"] == "Notify" and "signed out" in c["body"]]
    assert len(notices) == 2, calls
    assert notices[1]["time"] - notices[0]["time"] < 1
    assert [c["replaces_id"] for c in notices] == [0, 0]
    assert [c["urgency"] for c in notices] == [2, 2]  # critical: kept until seen
    assert len({c["id"] for c in notices}) == 2
    shown = {c["id"] for c in notices}
    assert not [c for c in calls if c["call"] == "CloseNotification" and c["id"] in shown], calls
    assert _sections(configured.credentials) == []
    assert quit_item["label"] == "Quit and sign out of 2 sessions"


def test_a_logout_closes_an_open_dialog_and_signs_out_by_the_quit_rule(configured, tmp_path):
    """Issue 12 items 1 and 8: with the MFA dialog open, a logout (SIGTERM) ends the tray
    within 2 s, the dialog goes with it, and the sessions are signed out as Quit says."""
    _sign_in(configured, "prod/ReadOnly")
    with desktop(tmp_path) as desk:
        tray = start_tray(desk, configured.environ(), tmp_path)
        tray.open_menu()
        tray.walk("dev (111111111111)", "DEVELOPER")
        tray.activate()
        wait_for("the MFA dialog", lambda: _windows(desk, "MFA code"), timeout=30)
        started = time.monotonic()
        os.kill(tray.process.pid, signal.SIGTERM)
        tray.process.wait(timeout=5)
        assert time.monotonic() - started < 2, "the tray took too long to quit"
        wait_for("the dialog to close", lambda: not _windows(desk, "MFA code"), timeout=3)
        assert "prod-ReadOnly" not in _sections(configured.credentials)


def test_the_tray_starts_without_a_gdk_critical(configured, tmp_path):
    """Issue 12 item 11: no Gdk-CRITICAL at start. It came from appindicator with no
    StatusNotifierWatcher on the bus (an XEmbed tray such as trayer): the library then falls
    back to a status icon of its own; the gtk backend is now chosen there instead."""
    from tray_harness import Tray

    menu_file, log_file = tmp_path / "tray-menu.json", tmp_path / "tray.log"
    with desktop(tmp_path) as desk:
        env = desk.env(configured.environ())
        env.pop("AACLI_TRAY_BACKEND", None)  # the tray chooses, as on a user's desktop
        env["AACLI_TRAY_DEBUG_MENU"] = str(menu_file)
        with log_file.open("w") as out:
            process = desk.spawn(
                [sys.executable, "-m", "trayapp.tray.main"], env,
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        tray = Tray(desk, process, menu_file, log_file)
        wait_for("the tray's menu", lambda: process.poll() is not None or tray.model())
        tray.alive()
        tray.icon_centre()  # embedded in trayer: the status icon is shown
        tray.open_menu()
        tray.close_menu()
        tray.alive()
        assert "CRITICAL" not in tray.log(), tray.log()


def _contrast(a, b):
    def luminance(rgb):
        parts = [c / 65535 for c in rgb]
        parts = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in parts]
        return 0.2126 * parts[0] + 0.7152 * parts[1] + 0.0722 * parts[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_dialog_text_has_at_least_4_5_to_1_contrast(tmp_path):
    """Issue 12 item 10 (Dialogs): the grey and red texts are readable: at least 4.5:1
    against the dialog's own background, as Tk draws them (in a child process, as the
    dialogs run: GDK in this test process may still hold an earlier test's dead display)."""
    from xvfb import display_env, require_tools, xvfb_display

    require_tools("Xvfb", "xdpyinfo")
    probe = (
        "from tkinter import ttk\n"
        "from trayapp.dialogs.common import make_root\n"
        "root = make_root('aacli contrast')\n"
        "style = ttk.Style(root)\n"
        "print(root.winfo_rgb(style.lookup('TFrame', 'background')))\n"
        "for name in ('Error.TLabel', 'Muted.TLabel'):\n"
        "    print(name, root.winfo_rgb(style.lookup(name, 'foreground')))\n"
        "root.destroy()\n"
    )
    with xvfb_display() as display:
        out = subprocess.run(
            [sys.executable, "-c", probe], env=display_env(display), capture_output=True,
            text=True, timeout=60, cwd=tmp_path,
        )  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    background = tuple(int(v) for v in lines[0].strip("()").split(","))
    for line in lines[1:]:
        name, _, rgb = line.partition(" ")
        foreground = tuple(int(v) for v in rgb.strip("()").split(","))
        ratio = _contrast(foreground, background)
        assert ratio >= 4.5, f"{name}: {ratio:.2f}:1"
    assert len(lines) == 3


def _focused_dialog(display, timeout=30):
    from xvfb import display_env

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", "aacli"],
            env=display_env(display), capture_output=True, text=True,
        )  # fmt: skip
        focus = subprocess.run(
            ["xdotool", "getwindowfocus"], env=display_env(display), capture_output=True,
            text=True,
        )  # fmt: skip
        if focus.stdout.strip() and focus.stdout.strip() in found.stdout.split():
            return focus.stdout.strip()
        time.sleep(0.05)
    raise AssertionError("no focused dialog")


def _red_pixels(path):
    from PIL import Image

    data = Image.open(path).convert("RGB").tobytes()
    pixels = (data[i : i + 3] for i in range(0, len(data), 3))
    return sum(1 for r, g, b in pixels if r > 150 and g < 90 and b < 90)


def test_a_wrong_vault_passphrase_asks_again_with_the_error(configured, monkeypatch, tmp_path):
    """Issue 12 item 10: a wrong vault passphrase brings the dialog back with the error shown
    (it closed and failed before); the right one then unlocks."""
    import threading

    from conftest import PASSPHRASE
    from xvfb import require_tools, screenshot_when, xdotool, xvfb_display

    from trayapp.core.paths import AppPaths
    from trayapp.tray.main import tray_passphrase

    require_tools("Xvfb", "xdpyinfo", "xdotool")
    for name, value in configured.vars.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AACLI_PASSPHRASE")
    with xvfb_display() as display:
        monkeypatch.setenv("DISPLAY", display)
        xdotool(display, "mousemove", "0", "0")
        answers = []
        asking = threading.Thread(
            target=lambda: answers.append(tray_passphrase(AppPaths.from_env())), daemon=True
        )
        asking.start()
        _focused_dialog(display)
        xdotool(display, "type", "--delay", "20", "not-the-passphrase")
        xdotool(display, "key", "Return")
        screenshot_when(
            display, "root", tmp_path / "passphrase-again.png",
            lambda path: not asking.is_alive() or _red_pixels(path) > 100,
            "the dialog asking again with the error in red", timeout=30,
        )  # fmt: skip
        assert asking.is_alive(), f"the wrong passphrase was taken: {answers}"
        again = _focused_dialog(display)
        name = xdotool(display, "getwindowname", again)
        assert "passphrase" in name
        xdotool(display, "type", "--delay", "20", PASSPHRASE)
        xdotool(display, "key", "Return")
        asking.join(30)
    assert answers == [PASSPHRASE]


def test_a_new_vault_passphrase_shows_and_keeps_the_8_character_minimum(tmp_path):
    """Issue 12 item 10: the passphrase dialog for a new vault says the minimum and refuses a
    shorter passphrase, asking again instead of answering with it."""
    from xvfb import display_env, require_tools, screenshot_when, xdotool, xvfb_display

    require_tools("Xvfb", "xdpyinfo", "xdotool")
    with xvfb_display() as display:
        xdotool(display, "mousemove", "0", "0")
        child = subprocess.Popen(
            [sys.executable, "-m", "trayapp.dialogs", "passphrase", "--purpose", "New vault",
             "--confirm"],
            env=display_env(display), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        _focused_dialog(display)
        xdotool(display, "type", "--delay", "20", "short")
        xdotool(display, "key", "Return")  # Return in the first field goes to the second
        xdotool(display, "type", "--delay", "20", "short")
        xdotool(display, "key", "Return")
        screenshot_when(
            display, "root", tmp_path / "passphrase-rule.png", lambda path: _red_pixels(path) > 100,
            "the dialog refusing the short passphrase in red", timeout=15,
        )  # fmt: skip
        _focused_dialog(display)
        xdotool(display, "type", "--delay", "20", "long-enough")
        xdotool(display, "key", "Return")
        xdotool(display, "type", "--delay", "20", "long-enough")
        xdotool(display, "key", "Return")
        out, _err = child.communicate(timeout=20)
    assert (child.returncode, out) == (0, "long-enough\n")


def test_screenshots_of_the_tray_menu_and_its_dialog(configured, tmp_path):
    """Issue 12 item 11: the README's tray pictures come from the code as it is
    (AACLI_UPDATE_SCREENSHOTS=1 writes them to docs/screenshots/): the menu three levels
    deep with a session, and the MFA dialog a click on a role opens."""
    from conftest import screenshot_dir
    from PIL import Image
    from xvfb import screenshot_when

    _sign_in(configured, "dev/DEVELOPER")
    folder = screenshot_dir()

    def drawn(path):  # painted, not a blank or half-mapped window
        return len(Image.open(path).convert("RGB").getcolors(maxcolors=100_000) or []) > 40

    with desktop(tmp_path) as desk:
        tray = start_tray(desk, configured.environ(), tmp_path)
        wait_for("the session in the menu", lambda: tray.model().get("state") == "active")
        tray.open_menu()
        tray.walk("dev (111111111111)", "DEVELOPER \u2014", "Open console")
        wait_for("three menu levels", lambda: len(tray._popups()) >= 3, timeout=10, step=0.05)
        screenshot_when(desk.display, "root", folder / "tray-menu.png", drawn, "the menu")
        tray.close_menu()
        tray.open_menu()
        tray.walk("dev (111111111111)", "ReadOnly")
        tray.activate()
        window = wait_for("the MFA dialog", lambda: _windows(desk, "MFA code"), timeout=30)[-1]
        desk.xdotool("mousemove", "--window", window, "20", "20")
        screenshot_when(desk.display, "root", folder / "tray-dialog.png", drawn, "the dialog")
        tray.alive()


def test_an_mfa_dialog_left_open_closes_after_its_timeout_with_an_error(monkeypatch, tmp_path):
    """Issue 12 item 1: a dialog nobody answers closes by itself after its timeout (2 min in
    the tray; 2 s here) and the tray is told in words, not a silent cancel."""
    from xvfb import require_tools, xdotool, xvfb_display

    from trayapp.core.codes import CodeRequest
    from trayapp.core.errors import AacliError
    from trayapp.tray.main import DIALOG_TIMEOUT, TimedDialogCode

    assert DIALOG_TIMEOUT == 120
    require_tools("Xvfb", "xdpyinfo", "xdotool")
    monkeypatch.setenv("AACLI_HOME", str(tmp_path / "aacli"))
    with xvfb_display() as display:
        monkeypatch.setenv("DISPLAY", display)
        xdotool(display, "mousemove", "0", "0")
        request = CodeRequest(target="acme/dev/DEVELOPER", device="arn:aws:iam::1:mfa/a")
        started = time.monotonic()
        with pytest.raises(AacliError, match="open for a while with no answer"):
            TimedDialogCode(timeout=2).get_code(request)
        assert time.monotonic() - started < 6
        assert not _windows_on(display, "MFA code")


def _windows_on(display, name):
    from xvfb import display_env

    found = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", name],
        env=display_env(display), capture_output=True, text=True, timeout=10,
    )  # fmt: skip
    return found.stdout.split()
