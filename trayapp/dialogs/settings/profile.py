"""The hub profile form: keys (secret hidden, or "stored" with Replace/Remove), Check, MFA."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import TYPE_CHECKING

from trayapp.dialogs.settings.forms import ProfileForm
from trayapp.dialogs.settings.widgets import (
    MASK,
    MESSAGE_WIDTH,
    FieldRow,
    Mnemonics,
    button,
    cancel_save_row,
    check_button,
)

if TYPE_CHECKING:
    from trayapp.dialogs.settings.window import SettingsWindow

TOTP_HINT = (
    "base32 or otpauth:// URI. aacli then makes the codes itself, but your second factor "
    "lives on this machine beside the hub keys: only where that risk is acceptable "
    "(e.g. a disk-encrypted personal laptop)."
)
MFA_SESSION_HINT = "optional, e.g. 12h: one code, then roles need none (AWS caps them at 1 h)"
FIELDS = (
    ("name", "_Name", "a short name, e.g. acme"),
    ("access_key_id", "Access _key id", "the hub IAM user's key, AKIA…"),
    ("mfa_serial", "_MFA device", "ARN or serial; Check fills it in"),
    ("sts_region", "STS _region", ""),
    ("partition", "Par_tition", "aws, aws-cn or aws-us-gov"),
    ("mfa_session", "MFA sess_ion", MFA_SESSION_HINT),
)


class ProfileView:
    """Lays out a ProfileForm and forwards each keystroke and button to the model."""

    def __init__(self, parent: ttk.Frame, window: SettingsWindow, form: ProfileForm) -> None:
        self.window, self.form = window, form
        self.keys = Mnemonics()
        frame = ttk.Frame(parent)
        frame.grid(sticky="nsew")
        frame.columnconfigure(1, weight=1)
        self.frame = frame
        title = "New hub profile" if form.existing is None else f"Profile {form.existing.name}"
        ttk.Label(frame, text=title, style="Title.TLabel").grid(row=0, columnspan=3, sticky="w")
        self.rows: dict[str, FieldRow] = {}
        for row, (name, text, hint) in enumerate(FIELDS[:2], start=1):
            self.rows[name] = self._row(row, name, text, hint)
        self._secret_row(3)
        for row, (name, text, hint) in enumerate(FIELDS[2:], start=4):
            self.rows[name] = self._row(row, name, text, hint)
        self._totp_row(8)
        age = window.model.key_age(form)
        if age:
            ttk.Label(frame, text="Hub key:").grid(row=20, column=0, sticky="w", pady=(6, 0))
            self.age_label = ttk.Label(frame, text=age, wraplength=MESSAGE_WIDTH)
            self.age_label.grid(row=20, column=1, columnspan=2, sticky="w", pady=(6, 0))

        checks = ttk.Frame(frame)
        checks.grid(row=30, column=0, columnspan=3, sticky="ew", pady=(12, 0))
        self.check_button = button(checks, "_Check keys", self.keys, window.start_check)
        self.check_button.grid(row=0, column=0, sticky="w")
        self.check_label = ttk.Label(checks, text="", wraplength=MESSAGE_WIDTH)
        self.check_label.grid(row=0, column=1, sticky="w", padx=(10, 0))

        self.save_button = cancel_save_row(frame, 31, self.keys, window.cancel_form, window.save)
        self.first = self.rows["name"].entry

    def _row(self, row: int, name: str, text: str, hint: str) -> FieldRow:
        return FieldRow(
            self.frame,
            row,
            text,
            self.keys,
            lambda value: self._changed(name, value),
            value=self.form.values[name],
            hint=hint,
        )

    def _changed(self, name: str, value: str) -> None:
        self.form.set(name, value)
        self.window.refresh()

    def _secret_row(self, row: int) -> None:
        label_text = "S_ecret access key"
        self.secret_entry: ttk.Entry | None = None
        self.secret_message = ttk.Label(
            self.frame, text="", style="Muted.TLabel", wraplength=MESSAGE_WIDTH
        )
        self.secret_message.grid(row=2 * row + 1, column=1, columnspan=2, sticky="w")
        holder = ttk.Frame(self.frame)
        holder.grid(row=2 * row, column=1, sticky="ew", pady=(6, 0))
        holder.columnconfigure(0, weight=1)
        if self.form.replacing_secret:
            var = tk.StringVar(self.frame, value=self.form.secret)
            entry = ttk.Entry(holder, textvariable=var, show=MASK)
            entry.grid(row=0, column=0, sticky="ew")
            self.secret_entry = entry
            shown = tk.BooleanVar(self.frame, value=False)

            def toggle() -> None:
                entry.configure(show="" if shown.get() else MASK)

            check_button(holder, "S_how", self.keys, shown, toggle).grid(
                row=0, column=1, padx=(6, 0)
            )
            var.trace_add("write", lambda *_: self._secret_changed(var.get()))
            focus = entry.focus_set
        else:
            place = self.window.model.secret_place()
            ttk.Label(holder, text=f"stored in the {place}").grid(row=0, column=0, sticky="w")
            replace = button(holder, "Re_place", self.keys, self._replace)
            replace.grid(row=0, column=1, padx=(6, 0))
            button(holder, "Remo_ve", self.keys, self._remove_secret).grid(
                row=0, column=2, padx=(6, 0)
            )
            focus = replace.focus_set
        label, index = self.keys.add(label_text, focus)
        ttk.Label(self.frame, text=label + ":", underline=index).grid(
            row=2 * row, column=0, sticky="w", padx=(0, 8), pady=(6, 0)
        )

    def _totp_row(self, row: int) -> None:
        """The optional TOTP seed: typed hidden, stored on Save, never shown again."""
        var = tk.StringVar(self.frame, value=self.form.totp_seed)
        holder = ttk.Frame(self.frame)
        holder.grid(row=2 * row, column=1, sticky="ew", pady=(6, 0))
        holder.columnconfigure(0, weight=1)
        self.totp_entry = ttk.Entry(holder, textvariable=var, show=MASK)
        self.totp_entry.grid(row=0, column=0, sticky="ew")
        if self.form.totp_stored:
            ttk.Label(holder, text="a seed is stored").grid(row=0, column=1, padx=(6, 0))
            button(holder, "For_get", self.keys, self._forget_seed).grid(
                row=0, column=2, padx=(6, 0)
            )
        label, index = self.keys.add("TOTP seed (opti_onal)", self.totp_entry.focus_set)
        ttk.Label(self.frame, text=label + ":", underline=index).grid(
            row=2 * row, column=0, sticky="w", padx=(0, 8), pady=(6, 0)
        )
        self.totp_message = ttk.Label(
            self.frame, text=TOTP_HINT, style="Muted.TLabel", wraplength=MESSAGE_WIDTH
        )
        self.totp_message.grid(row=2 * row + 1, column=1, columnspan=2, sticky="w")

        def changed(*_: object) -> None:
            self.form.totp_seed = var.get()
            self.window.refresh()

        var.trace_add("write", changed)

    def _forget_seed(self) -> None:
        if self.window.confirm("Forget the stored TOTP seed? Codes will be asked for again."):
            self.window.model.remove_totp_seed()
            self.window.rebuild_form()

    def _secret_changed(self, value: str) -> None:
        self.form.set_secret(value)
        self.window.refresh()

    def _replace(self) -> None:
        self.form.replacing_secret = True
        self.window.rebuild_form()
        if self.window.form_view is not None and isinstance(self.window.form_view, ProfileView):
            entry = self.window.form_view.secret_entry
            if entry is not None:
                entry.focus_set()

    def _remove_secret(self) -> None:
        name = self.form.existing.name if self.form.existing else ""
        question = (
            f"Delete the secret key of {name} from the {self.window.model.secret_place()}? "
            "Its roles cannot be signed in to until a new one is stored."
        )
        if self.window.confirm(question) and self.window.model.remove_secret():
            self.window.rebuild_form()
        self.window.refresh()

    def show(self) -> None:
        """Bring the widgets in line with the model (messages, Check, Save)."""
        form, model = self.form, self.window.model
        for name, row in self.rows.items():
            row.show(form.values[name], form.message(name))
        message = form.message("secret")
        self.secret_message.configure(
            text=message
            or ("16-128 characters, shown only while typed" if self.secret_entry else ""),
            style="Error.TLabel" if message else "Muted.TLabel",
        )
        problem = form.totp_error()
        self.totp_message.configure(
            text=problem or TOTP_HINT, style="Error.TLabel" if problem else "Muted.TLabel"
        )
        self.check_button.state(["disabled"] if model.checking else ["!disabled"])
        self.check_label.configure(text=model.check_text())
        self.save_button.state(["!disabled"] if model.can_save else ["disabled"])
