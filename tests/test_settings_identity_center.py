"""Issue 13 + issue 12's rule (set up without a terminal): an Identity Center hub in the settings
window. The pure model (no display) against real files and the sandbox's Identity Center; then
(display-marked) the window itself, driven by the keyboard with xdotool, signing in with a
"browser" that is an HTTP client, refreshing its accounts, and refusing a bad start URL."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
import tomllib
from conftest import PASSPHRASE
from identity_center_fixtures import HEADER

from trayapp.core.paths import AppPaths, AwsPaths
from trayapp.core.service import Deps, Service
from trayapp.dialogs.settings.model import SettingsModel

SIGN_IN, REFRESH, SIGN_OUT = "sign_in", "refresh", "sign_out"  # the hub page's actions


def _service(env, sandbox) -> Service:
    return Service(
        Deps(
            app=AppPaths(config_dir=env.home, state_dir=env.home / "state"),
            aws=AwsPaths(credentials_file=env.credentials, config_file=env.aws_config),
            endpoint_url=sandbox.endpoint_url,
            sso_endpoint_url=sandbox.endpoint_url,
            passphrase=lambda: PASSPHRASE,
        )
    )


@pytest.fixture
def model(env, sandbox, ic, monkeypatch):
    """A settings model on an empty config; HOME is the test's (the token cache lives there)."""
    monkeypatch.setenv("HOME", env.vars["HOME"])
    env.home.mkdir(mode=0o700)
    (env.home / "config.toml").write_text(HEADER, encoding="utf-8")
    (env.home / "config.toml").chmod(0o600)
    env.sandbox = sandbox
    return SettingsModel(_service(env, sandbox))


def _on_disk(env) -> dict:
    return tomllib.loads((env.home / "config.toml").read_text(encoding="utf-8"))


def _type(form, **values: str) -> None:
    for name, value in values.items():
        form.set(name, value)


def _run(model, action, **how):
    """What the window does: begin on the Tk loop, the work (here, in line), done."""
    hubs = model.hubs
    name = hubs.begin(action)
    assert name is not None, (action, hubs.snapshot())
    if action == SIGN_IN:
        result = hubs.run_sign_in(name, cancelled=hubs.cancelled, **how)
    elif action == REFRESH:
        result = hubs.run_refresh(name)
    else:
        result = hubs.run_sign_out(name)
    hubs.done(result)
    return result


def test_the_model_adds_a_hub_validated_as_config_add_sso_and_a_bad_one_saves_nothing(
    model, env, ic
):
    """Issue 13 (settings, add): the "Identity Center hub" form checks its name, start URL and
    region as `config add-sso` does (the same core function); a bad start URL keeps Save
    disabled with the reason beside the field and writes nothing; a good one saves the hub
    and opens its page (Not signed in, Sign in offered, Refresh and Sign out not yet)."""
    before = (env.home / "config.toml").read_bytes()
    form = model.new_hub()
    assert form.kind == "identity_center"
    _type(form, name="corp", start_url="http://corp.example/start", region="eu-west-1")
    assert not model.can_save
    assert form.message("start_url").startswith("start URL 'http://corp.example/start' must be")
    assert model.save() is False
    assert model.problem == "Fix the fields marked in red first."
    _type(form, start_url=ic.start_url, region="moon-1")
    assert "not an AWS region" in form.message("region") and not model.can_save
    assert (env.home / "config.toml").read_bytes() == before

    _type(form, region=ic.region)
    assert model.can_save and model.save(), model.problem
    hub = _on_disk(env)["profiles"]["corp"]
    assert (hub["sso_start_url"], hub["sso_region"]) == (ic.start_url, ic.region)
    assert not {"access_key_id", "mfa_serial"} & set(hub)
    assert "Added Identity Center hub corp" in model.status
    assert model.editing == ("corp",) and model.form.kind == "identity_center"
    shown = model.snapshot()
    assert shown["hub"]["state"] == "Not signed in"
    assert model.hubs.sign_in_label() == "Sign in to corp\u2026"
    assert model.hubs.can(SIGN_IN) and not model.hubs.can(REFRESH)
    assert not model.hubs.can(SIGN_OUT)
    assert model.tree()[0].label == f"corp  (Identity Center, {ic.start_url})"

    # The name is taken now: a second hub of that name is refused in one line, nothing written.
    after = (env.home / "config.toml").read_bytes()
    _type(model.new_hub(), name="corp", start_url=ic.start_url, region=ic.region)
    assert model.save() is False
    assert model.problem == "profile 'corp' already exists"
    assert (env.home / "config.toml").read_bytes() == after


