# ruff: noqa: RUF001 - the tables print multiplication signs and dashes on purpose
"""Item 1, CLI start-up, timed in the wheel install (build/bench-venv) as users get it:
aacli --version / status / --help / credential-process vs `python -c pass` and `aws --version`,
and `exec --server` until the child's first GetCallerIdentity answers."""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from common import AWS_CLI, ROOT, BenchHome, Case, Install, ratio, run_interleaved, table

ROLES = ("dev/DEVELOPER", "dev/ReadOnly", "prod/ReadOnly")
LABEL = "acme/dev/DEVELOPER"  # as `config link-aws` writes it into credential_process
CALLER = (
    "import boto3, time; boto3.client('sts', region_name='us-east-1').get_caller_identity(); "
    "print(time.time())"
)


@contextlib.contextmanager
def tray_socket(home: BenchHome) -> Iterator[bool]:
    """A listening tray socket (TRAY's core/tray_socket) in ``home``'s state folder, answering
    as the tray does with the role's credentials; False when that module is not built."""
    try:
        from trayapp.core.paths import AppPaths
        from trayapp.core.tray_socket import TraySocket
    except ImportError:
        yield False
        return
    found = json.loads(home.aacli("credential-process", LABEL).stdout)

    def answer(request: dict[str, str]) -> dict[str, Any]:
        return found if request.get("op") == "credentials" else {"error": "not here"}

    server = TraySocket(AppPaths.from_env(home.env).tray_socket_file, answer).serve()
    try:
        yield True
    finally:
        server.stop()


def run(home: BenchHome, install: Install, runs: int) -> tuple[str, dict[str, float]]:
    for role in ROLES:
        home.aacli("auth", role, "--code", home.next_code())
    assert home.aacli("status").stdout.count("acme/") == 3
    env = install.env(home.env)
    aacli = install.aacli
    dev_script = ROOT / ".venv" / "bin" / "aacli"
    with tray_socket(home) as listening:
        cases = [
            Case(
                "floor: python -c pass", [install.python, "-c", "pass"], env, shown="python -c pass"
            ),
            Case(
                "check: python -S -c pass (no site folder at all)",
                [install.python, "-S", "-c", "pass"],
                env,
                shown="python -S -c pass",
            ),
            Case("aacli --version", [aacli, "--version"], env, shown="aacli --version"),
            Case("aacli status (3 sessions)", [aacli, "status"], env, shown="aacli status"),
            Case("aacli --help", [aacli, "--help"], env, shown="aacli --help"),
            Case(
                "aacli credential-process (live session)",
                [aacli, "credential-process", LABEL],
                env,
                shown=f"aacli credential-process {LABEL}",
            ),
        ]
        if listening:
            cases.append(
                Case(
                    "aacli credential-process --server (tray socket)",
                    [aacli, "credential-process", "--server", LABEL],
                    env,
                    shown=f"aacli credential-process --server {LABEL}",
                )
            )
        cases.append(
            Case(
                "python -m trayapp.cli.main status",
                [install.python, "-m", "trayapp.cli.main", "status"],
                env,
                shown="python -m trayapp.cli.main status",
            )
        )
        if dev_script.exists():
            cases += [
                Case(
                    "editable dev venv: python -c pass",
                    [str(ROOT / ".venv" / "bin" / "python"), "-c", "pass"],
                    home.env,
                    shown=".venv/bin/python -c pass",
                ),
                Case(
                    "editable dev venv: aacli status",
                    [str(dev_script), "status"],
                    home.env,
                    shown=".venv/bin/aacli status (pip install -e)",
                ),
            ]
        if os.access(AWS_CLI, os.X_OK):
            cases.append(
                Case("peer: aws --version (CLI v2)", [AWS_CLI, "--version"], env, shown=AWS_CLI)
            )
        run_interleaved(cases, runs)
    by_name = {c.name: c.median_ms for c in cases}
    floor = by_name["floor: python -c pass"]
    aws = by_name.get("peer: aws --version (CLI v2)", 0.0)
    dev_floor = by_name.get("editable dev venv: python -c pass", 0.0)
    rows = [
        (
            c.name,
            f"{c.median_ms:.1f}",
            ratio(c.median_ms, dev_floor if c.name.startswith("editable") else floor),
            ratio(c.median_ms, aws) if aws else "–",
            f"`{c.shown}`",
        )
        for c in cases
    ]
    status = by_name["aacli status (3 sessions)"]
    process = by_name["aacli credential-process (live session)"]
    via_tray = by_name.get("aacli credential-process --server (tray socket)")

    def verdict(value: float) -> str:
        return f"{ratio(value, floor)} — {'met' if value <= 2.0 * floor else 'NOT met'}"

    lines = [
        f"Median of {runs} interleaved whole-process runs each (after 2 warm-up rounds), in the "
        "wheel install (`make bench` builds `build/bench-venv`: `pip wheel --no-deps .`, "
        "installed with `--no-deps` in a venv made without pip; its dependencies come from the "
        "dev venv's site-packages through one `.pth` line, whose own `.pth` files never run). "
        "`aacli` is the console script pip wrote; `aacli status` lists 3 active sessions; the "
        "editable rows are × the editable venv's own floor.",
        "",
        table(("command", "median ms", "× floor", "× aws --version", "reproduce"), rows),
        "",
        f"**Target `aacli status` ≤ 2.0× the floor (wheel install): {verdict(status)}.**",
        "",
        f"**Target `aacli credential-process` (live session) ≤ 2.0× the floor: "
        f"{verdict(process)}.**",
    ]
    if via_tray is None:
        lines += ["", "`credential-process --server` via the tray socket: not built."]
    else:
        lines += [
            "",
            f"`credential-process --server` via the tray socket: {ratio(via_tray, floor)} "
            "(no target set; the socket server runs in the bench process, as the tray's would).",
        ]
    figures = {"floor_ms": floor, "status_ms": status, "credential_process_ms": process}
    return "\n".join(lines), figures


