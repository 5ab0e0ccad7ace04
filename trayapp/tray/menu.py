"""The tray menu as plain data: a pure function of config + sessions + now, no display needed."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from trayapp.core.keys.age import KeyAge
from trayapp.core.model import Account, Config, Profile, Session, Target
from trayapp.core.timeleft import time_left as words_left

# "renew_quiet" is the scheduler's keep-fresh renewal; no menu entry carries it.
ACTION_KINDS = frozenset(
    {
        "auth",
        "console",
        "renew",
        "renew_quiet",
        "copy_env",
        "unauth",
        "unauth_all",
        "settings",
        "rotate",
        "quit",
        "cancel",
        "dismiss",
        "none",
        "copy_server_env",  # tray/serving.py: the credential server's two variables
        "serve_code",  # tray/serving.py: a code the credential server needs (sign-in worker)
        # An Identity Center hub's (tray/identity_center.py)
        "sso_sign_in",
        "sso_sign_in_code",
        "sso_sync",
        "sso_sign_out",
    }
)
DASH = "\u2014"
ERROR_WIDTH = 90  # a menu line wider than this makes the whole menu wide
WRAP_WIDTH = 60  # the full text of an error, in its submenu, wrapped to lines this wide


@dataclass(frozen=True)
class Action:
    """What clicking an entry asks the worker to do; ``target`` is a full target label."""

    kind: str = "none"
    target: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ACTION_KINDS:
            raise ValueError(f"unknown menu action {self.kind!r}")


NO_ACTION = Action()


@dataclass(frozen=True)
class MenuEntry:
    """One line of the menu: a leaf with an action, a submenu (children), or a separator."""

    label: str = ""
    action: Action = NO_ACTION
    children: tuple[MenuEntry, ...] = ()
    checked: bool = False
    enabled: bool = True
    separator: bool = False


SEPARATOR = MenuEntry(separator=True)


def time_left(session: Session, now: datetime) -> str:
    """``47 min``, ``1 h 05 min``, ``<1 min``: the CLI's rounding (core/timeleft)."""
    return words_left((session.expiration - now).total_seconds())


def live_sessions(sessions: Iterable[Session], now: datetime) -> list[Session]:
    """Sessions not yet expired, soonest expiry first."""
    return sorted((s for s in sessions if s.expiration > now), key=lambda s: s.expiration)


def short_label(target: str, config: Config) -> str:
    """How the tray names a target: in full, ``acme/dev/DEVELOPER``, as the CLI, the dialogs
    and the notifications do (it used to drop the profile when there was only one)."""
    del config  # one vocabulary everywhere, whatever the config holds
    return target


