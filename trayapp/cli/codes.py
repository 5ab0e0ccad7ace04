"""Which MFA code source a command uses: --code, the terminal, /dev/tty, or the Tk dialog."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from trayapp.cli.context import ask_line, interactive, say
from trayapp.core.errors import UsageError

if TYPE_CHECKING:
    from trayapp.core.codes import CodeSource
    from trayapp.core.model import Credentials, Target
    from trayapp.core.service import Service


def _ask_on_tty(prompt: str) -> str:
    """Prompt on the controlling terminal itself: stdin/stdout may belong to another program."""
    with open("/dev/tty", "r+", encoding="utf-8") as tty:
        tty.write(prompt)
        tty.flush()
        line = tty.readline()
    if not line:
        raise EOFError
    return line.rstrip("\n")


def _has_tty() -> bool:
    try:
        fd = os.open("/dev/tty", os.O_RDWR)
    except OSError:
        return False
    os.close(fd)
    return True


def say_waiting(seconds: float) -> None:
    say(f"That code was already used; waiting {int(seconds) + 1} s for the next one…")


def touch_prompt(state_dir: Path, label: str) -> Callable[[str | None], None]:
    """Say "Touch your YubiKey" here, and tell a running tray (core/prompts) until done."""
    from trayapp.core import prompts

    def prompt(text: str | None) -> None:
        if text:
            say(f"{text}\u2026")
            prompts.announce(state_dir, text, label)
        else:
            prompts.withdraw(state_dir)

    return prompt


def code_source(
    code: str | None,
    *,
    service: Service | None = None,
    target: Target | None = None,
    use_tty: bool = False,
) -> CodeSource:
    """--code, else the profile's YubiKey or MFA command (``config codes``), else its stored
    TOTP seed, else the terminal, else the Tk dialog.

    ``use_tty`` asks on /dev/tty even when stdin and stdout are pipes (credential_process).
    """
    from trayapp.core.codes import FixedCode, TerminalCode

    if code is not None:
        return FixedCode(code)
    if service is not None and target is not None:
        from trayapp.core.codes.configured import configured_source

        configured = configured_source(
            target.profile,
            code_windows_file=service.deps.app.code_windows_file,
            clock=service.deps.clock,
            on_prompt=touch_prompt(service.deps.app.state_dir, target.label),
            on_wait=say_waiting,
        )
        if configured is not None:
            return configured
        stored = service.stored_code_source(target.profile, on_wait=say_waiting)
        if stored is not None:
            return stored
    if interactive():
        return TerminalCode(ask=ask_line)
    if use_tty and _has_tty():
        return TerminalCode(ask=_ask_on_tty)
    from trayapp.cli.dialog_source import dialog_code_source

    source = dialog_code_source()
    if source is None:
        raise UsageError(
            "no terminal or display to ask for the MFA code on; pass --code CODE, or run "
            "'aacli auth' first"
        )
    return source


def live_credentials(
    target_text: str, code: str | None, *, use_tty: bool = False
) -> tuple[Target, Credentials]:
    """The target's live credentials, authenticating first (asking for a code) if needed.

    A malformed ``code`` fails before anything else happens.
    """
    from trayapp.cli.context import start

    if code is not None:
        code_source(code)
    service = start()
    target = service.resolve(target_text)
    _, creds = service.ensure_session(
        target, lambda: code_source(code, service=service, target=target, use_tty=use_tty)
    )
    return target, creds
