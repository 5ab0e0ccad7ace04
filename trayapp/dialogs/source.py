"""The Tk MFA dialog (a child process) as a core code source, named "dialog"."""

from __future__ import annotations

from trayapp.core.codes.base import CodeRequest
from trayapp.core.errors import CodeCancelled
from trayapp.dialogs.client import ask_mfa_code


class DialogCode:
    """Asks for the code in a small Tk window; a wrong code brings the dialog back with the error."""

    name = "dialog"
    can_retry = True

    def __init__(self, timeout: float | None = None) -> None:
        self.timeout = timeout  # None: wait as long as the user needs

    def get_code(self, request: CodeRequest) -> str:
        code = ask_mfa_code(
            request.target,
            request.device,
            error=request.error,
            hint=request.hint,
            timeout=self.timeout,
        )
        if code is None:
            raise CodeCancelled("Cancelled: no MFA code was entered.")
        return code
