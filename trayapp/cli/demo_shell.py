"""`aacli demo --shell`: the running demo's state, kept private and checked before a shell evals it.

The demo records what a second shell needs (paths of its files, its loopback endpoints) in a
file of the user's own 0700 folder, never in the shared /tmp where another user could plant one.
``--shell`` trusts that file only when the user owns it and nobody else may write it, only while
the process that wrote it is still that demo, and then prints a fixed set of variables whose
values it checked (paths inside the demo's folder, loopback URLs), each quoted for the shell.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import secrets
import shlex
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from trayapp.core import files
from trayapp.core.errors import AacliError
from trayapp.core.paths import AppPaths

STATE_NAME = "demo.json"
# What a second shell needs to use the running demo (none of them is a secret).
PATH_VARIABLES = ("AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AACLI_HOME")
URL_VARIABLES = ("AWS_ENDPOINT_URL", "AACLI_FEDERATION_URL")
SHELL_VARIABLES = PATH_VARIABLES + URL_VARIABLES
NO_DEMO = "no demo is running; start one with 'aacli demo' first"


def state_dir() -> Path:
    """``$XDG_RUNTIME_DIR/aacli`` when that folder is the user's own, else aacli's state folder.

    Not under ``AACLI_HOME``: the demo exports its own ``AACLI_HOME`` to the shells it serves,
    and a shell that evaluated it must still find the running demo.
    """
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime and _private_runtime_dir(Path(runtime)):
        return Path(runtime) / "aacli"
    return AppPaths.from_env({}).state_dir


def state_file() -> Path:
    return state_dir() / STATE_NAME


def _private_runtime_dir(folder: Path) -> bool:
    """The XDG base-dir rules: an absolute path to a folder of ours that only we can enter."""
    if not folder.is_absolute():
        return False
    try:
        st = folder.stat()
    except OSError:
        return False
    owner_ok = not hasattr(os, "getuid") or st.st_uid == os.getuid()
    return stat.S_ISDIR(st.st_mode) and owner_ok and stat.S_IMODE(st.st_mode) & 0o077 == 0


# The process that wrote the state: a pid alone may name another process once the demo died.


def _proc(pid: int) -> Path | None:
    proc = Path("/proc") / str(pid)
    return proc if sys.platform.startswith("linux") and proc.is_dir() else None


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), so a reused pid is told apart."""
    proc = _proc(pid)
    if proc is None:
        return None
    try:
        fields = (proc / "stat").read_text().rpartition(")")[2].split()
        return int(fields[19])  # field 22 of proc(5); the two before ")" are pid and comm
    except (OSError, ValueError, IndexError):
        return None


def _is_the_demo(pid: int, started: int | None) -> bool:
    """Whether ``pid`` is alive, ours, and still the demo process that wrote the state."""
    try:
        os.kill(pid, 0)
    except (OSError, OverflowError):
        return False  # gone, or another user's (EPERM)
    proc = _proc(pid)
    if proc is None:
        return True  # no /proc here: alive and signalable by us is all we can know
    try:
        if proc.stat().st_uid != os.getuid():
            return False
        argv = (proc / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return started is not None and _start_time(pid) == started and b"demo" in argv


# Writing (the demo) and removing


@dataclass(frozen=True)
class DemoState:
    pid: int
    started: int | None
    nonce: str
    workdir: Path
    env: dict[str, str]


def write_state(workdir: Path, env: dict[str, str]) -> DemoState:
    """Record the running demo (this process) in the user's private folder."""
    state = DemoState(
        pid=os.getpid(),
        started=_start_time(os.getpid()),
        nonce=secrets.token_hex(16),
        workdir=workdir,
        env={name: env[name] for name in SHELL_VARIABLES},
    )
    folder = files.private_dir(state_dir(), what="aacli's state folder")
    record = {
        "pid": state.pid,
        "started": state.started,
        "nonce": state.nonce,
        "workdir": str(state.workdir),
        "env": state.env,
    }
    files.atomic_write(folder / STATE_NAME, json.dumps(record))
    return state


def remove_state(mine: DemoState) -> None:
    """Remove the state file if this demo wrote it (another demo may have replaced it since)."""
    path = state_file()
    with contextlib.suppress(AacliError, OSError, ValueError, AttributeError):
        text = files.read_text(path, trusted=True)
        if text is not None and json.loads(text).get("nonce") == mine.nonce:
            path.unlink()


# Reading (`--shell`)


def _damaged(path: Path, why: str) -> AacliError:
    return AacliError(
        f"the demo's state file {path} is not what a demo wrote ({why}), so aacli will not use "
        "it; stop any running demo, remove the file and start the demo again"
    )


def read_state() -> DemoState:
    """The running demo's state, checked; AacliError when no demo runs or the file is not safe."""
    path = state_file()
    text = files.read_text(path, trusted=True, what="the demo's state file")
    if text is None:
        raise AacliError(NO_DEMO)
    try:
        record = json.loads(text)
    except ValueError:
        raise _damaged(path, "not JSON") from None
    if not isinstance(record, dict):
        raise _damaged(path, "not a JSON object")
    pid, started, env = record.get("pid"), record.get("started"), record.get("env")
    if type(pid) is not int or not (started is None or type(started) is int):
        raise _damaged(path, "no process id")
    if not _is_the_demo(pid, started):
        raise AacliError(NO_DEMO)
    workdir = record.get("workdir")
    if not isinstance(workdir, str) or not Path(workdir).is_absolute():
        raise _damaged(path, "no demo folder")
    if not isinstance(env, dict):
        raise _damaged(path, "no variables")
    checked = {name: _checked(path, Path(workdir), name, env.get(name)) for name in SHELL_VARIABLES}
    return DemoState(pid, started, str(record.get("nonce", "")), Path(workdir), checked)


def _checked(path: Path, workdir: Path, name: str, value: object) -> str:
    if not isinstance(value, str) or not value.isprintable():
        raise _damaged(path, f"{name} is missing or not printable text")
    if name in URL_VARIABLES and not is_loopback_url(value):
        raise _damaged(path, f"{name} is not a loopback address")
    if name in PATH_VARIABLES and not Path(value).is_absolute():
        raise _damaged(path, f"{name} is not an absolute path")
    if name in PATH_VARIABLES and not Path(os.path.normpath(value)).is_relative_to(workdir):
        raise _damaged(path, f"{name} is outside the demo's folder")
    return value


def is_loopback_url(url: str) -> bool:
    """``http(s)://`` to an address in 127.0.0.0/8 or ``[::1]`` (the sandbox's): never a name,
    which the resolver could send anywhere."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or parts.username or parts.password:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def shell_lines(state: DemoState, passphrase: str) -> list[str]:
    """The export lines for a POSIX shell's ``eval``: fixed names, every value quoted."""
    lines = [f"export {name}={shlex.quote(state.env[name])}" for name in SHELL_VARIABLES]
    lines.append(f"export AACLI_PASSPHRASE={shlex.quote(passphrase)}  # the demo vault's")
    lines.append("unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN")
    lines.append(f"# undo: unset {' '.join(SHELL_VARIABLES)} AACLI_PASSPHRASE")
    return lines
