"""An Identity Center hub's page: start URL and region, its sign-in state, Sign in / Refresh
accounts / Sign out, and the device code when no browser could be opened."""

from __future__ import annotations

from tkinter import ttk
from typing import TYPE_CHECKING

from trayapp.dialogs.settings.forms import HubForm
from trayapp.dialogs.settings.sso_model import REFRESH, SIGN_IN, SIGN_OUT
from trayapp.dialogs.settings.widgets import (
    MESSAGE_WIDTH,
    FieldRow,
    Mnemonics,
    button,
    cancel_save_row,
)

if TYPE_CHECKING:
    from trayapp.dialogs.settings.window import SettingsWindow

FIELDS = (
    ("name", "_Name", "a short name, e.g. corp (also its AWS CLI sso-session name)"),
    ("start_url", "Start _URL", "your AWS access portal, e.g. https://corp.awsapps.com/start"),
    ("region", "_Region", "the Identity Center instance's region, e.g. eu-west-1"),
)
NO_KEY = (
    "No key and no MFA device: you sign in at the start URL in your browser, and its "
    "accounts and permission sets come from Refresh accounts."
)


class HubView:
    """Lays out a HubForm; its buttons go to the window, which runs them off the Tk loop."""

    def __init__(self, parent: ttk.Frame, window: SettingsWindow, form: HubForm) -> None:
        self.window, self.form = window, form
        self.keys = Mnemonics()
        frame = ttk.Frame(parent)
        frame.grid(sticky="nsew")
        frame.columnconfigure(1, weight=1)
        existing = form.existing
        title = (
            "New Identity Center hub"
            if existing is None
            else f"Identity Center hub {existing.name}"
        )
        ttk.Label(frame, text=title, style="Title.TLabel").grid(row=0, columnspan=3, sticky="w")
        fields = FIELDS if existing is None else FIELDS[1:]  # a saved hub's name stays
        self.rows = {
            name: FieldRow(
                frame,
                row,
                text,
                self.keys,
                lambda value, name=name: self._changed(name, value),
                value=form.values[name],
                hint=hint,
            )
            for row, (name, text, hint) in enumerate(fields, start=1)
        }
        ttk.Label(frame, text=NO_KEY, style="Muted.TLabel", wraplength=MESSAGE_WIDTH).grid(
            row=10, column=1, columnspan=2, sticky="w", pady=(8, 0)
        )
        self.state_label: ttk.Label | None = None
        if existing is not None:
            self._sign_in_part(frame)
        self.save_button = cancel_save_row(frame, 40, self.keys, window.cancel_form, window.save)
        self.first = next(iter(self.rows.values())).entry

    def _sign_in_part(self, frame: ttk.Frame) -> None:
        window = self.window
        ttk.Label(frame, text="Sign-in:").grid(row=20, column=0, sticky="w", pady=(12, 0))
        self.state_label = ttk.Label(frame, text="", wraplength=MESSAGE_WIDTH)
        self.state_label.grid(row=20, column=1, columnspan=2, sticky="w", pady=(12, 0))
        actions = ttk.Frame(frame)
        actions.grid(row=21, column=0, columnspan=3, sticky="w", pady=(8, 0))
        self.sign_in_button = button(
            actions, "S_ign in\u2026", self.keys, lambda: window.start_hub(SIGN_IN)
        )
        self.sign_in_button.grid(row=0, column=0, padx=(0, 6))
        self.refresh_button = button(
            actions, "Re_fresh accounts", self.keys, lambda: window.start_hub(REFRESH)
        )
        self.refresh_button.grid(row=0, column=1, padx=(0, 6))
        self.sign_out_button = button(
            actions, "Sign _out", self.keys, lambda: window.start_hub(SIGN_OUT)
        )
        self.sign_out_button.grid(row=0, column=2)
        self.busy_label = ttk.Label(frame, text="", style="Muted.TLabel", wraplength=MESSAGE_WIDTH)
        self.busy_label.grid(row=22, column=0, columnspan=3, sticky="w", pady=(6, 0))
        # The device code, shown when no browser could be opened (or the browser is elsewhere).
        self.code_frame = ttk.Frame(frame)
        self.code_frame.grid(row=23, column=0, columnspan=3, sticky="w", pady=(6, 0))
        self.code_label = ttk.Label(self.code_frame, text="", style="Big.TLabel")
        self.code_label.grid(row=0, column=0, sticky="w")
        self.copy_button = button(self.code_frame, "_Copy code", self.keys, self._copy)
        self.copy_button.grid(row=0, column=1, padx=(10, 0))
        self.url_label = ttk.Label(self.code_frame, text="", wraplength=MESSAGE_WIDTH)
        self.url_label.grid(row=1, column=0, columnspan=2, sticky="w")
        self.cancel_sign_in = button(frame, "Cancel sign-i_n", self.keys, window.model.hubs.cancel)
        self.cancel_sign_in.grid(row=24, column=0, columnspan=3, sticky="w", pady=(6, 0))

    def _changed(self, name: str, value: str) -> None:
        self.form.set(name, value)
        self.window.refresh()

    def _copy(self) -> None:
        """The code to the clipboard (Tk keeps it while the window is open: the sign-in)."""
        code = self.window.model.hubs.device_code()
        if code is not None:
            root = self.window.root
            root.clipboard_clear()
            root.clipboard_append(code.user_code)
            self.window.model.status = "Copied the sign-in code."
            self.window.refresh()

    def show(self) -> None:
        model = self.window.model
        hubs = model.hubs
        for name, row in self.rows.items():
            row.show(self.form.values[name], self.form.message(name))
        self.save_button.state(["!disabled"] if model.can_save else ["disabled"])
        if self.state_label is None:
            return
        self.state_label.configure(text=hubs.sign_in_state())
        self.sign_in_button.configure(text=hubs.sign_in_label())
        for action, widget in (
            (SIGN_IN, self.sign_in_button),
            (REFRESH, self.refresh_button),
            (SIGN_OUT, self.sign_out_button),
        ):
            widget.state(["!disabled"] if hubs.can(action) else ["disabled"])
        self.busy_label.configure(text=hubs.busy_text())
        code = hubs.device_code()
        if code is None:
            self.code_frame.grid_remove()
        else:
            self.code_label.configure(text=code.user_code)
            self.url_label.configure(
                text=f"Open {code.verification_uri} in a browser and enter this code, or open "
                f"{code.verification_uri_complete}"
            )
            self.code_frame.grid()
        if hubs.busy == SIGN_IN:
            self.cancel_sign_in.grid()
        else:
            self.cancel_sign_in.grid_remove()
