"""Issue 11, the processes aacli starts: no secret in a child's environment, no import from the
caller's folder, dialog locks no other user can hold, no core dumps."""

from __future__ import annotations

import ctypes
import getpass
import hashlib
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pexpect
import pytest
from conftest import PASSPHRASE, as_attacker

from tests.xvfb import display_env, require_tools, xdotool, xvfb_display
from trayapp.core.errors import AacliError
from trayapp.dialogs import client

TARGET = "acme/dev/DEVELOPER"
DEVICE = "arn:aws:iam::999999999999:mfa/trust-test"
NEW_PASSPHRASE = "a-new-passphrase-also-secret"


def _proc_environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(
        item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item
    )


def _core_limit(pid: int) -> str:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max core file size"):
            return line.split()[4]
    raise AssertionError("no core limit line")


def _pids_running(fragment: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if fragment in cmdline and parent == os.getpid():  # ours, not another test run's
            found.append(int(entry.name))
    return found


def test_exec_gives_the_command_no_aacli_secret(configured) -> None:
    """Issue 11 item 6: `aacli exec TARGET -- env` shows the role's keys, never the vault
    passphrase (AACLI_PASSPHRASE, AACLI_NEW_PASSPHRASE)."""
    result = configured.aacli(
        "exec",
        "dev/DEVELOPER",
        "--code",
        configured.code(),
        "--",
        "env",
        AACLI_NEW_PASSPHRASE=NEW_PASSPHRASE,
    )
    assert result.returncode == 0, result.stderr
    assert "AWS_SESSION_TOKEN=" in result.stdout
    assert "AACLI_PASSPHRASE" not in result.stdout
    assert PASSPHRASE not in result.stdout
    assert NEW_PASSPHRASE not in result.stdout
    assert "AACLI_HOME=" in result.stdout  # only the secrets go, not the whole AACLI_ family


def test_browser_gets_no_aacli_secret(configured, tmp_path: Path) -> None:
    """Issue 11 item 6: the browser aacli starts for `aacli web` has no AACLI_PASSPHRASE."""
    dump = tmp_path / "browser-env.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f"#!/bin/sh\nenv > {dump}\n")
    browser.chmod(0o700)
    result = configured.aacli(
        "web",
        "dev/DEVELOPER",
        "--code",
        configured.code(),
        BROWSER=f"{browser} %s",
        AACLI_NEW_PASSPHRASE=NEW_PASSPHRASE,
    )
    assert result.returncode == 0, result.stderr
    deadline = time.monotonic() + 10
    while not dump.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    text = dump.read_text()
    assert "PATH=" in text
    assert "AACLI_PASSPHRASE" not in text
    assert NEW_PASSPHRASE not in text and PASSPHRASE not in text


def test_child_env_drops_every_secret_variable() -> None:
    """Issue 11 item 6: one helper builds every child's environment without aacli's secrets."""
    from trayapp.core import children

    env = children.child_env(
        {"EXTRA": "1"},
        base={
            "AACLI_PASSPHRASE": "x",
            "AACLI_NEW_PASSPHRASE": "y",
            "AACLI_SERVER_TOKEN": "z",
            "AACLI_HOME": "/h",
            "PATH": "/bin",
        },
    )
    assert env == {"AACLI_HOME": "/h", "PATH": "/bin", "EXTRA": "1"}


@pytest.mark.display
def test_dialog_child_has_no_secret_no_caller_folder_and_no_core_dumps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11 items 6, 11, 13: the MFA dialog child of the tray/CLI gets no AACLI_PASSPHRASE,
    runs in a fixed folder with -E, and may not write a core file."""
    require_tools("Xvfb", "xdpyinfo", "xdotool")
    with xvfb_display() as display:
        for key, value in display_env(display).items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("AACLI_PASSPHRASE", PASSPHRASE)
        monkeypatch.setenv("AACLI_NEW_PASSPHRASE", NEW_PASSPHRASE)
        monkeypatch.setenv("AACLI_HOME", str(tmp_path / "aacli"))
        monkeypatch.chdir(tmp_path)
        answer: list[object] = []
        asking = threading.Thread(
            target=lambda: answer.append(client.ask_mfa_code(TARGET, DEVICE, timeout=30)),
            daemon=True,
        )
        asking.start()
        xdotool(display, "search", "--sync", "--onlyvisible", "--name", "aacli", timeout=15)
        deadline = time.monotonic() + 10
        pids = _pids_running("trayapp.dialogs")
        while not pids and time.monotonic() < deadline:
            time.sleep(0.1)
            pids = _pids_running("trayapp.dialogs")
        assert pids, "the dialog child was not found"
        pid = pids[0]
        env = _proc_environ(pid)
        assert "AACLI_PASSPHRASE" not in env and "AACLI_NEW_PASSPHRASE" not in env
        assert env.get("DISPLAY") == display
        assert os.readlink(f"/proc/{pid}/cwd") != str(tmp_path)
        assert _core_limit(pid) == "0"
        xdotool(display, "key", "Escape")
        asking.join(15)
        assert answer == [None]


def test_credential_process_never_imports_from_the_callers_folder(configured) -> None:
    """Issue 11 item 13: with no terminal, credential_process starts the dialog child; a
    tkinter.py or trayapp/ planted in the caller's working directory must never run."""
    planted = configured.root / "project"
    (planted / "trayapp").mkdir(parents=True)
    marker = configured.root / "pwned"
    payload = f"open({str(marker)!r}, 'w').write('ran')\n"
    (planted / "tkinter.py").write_text(payload)
    (planted / "trayapp" / "__init__.py").write_text(payload)
    (planted / "trayapp" / "dialogs").mkdir()
    (planted / "trayapp" / "dialogs" / "__init__.py").write_text(payload)
    (planted / "trayapp" / "dialogs" / "__main__.py").write_text(payload)
    result = subprocess.run(
        # As an AWS tool runs it: the installed `aacli` script, in the tool's working directory.
        [str(Path(sys.executable).parent / "aacli"), "credential-process", "dev/DEVELOPER"],
        env=configured.environ(DISPLAY=":97"),  # no such display: the dialog cannot open
        cwd=planted,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert not marker.exists(), "a file planted in the caller's folder was run"
    assert "Traceback" not in result.stderr


def _old_dialog_lock_dir() -> Path:
    import tempfile

    return Path(tempfile.gettempdir()) / f"aacli-dialogs-{getpass.getuser()}"


def test_dialog_lock_planted_in_tmp_by_another_user_blocks_nothing(
    attacker_uid: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11 item 14: another user who creates the shared /tmp lock folder first and holds
    the dialog's lock must not block aacli's dialogs (locks live in the private state folder)."""
    folder = _old_dialog_lock_dir()
    shutil.rmtree(folder, ignore_errors=True)  # aacli itself no longer makes it: a leftover
    lock_name = "mfa-" + hashlib.sha256(DEVICE.encode()).hexdigest()[:16]
    holder_script = (
        "import fcntl, os, sys, time; os.makedirs(sys.argv[1], mode=0o700);"
        "f = open(os.path.join(sys.argv[1], sys.argv[2]), 'w');"
        "fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen(
        [
            "setpriv",
            f"--reuid={attacker_uid}",
            "--regid=65534",
            "--clear-groups",
            sys.executable,
            "-c",
            holder_script,
            str(folder),
            f"aacli-dialog-{lock_name}.lock",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd="/",
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        monkeypatch.setenv("AACLI_HOME", str(tmp_path / "aacli"))
        monkeypatch.setenv("DISPLAY", ":97")  # the dialog fails at once: no such display
        outcome: list[object] = []

        def ask() -> None:
            try:
                outcome.append(client.ask_mfa_code(TARGET, DEVICE))
            except AacliError as exc:
                outcome.append(exc)

        asking = threading.Thread(target=ask, daemon=True)
        asking.start()
        asking.join(20)
        assert not asking.is_alive(), "the dialog waited on a lock another user holds"
        assert isinstance(outcome[0], AacliError) and "display" in str(outcome[0]).lower()
        assert (tmp_path / "aacli" / "state" / "dialogs").is_dir()
        assert oct((tmp_path / "aacli" / "state" / "dialogs").stat().st_mode & 0o777) == "0o700"
    finally:
        holder.kill()
        holder.wait()
        as_attacker(["rm", "-rf", str(folder)], cwd="/")
        shutil.rmtree(folder, ignore_errors=True)


def test_every_dialog_lock_wait_has_a_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11 item 14: a dialog lock held for too long ends in a clear error, not a hang."""
    from filelock import FileLock

    lock_dir = tmp_path / "locks"
    lock_dir.mkdir(mode=0o700)
    lock_name = "mfa-" + hashlib.sha256(DEVICE.encode()).hexdigest()[:16]
    held = FileLock(lock_dir / f"aacli-dialog-{lock_name}.lock")
    monkeypatch.setattr(client, "MAX_WAIT_SECONDS", 1.0)
    code = (
        "import sys; from filelock import FileLock; from trayapp.dialogs import client;"
        "client.MAX_WAIT_SECONDS = 1.0;"
        "print(client.ask_mfa_code(sys.argv[1], sys.argv[2], lock_dir=__import__('pathlib').Path(sys.argv[3])))"
    )
    with held:
        result = subprocess.run(
            [sys.executable, "-c", code, TARGET, DEVICE, str(lock_dir)],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "DISPLAY": ":97"},
        )
    assert result.returncode != 0
    assert "Another aacli MFA dialog has been open" in result.stderr


def test_harden_process_turns_off_core_dumps_and_dumpability() -> None:
    """Issue 11 item 11: RLIMIT_CORE 0 and PR_SET_DUMPABLE 0 (Linux) after harden_process()."""
    code = (
        "import ctypes, resource; from trayapp.core.hardening import harden_process;"
        "harden_process(); libc = ctypes.CDLL(None);"
        "print(resource.getrlimit(resource.RLIMIT_CORE)[0], libc.prctl(3, 0, 0, 0, 0))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "0"]
    assert ctypes.CDLL(None).prctl(3, 0, 0, 0, 0) == 1  # the test process itself is untouched


def test_the_cli_waiting_for_a_code_may_not_dump_core(configured) -> None:
    """Issue 11 item 11: a CLI that holds the hub secret (waiting for the code on a terminal)
    has a core-size limit of 0, so a crash cannot write the secret or passphrase to disk."""
    import resource

    def allow_core_files() -> None:  # as a user whose shell allows them (ulimit -c unlimited)
        hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
        resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))

    child = pexpect.spawn(
        sys.executable,
        ["-m", "trayapp.cli.main", "auth", "dev/DEVELOPER"],
        env=configured.environ(),
        cwd=str(configured.root),
        encoding="utf-8",
        timeout=30,
        preexec_fn=allow_core_files,
    )
    try:
        child.expect("code")
        assert _core_limit(child.pid) == "0"
    finally:
        child.terminate(force=True)
