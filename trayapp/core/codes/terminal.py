"""Asks for the code on the terminal, through a prompt function the front supplies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from trayapp.core import validate
from trayapp.core.codes.base import CodeRequest
from trayapp.core.errors import CodeCancelled, UsageError

MAX_TRIES = 3


@dataclass
class TerminalCode:
    """``ask(prompt)`` returns the typed line; EOF or Ctrl-C mean cancel."""

    ask: Callable[[str], str]
    name: str = "terminal"
    can_retry: bool = True

    def get_code(self, request: CodeRequest) -> str:
        prompt = f"MFA code for {request.target} ({request.device}): "
        if request.error:
            prompt = f"{request.error}\n{prompt}"
        if request.hint:
            prompt = f"(demo code: {request.hint})\n{prompt}"
        for _ in range(MAX_TRIES):
            try:
                typed = self.ask(prompt)
            except (EOFError, KeyboardInterrupt):
                raise CodeCancelled("Cancelled: no MFA code was entered.") from None
            try:
                return validate.mfa_code(typed)
            except UsageError as exc:
                prompt = f"{exc}.\nMFA code for {request.target}: "
        raise CodeCancelled("Cancelled after three malformed codes.")