def build_menu(
    config: Config,
    sessions: Sequence[Session],
    now: datetime,
    *,
    busy: frozenset[str] = frozenset(),
    error: str | None = None,
    due_keys: Sequence[KeyAge] = (),
    prompt: str | None = None,
    no_secret: frozenset[str] = frozenset(),
    signing: str | None = None,
    last_error: str | None = None,
    quit_signs_out: int = 0,
    sign_ins: Mapping[str, datetime | None] | None = None,
) -> tuple[MenuEntry, ...]:
    """The whole tray menu. ``busy``: target labels being worked on; ``error``: shown on top;
    ``signing``: the target STS is signing in to (with Cancel); ``last_error``: the last
    action's error, with its full text and Dismiss; ``quit_signs_out``: the sessions Quit ends;
    ``due_keys``: hub keys older than their profile's ``rotate_after``, reminded on top;
    ``prompt``: what the user must do right now (touch the YubiKey), above everything;
    ``no_secret``: profiles whose hub secret key is missing (their roles lead to Settings);
    ``sign_ins``: Identity Center hub name -> its sign-in's expiry (None: not signed in)."""
    live = live_sessions(sessions, now)
    by_target = {s.target: s for s in live}
    entries: list[MenuEntry] = []
    if not config.profiles:  # first run: setting up is the one thing to do
        entries += [MenuEntry(SET_UP, Action("settings")), SEPARATOR]
    if prompt:
        entries += [MenuEntry(f"{prompt}\u2026", enabled=False), SEPARATOR]
    if signing:
        entries += [
            MenuEntry(f"Signing in to {signing}\u2026", enabled=False),
            MenuEntry("Cancel", Action("cancel", signing)),
            SEPARATOR,
        ]
    if error:
        entries += [MenuEntry(_one_line(error), children=_full_text(error)), SEPARATOR]
    if last_error:
        entries += [
            MenuEntry(
                _one_line(f"Last error: {last_error}", f" {DASH} Dismiss"),
                children=(*_full_text(last_error), SEPARATOR, MenuEntry("Dismiss", DISMISS)),
            ),
            SEPARATOR,
        ]
    if due_keys:
        entries += [
            MenuEntry(
                f"{age.profile}: hub key {age.days} days old {DASH} Rotate\u2026",
                Action("rotate", age.profile),
            )
            for age in due_keys
        ]
        entries.append(SEPARATOR)
    if live:
        entries += [
            MenuEntry(f"{short_label(s.target, config)} {DASH} {time_left(s, now)}", enabled=False)
            for s in live
        ]
    else:
        entries.append(MenuEntry("No active sessions", enabled=False))
    entries.append(SEPARATOR)

    if not config.profiles:
        entries.append(MenuEntry("No roles configured yet (see Settings\u2026)", enabled=False))
    elif len(config.profiles) == 1 and config.profiles[0].is_identity_center:
        entries += _hub(config, config.profiles[0], by_target, now, busy, sign_ins)
    elif len(config.profiles) == 1:
        entries += _accounts(config.profiles[0], by_target, now, busy, no_secret)
    else:
        entries += [
            MenuEntry(
                p.name,
                children=_hub(config, p, by_target, now, busy, sign_ins)
                if p.is_identity_center
                else (
                    *(_accounts(p, by_target, now, busy, no_secret) or _EMPTY),
                    SEPARATOR,
                    _rotate(p),
                ),
            )
            for p in config.profiles
        ]
    entries.append(SEPARATOR)

    entries.append(_open_console(live, config))
    entries.append(MenuEntry("Sign out of all", Action("unauth_all"), enabled=bool(live)))
    entries.append(SEPARATOR)
    if len(config.profiles) == 1 and not config.profiles[0].is_identity_center:
        entries.append(_rotate(config.profiles[0]))
    entries += [
        MenuEntry("Settings\u2026", Action("settings")),
        MenuEntry(quit_label(quit_signs_out), Action("quit")),
    ]
    return tuple(entries)


DISMISS = Action("dismiss")


def quit_label(signs_out: int) -> str:
    """Quit says what it does: the same rule for Quit and a logout (SIGTERM)."""
    if signs_out <= 0:
        return "Quit"
    return f"Quit and sign out of {signs_out} session{'s' if signs_out != 1 else ''}"


_EMPTY = (MenuEntry("(nothing configured)", enabled=False),)
SET_UP = "Set up aacli\u2026"
NO_SECRET = "no secret key: set it up\u2026"


def _rotate(profile: Profile) -> MenuEntry:
    return MenuEntry("Rotate hub key\u2026", Action("rotate", profile.name))


def _hub(
    config: Config,
    profile: Profile,
    by_target: dict[str, Session],
    now: datetime,
    busy: frozenset[str],
    sign_ins: Mapping[str, datetime | None] | None,
) -> tuple[MenuEntry, ...]:
    """An Identity Center hub: its sign-in lines, then its accounts (tray/identity_center)."""
    from trayapp.tray.identity_center import hub_entries

    expires_at = (sign_ins or {}).get(profile.name)
    warn = config.settings.warn_minutes
    lines = hub_entries(profile, expires_at, now, warn_minutes=warn, busy=busy)
    return (*lines, SEPARATOR, *(_accounts(profile, by_target, now, busy) or _EMPTY))


