# ruff: noqa: RUF001 - the tables print multiplication signs and dashes on purpose
"""Item 4, scale: auth + unauth beside many foreign profiles, the tray menu for many accounts,
`aacli status` with 100 sessions. Items 3c (tray: code submitted → file written) lives here too:
it is the same in-process measurement of Service.authenticate.

The local part is measured in-process with an STS stand-in that answers at once, so only
aacli's own work counts (lock, file edits, fsyncs, ledger); the real round trip is shown apart.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from common import BenchHome, Case, Install, config_text, ratio, run_interleaved, table

from trayapp.core import inifile
from trayapp.core.codes import FixedCode
from trayapp.core.config import load_config
from trayapp.core.model import Session
from trayapp.core.paths import AppPaths, AwsPaths
from trayapp.core.service import Deps, Service
from trayapp.core.sessions import save_ledger
from trayapp.core.sts import StsCaller, make_sts_client
from trayapp.tray.menu import build_menu

TARGET = "dev/DEVELOPER"


class InstantSts:
    """An STS client stand-in: AssumeRole answers at once with fresh-looking credentials."""

    def __init__(self, _caller: StsCaller) -> None:
        self.calls = 0

    def assume_role(self, **params: Any) -> dict[str, Any]:
        self.calls += 1
        expiry = datetime.now(timezone.utc) + timedelta(seconds=params["DurationSeconds"])
        return {
            "Credentials": {
                "AccessKeyId": f"ASIABENCH{self.calls:011d}"[:20],
                "SecretAccessKey": "b" * 40,
                "SessionToken": "t" * 300,
                "Expiration": expiry,
            },
            "AssumedRoleUser": {"Arn": "arn:aws:sts::111111111111:assumed-role/DEVELOPER/bench"},
        }


class SharedSessionSts:
    """What make_sts_client would cost with one botocore session kept per process (a proposal,
    measured here only): the same client settings, the models and endpoints parsed once."""

    def __init__(self) -> None:
        import botocore.config
        import botocore.session

        from trayapp.core.sts import CONNECT_TIMEOUT, MAX_ATTEMPTS, READ_TIMEOUT

        self.session = botocore.session.Session(
            session_vars={
                "profile": (None, None, None, None),
                "config_file": (None, None, os.devnull, None),
                "credentials_file": (None, None, os.devnull, None),
            }
        )
        self.config = botocore.config.Config(
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
            retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
        )

    def __call__(self, caller: StsCaller) -> Any:
        return self.session.create_client(
            "sts",
            region_name=caller.region,
            endpoint_url=caller.endpoint_url,
            aws_access_key_id=caller.access_key_id,
            aws_secret_access_key=caller.secret_access_key,
            aws_session_token=caller.session_token,
            config=self.config,
        )


def service_for(home: BenchHome, factory: Callable[[StsCaller], Any]) -> Service:
    env = home.env
    return Service(
        Deps(
            app=AppPaths.from_env(env),
            aws=AwsPaths.from_env(env),
            sts_factory=factory,
            endpoint_url=env["AWS_ENDPOINT_URL"],
            passphrase=lambda: env["AACLI_PASSPHRASE"],
        )
    )


def timed(action: Callable[[], object], runs: int) -> float:
    """Median milliseconds of ``action``."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def foreign_profiles(count: int) -> str:
    return "".join(
        f"# team profile {n}\n[foreign-{n:05d}]\naws_access_key_id = AKIAFOREIGN{n:09d}\n"
        f"aws_secret_access_key = {'s' * 40}\nregion = eu-west-1\n\n"
        for n in range(count)
    )


