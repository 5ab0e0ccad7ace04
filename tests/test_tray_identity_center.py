"""Issue 13, "Tray": Identity Center hubs in the tray menu (pure model, no display), their sign-in
expiry watched by the scheduler, and (display-marked) the real tray signing in to a hub of the
sandbox, refreshing its accounts and getting working credentials from a role click."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from tray_harness import desktop, start_tray, wait_for

from trayapp.core.model import Account, Config, IdentityCenter, Profile, Role, Session, Settings
from trayapp.tray.identity_center import HubSignIns
from trayapp.tray.menu import Action, MenuEntry, build_menu, find_action

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)

ACME = Profile(
    name="acme",
    access_key_id="AKIAEXAMPLE000000001",
    mfa_serial="arn:aws:iam::999999999999:mfa/alice",
    accounts=(Account("dev", "111111111111", "eu-west-1", (Role("DEVELOPER"),)),),
)
CORP = Profile(
    name="corp",
    access_key_id="",
    mfa_serial="",
    identity_center=IdentityCenter("https://corp.awsapps.com/start", "eu-west-1"),
    accounts=(
        Account(
            "dev",
            "111111111111",
            "eu-west-1",
            (
                Role("AdministratorAccess", synced=True),
                Role("DEVELOPER", via="AdministratorAccess"),
            ),
        ),
        Account("prod", "333333333333", "eu-west-1", (Role("ReadOnlyAccess", synced=True),)),
    ),
)
BOTH = Config(profiles=(ACME, CORP))


def _hhmm(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M")


def _entry(entries, *path) -> MenuEntry:
    for label in path:
        found = [e for e in entries if not e.separator and e.label.startswith(label)]
        assert found, f"no entry {label!r} in {[e.label for e in entries]}"
        entries = found[0].children
    return found[0]


def _labels(entries):
    return ["---" if e.separator else e.label for e in entries]


def _session(target: str, minutes: float) -> Session:
    return Session(
        target=target, aws_profiles=("dev-AdministratorAccess",),
        access_key_id="ASIAEXAMPLE000000009", expiration=NOW + timedelta(minutes=minutes),
        issued_at=NOW - timedelta(minutes=5), credentials_file="/tmp/c", config_file="/tmp/f",
        region="eu-west-1",
    )  # fmt: skip


def test_both_hub_kinds_side_by_side_the_same_profile_account_role_shape():
    """Issue 13 Tray: an Identity Center hub appears beside an IAM-user hub, profile -> account
    -> role as for IAM-user hubs; signed in, its lines are the status, Refresh, Sign out."""
    until = NOW + timedelta(hours=6)
    menu = build_menu(BOTH, [], NOW, sign_ins={"corp": until})
    assert _entry(menu, "acme").children[-1].label == "Rotate hub key\u2026"
    corp = _entry(menu, "corp").children
    assert _labels(corp) == [
        f"Signed in until {_hhmm(until)}",
        "Refresh accounts",
        "Sign out of corp",
        "---",
        "dev (111111111111)",
        "prod (333333333333)",
    ]
    assert not corp[0].enabled  # a status line, not an action
    assert corp[1].action == Action("sso_sync", "corp") and corp[1].enabled
    assert corp[2].action == Action("sso_sign_out", "corp") and corp[2].enabled
    # Roles: the same click as an IAM-user hub's (the service picks the provider).
    assert find_action(menu, "corp", "dev (", "AdministratorAccess") == Action(
        "auth", "corp/dev/AdministratorAccess"
    )
    assert find_action(menu, "corp", "dev (", "DEVELOPER") == Action("auth", "corp/dev/DEVELOPER")
    assert find_action(menu, "acme", "dev (", "DEVELOPER") == Action("auth", "acme/dev/DEVELOPER")
    assert not any(e.label.startswith("Rotate") for e in corp)  # no hub key to rotate


def test_a_hub_not_signed_in_offers_the_sign_in_and_its_roles_still_click():
    """Issue 13 Tray: "Not signed in", "Sign in to corp…" and "Sign in with a code…"; Refresh
    and Sign out are disabled until there is a sign-in; a role click still starts its path."""
    corp = _entry(build_menu(BOTH, [], NOW, sign_ins={"corp": None}), "corp").children
    assert _labels(corp)[:5] == [
        "Not signed in",
        "Sign in to corp\u2026",
        "Sign in with a code\u2026",
        "Refresh accounts",
        "Sign out of corp",
    ]
    assert corp[1].action == Action("sso_sign_in", "corp")
    assert corp[2].action == Action("sso_sign_in_code", "corp")
    assert not corp[3].enabled and not corp[4].enabled
    # No sign-ins known at all (the tray not yet read them): the same.
    assert _labels(_entry(build_menu(BOTH, [], NOW), "corp").children)[0] == "Not signed in"
    assert _entry(corp, "dev (", "AdministratorAccess").action.kind == "auth"


def test_near_expiry_or_ended_the_line_becomes_sign_in_again():
    """Issue 13 Tray: within warn_minutes of the token's expiry, and after it, the hub offers
    "Sign in to corp again…"; after it the status says it ended (and when), and Refresh and
    Sign out stay (the cached sign-in may still refresh; Sign out removes it)."""
    config = Config(profiles=(ACME, CORP), settings=Settings(warn_minutes=10))
    soon = NOW + timedelta(minutes=8)
    corp = _entry(build_menu(config, [], NOW, sign_ins={"corp": soon}), "corp").children
    assert _labels(corp)[:3] == [
        f"Signed in until {_hhmm(soon)}",
        "Sign in to corp again\u2026",
        "Sign in with a code\u2026",
    ]
    assert corp[1].action == Action("sso_sign_in", "corp")
    assert _entry(corp, "Refresh accounts").enabled  # still signed in
    later = NOW + timedelta(minutes=11)  # outside the warning: no sign-in offered
    corp = _entry(build_menu(config, [], NOW, sign_ins={"corp": later}), "corp").children
    assert not any(e.label.startswith("Sign in") for e in corp)
    ended = NOW - timedelta(minutes=1)
    corp = _entry(build_menu(config, [], NOW, sign_ins={"corp": ended}), "corp").children
    assert _labels(corp)[:2] == [
        f"Not signed in (ended {_hhmm(ended)})",
        "Sign in to corp again\u2026",
    ]
    # The ended sign-in's refresh token may still carry a refresh; Sign out removes it.
    assert _entry(corp, "Refresh accounts").enabled
    assert _entry(corp, "Sign out of corp").enabled


def test_a_lone_hub_shows_its_lines_on_top_and_an_active_role_as_any_other():
    """Issue 13 Tray: a config with only an Identity Center hub lists its lines and accounts at
    the top level (no Rotate hub key); its active role shows time left and the usual submenu;
    a sign-in in progress replaces the status and the sign-in lines."""
    config = Config(profiles=(CORP,))
    session = _session("corp/dev/AdministratorAccess", 42)
    menu = build_menu(config, [session], NOW, sign_ins={"corp": NOW + timedelta(hours=1)})
    labels = _labels(menu)
    assert "Rotate hub key\u2026" not in labels
    assert labels.index("Refresh accounts") < labels.index("dev (111111111111)")
    role = _entry(menu, "dev (", "AdministratorAccess")
    assert role.checked and role.label == "AdministratorAccess \u2014 42 min"
    assert _labels(role.children) == ["Open console", "Renew", "Copy env for shell", "Sign out"]
    assert "corp/dev/AdministratorAccess \u2014 42 min" in labels  # among the live sessions
    busy = build_menu(config, [], NOW, busy=frozenset({"corp"}), sign_ins={"corp": None})
    assert _labels(busy)[2:4] == ["Signing in to corp\u2026", "Refresh accounts"]
    assert not _entry(busy, "Refresh accounts").enabled


class _Recorder:
    def __init__(self) -> None:
        self.notes: list[str] = []
        self.queued: list[Action] = []
        self.changes = 0


def _watcher(tmp_path, recorder: _Recorder, warn_minutes: int = 5) -> HubSignIns:
    config = Config(profiles=(ACME, CORP), settings=Settings(warn_minutes=warn_minutes))
    return HubSignIns(
        None,  # type: ignore[arg-type]  # tick reads only what read_expiries found
        config=lambda: config,
        notify=lambda message, *a, **k: recorder.notes.append(message),
        enqueue=recorder.queued.append,
        changed=lambda: setattr(recorder, "changes", recorder.changes + 1),
        clock=lambda: NOW,
        state_dir=tmp_path / "state",
    )


def test_the_sign_in_expiry_is_watched_warned_once_then_the_menu_changes(tmp_path):
    """Issue 13 Tray: the token's expiry is watched like a session's: the next deadline is the
    warning, one warning at warn_minutes (naming "Sign in to corp again…"), then at expiry the
    menu is refreshed; accounts are refreshed once a day while signed in, never pruned."""
    recorder = _Recorder()
    hubs = _watcher(tmp_path, recorder)
    expiry = NOW + timedelta(minutes=30)
    hubs.expiries = {"corp": expiry}
    # Never refreshed: once now (queued once, not again at the next look).
    assert hubs.tick(NOW) == NOW + timedelta(minutes=25)
    assert recorder.queued == [Action("sso_sync", "corp")]
    assert hubs.tick(NOW + timedelta(minutes=1)) == NOW + timedelta(minutes=25)
    assert recorder.queued == [Action("sso_sync", "corp")] and recorder.notes == []

    assert hubs.tick(NOW + timedelta(minutes=26)) == expiry
    assert len(recorder.notes) == 1
    assert "Your sign-in to corp ends in 4 min" in recorder.notes[0]
    assert "Sign in to corp again\u2026" in recorder.notes[0]
    hubs.tick(NOW + timedelta(minutes=27))
    assert len(recorder.notes) == 1  # once per sign-in

    changes = recorder.changes
    assert hubs.tick(expiry + timedelta(seconds=1)) is None
    assert recorder.changes == changes + 1
    hubs.tick(expiry + timedelta(seconds=30))
    assert recorder.changes == changes + 1  # once

    # A new sign-in (a new expiry) is warned about again; the refresh waits for its day.
    hubs.expiries = {"corp": expiry + timedelta(hours=8)}
    assert hubs.tick(expiry + timedelta(minutes=1)) == expiry + timedelta(hours=8, minutes=-5)
    assert recorder.queued == [Action("sso_sync", "corp")]
    hubs.tick(expiry + timedelta(hours=8) - timedelta(minutes=4))
    assert len(recorder.notes) == 2

    # Signed out: nothing is due, nothing refreshed by itself.
    hubs.expiries = {"corp": None}
    assert hubs.tick(expiry + timedelta(days=3)) is None
    assert recorder.queued == [Action("sso_sync", "corp")] and len(recorder.notes) == 2


# The real tray (display-marked, as test_tray_e2e): the sandbox's Identity Center over HTTP

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


def _http_browser(tmp_path):
    """A $BROWSER program, and the file where it logs each page it followed (status, URL)."""
    import stat
    import sys

    log = tmp_path / "browser.log"
    program = tmp_path / "http-browser.py"
    program.write_text(BROWSER_SCRIPT.format(python=sys.executable, log=str(log)))
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return program, log


def _add_hub(configured):
    """The hub ``corp`` beside the IAM-user hub ``acme``, as `aacli config add-sso` writes it."""
    ic = configured.sandbox.identity_center
    config = configured.home / "config.toml"
    with config.open("a", encoding="utf-8") as out:
        out.write(f'\n[profiles.corp]\nsso_start_url = "{ic.start_url}"\n')
        out.write(f'sso_region = "{ic.region}"\n')


def _menu_entry(model, *labels):
    entries = model.get("menu", [])
    entry = None
    for label in labels:  # the hub "corp" itself, not the live session "corp/dev/…" above it
        named = [e for e in entries if e != "---" and e["label"].startswith(label)]
        entry = next((e for e in named if e["label"] == label), named[0] if named else None)
        if entry is None:
            return None
        entries = entry["children"]
    return entry


def _child_labels(model, *labels):
    """The labels under ``labels``; [""] while the menu file is being replaced."""
    entry = _menu_entry(model, *labels)
    return [c if c == "---" else c["label"] for c in entry["children"]] if entry else [""]


def _sections(path):
    import configparser

    parser = configparser.RawConfigParser()
    parser.read(path)
    return parser.sections()


def _windows(desk, name):
    import subprocess

    found = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", name],
        env=desk.env({}), capture_output=True, text=True, timeout=10,
    )  # fmt: skip
    return found.stdout.split()


def _until(tray, what, predicate, timeout=30):
    """wait_for, telling the tray's log and menu when it times out."""
    try:
        return wait_for(what, lambda: tray.alive() or predicate(), timeout=timeout)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\ntray log: {tray.log()}\nmenu: {tray.model()}") from None


