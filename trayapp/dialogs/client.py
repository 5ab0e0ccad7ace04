"""Runs a dialog as a child process and reads its answer; needs no Tk in the caller."""

from __future__ import annotations

import hashlib
import subprocess
import time
from pathlib import Path

from filelock import FileLock, Timeout

from trayapp.core import children
from trayapp.core.errors import AacliError
from trayapp.core.files import private_dir
from trayapp.core.paths import AppPaths

_EXIT_OK = 0
_EXIT_CANCELLED = 1
# No wait is unbounded: a dialog nobody answers, or another dialog's lock, gives up after this.
MAX_WAIT_SECONDS = 600.0


def ask_mfa_code(
    target_label: str,
    device: str,
    error: str | None = None,
    hint: str | None = None,
    timeout: float | None = None,
    lock_dir: Path | None = None,
) -> str | None:
    """Show the MFA dialog; the 6-digit code, or None when the user cancels or ``timeout`` passes.

    At most one dialog per device is open at a time: a second caller waits for
    the first dialog to close, then shows its own. ``lock_dir`` holds the lock
    files (default: ``dialogs/`` in aacli's private state folder, never a shared
    temp dir). Blocks until answered, at most ``timeout`` (default 10 min): call it
    off the UI thread.
    """
    # "--name=value" so that a value starting with "-" is never taken for an option.
    args = ["mfa", f"--target={target_label}", f"--device={device}"]
    if error:
        args.append(f"--error={error}")
    if hint:
        args.append(f"--hint={hint}")
    lock_name = "mfa-" + hashlib.sha256(device.encode()).hexdigest()[:16]
    answer = _run_dialog("MFA", args, lock_name, timeout, lock_dir)
    if answer is None:
        return None
    if len(answer) != 6 or not answer.isascii() or not answer.isdigit():
        raise AacliError(
            "Could not show the MFA dialog: it answered with something other than a code."
        )
    return answer


def ask_passphrase(
    purpose: str,
    confirm: bool = False,
    error: str | None = None,
    timeout: float | None = None,
    lock_dir: Path | None = None,
) -> str | None:
    """Show the passphrase dialog; the passphrase, or None when the user cancels."""
    args = ["passphrase", f"--purpose={purpose}"]
    if confirm:
        args.append("--confirm")
    if error:
        args.append(f"--error={error}")
    return _run_dialog("passphrase", args, "passphrase", timeout, lock_dir)


def _run_dialog(
    kind: str, args: list[str], lock_name: str, timeout: float | None, lock_dir: Path | None
) -> str | None:
    # A private folder of the user's: a shared temp dir would let another user hold the lock.
    folder = private_dir(lock_dir or AppPaths.from_env().state_dir / "dialogs")
    lock = FileLock(folder / f"aacli-dialog-{lock_name}.lock", mode=0o600)
    bound = MAX_WAIT_SECONDS if timeout is None else timeout
    started = time.monotonic()
    try:
        lock.acquire(timeout=bound)
    except Timeout:
        if timeout is not None:
            return None
        raise AacliError(
            f"Another aacli {kind} dialog has been open for {int(bound // 60)} minutes; "
            "answer or close it, then try again."
        ) from None
    try:
        left = max(0.1, bound - (time.monotonic() - started))
        return _run_child(kind, args, left)
    finally:
        lock.release()


def _run_child(kind: str, args: list[str], timeout: float) -> str | None:
    # No aacli secret in its environment, and never an import from the caller's folder.
    try:
        child = children.run(children.python_command("trayapp.dialogs", *args), timeout=timeout)
    except subprocess.TimeoutExpired:
        return None  # subprocess.run has already killed the unanswered dialog
    except OSError as exc:
        raise AacliError(f"Could not show the {kind} dialog: {exc.strerror}.") from None
    if child.returncode == _EXIT_CANCELLED:
        return None
    if child.returncode != _EXIT_OK:
        # The child writes only its own one-line reason on stderr, never what was typed.
        lines = child.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = lines[-1] if lines else f"it exited with status {child.returncode}"
        # "aacli: cannot show the mfa dialog: <why>" -> "<why>"
        reason = reason.partition(" dialog: ")[2] or reason
        raise AacliError(f"Could not show the {kind} dialog: {reason}.")
    answer = child.stdout.decode("utf-8")
    return answer[:-1] if answer.endswith("\n") else answer
