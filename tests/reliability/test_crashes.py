"""SIGKILL at random moments: a file is always the old or the new one; the next run reconciles."""

from __future__ import annotations

import configparser
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reliability.conftest import add, foreign_credentials, record
from trayapp.core import credfile, files, inifile
from trayapp.core.codes import FixedCode
from trayapp.core.paths import AppPaths, AwsPaths
from trayapp.core.service import Deps, Service
from trayapp.core.sessions import load_ledger_state

FILE_TRIALS = int(os.environ.get("AACLI_CRASH_TRIALS", "200"))
SERVICE_TRIALS = int(os.environ.get("AACLI_CRASH_SERVICE_TRIALS", "40"))
CLI_TRIALS = int(os.environ.get("AACLI_CRASH_CLI_TRIALS", "20"))


def _slow_writes() -> None:
    """In the child only: writes go out in 64 KiB pieces and fsync lingers, so kills land
    inside the write of the big file, between write and rename, and after it."""
    real_fdopen, real_fsync = os.fdopen, os.fsync

    class Chunked:
        def __init__(self, handle):
            self.handle = handle

        def write(self, data):
            for at in range(0, len(data), 1 << 16):
                self.handle.write(data[at : at + (1 << 16)])
                self.handle.flush()
                time.sleep(0.0005)
            return len(data)

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.handle.__exit__(*exc)

    os.fdopen = lambda fd, *a, **k: Chunked(real_fdopen(fd, *a, **k))  # type: ignore[assignment]
    os.fsync = lambda fd: (real_fsync(fd), time.sleep(0.003))[0]  # type: ignore[assignment]


def _fork(loop) -> int:
    pid = os.fork()
    if pid == 0:  # the child: loop until killed, never back into pytest
        try:
            _slow_writes()
            loop()
        finally:
            os._exit(3)
    return pid


def _fork_when_ready(loop) -> int:
    """Like _fork, but returns once the child says it is warmed up (a slow, loaded machine
    must not turn every trial into a kill before the first edit)."""
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready_r)
        try:
            _slow_writes()
            loop(ready_w)
        finally:
            os._exit(3)
    os.close(ready_w)
    os.read(ready_r, 1)
    os.close(ready_r)
    return pid


def _kill(pid: int, rng: random.Random, longest: float) -> None:
    time.sleep(rng.uniform(0.005, longest))
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status), "the writer ended on its own"


@pytest.mark.slow
def test_a_killed_writer_leaves_the_old_or_the_new_file_whole(tmp_path: Path) -> None:
    aws = tmp_path / "aws"
    aws.mkdir(mode=0o700)
    path, lock = aws / "credentials", tmp_path / "state" / "aws-files.lock"
    old = foreign_credentials(20000)  # about 2 MB
    new = inifile.upsert_section(old, "aacli-crash", {"aws_access_key_id": "ASIACRASH"})
    path.write_text(old, encoding="utf-8")
    rng = random.Random(1)

    def loop() -> None:
        for text in [new, old] * 100000:
            with credfile.aws_files_lock(lock):
                credfile.atomic_write(path, text)

    partial = mid_write = 0
    for _ in range(FILE_TRIALS):
        _kill(_fork(loop), rng, 0.12)
        temps = [p for p in aws.iterdir() if files.TEMP_MARK in p.name]
        mid_write += bool(temps)
        data = path.read_text(encoding="utf-8")
        partial += data not in (old, new)
        assert data in (old, new), f"partial file of {len(data)} characters"
        with credfile.aws_files_lock(lock, timeout=2):  # the dead writer's lock is free
            pass
    record("crashes", "file_trials", FILE_TRIALS)
    record("crashes", "file_kills_with_a_temp_file_left", mid_write)
    record("crashes", "file_size_bytes", len(old.encode()))
    record("crashes", "partial_files", partial)
    assert mid_write > FILE_TRIALS // 10, "too few kills landed inside a write"
    # The next write removes the dead writers' temp files once they are stale (files.py: the
    # writer is gone and the file is over a minute old; a live writer's is never touched).
    an_hour_ago = time.time() - 3600
    for temp in aws.iterdir():
        if files.TEMP_MARK in temp.name:
            os.utime(temp, (an_hour_ago, an_hour_ago))
    with credfile.aws_files_lock(lock):
        credfile.atomic_write(path, old)
    assert sorted(p.name for p in aws.iterdir()) == ["credentials"]


def _service(configured) -> Service:
    from conftest import PASSPHRASE

    return Service(
        Deps(
            app=AppPaths.from_env(configured.vars),
            aws=AwsPaths.from_env(configured.vars),
            endpoint_url=configured.sandbox.endpoint_url,
            passphrase=lambda: PASSPHRASE,
        )
    )


def _check_agreement(configured, original_creds: str, original_config: str) -> int:
    """The ledger and the files agree; returns how many sessions are live."""
    sessions, pending = load_ledger_state(configured.home / "state" / "sessions.json")
    assert pending == []
    creds = configured.credentials.read_text(encoding="utf-8")
    config = configured.aws_config.read_text(encoding="utf-8")
    assert creds.startswith(original_creds) and config.startswith(original_config)
    ours = configparser.RawConfigParser()
    ours.read_string(creds[len(original_creds) :])
    with_keys = {n: dict(ours.items(n)) for n in ours.sections()}
    in_ledger = {n: s.access_key_id for s in sessions for n in s.aws_profiles}
    assert {n: v["aws_access_key_id"] for n, v in with_keys.items()} == in_ledger
    regions = configparser.RawConfigParser()
    regions.read_string(config[len(original_config) :])
    created = {n for s in sessions for n in s.config_sections_created}
    assert {n.removeprefix("profile ") for n in regions.sections()} == created
    return len(sessions)


