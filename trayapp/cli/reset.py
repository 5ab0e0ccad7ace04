"""aacli reset: sign out of everything, then delete aacli's own files and every stored secret."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from trayapp.cli.context import ask_line, interactive, make_service, report_removals, say
from trayapp.core.errors import AacliError, CodeCancelled, UsageError
from trayapp.core.paths import AppPaths

if TYPE_CHECKING:
    from trayapp.core.service import Service

DESCRIPTION = """\
Sign out of every session (removing the credentials aacli wrote), then delete
every secret aacli stored (in the OS keyring and in the vault), aacli's config
and everything in its state folder (ledger, MFA sessions, code windows, locks).
Nothing else is touched: your other AWS profiles stay as they are."""

# What aacli writes into its config folder, which may be a folder of the user's (AACLI_HOME):
# only these names (and their temp files, ".NAME.…") are removed there.
_CONFIG_FILES = ("config.toml", "config.toml.lock", "vault.bin", "vault.bin.lock", "keyring.lock")


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def run(args: argparse.Namespace) -> int:
    service = make_service()
    app = service.deps.app
    if not args.yes:
        if not interactive():
            raise UsageError("reset deletes aacli's config and secrets; confirm with --yes")
        try:
            answer = ask_line(
                f"Delete every secret aacli stored and its files under {app.config_dir}? [y/N] "
            )
        except (EOFError, KeyboardInterrupt):
            raise CodeCancelled("Cancelled; nothing was deleted.") from None
        if answer.strip().lower() not in ("y", "yes"):
            say("Nothing was deleted.")
            return 1
    from trayapp.core.files import file_lock

    # A running tray would sign in again behind reset's back: it must be quit first (its lock
    # is held while reset runs, so none can start meanwhile).
    with file_lock(
        app.tray_lock_file,
        timeout=0,
        busy="The aacli tray is running; Quit it from its menu first, then reset.",
    ):
        return _reset(service)


def _reset(service: Service) -> int:
    app = service.deps.app
    report_removals(service.unauth_all())
    failed = False
    try:
        forgotten = service.forget_secrets()
    except AacliError as exc:
        say(f"Could not remove the stored secrets ({exc}); remove them by hand.")
        forgotten, failed = [], True
    for item in forgotten:
        say(f"Secrets: {item.describe()}.")
        failed = failed or item.problem is not None
    if not forgotten and not failed:
        say("Secrets: none were stored (no vault file, no usable keyring).")
    for folder, names in remove_app_files(app):
        say(f"Removed from {folder}: {', '.join(names)}.")
    if failed:
        say("aacli's files are gone, but not every secret: see above.")
        return 1
    say("aacli's files and secrets are gone; your AWS files keep only what was yours.")
    return 0


def remove_app_files(app: AppPaths) -> list[tuple[Path, list[str]]]:
    """Delete everything in aacli's state folder (it is aacli's alone) and aacli's own files in
    its config folder, then each folder if it is left empty; what was removed where."""
    removed: list[tuple[Path, list[str]]] = []
    state_names = _empty_folder(app.state_dir)
    if state_names:
        removed.append((app.state_dir, state_names))
    config_names = []
    if app.config_dir.is_dir():
        for path in sorted(app.config_dir.iterdir()):
            name = path.name
            temp_of = name.startswith(".") and name[1:].startswith(_CONFIG_FILES)
            if (name in _CONFIG_FILES or temp_of) and _remove(path):
                config_names.append(name)
        with contextlib.suppress(OSError):
            app.config_dir.rmdir()  # only when empty: never a folder with the user's files
    if config_names:
        removed.append((app.config_dir, config_names))
    return removed


def _empty_folder(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    names = [
        f"{path.name}/" if path.is_dir() and not path.is_symlink() else path.name
        for path in sorted(folder.iterdir())
        if _remove(path)
    ]
    with contextlib.suppress(OSError):
        folder.rmdir()
    return names


def _remove(path: Path) -> bool:
    """Remove a file, a symlink (never what it points to) or a folder tree; True if gone."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            os.unlink(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        say(f"Could not remove {path}: {exc.strerror}.")
        return False
    return True
