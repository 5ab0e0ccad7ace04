"""The MFA code window: six digits, Enter submits, Esc cancels, paste works."""

from __future__ import annotations

import re
import tkinter as tk
from tkinter import ttk

from trayapp.dialogs.common import PAD, bind_cancel, make_root, present

TITLE = "aacli — MFA code"
CODE_LENGTH = 6
_PARTIAL_CODE = re.compile(r"[0-9]{0,6}")
_PASTE_NOISE = re.compile(r"[\s-]+")
TEXT_WIDTH = 328  # pixels; keeps the window near 360 wide however long the device ARN is


def digits_from_paste(text: str) -> str | None:
    """The digits of a pasted code ("123 456", " 123456\\n", "123-456"), or None if it is not one."""
    cleaned = _PASTE_NOISE.sub("", text)
    return cleaned if _PARTIAL_CODE.fullmatch(cleaned) else None


class MfaDialog:
    """The widgets and their rules; ``code`` is set when the user submits."""

    def __init__(
        self,
        root: tk.Tk,
        target: str,
        device: str,
        error: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.root = root
        self.code: str | None = None
        self.value = tk.StringVar(root)

        frame = ttk.Frame(root, padding=PAD)
        frame.grid(sticky="nsew")
        frame.columnconfigure(0, minsize=TEXT_WIDTH)
        row = iter(range(100))

        ttk.Label(frame, text=f"MFA code for {target}", style="Title.TLabel").grid(
            row=next(row), sticky="w"
        )
        self.device_label = ttk.Label(
            frame, text=f"Device: {device}", style="Muted.TLabel", wraplength=TEXT_WIDTH
        )
        self.device_label.grid(row=next(row), sticky="w", pady=(2, 0))
        self.error_label: ttk.Label | None = None
        if error:
            self.error_label = ttk.Label(
                frame, text=error, style="Error.TLabel", wraplength=TEXT_WIDTH
            )
            self.error_label.grid(row=next(row), sticky="w", pady=(8, 0))

        self.entry = ttk.Entry(
            frame,
            textvariable=self.value,
            width=8,
            justify="center",
            font=("DejaVu Sans Mono", 18),
            validate="key",
            validatecommand=(root.register(self._allowed), "%P"),
        )
        self.entry.grid(row=next(row), pady=(12, 0))
        self.entry.bind("<<Paste>>", self._paste)

        self.hint_label: ttk.Label | None = None
        if hint:
            self.hint_label = ttk.Label(frame, text=f"Demo code: {hint}", style="Muted.TLabel")
            self.hint_label.grid(row=next(row), pady=(4, 0))

        buttons = ttk.Frame(frame)
        buttons.grid(row=next(row), sticky="e", pady=(14, 0))
        ttk.Button(buttons, text="Cancel", command=self.cancel).grid(row=0, column=0, padx=(0, 8))
        self.ok_button = ttk.Button(
            buttons, text="OK", command=self.submit, state="disabled", default="active"
        )
        self.ok_button.grid(row=0, column=1)

        self.value.trace_add("write", lambda *_: self._update_ok())
        root.bind("<Return>", lambda _event: self.submit())
        root.bind("<KP_Enter>", lambda _event: self.submit())
        bind_cancel(root, self.cancel)

    def _allowed(self, proposed: str) -> bool:
        return _PARTIAL_CODE.fullmatch(proposed) is not None

    def _update_ok(self) -> None:
        complete = len(self.value.get()) == CODE_LENGTH
        self.ok_button.state(["!disabled"] if complete else ["disabled"])

    def _paste(self, _event: object = None) -> str:
        try:
            pasted = digits_from_paste(self.root.clipboard_get())
        except tk.TclError:  # an empty or non-text clipboard
            pasted = None
        current = self.value.get()
        if self.entry.selection_present():
            start, end = self.entry.index("sel.first"), self.entry.index("sel.last")
        else:
            start = end = self.entry.index("insert")
        if pasted is not None and self._allowed(current[:start] + pasted + current[end:]):
            self.value.set(current[:start] + pasted + current[end:])
            self.entry.icursor(start + len(pasted))
            self.entry.selection_clear()
        else:
            self.root.bell()
        return "break"  # the default binding would paste the raw text

    def submit(self) -> None:
        code = self.value.get()
        if len(code) != CODE_LENGTH:
            self.root.bell()
            return
        self.code = code
        self.root.destroy()

    def cancel(self) -> None:
        self.code = None
        self.root.destroy()


def ask(target: str, device: str, error: str | None = None, hint: str | None = None) -> str | None:
    """Show the window until the user answers; the code, or None on cancel."""
    root = make_root(TITLE)
    dialog = MfaDialog(root, target, device, error=error, hint=hint)
    present(root, dialog.entry)
    root.mainloop()
    return dialog.code
