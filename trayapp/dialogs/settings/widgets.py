"""Small Tk pieces the settings pages share: a labelled field with its message, mnemonics."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

MASK = "\u2022"
FIELD_WIDTH = 34
MESSAGE_WIDTH = "285p"  # points (scale with Tk scaling): a message wraps under its field


def mnemonic(text: str) -> tuple[str, int]:
    """``"Access _key id"`` → (``"Access key id"``, 7): the label and its underlined letter."""
    index = text.find("_")
    return (text.replace("_", "", 1), index) if index >= 0 else (text, -1)


class Mnemonics:
    """Alt+letter shortcuts of the page on show; the window dispatches Alt keys here."""

    def __init__(self) -> None:
        self.table: dict[str, Callable[[], None]] = {}

    def add(self, text: str, action: Callable[[], None]) -> tuple[str, int]:
        label, index = mnemonic(text)
        if index >= 0:
            self.table[label[index].lower()] = action
        return label, index

    def fire(self, letter: str) -> bool:
        action = self.table.get(letter.lower())
        if action is None:
            return False
        action()
        return True


class FieldRow:
    """Label, entry and the field's message (red) on one grid row of ``parent``."""

    def __init__(
        self,
        parent: ttk.Frame,
        row: int,
        text: str,
        keys: Mnemonics,
        on_change: Callable[[str], None],
        *,
        value: str = "",
        hint: str = "",
        secret: bool = False,
    ) -> None:
        self.var = tk.StringVar(parent, value=value)
        self.entry = ttk.Entry(
            parent, textvariable=self.var, width=FIELD_WIDTH, show=MASK if secret else ""
        )
        label, index = keys.add(text, self.focus)
        # Each field takes two grid rows: label and entry, then its message under the entry.
        ttk.Label(parent, text=label + ":", underline=index).grid(
            row=2 * row, column=0, sticky="w", padx=(0, 8), pady=(6, 0)
        )
        self.entry.grid(row=2 * row, column=1, sticky="ew", pady=(6, 0))
        self.message = ttk.Label(parent, text=hint, style="Muted.TLabel", wraplength=MESSAGE_WIDTH)
        self.message.grid(row=2 * row + 1, column=1, columnspan=2, sticky="w")
        self.hint = hint
        self._quiet = False
        self.var.trace_add("write", lambda *_: None if self._quiet else on_change(self.var.get()))

    def focus(self) -> None:
        self.entry.focus_set()
        self.entry.select_range(0, "end")

    def show(self, value: str, message: str) -> None:
        """Show the model's value (when it changed it, e.g. Check) and the field's message."""
        if self.var.get() != value:
            self._quiet = True
            self.var.set(value)
            self._quiet = False
        self.message.configure(
            text=message or self.hint, style="Error.TLabel" if message else "Muted.TLabel"
        )


def button(
    parent: tk.Misc, text: str, keys: Mnemonics, command: Callable[[], None], **options: object
) -> ttk.Button:
    label, index = keys.add(text, command)
    return ttk.Button(parent, text=label, underline=index, command=command, **options)  # type: ignore[arg-type]


def cancel_save_row(
    frame: ttk.Frame,
    row: int,
    keys: Mnemonics,
    cancel: Callable[[], None],
    save: Callable[[], None],
) -> ttk.Button:
    """A form's Cancel and Save (the default) at the right of ``row``; the Save button."""
    buttons = ttk.Frame(frame)
    buttons.grid(row=row, column=0, columnspan=3, sticky="e", pady=(14, 0))
    button(buttons, "Cance_l", keys, cancel).grid(row=0, column=0, padx=(0, 8))
    save_button = button(buttons, "_Save", keys, save, default="active")
    save_button.grid(row=0, column=1)
    return save_button


def check_button(
    parent: tk.Misc, text: str, keys: Mnemonics, var: tk.BooleanVar, command: Callable[[], None]
) -> ttk.Checkbutton:
    def toggle() -> None:
        var.set(not var.get())
        command()

    label, index = keys.add(text, toggle)
    return ttk.Checkbutton(parent, text=label, underline=index, variable=var, command=command)
