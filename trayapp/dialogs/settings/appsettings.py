"""The app settings page: warnings, Quit, start at login, serving credentials, secret backend,
vault passphrase."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import TYPE_CHECKING

from trayapp.dialogs.settings.widgets import MASK, FieldRow, Mnemonics, button, check_button

if TYPE_CHECKING:
    from trayapp.dialogs.settings.window import SettingsWindow

BACKEND_TEXT = {
    "keyring": "the OS keyring (Secret Service, Keychain, Credential Manager)",
    "vault": "an encrypted vault file (asks for its passphrase once per start)",
}


# The tray's local credential server (tray/serving.py): SDKs poll it, the tray renews.
SERVE_TEXT = "Serve c_redentials to programs (the tray renews them; no keys on disk)"


class AppSettingsView:
    def __init__(self, parent: ttk.Frame, window: SettingsWindow) -> None:
        self.window = window
        model = window.model
        form = model.app
        self.keys = Mnemonics()
        frame = ttk.Frame(parent, padding=(8, 8))
        frame.grid(sticky="nsew")
        frame.columnconfigure(1, weight=1)
        ttk.Label(frame, text="App settings", style="Title.TLabel").grid(columnspan=3, sticky="w")
        self.warn = FieldRow(
            frame, 1, "_Warn minutes before expiry", self.keys,
            lambda value: self._changed(value), value=form.values["warn_minutes"], hint="1-120",
        )  # fmt: skip
        self.quit_var = tk.BooleanVar(frame, value=form.unauth_on_quit)
        self.login_var = tk.BooleanVar(frame, value=form.start_at_login)
        check_button(
            frame, "Quit signs out of _all sessions", self.keys, self.quit_var, self._toggled
        ).grid(row=4, column=1, columnspan=2, sticky="w", pady=(8, 0))
        check_button(
            frame, "Start the tray at _login", self.keys, self.login_var, self._toggled
        ).grid(row=5, column=1, columnspan=2, sticky="w", pady=(4, 0))
        self.serve_var = tk.BooleanVar(frame, value=form.serve_credentials)
        check_button(frame, SERVE_TEXT, self.keys, self.serve_var, self._toggled).grid(
            row=6, column=1, columnspan=2, sticky="w", pady=(4, 0)
        )
        self.save_button = button(frame, "_Save", self.keys, self.save)
        self.save_button.grid(row=7, column=1, sticky="w", pady=(10, 0))

        ttk.Separator(frame).grid(row=8, columnspan=3, sticky="ew", pady=14)
        ttk.Label(frame, text="Secrets", style="Title.TLabel").grid(row=9, columnspan=3, sticky="w")
        self.backend_label = ttk.Label(frame, text="", wraplength="420p")
        self.backend_label.grid(row=10, columnspan=3, sticky="w", pady=(4, 0))
        self.backend = tk.StringVar(frame, value=model.backend())
        for row, name in enumerate(("keyring", "vault"), start=11):
            ttk.Radiobutton(frame, text=BACKEND_TEXT[name], value=name, variable=self.backend).grid(
                row=row, column=1, columnspan=2, sticky="w"
            )
        button(frame, "Mo_ve secrets there", self.keys, self._switch).grid(
            row=13, column=1, sticky="w", pady=(6, 0)
        )

        ttk.Label(frame, text="Vault passphrase", style="Title.TLabel").grid(
            row=14, columnspan=3, sticky="w", pady=(14, 0)
        )
        self.phrases = [tk.StringVar(frame) for _ in range(3)]
        for offset, (text, _var) in enumerate(
            zip(("_Current", "_New", "A_gain"), self.phrases, strict=True)
        ):
            label, index = mnemonic_label(
                self.keys, text, lambda o=offset: self.entries[o].focus_set()
            )
            ttk.Label(frame, text=label + ":", underline=index).grid(
                row=15 + offset, column=0, sticky="w", pady=(4, 0)
            )
        self.entries = [ttk.Entry(frame, textvariable=v, show=MASK, width=34) for v in self.phrases]
        for offset, entry in enumerate(self.entries):
            entry.grid(row=15 + offset, column=1, sticky="w", pady=(4, 0))
        button(frame, "C_hange passphrase", self.keys, self._change_passphrase).grid(
            row=18, column=1, sticky="w", pady=(6, 0)
        )
        ttk.Separator(frame).grid(row=19, columnspan=3, sticky="ew", pady=14)
        button(frame, "_Open config file (advanced)", self.keys, window.open_config_file).grid(
            row=20, column=1, sticky="w"
        )
        self.first = self.warn.entry

    def _changed(self, value: str) -> None:
        self.window.model.app.set("warn_minutes", value)
        self.window.refresh()

    def _toggled(self) -> None:
        self.window.model.app.unauth_on_quit = self.quit_var.get()
        self.window.model.app.start_at_login = self.login_var.get()
        self.window.model.app.serve_credentials = self.serve_var.get()
        self.window.refresh()

    def save(self) -> None:
        self.window.model.save_app()
        self.window.refresh()

    def _switch(self) -> None:
        wanted = self.backend.get()
        if wanted != self.window.model.backend() and self.window.confirm(
            f"Move every secret to {BACKEND_TEXT[wanted]}, then delete them from the old place?"
        ):
            self.window.model.switch_backend(wanted)
        self.backend.set(self.window.model.backend())
        self.window.refresh()

    def _change_passphrase(self) -> None:
        old, new, again = (v.get() for v in self.phrases)
        if self.window.model.change_passphrase(old, new, again):
            for var in self.phrases:
                var.set("")
        self.window.refresh()

    def show(self) -> None:
        model = self.window.model
        self.warn.show(model.app.values["warn_minutes"], model.app.message("warn_minutes"))
        self.save_button.state(["!disabled"] if model.app.valid else ["disabled"])
        self.backend_label.configure(
            text=f"Hub secret keys (and TOTP seeds) are kept in {BACKEND_TEXT[model.backend()]}."
        )


def mnemonic_label(keys: Mnemonics, text: str, action: object) -> tuple[str, int]:
    return keys.add(text, action)  # type: ignore[arg-type]
