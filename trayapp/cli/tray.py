"""aacli tray: run the system-tray app."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Run the system-tray app: profile -> account -> role menu, MFA dialog, expiry
timer, Open console. It runs until Quit (which signs out of all sessions when
the setting unauth_on_quit says so). On Linux it needs PyGObject (the gtk or
appindicator backend) and a desktop session."""


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--autostart",
        choices=("on", "off", "status"),
        help="start the tray at login (XDG autostart entry, macOS LaunchAgent, Windows Run "
        "key), stop doing so, or show whether it does; the tray itself is not started",
    )
    parser.add_argument(
        "--install-launcher",
        action="store_true",
        help="put aacli in the desktop's application menu (Linux: "
        "~/.local/share/applications/aacli.desktop); the tray itself is not started",
    )


def run(args: argparse.Namespace) -> int:
    if args.autostart:
        return _autostart(args.autostart)
    if args.install_launcher:
        return _install_launcher()
    # Imported here: the CLI's start-up never loads pystray, PIL or gi.
    from trayapp.tray.main import run_tray

    return run_tray()


def _autostart(what: str) -> int:
    from trayapp.tray import autostart

    entry = autostart.entry_for()
    if what == "on":
        autostart.enable(entry)
        print(f"The tray starts at login: {entry.location}")
    elif what == "off":
        removed = autostart.disable(entry)
        print(f"Removed {entry.location}" if removed else "The tray was not set to start at login.")
    else:
        current = autostart.installed(entry)
        if current is None:
            print(f"off ({entry.location} does not exist)")
        elif current == entry.content:
            print(f"on: {entry.location}")
        else:
            print(
                f"on, but different from what this aacli would write: {entry.location} "
                "(run 'aacli tray --autostart on' to update it)"
            )
    return 0


def _install_launcher() -> int:
    import sys

    from trayapp.core.errors import UsageError
    from trayapp.tray import autostart

    if sys.platform in ("darwin", "win32"):
        raise UsageError("--install-launcher is for Linux desktops; the app bundle is the launcher")
    entry = autostart.launcher_entry()
    autostart.enable(entry)
    print(f"aacli is in the application menu: {entry.location}")
    return 0
