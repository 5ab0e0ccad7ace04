"""Issue 13, "Tray": Identity Center hubs in the tray menu (pure model, no display), their sign-in
expiry watched by the scheduler, and (display-marked) the real tray signing in to a hub of the
sandbox, refreshing its accounts and getting working credentials from a role click."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from trayapp.core.model import Account, Config, IdentityCenter, Profile, Role, Session, Settings
from trayapp.tray import identity_center
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
    "Sign in to corp again…"; after it the status says it ended (and when)."""
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
    assert not _entry(corp, "Refresh accounts").enabled
    assert _entry(corp, "Sign out of corp").enabled  # the cached sign-in can still be ended


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


def test_no_sign_in_means_nothing_due(tmp_path):
    """Issue 13 Tray: a hub not signed in has no deadline and refreshes nothing by itself."""
    recorder = _Recorder()
    hubs = _watcher(tmp_path, recorder)
    hubs.expiries = {"corp": None}
    assert hubs.tick(NOW) is None
    assert recorder.queued == [] and recorder.notes == []
    assert identity_center.sign_in_due(None, NOW, 5)
