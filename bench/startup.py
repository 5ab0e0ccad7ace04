# ruff: noqa: RUF001 - the tables print multiplication signs and dashes on purpose
"""Item 1, CLI start-up: aacli --version / status / --help vs `python -c pass` and `aws --version`."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from common import AWS_CLI, ROOT, BenchHome, Case, ratio, run_interleaved, table

# What pip writes for a console script (distlib's template): what a user's `aacli` runs.
SCRIPT = """#!{python}
import re
import sys
from trayapp.cli.main import main
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit(main())
"""

ROLES = ("dev/DEVELOPER", "dev/ReadOnly", "prod/ReadOnly")


def console_script(folder: Path) -> tuple[str, str]:
    """The installed `aacli` (.venv/bin/aacli) if there is one, else pip's wrapper written here."""
    installed = ROOT / ".venv" / "bin" / "aacli"
    if installed.exists():
        return str(installed), ".venv/bin/aacli (pip install -e)"
    script = folder / "aacli"
    script.write_text(SCRIPT.format(python=sys.executable))
    script.chmod(0o755)
    return str(script), "pip-style console script"


def run(home: BenchHome, runs: int) -> tuple[str, dict[str, float]]:
    for role in ROLES:
        home.aacli("auth", role, "--code", home.next_code())
    assert home.aacli("status").stdout.count("acme/") == 3
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="aacli-bench-script-") as folder:
        script, script_kind = console_script(Path(folder))
        env = home.env
        cases = [
            Case("floor: python -c pass", [py, "-c", "pass"], env, shown="python -c pass"),
            Case("aacli --version", [script, "--version"], env, shown="aacli --version"),
            Case("aacli status (3 sessions)", [script, "status"], env, shown="aacli status"),
            Case("aacli --help", [script, "--help"], env, shown="aacli --help"),
            Case(
                "python -m trayapp.cli.main status",
                [py, "-m", "trayapp.cli.main", "status"],
                env,
                shown="python -m trayapp.cli.main status",
            ),
        ]
        if os.access(AWS_CLI, os.X_OK):
            cases.append(
                Case(
                    "peer: aws --version (CLI v2)",
                    [AWS_CLI, "--version"],
                    env,
                    shown="/usr/bin/aws --version",
                )
            )
        run_interleaved(cases, runs)
    floor = cases[0].median_ms
    aws = cases[-1].median_ms if cases[-1].name.startswith("peer") else 0.0
    rows = [
        (
            c.name,
            f"{c.median_ms:.1f}",
            ratio(c.median_ms, floor),
            ratio(c.median_ms, aws) if aws else "–",
            f"`{c.shown}`",
        )
        for c in cases
    ]
    status = cases[2].median_ms
    text = "\n".join(
        [
            f"Median of {runs} interleaved whole-process runs each (after 2 warm-up rounds); "
            f"`aacli` is the {script_kind}; `aacli status` lists 3 active sessions.",
            "",
            table(("command", "median ms", "× floor", "× aws --version", "reproduce"), rows),
            "",
            f"**Target `aacli status` ≤ 2.0× the floor: {ratio(status, floor)} — "
            f"{'met' if status <= 2.0 * floor else 'NOT met'}.**",
        ]
    )
    return text, {"status_ratio": status / floor, "floor_ms": floor, "status_ms": status}
