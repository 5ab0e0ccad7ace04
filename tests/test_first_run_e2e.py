"""Issue 12 must-show 1: the first run end to end, with no terminal and no file edited by hand:
empty HOME → tray → "Set up aacli…" → the settings window (profile with Check, account, role,
Save) → the tray lists the role → click, type the code → the AWS CLI v2 uses the profile."""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import time

import pytest
from conftest import PASSPHRASE, aws_cli_v2, screenshot_dir
from settings_driver import SettingsDriver, find_window
from tray_harness import desktop, start_tray, wait_for

pytestmark = [pytest.mark.display, pytest.mark.awscli, pytest.mark.slow]


def _entry(model, *labels):
    entries = model.get("menu", [])
    entry = None
    for label in labels:
        entry = next((e for e in entries if e != "---" and e["label"].startswith(label)), None)
        if entry is None:
            return None
        entries = entry["children"]
    return entry


def _profiles(path):
    parser = configparser.RawConfigParser()
    parser.read(path)
    return parser.sections()


def test_first_run_from_the_tray_to_the_aws_cli(env, sandbox, tmp_path):
    """Issue 12 must-show 1 and 4: with no config the tray's first item is "Set up aacli…"
    and its icon is not the error icon; the window opens once by itself; the window's
    Check shows the hub user's ARN and fills in its MFA device; after Save the tray lists
    dev → DEVELOPER at once, and signing in from it gives the AWS CLI working credentials."""
    from tray_harness import ARTIFACTS

    aws = aws_cli_v2()
    hub = sandbox.add_hub_user("first-run-user")
    env.vars["AWS_ENDPOINT_URL"] = sandbox.endpoint_url
    debug = tmp_path / "settings.json"
    shots = screenshot_dir()
    ARTIFACTS.mkdir(exist_ok=True)
    assert not env.home.exists()  # nothing configured, nothing written yet

    with desktop(tmp_path) as desk:
        tray = start_tray(desk, env.environ(), tmp_path, AACLI_SETTINGS_DEBUG=str(debug))
        model = tray.model()
        assert model["menu"][0]["label"] == "Set up aacli\u2026"
        assert model["menu"][0]["action"] == "settings"
        assert model["state"] == "idle"  # never the error icon for a missing config

        # The welcome window opened by itself; close it, then come back through the menu.
        first = SettingsDriver(desk.env(os.environ), debug)
        first.until("the welcome page", lambda s: s.get("page") == "Welcome")
        first.screenshot(shots / "settings-welcome.png")
        first.key("Escape")
        wait_for("the window to close", lambda: not find_window(first.env, "Settings"))
        tray.open_menu()
        tray.walk("Set up aacli")
        tray.activate()
        window = SettingsDriver(desk.env(os.environ), debug)
        assert tray.model()["state"] == "idle"

        # The profile: keys of the sandbox's hub user; Check asks AWS whose they are.
        window.key("alt+s")  # "Set up an IAM user hub…"
        window.form("profile")
        window.type("acme")
        window.field("k", hub.access_key_id)
        window.field("e", hub.secret_access_key)
        window.key("alt+c")
        checked = window.until(
            "Check to show the ARN", lambda s: hub.user_arn in s["check"], timeout=30
        )
        assert checked["form"]["values"]["mfa_serial"] == hub.mfa_serial
        assert hub.secret_access_key not in json.dumps(checked)
        window.screenshot(shots / "settings-profile-checked.png")
        window.key("Return")  # Save: the secret goes to the (new) vault
        window.answer_passphrase(PASSPHRASE, confirm=True)
        window.form("account")

        window.type("dev")
        window.field("a", "111111111111")
        window.field("r", "eu-west-1")
        window.key("Return")
        window.form("role")
        window.type("DEVELOPER")
        window.field("d", "2h")
        window.key("Return")
        saved = window.until("the role saved", lambda s: "Saved role" in s["status"])
        assert [n["path"] for n in saved["tree"]][-1] == ["acme", "dev", "DEVELOPER"]
        window.screenshot(ARTIFACTS / "settings-first-run-tree.png")
        window.key("Escape")

        # The tray noticed the new config: the role is in the menu, ready to click.
        role = wait_for(
            "dev → DEVELOPER in the tray's menu",
            lambda: _entry(tray.model(), "dev (111111111111)", "DEVELOPER"),
            timeout=15,
        )
        assert role["action"] == "auth"
        tray.open_menu()
        tray.walk("dev (111111111111)", "DEVELOPER")
        tray.activate()
        dialog = wait_for("the MFA dialog", lambda: find_window(window.env, "MFA code"), timeout=30)
        desk.xdotool("mousemove", "--window", dialog, "20", "20")
        desk.xdotool("windowfocus", "--sync", dialog)
        time.sleep(0.3)
        desk.xdotool("type", "--delay", "60", sandbox.current_code(hub))
        desk.xdotool("key", "Return")
        wait_for(
            "[dev-DEVELOPER] in the credentials file",
            lambda: "dev-DEVELOPER" in _profiles(env.credentials),
            timeout=30,
        )
        identity = subprocess.run(
            [aws, "sts", "get-caller-identity", "--profile", "dev-DEVELOPER", "--output",
             "json", "--endpoint-url", sandbox.endpoint_url],
            capture_output=True, text=True, env=env.environ(), timeout=60,
        )  # fmt: skip
        assert identity.returncode == 0, identity.stderr
        assert ":assumed-role/DEVELOPER/" in json.loads(identity.stdout)["Arn"]
        assert "Traceback" not in tray.log(), tray.log()
        tray.stop()


