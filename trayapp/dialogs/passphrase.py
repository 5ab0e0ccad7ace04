"""The passphrase window: a masked entry, optionally typed twice to confirm."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from trayapp.core.secrets.passphrase import PASSPHRASE_RULE, problem_with_new
from trayapp.dialogs.common import PAD, bind_cancel, make_root, present

TITLE = "aacli — passphrase"
MASK = "•"
TEXT_WIDTH = 328
MISMATCH = "The two passphrases differ; type them again."


class PassphraseDialog:
    """The widgets and their rules; ``passphrase`` is set when the user submits."""

    def __init__(
        self, root: tk.Tk, purpose: str, confirm: bool = False, error: str | None = None
    ) -> None:
        self.root = root
        self.passphrase: str | None = None
        self.first = tk.StringVar(root)
        self.second = tk.StringVar(root)
        self.problem = tk.StringVar(root, value=error or "")

        frame = ttk.Frame(root, padding=PAD)
        frame.grid(sticky="nsew")
        frame.columnconfigure(1, minsize=TEXT_WIDTH - 90)
        ttk.Label(frame, text=purpose, style="Title.TLabel", wraplength=TEXT_WIDTH).grid(
            row=0, column=0, columnspan=2, sticky="w"
        )
        self.problem_label = ttk.Label(
            frame, textvariable=self.problem, style="Error.TLabel", wraplength=TEXT_WIDTH
        )
        self.problem_label.grid(row=1, column=0, columnspan=2, sticky="w", pady=(6, 0))
        if not error:
            self.problem_label.grid_remove()

        ttk.Label(frame, text="Passphrase:").grid(row=2, column=0, sticky="w", pady=(12, 0))
        self.first_entry = ttk.Entry(frame, textvariable=self.first, show=MASK)
        self.first_entry.grid(row=2, column=1, sticky="ew", padx=(8, 0), pady=(12, 0))
        self.second_entry: ttk.Entry | None = None
        self.rule_label: ttk.Label | None = None
        if confirm:  # a new passphrase: say the rule before it is typed
            ttk.Label(frame, text="Again:").grid(row=3, column=0, sticky="w", pady=(6, 0))
            self.second_entry = ttk.Entry(frame, textvariable=self.second, show=MASK)
            self.second_entry.grid(row=3, column=1, sticky="ew", padx=(8, 0), pady=(6, 0))
            self.rule_label = ttk.Label(
                frame, text=f"Use {PASSPHRASE_RULE}.", style="Muted.TLabel", wraplength=TEXT_WIDTH
            )
            self.rule_label.grid(row=5, column=0, columnspan=2, sticky="w", pady=(6, 0))

        buttons = ttk.Frame(frame)
        buttons.grid(row=6, column=0, columnspan=2, sticky="e", pady=(14, 0))
        ttk.Button(buttons, text="Cancel", command=self.cancel).grid(row=0, column=0, padx=(0, 8))
        self.ok_button = ttk.Button(
            buttons, text="OK", command=self.submit, state="disabled", default="active"
        )
        self.ok_button.grid(row=0, column=1)

        for variable in (self.first, self.second):
            variable.trace_add("write", lambda *_: self._update_ok())
        root.bind("<Return>", self._on_return)
        root.bind("<KP_Enter>", self._on_return)
        bind_cancel(root, self.cancel)

    def _filled(self) -> bool:
        # An empty passphrase would mean no encryption at all, so it is never accepted.
        return bool(self.first.get()) and (self.second_entry is None or bool(self.second.get()))

    def _update_ok(self) -> None:
        self.ok_button.state(["!disabled"] if self._filled() else ["disabled"])

    def _on_return(self, _event: object = None) -> None:
        if self.second_entry is not None and self.root.focus_get() is self.first_entry:
            self.second_entry.focus_set()
            return
        self.submit()

    def submit(self) -> None:
        if not self._filled():
            self.root.bell()
            return
        problem = None
        if self.second_entry is not None:
            problem = problem_with_new(self.first.get())
            if problem is None and self.first.get() != self.second.get():
                problem = MISMATCH
        if problem is not None:
            self.problem.set(problem)
            self.problem_label.grid()
            self.first.set("")
            self.second.set("")
            self.first_entry.focus_set()
            return
        self.passphrase = self.first.get()
        self.root.destroy()

    def cancel(self) -> None:
        self.passphrase = None
        self.root.destroy()


def ask(purpose: str, confirm: bool = False, error: str | None = None) -> str | None:
    """Show the window until the user answers; the passphrase, or None on cancel."""
    root = make_root(TITLE)
    dialog = PassphraseDialog(root, purpose, confirm=confirm, error=error)
    present(root, dialog.first_entry)
    root.mainloop()
    return dialog.passphrase