def test_the_model_signs_in_with_the_device_code_refreshes_accounts_and_signs_out(model, env, ic):
    """Issue 13 (settings, hub page): with no browser, Sign in shows the device code (the
    sandbox's device page approves it); the page then says "Signed in until HH:MM" (read with
    Service.sso_expiry); Refresh accounts adds the portal's accounts and permission sets and
    says what it added; Sign out ends it ("Not signed in")."""
    from trayapp.core import config_ops

    config_ops.add_identity_center_hub(model.service, "corp", ic.start_url, ic.region)
    model.edit(("corp",))
    shown_codes = []

    def show_device_code(code):
        shown_codes.append(code)
        ic.approve(code.user_code)

    _run(model, SIGN_IN, open_browser=lambda url: False, show_device_code=show_device_code)
    assert len(shown_codes) == 1 and shown_codes[0].user_code
    assert model.problem == ""
    expiry = model.service.sso_expiry("corp")
    assert expiry is not None and expiry > datetime.now(timezone.utc) + timedelta(hours=1)
    until = f"Signed in until {expiry.astimezone().strftime('%H:%M')}"
    assert model.hubs.sign_in_state() == until
    assert model.status == (
        f"{until} (corp). Next: Refresh accounts brings its accounts and permission sets."
    )
    assert model.hubs.can(REFRESH) and model.hubs.can(SIGN_OUT)
    assert model.hubs.sign_in_label() == "Sign in to corp again\u2026"

    _run(model, REFRESH)
    assert model.problem == ""
    accounts = _on_disk(env)["profiles"]["corp"]["accounts"]
    ids = {a["id"] for a in accounts.values()}
    assert {"111111111111", "333333333333"} <= ids
    assert model.status.startswith("corp: accounts refreshed, 2 accounts and ")
    assert "AdministratorAccess" in model.status.split("Added: ")[1]
    labels = [node.label for node in model.tree()]
    assert any(label.startswith("AdministratorAccess  (permission set") for label in labels)

    _run(model, SIGN_OUT)
    assert model.status == "Signed out of corp."
    assert model.hubs.sign_in_state() == "Not signed in"
    assert model.service.sso_expiry("corp") is None


def test_a_role_of_a_hub_has_no_duration_and_a_chained_one_says_so(model, env, ic):
    """Issue 13 (settings, role page): a permission set's form has no duration (Identity
    Center sets it); a role added "chained from" a permission set is saved with `via` and its
    page says "chained from AdministratorAccess (at most 1 h)"."""
    from trayapp.core import config_ops
    from trayapp.core.model import Account, Role

    config_ops.add_identity_center_hub(model.service, "corp", ic.start_url, ic.region)
    admin = Role("AdministratorAccess", synced=True)
    config_ops.add_account(model.service, "corp", Account("dev", "111111111111", "eu-west-1"))
    config_ops.add_role(model.service, "corp", "dev", admin)

    form = model.edit(("corp", "dev", "AdministratorAccess"))
    assert form.kind == "hub_role"
    assert "duration" not in form.values
    assert form.chain_note().startswith("a permission set")

    new = model.new_role("corp", "dev")
    assert new.kind == "hub_role"
    _type(new, name="DEVELOPER", via="AdministratorAccess")
    assert model.save(), model.problem
    role = _on_disk(env)["profiles"]["corp"]["accounts"]["dev"]["roles"]["DEVELOPER"]
    assert role["via"] == "AdministratorAccess"
    shown = model.snapshot()
    assert shown["editing"] == ["corp", "dev", "DEVELOPER"]
    assert shown["form"]["chain"] == "chained from AdministratorAccess (at most 1 h)"
    # Saving the permission set's page again keeps it a synced permission set.
    model.edit(("corp", "dev", "AdministratorAccess"))
    assert model.save(), model.problem
    roles = _on_disk(env)["profiles"]["corp"]["accounts"]["dev"]["roles"]
    assert roles["AdministratorAccess"] == {"synced": True}


