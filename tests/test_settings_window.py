"""The settings window as a user meets it: a child process on Xvfb, driven by the keyboard
(xdotool), its state read from its debug file, against real config and vault files."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import tomllib
from conftest import PASSPHRASE, screenshot_dir
from settings_driver import SETTINGS_TITLE, SettingsDriver
from tray_harness import ARTIFACTS

from tests.xvfb import display_env, require_tools, xvfb_display

pytestmark = [pytest.mark.display]


@pytest.fixture
def display():
    require_tools("Xvfb", "xdotool", "import")
    with xvfb_display() as name:
        yield name


def _env(configured, display, tmp_path, **extra):
    env = display_env(display)
    env.update(configured.environ(**extra))
    env.pop("AACLI_PASSPHRASE", None)  # as the tray starts it: no secret in its environment
    env["DISPLAY"] = display
    return env


def _accounts(configured):
    data = tomllib.loads((configured.home / "config.toml").read_text(encoding="utf-8"))
    return data["profiles"]["acme"]["accounts"]


def test_validation_keeps_save_disabled_and_shows_the_message(configured, display, tmp_path):
    """Issue 12 must-show 2 (in the window): a bad account id and region, then a bad
    duration, show their message beside the field and keep Save disabled (Enter saves
    nothing); once valid, Enter saves and the next form opens; mnemonics reach every field."""
    before = (configured.home / "config.toml").read_bytes()
    child, window = SettingsDriver.start(_env(configured, display, tmp_path), tmp_path / "s.json")
    window.until("the tree", lambda s: s["tree"])
    window.key("alt+c")  # Add account (the tree has the focus)
    window.form("account")
    window.type("dev2")
    window.field("a", "12345")
    window.field("r", "moon-1")
    shown = window.until("both messages", lambda s: len(s["form"]["messages"]) == 2)
    assert "exactly 12 digits" in shown["form"]["messages"]["account_id"]
    assert "not an AWS region" in shown["form"]["messages"]["region"]
    assert shown["can_save"] is False
    window.key("Return")
    time.sleep(0.5)
    assert (configured.home / "config.toml").read_bytes() == before
    window.screenshot(ARTIFACTS / "settings-validation.png")

    window.field("a", "222222222222")
    window.field("r", "eu-central-1")
    window.until("Save enabled", lambda s: s["can_save"])
    window.key("Return")
    window.form("role")
    assert "dev2" in _accounts(configured)
    window.type("Ops")
    window.field("d", "13h")
    shown = window.until("the duration message", lambda s: s["form"]["messages"])
    assert "15 min (900 s) to 12 h" in shown["form"]["messages"]["duration"]
    assert shown["can_save"] is False
    window.field("d", "90m")
    window.key("alt+f")  # keep fresh
    window.until("Save enabled", lambda s: s["can_save"] and s["form"]["keep_fresh"])
    window.key("Return")
    window.until("the role saved", lambda s: "Saved role" in s["status"])
    role = _accounts(configured)["dev2"]["roles"]["Ops"]
    assert role["keep_fresh"] is True and role["duration"] in (5400, "1h30m")
    window.screenshot(screenshot_dir() / "settings-tree.png")
    window.key("Escape")
    assert child.wait(timeout=10) == 0


def test_stored_secret_is_never_shown_and_a_second_start_raises_the_window(
    configured, display, tmp_path
):
    """Issue 12: a stored hub secret shows as "stored in the vault" with Replace and Remove,
    never its value; a second start (a second click in the tray) exits at once and the open
    window comes forward on the profile asked for; one window at a time."""
    env = _env(configured, display, tmp_path)
    child, window = SettingsDriver.start(env, tmp_path / "s.json")
    second = subprocess.run(
        [sys.executable, "-m", "trayapp.dialogs", "settings", "--profile=acme"],
        env=env, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    window.answer_passphrase(PASSPHRASE, confirm=False)  # the vault opens to say "stored"
    shown = window.until("acme's form", lambda s: s["editing"] == ["acme"])
    assert shown["form"]["secret"] == "stored"
    secret = configured.hub.secret_access_key
    assert secret not in (tmp_path / "s.json").read_text()
    out = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", SETTINGS_TITLE],
        env=env, capture_output=True, text=True, timeout=10,
    )  # fmt: skip
    assert len(out.stdout.split()) == 1  # one window
    assert not (configured.home / "state" / "dialogs" / "settings.raise").exists()
    window.screenshot(ARTIFACTS / "settings-profile-stored.png")
    window.key("Escape")
    assert child.wait(timeout=10) == 0


def _geometry(env, window):
    out = subprocess.run(
        ["xdotool", "getwindowgeometry", "--shell", window],
        env=env, capture_output=True, text=True, timeout=10,
    ).stdout  # fmt: skip
    return {k: int(v) for k, v in (line.split("=", 1) for line in out.splitlines() if "=" in line)}


def test_app_settings_page_saves_from_the_keyboard(configured, display, tmp_path):
    """Issue 12 app settings: warn minutes and Quit's sign-out saved from the page (Alt+S to
    the page, Alt+W, Alt+A, Enter); the window fits a 1280x800 screen at 100 %."""
    env = _env(configured, display, tmp_path)
    child, window = SettingsDriver.start(env, tmp_path / "s.json")
    window.key("alt+s")  # the "App settings" page
    window.until("the app page", lambda s: s["page"] == "App settings")
    time.sleep(0.3)
    window.field("w", "15")
    window.key("alt+a")  # Quit signs out of all: off
    window.until("the change", lambda s: s["app"]["unauth_on_quit"] is False)
    window.key("Return")
    window.until("saved", lambda s: "Saved the app settings" in s["status"])
    data = tomllib.loads((configured.home / "config.toml").read_text(encoding="utf-8"))
    assert data["settings"]["warn_minutes"] == 15 and data["settings"]["unauth_on_quit"] is False
    window.screenshot(screenshot_dir() / "settings-app.png")
    size = _geometry(env, window.window)
    assert size["WIDTH"] <= 1280 and size["HEIGHT"] <= 800, size
    window.key("Escape")
    assert child.wait(timeout=10) == 0


def test_200_percent_scaling_fits_a_hidpi_screen(configured, tmp_path):
    """Issue 12: at 200 % (Tk scaling 2.66, a 2560x1600 screen) every page is drawn whole:
    the window fits the screen, its text scaled with it (the window 1.5 times as tall)."""
    require_tools("Xvfb", "xdotool", "import")
    sizes = {}
    for scaling, screen in (("1.33", "1280x800x24"), ("2.66", "2560x1600x24")):
        with xvfb_display(screen=screen) as display:
            env = dict(_env(configured, display, tmp_path), AACLI_TK_SCALING=scaling)
            child, window = SettingsDriver.start(env, tmp_path / f"s{scaling}.json")
            window.key("alt+s")
            window.until("the app page", lambda s: s["page"] == "App settings")
            window.screenshot(ARTIFACTS / f"settings-app-{scaling}.png")
            sizes[scaling] = _geometry(env, window.window)
            window.key("Escape")
            assert child.wait(timeout=10) == 0
    big = sizes["2.66"]
    assert big["WIDTH"] <= 2560 and big["HEIGHT"] <= 1600, big
    assert big["HEIGHT"] > 1.4 * sizes["1.33"]["HEIGHT"], sizes  # text doubles; padding not


def test_check_runs_off_the_window_loop_with_a_busy_state(configured, display, tmp_path):
    """Issue 12 Check: while a slow STS answers (3 s), the window says it is checking, the
    button is disabled and typing still works; then the hub user's ARN is shown. Check of
    a stored profile uses the stored secret without showing it."""
    sandbox = configured.sandbox
    env = _env(configured, display, tmp_path)
    child, window = SettingsDriver.start(env, tmp_path / "s.json", "--profile=acme")
    window.answer_passphrase(PASSPHRASE, confirm=False)
    window.until("acme's form", lambda s: s["editing"] == ["acme"])
    sandbox.faults.next("delay", seconds=3, action="GetCallerIdentity")
    try:
        window.key("alt+c")
        started = time.monotonic()
        window.until("the busy state", lambda s: s["check"].startswith("Checking"), timeout=2)
        window.field("i", "12h")  # the window still takes keys meanwhile
        busy = window.until("typing while busy", lambda s: s["form"]["values"]["mfa_session"])
        assert busy["check"].startswith("Checking") and time.monotonic() - started < 3
        done = window.until("the ARN", lambda s: configured.hub.user_arn in s["check"], 30)
    finally:
        sandbox.faults.clear()
    assert configured.hub.secret_access_key not in str(done)
    window.key("Escape")  # unsaved typing: the window asks first
    time.sleep(0.8)
    assert child.poll() is None  # still open, asking
    window.key("Return")  # "Yes": close without saving
    assert child.wait(timeout=10) == 0


def test_import_from_the_welcome_page_shows_then_saves(env, sandbox, display, tmp_path):
    """Issue 12 first run: "Import from ~/.aws/config…" on the welcome page shows what it
    found and saves nothing until the user says yes; then the tree lists the roles."""
    hub = sandbox.add_hub_user("import-window-user")
    env.credentials.parent.mkdir(mode=0o700)
    env.aws_config.write_text(
        f"[profile hub]\nregion = us-east-1\nmfa_serial = {hub.mfa_serial}\n\n"
        "[profile dev-Admin]\nrole_arn = arn:aws:iam::111111111111:role/Admin\n"
        "source_profile = hub\nregion = eu-west-1\n"
    )
    env.credentials.write_text(
        f"[hub]\naws_access_key_id = {hub.access_key_id}\n"
        f"aws_secret_access_key = {hub.secret_access_key}\n"
    )
    run_env = display_env(display)
    run_env.update(env.environ())
    run_env.pop("AACLI_PASSPHRASE", None)
    run_env["DISPLAY"] = display
    child, window = SettingsDriver.start(run_env, tmp_path / "s.json")
    window.until("the welcome page", lambda s: s["page"] == "Welcome")
    window.key("alt+i")
    time.sleep(1.0)  # the question, with what was found
    assert not (env.home / "config.toml").exists()  # shown first, nothing saved yet
    window.key("Return")  # Yes
    window.answer_passphrase(PASSPHRASE, confirm=True)  # the hub secret goes to a new vault
    shown = window.until(
        "the imported role",
        lambda s: s["tree"] and s["tree"][-1]["path"] == ["hub", "dev", "Admin"],
    )
    assert "Imported 1 role" in shown["status"]
    window.key("Escape")
    assert child.wait(timeout=10) == 0
