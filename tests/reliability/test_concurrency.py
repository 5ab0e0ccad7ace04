"""Eight CLI workers and the tray's sweeper on one pair of AWS files with 2,000 foreign profiles."""

from __future__ import annotations

import configparser
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import PASSPHRASE, aws_cli_v2

from reliability.conftest import (
    foreign_config,
    foreign_credentials,
    record,
    temp_and_lock_files,
)
from trayapp.core import inifile
from trayapp.core.providers.hub_keys import hub_secret_key
from trayapp.core.secrets.vault import ScryptParams, Vault
from trayapp.core.sessions import load_ledger_state

HERE = Path(__file__).parent
WORKERS = int(os.environ.get("AACLI_LOAD_WORKERS", "8"))
OPS = int(os.environ.get("AACLI_LOAD_OPS", "100"))  # per worker, cut short by the time budget
SECONDS = float(os.environ.get("AACLI_LOAD_SECONDS", "420"))
FOREIGN = 2000
LIFETIME = 20  # the sandbox's credentials expire this soon, so the sweeper has work to do


def _config(users: list) -> str:
    parts = ['version = 1\n\n[settings]\nsecret_backend = "vault"\n']
    for n, hub in enumerate(users):
        p = f"w{n}"
        parts.append(
            f"""
[profiles.{p}]
access_key_id = "{hub.access_key_id}"
mfa_serial = "{hub.mfa_serial}"
session_name = "load-{p}"

[profiles.{p}.accounts.dev]
id = "111111111111"
region = "eu-west-1"

[profiles.{p}.accounts.dev.roles.DEVELOPER]
duration = "1h"
aws_profile = "{p}-dev-DEVELOPER"

[profiles.{p}.accounts.dev.roles.ReadOnly]
duration = "1h"
aws_profile = "{p}-dev-ReadOnly"

[profiles.{p}.accounts.prod]
id = "333333333333"
region = "us-east-2"

[profiles.{p}.accounts.prod.roles.ReadOnly]
duration = "1h"
aws_profile = "{p}-prod-ReadOnly"
"""
        )
    return "".join(parts)


def _tail_sections(text: str, original: str, *, config_style: bool) -> dict[str, dict[str, str]]:
    """The sections after the foreign part (aacli appends its own sections at the end)."""
    assert text.startswith(original), "a foreign byte changed"
    parser = configparser.RawConfigParser(default_section="\x00none", strict=False)
    parser.read_string(text[len(original) :])
    out = {}
    for name in parser.sections():
        profile = name.removeprefix("profile ") if config_style else name
        out[profile] = dict(parser.items(name))
    return out


