"""The real tray (Xvfb + trayer, gtk backend) signing in through a YubiKey (stand-in ykman):
no dialog, no typing; "Touch your YubiKey" shown while ykman waits, gone when the code comes."""

from __future__ import annotations

import configparser
import json
import shutil
import subprocess
import sys

import pytest
from conftest import screenshot_dir
from test_codes_ykman import FakeYkman
from tray_harness import desktop, start_tray, wait_for
from xvfb import screenshot

pytestmark = [pytest.mark.display, pytest.mark.slow]


def _profiles(path):
    parser = configparser.RawConfigParser()
    parser.read(path)
    return parser.sections()


def _top(model):
    entries = [e for e in model.get("menu", []) if e != "---"]
    return entries[0]["label"] if entries else ""


def test_tray_signs_in_with_a_yubikey_and_shows_touch_while_it_waits(configured, tmp_path):
    """Issue 14 item 1: auth from the tray through ykman without typing; the "Touch your
    YubiKey" state (top of the menu, tooltip, notification) is visible while ykman waits for
    the touch (screenshot docs/screenshots/tray-touch-yubikey.png), and gone once the code
    arrived; the same when an SDK asks through credential_process."""
    from test_tray_e2e import _has_pygobject

    if not _has_pygobject():
        from conftest import need_tool

        need_tool("PyGObject is not installed (pip install 'PyGObject<3.51')")
    yubikey = FakeYkman(tmp_path / "yk")
    yubikey.state["touch_delay"] = 8.0
    seed = configured.hub.mfa_seed
    yubikey.plug("12345678", [{"name": "AWS:alice", "seed": seed, "touch": True}])
    configured.vars.update(yubikey.env())
    result = configured.aacli("config", "codes", "acme", "--ykman", "--account", "AWS:alice")
    assert result.returncode == 0, result.stderr

    with desktop(tmp_path) as desk:
        tray = start_tray(desk, configured.environ(), tmp_path)
        tray.open_menu()
        tray.walk("dev (111111111111)", "DEVELOPER")
        tray.activate()

        wait_for(
            "the touch prompt on top of the menu",
            lambda: _top(tray.model()).startswith("Touch your YubiKey (acme/dev/DEVELOPER)"),
            timeout=20,
        )
        assert "Touch your YubiKey to sign in to acme/dev/DEVELOPER" in desk.notifications()
        tray.open_menu()
        wait_for("the menu to show the prompt", lambda: tray._popups())
        shot = screenshot(desk.display, "root", screenshot_dir() / "tray-touch-yubikey.png")
        assert shot.stat().st_size > 1000
        shutil.copy(shot, tmp_path / "tray-touch-yubikey.png")
        tray.close_menu()

        wait_for(
            "[dev-DEVELOPER] in the credentials file",
            lambda: "dev-DEVELOPER" in _profiles(configured.credentials),
            timeout=30,
        )
        wait_for(
            "the prompt to go away",
            lambda: not _top(tray.model()).startswith("Touch your YubiKey"),
            timeout=10,
        )
        wait_for("the role shown active", lambda: tray.model().get("state") == "active")
        assert "active until" in desk.notifications()
        assert yubikey.calls()[-1] == ["oath", "accounts", "code", "--single", "AWS:alice"]

        # An SDK asks through credential_process (no terminal): the tray shows that touch too.
        sdk = subprocess.Popen(
            [sys.executable, "-m", "trayapp.cli.main", "credential-process", "prod/ReadOnly"],
            env=configured.environ(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True, cwd=tmp_path,
        )  # fmt: skip
        try:
            wait_for(
                "the SDK's touch prompt in the tray",
                lambda: _top(tray.model()).startswith("Touch your YubiKey (acme/prod/ReadOnly)"),
                timeout=30,
            )
            assert "an AWS tool is signing in" in desk.notifications()
            out, err = sdk.communicate(timeout=90)
        finally:
            sdk.kill()
        assert sdk.returncode == 0, err
        assert json.loads(out)["AccessKeyId"]
        wait_for(
            "the SDK's prompt to go away",
            lambda: not _top(tray.model()).startswith("Touch your YubiKey"),
            timeout=10,
        )
        tray.alive()
        assert "Traceback" not in tray.log(), tray.log()
        tray.stop()
