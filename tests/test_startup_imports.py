"""Start-up stays fast: the commands people run most never import the heavy libraries.

Each case runs the real CLI in a fresh interpreter with ``-X importtime`` and reads the
modules it loaded from that report; `aacli status` lists three live sessions. The timings
themselves are `make bench`'s business (docs/PERFORMANCE.md), not a test's.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from trayapp.core.model import Session
from trayapp.core.sessions import save_ledger

HEAVY = ("boto3", "botocore", "pystray", "PIL", "tkinter", "gi", "keyring", "cryptography", "moto")


def imported_modules(env, *argv: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "trayapp.cli.main", *argv],
        capture_output=True,
        text=True,
        env=env.environ(),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    assert "trayapp.cli" in names, "no -X importtime report"
    return names


@pytest.fixture
def three_sessions(env):
    now = datetime.now(timezone.utc)
    save_ledger(
        env.home / "state" / "sessions.json",
        [
            Session(
                target=f"acme/dev/ROLE{n}",
                aws_profiles=(f"dev-ROLE{n}",),
                access_key_id=f"ASIAEXAMPLE{n:09d}",
                expiration=now + timedelta(hours=1),
                issued_at=now,
                credentials_file=str(env.credentials),
                config_file=str(env.aws_config),
                region="eu-west-1",
            )
            for n in range(3)
        ],
    )
    return env


@pytest.mark.parametrize(
    "argv", [["status"], ["status", "--json"], ["--help"], ["--version"], ["status", "--help"]]
)
def test_fast_paths_import_no_heavy_library(three_sessions, argv):
    loaded = imported_modules(three_sessions, *argv)
    heavy = sorted({name.split(".")[0] for name in loaded} & set(HEAVY))
    assert heavy == [], f"aacli {' '.join(argv)} imported {heavy}"
    if argv == ["status"]:
        assert "trayapp.core.sessions" in loaded  # it did read the ledger


def test_help_imports_no_command_module(env):
    loaded = imported_modules(env, "--help")
    commands = sorted(n for n in loaded if n.startswith("trayapp.cli.") and n != "trayapp.cli.main")
    assert commands == [], f"aacli --help imported {commands}"
