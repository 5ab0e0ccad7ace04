"""Codes from a YubiKey's OATH applet through the ``ykman`` CLI (YubiKey Manager 5).

``ykman [--device SERIAL] oath accounts code --single QUERY`` prints only the code. For an
account that needs a touch, ykman first writes "Touch your YubiKey..." on stderr and waits:
its stderr is read as it comes, so ``on_prompt`` is told at that moment (the tray and the
terminal show it) and told again (None) when the wait is over.
"""

from __future__ import annotations

import shutil
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

TIMEOUT = 45.0  # seconds in all; ykman itself gives up on a touch after about 30 s
TOUCH_PROMPT = "Touch your YubiKey"


@dataclass
class YkmanCode:
    """The code of OATH account ``account`` (default: the MFA device's serial or ARN, as
    aws-vault names it) on the YubiKey ``serial`` (default: the one plugged in)."""

    guard: CodeGuard
    clock: Clock
    account: str | None = None
    serial: str | None = None
    program: str = "ykman"
    timeout: float = TIMEOUT
    on_prompt: Callable[[str | None], None] | None = None
    on_wait: Callable[[float], None] | None = None
    sleep: Callable[[float], None] = time.sleep
    name: str = "ykman"
    can_retry: bool = False

    def get_code(self, request: CodeRequest) -> str:
        query = self.account or request.device
        return unused_code(
            lambda: self._read(query),
            device=request.device,
            guard=self.guard,
            clock=self.clock,
            sleep=self.sleep,
            on_wait=self.on_wait,
            what="The YubiKey",
        )

    def _read(self, query: str) -> str:
        program = shutil.which(self.program)
        if program is None:
            raise CodeError(
                "ykman (YubiKey Manager) is not installed or not on PATH; install it "
                "(e.g. 'pipx install yubikey-manager') or type codes again with "
                "'aacli config codes PROFILE --ask'."
            )
        device = ["--device", self.serial] if self.serial else []
        argv = [program, *device, "oath", "accounts", "code", "--single", query]
        prompted = False

        def watch(line: str) -> None:
            nonlocal prompted
            if TOUCH_PROMPT.lower() in line.lower() and not prompted and self.on_prompt:
                prompted = True
                self.on_prompt(TOUCH_PROMPT)

        try:
            returncode, out, err = children.run_watching_stderr(argv, self.timeout, watch)
        except subprocess.TimeoutExpired:
            raise CodeError(
                f"ykman gave no code within {self.timeout:.0f} s (was the YubiKey touched?); "
                "try again."
            ) from None
        finally:
            if prompted and self.on_prompt:
                self.on_prompt(None)
        if returncode != 0:
            raise CodeError(self._failure(returncode, err + out, query))
        try:
            return validate.mfa_code(out)
        except UsageError:
            raise CodeError(f"ykman printed no 6-digit code for the account {query!r}.") from None

    def _failure(self, returncode: int, said: str, query: str) -> str:
        """ykman's error (``Error: …`` on stderr) as one sentence of what to do."""
        text = " ".join(said.split())
        lowered = text.lower()
        if self.serial and ("serial" in lowered or "no yubikey" in lowered):
            return (
                f"The YubiKey with serial {self.serial} is not plugged in; insert it and try again."
            )
        if "no yubikey" in lowered:
            return "No YubiKey is plugged in; insert it and try again."
        if "multiple yubikeys" in lowered:
            return (
                "Several YubiKeys are plugged in; say which one with 'aacli config codes "
                "PROFILE --ykman --serial SERIAL' (see 'ykman list --serials')."
            )
        if "password" in lowered or "aborted" in lowered:
            return (
                "The YubiKey's OATH accounts are password-protected; run 'ykman oath access "
                "remember' once, so that ykman unlocks them without asking."
            )
        if "timed out" in lowered:
            return "The YubiKey was not touched in time; try again and touch it when it blinks."
        if "no matching account" in lowered:
            return (
                f"No OATH account matching {query!r} is on the YubiKey; see 'ykman oath "
                "accounts list' and pick one with 'aacli config codes PROFILE --ykman "
                "--account NAME'."
            )
        if "multiple matches" in lowered:
            return (
                f"Several OATH accounts on the YubiKey match {query!r}; name one exactly with "
                "'aacli config codes PROFILE --ykman --account NAME'."
            )
        detail = text if len(text) <= 200 else text[:197] + "..."
        return f"ykman failed (exit {returncode}): {detail or 'no message'}"
