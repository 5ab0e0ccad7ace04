"""Reliability suite: shared helpers, foreign AWS files, and the figures each run records.

Every test adds what it measured with ``record(section, key, value)``; at the end of the
session the figures go to test-artifacts/reliability.json, from which report.py writes
docs/RELIABILITY.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import random
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = ROOT / "test-artifacts" / "reliability.json"
_FIGURES: dict[str, dict[str, Any]] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.reliability)


def record(section: str, key: str, value: Any) -> None:
    """Keep one figure of this run (last write of a key wins)."""
    _FIGURES.setdefault(section, {})[key] = value


def add(section: str, key: str, amount: int = 1) -> None:
    """Add to a counted figure."""
    bucket = _FIGURES.setdefault(section, {})
    bucket[key] = bucket.get(key, 0) + amount


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _FIGURES:
        return
    previous: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        previous = json.loads(ARTIFACT.read_text(encoding="utf-8"))
    sections = previous.get("sections", {}) if isinstance(previous, dict) else {}
    sections.update(_FIGURES)  # a partial run refreshes only the sections it ran
    data = {
        "run_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "exit_status": int(exitstatus),
        "sections": sections,
    }
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


# --- foreign AWS files: what a long-time AWS user's ~/.aws looks like ----------------------


def foreign_credentials(count: int, seed: int = 7) -> str:
    """``count`` foreign profiles with comments, blank lines and odd but valid layout."""
    rng = random.Random(seed)
    out = ["# Managed by hand. Do not lose these.\n", "; second comment style\n", "\n"]
    for n in range(count):
        if n % 50 == 0:
            out.append(f"# --- team {n // 50} ---\n")
        name = f"foreign-{n:04d}" if n % 7 else f"Foreign.Team-{n:04d}@corp"
        out.append(f"[{name}]\n" if n % 11 else f"[{name}]   # inline comment on header\n")
        key = "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
        sep = (" = ", "=", "  =  ")[n % 3]
        out.append(f"aws_access_key_id{sep}{key}\n")
        out.append(f"aws_secret_access_key{sep}{rng.randbytes(20).hex()}\n")
        if n % 5 == 0:
            out.append("# rotated last quarter\n")
        if n % 9 == 0:
            out.append("region = eu-central-1\n")
        if n % 4 == 0:
            out.append("\n")
    return "".join(out)


def foreign_config(count: int, seed: int = 8) -> str:
    rng = random.Random(seed)
    out = ["# AWS CLI config, written by several tools over the years\n", "[default]\n"]
    out.append("region = us-east-1\noutput = json\n\n")
    for n in range(count):
        name = f"foreign-{n:04d}" if n % 7 else f"Foreign.Team-{n:04d}@corp"
        out.append(f"[profile {name}]\n")
        out.append(f"region = {rng.choice(['eu-west-1', 'us-east-2', 'ap-south-1'])}\n")
        if n % 3 == 0:
            out.append(f"role_arn = arn:aws:iam::{rng.randrange(10**11, 10**12)}:role/Admin\n")
            out.append("source_profile = default\n")
        if n % 8 == 0:
            out.append("s3 =\n    max_concurrent_requests = 20\n    addressing_style = path\n")
        if n % 6 == 0:
            out.append("; nested comment\n\n")
    return "".join(out)


def temp_and_lock_files(*folders: Path) -> list[str]:
    """Temp files of aacli's atomic writes, or lock files, found in the folders."""
    found = []
    for folder in folders:
        if folder.is_dir():
            found += [
                str(p) for p in folder.iterdir() if ".aacli-tmp-" in p.name or p.suffix == ".lock"
            ]
    return found