def test_a_profile_without_its_secret_leads_from_the_tray_to_the_window(env, sandbox, tmp_path):
    """Issue 12: with a config whose hub secret is missing (as after an import), the tray's
    role items say so and open the window on that profile instead of failing; Settings…
    while it is open brings the same window forward (one window); once the secret is saved
    the menu offers the role again, and the icon never turned to the error state."""
    hub = sandbox.add_hub_user("no-secret-user")
    env.vars["AWS_ENDPOINT_URL"] = sandbox.endpoint_url
    env.home.mkdir(mode=0o700)
    config = env.home / "config.toml"
    config.write_text(
        f'version = 1\n[settings]\nsecret_backend = "vault"\n'  # saving a key changes no config
        f'[profiles.acme]\naccess_key_id = "{hub.access_key_id}"\n'
        f'mfa_serial = "{hub.mfa_serial}"\n'
        '[profiles.acme.accounts.dev]\nid = "111111111111"\nregion = "eu-west-1"\n'
        '[profiles.acme.accounts.dev.roles.DEVELOPER]\nduration = "1h"\n'
    )
    config.chmod(0o600)
    debug = tmp_path / "settings.json"
    with desktop(tmp_path) as desk:
        tray = start_tray(desk, env.environ(), tmp_path, AACLI_SETTINGS_DEBUG=str(debug))
        role = _entry(tray.model(), "dev (111111111111)", "DEVELOPER")
        assert role["label"] == "DEVELOPER \u2014 no secret key: set it up\u2026"
        assert role["action"] == "settings" and role["target"] == "acme"
        assert not find_window(desk.env(os.environ), "Settings")  # no welcome: a config exists
        tray.open_menu()
        tray.walk("dev (111111111111)", "DEVELOPER")
        tray.activate()
        window = SettingsDriver(desk.env(os.environ), debug)
        shown = window.until("acme's form", lambda s: s["editing"] == ["acme"])
        assert shown["form"]["secret"] == "empty"  # asked for, since none is stored

        tray.open_menu()
        tray.walk("Settings")
        tray.activate()
        time.sleep(2)
        found = desk.xdotool("search", "--onlyvisible", "--name", "Settings$").split()
        assert found == [window.window]  # the same window, raised; no second one

        window.focus()
        window.field("e", hub.secret_access_key)
        window.key("Return")
        window.answer_passphrase(PASSPHRASE, confirm=True)
        window.until("saved", lambda s: "Saved profile acme" in s["status"])
        role = wait_for(
            "the role offered again",
            lambda: (
                (e := _entry(tray.model(), "dev (111111111111)", "DEVELOPER"))
                and e["action"] == "auth"
                and e
            ),
            timeout=15,
        )
        assert tray.model()["state"] == "idle"
        window.key("Escape")
        assert "Traceback" not in tray.log(), tray.log()
        tray.stop()
