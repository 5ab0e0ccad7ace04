# ruff: noqa: RUF001 - the tables print multiplication signs and dashes on purpose
"""What every benchmark shares: an interleaved whole-process timer, the machine, a sandboxed home."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _path in (str(ROOT), str(ROOT / "tests")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

PASSPHRASE = "bench-passphrase-not-secret"
AWS_CLI = "/usr/bin/aws"

Argv = Sequence[str]


@dataclass
class Case:
    """One command to time: ``argv`` is a list, or a function of the run number."""

    name: str
    argv: Argv | Callable[[int], Argv]
    env: Mapping[str, str] | None = None
    before: Callable[[int], None] | None = None  # untimed set-up before each run
    shown: str = ""  # the command as the report prints it
    times: list[float] = field(default_factory=list)

    def command(self, run: int) -> list[str]:
        return list(self.argv(run) if callable(self.argv) else self.argv)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times) * 1000


def time_process(argv: Argv, env: Mapping[str, str] | None) -> float:
    """Wall time of one whole process, spawn to exit; a failure stops the benchmark.

    It runs in /: ``python -m`` and ``-c`` put the working directory first on sys.path, and a
    wheel install must never import this source tree instead of itself.
    """
    start = time.perf_counter()
    done = subprocess.run(
        list(argv),
        env=None if env is None else dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
        cwd="/",
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr[-600:]!r}")
    return elapsed


def run_interleaved(cases: Sequence[Case], runs: int, warmup: int = 2) -> list[Case]:
    """Round-robin over the cases, so a noisy moment hits all of them alike; ratios stay fair."""
    counter = 0
    for round_number in range(warmup + runs):
        for case in cases:
            if case.before is not None:
                case.before(counter)
            elapsed = time_process(case.command(counter), case.env)
            counter += 1
            if round_number >= warmup:
                case.times.append(elapsed)
    return list(cases)


@dataclass(frozen=True)
class Install:
    """The aacli the benchmarks time: the wheel in build/bench-venv (bench/install.py)."""

    python: str  # the bench venv's interpreter: its `python -c pass` is the floor
    aacli: str  # the console script pip wrote

    def env(self, env: Mapping[str, str]) -> dict[str, str]:
        """``env`` without PYTHONPATH (the homes' own points at this tree, for the harness)."""
        return {k: v for k, v in env.items() if k != "PYTHONPATH"}


def wheel_install() -> Install:
    """The bench venv, checked: its aacli is the wheel's, not this tree (make bench builds it)."""
    venv = ROOT / "build" / "bench-venv"
    python, script = venv / "bin" / "python", venv / "bin" / "aacli"
    if not script.exists():
        raise SystemExit("no build/bench-venv: run `make bench` (or python bench/install.py)")
    found = subprocess.run(
        [str(python), "-c", "import trayapp; print(trayapp.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
        env=clean_env(),
    ).stdout.strip()
    if not found.startswith(str(venv)):
        raise SystemExit(f"build/bench-venv imports aacli from {found}: rerun bench/install.py")
    return Install(str(python), str(script))


def machine() -> str:
    """Cores, RAM, CPU model, OS and Python: the line every table is read against."""
    cores = os.cpu_count() or 0
    ram = "?"
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cores} cores ({model}), {ram} RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}×" if base > 0 else "–"


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment minus anything AWS or aacli, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "AACLI_"))
        and k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")
    }
    env.update(extra)
    return env


def config_text(
    access_key_id: str, mfa_serial: str, accounts: int = 2, roles: Sequence[str] = ()
) -> str:
    """A config with the sandbox's dev and prod accounts, or ``accounts`` numbered ones."""
    head = f"""version = 1

[settings]
secret_backend = "vault"

[profiles.acme]
access_key_id = "{access_key_id}"
mfa_serial = "{mfa_serial}"
session_name = "bench"
"""
    if accounts == 2 and not roles:
        return (
            head
            + """
[profiles.acme.accounts.dev]
id = "111111111111"
region = "eu-west-1"

[profiles.acme.accounts.dev.roles.DEVELOPER]
duration = "2h"

[profiles.acme.accounts.dev.roles.ReadOnly]
duration = "1h"

[profiles.acme.accounts.prod]
id = "333333333333"
region = "us-east-2"

[profiles.acme.accounts.prod.roles.ReadOnly]
duration = "1h"
"""
        )
    parts = [head]
    for number in range(accounts):
        parts.append(
            f'\n[profiles.acme.accounts.a{number:05d}]\nid = "{100000000000 + number}"\n'
            'region = "eu-west-1"\n'
        )
        parts += [
            f'\n[profiles.acme.accounts.a{number:05d}.roles.{r}]\nduration = "1h"\n' for r in roles
        ]
    return "".join(parts)


@dataclass
class BenchHome:
    """An aacli home, an AWS home and a HOME under ``root``, wired to the running sandbox."""

    root: Path
    sandbox: object
    hub: object
    env: dict[str, str]
    codes: int = 0

    @property
    def credentials(self) -> Path:
        return Path(self.env["AWS_SHARED_CREDENTIALS_FILE"])

    @property
    def aws_config(self) -> Path:
        return Path(self.env["AWS_CONFIG_FILE"])

    @property
    def home(self) -> Path:
        return Path(self.env["AACLI_HOME"])

    def next_code(self) -> str:
        """A code never sent before: the sandbox runs without MFA checks, aacli's guard does not."""
        self.codes += 1
        return f"{(os.getpid() * 7919 + self.codes) % 1_000_000:06d}"

    def aacli(
        self, *args: str, stdin: str = "", check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "trayapp.cli.main", *args],
            input=stdin,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check and done.returncode != 0:
            raise SystemExit(f"aacli {' '.join(args)} failed: {done.stderr.strip()}")
        return done


def make_home(
    root: Path,
    sandbox: object,
    config: str | None = None,
    name: str = "bench",
    extra_env: Mapping[str, str] | None = None,
) -> BenchHome:
    """A configured home with its own hub user (its key stored in the vault)."""
    hub = sandbox.add_hub_user(f"{name}-{root.name}")  # type: ignore[attr-defined]
    home = root / "aacli"
    home.mkdir(mode=0o700, parents=True)
    (root / "home").mkdir()
    text = config if config is not None else config_text(hub.access_key_id, hub.mfa_serial)
    text = text.replace("@KEY@", hub.access_key_id).replace("@MFA@", hub.mfa_serial)
    (home / "config.toml").write_text(text, encoding="utf-8")
    (home / "config.toml").chmod(0o600)
    env = clean_env(
        HOME=str(root / "home"),
        AACLI_HOME=str(home),
        AWS_SHARED_CREDENTIALS_FILE=str(root / "aws" / "credentials"),
        AWS_CONFIG_FILE=str(root / "aws" / "config"),
        AACLI_PASSPHRASE=PASSPHRASE,
        AWS_ENDPOINT_URL=sandbox.endpoint_url,  # type: ignore[attr-defined]
        AACLI_FEDERATION_URL=sandbox.federation_url,  # type: ignore[attr-defined]
        PYTHONPATH=str(ROOT),
    )
    for key in ("DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        if extra_env and key in extra_env:
            env[key] = extra_env[key]
    bench = BenchHome(root, sandbox, hub, env)
    bench.aacli("config", "set-key", "acme", stdin=hub.secret_access_key + "\n")  # type: ignore[attr-defined]
    return bench
