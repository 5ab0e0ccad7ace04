"""The profiles → accounts → roles tree with its buttons, and the account and role forms."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import TYPE_CHECKING

from trayapp.dialogs.settings.forms import AccountForm, HubRoleForm, RoleForm
from trayapp.dialogs.settings.widgets import (
    MESSAGE_WIDTH,
    FieldRow,
    Mnemonics,
    button,
    cancel_save_row,
    check_button,
)

if TYPE_CHECKING:
    from trayapp.dialogs.settings.model import Path
    from trayapp.dialogs.settings.window import SettingsWindow

ACCOUNT_FIELDS = (
    ("name", "_Name", "a short name, e.g. dev"),
    ("account_id", "_Account id", "12 digits"),
    ("region", "_Region", "its default region, e.g. eu-west-1"),
)
ROLE_FIELDS = (
    ("name", "Role _name", "the IAM role's name"),
    ("duration", "_Duration", "15m to 12h (or the role's maximum), e.g. 2h"),
    ("aws_profile", "A_WS profile", "optional; default ACCOUNT-ROLE"),
)
HUB_ROLE_FIELDS = (  # an Identity Center hub's role: no duration (not this role's to choose)
    ("name", "Role _name", "a permission set, or a role of the account chained from one"),
    ("via", "C_hained from", "optional: the permission set whose credentials assume it"),
    ROLE_FIELDS[2],
)


class TreeView:
    """The tree on the left of the Profiles page; selecting a line opens its form."""

    def __init__(self, parent: ttk.Frame, window: SettingsWindow) -> None:
        self.window = window
        self.keys = Mnemonics()
        frame = ttk.Frame(parent)
        frame.grid(row=0, column=0, sticky="nsew", padx=(0, 16))
        frame.rowconfigure(0, weight=1)
        self.tree = ttk.Treeview(frame, show="tree", selectmode="browse", height=14)
        self.tree.column("#0", width=int(self.tree.winfo_fpixels("200p")))
        self.tree.grid(row=0, column=0, columnspan=4, sticky="nsew")
        self.tree.bind("<<TreeviewSelect>>", self._selected)
        self.tree.bind("<Delete>", lambda _e: self.remove())
        self.tree.bind("<Alt-Up>", lambda _e: self.move(-1))
        self.tree.bind("<Alt-Down>", lambda _e: self.move(1))
        actions = (
            ("Add IAM user _hub", window.new_profile),
            ("Add I_dentity Center hub", window.new_hub),
            ("Add a_ccount", self.add_account),
            ("Add _role", self.add_role),
            ("Remo_ve\u2026", self.remove),
            ("\u2191 _Up", lambda: self.move(-1)),
            ("\u2193 Do_wn", lambda: self.move(1)),
            ("_Import from ~/.aws/config\u2026", window.import_aws),
        )
        for index, (text, command) in enumerate(actions):
            widget = button(frame, text, self.keys, command)
            widget.grid(row=1 + index // 3, column=index % 3, sticky="ew", pady=(6, 0), padx=(0, 4))
        self._filling = False

    def selected(self) -> Path | None:
        chosen = self.tree.selection()
        return tuple(chosen[0].split("/")) if chosen else None

    def fill(self, select: Path | None) -> None:
        """Rebuild the lines from the model, keeping (or moving) the selection."""
        self._filling = True
        self.tree.delete(*self.tree.get_children())
        for node in self.window.model.tree():
            parent = "/".join(node.path[:-1])
            self.tree.insert(parent, "end", iid="/".join(node.path), text=node.label, open=True)
        if select and self.tree.exists("/".join(select)):
            self.tree.selection_set("/".join(select))
            self.tree.see("/".join(select))
        self._filling = False

    def _selected(self, _event: object = None) -> None:
        path = self.selected()
        if not self._filling and path is not None and path != self.window.model.editing:
            self.window.model.edit(path)
            self.window.rebuild_form()

    def add_account(self) -> None:
        path = self.selected() or self.window.model.editing
        profiles = self.window.model.config.profiles
        profile = path[0] if path else (profiles[0].name if profiles else None)
        if profile is None:
            self.window.new_profile()
            return
        self.window.model.new_account(profile)
        self.window.rebuild_form()

    def add_role(self) -> None:
        path = self.selected() or self.window.model.editing
        if not path or len(path) < 2:
            self.window.model.problem = "Select the account the role belongs to first."
            self.window.refresh()
            return
        self.window.model.new_role(path[0], path[1])
        self.window.rebuild_form()

    def remove(self) -> None:
        path = self.selected()
        if path is None:
            return
        if self.window.confirm(self.window.model.removal_question(path)):
            self.window.model.remove(path)
            self.window.rebuild_form()

    def move(self, delta: int) -> None:
        path = self.selected()
        if path is not None and self.window.model.move(path, delta):
            self.fill(path)
        self.window.refresh()


class SimpleFormView:
    """An account or role form: fields with their messages, then Cancel / Save."""

    def __init__(
        self, parent: ttk.Frame, window: SettingsWindow, form: AccountForm | RoleForm
    ) -> None:  # RoleForm: a HubRoleForm too (an Identity Center hub's role)
        self.window, self.form = window, form
        self.keys = Mnemonics()
        frame = ttk.Frame(parent)
        frame.grid(sticky="nsew")
        frame.columnconfigure(1, weight=1)
        editing = window.model.editing
        fields: tuple[tuple[str, str, str], ...]
        if isinstance(form, AccountForm):
            fields = ACCOUNT_FIELDS
            title = f"New account in {form.profile}" if editing is None else "Account"
        elif isinstance(form, HubRoleForm):
            fields = HUB_ROLE_FIELDS if editing is None else HUB_ROLE_FIELDS[::2]  # via stays
            title = f"New role in {form.profile}/{form.account}" if editing is None else "Role"
        else:
            fields = ROLE_FIELDS
            title = f"New role in {form.profile}/{form.account}" if editing is None else "Role"
        if editing is not None:
            title += " " + "/".join(editing)
        ttk.Label(frame, text=title, style="Title.TLabel").grid(row=0, columnspan=3, sticky="w")
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
        self.chain: ttk.Label | None = None
        if isinstance(form, HubRoleForm):
            self.chain = ttk.Label(frame, text="", style="Muted.TLabel", wraplength=MESSAGE_WIDTH)
            self.chain.grid(row=19, column=1, columnspan=2, sticky="w", pady=(8, 0))
        if isinstance(form, RoleForm):
            fresh = tk.BooleanVar(frame, value=form.keep_fresh)

            def toggled() -> None:
                form.keep_fresh = fresh.get()
                window.refresh()

            check_button(
                frame, "Keep _fresh (renew before expiry when no code is needed)", self.keys,
                fresh, toggled,
            ).grid(row=20, column=1, columnspan=2, sticky="w", pady=(8, 0))  # fmt: skip
        self.save_button = cancel_save_row(frame, 21, self.keys, window.cancel_form, window.save)
        self.first = self.rows["name"].entry

    def _changed(self, name: str, value: str) -> None:
        self.form.set(name, value)
        self.window.refresh()

    def show(self) -> None:
        for name, row in self.rows.items():
            row.show(self.form.values[name], self.form.message(name))
        if self.chain is not None and isinstance(self.form, HubRoleForm):
            self.chain.configure(text=self.form.chain_note())
        self.save_button.state(["!disabled"] if self.window.model.can_save else ["disabled"])
