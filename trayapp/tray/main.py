"""Starts the tray: checks the backend, builds the service, runs the icon (``aacli-tray``)."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from trayapp.core.codes import CodeRequest, CodeSource
from trayapp.core.errors import AacliError, CodeCancelled, SecretStoreError
from trayapp.core.paths import AppPaths
from trayapp.core.service import Service, service_from_env

DIALOG_TIMEOUT = 120.0  # an MFA dialog nobody answers closes after this, with a notification
ALREADY_RUNNING = (
    "the aacli tray is already running for this user: its icon is in the panel "
    "(one tray per user; Quit it from its menu to start another)."
)


PASSPHRASE_TRIES = 5


def tray_passphrase(app: AppPaths) -> str:
    """The vault passphrase: AACLI_PASSPHRASE, else the Tk passphrase dialog, asked again
    (with the reason in red) after a wrong one, up to PASSPHRASE_TRIES times."""
    from_env = os.environ.get("AACLI_PASSPHRASE")
    if from_env:
        return from_env
    from trayapp.core.errors import VaultPassphraseError
    from trayapp.core.secrets.passphrase import problem_with_new
    from trayapp.core.secrets.vault import Vault
    from trayapp.dialogs.client import ask_passphrase

    new = not app.vault_file.exists()
    error: str | None = None
    for _ in range(PASSPHRASE_TRIES):
        purpose = "Choose a passphrase for the new aacli vault" if new else "Unlock the aacli vault"
        answer = ask_passphrase(purpose, confirm=new, error=error)
        if answer is None:
            raise SecretStoreError("The vault stays locked: no passphrase was entered.")
        if new:
            error = problem_with_new(answer)
        else:
            try:
                Vault(app.vault_file, lambda typed=answer: typed).keys()  # typed: this answer
            except VaultPassphraseError as exc:
                error = f"{exc} Type it again."
            else:
                error = None
        if error is None:
            return answer
    raise SecretStoreError(
        f"The vault stays locked: the passphrase was wrong {PASSPHRASE_TRIES} times."
    )


def make_tray_service() -> Service:
    return service_from_env(tray_passphrase)


class TimedDialogCode:
    """The MFA dialog, closed after ``timeout`` seconds with no answer: then an error says so
    (a notification and the menu's error line) instead of a silent cancel."""

    name = "dialog"
    can_retry = True

    def __init__(self, timeout: float = DIALOG_TIMEOUT) -> None:
        from trayapp.dialogs.source import DialogCode

        self.timeout = timeout
        self.inner: CodeSource = DialogCode(timeout=timeout)

    def get_code(self, request: CodeRequest) -> str:
        started = time.monotonic()
        try:
            return self.inner.get_code(request)
        except CodeCancelled:
            if time.monotonic() - started < self.timeout - 0.5:
                raise  # the user cancelled
            minutes = f"{self.timeout / 60:.0f} min" if self.timeout >= 60 else "a while"
            raise AacliError(
                f"The MFA dialog for {request.target} was open for {minutes} with no answer "
                "and was closed; click the role again to sign in."
            ) from None


def tray_lock(app: AppPaths) -> AbstractContextManager[None]:
    """One tray per user: a lock in aacli's private state folder, held until the tray exits."""
    from trayapp.core.files import file_lock

    return file_lock(app.tray_lock_file, timeout=0, busy=ALREADY_RUNNING)


def run_tray() -> int:
    """Run the tray until Quit. Raises TrayUnavailable (exit 2) when it cannot run here."""
    from trayapp.tray.backend import choose_backend

    # The lock first: a second start says so in one line, before GTK prints anything.
    with tray_lock(AppPaths.from_env()):
        choose_backend()  # before pystray is imported: it reads PYSTRAY_BACKEND once
        from trayapp.tray.app import TrayApp

        debug = os.environ.get("AACLI_TRAY_DEBUG_MENU")
        tray = TrayApp(
            make_tray_service(),
            code_source=TimedDialogCode,
            debug_menu=Path(debug) if debug else None,
        )
        return tray.run()


def main(argv: Sequence[str] | None = None) -> int:
    """The ``aacli-tray`` entry point (a GUI script: no console window on Windows)."""
    from trayapp.core.hardening import harden_process

    harden_process()  # the tray holds hub secrets and the passphrase in memory
    args = list(sys.argv[1:] if argv is None else argv)
    if "--debug" in args:
        logging.basicConfig(level=logging.DEBUG, format="aacli-tray: %(name)s: %(message)s")
        logging.getLogger("botocore").setLevel(logging.WARNING)  # it logs session tokens
        logging.getLogger("urllib3").setLevel(logging.WARNING)
    try:
        return run_tray()
    except AacliError as exc:
        print(f"aacli: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
