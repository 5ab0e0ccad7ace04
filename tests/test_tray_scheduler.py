"""The expiry scheduler: deadlines, one warning per session, removal at expiry via the real Service."""

from __future__ import annotations

import configparser
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from trayapp.core.codes import FixedCode
from trayapp.core.model import Session
from trayapp.core.service import Service
from trayapp.tray.scheduler import MAX_SLEEP, Scheduler, next_deadline

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _session(target: str, expires: datetime, key: str = "ASIAEXAMPLE000000001") -> Session:
    return Session(
        target=target, aws_profiles=("p",), access_key_id=key, expiration=expires,
        issued_at=expires - timedelta(hours=1), credentials_file="c", config_file="f",
        region="eu-west-1",
    )  # fmt: skip


def test_next_deadline_is_the_first_warning_or_expiry():
    warn = timedelta(minutes=5)
    a = _session("acme/dev/DEVELOPER", T0 + timedelta(minutes=30))
    b = _session("acme/prod/ReadOnly", T0 + timedelta(minutes=8), key="ASIAEXAMPLE000000002")
    assert next_deadline([], T0, warn, set()) is None
    assert next_deadline([a], T0, warn, set()) == T0 + timedelta(minutes=25)
    assert next_deadline([a, b], T0, warn, set()) == T0 + timedelta(minutes=3)
    # Once b was warned about, its next deadline is its expiry.
    warned = {(b.target, b.access_key_id)}
    assert next_deadline([a, b], T0, warn, warned) == T0 + timedelta(minutes=8)
    # Inside the warning window the warning is not a future deadline any more.
    assert next_deadline([b], T0 + timedelta(minutes=4), warn, set()) == b.expiration
    assert next_deadline([a], T0, timedelta(0), set()) == a.expiration
    assert next_deadline([a], a.expiration, warn, set()) is None


def _service(configured, clock) -> Service:
    return configured.service(clock=clock)


def _profiles(path) -> list[str]:
    parser = configparser.RawConfigParser()
    parser.read(path)
    return parser.sections()


def test_warns_once_then_removes_at_expiry_through_the_real_service(configured):
    real = _service(configured, lambda: datetime.now(timezone.utc))
    real.authenticate(real.resolve("dev/DEVELOPER"), FixedCode(configured.code()))
    assert "dev-DEVELOPER" in _profiles(configured.credentials)
    [session] = real.sessions()  # as the ledger keeps it: to the second

    clock = FakeClock(datetime.now(timezone.utc))
    service = _service(configured, clock)
    warnings: list[tuple[str, datetime]] = []
    expired: list[list] = []
    scheduler = Scheduler(
        service,
        on_warning=lambda s, now: warnings.append((s.target, now)),
        on_expired=expired.append,
        warn_minutes=lambda: 5,
        clock=clock,
    )
    left = (session.expiration - clock.now).total_seconds()
    assert left > 3600  # a 2 h role

    # Far from expiry: nothing happens, and it never sleeps more than 30 s.
    assert scheduler.tick() == MAX_SLEEP
    assert (warnings, expired) == ([], [])

    # 30 s before the warning: it sleeps exactly until then.
    clock.now = session.expiration - timedelta(minutes=5, seconds=10)
    assert scheduler.tick() == 10
    clock.advance(seconds=10)
    assert scheduler.tick() == MAX_SLEEP
    assert warnings == [("acme/dev/DEVELOPER", clock.now)]

    # The warning is given once, however often it wakes.
    clock.now = session.expiration - timedelta(seconds=12)
    assert scheduler.tick() == 12
    assert len(warnings) == 1
    assert "dev-DEVELOPER" in _profiles(configured.credentials)

    # At expiry the credentials are removed by core's sweep, and reported.
    clock.now = session.expiration
    assert scheduler.tick() == MAX_SLEEP
    assert [[r.session.target for r in batch] for batch in expired] == [["acme/dev/DEVELOPER"]]
    assert expired[0][0].removed == ("dev-DEVELOPER",)
    assert "dev-DEVELOPER" not in _profiles(configured.credentials)
    assert service.sessions() == []
    assert scheduler.tick() == MAX_SLEEP and len(expired) == 1


def test_a_renewed_session_is_warned_about_again(tmp_path):
    clock = FakeClock(T0)

    class Ledger:  # the scheduler only needs sweep() and sessions() from the service
        def __init__(self):
            self.sessions_list = [_session("acme/dev/DEVELOPER", T0 + timedelta(minutes=3))]

        def sweep(self, now):
            return []

        def sessions(self):
            return list(self.sessions_list)

    ledger = Ledger()
    warnings = []
    scheduler = Scheduler(
        ledger, on_warning=lambda s, now: warnings.append(s.access_key_id),  # type: ignore[arg-type]
        on_expired=lambda r: None, clock=clock,
    )  # fmt: skip
    scheduler.tick()
    scheduler.tick()
    assert warnings == ["ASIAEXAMPLE000000001"]
    ledger.sessions_list = [replace(ledger.sessions_list[0], access_key_id="ASIAEXAMPLE000000009")]
    scheduler.tick()
    assert warnings == ["ASIAEXAMPLE000000001", "ASIAEXAMPLE000000009"]


def test_the_thread_removes_short_lived_credentials_on_its_own(configured, short_lived):
    service = _service(configured, lambda: datetime.now(timezone.utc))
    wake = threading.Event()
    expired: list = []
    warned: list = []
    scheduler = Scheduler(
        service, on_warning=lambda s, now: warned.append(s.target), on_expired=expired.extend,
        wake=wake,
    )  # fmt: skip
    scheduler.start()
    try:
        time.sleep(0.2)  # it starts with nothing to do: sleeping up to 30 s
        session = service.authenticate(
            service.resolve("dev/DEVELOPER"), FixedCode(configured.code())
        )
        assert (session.expiration - session.issued_at).total_seconds() <= 5
        wake.set()  # the tray does this after each action
        deadline = time.monotonic() + 15
        while not expired and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        scheduler.stop()
    assert [r.session.target for r in expired] == ["acme/dev/DEVELOPER"]
    assert warned == ["acme/dev/DEVELOPER"]  # 4 s is inside the 5 min warning window
    assert "dev-DEVELOPER" not in _profiles(configured.credentials)
    assert service.sessions() == []


def test_start_sweeps_what_expired_while_the_tray_was_off(configured, short_lived):
    service = _service(configured, lambda: datetime.now(timezone.utc))
    service.authenticate(service.resolve("dev/DEVELOPER"), FixedCode(configured.code()))
    later = FakeClock(datetime.now(timezone.utc) + timedelta(seconds=10))
    expired: list = []
    scheduler = Scheduler(
        _service(configured, later), on_warning=lambda s, n: None, on_expired=expired.extend,
        clock=later,
    )  # fmt: skip
    scheduler.tick()  # the first thing the thread does
    assert [r.removed for r in expired] == [("dev-DEVELOPER",)]
    assert "dev-DEVELOPER" not in _profiles(configured.credentials)
