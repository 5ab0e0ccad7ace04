"""Identity Center hubs in the tray: their menu lines (pure), the sign-in with the browser or the
device-code window, the expiry warnings of their sign-ins, and the daily refresh of accounts."""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from trayapp.core.clock import Clock, isoformat_z, parse_iso
from trayapp.core.errors import AacliError, CodeCancelled, SignInNeeded
from trayapp.core.model import Config, Profile
from trayapp.tray.menu import Action, MenuEntry

if TYPE_CHECKING:
    from trayapp.core.service import Service
    from trayapp.core.sso.portal import SyncReport
    from trayapp.core.sso.signin import DeviceCode

log = logging.getLogger(__name__)
T = TypeVar("T")

# The menu actions of a hub (tray/menu.py's ACTION_KINDS holds them too).
SIGN_IN = "sso_sign_in"
SIGN_IN_CODE = "sso_sign_in_code"  # the device flow, for when the browser is elsewhere
SYNC = "sso_sync"
SIGN_OUT = "sso_sign_out"
SIGN_IN_KINDS = (SIGN_IN, SIGN_IN_CODE)  # may wait for the user: the tray's sign-in worker

SYNC_EVERY = timedelta(days=1)
SYNCED_FILE = "identity-center-synced.json"  # when each hub's accounts were last refreshed


# The menu (pure: config, expiries and now in, plain data out)