def test_changing_the_start_url_ends_the_sign_in_and_a_bad_one_changes_nothing(model, env, ic):
    """Issue 13 (settings, hub page): the start URL and region are editable; a bad one is
    refused beside the field and nothing is written; a new start URL ends the sign-in made
    at the old one (the page says to sign in again)."""
    from trayapp.core import config_ops

    config_ops.add_identity_center_hub(model.service, "corp", ic.start_url, ic.region)
    model.edit(("corp",))
    _run(
        model,
        SIGN_IN,
        open_browser=lambda url: False,
        show_device_code=lambda code: ic.approve(code.user_code),
    )
    assert model.service.sso_expiry("corp") is not None
    before = (env.home / "config.toml").read_bytes()
    form = model.form
    _type(form, start_url="https://corp example/start")
    assert "must be an https:// address" in form.message("start_url")
    assert model.save() is False and (env.home / "config.toml").read_bytes() == before

    _type(form, start_url=ic.start_url + "/other")
    assert model.save(), model.problem
    assert _on_disk(env)["profiles"]["corp"]["sso_start_url"] == ic.start_url + "/other"
    assert "Its sign-in ended with the change: sign in to corp again." in model.status
    assert model.hubs.sign_in_state() == "Not signed in"


# The window (display-marked, as test_settings_window): xdotool on Xvfb, the sandbox over HTTP

BROWSER_SCRIPT = '''#!{python}
"""A browser that follows the sign-in page's URL with an HTTP client (redirects included)."""
import html, re, sys, urllib.request
page = open(sys.argv[1], encoding="utf-8").read()
url = html.unescape(re.search(r'http-equiv="refresh" content="0; url=([^"]*)"', page).group(1))
with urllib.request.urlopen(url, timeout=20) as answer:
    status = answer.status
with open({log!r}, "a", encoding="utf-8") as log:
    log.write(f"{{status}} {{url.split('?')[0]}}\\n")
'''


@pytest.fixture
def display():
    from tests.xvfb import require_tools, xvfb_display

    require_tools("Xvfb", "xdotool", "import")
    with xvfb_display() as name:
        yield name


def _window_env(configured, display, **extra):
    from tests.xvfb import display_env

    env = display_env(display)
    env.update(configured.environ(**extra))
    env.pop("AACLI_PASSPHRASE", None)  # as the tray starts it: no secret in its environment
    env["DISPLAY"] = display
    return env


def _http_browser(tmp_path):
    import stat
    import sys

    log = tmp_path / "browser.log"
    program = tmp_path / "http-browser.py"
    program.write_text(BROWSER_SCRIPT.format(python=sys.executable, log=str(log)))
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return program, log


def _config(configured) -> dict:
    return tomllib.loads((configured.home / "config.toml").read_text(encoding="utf-8"))


