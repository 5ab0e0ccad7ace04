"""The first-run page: what aacli needs, and the two ways to start (type it, or import)."""

from __future__ import annotations

from tkinter import ttk
from typing import TYPE_CHECKING

from trayapp.dialogs.settings.widgets import Mnemonics, button

TEXT_WIDTH = "480p"  # points: wraps at the same place at any scaling

if TYPE_CHECKING:
    from trayapp.dialogs.settings.window import SettingsWindow

INTRO = (
    "aacli signs you in to the AWS accounts you reach from one hub account: it asks for "
    "your MFA code, assumes the role, writes short-lived credentials where every AWS tool "
    "reads them, and removes them when they expire."
)
STEPS = (
    "1.  Your hub profile: the IAM user's access key (the secret goes to the OS keyring or "
    "an encrypted vault, never to a file in clear) and its MFA device. Check asks AWS "
    "whose keys they are.\n"
    "2.  An account (name and 12-digit id) and a role in it, e.g. dev and DEVELOPER.\n"
    "3.  Save: the role is in the tray's menu; click it and type the code.\n\n"
    "Or an Identity Center hub: its start URL and region; sign in in your browser, and "
    "Refresh accounts brings its accounts and permission sets (no key, no code)."
)


class WelcomeView:
    def __init__(self, parent: ttk.Frame, window: SettingsWindow) -> None:
        self.keys = Mnemonics()
        frame = ttk.Frame(parent, padding=(8, 8))
        frame.grid(sticky="nsew")
        ttk.Label(frame, text="Welcome to aacli", style="Big.TLabel").grid(sticky="w")
        ttk.Label(frame, text=INTRO, wraplength=TEXT_WIDTH, justify="left").grid(
            sticky="w", pady=(10, 0)
        )
        ttk.Label(frame, text=STEPS, wraplength=TEXT_WIDTH, justify="left").grid(
            sticky="w", pady=(12, 0)
        )
        buttons = ttk.Frame(frame)
        buttons.grid(sticky="w", pady=(18, 0))
        self.start = button(buttons, "_Set up an IAM user hub\u2026", self.keys, window.new_profile)
        self.start.grid(row=0, column=0, padx=(0, 8))
        button(buttons, "Set up an Identity _Center hub\u2026", self.keys, window.new_hub).grid(
            row=0, column=1, padx=(0, 8)
        )
        button(buttons, "_Import from ~/.aws/config\u2026", self.keys, window.import_aws).grid(
            row=1, column=0, sticky="w", pady=(8, 0)
        )
        ttk.Label(
            frame,
            text="Import reads role_arn / source_profile / mfa_serial profiles and shows what it "
            "found before it saves anything.",
            style="Muted.TLabel",
            wraplength=TEXT_WIDTH,
        ).grid(sticky="w", pady=(8, 0))
        self.first = self.start
