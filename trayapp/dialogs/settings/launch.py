"""Starting the settings window (a child process, one at a time) without importing Tk.

The window holds a lock in aacli's private state folder while it is open. A second start
finds the lock taken, leaves a raise request beside it and exits; the open window polls for
that request and comes to the front (on the profile asked for, if any). No X tool needed.
"""

from __future__ import annotations

from pathlib import Path

from trayapp.core import children
from trayapp.core.files import atomic_write, private_dir
from trayapp.core.paths import AppPaths

WELCOME_SHOWN = "welcome-shown"  # state file: the first-run window opened once by itself


def dialogs_dir(app: AppPaths) -> Path:
    return private_dir(app.state_dir / "dialogs")


def lock_file(app: AppPaths) -> Path:
    return dialogs_dir(app) / "settings.lock"


def raise_file(app: AppPaths) -> Path:
    return dialogs_dir(app) / "settings.raise"


def request_raise(app: AppPaths, profile: str | None) -> None:
    """Ask the open window to come to the front (and show ``profile``)."""
    atomic_write(raise_file(app), (profile or "") + "\n")


def open_settings(profile: str | None = None, *, first_run: bool = False) -> None:
    """Start the window as a detached child (no aacli secret in its environment, fixed
    working directory, no import from the caller's folder); it raises an open one instead."""
    args = ["settings"]
    if profile:
        args.append(f"--profile={profile}")
    if first_run:
        args.append("--first-run")
    children.start(children.python_command("trayapp.dialogs", *args))


def open_welcome_once(app: AppPaths) -> bool:
    """At the tray's first start with no config: open the window once, ever; True if so."""
    marker = app.state_dir / WELCOME_SHOWN
    if app.config_file.exists() or marker.exists():
        return False
    private_dir(app.state_dir)
    atomic_write(marker, "")
    open_settings(first_run=True)
    return True
