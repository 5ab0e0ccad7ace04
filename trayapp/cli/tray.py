"""aacli tray: run the system-tray app."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Run the system-tray app: profile -> account -> role menu, MFA dialog, expiry
timer, Open console. It runs until Quit (which signs out of all sessions when
the setting unauth_on_quit says so). On Linux it needs PyGObject (the gtk or
appindicator backend) and a desktop session."""


def register(parser: argparse.ArgumentParser) -> None:
    # Options come here (e.g. a later --autostart on|off|status); none yet.
    del parser


def run(args: argparse.Namespace) -> int:
    del args
    # Imported here: the CLI's start-up never loads pystray, PIL or gi.
    from trayapp.tray.main import run_tray

    return run_tray()
