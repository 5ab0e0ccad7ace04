"""What every command shares: building the service, prompts, pick lists and formatting."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from trayapp.core.errors import CodeCancelled, SecretStoreError, UsageError
from trayapp.core.paths import AppPaths
from trayapp.core.service import Removal, Service, service_from_env

T = TypeVar("T")


def interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def say(message: str) -> None:
    """Progress and results for people: stderr, so stdout stays clean for scripts."""
    print(message, file=sys.stderr)


def ask_line(prompt: str) -> str:
    sys.stderr.write(prompt)
    sys.stderr.flush()
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line.rstrip("\n")


def ask_hidden(prompt: str) -> str:
    """A hidden prompt on a terminal; a plain line from stdin when piped."""
    if sys.stdin.isatty():
        return getpass.getpass(prompt, stream=sys.stderr)
    line = sys.stdin.readline()
    if not line:
        raise UsageError("expected a value on standard input, got nothing")
    return line.rstrip("\r\n")


def passphrase_provider(app: AppPaths) -> str:
    """The vault passphrase: AACLI_PASSPHRASE, else a hidden prompt (twice for a new vault)."""
    from_env = os.environ.get("AACLI_PASSPHRASE")
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise SecretStoreError(
            "The vault needs its passphrase: run on a terminal or set AACLI_PASSPHRASE."
        )
    if app.vault_file.exists():
        return getpass.getpass("Vault passphrase: ", stream=sys.stderr)
    say("Creating an encrypted vault for your secrets at " + str(app.vault_file))
    first = getpass.getpass("New vault passphrase: ", stream=sys.stderr)
    if first != getpass.getpass("Repeat the passphrase: ", stream=sys.stderr):
        raise UsageError("the two passphrases differ; nothing was stored")
    return first


def make_service() -> Service:
    return service_from_env(passphrase_provider)


def start() -> Service:
    """The service, after sweeping expired sessions (every command does this first)."""
    from trayapp.cli.rotate import finish_rotations

    service = make_service()
    finish_rotations(service)  # a rotation a killed aacli left: finished or undone first
    report_removals(service.sweep(), expired=True)
    return service


def report_removals(removals: Sequence[Removal], expired: bool = False) -> None:
    for removal in removals:
        what = "expired; removed" if expired else "signed out; removed"
        if removal.removed:
            say(f"{removal.session.target}: {what} AWS profile {', '.join(removal.removed)}")
        for name in removal.left_alone:
            say(
                f"{removal.session.target}: left AWS profile '{name}' alone: its keys were "
                "changed outside aacli"
            )


def pick(items: Sequence[T], labels: Sequence[str], title: str) -> T:
    """A numbered pick list on the terminal."""
    if not items:
        raise UsageError(f"nothing to choose from ({title.lower()})")
    if len(items) == 1:
        return items[0]
    if not interactive():
        raise UsageError(f"{title}: say which on the command line (no terminal to ask on)")
    say(title)
    width = len(str(len(items)))
    for number, label in enumerate(labels, 1):
        say(f"  {number:>{width}}) {label}")
    for _ in range(3):
        try:
            answer = ask_line(f"Choose 1-{len(items)}: ").strip()
        except (EOFError, KeyboardInterrupt):
            raise CodeCancelled("Cancelled.") from None
        if answer.isdigit() and 1 <= int(answer) <= len(items):
            return items[int(answer) - 1]
        say(f"Type a number from 1 to {len(items)}.")
    raise UsageError("no valid choice made")


def local_time(moment: datetime) -> str:
    """``HH:MM`` in the local time zone (core/status_lines: the quick status says it alike)."""
    from trayapp.core.status_lines import clock_time

    return clock_time(moment.timestamp())


def remaining(seconds: int) -> str:
    """The time left in the tray's words and rounding (minutes rounded up)."""
    from trayapp.core.timeleft import time_left

    return time_left(seconds)