def _shoot(desk, name):
    from conftest import screenshot_dir
    from xvfb import screenshot

    return screenshot(desk.display, "root", screenshot_dir() / name)


def _click(tray, *labels):
    tray.open_menu()
    tray.walk(*labels)
    tray.activate()


def _caller_arn(configured, aws_profile):
    import json
    import subprocess

    from conftest import aws_cli_v2

    identity = subprocess.run(
        [aws_cli_v2(), "sts", "get-caller-identity", "--profile", aws_profile, "--output",
         "json", "--endpoint-url", configured.sandbox.endpoint_url],
        capture_output=True, text=True, env=configured.environ(), timeout=60,
    )  # fmt: skip
    assert identity.returncode == 0, identity.stderr
    return json.loads(identity.stdout)["Arn"]


def _display_ready():
    try:
        import gi

        gi.require_version("Gtk", "3.0")
    except (ImportError, ValueError):
        from conftest import need_tool

        need_tool("PyGObject is not installed (pip install 'PyGObject<3.51')")


@pytest.mark.display
@pytest.mark.awscli
@pytest.mark.slow
def test_tray_signs_in_to_a_hub_lists_its_accounts_and_a_role_click_gives_credentials(
    configured, tmp_path
):
    """Issue 13 must-show 3: in the real tray, an Identity Center hub signs in (the browser a
    program that follows the URL with an HTTP client), its accounts appear after the refresh,
    and a role click writes credentials the AWS CLI v2 uses (no MFA dialog); after Sign out,
    a role click signs in first, then gets the role."""
    _display_ready()
    _add_hub(configured)
    browser, browsed = _http_browser(tmp_path)
    ic = configured.sandbox.identity_center
    with desktop(tmp_path) as desk:
        tray = start_tray(desk, configured.environ(), tmp_path, BROWSER=str(browser))
        assert _child_labels(tray.model(), "corp")[:2] == ["Not signed in", "Sign in to corp\u2026"]
        assert _menu_entry(tray.model(), "acme", "dev (111111111111)", "DEVELOPER")

        _click(tray, "corp", "Sign in to corp")
        _until(
            tray,
            "the hub signed in",
            lambda: _child_labels(tray.model(), "corp")[0].startswith("Signed in until"),
            timeout=40,
        )
        assert "200 " in browsed.read_text()  # the browser followed the redirect to the tray
        _until(
            tray,
            "the hub's accounts after the refresh",
            lambda: _menu_entry(tray.model(), "corp", "dev (111111111111)", "AdministratorAccess"),
            timeout=40,
        )
        assert _menu_entry(tray.model(), "corp", "prod (333333333333)", "ReadOnlyAccess")

        tray.open_menu()
        tray.walk("corp", "dev (111111111111)", "AdministratorAccess")
        time.sleep(0.5)
        _shoot(desk, "tray-identity-center.png")  # both hub kinds, the hub's lines, its roles
        tray.activate()
        _until(
            tray,
            "dev-AdministratorAccess in the credentials file",
            lambda: "dev-AdministratorAccess" in _sections(configured.credentials),
            timeout=40,
        )
        arn = _caller_arn(configured, "dev-AdministratorAccess")
        assert ":assumed-role/AWSReservedSSO_AdministratorAccess" in arn, arn
        assert not _windows(desk, "MFA code")  # a permission set asks for no code
        assert any(r.operation == "GetRoleCredentials" for r in ic.requests)

        # Signed out, a role click signs in first (the browser again), then gets the role.
        _click(tray, "corp", "Sign out of corp")
        _until(
            tray,
            "the hub signed out",
            lambda: _child_labels(tray.model(), "corp")[0] == "Not signed in",
        )
        followed = browsed.read_text().count("\n")
        _click(tray, "corp", "dev (111111111111)", "ReadOnlyAccess")
        _until(
            tray,
            "dev-ReadOnlyAccess in the credentials file",
            lambda: "dev-ReadOnlyAccess" in _sections(configured.credentials),
            timeout=60,
        )
        assert browsed.read_text().count("\n") == followed + 1
        assert ":assumed-role/AWSReservedSSO_ReadOnlyAccess" in _caller_arn(
            configured, "dev-ReadOnlyAccess"
        )
        assert _child_labels(tray.model(), "corp")[0].startswith("Signed in until")
        tray.alive()
        assert "Traceback" not in tray.log(), tray.log()
        tray.stop()