@pytest.mark.display
@pytest.mark.slow
def test_the_window_adds_a_hub_signs_in_with_the_browser_and_refreshes_its_accounts(
    configured, display, tmp_path
):
    """Issue 13 + issue 12's rule: no terminal. In the window (keyboard only): Add Identity
    Center hub → a bad start URL shows its one-line problem beside the field and Enter saves
    nothing → the right one, Save → the hub's page says "Not signed in" → Sign in… (the
    browser an HTTP client following the redirect) → "Signed in until HH:MM" → Refresh
    accounts → the config has the sandbox's accounts and the window says what was added."""
    from conftest import screenshot_dir
    from settings_driver import SettingsDriver

    ic = configured.sandbox.identity_center
    browser, browsed = _http_browser(tmp_path)
    env = _window_env(configured, display, BROWSER=str(browser))
    before = (configured.home / "config.toml").read_bytes()
    child, window = SettingsDriver.start(env, tmp_path / "s.json")
    window.until("the tree", lambda s: s["tree"])
    window.key("alt+d")  # Add Identity Center hub (the tree has the focus)
    window.form("identity_center")
    window.type("corp")
    window.field("u", "http://corp.example/start")
    window.field("r", ic.region)
    shown = window.until("the start URL's message", lambda s: s["form"]["messages"])
    assert list(shown["form"]["messages"]) == ["start_url"]
    message = shown["form"]["messages"]["start_url"]
    assert message.startswith("start URL 'http://corp.example/start' must be an https://")
    assert "\n" not in message and shown["can_save"] is False
    window.key("Return")
    time.sleep(0.5)
    assert (configured.home / "config.toml").read_bytes() == before

    window.field("u", ic.start_url)
    window.until("Save enabled", lambda s: s["can_save"])
    window.key("Return")
    shown = window.until("the hub's page", lambda s: s["editing"] == ["corp"])
    assert shown["hub"]["state"] == "Not signed in"
    assert _config(configured)["profiles"]["corp"]["sso_start_url"] == ic.start_url

    started = time.monotonic()
    window.key("alt+i")  # Sign in to corp…
    shown = window.until(
        "signed in", lambda s: s["hub"]["state"].startswith("Signed in until"), timeout=40
    )
    signed_in_after = time.monotonic() - started
    assert shown["problem"] == "", shown
    assert "200 " in browsed.read_text()  # the "browser" followed the redirect back
    window.key("alt+f")  # Refresh accounts
    shown = window.until("the accounts refreshed", lambda s: "refreshed" in s["status"])
    assert "Added: " in shown["status"] and "AdministratorAccess" in shown["status"]
    ids = {a["id"] for a in _config(configured)["profiles"]["corp"]["accounts"].values()}
    assert {"111111111111", "333333333333"} <= ids
    assert any(n["label"].startswith("AdministratorAccess") for n in shown["tree"])
    window.screenshot(screenshot_dir() / "settings-identity-center.png")
    window.key("Escape")
    assert child.wait(timeout=10) == 0
    stderr = child.stderr.read()
    assert "Traceback" not in stderr, stderr
    print(f"signed in {signed_in_after:.1f} s after Alt+I")


@pytest.mark.display
@pytest.mark.slow
def test_with_no_browser_the_window_shows_the_device_code_copies_it_and_signs_in(
    configured, display, tmp_path
):
    """Issue 13 (settings, hub page): when no browser can be started, Sign in shows the
    device code and its URL in the window with a Copy button (the code reaches the
    clipboard); approving it on the sandbox's device page signs the hub in."""
    import stat
    import subprocess

    from settings_driver import SettingsDriver
    from tray_harness import ARTIFACTS

    ic = configured.sandbox.identity_center
    with (configured.home / "config.toml").open("a", encoding="utf-8") as out:
        out.write(f'\n[profiles.corp]\nsso_start_url = "{ic.start_url}"\n')
        out.write(f'sso_region = "{ic.region}"\n')
        out.write('\n[profiles.corp.accounts.dev]\nid = "111111111111"\nregion = "eu-west-1"\n')
        out.write("\n[profiles.corp.accounts.dev.roles.AdministratorAccess]\nsynced = true\n")
    failing = tmp_path / "no-browser.sh"
    failing.write_text("#!/bin/sh\nexit 3\n")
    failing.chmod(failing.stat().st_mode | stat.S_IXUSR)
    env = _window_env(configured, display, BROWSER=str(failing))
    child, window = SettingsDriver.start(env, tmp_path / "s.json", "--profile=corp")
    window.until("corp's page", lambda s: s["editing"] == ["corp"])
    window.focus()
    time.sleep(0.4)
    window.key("alt+i")  # Sign in to corp…
    shown = window.until("the device code", lambda s: s["hub"]["device_code"], timeout=30)
    code = shown["hub"]["device_code"]
    assert code["user_code"] and code["url"].startswith(configured.sandbox.endpoint_url)
    assert shown["hub"]["busy"] == "Signing in to corp\u2026: enter this code on the sign-in page."
    window.key("alt+c")  # Copy code
    window.until("copied", lambda s: s["status"] == "Copied the sign-in code.")
    pasted = subprocess.run(
        ["xclip", "-selection", "clipboard", "-o"],
        env=env, capture_output=True, text=True, timeout=10,
    )  # fmt: skip
    assert pasted.stdout == code["user_code"], pasted.stderr
    window.screenshot(ARTIFACTS / "settings-identity-center-code.png")
    ic.approve(code["user_code"])
    shown = window.until(
        "signed in", lambda s: s["hub"]["state"].startswith("Signed in until"), timeout=30
    )
    assert shown["hub"]["device_code"] is None and shown["problem"] == ""
    window.key("Escape")  # nothing changed: the window closes
    assert child.wait(timeout=10) == 0
    assert "Traceback" not in child.stderr.read()


