"""Issue 12, "The tray's own behaviour": the tray driven headless (its workers, scheduler and
menu model run for real against the sandbox; only pystray's icon is a stand-in object)."""

from __future__ import annotations

import configparser
import logging
import threading
import time

import pytest

from trayapp.core.codes import FixedCode
from trayapp.core.errors import CodeCancelled
from trayapp.tray.menu import Action, find_action

TARGET = "acme/dev/DEVELOPER"


class FakeIcon:
    """What TrayApp asks of a pystray icon, recorded."""

    HAS_NOTIFICATION = False

    def __init__(self) -> None:
        self.visible = False
        self.menu = None
        self.icon = None
        self.title = ""
        self.stopped = threading.Event()

    def stop(self) -> None:
        self.stopped.set()


class OpenDialog:
    """A code source whose dialog stays open until ``answer`` is set (or the test ends)."""

    name, can_retry = "dialog", True

    def __init__(self) -> None:
        self.shown = threading.Event()
        self.answer = threading.Event()

    def get_code(self, request):
        self.shown.set()
        self.answer.wait(30)
        raise CodeCancelled("Cancelled: no MFA code was entered.")


def _service(configured):
    return configured.service()


def _running_tray(configured, code_source):
    """A TrayApp whose threads run as under pystray (its setup), with a stand-in icon."""
    from trayapp.tray import app
    from trayapp.tray.app import TrayApp

    app.to_pystray = lambda entries, on_action: entries  # no pystray: the model is the menu
    tray = TrayApp(_service(configured), code_source=code_source, poll_seconds=0.2)
    tray.icon = FakeIcon()
    tray._setup(tray.icon)
    return tray


def _sections(path):
    parser = configparser.RawConfigParser()
    parser.read(path)
    return parser.sections()


def _wait(what, predicate, timeout):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.02)
    return time.monotonic()


@pytest.fixture
def dialog_open(configured):
    """The tray with the MFA dialog of a click on dev/DEVELOPER open, never answered."""
    dialog = OpenDialog()
    tray = _running_tray(configured, lambda: dialog)
    tray.enqueue(Action("auth", TARGET))
    assert dialog.shown.wait(20), "the dialog was never asked for"
    yield tray
    dialog.answer.set()
    tray.stop()


def test_quit_while_a_dialog_is_open_exits_at_once(configured, dialog_open):
    """Issue 12 item 1 (an open MFA dialog freezes the tray): Quit while the dialog is open
    ends the tray's loop within 2 s, signing out as the setting says."""
    result = configured.aacli("auth", "prod/ReadOnly", "--code", configured.code())
    assert result.returncode == 0, result.stderr
    started = time.monotonic()
    dialog_open.enqueue(Action("quit"))
    assert dialog_open.icon.stopped.wait(2), "Quit waited behind the open dialog"
    assert time.monotonic() - started < 2
    assert "prod-ReadOnly" not in _sections(configured.credentials)


def test_sign_out_while_a_dialog_is_open_happens_at_once(configured, dialog_open):
    """Issue 12 item 1: Sign out does not wait for an open MFA dialog."""
    result = configured.aacli("auth", "prod/ReadOnly", "--code", configured.code())
    assert result.returncode == 0, result.stderr
    started = time.monotonic()
    dialog_open.enqueue(Action("unauth", "acme/prod/ReadOnly"))
    _wait(
        "prod/ReadOnly signed out",
        lambda: "prod-ReadOnly" not in _sections(configured.credentials),
        timeout=2,
    )
    assert time.monotonic() - started < 2


def test_a_slow_sts_shows_the_busy_state_within_half_a_second_and_can_be_cancelled(configured):
    """Issue 12 item 2 (no visible working state): with STS slow, the icon is busy and the
    tooltip and the top of the menu say "Signing in to acme/dev/DEVELOPER…" within 0.5 s of
    the code, with a Cancel that ends it at once and keeps no credentials."""
    given: list[float] = []  # when the code was handed over: the dialog's OK

    class Typed(FixedCode):
        def get_code(self, request):
            code = super().get_code(request)
            given.append(time.monotonic())
            return code

    tray = _running_tray(configured, lambda: Typed(configured.code()))
    try:
        configured.sandbox.faults.next("delay", seconds=4, action="AssumeRole")
        tray.enqueue(Action("auth", TARGET))
        signing = f"Signing in to {TARGET}\u2026"

        def busy():  # after the code: "Signing in" may also show while the vault opens
            model, (state, _count, _due), title = tray._snapshot()
            shown = state == "busy" and model[0].label == signing and signing in title
            return bool(given) and shown

        shown = _wait("the busy state", busy, timeout=10)
        assert given and shown - given[0] <= 0.5, "the busy state came late"
        model = tray._snapshot()[0]
        assert find_action(model, "Cancel") == Action("cancel", TARGET)
        assert tray.icon.title.startswith(f"aacli: {signing}")  # pushed to the icon too

        tray.enqueue(Action("cancel", TARGET))
        _wait("the busy state to end", lambda: tray._snapshot()[1][0] != "busy", timeout=0.5)
        _wait("STS to answer", lambda: not tray.busy, timeout=15)
        assert "dev-DEVELOPER" not in _sections(configured.credentials)
        assert tray.service.sessions() == []
        assert "cancelled" in tray.notify.sent[-1][1]
    finally:
        configured.sandbox.faults.clear()
        tray.stop()