def auth_unauth_scale(home: BenchHome, runs: int) -> tuple[str, dict[str, float]]:
    service = service_for(home, InstantSts)
    target = service.resolve(TARGET)
    service.secrets()  # the vault's scrypt is paid once per process, not per edit
    service.authenticate(target, FixedCode(home.next_code()))  # imports, first client: once
    service.unauth(target)
    rows = []
    figures: dict[str, float] = {}

    def fresh(action: Callable[[], object]) -> Callable[[], object]:
        # Each aacli process starts with an empty parse cache: so does each timed run here.
        return lambda: (inifile._RECENT.clear(), action())

    for count in (0, 100, 1_000, 10_000):
        home.credentials.parent.mkdir(mode=0o700, exist_ok=True)
        home.credentials.write_text(foreign_profiles(count))
        home.aws_config.write_text(
            foreign_profiles(count).replace("[foreign-", "[profile foreign-")
        )
        size = home.credentials.stat().st_size
        auth_ms = timed(
            fresh(lambda: service.authenticate(target, FixedCode(home.next_code()))), runs
        )
        service.unauth(target)
        samples = []
        for _ in range(runs):
            service.authenticate(target, FixedCode(home.next_code()))
            inifile._RECENT.clear()
            start = time.perf_counter()
            service.unauth(target)
            samples.append(time.perf_counter() - start)
        unauth_ms = statistics.median(samples) * 1000
        figures[f"auth_{count}"], figures[f"unauth_{count}"] = auth_ms, unauth_ms
        rows.append((f"{count:,}", f"{size / 1024:,.0f} KiB", f"{auth_ms:.1f}", f"{unauth_ms:.1f}"))
    text = "\n".join(
        [
            f"In-process `Service.authenticate` then `Service.unauth` (median of {runs}, the "
            "parse cache emptied before each, as a new process has it), STS answered "
            "by an instant stand-in, so this is aacli's local part only: lock, reading and "
            "re-validating both AWS files, atomic writes with fsync, the ledger. Both "
            "`~/.aws/credentials` and `~/.aws/config` hold the foreign profiles.",
            "",
            table(
                ("foreign profiles", "credentials file", "auth ms (local)", "unauth ms (local)"),
                rows,
            ),
            "",
            f"**Target ≤ 50 ms local at 1,000: auth {figures['auth_1000']:.1f} ms, unauth "
            f"{figures['unauth_1000']:.1f} ms — "
            f"{'met' if max(figures['auth_1000'], figures['unauth_1000']) <= 50 else 'NOT met'}.**",
            "",
            f"**Target ≤ 100 ms local at 10,000 (issue 16): auth {figures['auth_10000']:.1f} ms, "
            f"unauth {figures['unauth_10000']:.1f} ms — "
            f"{'met' if max(figures['auth_10000'], figures['unauth_10000']) <= 100 else 'NOT met'}"
            ".**",
        ]
    )
    home.credentials.write_text("")
    home.aws_config.write_text("")
    return text, figures


def whole_process_scale(
    small: BenchHome, big: BenchHome, install: Install, runs: int
) -> tuple[str, dict[str, float]]:
    """`aacli auth` and `aacli unauth` as whole processes (wheel install) beside 0 and 10,000
    foreign profiles: the difference is what the 10,000 profiles cost a real run."""
    for home, count in ((small, 0), (big, 10_000)):
        home.credentials.parent.mkdir(mode=0o700, exist_ok=True)
        home.credentials.write_text(foreign_profiles(count))
        home.aws_config.write_text(
            foreign_profiles(count).replace("[foreign-", "[profile foreign-")
        )
    cases = []
    for home, label in ((small, "0"), (big, "10,000")):
        env = install.env(home.env)
        cases += [
            Case(
                f"aacli auth, {label} foreign profiles",
                lambda _n, home=home: [install.aacli, "auth", TARGET, "--code", home.next_code()],
                env,
                shown=f"aacli auth {TARGET} --code C",
            ),
            Case(
                f"aacli unauth, {label} foreign profiles",
                [install.aacli, "unauth", TARGET],
                env,
                shown=f"aacli unauth {TARGET}",
            ),
        ]
    run_interleaved(cases, runs, warmup=1)
    ms = [c.median_ms for c in cases]
    rows = [(c.name, f"{c.median_ms:.0f}", f"`{c.shown}`") for c in cases]
    text = "\n".join(
        [
            f"Whole processes in the wheel install, median of {runs} interleaved runs (after 1 "
            "warm-up round): each auth (vault backend, sandbox STS) is followed by its unauth.",
            "",
            table(("command", "median ms", "reproduce"), rows),
            "",
            f"10,000 foreign profiles cost a whole `aacli auth` {ms[2] - ms[0]:+.0f} ms and a "
            f"whole `aacli unauth` {ms[3] - ms[1]:+.0f} ms (run-to-run noise is ~±20 ms here).",
        ]
    )
    return text, {"auth_extra_ms": ms[2] - ms[0], "unauth_extra_ms": ms[3] - ms[1]}


