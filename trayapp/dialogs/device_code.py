"""The Identity Center device-code window: the user code large, the page to type it on, Copy and
Cancel. It runs while the tray waits for the sign-in; the tray closes it when the sign-in is over,
and it closes itself when the code expires or the tray is gone."""

from __future__ import annotations

import json
import tkinter as tk
from dataclasses import dataclass
from datetime import datetime, timezone
from tkinter import ttk
from typing import IO

from trayapp.core.clock import parse_iso
from trayapp.dialogs.common import PAD, bind_cancel, make_root, present

TITLE = "aacli \u2014 sign-in code"
TEXT_WIDTH = 400  # pixels: an AWS device URL fits on one line
MAX_INPUT = 8 * 1024  # the details on stdin: a few hundred bytes
COPIED_MS = 1500


@dataclass(frozen=True)
class CodeDetails:
    """What the tray hands over on stdin (JSON): never on the command line."""

    hub: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_at: datetime

    @classmethod
    def read(cls, stream: IO[str]) -> CodeDetails:
        """Raises ValueError (naming no value) when stdin holds no such details."""
        try:
            data = json.loads(stream.read(MAX_INPUT))
            return cls(
                hub=str(data["hub"]),
                user_code=str(data["user_code"]),
                verification_uri=str(data["verification_uri"]),
                verification_uri_complete=str(data.get("verification_uri_complete") or ""),
                expires_at=parse_iso(str(data["expires_at"])),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ValueError("its details on stdin are missing or malformed") from None


class DeviceCodeDialog:
    """The widgets; ``cancelled`` is set when the user closes the window."""

    def __init__(self, root: tk.Tk, details: CodeDetails) -> None:
        self.root = root
        self.details = details
        self.cancelled = False

        frame = ttk.Frame(root, padding=PAD)
        frame.grid(sticky="nsew")
        frame.columnconfigure(0, minsize=TEXT_WIDTH)
        ttk.Label(frame, text=f"Sign in to {details.hub}", style="Title.TLabel").grid(
            row=0, sticky="w"
        )
        ttk.Label(
            frame,
            text="Open this page in a browser (on any device), sign in, and enter the code:",
            wraplength=TEXT_WIDTH,
        ).grid(row=1, sticky="w", pady=(6, 0))
        self.url = tk.StringVar(root, value=details.verification_uri)
        url_entry = ttk.Entry(frame, textvariable=self.url, state="readonly", width=1)
        url_entry.grid(row=2, sticky="ew", pady=(6, 0))
        self.code_label = ttk.Label(
            frame, text=details.user_code, font=("DejaVu Sans Mono", 28, "bold"), anchor="center"
        )
        self.code_label.grid(row=3, pady=(14, 4))
        local = details.expires_at.astimezone().strftime("%H:%M")
        self.note = tk.StringVar(
            root, value=f"The code works until {local}. This window closes once you are signed in."
        )
        ttk.Label(frame, textvariable=self.note, style="Muted.TLabel", wraplength=TEXT_WIDTH).grid(
            row=4, sticky="w", pady=(4, 0)
        )

        buttons = ttk.Frame(frame)
        buttons.grid(row=5, sticky="e", pady=(14, 0))
        ttk.Button(buttons, text="Cancel", command=self.cancel).grid(row=0, column=0, padx=(0, 8))
        self.copy_button = ttk.Button(
            buttons, text="Copy code", command=self.copy, default="active"
        )
        self.copy_button.grid(row=0, column=1)
        root.bind("<Return>", lambda _event: self.copy())
        bind_cancel(root, self.cancel)
        self._close_at_expiry()

    def copy(self) -> None:
        """The code to the clipboard (Tk keeps it while the window is open: the sign-in)."""
        self.root.clipboard_clear()
        self.root.clipboard_append(self.details.user_code)
        self.copy_button.configure(text="Copied")
        self.root.after(COPIED_MS, lambda: self.copy_button.configure(text="Copy code"))

    def cancel(self) -> None:
        self.cancelled = True
        self.root.destroy()

    def _close_at_expiry(self) -> None:
        """Bounded: once the code has expired nobody can use it, so the window goes."""
        left = (self.details.expires_at - datetime.now(timezone.utc)).total_seconds()
        self.root.after(int(max(0.0, left) * 1000) + 1000, self.cancel)


def show(details: CodeDetails) -> bool:
    """Show the window until the user cancels (True) or it is closed for them (False)."""
    root = make_root(TITLE)
    dialog = DeviceCodeDialog(root, details)
    present(root, dialog.copy_button)
    root.mainloop()
    return dialog.cancelled
