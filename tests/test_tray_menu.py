"""The tray menu model: a pure function of config + sessions + now, inspected with no display."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from trayapp.core.model import Account, Config, Profile, Role, Session, Settings
from trayapp.tray.menu import (
    Action,
    MenuEntry,
    build_menu,
    find_action,
    icon_state,
    time_left,
    tooltip,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)

ACME = Profile(
    name="acme",
    access_key_id="AKIAEXAMPLE000000001",
    mfa_serial="arn:aws:iam::999999999999:mfa/alice",
    accounts=(
        Account("dev", "111111111111", "eu-west-1", (Role("DEVELOPER"), Role("ReadOnly"))),
        Account("prod", "333333333333", "us-east-2", (Role("ReadOnly"),)),
    ),
)
OTHER = Profile(
    name="other",
    access_key_id="AKIAEXAMPLE000000002",
    mfa_serial="arn:aws:iam::888888888888:mfa/alice",
    accounts=(Account("lab", "222222222222", "eu-central-1", (Role("Admin"),)),),
)
ONE = Config(profiles=(ACME,))
TWO = Config(profiles=(ACME, OTHER))


def session(target: str, minutes: float, issued_minutes_ago: float = 10) -> Session:
    return Session(
        target=target,
        aws_profiles=(target.split("/", 1)[1].replace("/", "-"),),
        access_key_id="ASIA" + str(abs(hash(target)))[:16].ljust(16, "0"),
        expiration=NOW + timedelta(minutes=minutes),
        issued_at=NOW - timedelta(minutes=issued_minutes_ago),
        credentials_file="/tmp/credentials",
        config_file="/tmp/config",
        region="eu-west-1",
    )


def labels(entries):
    return [("---" if e.separator else e.label) for e in entries]


def entry(entries, *path) -> MenuEntry:
    for label in path:
        found = [e for e in entries if not e.separator and e.label.startswith(label)]
        assert len(found) == 1, (label, labels(entries))
        current = found[0]
        entries = current.children
    return current


def test_idle_menu_with_one_profile_puts_its_accounts_at_the_top():
    menu = build_menu(ONE, [], NOW)
    assert labels(menu) == [
        "No active sessions",
        "---",
        "dev (111111111111)",
        "prod (333333333333)",
        "---",
        "Open console",
        "Sign out of all",
        "---",
        "Rotate hub key\u2026",
        "Settings\u2026",
        "Quit",
    ]
    assert not entry(menu, "No active sessions").enabled
    assert not entry(menu, "Open console").enabled
    assert not entry(menu, "Sign out of all").enabled
    assert labels(entry(menu, "dev (").children) == ["DEVELOPER", "ReadOnly"]
    assert find_action(menu, "dev (", "DEVELOPER") == Action("auth", "acme/dev/DEVELOPER")
    assert find_action(menu, "prod (", "ReadOnly") == Action("auth", "acme/prod/ReadOnly")
    assert find_action(menu, "Settings") == Action("settings")
    assert find_action(menu, "Quit") == Action("quit")


def test_several_profiles_each_get_a_submenu():
    menu = build_menu(TWO, [], NOW)
    assert labels(menu)[2:4] == ["acme", "other"]
    assert find_action(menu, "other", "lab (222222222222)", "Admin") == Action(
        "auth", "other/lab/Admin"
    )
    assert find_action(menu, "acme", "dev (", "ReadOnly") == Action("auth", "acme/dev/ReadOnly")


def test_an_active_role_shows_minutes_left_a_check_and_its_own_submenu():
    menu = build_menu(ONE, [session("acme/dev/DEVELOPER", 47)], NOW)
    role = entry(menu, "dev (", "DEVELOPER")
    assert role.label == "DEVELOPER \u2014 47 min"
    assert role.checked
    assert role.action.kind == "none"
    assert [(c.label, c.action) for c in role.children] == [
        ("Open console", Action("console", "acme/dev/DEVELOPER")),
        ("Renew", Action("renew", "acme/dev/DEVELOPER")),
        ("Copy env for shell", Action("copy_env", "acme/dev/DEVELOPER")),
        ("Sign out", Action("unauth", "acme/dev/DEVELOPER")),
    ]
    other = entry(menu, "dev (", "ReadOnly")
    assert (other.label, other.checked, other.children) == ("ReadOnly", False, ())
    # Top level: an information line, Open console of that session, Sign out of all.
    assert labels(menu)[0] == "acme/dev/DEVELOPER \u2014 47 min"  # issue 12: the full target
    assert not menu[0].enabled
    assert find_action(menu, "Open console") == Action("console", "acme/dev/DEVELOPER")
    assert entry(menu, "Sign out of all").enabled
    assert find_action(menu, "Sign out of all") == Action("unauth_all")


def test_several_sessions_make_open_console_a_submenu_newest_first():
    sessions = [
        session("acme/dev/DEVELOPER", 30, issued_minutes_ago=30),
        session("acme/prod/ReadOnly", 50, issued_minutes_ago=5),
    ]
    menu = build_menu(ONE, sessions, NOW)
    assert labels(menu)[:2] == [
        "acme/dev/DEVELOPER \u2014 30 min",
        "acme/prod/ReadOnly \u2014 50 min",
    ]
    console = entry(menu, "Open console")
    assert console.action.kind == "none"
    assert [(c.label, c.action.target) for c in console.children] == [
        ("acme/prod/ReadOnly", "acme/prod/ReadOnly"),
        ("acme/dev/DEVELOPER", "acme/dev/DEVELOPER"),
    ]


def test_with_several_profiles_session_lines_name_the_profile():
    menu = build_menu(TWO, [session("other/lab/Admin", 20)], NOW)
    assert labels(menu)[0] == "other/lab/Admin \u2014 20 min"


def test_expired_sessions_are_not_shown_as_active():
    menu = build_menu(ONE, [session("acme/dev/DEVELOPER", -1)], NOW)
    assert labels(menu)[0] == "No active sessions"
    assert find_action(menu, "dev (", "DEVELOPER") == Action("auth", "acme/dev/DEVELOPER")


def test_a_busy_role_is_disabled_and_says_so():
    menu = build_menu(ONE, [], NOW, busy=frozenset({"acme/dev/DEVELOPER"}))
    role = entry(menu, "dev (", "DEVELOPER")
    assert role.label == "DEVELOPER \u2014 working\u2026"
    assert not role.enabled
    assert entry(menu, "dev (", "ReadOnly").enabled


def test_an_error_is_the_first_line_shortened_to_one_line():
    message = "config.toml: profiles.acme.accounts.dev.id: must be 12 digits\n" + "x" * 200
    menu = build_menu(ONE, [], NOW, error=message)
    first = menu[0]
    assert first.label.startswith("\u26a0 config.toml: profiles.acme.accounts.dev.id")
    assert "\n" not in first.label and len(first.label) <= 95 and first.label.endswith("\u2026")
    assert sum(c.label.count("x") for c in first.children) == 200  # the full text, wrapped
    assert menu[1].separator
    assert entry(menu, "dev (").children  # the menu itself stays usable


def test_no_profiles_points_to_settings():
    menu = build_menu(Config(), [], NOW)
    assert "No roles configured yet (see Settings\u2026)" in labels(menu)
    assert find_action(menu, "Settings") == Action("settings")


def test_an_account_without_roles_shows_a_disabled_line():
    empty = Profile("acme", "AKIAEXAMPLE000000001", "arn:aws:iam::999999999999:mfa/a",
                    accounts=(Account("dev", "111111111111", "eu-west-1"),))  # fmt: skip
    menu = build_menu(Config(profiles=(empty,)), [], NOW)
    only = entry(menu, "dev (").children
    assert [(c.label, c.enabled) for c in only] == [("(nothing configured)", False)]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(59, "<1 min"), (60, "1 min"), (61, "2 min"), (47 * 60, "47 min"), (3540, "59 min"), (3599, "1 h 00 min"),
     (3600, "1 h 00 min"), (7200, "2 h 00 min"), (5 * 3600 + 61, "5 h 02 min")],
)  # fmt: skip
def test_time_left_rounds_minutes_up(seconds, text):
    s = session("acme/dev/DEVELOPER", 0)
    assert time_left(s, s.expiration - timedelta(seconds=seconds)) == text


def test_icon_state_and_tooltip():
    assert icon_state([], NOW, 5) == ("idle", 0)
    long = session("acme/dev/DEVELOPER", 47)
    soon = session("acme/prod/ReadOnly", 4)
    assert icon_state([long], NOW, 5) == ("active", 1)
    assert icon_state([long, soon], NOW, 5) == ("expiring", 2)
    assert icon_state([long, soon], NOW, 0) == ("active", 2)
    assert icon_state([long], NOW, 5, error="boom") == ("active", 1)  # the error is a mark
    assert icon_state([session("acme/dev/DEVELOPER", -1)], NOW, 5) == ("idle", 0)
    assert tooltip([], NOW) == "aacli: no active sessions"
    assert tooltip([long], NOW).splitlines()[0] == "aacli: 1 active session"
    assert tooltip([long, soon], NOW).splitlines()[0] == "aacli: 2 active sessions"


def test_unknown_action_kinds_are_refused():
    with pytest.raises(ValueError, match="unknown menu action"):
        Action("format_disk")


def test_menu_follows_settings_not_the_default_warning():
    # The menu itself does not depend on warn_minutes; the icon does.
    config = Config(profiles=(ACME,), settings=Settings(warn_minutes=50))
    sessions = [session("acme/dev/DEVELOPER", 47)]
    assert build_menu(config, sessions, NOW) == build_menu(ONE, sessions, NOW)
    assert icon_state(sessions, NOW, config.settings.warn_minutes)[0] == "expiring"


# What the entries do: TrayApp's worker steps, run directly (no display, no pystray).


def _tray(configured, code_source=None):

    from trayapp.core.codes import FixedCode
    from trayapp.tray.app import TrayApp

    service = configured.service()
    return TrayApp(service, code_source=code_source or (lambda: FixedCode(configured.code())))


def _sections(path):
    import configparser

    parser = configparser.RawConfigParser()
    parser.read(path)
    return parser.sections()


def test_auth_sign_out_and_quit_entries_act_through_the_service(configured):
    tray = _tray(configured)
    tray.perform(find_action(tray._snapshot()[0], "dev (", "DEVELOPER"))
    assert "dev-DEVELOPER" in _sections(configured.credentials)
    assert tray.notify.sent[-1][1].startswith("acme/dev/DEVELOPER active until ")
    tray.sessions = tray.service.sessions()
    model = tray._snapshot()[0]
    assert find_action(model, "dev (", "DEVELOPER", "Sign out") == Action(
        "unauth", "acme/dev/DEVELOPER"
    )
    tray.perform(find_action(model, "dev (", "DEVELOPER", "Sign out"))
    assert "dev-DEVELOPER" not in _sections(configured.credentials)
    assert tray.notify.sent[-1][1] == "acme/dev/DEVELOPER signed out; credentials removed"

    result = configured.aacli("auth", "prod/ReadOnly", "--code", configured.next_code())
    assert result.returncode == 0, result.stderr
    tray.perform(Action("quit"))  # unauth_on_quit is on by default
    assert "prod-ReadOnly" not in _sections(configured.credentials)
    assert tray.service.sessions() == []


def test_cancelling_the_dialog_is_quiet_and_a_failure_becomes_an_error_state(configured):
    from trayapp.core.errors import CodeCancelled

    class Cancel:
        name, can_retry = "cancel", True

        def get_code(self, request):
            raise CodeCancelled("Cancelled: no MFA code was entered.")

    tray = _tray(configured, code_source=Cancel)
    tray.actions.put(Action("auth", "acme/dev/DEVELOPER"))
    tray.actions.put(Action("auth", "acme/nowhere/Gone"))
    tray.actions.put(None)
    tray._work()  # runs both, then stops at None
    assert tray.notify.sent == [("aacli: error", "acme/nowhere/Gone is no longer in the config")]
    model = tray._snapshot()[0]
    assert (
        model[0].label
        == "\u26a0 Last error: acme/nowhere/Gone is no longer in the config \u2014 Dismiss"
    )
    assert tray._snapshot()[1][0] == "idle" and tray.error_mark()
    assert not tray.busy


def test_a_bad_settings_edit_keeps_the_last_good_menu(configured):
    tray = _tray(configured)
    good = tray._snapshot()[0]
    config = configured.home / "config.toml"
    text = config.read_text()
    config.write_text(text.replace('id = "111111111111"', 'id = "12345"'))
    tray.check_files()
    [(title, message)] = tray.notify.sent
    assert title == "aacli: error"
    assert "profiles.acme.accounts.dev" in message and "last good" in message
    model = tray._snapshot()[0]
    assert model[0].label.startswith("\u26a0 ")
    assert model[2:] == good  # the same menu below the error line
    assert tray._snapshot()[1][0] == "idle" and tray.error_mark()

    config.write_text(text.replace("accounts.prod", "accounts.qa"))
    tray.check_files()
    assert tray.notify.sent[-1] == ("aacli", "Settings are valid again; the menu is up to date.")
    assert labels(tray._snapshot()[0])[2:4] == ["dev (111111111111)", "qa (333333333333)"]


def test_the_tray_refuses_to_run_without_a_display_or_a_menu_backend(env):
    from trayapp.tray.backend import TrayUnavailable, choose_backend

    result = env.aacli("tray", DISPLAY="", WAYLAND_DISPLAY="")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "aacli: the tray needs a graphical desktop: neither DISPLAY nor WAYLAND_DISPLAY is set. "
        "Start it from your desktop session (or its autostart)."
    )
    with pytest.raises(TrayUnavailable, match="not a tray backend with a menu"):
        choose_backend({"DISPLAY": ":9", "AACLI_TRAY_BACKEND": "xorg"})
    assert choose_backend({}, platform="darwin") is None  # pystray's own backend has menus


def test_the_cli_starts_without_loading_gui_libraries(env):
    code = (
        "import sys; from trayapp.cli.main import build_parser; build_parser('tray');"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pystray', 'PIL', 'gi', 'tkinter'}))"
    )
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env.environ(), check=True)  # fmt: skip
    assert done.stdout.strip() == "[]"
