"""The expiry timer: one thread that warns before sessions expire and removes them at expiry."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from trayapp.core.clock import Clock, system_clock
from trayapp.core.model import Session
from trayapp.core.service import Removal, Service

log = logging.getLogger(__name__)

MAX_SLEEP = 30.0  # wake at least this often: a suspend/resume or clock change is noticed
MIN_SLEEP = 0.05


def _key(session: Session) -> tuple[str, str]:
    # A renewed session has a new key id, so its warning is armed again.
    return session.target, session.access_key_id


def next_deadline(
    sessions: Iterable[Session], now: datetime, warn: timedelta, warned: set[tuple[str, str]]
) -> datetime | None:
    """The next moment something is due: a warning not yet given, or an expiry."""
    due: list[datetime] = []
    for session in sessions:
        if session.expiration > now:
            due.append(session.expiration)
        warn_at = session.expiration - warn
        if warn > timedelta(0) and _key(session) not in warned and warn_at > now:
            due.append(warn_at)
    return min(due, default=None)


class Scheduler:
    """Sleeps until the next deadline (at most ``max_sleep``), comparing with ``clock``.

    Set ``wake`` to make it look again at once (after an authentication, a
    ledger change, a settings change). Each of ``watchers`` (an Identity Center hub's sign-in
    expiry) is called with now at each look and returns its own next deadline, or None.
    """

    def __init__(
        self,
        service: Service,
        *,
        on_warning: Callable[[Session, datetime], None],
        on_expired: Callable[[list[Removal]], None],
        on_error: Callable[[Exception], None] = lambda exc: None,
        warn_minutes: Callable[[], int] = lambda: 5,
        clock: Clock = system_clock,
        wake: threading.Event | None = None,
        max_sleep: float = MAX_SLEEP,
        watchers: Sequence[Callable[[datetime], datetime | None]] = (),
    ) -> None:
        self.service = service
        self.on_warning = on_warning
        self.on_expired = on_expired
        self.on_error = on_error
        self.warn_minutes = warn_minutes
        self.clock = clock
        self.wake = wake or threading.Event()
        self.max_sleep = max_sleep
        self.watchers = tuple(watchers)
        self.warned: set[tuple[str, str]] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> float:
        """Do what is due now; the seconds to sleep before the next look."""
        now = self.clock()
        removals = self.service.sweep(now)
        if removals:
            self.on_expired(removals)
        sessions = self.service.sessions()
        warn = timedelta(minutes=max(0, self.warn_minutes()))
        for session in sessions:
            if (
                warn > timedelta(0)
                and _key(session) not in self.warned
                and session.expiration - warn <= now < session.expiration
            ):
                self.warned.add(_key(session))
                self.on_warning(session, now)
        self.warned &= {_key(s) for s in sessions}
        deadline = next_deadline(sessions, now, warn, self.warned)
        for watcher in self.watchers:
            theirs = watcher(now)
            if theirs is not None and (deadline is None or theirs < deadline):
                deadline = theirs
        if deadline is None:
            return self.max_sleep
        return min(self.max_sleep, max(MIN_SLEEP, (deadline - now).total_seconds()))

    def run(self) -> None:
        """The loop; returns once ``stop()`` is called."""
        while not self._stop.is_set():
            try:
                delay = self.tick()
            except Exception as exc:  # the timer must outlive any one failure
                log.warning("expiry check failed: %s", type(exc).__name__)
                self.on_error(exc)
                delay = self.max_sleep
            self.wake.wait(delay)
            self.wake.clear()

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.run, name="aacli-expiry", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
