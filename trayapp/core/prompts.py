"""What another aacli is waiting for the user to do, so the tray can show it.

A command that waits for a YubiKey touch (``credential-process`` asked by an SDK, with no
terminal in sight) writes one small file per process in the state folder; the tray reads the
folder on its poll and shows "Touch your YubiKey" until the file is gone. No secrets: the
prompt's text and the target's label only.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

from trayapp.core.children import process_alive

MAX_AGE = 120.0  # seconds: a prompt older than any wait for a touch is a leftover


def _folder(state_dir: Path) -> Path:
    return state_dir / "prompts"


def _mine(state_dir: Path) -> Path:
    return _folder(state_dir) / f"{os.getpid()}.json"


def announce(state_dir: Path, text: str, label: str) -> None:
    """Say that this process waits for the user (``text``) to sign in to ``label``."""
    from trayapp.core.errors import AacliError
    from trayapp.core.files import atomic_write

    with contextlib.suppress(AacliError):  # no tray to tell is no reason to fail the sign-in
        atomic_write(_mine(state_dir), json.dumps({"text": text, "target": label}))


def withdraw(state_dir: Path) -> None:
    """This process no longer waits."""
    with contextlib.suppress(OSError):
        _mine(state_dir).unlink()


def waiting(state_dir: Path, now: float | None = None) -> list[tuple[str, str]]:
    """(what to do, target label) for each live process that waits, e.g.
    ``("Touch your YubiKey", "acme/dev/DEVELOPER")``."""
    from trayapp.core.errors import AacliError
    from trayapp.core.files import read_text

    folder = _folder(state_dir)
    try:
        entries = sorted(folder.glob("*.json"))
    except OSError:
        return []
    now = time.time() if now is None else now
    found = []
    for entry in entries:
        if not entry.stem.isdigit() or not process_alive(int(entry.stem)):
            continue
        try:
            if now - entry.lstat().st_mtime > MAX_AGE:
                continue
            data = json.loads(read_text(entry, trusted=True, what="a prompt file") or "{}")
        except (OSError, ValueError, AacliError):
            continue
        if isinstance(data, dict) and isinstance(data.get("text"), str):
            found.append((data["text"], str(data.get("target", ""))))
    return found