def _follow(url):
    """A browser in a thread: follows the sign-in URL (and its redirect to the listener)."""
    import contextlib
    import threading
    import urllib.request

    def visit():
        with contextlib.suppress(OSError):  # a refused sign-in's page: the sign-in says why
            urllib.request.urlopen(url, timeout=20).close()

    threading.Thread(target=visit, daemon=True).start()
    return True


def test_a_refused_or_cancelled_sign_in_is_one_line_and_refresh_needs_a_sign_in(model, env, ic):
    """Issue 13 (settings, hub page): a sign-in Identity Center refuses shows its one line
    (no traceback, not signed in); Cancel sign-in ends a sign-in waiting for the browser
    within seconds; Refresh accounts after the sign-in ended names the window's way to sign
    in (no terminal command)."""
    import threading

    from trayapp.core import config_ops

    config_ops.add_identity_center_hub(model.service, "corp", ic.start_url, ic.region)
    model.edit(("corp",))
    ic.deny_next()
    _run(model, SIGN_IN, open_browser=_follow, show_device_code=lambda code: None)
    assert model.problem and "\n" not in model.problem and "Traceback" not in model.problem
    assert "denied" in model.problem.lower() or "refused" in model.problem.lower(), model.problem
    assert model.hubs.sign_in_state() == "Not signed in" and not model.hubs.busy

    # A browser that opens the page but nobody signs in: Cancel sign-in ends the wait.
    hubs = model.hubs
    name = hubs.begin(SIGN_IN)
    results = []
    worker = threading.Thread(
        target=lambda: results.append(
            hubs.run_sign_in(
                name,
                open_browser=lambda url: True,
                show_device_code=lambda code: None,
                cancelled=hubs.cancelled,
            )
        )
    )
    worker.start()
    time.sleep(0.5)
    assert hubs.busy_text() == "Signing in to corp\u2026 (finish it in the browser)"
    assert not hubs.can(SIGN_IN) and not hubs.can(REFRESH)  # one action at a time
    started = time.monotonic()
    hubs.cancel()
    worker.join(timeout=5)
    assert not worker.is_alive() and time.monotonic() - started < 3
    hubs.done(results[0])
    assert model.status == "Sign-in to corp cancelled." and model.problem == ""
    assert model.hubs.sign_in_state() == "Not signed in"

    # Signed in, then every token expired and no refresh possible: Refresh says how.
    _run(
        model,
        SIGN_IN,
        open_browser=lambda url: False,
        show_device_code=lambda code: ic.approve(code.user_code),
    )
    assert model.hubs.can(REFRESH)
    assert hubs.begin(REFRESH) == "corp"
    model.service.sign_out("corp")  # meanwhile, behind the window's back (`aacli logout`)
    hubs.done(hubs.run_refresh("corp"))
    assert model.problem == "Sign in to corp first (Sign in to corp\u2026 on this page)."
