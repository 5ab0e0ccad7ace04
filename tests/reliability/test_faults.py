"""Injected faults: bounded retries, then one clear line; never a partial write, never a hang."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import time

import pytest
from conftest import assert_one_line_error, need_tool

from reliability.conftest import foreign_credentials, record
from trayapp.core.sts import MAX_ATTEMPTS

TIMEOUT = 1.0  # AACLI_STS_TIMEOUT for these tests: connect and read, per attempt
# What botocore may spend at most: every attempt times out, plus its backoff (< 20 s max,
# about 1-2 s for 3 attempts), plus the CLI's start-up on a busy 2-core machine.
BOUND = MAX_ATTEMPTS * 2 * TIMEOUT + 4 + 8
TRANSIENT = ["delay", "timeout", "500", "503", "throttling", "drop"]
ALL = [*TRANSIENT, "malformed"]


def _snapshot(configured) -> dict[str, object]:
    """The AWS files byte for byte, and what the ledger says (sessions and pending edits)."""
    from trayapp.core.sessions import load_ledger_state

    files = [configured.credentials, configured.aws_config]
    found: dict[str, object] = {str(p): p.read_bytes() if p.exists() else None for p in files}
    found["ledger"] = load_ledger_state(configured.home / "state" / "sessions.json")
    return found


@pytest.mark.parametrize("kind", ALL)
def test_each_fault_is_retried_or_reported_in_one_line(configured, kind) -> None:
    sandbox = configured.sandbox
    configured.credentials.parent.mkdir(mode=0o700, exist_ok=True)
    configured.credentials.write_text(foreign_credentials(50), encoding="utf-8")
    outcome = {}
    # Once: botocore's retry (or the patience of the client) gets past it.
    sandbox.faults.next(
        kind, count=1, seconds=0.3 if kind == "delay" else None, action="AssumeRole"
    )
    started = time.monotonic()
    once = configured.aacli(
        "auth", "dev/DEVELOPER", "--code", configured.code(), AACLI_STS_TIMEOUT=str(TIMEOUT)
    )
    outcome["once"] = f"exit {once.returncode} in {time.monotonic() - started:.1f} s"
    sandbox.faults.clear()
    if kind == "malformed":  # not retried: an answer that cannot be read is not transient
        assert_one_line_error(once, "cannot be read")
        outcome["once_message"] = once.stderr.strip()
    else:
        assert once.returncode == 0, once.stderr
        assert configured.aacli("unauth", "--all").returncode == 0

    # On every attempt: a clear line after a bounded time, and nothing written.
    before = _snapshot(configured)
    sandbox.faults.next(
        kind, count=MAX_ATTEMPTS, seconds=0.3 if kind == "delay" else None, action="AssumeRole"
    )
    started = time.monotonic()
    result = configured.aacli(
        "auth", "dev/DEVELOPER", "--code", configured.next_code(), AACLI_STS_TIMEOUT=str(TIMEOUT)
    )
    took = time.monotonic() - started
    left = sandbox.faults.pending
    sandbox.faults.clear()
    assert took < BOUND, f"{kind}: {took:.1f} s"
    if kind == "delay":
        assert result.returncode == 0, result.stderr
        outcome["always"] = f"ok after {took:.1f} s"
    else:
        assert_one_line_error(result)
        assert _snapshot(configured) == before, "a failed auth changed a file"
        outcome["always"] = f"exit {result.returncode} in {took:.1f} s: {result.stderr.strip()}"
        outcome["attempts"] = MAX_ATTEMPTS - left if kind != "malformed" else 1 - 0
    record("faults", kind, outcome)


def _limited(max_bytes: int):
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return limit


def test_disk_full_is_a_clear_error_and_the_old_file_stays(configured) -> None:
    configured.credentials.parent.mkdir(mode=0o700, exist_ok=True)
    configured.credentials.write_text(foreign_credentials(400), encoding="utf-8")
    before = _snapshot(configured)
    size = configured.credentials.stat().st_size
    result = subprocess.run(
        [
            __import__("sys").executable,
            "-m",
            "trayapp.cli.main",
            "auth",
            "dev/DEVELOPER",
            "--code",
            configured.code(),
        ],
        env=configured.environ(),
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limited(size + 100),  # the new file is bigger: it cannot be written
    )
    assert_one_line_error(result, "file too large", "unchanged")
    assert _snapshot(configured) == before
    assert [p.name for p in configured.credentials.parent.iterdir()] == ["credentials"]
    status = configured.aacli("status", "--json")
    assert status.returncode == 0, status.stderr
    assert __import__("json").loads(status.stdout)["sessions"] == []
    record("faults", "disk_full", result.stderr.strip())


def test_a_read_only_aws_folder_is_a_clear_error_and_the_old_file_stays(configured) -> None:
    import sys

    configured.credentials.parent.mkdir(mode=0o700, exist_ok=True)
    configured.credentials.write_text(foreign_credentials(50), encoding="utf-8")
    before = _snapshot(configured)
    folder = configured.credentials.parent
    argv = [
        sys.executable,
        "-m",
        "trayapp.cli.main",
        "auth",
        "dev/DEVELOPER",
        "--code",
        configured.code(),
    ]
    if os.geteuid() == 0:  # root ignores modes: a read-only bind mount in a mount namespace
        if not shutil.which("unshare"):
            need_tool("unshare (util-linux) is needed to test a read-only folder as root")
        script = f'mount --bind -o ro "{folder}" "{folder}" && exec "$@"'
        argv = ["unshare", "-m", "sh", "-c", script, "sh", *argv]
    else:
        folder.chmod(0o500)
    try:
        result = subprocess.run(
            argv, env=configured.environ(), capture_output=True, text=True, timeout=60
        )
    finally:
        folder.chmod(0o700)
    assert "mount:" not in result.stderr, result.stderr
    assert_one_line_error(result, "cannot write", "changed")
    assert _snapshot(configured) == before
    record("faults", "read_only_aws_folder", result.stderr.strip())


def test_the_tray_shows_an_error_and_recovers_on_the_next_action(configured) -> None:
    from conftest import PASSPHRASE

    from trayapp.core.codes import FixedCode
    from trayapp.core.paths import AppPaths, AwsPaths
    from trayapp.core.service import Deps, Service
    from trayapp.tray.app import TrayApp
    from trayapp.tray.menu import Action

    os.environ["AACLI_STS_TIMEOUT"] = str(TIMEOUT)
    try:
        service = Service(
            Deps(
                app=AppPaths.from_env(configured.vars),
                aws=AwsPaths.from_env(configured.vars),
                endpoint_url=configured.sandbox.endpoint_url,
                passphrase=lambda: PASSPHRASE,
            )
        )
        codes = iter([configured.code(), configured.next_code()])
        tray = TrayApp(service, code_source=lambda: FixedCode(next(codes)))
        configured.sandbox.faults.next("503", count=MAX_ATTEMPTS, action="AssumeRole")
        tray.actions.put(Action("auth", "acme/dev/DEVELOPER"))
        tray.actions.put(None)
        tray._work()
        configured.sandbox.faults.clear()
        model, (state, _count, _mark), _tip = tray._snapshot()
        assert state == "idle" and tray.error_mark()  # issue 12: the error is a mark
        assert "internal error" in model[0].label.lower(), model[0].label
        assert tray.notify.sent[-1][0] == "aacli: error"
        tray.actions.put(Action("auth", "acme/dev/DEVELOPER"))
        tray.actions.put(None)
        tray._work()
        model, (state, count, _mark), _tip = tray._snapshot()
        assert (state, count) == ("active", 1)
        assert "\u26a0" not in model[0].label
        record(
            "faults",
            "tray",
            "503 on every attempt: icon 'error' with the message; next auth: 'active'",
        )
    finally:
        os.environ.pop("AACLI_STS_TIMEOUT", None)