# The whole CLI with the same slowed writes as the forked children, so its file edit lasts
# long enough to be seen and killed inside.
_SLOW_CLI = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); "
    "from reliability.test_crashes import _slow_writes; _slow_writes(); "
    "from trayapp.cli.main import main; sys.exit(main(sys.argv[1:]))"
)


def _cli_trials(configured, rng: random.Random, creds_text: str, config_text: str) -> dict:
    """Issue 17 item 6: whole ``aacli auth dev/DEVELOPER`` / ``unauth --all`` processes, each
    killed once the ledger shows its edit pending (written ahead, before any file changes),
    after a random 0-20 ms more; a run that ends first must have succeeded."""
    ledger = configured.home / "state" / "sessions.json"

    def pending() -> bool:
        try:
            return bool(load_ledger_state(ledger)[1]) if ledger.exists() else False
        except Exception:  # read while being replaced; the next poll sees it whole
            return False

    counts = {"killed_mid_edit": 0, "left_pending": 0, "finished": 0}
    for _ in range(CLI_TRIALS):
        live = load_ledger_state(ledger)[0] if ledger.exists() else []
        if live and rng.random() < 0.4:
            argv = ["unauth", "--all"]
        else:  # one role: the target is never ambiguous, so the run reaches its edit
            argv = ["auth", "dev/DEVELOPER", "--code", f"{rng.randrange(10**6):06d}"]
        child = subprocess.Popen(
            [sys.executable, "-c", _SLOW_CLI, str(Path(__file__).parent.parent), *argv],
            env=configured.environ(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while child.poll() is None and not pending():
            assert time.monotonic() < deadline, "aacli neither ended nor reached its edit"
            time.sleep(0.001)
        killed = child.poll() is None
        if killed:
            time.sleep(rng.uniform(0.0, 0.02))
            child.send_signal(signal.SIGKILL)
        _, err = child.communicate(timeout=30)
        if killed and child.returncode == -signal.SIGKILL:
            counts["killed_mid_edit"] += 1
            counts["left_pending"] += pending()  # killed before it could clear its plan
        else:
            assert child.returncode == 0, f"aacli {' '.join(argv[:2])}: {err.decode()}"
            counts["finished"] += 1
        result = configured.aacli("status", "--json")
        assert result.returncode == 0, result.stderr
        _check_agreement(configured, creds_text, config_text)
    return counts


@pytest.mark.slow
def test_a_killed_auth_or_unauth_is_reconciled_on_the_next_start(configured) -> None:
    configured.credentials.parent.mkdir(mode=0o700, exist_ok=True)
    creds_text, config_text = foreign_credentials(300), "[default]\nregion = us-east-1\n"
    configured.credentials.write_text(creds_text, encoding="utf-8")
    configured.aws_config.write_text(config_text, encoding="utf-8")
    sandbox = configured.sandbox
    service = _service(configured)
    targets = [service.resolve("dev/DEVELOPER"), service.resolve("prod/ReadOnly")]
    rng = random.Random(2)

    def loop(ready: int) -> None:
        child = _service(configured)
        child.secrets().get("warm/up")  # derive the vault key before the kill clock starts
        os.write(ready, b"1")
        os.close(ready)
        codes = random.Random(os.getpid())
        while True:
            target = codes.choice(targets)
            if codes.random() < 0.6:
                child.authenticate(target, FixedCode(f"{codes.randrange(10**6):06d}"))
            else:
                child.unauth(target)

    sandbox.mfa_check = False
    try:
        live = []
        for _ in range(SERVICE_TRIALS):
            _kill(_fork_when_ready(loop), rng, 0.6)
            pending = load_ledger_state(configured.home / "state" / "sessions.json")[1]
            add("crashes", "service_kills_with_a_pending_edit", bool(pending))
            service.status()  # what every command does first: sweep (and reconcile)
            live.append(_check_agreement(configured, creds_text, config_text))
        cli = _cli_trials(configured, rng, creds_text, config_text)
    finally:
        sandbox.mfa_check = True
    record("crashes", "service_trials", SERVICE_TRIALS)
    record("crashes", "cli_trials", CLI_TRIALS)
    record("crashes", "cli_kills_with_a_pending_edit", cli["killed_mid_edit"])
    record("crashes", "cli_kills_that_left_the_edit_pending", cli["left_pending"])
    record("crashes", "cli_runs_done_before_the_kill", cli["finished"])
    # Issue 17 item 6: nearly every trial must have got as far as its file edit when killed.
    assert cli["killed_mid_edit"] >= CLI_TRIALS * 8 // 10, cli
    record("crashes", "ledger_disagreements", 0)
    assert max(live) > 0
    assert configured.aacli("unauth", "--all").returncode == 0
    assert configured.credentials.read_text(encoding="utf-8") == creds_text
    assert configured.aws_config.read_text(encoding="utf-8") == config_text


def test_a_section_without_its_ledger_entry_is_left_alone_and_named(configured) -> None:
    """The ledger was lost (not a crash: aacli writes it ahead): aacli cannot prove the keys
    are its own, so it never removes them, and refuses to overwrite them, saying where."""
    result = configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code())
    assert result.returncode == 0, result.stderr
    (configured.home / "state" / "sessions.json").unlink()
    before = configured.credentials.read_bytes()
    assert configured.aacli("status").returncode == 0
    assert configured.aacli("unauth", "--all").returncode == 0
    assert configured.credentials.read_bytes() == before
    again = configured.aacli("auth", "dev/DEVELOPER", "--code", configured.next_code())
    from conftest import assert_one_line_error

    assert_one_line_error(again, "[dev-DEVELOPER]", "did not write")
    assert configured.credentials.read_bytes() == before