def _accounts(
    profile: Profile,
    by_target: dict[str, Session],
    now: datetime,
    busy: frozenset[str],
    no_secret: frozenset[str] = frozenset(),
) -> list[MenuEntry]:
    return [
        MenuEntry(
            f"{account.name} ({account.account_id})",
            children=tuple(_roles(profile, account, by_target, now, busy, no_secret)) or _EMPTY,
        )
        for account in profile.accounts
    ]


def _roles(
    profile: Profile,
    account: Account,
    by_target: dict[str, Session],
    now: datetime,
    busy: frozenset[str],
    no_secret: frozenset[str] = frozenset(),
) -> list[MenuEntry]:
    entries = []
    for role in account.roles:
        label = Target(profile, account, role).label
        session = by_target.get(label)
        if label in busy:
            entries.append(MenuEntry(f"{role.name} {DASH} working\u2026", enabled=False))
        elif session is None and profile.name in no_secret:
            entries.append(
                MenuEntry(f"{role.name} {DASH} {NO_SECRET}", Action("settings", profile.name))
            )
        elif session is None:
            entries.append(MenuEntry(role.name, Action("auth", label)))
        else:
            entries.append(
                MenuEntry(
                    f"{role.name} {DASH} {time_left(session, now)}",
                    checked=True,
                    children=(
                        MenuEntry("Open console", Action("console", label)),
                        MenuEntry("Renew", Action("renew", label)),
                        MenuEntry("Copy env for shell", Action("copy_env", label)),
                        MenuEntry("Sign out", Action("unauth", label)),
                    ),
                )
            )
    return entries


def _open_console(live: list[Session], config: Config) -> MenuEntry:
    if not live:
        return MenuEntry("Open console", enabled=False)
    newest_first = sorted(live, key=lambda s: s.issued_at, reverse=True)
    if len(newest_first) == 1:
        return MenuEntry("Open console", Action("console", newest_first[0].target))
    return MenuEntry(
        "Open console",
        children=tuple(
            MenuEntry(short_label(s.target, config), Action("console", s.target))
            for s in newest_first
        ),
    )


def _one_line(text: str, tail: str = "") -> str:
    line = " ".join(text.split())
    width = ERROR_WIDTH - len(tail)
    if len(line) > width:
        line = line[: width - 1] + "\u2026"
    return f"\u26a0 {line}{tail}"


def _full_text(text: str) -> tuple[MenuEntry, ...]:
    """The whole message, wrapped: the instruction at its end is never cut off."""
    lines = textwrap.wrap(" ".join(text.split()), WRAP_WIDTH) or [""]
    return tuple(MenuEntry(line, enabled=False) for line in lines)


def icon_state(
    sessions: Sequence[Session], now: datetime, warn_minutes: int, error: str | None = None
) -> tuple[str, int]:
    """The icon's state (idle, active, expiring) and the count of live sessions; an error
    does not hide them (the icon adds a small mark for it)."""
    live = live_sessions(sessions, now)
    if not live:
        return "idle", 0
    if live[0].expiration - now <= timedelta(minutes=warn_minutes):
        return "expiring", len(live)
    return "active", len(live)


def tooltip(sessions: Sequence[Session], now: datetime) -> str:
    """The first line counts the sessions; then one line per session with its time left."""
    live = live_sessions(sessions, now)
    if not live:
        return "aacli: no active sessions"
    head = f"aacli: {len(live)} active session{'s' if len(live) != 1 else ''}"
    return "\n".join([head, *(f"{s.target} {DASH} {time_left(s, now)} left" for s in live)])


def find_action(entries: Sequence[MenuEntry], *labels: str) -> Action:
    """The action at the end of a label path (prefix match on each label), for tests and tools."""
    current: Sequence[MenuEntry] = entries
    entry: MenuEntry | None = None
    for label in labels:
        entry = next((e for e in current if not e.separator and e.label.startswith(label)), None)
        if entry is None:
            raise KeyError(f"no menu entry starting with {label!r} under {labels}")
        current = entry.children
    if entry is None:
        raise KeyError("empty label path")
    return entry.action