def tray_submit_to_file(home: BenchHome, runs: int) -> tuple[str, dict[str, float]]:
    """Item 3c: what the tray's worker does after the dialog returns a code."""
    service = service_for(home, make_sts_client)
    target = service.resolve(TARGET)
    service.secrets()  # the tray unlocks the store once
    # The tray warms botocore at start (imports, one client): do the same.
    make_sts_client(
        StsCaller(
            "AKIAWARMUP0000000000", "w" * 40, "us-east-1", endpoint_url=home.env["AWS_ENDPOINT_URL"]
        )
    )
    hub = home.hub
    caller = StsCaller(
        hub.access_key_id,
        hub.secret_access_key,
        "us-east-1",  # type: ignore[attr-defined]
        endpoint_url=home.env["AWS_ENDPOINT_URL"],
    )
    client = make_sts_client(caller)

    def round_trip() -> None:
        client.assume_role(
            RoleArn=target.role_arn,
            RoleSessionName="bench",
            DurationSeconds=7200,
            SerialNumber=hub.mfa_serial,
            TokenCode=home.next_code(),  # type: ignore[attr-defined]
        )

    rtt = timed(round_trip, runs)
    new_client = timed(lambda: make_sts_client(caller), runs)
    total = timed(lambda: service.authenticate(target, FixedCode(home.next_code())), runs)
    shared_factory = SharedSessionSts()
    shared = service_for(home, shared_factory)
    shared.secrets()
    shared.authenticate(target, FixedCode(home.next_code()))  # its first client parses the models
    with_shared = timed(lambda: shared.authenticate(target, FixedCode(home.next_code())), runs)
    instant = service_for(home, InstantSts)
    instant.secrets()
    local = timed(lambda: instant.authenticate(target, FixedCode(home.next_code())), runs)
    rows = [
        ("STS round trip alone (warm client, sandbox)", f"{rtt:.1f}", "`client.assume_role(…)`"),
        (
            "code submitted → file written (tray path)",
            f"{total:.1f}",
            "`Service.authenticate(target, FixedCode(c))`",
        ),
        (
            "  of which beyond the round trip",
            f"{total - rtt:.1f}",
            "difference of the two rows above",
        ),
        (
            "  of which: a new botocore client (per call)",
            f"{new_client:.1f}",
            "`make_sts_client(caller)`",
        ),
        (
            "  of which: files, lock, ledger (STS stand-in)",
            f"{local:.1f}",
            "same, STS answered at once",
        ),
        (
            "proposal: one botocore session per process",
            f"{with_shared:.1f}",
            "same, `SharedSessionSts` factory (bench/scale.py)",
        ),
        ("  of which beyond the round trip", f"{with_shared - rtt:.1f}", "difference"),
    ]
    verdict = "met" if total - rtt <= 50 else "NOT met"
    text = "\n".join(
        [
            f"In-process, warmed as the tray is (botocore imported, one client built, secret store "
            f"open); median of {runs}.",
            "",
            table(("step", "median ms", "what is timed"), rows),
            "",
            f"**Target local part ≤ 50 ms beyond the STS round trip: {total - rtt:.1f} ms — {verdict}.**",
        ]
    )
    return text, {
        "shared_local": with_shared - rtt,
        "rtt": rtt,
        "submit_total": total,
        "submit_local": total - rtt,
        "new_client": new_client,
    }