def _clock(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M")


def is_hub(profile: Profile) -> bool:
    return profile.is_identity_center


def sign_in_due(expires_at: datetime | None, now: datetime, warn_minutes: int) -> bool:
    """Whether the hub's line offers a sign-in: none yet, ended, or ending within the warning."""
    return expires_at is None or expires_at - now <= timedelta(minutes=max(0, warn_minutes))


def status_line(expires_at: datetime | None, now: datetime) -> str:
    """``Signed in until 18:40``, ``Not signed in`` (``… (ended 18:40)`` once it ran out)."""
    if expires_at is None:
        return "Not signed in"
    if expires_at <= now:
        return f"Not signed in (ended {_clock(expires_at)})"
    return f"Signed in until {_clock(expires_at)}"


def sign_in_label(name: str, expires_at: datetime | None) -> str:
    """``Sign in to corp…``, or ``Sign in to corp again…`` when there was a sign-in."""
    return (
        f"Sign in to {name} again\u2026" if expires_at is not None else f"Sign in to {name}\u2026"
    )


def hub_entries(
    profile: Profile,
    expires_at: datetime | None,
    now: datetime,
    *,
    warn_minutes: int = 5,
    busy: frozenset[str] = frozenset(),
) -> tuple[MenuEntry, ...]:
    """A hub's own lines, above its accounts: the status, the sign-in when one is due, Refresh
    accounts and Sign out (when there is a sign-in, even one that ended: its refresh token may
    still carry the refresh, and Sign out removes it)."""
    name = profile.name
    cached = expires_at is not None
    if name in busy:
        entries = [MenuEntry(f"Signing in to {name}\u2026", enabled=False)]
    else:
        entries = [MenuEntry(status_line(expires_at, now), enabled=False)]
        if sign_in_due(expires_at, now, warn_minutes):
            entries += [
                MenuEntry(sign_in_label(name, expires_at), Action(SIGN_IN, name)),
                MenuEntry("Sign in with a code\u2026", Action(SIGN_IN_CODE, name)),
            ]
    entries += [
        MenuEntry("Refresh accounts", Action(SYNC, name), enabled=cached and name not in busy),
        MenuEntry(f"Sign out of {name}", Action(SIGN_OUT, name), enabled=cached),
    ]
    return tuple(entries)


def warning(name: str, expires_at: datetime, now: datetime) -> str:
    from trayapp.core.timeleft import time_left

    left = time_left((expires_at - now).total_seconds())
    return (
        f"Your sign-in to {name} ends in {left}, at {_clock(expires_at)}. "
        f"Sign in again from the tray menu (Sign in to {name} again\u2026)."
    )


def refreshed(report: SyncReport) -> str:
    """What a Refresh accounts changed, in one sentence."""
    accounts = sum("/" not in label for label in report.added)
    roles = len(report.added) - accounts
    if not report.added:
        text = f"{report.hub}: accounts refreshed, nothing new."
    else:
        text = f"{report.hub}: accounts refreshed, {_count(accounts, 'account')} and "
        text += f"{_count(roles, 'role')} added."
    if report.kept:
        text += (
            f" {len(report.kept)} no longer assigned, kept "
            f"(`aacli config sync {report.hub} --prune` removes the synced ones)."
        )
    return text


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# The device-code window (a child process, as the dialogs are)


class DeviceCodeWindow:
    """``python -m trayapp.dialogs device-code``: the user code large, the URL, Copy, Cancel.
    The code goes to it on stdin, never on its command line. Closed by :meth:`close` once the
    sign-in is over; :meth:`closed_by_user` tells when the user closed it (Cancel)."""

    def __init__(self, hub: str) -> None:
        self.hub = hub
        self.child: subprocess.Popen[bytes] | None = None
        self.expires_at: datetime | None = None  # the code's

    def show(self, code: DeviceCode) -> None:
        from trayapp.core import children

        self.close()
        details = {
            "hub": self.hub,
            "user_code": code.user_code,
            "verification_uri": code.verification_uri,
            "verification_uri_complete": code.verification_uri_complete,
            "expires_at": isoformat_z(code.expires_at),
        }
        self.expires_at = code.expires_at
        argv = children.python_command("trayapp.dialogs", "device-code")
        try:
            child = children.start(argv, stdin=subprocess.PIPE)
        except OSError as exc:
            raise AacliError(f"Could not show the sign-in code window: {exc.strerror}.") from None
        self.child = child
        with contextlib.suppress(OSError):  # it ended at once: closed_by_user says so
            assert child.stdin is not None
            child.stdin.write(json.dumps(details).encode("utf-8"))
            child.stdin.close()

    def closed_by_user(self) -> bool:
        return self.child is not None and self.child.poll() is not None

    def failed(self) -> bool:
        """It could not show itself (no display): the sign-in cannot go on."""
        from trayapp.dialogs.__main__ import EXIT_NO_DISPLAY

        return self.child is not None and self.child.poll() == EXIT_NO_DISPLAY

    def close(self) -> None:
        child, self.child = self.child, None
        if child is not None and child.poll() is None:
            with contextlib.suppress(OSError):  # it has just ended by itself
                child.terminate()


# The tray's side: expiries, sign-in, sync, sign-out, warnings


class HubSignIns:
    """What the tray does for its Identity Center hubs. It calls only Service methods.

    ``expiries`` (hub name -> the cached token's expiry, or None) is read from the token cache by
    :meth:`read_expiries` (the poll thread: a CLI ``aacli login`` shows within seconds) and after
    each sign-in or sign-out; the menu is built from it, never from the disk.
    """

    def __init__(
        self,
        service: Service,
        *,
        config: Callable[[], Config],
        notify: Callable[..., None],
        enqueue: Callable[[Action], None],
        changed: Callable[[], None],
        clock: Clock,
        state_dir: Path,
    ) -> None:
        self.service = service
        self.config = config
        self.notify = notify
        self.enqueue = enqueue
        self.changed = changed
        self.clock = clock
        self.synced_file = state_dir / SYNCED_FILE
        self.state_dir = state_dir
        self.expiries: Mapping[str, datetime | None] = {}
        self._unread: dict[str, str] = {}  # why a hub's sign-in could not be read (logged once)
        self.warned: set[tuple[str, datetime]] = set()
        self.ended: set[tuple[str, datetime]] = set()
        self._window: DeviceCodeWindow | None = None
        self._lock = threading.Lock()

    def hubs(self) -> list[Profile]:
        return [p for p in self.config().profiles if is_hub(p)]

    def hub(self, name: str) -> Profile:
        for profile in self.hubs():
            if profile.name == name:
                return profile
        raise AacliError(f"{name} is no longer an Identity Center hub in the config")

    def read_expiries(self) -> bool:
        """Read every hub's token expiry from the cache (no network); whether any changed."""
        found: dict[str, datetime | None] = {}
        for profile in self.hubs():
            try:
                found[profile.name] = self.service.sso_expiry(profile.name)
                self._unread.pop(profile.name, None)
            except AacliError as exc:  # an unsafe cache file: the hub shows as not signed in
                if self._unread.get(profile.name) != str(exc):
                    log.warning("sign-in of %s not read: %s", profile.name, exc)
                self._unread[profile.name] = str(exc)
                found[profile.name] = None
        if found == self.expiries:
            return False
        self.expiries = found
        return True

    # The scheduler's watcher (its own thread)

    def tick(self, now: datetime) -> datetime | None:
        """Warn before a sign-in ends, refresh the menu when it has ended, refresh accounts once
        a day while signed in; the next moment something is due."""
        warn = timedelta(minutes=max(0, self.config().settings.warn_minutes))
        due: list[datetime] = []
        synced = self._synced()
        for name, expires_at in self.expiries.items():
            if expires_at is None:
                continue
            key = (name, expires_at)
            if expires_at <= now:
                if key not in self.ended:
                    self.ended.add(key)
                    self.changed()  # the line becomes "Sign in to corp again…"
                continue
            due.append(expires_at)
            if warn > timedelta(0) and key not in self.warned:
                if expires_at - warn <= now:
                    self.warned.add(key)
                    self.notify(warning(name, expires_at, now), important=True)
                    self.changed()
                else:
                    due.append(expires_at - warn)
            last = synced.get(name)
            if last is None or now - last >= SYNC_EVERY:
                self._mark_synced(name)  # now: the next tick must not queue it again
                self.enqueue(Action(SYNC, name))
                due.append(now + SYNC_EVERY)
            else:
                due.append(last + SYNC_EVERY)
        return min((d for d in due if d > now), default=None)

    # The actions (the tray's workers)

    def sign_in(
        self, name: str, *, device_code: bool = False, cancelled: Callable[[], bool]
    ) -> None:
        """Sign in to hub ``name``: the browser (through the tray's private redirect page),
        else or when asked the device flow with its window. Refreshes the hub's accounts
        after it when they are more than a day old."""
        profile = self.hub(name)
        window = DeviceCodeWindow(name)
        with self._lock:
            self._window = window

        def stopped() -> bool:
            return cancelled() or window.closed_by_user()

        try:
            self.service.sign_in(
                profile.name,
                open_browser=self.open_browser,
                show_device_code=window.show,
                device_code=device_code,
                cancelled=stopped,
            )
        except AacliError:
            if window.failed():
                raise AacliError(
                    "Could not show the sign-in code window (no display?); "
                    f"sign in from a terminal: aacli login {name} --device-code"
                ) from None
            if window.expires_at is not None and window.expires_at <= self.clock():
                raise AacliError(
                    f"The sign-in code for {name} expired before it was entered; "
                    f"sign in again from the menu (Sign in to {name}\u2026)."
                ) from None
            if stopped():
                raise CodeCancelled(f"Sign-in to {name} cancelled.") from None
            raise
        finally:
            window.close()
            with self._lock:
                self._window = None
        self.read_expiries()
        expires_at = self.expiries.get(name)
        until = f" until {_clock(expires_at)}" if expires_at else ""
        self.notify(f"Signed in to {name}{until}.")
        last = self._synced().get(name)
        if last is None or self.clock() - last >= SYNC_EVERY:
            self._mark_synced(name)
            self.enqueue(Action(SYNC, name))

    def signed_in_first(self, name: str, get: Callable[[], T], cancelled: Callable[[], bool]) -> T:
        """``get()`` (a role of hub ``name``); when the hub is not signed in, or its sign-in
        ended and could not be refreshed, sign in first and get it again."""
        try:
            return get()
        except SignInNeeded:
            self.sign_in(name, cancelled=cancelled)
            return get()

    def sync(self, name: str) -> None:
        """Refresh the hub's accounts and roles (never pruned here: that is the CLI's --prune)."""
        self._mark_synced(name)  # even if it fails: the daily refresh is not retried at once
        self.notify(refreshed(self.service.sync(name, prune=False)))

    def sign_out(self, name: str) -> None:
        ended = self.service.sign_out(name)
        self.read_expiries()
        self.notify(f"Signed out of {name}." if ended else f"{name} was not signed in.")

    def close_window(self) -> None:
        """Quit: the device-code window goes too (it also closes itself when the tray is gone)."""
        with self._lock:
            window = self._window
        if window is not None:
            window.close()

    def open_browser(self, url: str) -> bool:
        """The tray's browser opener: False when no browser could be started (then the sign-in
        falls back to the device flow and its window)."""
        from trayapp.core.browser import IDENTITY_CENTER_TITLE, open_signin_page
        from trayapp.core.errors import ConsoleError

        try:
            open_signin_page(url, self.state_dir, title=IDENTITY_CENTER_TITLE)  # URL never on argv
        except ConsoleError as exc:
            log.info("no browser for the sign-in: %s", exc)
            return False
        return True

    # When accounts were last refreshed, per hub (a small file in the tray's state folder)

    def _synced(self) -> dict[str, datetime]:
        from trayapp.core.files import read_text

        try:
            text = read_text(self.synced_file, what="the Identity Center refresh times")
            data: Any = json.loads(text) if text else {}
            return {str(k): parse_iso(str(v)) for k, v in dict(data).items()}
        except (AacliError, ValueError, TypeError):
            return {}

    def _mark_synced(self, name: str) -> None:
        from trayapp.core.files import atomic_write, private_dir

        data = {k: isoformat_z(v) for k, v in self._synced().items()}
        data[name] = isoformat_z(self.clock())
        try:
            private_dir(self.synced_file.parent)
            atomic_write(self.synced_file, json.dumps(data, indent=1) + "\n", mode=0o600)
        except AacliError as exc:  # then the next tick syncs again: no harm
            log.warning("refresh time not recorded: %s", exc)