def test_an_error_is_a_dismissable_line_with_its_full_text_and_the_state_stays(configured):
    """Issue 12 item 3 (the red error state sticks): an error is a notification and a menu
    line "Last error: … — Dismiss" whose submenu holds the whole text; the icon keeps the
    sessions' state and count (with a mark); Dismiss removes it; an error about a role that
    was removed from the config goes away with it."""
    from trayapp.tray.app import TrayApp

    result = configured.aacli("auth", "prod/ReadOnly", "--code", configured.code())
    assert result.returncode == 0, result.stderr
    config = configured.home / "config.toml"
    original = config.read_text()
    config.write_text(original + "\n[profiles.acme.accounts.dev.roles.Gone]\nduration = 3600\n")
    tray = TrayApp(_service(configured), code_source=lambda: FixedCode("000000"))
    tray.sessions = tray.service.sessions()
    configured.sandbox.faults.next("503", count=10, action="AssumeRole")
    try:
        tray._handle(Action("auth", "acme/dev/Gone"))
    finally:
        configured.sandbox.faults.clear()
    title, message = tray.notify.sent[-1]
    assert title == "aacli: error"
    model, (state, count, _due), _title = tray._snapshot()
    assert (state, count) == ("active", 1) and tray.error_mark()
    line = model[0]
    assert line.label.startswith("\u26a0 Last error: ") and line.label.endswith("Dismiss")
    wrapped = [c.label for c in line.children if not c.separator and c.label != "Dismiss"]
    assert " ".join(wrapped) == " ".join(message.split())  # nothing cut off
    assert find_action(model, "\u26a0 Last error", "Dismiss") == Action("dismiss")

    tray._handle(Action("dismiss"))
    assert not tray._snapshot()[0][0].label.startswith("\u26a0") and not tray.error_mark()

    configured.sandbox.faults.next("503", count=10, action="AssumeRole")
    try:
        tray._handle(Action("auth", "acme/dev/Gone"))
    finally:
        configured.sandbox.faults.clear()
    assert tray._snapshot()[0][0].label.startswith("\u26a0 Last error")
    config.write_text(original)  # the role is removed
    tray.check_files()
    assert not tray._snapshot()[0][0].label.startswith("\u26a0"), "blames a removed role"


def test_open_console_with_no_working_browser_says_so_and_logs_no_url(
    configured, tmp_path, monkeypatch, caplog
):
    """Issue 12 item 5 (Open console fails silently): a browser that fails is an error
    notification and menu line; the sign-in URL reaches neither them nor the log."""
    result = configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code())
    assert result.returncode == 0, result.stderr
    # No $BROWSER, and the desktop's opener fails after a moment, as gio does with no browser.
    (tmp_path / "bin").mkdir()
    for opener in ("xdg-open", "gio"):
        broken = tmp_path / "bin" / opener
        broken.write_text('#!/bin/sh\necho "$@" >&2\nsleep 0.3\nexit 4\n')
        broken.chmod(0o700)
    monkeypatch.delenv("BROWSER", raising=False)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    monkeypatch.setenv("DISPLAY", ":99")  # a desktop, as where the tray runs
    monkeypatch.setenv("AACLI_FEDERATION_URL", configured.sandbox.federation_url)
    from trayapp.tray.app import TrayApp

    tray = TrayApp(_service(configured), code_source=lambda: FixedCode("000000"))
    tray.sessions = tray.service.sessions()
    with caplog.at_level(logging.DEBUG):
        tray.actions.put(Action("console", TARGET))
        tray.actions.put(None)
        tray._work()  # the worker runs the click, then stops at None
    title, message = tray.notify.sent[-1]
    assert title == "aacli: error" and "browser" in message.lower()
    assert tray._snapshot()[0][0].label.startswith("\u26a0 Last error: No browser")
    everything = caplog.text + message
    assert "SigninToken" not in everything and configured.sandbox.federation_url not in everything


def test_quit_says_how_many_sessions_it_signs_out_of(configured):
    """Issue 12 item 8 (Quit signs out of CLI sessions without saying so): the Quit item
    says what it will do; with the setting off it is plain "Quit"."""
    from trayapp.tray.app import TrayApp

    for target, code in (("dev/DEVELOPER", configured.code()), ("prod/ReadOnly", None)):
        result = configured.aacli("auth", target, "--code", code or configured.next_code())
        assert result.returncode == 0, result.stderr
    tray = TrayApp(_service(configured), code_source=lambda: FixedCode("000000"))
    tray.sessions = tray.service.sessions()
    labels = [e.label for e in tray._snapshot()[0] if not e.separator]
    assert labels[-1] == f"Quit and sign out of {len(tray.sessions)} sessions"
    assert len(tray.sessions) == 2