@pytest.mark.slow
@pytest.mark.awscli
def test_eight_workers_and_the_tray_lose_no_foreign_byte(env, sandbox) -> None:
    aws = aws_cli_v2()
    users = [sandbox.add_hub_user(f"load{n}-{os.getpid()}") for n in range(WORKERS)]
    env.vars["AWS_ENDPOINT_URL"] = sandbox.endpoint_url
    env.home.mkdir(mode=0o700)
    (env.home / "config.toml").write_text(_config(users), encoding="utf-8")
    (env.home / "config.toml").chmod(0o600)
    # The vault at a low scrypt cost (stored in its header): each operation opens it anew.
    vault = Vault.create(env.home / "vault.bin", PASSPHRASE, scrypt=ScryptParams(log2_n=10))
    for n, hub in enumerate(users):
        vault.set(hub_secret_key(f"w{n}"), hub.secret_access_key)
    env.credentials.parent.mkdir(mode=0o700)
    creds_text, config_text = foreign_credentials(FOREIGN), foreign_config(FOREIGN)
    env.credentials.write_text(creds_text, encoding="utf-8")
    env.aws_config.write_text(config_text, encoding="utf-8")

    sandbox.mfa_check = False  # any fresh 6-digit code: see docs/RELIABILITY.md
    sandbox.credential_lifetime = LIFETIME
    started = time.monotonic()
    try:
        tray = subprocess.Popen(
            [sys.executable, str(HERE / "tray_sweeper.py"), "0.5"],
            env=env.environ(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.time() + SECONDS
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    str(HERE / "load_worker.py"),
                    f"w{n}",
                    str(OPS),
                    str(n),
                    str(deadline),
                ],
                env=env.environ(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=env.root,
            )
            for n in range(WORKERS)
        ]
        results = []
        for worker in workers:
            out, err = worker.communicate(timeout=SECONDS + 120)
            assert worker.returncode == 0, err
            results.append(json.loads(out))
        tray.send_signal(signal.SIGTERM)
        tray_out, tray_err = tray.communicate(timeout=60)
        assert tray.returncode == 0, tray_err
    finally:
        sandbox.mfa_check = True
        sandbox.credential_lifetime = None
    wall = time.monotonic() - started
    tray_summary = json.loads(tray_out)

    failures = [f for r in results for f in r["failures"]]
    auths = sum(r["done"]["auth"] for r in results)
    unauths = sum(r["done"]["unauth"] for r in results)
    record("concurrency", "workers", WORKERS)
    record("concurrency", "ops_per_worker_asked", OPS)
    record("concurrency", "ops_per_worker_done", [sum(r["done"].values()) for r in results])
    record("concurrency", "auth", auths)
    record("concurrency", "unauth", unauths)
    record("concurrency", "failed_ops", len(failures))
    record("concurrency", "wall_seconds", round(wall, 1))
    record("concurrency", "tray_ticks", tray_summary["ticks"])
    record("concurrency", "tray_swept", tray_summary["removed"])
    record("concurrency", "tray_errors", len(tray_summary["errors"]))
    record("concurrency", "foreign_profiles", FOREIGN)
    record("concurrency", "foreign_bytes", len(creds_text.encode()) + len(config_text.encode()))
    assert failures == [], failures[:5]
    assert tray_summary["errors"] == []
    assert auths >= WORKERS  # it really ran

    # The ledger and the files agree exactly; nothing foreign moved.
    creds_after = env.credentials.read_text(encoding="utf-8")
    config_after = env.aws_config.read_text(encoding="utf-8")
    ours = _tail_sections(creds_after, creds_text, config_style=False)
    regions = _tail_sections(config_after, config_text, config_style=True)
    sessions, pending = load_ledger_state(env.home / "state" / "sessions.json")
    assert pending == []
    in_ledger = {name: s.access_key_id for s in sessions for name in s.aws_profiles}
    assert {k: v["aws_access_key_id"] for k, v in ours.items()} == in_ledger
    created = {name for s in sessions for name in s.config_sections_created}
    assert set(regions) == created
    assert temp_and_lock_files(env.credentials.parent) == []
    assert sorted(p.name for p in env.credentials.parent.iterdir()) == ["config", "credentials"]
    # No temp file left; the lock files (AWS files, code guard, MFA index) stay, as they should.
    assert [f for f in temp_and_lock_files(env.home / "state") if not f.endswith(".lock")] == []

    # Both files parse with configparser and with the AWS CLI itself.
    for path in (env.credentials, env.aws_config):
        configparser.RawConfigParser(strict=False).read(path)
    listed = subprocess.run(
        [aws, "configure", "list-profiles"], env=env.environ(), capture_output=True, text=True
    )
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.split()) >= FOREIGN + len(in_ledger)
    assert inifile.get_section(creds_after, "foreign-0001") is not None

    # Signing out of everything gives back both files byte for byte.
    result = env.aacli("unauth", "--all")
    assert result.returncode == 0, result.stderr
    changed = sum(
        a != b for a, b in zip(env.credentials.read_bytes(), creds_text.encode(), strict=False)
    ) + abs(len(env.credentials.read_bytes()) - len(creds_text.encode()))
    assert env.credentials.read_text(encoding="utf-8") == creds_text
    assert env.aws_config.read_text(encoding="utf-8") == config_text
    record("concurrency", "foreign_bytes_changed", changed)
