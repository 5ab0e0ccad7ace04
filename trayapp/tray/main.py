"""Starts the tray: checks the backend, builds the service, runs the icon (``aacli-tray``)."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from trayapp.core.errors import AacliError, SecretStoreError
from trayapp.core.paths import AppPaths
from trayapp.core.service import Service, service_from_env


def tray_passphrase(app: AppPaths) -> str:
    """The vault passphrase: AACLI_PASSPHRASE, else the Tk passphrase dialog."""
    from_env = os.environ.get("AACLI_PASSPHRASE")
    if from_env:
        return from_env
    from trayapp.dialogs.client import ask_passphrase

    answer = ask_passphrase("unlock the aacli vault", confirm=not app.vault_file.exists())
    if answer is None:
        raise SecretStoreError("The vault stays locked: no passphrase was entered.")
    return answer


def make_tray_service() -> Service:
    return service_from_env(tray_passphrase)


def run_tray() -> int:
    """Run the tray until Quit. Raises TrayUnavailable (exit 2) when it cannot run here."""
    from trayapp.tray.backend import choose_backend

    choose_backend()  # before pystray is imported: it reads PYSTRAY_BACKEND once
    from trayapp.dialogs.source import DialogCode
    from trayapp.tray.app import TrayApp

    debug = os.environ.get("AACLI_TRAY_DEBUG_MENU")
    tray = TrayApp(
        make_tray_service(),
        code_source=DialogCode,
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