_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:tmpdir={tmp}</listen>
<policy context="default"><allow send_destination="*" eavesdrop="true"/>
<allow eavesdrop="true"/><allow own="*"/></policy><servicedir>{services}</servicedir></busconfig>
"""


def test_a_keyring_with_no_secret_service_daemon_is_not_called_usable(configured, tmp_path):
    """Issue 12 item 4 (keyring "usable" but unreachable): a session bus on which the Secret
    Service can be activated but no daemon comes up (a minimal desktop): `aacli crypto` says
    the keyring does not answer, and with secret_backend = auto the key typed goes to the
    vault instead of failing after every answer."""
    import shutil
    import subprocess
    import sys

    if shutil.which("dbus-run-session") is None:
        from conftest import need_tool

        need_tool("needs dbus-run-session (installed by .ci/run)")
    services = tmp_path / "services"
    services.mkdir()
    (services / "org.freedesktop.secrets.service").write_text(
        "[D-BUS Service]\nName=org.freedesktop.secrets\nExec=/bin/false\n"
    )
    bus_config = tmp_path / "bus.conf"
    bus_config.write_text(_BUS_CONFIG.format(tmp=tmp_path, services=services))
    config = configured.home / "config.toml"
    config.write_text(config.read_text().replace('secret_backend = "vault"', ""))
    (configured.home / "vault.bin").unlink()

    def aacli(*args, input=""):
        return subprocess.run(
            ["dbus-run-session", f"--config-file={bus_config}", "--",
             sys.executable, "-m", "trayapp.cli.main", *args],
            input=input, capture_output=True, text=True, timeout=60,
            env=configured.environ(), cwd=configured.root,
        )  # fmt: skip

    started = time.monotonic()
    shown = aacli("crypto")
    assert time.monotonic() - started < 20
    assert shown.returncode == 0, shown.stderr
    line = next(x for x in shown.stdout.splitlines() if x.strip().startswith("keyring"))
    assert "not usable" in line and "does not answer" in line, shown.stdout
    assert "in use: vault (keyring not usable here)" in shown.stdout.splitlines()
    stored = aacli("config", "set-key", "acme", input=configured.hub.secret_access_key + "\n")
    assert stored.returncode == 0, stored.stderr
    assert (configured.home / "vault.bin").exists()


def test_one_vocabulary_full_targets_one_rounding_and_sign_out_is_unauth(configured):
    """Issue 12 item 9 (Words): the tray names a target in full, as the CLI and the dialog do,
    even with one profile; the CLI and the tray round the minutes left the same way (up);
    `aacli unauth --help` says it is the tray's Sign out; notifications say "AWS profile"
    for the ~/.aws section."""
    from datetime import datetime, timedelta, timezone

    from trayapp.cli.context import remaining
    from trayapp.core.model import Session
    from trayapp.tray.app import TrayApp
    from trayapp.tray.menu import time_left

    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for seconds in (30, 59, 60, 61, 119, 3599, 3600, 7199):
        session = Session(
            target=TARGET, aws_profiles=("dev-DEVELOPER",), access_key_id="ASIA0000000000000001",
            expiration=now + timedelta(seconds=seconds), issued_at=now, credentials_file="c",
            config_file="k", region="eu-west-1",
        )  # fmt: skip
        assert remaining(seconds) == time_left(session, now), seconds

    tray = TrayApp(_service(configured), code_source=lambda: FixedCode(configured.code()))
    tray._handle(Action("auth", TARGET))
    assert tray.notify.sent[-1][1].startswith(f"{TARGET} active until ")
    assert "(AWS profile dev-DEVELOPER)" in tray.notify.sent[-1][1]
    tray.sessions = tray.service.sessions()
    assert tray._snapshot()[0][0].label.startswith(f"{TARGET} \u2014 ")
    helped = configured.aacli("unauth", "--help")
    assert "Sign out" in helped.stdout


@pytest.mark.parametrize("size", [16, 22, 24, 32])
def test_the_count_is_told_apart_at_panel_sizes_in_every_state(size):
    """Issue 12 item 6 (Icon): at 16, 22, 24 and 32 px the badge tells 1 to 9 apart, in the
    amber and busy icons too, and with the error mark (which no longer hides the count)."""
    from trayapp.tray.icon import draw_icon

    for state in ("active", "expiring", "busy"):
        for error in (False, True):
            drawn = {draw_icon(state, size, n, error=error).tobytes() for n in range(1, 10)}
            assert len(drawn) == 9, (state, error)
            plain = draw_icon(state, size, 0, error=error).tobytes()
            assert plain not in drawn
    assert draw_icon("active", size, 2, error=True) != draw_icon("active", size, 2)