@pytest.mark.display
@pytest.mark.slow
def test_tray_device_code_window_shows_and_copies_the_code_closes_when_signed_in_and_on_quit(
    configured, tmp_path
):
    """Issue 13 Tray: "Sign in with a code…" opens the device-code window (the code, the URL,
    Copy, Cancel) from the sign-in worker; Copy puts the code on the clipboard; approving it
    signs the hub in and the window closes by itself; Quit while it is open exits < 2 s."""
    import re
    import subprocess

    _display_ready()
    _add_hub(configured)
    ic = configured.sandbox.identity_center
    with desktop(tmp_path) as desk:
        tray = start_tray(desk, configured.environ(), tmp_path)
        _click(tray, "corp", "Sign in with a code")
        window = _until(tray, "the device-code window", lambda: _windows(desk, "sign-in code"))[-1]
        time.sleep(0.8)
        _shoot(desk, "tray-identity-center-device-code.png")

        def copied():
            # No window manager: the keyboard follows the pointer, so put it on the window.
            desk.xdotool("mousemove", "--window", window, "20", "20")
            desk.xdotool("windowfocus", "--sync", window)
            desk.xdotool("key", "Return")  # Copy (the default button)
            time.sleep(0.2)
            out = subprocess.run(
                ["xclip", "-o", "-selection", "clipboard"],
                env=desk.env({}), capture_output=True, text=True, timeout=5,
            )  # fmt: skip
            return re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", out.stdout.strip()) and out.stdout.strip()

        code = wait_for("the code on the clipboard", copied, timeout=10)
        assert ic.device_pending(code)
        assert ic.approve(code)
        _until(
            tray,
            "the hub signed in",
            lambda: _child_labels(tray.model(), "corp")[0].startswith("Signed in until"),
        )
        wait_for("the window closed by itself", lambda: not _windows(desk, "sign-in code"))

        # Quit while the window is open: the tray exits at once and the window goes with it.
        _click(tray, "corp", "Sign out of corp")
        wait_for("signed out", lambda: _child_labels(tray.model(), "corp")[0] == "Not signed in")
        _click(tray, "corp", "Sign in with a code")
        wait_for("the window again", lambda: _windows(desk, "sign-in code"), timeout=30)
        tray.open_menu()
        tray.walk("Quit")
        started = time.monotonic()
        tray.activate()
        tray.process.wait(timeout=10)
        assert time.monotonic() - started < 2, "the tray took too long to quit"
        wait_for("the window gone with the tray", lambda: not _windows(desk, "sign-in code"))
        assert "Traceback" not in tray.log(), tray.log()