def exec_server(home: BenchHome, install: Install, runs: int) -> tuple[str, dict[str, float]]:
    """`exec --server` start-up: the time from spawning aacli until the child's first
    GetCallerIdentity has answered (the child prints the clock then), beside the same child
    given keys in its environment; the whole process (the server's shutdown too) beside it."""
    env = install.env(home.env)
    home.aacli("auth", "dev/DEVELOPER", "--code", home.next_code())
    keys = json.loads(home.aacli("credential-process", LABEL).stdout)
    keyed = dict(
        env,
        AWS_ACCESS_KEY_ID=keys["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=keys["SecretAccessKey"],
        AWS_SESSION_TOKEN=keys["SessionToken"],
    )
    child = [install.python, "-c", CALLER]
    cases: list[tuple[str, Callable[[], list[str]], dict[str, str], str]] = [
        (
            "floor: the child alone, keys in its env",
            lambda: child,
            keyed,
            "python -c <GetCallerIdentity>",
        ),
        (
            "aacli exec (live session: keys in the env)",
            lambda: [install.aacli, "exec", "dev/DEVELOPER", "--", *child],
            env,
            "aacli exec dev/DEVELOPER -- python -c …",
        ),
        (
            "aacli exec --server (AssumeRole, server, child)",
            lambda: [
                install.aacli,
                "exec",
                "--server",
                "dev/DEVELOPER",
                "--code",
                home.next_code(),
                "--",
                *child,
            ],
            env,
            "aacli exec --server dev/DEVELOPER --code C -- python -c …",
        ),
    ]
    answered: dict[str, list[float]] = {name: [] for name, *_ in cases}
    whole: dict[str, list[float]] = {name: [] for name, *_ in cases}
    for round_number in range(1 + runs):  # round-robin, after one warm-up round
        for name, argv, case_env, _shown in cases:
            started = time.time()
            done = subprocess.run(
                argv(), env=case_env, capture_output=True, text=True, check=False, cwd="/"
            )
            ended = time.time()
            if done.returncode != 0:
                raise SystemExit(f"{name} failed: {done.stderr[-600:]}")
            if round_number:
                answered[name].append(float(done.stdout.split()[-1]) - started)
                whole[name].append(ended - started)
    first = {name: statistics.median(v) * 1000 for name, v in answered.items()}
    total = {name: statistics.median(v) * 1000 for name, v in whole.items()}
    floor = first[cases[0][0]]
    rows = [
        (name, f"{first[name]:.0f}", ratio(first[name], floor), f"{total[name]:.0f}", f"`{shown}`")
        for name, _argv, _env, shown in cases
    ]
    text = "\n".join(
        [
            f"Median of {runs} interleaved runs (after 1 warm-up round), wheel install; the child "
            "is boto3's `sts.get_caller_identity()` against the sandbox; it prints the clock "
            "when the answer is in, so the first column is spawn → first answer.",
            "",
            table(
                ("command", "first answer ms", "× child alone", "whole process ms", "reproduce"),
                rows,
            ),
        ]
    )
    return text, {"exec_server_ms": first[cases[2][0]], "child_ms": floor}


if __name__ == "__main__":  # pragma: no cover - run through bench/run.py
    sys.exit("run bench/run.py --only startup")
