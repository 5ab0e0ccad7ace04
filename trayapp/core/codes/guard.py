"""Never send one code twice: remember each device's last code and its 30 s window."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from trayapp.core.errors import CodeReusedError

WINDOW = 30
# AWS accepts a code for about one window either side, so a used code stays "used" that long.
VALID_WINDOWS = 2


def window_of(moment: datetime) -> int:
    return int(moment.timestamp()) // WINDOW


def _digest(device: str, code: str) -> str:
    # A used code is worthless to an attacker, but there is no need to keep it readable either.
    return hashlib.sha256(f"{device}\0{code}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class CodeGuard:
    """State in a small JSON file; ``remember`` takes the file's own lock."""

    path: Path

    def _load(self) -> dict[str, dict[str, object]]:
        from trayapp.core.files import read_bytes

        # Another user's file here is refused (UnsafeFileError); a damaged one (not JSON, not
        # even UTF-8) reads as empty.
        raw = read_bytes(self.path, trusted=True)
        try:
            data = json.loads(raw.decode("utf-8")) if raw else {}
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def seconds_until_unused(self, device: str, code: str, now: datetime) -> float:
        """0 when ``code`` may be sent; else seconds until the device shows a new code."""
        entry = self._load().get(device)
        if not isinstance(entry, dict) or entry.get("code") != _digest(device, code):
            return 0.0
        used_window = entry.get("window")
        if not isinstance(used_window, int):
            return 0.0
        if window_of(now) - used_window > VALID_WINDOWS:
            return 0.0
        return float(WINDOW - int(now.timestamp()) % WINDOW)

    def check(self, device: str, code: str, now: datetime) -> None:
        wait = self.seconds_until_unused(device, code, now)
        if wait:
            raise CodeReusedError(
                f"This MFA code was already used; wait for the next code (about {int(wait)} s) "
                "and try again.",
                wait_seconds=wait,
            )

    def remember(self, device: str, code: str, now: datetime) -> None:
        from trayapp.core.files import atomic_write, file_lock

        with file_lock(
            self.path.with_name(self.path.name + ".lock"),
            timeout=30.0,
            busy="Another aacli is recording a used MFA code; try again.",
        ):
            data = self._load()
            data[device] = {"code": _digest(device, code), "window": window_of(now)}
            atomic_write(self.path, json.dumps(data, indent=1, sort_keys=True))