# The tray headless (its workers, scheduler and menu model for real against the sandbox; only
# pystray's icon is a stand-in), as tests/test_tray_behaviour.py drives it


class _Icon:
    HAS_NOTIFICATION = False

    def __init__(self) -> None:
        import threading

        self.visible, self.menu, self.icon, self.title = False, None, None, ""
        self.stopped = threading.Event()

    def stop(self) -> None:
        self.stopped.set()


class _NoCode:
    """A code source that must never be asked (Identity Center roles need no MFA code)."""

    name, can_retry = "dialog", False

    def __init__(self) -> None:
        self.asked = 0

    def get_code(self, request):
        self.asked += 1
        from trayapp.core.errors import CodeCancelled

        raise CodeCancelled("no code here")


def _headless_tray(configured, monkeypatch, browser, codes, passphrase=None):
    from conftest import PASSPHRASE

    from trayapp.tray import app
    from trayapp.tray.app import TrayApp

    monkeypatch.setenv("HOME", configured.vars["HOME"])  # ~/.aws/sso/cache of this test
    monkeypatch.setenv("BROWSER", str(browser))
    service = configured.service(
        sso_endpoint_url=configured.sandbox.endpoint_url,
        passphrase=passphrase or (lambda: PASSPHRASE),
    )
    monkeypatch.setattr(app, "to_pystray", lambda entries, on_action: entries)
    tray = TrayApp(service, code_source=lambda: codes, poll_seconds=0.2)
    tray.icon = _Icon()
    tray._setup(tray.icon)
    return tray


