"""Start every process aacli runs through one door: no aacli secret in its environment, a fixed
working directory, the caller's folder never on a Python child's import path, bounded waits."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

# Variables of aacli's that hold secrets: never handed to a child.
SECRET_VARIABLES = frozenset({"AACLI_PASSPHRASE", "AACLI_NEW_PASSPHRASE"})
_SECRET_NAME = re.compile(r"^AACLI_.*(PASSPHRASE|PASSWORD|SECRET|TOKEN)", re.ASCII)
# trayapp's parent folder: a Python child imports this same copy, installed or not.
PACKAGE_ROOT = Path(__file__).resolve().parent.parent.parent
# With -c, sys.path[0] would be the working directory; it becomes the package root instead.
_BOOTSTRAP = (
    "import runpy, sys; sys.path[0] = sys.argv.pop(1); "
    "runpy.run_module(sys.argv.pop(1), run_name='__main__', alter_sys=True)"
)


def is_secret_variable(name: str) -> bool:
    return name in SECRET_VARIABLES or bool(_SECRET_NAME.match(name))


def child_env(
    extra: Mapping[str, str] | None = None,
    *,
    base: Mapping[str, str] | None = None,
    drop: Sequence[str] = (),
) -> dict[str, str]:
    """The environment for a child: ``base`` (default: ours) without aacli's secrets and
    without ``drop``, plus ``extra``."""
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if not is_secret_variable(k) and k not in drop}
    env.update(extra or {})
    return env


def fixed_cwd() -> str:
    """A working directory no other user can plant files in."""
    if os.name == "posix":
        return "/"
    return str(Path.home())


def python_command(module: str, *args: str) -> list[str]:
    """argv that runs ``python -m module args…`` with this interpreter, ignoring PYTHON*
    variables and never importing from the working directory."""
    return [sys.executable, "-E", "-c", _BOOTSTRAP, str(PACKAGE_ROOT), module, *args]


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run to completion, output captured; after ``timeout`` seconds the child's whole
    process group is killed (a wrapper script's own children too) and
    ``subprocess.TimeoutExpired`` raised. ``env`` loses aacli's secrets like any other."""
    child = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(base=env),
        cwd=fixed_cwd() if cwd is None else cwd,
        start_new_session=True,
    )
    try:
        out, err = child.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(child)
        child.communicate()
        raise
    return subprocess.CompletedProcess(list(argv), child.returncode, out, err)


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(child.pid, signal.SIGKILL)
        else:  # Windows has no process groups of this kind
            child.kill()
    except OSError:
        child.kill()


def start(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    stdin: int | None = subprocess.DEVNULL,
) -> subprocess.Popen[bytes]:
    """Start a child that aacli does not wait for (a browser, a clipboard tool): its own
    session, no terminal output, reaped in the background."""
    child = subprocess.Popen(
        list(argv),
        stdin=stdin,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=child_env(base=env),
        cwd=fixed_cwd() if cwd is None else cwd,
        start_new_session=True,
    )
    threading.Thread(target=child.wait, daemon=True).start()  # reap it, never block
    return child


def wait_briefly(child: subprocess.Popen[bytes], seconds: float) -> int | None:
    """The child's exit status if it ends within ``seconds``, else None (still running)."""
    try:
        return child.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return None


def run_watching_stderr(
    argv: Sequence[str], timeout: float, on_line: Callable[[str], None]
) -> tuple[int, str, str]:
    """Like :func:`run`, but each stderr line goes to ``on_line`` as the child writes it (a
    tool that asks "touch your key" while it waits). Returns (status, stdout, stderr); after
    ``timeout`` the child's whole process group is killed and ``TimeoutExpired`` raised."""
    child = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
        cwd=fixed_cwd(),
        start_new_session=True,  # a timeout ends its whole group
    )
    out: list[bytes] = []
    err: list[bytes] = []

    def read_out() -> None:
        assert child.stdout is not None
        out.append(child.stdout.read())

    def read_err() -> None:
        assert child.stderr is not None
        for raw in iter(child.stderr.readline, b""):
            err.append(raw)
            on_line(raw.decode("utf-8", "replace"))

    readers = [threading.Thread(target=f, daemon=True) for f in (read_out, read_err)]
    for reader in readers:
        reader.start()
    try:
        returncode = child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(child)
        child.wait()
        raise
    finally:
        for reader in readers:
            reader.join(timeout=2)
    return (
        returncode,
        b"".join(out).decode("utf-8", "replace"),
        b"".join(err).decode("utf-8", "replace"),
    )


def process_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (ours or not). Where that cannot be asked safely
    (Windows: signal 0 is a console Ctrl-C there) it answers True, the cautious answer."""
    if os.name != "posix":
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):
        return True  # e.g. another user's (EPERM): it exists
    return True
