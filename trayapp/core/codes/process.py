"""Codes printed by a command (aws-vault's ``mfa_process``): a password manager, a script."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from trayapp.core import children, validate
from trayapp.core.clock import Clock
from trayapp.core.codes.base import CodeRequest
from trayapp.core.codes.guard import CodeGuard
from trayapp.core.codes.unused import unused_code
from trayapp.core.errors import CodeError, UsageError

TIMEOUT = 30.0  # seconds: a password manager may ask to be unlocked first
STDERR_SHOWN = 200  # characters of the command's error output in the message


@dataclass
class ProcessCode:
    """Runs ``command`` (split as a shell would, run without one, no aacli secret in its
    environment, bounded in time); its standard output must be the 6-digit code."""

    command: str
    guard: CodeGuard
    clock: Clock
    timeout: float = TIMEOUT
    sleep: Callable[[float], None] = time.sleep
    on_wait: Callable[[float], None] | None = None
    name: str = "process"
    can_retry: bool = False

    def get_code(self, request: CodeRequest) -> str:
        return unused_code(
            self._read,
            device=request.device,
            guard=self.guard,
            clock=self.clock,
            sleep=self.sleep,
            on_wait=self.on_wait,
            what=f"The MFA command ({self._program})",
        )

    @property
    def _program(self) -> str:
        return validate.mfa_process(self.command)[0]

    def _read(self) -> str:
        argv = validate.mfa_process(self.command)
        try:
            done = children.run(argv, timeout=self.timeout)
        except FileNotFoundError:
            raise CodeError(f"The MFA command {argv[0]!r} was not found.") from None
        except PermissionError:
            raise CodeError(f"The MFA command {argv[0]!r} cannot be run (permission).") from None
        except subprocess.TimeoutExpired:
            raise CodeError(
                f"The MFA command {argv[0]!r} gave no code within {self.timeout:.0f} s; it was "
                "stopped."
            ) from None
        if done.returncode != 0:
            raise CodeError(
                f"The MFA command {argv[0]!r} failed (exit {done.returncode}): "
                f"{_one_line(done.stderr) or 'it printed no error'}"
            )
        try:
            return validate.mfa_code(done.stdout.decode("ascii"))
        except (UnicodeDecodeError, UsageError):
            raise CodeError(
                f"The MFA command {argv[0]!r} printed something other than a 6-digit code."
            ) from None  # what it printed is not shown: it might be a secret


def _one_line(raw: bytes) -> str:
    text = " ".join(raw.decode("utf-8", "replace").split())
    return text if len(text) <= STDERR_SHOWN else text[: STDERR_SHOWN - 3] + "..."