def _wait(what, predicate, timeout):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.02)
    return value


def test_a_chained_role_is_clicked_like_any_other_and_a_failed_refresh_is_the_error_line(
    configured, monkeypatch, tmp_path
):
    """Issue 13 Tray: a spoke role chained from a permission set (`via`) is had with one click
    on the same path as IAM-user roles, no code asked; a Refresh accounts that fails (the hub
    signed out from the CLI meanwhile) goes to the tray's error line, naming what to do."""
    import boto3

    for name in ("AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"):  # boto3 reads what was written
        monkeypatch.setenv(name, configured.vars[name])
    _add_hub(configured)
    browser, _browsed = _http_browser(tmp_path)
    codes = _NoCode()
    tray = _headless_tray(configured, monkeypatch, browser, codes)
    try:
        tray.enqueue(Action("sso_sign_in", "corp"))
        _wait("the sign-in", lambda: tray.hubs.expiries.get("corp"), timeout=30)
        _wait("the refresh", lambda: tray.config.profiles[-1].accounts, timeout=30)
        result = configured.aacli(
            "config", "add-role", "corp/dev", "DEVELOPER", "--via", "AdministratorAccess",
            "--aws-profile", "corp-dev-DEVELOPER",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        _wait(
            "the new role",
            lambda: any(t.label == "corp/dev/DEVELOPER" for t in tray.service.targets()),
            10,
        )

        tray.enqueue(Action("auth", "corp/dev/DEVELOPER"))
        _wait("the chained role's session", lambda: tray.service.sessions(), timeout=30)
        assert tray.action_error is None, tray.action_error
        identity = (
            boto3.Session(profile_name="corp-dev-DEVELOPER", region_name="eu-west-1")
            .client("sts", endpoint_url=configured.sandbox.endpoint_url)
            .get_caller_identity()
        )
        assert ":assumed-role/DEVELOPER/" in identity["Arn"], identity["Arn"]
        assert codes.asked == 0

        result = configured.aacli("logout", "corp")
        assert result.returncode == 0, result.stderr
        _wait("the sign-out seen", lambda: tray.hubs.expiries.get("corp") is None, timeout=10)
        tray.enqueue(Action("sso_sync", "corp"))
        error = _wait("the error line", lambda: tray.action_error, timeout=15)
        assert "aacli login corp" in error
        model = tray._snapshot()[0]
        assert model[0].label.startswith("\u26a0 Last error: Sign in to corp first")
    finally:
        tray.stop()


def test_a_browser_sign_in_waits_on_the_sign_in_worker_and_cancel_ends_it(
    configured, monkeypatch, tmp_path
):
    """Issue 13 Tray: the sign-in waits for the browser on the tray's sign-in worker, never the
    menu's: meanwhile the menu says "Signing in to corp…" with Cancel and other actions are
    answered at once; Cancel ends it without an error and the hub stays signed out."""
    import stat

    _add_hub(configured)
    idle = tmp_path / "idle-browser.sh"  # a browser that opens the page but nobody signs in
    idle.write_text("#!/bin/sh\nexit 0\n")
    idle.chmod(idle.stat().st_mode | stat.S_IXUSR)
    tray = _headless_tray(configured, monkeypatch, idle, _NoCode())
    try:
        tray.enqueue(Action("sso_sign_in", "corp"))
        model = _wait(
            "the busy line",
            lambda: (m := tray._snapshot()[0])[0].label == "Signing in to corp\u2026" and m,
            timeout=15,
        )
        assert find_action(model, "Cancel") == Action("cancel", "corp")
        assert _entry(model, "corp").children[0].label == "Signing in to corp\u2026"
        tray.enqueue(Action("sso_sign_in", "corp"))  # a second click is not a second sign-in
        started = time.monotonic()
        tray.enqueue(Action("unauth_all"))  # the other worker is free meanwhile
        tray.enqueue(Action("dismiss"))
        _wait("the other worker", lambda: tray.actions.empty(), timeout=2)
        assert time.monotonic() - started < 2
        tray.enqueue(Action("cancel", "corp"))
        _wait("the sign-in to end", lambda: not tray.busy, timeout=5)
        assert tray.action_error is None, tray.action_error
        assert tray.hubs.expiries.get("corp") is None
        assert _entry(tray._snapshot()[0], "corp").children[1].label == "Sign in to corp\u2026"
    finally:
        tray.stop()


def test_the_scheduler_sleeps_until_a_cached_sign_ins_warning_and_gives_it(
    configured, monkeypatch, tmp_path
):
    """Issue 13 Tray: the scheduler watches a hub's sign-in as it watches sessions: the
    expiry read from the AWS CLI's token cache (an `aws sso login` or `aacli login` of
    another process), it sleeps exactly until warn_minutes before it, then warns once."""
    from trayapp.core.paths import AwsPaths
    from trayapp.core.sso.cache import SsoToken, TokenCache
    from trayapp.tray.scheduler import MAX_SLEEP, Scheduler

    monkeypatch.setenv("HOME", configured.vars["HOME"])
    _add_hub(configured)
    clock = _Clock(datetime.now(timezone.utc).replace(microsecond=0))
    notes: list[str] = []
    tray = _headless_parts(configured, clock, notes)
    tray.read_expiries()
    assert tray.expiries == {"corp": None}
    assert not tray.read_expiries()  # nothing changed since
    expiry = clock.now + timedelta(minutes=5, seconds=20)
    ic = configured.sandbox.identity_center
    TokenCache(AwsPaths.from_env(configured.vars).sso_cache_dir).save(
        "corp", SsoToken("not-a-real-token", expiry, ic.start_url, ic.region)
    )
    assert tray.read_expiries() and tray.expiries == {"corp": expiry}
    scheduler = Scheduler(
        tray.service, on_warning=lambda *a: None, on_expired=lambda r: None,
        warn_minutes=lambda: 5, clock=clock, watchers=(tray.tick,),
    )  # fmt: skip
    tray._mark_synced("corp")  # refreshed just now: no refresh queued
    assert scheduler.tick() == 20
    assert notes == []
    clock.now += timedelta(seconds=20)
    assert scheduler.tick() == MAX_SLEEP  # the expiry is 5 min away: it looks every 30 s
    assert len(notes) == 1 and "Your sign-in to corp ends in 5 min" in notes[0]
    clock.now = expiry - timedelta(seconds=10)
    assert scheduler.tick() == 10  # then until the expiry itself
    clock.now = expiry + timedelta(seconds=1)
    assert scheduler.tick() == MAX_SLEEP and len(notes) == 1


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _headless_parts(configured, clock, notes) -> HubSignIns:
    from trayapp.core.config import load_config
    from trayapp.core.paths import AppPaths, AwsPaths
    from trayapp.core.service import Deps, Service

    app = AppPaths.from_env(configured.vars)
    service = Service(Deps(app=app, aws=AwsPaths.from_env(configured.vars), clock=clock))
    config = load_config(app.config_file)
    return HubSignIns(
        service, config=lambda: config, notify=lambda m, *a, **k: notes.append(m),
        enqueue=lambda action: None, changed=lambda: None, clock=clock,
        state_dir=app.state_dir,
    )  # fmt: skip


def test_with_no_display_the_device_code_sign_in_says_how_to_sign_in_instead(
    configured, monkeypatch, tmp_path
):
    """Issue 13 Tray: no browser could be opened and no window can be shown (no display): the
    sign-in stops at once with one line on the error line naming the terminal's way."""
    import stat

    _add_hub(configured)
    failing = tmp_path / "no-browser.sh"
    failing.write_text("#!/bin/sh\nexit 3\n")
    failing.chmod(failing.stat().st_mode | stat.S_IXUSR)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    tray = _headless_tray(configured, monkeypatch, failing, _NoCode())
    try:
        tray.enqueue(Action("sso_sign_in", "corp"))
        error = _wait("the error line", lambda: tray.action_error, timeout=20)
        assert error == (
            "Could not show the sign-in code window (no display?); sign in from a terminal: "
            "aacli login corp --device-code"
        )
        _wait("the sign-in to end", lambda: not tray.busy, timeout=5)
        assert tray.hubs.expiries.get("corp") is None
    finally:
        tray.stop()


@pytest.mark.display
@pytest.mark.slow
def test_tray_with_no_browser_falls_back_to_the_code_window_and_its_cancel_ends_the_sign_in(
    configured, tmp_path
):
    """Issue 13 Tray: "Sign in to corp…" with no browser that can be started shows the
    device-code window instead; its Cancel (Esc) ends the sign-in: no error, not signed in; a
    code that expires unused closes the window and is told on the error line."""
    import stat

    _display_ready()
    _add_hub(configured)
    failing = tmp_path / "no-browser.sh"
    failing.write_text("#!/bin/sh\nexit 3\n")
    failing.chmod(failing.stat().st_mode | stat.S_IXUSR)
    with desktop(tmp_path) as desk:
        tray = start_tray(desk, configured.environ(), tmp_path, BROWSER=str(failing))
        _click(tray, "corp", "Sign in to corp")
        window = _until(tray, "the code window", lambda: _windows(desk, "sign-in code"))[-1]
        desk.xdotool("mousemove", "--window", window, "20", "20")
        desk.xdotool("windowfocus", "--sync", window)
        desk.xdotool("key", "Escape")
        _until(tray, "the window closed", lambda: not _windows(desk, "sign-in code"))
        _until(
            tray,
            "the sign-in offered again",
            lambda: (
                _child_labels(tray.model(), "corp")[:2]
                == ["Not signed in", "Sign in to corp\u2026"]
            ),
        )
        model = tray.model()
        assert not model["error_mark"], model
        assert not _menu_entry(model, "Signing in")

        # A code that expires before it is entered: the window goes, the error line says so.
        _click(tray, "corp", "Sign in with a code")
        _until(tray, "the code window again", lambda: _windows(desk, "sign-in code"))
        configured.sandbox.identity_center.expire_device_codes()
        _until(tray, "the window closed", lambda: not _windows(desk, "sign-in code"))
        model = _until(tray, "the error line", lambda: (m := tray.model())["error_mark"] and m)
        assert _menu_entry(model, "\u26a0 Last error: ")["label"].count("expired") == 1, model
        assert "Traceback" not in tray.log(), tray.log()
        tray.stop()


def test_a_keep_fresh_role_of_a_hub_is_renewed_without_opening_the_secret_store(
    configured, monkeypatch, tmp_path, short_lived
):
    """Issue 13 Tray: a keep-fresh role of an Identity Center hub is renewed silently before it
    expires, from the hub's sign-in: no code asked and the vault never unlocked for it (an
    IAM-user hub's stored seed would need it; a dialog would ask for the passphrase)."""
    from conftest import PASSPHRASE

    _add_hub(configured)
    browser, _browsed = _http_browser(tmp_path)
    unlocked: list[str] = []

    def passphrase() -> str:
        unlocked.append("asked")
        return PASSPHRASE

    codes = _NoCode()
    tray = _headless_tray(configured, monkeypatch, browser, codes, passphrase)
    try:
        tray.enqueue(Action("sso_sign_in", "corp"))
        _wait("the refresh", lambda: tray.config.profiles[-1].accounts, timeout=30)
        config = configured.home / "config.toml"
        text = config.read_text(encoding="utf-8")
        marker = "[profiles.corp.accounts.dev.roles.AdministratorAccess]\n"
        assert marker in text, text
        config.write_text(text.replace(marker, marker + "keep_fresh = true\n"), encoding="utf-8")
        _wait(
            "keep_fresh read", lambda: tray.config.profiles[-1].accounts[0].roles[0].keep_fresh, 10
        )

        tray.enqueue(Action("auth", "corp/dev/AdministratorAccess"))  # 4 s credentials
        _wait(
            "a keep-fresh renewal",
            lambda: any("renewed (keep fresh)" in m for _t, m in tray.notify.sent),
            timeout=30,
        )
        assert tray.action_error is None, tray.action_error
        assert codes.asked == 0 and unlocked == []
    finally:
        tray.stop()


def test_refresh_accounts_on_demand_adds_what_was_assigned_since_and_never_prunes(
    configured, monkeypatch, tmp_path
):
    """Issue 13 Tray: "Refresh accounts" calls the sync on demand: what was assigned since
    appears in the menu, and what is no longer assigned stays (the tray never prunes; the
    notification names `aacli config sync corp --prune`)."""
    import secrets

    ic = configured.sandbox.identity_center
    first, second = (f"tray-{secrets.token_hex(3)}" for _ in range(2))
    ic.add_user(first)
    ic.assign(first, "dev", "AdministratorAccess")
    ic.add_user(second)
    ic.assign(second, "prod", "ReadOnlyAccess")
    _add_hub(configured)
    browser, _browsed = _http_browser(tmp_path)
    saved, ic.default_user = ic.default_user, first  # who the sandbox's sign-in page signs in
    tray = _headless_tray(configured, monkeypatch, browser, _NoCode())

    def hub_roles():
        return {t.label for t in tray.service.targets() if t.profile.name == "corp"}

    def said(text):
        return any(text in message for _title, message in tray.notify.sent)

    try:
        tray.enqueue(Action("sso_sign_in", "corp"))
        _wait("the first refresh", lambda: hub_roles() == {"corp/dev/AdministratorAccess"}, 30)
        ic.assign(first, "prod", "ReadOnlyAccess")
        tray.enqueue(Action("sso_sync", "corp"))
        _wait("the new account", lambda: "corp/prod/ReadOnlyAccess" in hub_roles(), 30)
        assert said("corp: accounts refreshed, 1 account and 1 role added.")
        assert find_action(tray._snapshot()[0], "corp", "prod (", "ReadOnlyAccess").kind == "auth"

        tray.enqueue(Action("sso_sign_out", "corp"))
        _wait("signed out", lambda: tray.hubs.expiries.get("corp") is None, 10)
        ic.default_user = second  # dev/AdministratorAccess is not assigned to this one
        tray.enqueue(Action("sso_sign_in", "corp"))
        _wait("signed in again", lambda: tray.hubs.expiries.get("corp"), 30)
        tray.enqueue(Action("sso_sync", "corp"))
        _wait("the refresh", lambda: said("no longer assigned, kept"), 30)
        assert said("`aacli config sync corp --prune` removes the synced ones")
        assert "corp/dev/AdministratorAccess" in hub_roles()  # never pruned by the tray
        assert tray.action_error is None, tray.action_error
    finally:
        ic.default_user = saved
        tray.stop()


def test_the_device_code_window_refuses_malformed_details_in_one_line():
    """Issue 13 Tray: the device-code window takes its details on stdin only (never argv);
    malformed ones end it at once with one line naming no value, and the exit status the tray
    reads as "could not be shown"."""
    import subprocess

    from trayapp.core import children
    from trayapp.dialogs.__main__ import EXIT_NO_DISPLAY

    for given in (b"", b"not json", b'{"hub": "corp"}', b'{"hub": "corp", "user_code": "ABCD-EFGH", '
                  b'"verification_uri": "https://x", "expires_at": "soon"}'):  # fmt: skip
        done = subprocess.run(
            children.python_command("trayapp.dialogs", "device-code"),
            input=given, capture_output=True, timeout=60, env=children.child_env(drop=("DISPLAY",)),
        )  # fmt: skip
        assert done.returncode == EXIT_NO_DISPLAY, (given, done.stderr)
        lines = done.stderr.decode().strip().splitlines()
        assert lines == [
            "aacli: cannot show the device-code dialog: its details on stdin are missing or "
            "malformed"
        ], (given, lines)
        assert b"ABCD" not in done.stderr