def menu_scale(runs: int) -> tuple[str, dict[str, float]]:
    rows = []
    figures: dict[str, float] = {}
    now = datetime.now(timezone.utc)
    for accounts in (10, 100, 1_000):
        text = config_text(
            "AKIAIOSFODNN7EXAMPLE",
            "arn:aws:iam::123456789012:mfa/bench",
            accounts,
            ("Admin", "DEVELOPER", "ReadOnly"),
        )
        folder = Path(tempfile.gettempdir()) / f"aacli-bench-menu-{accounts}"
        folder.mkdir(exist_ok=True)
        (folder / "config.toml").write_text(text)
        load_ms = timed(lambda: load_config(folder / "config.toml"), max(3, runs // 4))  # noqa: B023
        config = load_config(folder / "config.toml")
        sessions = [
            Session(
                target=f"acme/a{n:05d}/DEVELOPER",
                aws_profiles=(f"a{n:05d}-DEVELOPER",),
                access_key_id="ASIA" + "X" * 16,
                expiration=now + timedelta(hours=1),
                issued_at=now,
                credentials_file="/dev/null",
                config_file="/dev/null",
                region="eu-west-1",
            )
            for n in range(3)
        ]
        ms = timed(lambda: build_menu(config, sessions, now), runs)  # noqa: B023
        figures[f"menu_{accounts}"] = ms
        rows.append((f"{accounts:,} × 3", f"{ms:.2f}", f"{load_ms:.1f}"))
    text = "\n".join(
        [
            f"`trayapp.tray.menu.build_menu(config, 3 sessions, now)`, in-process, median of {runs}; "
            "loading (parsing and validating) that config shown beside it.",
            "",
            table(("accounts × roles", "build_menu ms", "load_config ms"), rows),
            "",
            f"**Target ≤ 50 ms at 1,000 accounts: {figures['menu_1000']:.2f} ms — "
            f"{'met' if figures['menu_1000'] <= 50 else 'NOT met'}.**",
        ]
    )
    return text, figures


def status_scale(home: BenchHome, install: Install, runs: int) -> tuple[str, dict[str, float]]:
    """Whole-process `aacli status` (wheel install) with 3 and with 100 sessions in the ledger."""
    now = datetime.now(timezone.utc)
    app = AppPaths.from_env(home.env)

    def ledger(count: int) -> list[Session]:
        return [
            Session(
                target=f"acme/a{n:05d}/DEVELOPER",
                aws_profiles=(f"a{n:05d}-DEVELOPER",),
                access_key_id="ASIA" + f"{n:016d}",
                expiration=now + timedelta(hours=2),
                issued_at=now,
                credentials_file=str(home.credentials),
                config_file=str(home.aws_config),
                region="eu-west-1",
            )
            for n in range(count)
        ]

    env = install.env(home.env)
    argv = [install.aacli, "status"]
    cases = [
        Case("floor: python -c pass", [install.python, "-c", "pass"], env, shown="python -c pass"),
        Case(
            "aacli status, 3 sessions",
            argv,
            env,
            before=lambda _n: save_ledger(app.ledger_file, ledger(3)),
            shown="aacli status",
        ),
        Case(
            "aacli status, 100 sessions",
            argv,
            env,
            before=lambda _n: save_ledger(app.ledger_file, ledger(100)),
            shown="aacli status",
        ),
    ]
    run_interleaved(cases, runs)
    save_ledger(app.ledger_file, [])
    floor = cases[0].median_ms
    rows = [
        (c.name, f"{c.median_ms:.1f}", ratio(c.median_ms, floor), f"`{c.shown}`") for c in cases
    ]
    text = "\n".join(
        [
            f"Whole process (wheel install), median of {runs} interleaved runs; the ledger is "
            "written before each run.",
            "",
            table(("command", "median ms", "× floor", "reproduce"), rows),
        ]
    )
    return text, {"status_100": cases[2].median_ms, "status_3": cases[1].median_ms}
