"""The real tray under Xvfb + trayer (gtk backend), driven with xdotool against the sandbox."""

from __future__ import annotations

import configparser
import json
import stat
import subprocess
import time
import urllib.request

import pytest
from conftest import aws_cli_v2
from signin_page import signin_url_in_page
from tray_harness import ARTIFACTS, desktop, start_tray, wait_for

pytestmark = [pytest.mark.display, pytest.mark.awscli, pytest.mark.slow]


def _profiles(path):
    parser = configparser.RawConfigParser()
    parser.read(path)
    return parser.sections()


def _entry(model, *labels):
    entries = model.get("menu", [])
    entry = None
    for label in labels:
        entry = next((e for e in entries if e != "---" and e["label"].startswith(label)), None)
        if entry is None:
            return None
        entries = entry["children"]
    return entry


def _dialog_window(tray):
    """The MFA dialog's window ("aacli — MFA code"; the tray icon's own window is "aacli: …")."""

    def shown():
        tray.alive()
        found = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", "MFA code"],
            env=tray.desk.env({}), capture_output=True, text=True, timeout=10,
        )  # fmt: skip
        return found.stdout.split()

    return wait_for(f"the MFA dialog (tray log: {tray.log()!r})", shown, timeout=30)[-1]


def _type_code(desk, window, code):
    # No window manager: the keyboard follows the pointer, so put it on the dialog too.
    desk.xdotool("mousemove", "--window", window, "20", "20")
    desk.xdotool("windowfocus", "--sync", window)
    time.sleep(0.2)
    desk.xdotool("type", "--delay", "60", code)
    time.sleep(0.3)
    desk.xdotool("key", "Return")


def _has_pygobject():
    try:
        import gi

        gi.require_version("Gtk", "3.0")
    except (ImportError, ValueError):
        return False
    return True


def test_tray_click_path_dialog_credentials_console_and_expiry(configured, short_lived, tmp_path):
    if not _has_pygobject():
        from conftest import need_tool

        need_tool("PyGObject is not installed (pip install 'PyGObject<3.51')")
    sandbox = configured.sandbox
    sandbox.credential_lifetime = None  # first part: normal sessions; the fixture's 4 s later
    aws = aws_cli_v2()
    opened = tmp_path / "browser-url.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\ncat "$1" > "{opened}"\n')  # $1: the private page
    browser.chmod(browser.stat().st_mode | stat.S_IXUSR)
    ARTIFACTS.mkdir(exist_ok=True)

    with desktop(tmp_path) as desk:
        tray = start_tray(desk, configured.environ(), tmp_path, BROWSER=str(browser))
        model = tray.model()
        assert model["state"] == "idle"
        assert _entry(model, "No active sessions")
        assert _entry(model, "dev (111111111111)", "DEVELOPER")["action"] == "auth"

        # Click path: icon -> dev account -> DEVELOPER; the MFA dialog appears.
        tray.open_menu()
        tray.walk("dev (111111111111)", "DEVELOPER")
        desk.screenshot("tray-menu-inactive.png")
        tray.activate()
        window = _dialog_window(tray)
        time.sleep(0.8)
        desk.screenshot("tray-dialog.png")
        _type_code(desk, window, configured.code())

        wait_for(
            "[dev-DEVELOPER] in the credentials file",
            lambda: "dev-DEVELOPER" in _profiles(configured.credentials),
            timeout=30,
        )
        identity = subprocess.run(
            [aws, "sts", "get-caller-identity", "--profile", "dev-DEVELOPER", "--output",
             "json", "--endpoint-url", sandbox.endpoint_url],
            capture_output=True, text=True, env=configured.environ(), timeout=60,
        )  # fmt: skip
        assert identity.returncode == 0, identity.stderr
        assert ":assumed-role/DEVELOPER/tester" in json.loads(identity.stdout)["Arn"]

        # The menu shows the role active, with minutes left and a check mark.
        role = wait_for(
            "DEVELOPER shown active",
            lambda: (
                (e := _entry(tray.model(), "dev (111111111111)", "DEVELOPER"))
                and e["checked"]
                and e
            ),
        )
        assert role["label"].startswith("DEVELOPER \u2014 ") and role["label"].endswith(" min")
        assert [c["label"] for c in role["children"]] == [
            "Open console", "Renew", "Copy env for shell", "Sign out",
        ]  # fmt: skip
        assert tray.model()["state"] == "active"
        assert "active until" in desk.notifications()

        # Three levels deep: account -> role -> its submenu; then Open console from there.
        tray.open_menu()
        tray.walk("dev (111111111111)", "DEVELOPER", "Open console")
        time.sleep(0.5)
        desk.screenshot("tray-menu.png")
        tray.activate()
        page = wait_for("the browser to be called", lambda: opened.exists() and opened.read_text())
        url = signin_url_in_page(page)
        assert url.startswith(sandbox.federation_url)
        with urllib.request.urlopen(url, timeout=10) as answer:
            assert answer.status == 200

        # Short-lived credentials: Renew with the next code, then they go away on their own.
        sandbox.credential_lifetime = 4
        tray.open_menu()
        tray.walk("dev (111111111111)", "DEVELOPER", "Renew")
        desk.screenshot("tray-menu-renew.png")
        tray.activate()
        window = _dialog_window(tray)
        time.sleep(0.5)
        _type_code(desk, window, configured.next_code())
        time.sleep(1)
        desk.screenshot("tray-after-renew.png")
        wait_for(
            "the expiry notification",
            lambda: "dev/DEVELOPER expired; credentials removed" in desk.notifications(),
            timeout=40,
        )
        assert "dev-DEVELOPER" not in _profiles(configured.credentials)
        wait_for("the menu to show no session", lambda: tray.model().get("state") == "idle")
        assert _entry(tray.model(), "dev (111111111111)", "DEVELOPER")["action"] == "auth"
        assert "expires in" in desk.notifications()  # the warning came before the removal
        tray.alive()
        log = tray.log()
        assert "Traceback" not in log, log
        tray.stop()
