"""Drives the settings window child with xdotool and reads what it shows (its debug file)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tray_harness import wait_for

SETTINGS_TITLE = "Settings$"  # "aacli — Settings" (xdotool mis-matches the dash)


def _xdotool(env: Mapping[str, str], *args: str, timeout: float = 15) -> str:
    done = subprocess.run(
        ["xdotool", *args], env=dict(env), capture_output=True, text=True, timeout=timeout
    )
    return done.stdout.strip() if done.returncode == 0 else ""


def find_window(env: Mapping[str, str], name: str) -> str:
    found = _xdotool(env, "search", "--onlyvisible", "--name", name)
    return found.split()[-1] if found else ""


class SettingsDriver:
    """The window as a user meets it: keys typed into whatever has the focus."""

    def __init__(self, env: Mapping[str, str], debug_file: Path) -> None:
        self.env = dict(env)
        self.debug_file = debug_file
        self.window = wait_for(
            "the settings window", lambda: find_window(self.env, SETTINGS_TITLE), timeout=30
        )
        time.sleep(0.5)  # the window settles its focus once shown
        self.focus()

    @classmethod
    def start(
        cls, env: Mapping[str, str], debug_file: Path, *args: str
    ) -> tuple[Any, SettingsDriver]:
        child_env = dict(env, AACLI_SETTINGS_DEBUG=str(debug_file))
        child = subprocess.Popen(
            [sys.executable, "-m", "trayapp.dialogs", "settings", *args],
            env=child_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        return child, cls(child_env, debug_file)

    def focus(self) -> None:
        # No window manager: the keyboard follows the pointer, so keep it on the window.
        _xdotool(self.env, "mousemove", "--window", self.window, "30", "30")
        _xdotool(self.env, "windowfocus", "--sync", self.window)
        time.sleep(0.2)

    def state(self) -> dict[str, Any]:
        try:
            return json.loads(self.debug_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def until(
        self, what: str, predicate: Callable[[dict[str, Any]], Any], timeout: float = 20
    ) -> Any:
        try:
            return wait_for(what, lambda: (s := self.state()) and predicate(s) and s, timeout)
        except AssertionError as exc:
            shown = {k: v for k, v in self.state().items() if k != "app"}
            raise AssertionError(f"{exc}; the window shows {shown}") from None

    def form(self, kind: str) -> dict[str, Any]:
        """Wait for the ``kind`` form (its first field takes the focus just after)."""
        state = self.until(f"the {kind} form", lambda s: (s.get("form") or {}).get("kind") == kind)
        time.sleep(0.3)
        return state

    def key(self, *keys: str) -> None:
        _xdotool(self.env, "key", "--delay", "60", *keys)
        time.sleep(0.15)

    def type(self, text: str) -> None:
        _xdotool(self.env, "type", "--delay", "25", text)
        time.sleep(0.15)

    def field(self, mnemonic: str, text: str) -> None:
        """Alt+letter to the field (its label's underlined letter), then type ``text``."""
        self.key(f"alt+{mnemonic}")  # focuses the field and selects its text: typing replaces it
        self.type(text)

    def answer_passphrase(self, passphrase: str, confirm: bool) -> None:
        """The vault passphrase dialog the window opens when it needs the vault."""
        try:
            dialog = wait_for(
                "the passphrase dialog", lambda: find_window(self.env, "passphrase"), timeout=30
            )
        except AssertionError as exc:
            shown = {k: v for k, v in self.state().items() if k != "app"}
            raise AssertionError(f"{exc}; the window shows {shown}") from None
        _xdotool(self.env, "mousemove", "--window", dialog, "20", "20")
        _xdotool(self.env, "windowfocus", "--sync", dialog)
        time.sleep(0.3)
        self.type(passphrase)
        self.key("Return")
        if confirm:
            self.type(passphrase)
            self.key("Return")
        wait_for("the passphrase dialog to close", lambda: not find_window(self.env, "passphrase"))
        self.focus()

    def screenshot(self, path: Path) -> Path:
        from xvfb import screenshot

        time.sleep(0.4)
        return screenshot(self.env["DISPLAY"], self.window, path)
