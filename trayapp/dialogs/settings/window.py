"""The settings window: the pages in a notebook, the status line, and the window's plumbing
(Check off the Tk loop, confirmations, the raise request, the debug snapshot for tests)."""

from __future__ import annotations

import json
import os
import queue
import threading
import tkinter as tk
from collections.abc import Callable
from pathlib import Path
from tkinter import messagebox, ttk
from typing import Any

from trayapp.dialogs.common import PAD, make_root, present
from trayapp.dialogs.settings.appsettings import AppSettingsView
from trayapp.dialogs.settings.forms import HubForm, ProfileForm
from trayapp.dialogs.settings.model import SettingsModel
from trayapp.dialogs.settings.profile import ProfileView
from trayapp.dialogs.settings.sso import HubView
from trayapp.dialogs.settings.tree import SimpleFormView, TreeView
from trayapp.dialogs.settings.welcome import WelcomeView

TITLE = "aacli \u2014 Settings"
POLL_MS = 250
STATE_EVERY = 20  # polls: a hub page re-reads its sign-in (an expiry, a CLI `aacli login`)
DEBUG_ENV = "AACLI_SETTINGS_DEBUG"  # a file the window writes its state to (tests)
SCALING_ENV = "AACLI_TK_SCALING"  # Tk's pixels per point, e.g. 2.66 for 200 %


class SettingsWindow:
    def __init__(
        self,
        root: tk.Tk,
        model: SettingsModel,
        *,
        raise_file: Path | None = None,
        debug_file: Path | None = None,
    ) -> None:
        self.root, self.model = root, model
        self.raise_file, self.debug_file = raise_file, debug_file
        self.results: queue.Queue[Callable[[], None]] = queue.Queue()  # run on the Tk loop
        self.form_view: ProfileView | HubView | SimpleFormView | None = None
        self._polls = 0

        outer = ttk.Frame(root, padding=PAD)
        outer.grid(sticky="nsew")
        root.columnconfigure(0, weight=1)
        root.rowconfigure(0, weight=1)
        outer.columnconfigure(0, weight=1)
        outer.rowconfigure(0, weight=1)
        self.notebook = ttk.Notebook(outer)
        self.notebook.grid(row=0, column=0, sticky="nsew")
        self.notebook.enable_traversal()  # Ctrl+Tab between the pages

        self.welcome_page = ttk.Frame(self.notebook, padding=8)
        self.welcome = WelcomeView(self.welcome_page, self)
        self.profiles_page = ttk.Frame(self.notebook, padding=8)
        self.profiles_page.columnconfigure(1, weight=1)
        self.tree = TreeView(self.profiles_page, self)
        self.editor = ttk.Frame(self.profiles_page)
        self.editor.grid(row=0, column=1, sticky="nsew")
        self.app_page = ttk.Frame(self.notebook, padding=8)
        self.app_view = AppSettingsView(self.app_page, self)
        if model.first_run:
            self.notebook.add(self.welcome_page, text="Welcome", underline=0)
        self.notebook.add(self.profiles_page, text="Profiles and roles", underline=0)
        self.notebook.add(self.app_page, text="App settings", underline=4)
        self.notebook.bind("<<NotebookTabChanged>>", lambda _e: self.refresh())

        self.status = ttk.Label(outer, text="", wraplength="615p")
        self.status.grid(row=1, column=0, sticky="w", pady=(10, 0))
        self.problem = ttk.Label(outer, text="", style="Error.TLabel", wraplength="615p")
        self.problem.grid(row=2, column=0, sticky="w")

        root.bind("<Alt-KeyPress>", self._alt)
        root.bind("<Return>", self._enter)
        root.bind("<KP_Enter>", self._enter)
        root.bind("<Escape>", lambda _e: self.close())
        root.protocol("WM_DELETE_WINDOW", self.close)
        self.rebuild_form()
        root.after(POLL_MS, self._poll)

    # Pages and forms

    def show_page(self, page: ttk.Frame) -> None:
        self.notebook.select(page)

    def new_profile(self) -> None:
        self.model.new_profile()
        self.show_page(self.profiles_page)
        self.rebuild_form()

    def new_hub(self) -> None:
        self.model.new_hub()
        self.show_page(self.profiles_page)
        self.rebuild_form()

    def select(self, path: tuple[str, ...]) -> None:
        if any(node.path == path for node in self.model.tree()):
            self.model.edit(path)
            self.show_page(self.profiles_page)
            self.rebuild_form()

    def rebuild_form(self) -> None:
        """Show the model's form (a new one, or none) and focus its first field."""
        for child in self.editor.winfo_children():
            child.destroy()
        form = self.model.form
        if form is None:
            self.form_view = None
            ttk.Label(
                self.editor,
                text="Select a profile, account or role to edit it, or add one.",
                style="Muted.TLabel",
            ).grid(sticky="w")
        elif isinstance(form, ProfileForm):
            self.form_view = ProfileView(self.editor, self, form)
        elif isinstance(form, HubForm):
            self.form_view = HubView(self.editor, self, form)
        else:
            self.form_view = SimpleFormView(self.editor, self, form)  # type: ignore[arg-type]
        self.tree.fill(self.model.editing)
        self._keep_on_screen()
        if self.form_view is not None:
            # After the notebook's own tab change, which would take the focus back.
            first = self.form_view.first
            self.root.after(30, lambda: first.focus_set() if first.winfo_exists() else None)
        self.refresh()

    def _keep_on_screen(self) -> None:
        """A form wider or taller than the last one must not push the window off the screen."""
        root = self.root
        root.update_idletasks()
        width, height = root.winfo_reqwidth(), root.winfo_reqheight()
        x, y = root.winfo_x(), root.winfo_y()
        new_x = max(0, min(x, root.winfo_screenwidth() - width))
        new_y = max(0, min(y, root.winfo_screenheight() - height))
        if (new_x, new_y) != (x, y) and root.winfo_viewable():
            root.geometry(f"+{new_x}+{new_y}")

    def cancel_form(self) -> None:
        self.model.form, self.model.editing = None, None
        self.rebuild_form()

    def save(self) -> None:
        if self.model.save():
            self.rebuild_form()
        else:
            self.refresh()

    def refresh(self) -> None:
        if self.form_view is not None:
            self.form_view.show()
        self.app_view.show()
        self.status.configure(text=self.model.status)
        self.problem.configure(text=self.model.problem)
        self._write_debug()

    # Check: off the Tk loop, a thread hands its result back through a queue

    def start_check(self) -> None:
        request = self.model.check_request()
        if request is None or self.model.checking:
            self.refresh()
            return
        self.model.checking = True
        self.refresh()
        self._off_loop("aacli-check", lambda: self.model.run_check(request), self.model.checked)

    def _off_loop(self, name: str, work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        """``work()`` on a thread; ``done(its result)`` back on the Tk loop (the poll)."""

        def run() -> None:
            result = work()
            self.results.put(lambda: done(result))

        threading.Thread(target=run, name=name, daemon=True).start()

    def start_hub(self, action: str) -> None:
        """Sign in / Refresh accounts / Sign out of the hub on show, off the Tk loop."""
        from trayapp.dialogs.settings.sso_model import REFRESH, SIGN_IN

        hubs = self.model.hubs
        name = hubs.begin(action)
        if name is None:
            self.refresh()
            return
        work: Callable[[], Any]
        if action == SIGN_IN:
            work = lambda: hubs.run_sign_in(  # noqa: E731
                name,
                open_browser=self._open_browser,
                show_device_code=lambda code: self.results.put(lambda: self._show_code(code)),
                cancelled=hubs.cancelled,
            )
        elif action == REFRESH:
            work = lambda: hubs.run_refresh(name)  # noqa: E731
        else:
            work = lambda: hubs.run_sign_out(name)  # noqa: E731
        self.refresh()
        self._off_loop(f"aacli-{action}", work, hubs.done)

    def _show_code(self, code: Any) -> None:
        self.model.device_code = code

    def _open_browser(self, url: str) -> bool:
        """The sign-in page in the browser (through the private redirect page, never on a
        command line); False when none could be started: the device code is shown instead."""
        from trayapp.core.browser import IDENTITY_CENTER_TITLE, open_signin_page
        from trayapp.core.errors import ConsoleError

        try:
            open_signin_page(
                url, self.model.service.deps.app.state_dir, title=IDENTITY_CENTER_TITLE
            )
        except ConsoleError:
            return False
        return True

    def _poll(self) -> None:
        self._polls += 1
        ran = False
        while True:
            try:
                then = self.results.get_nowait()
            except queue.Empty:
                break
            then()
            ran = True
        if ran:
            if isinstance(self.model.form, HubForm) and self.form_view is not None:
                self.tree.fill(self.model.editing)  # a refresh may have added accounts
            self.refresh()
        elif self._polls % STATE_EVERY == 0 and isinstance(self.model.form, HubForm):
            self.refresh()  # the sign-in's state may have changed (it ended, a CLI login)
        self._raise_if_asked()
        self.root.after(POLL_MS, self._poll)

    def _raise_if_asked(self) -> None:
        if self.raise_file is None or not self.raise_file.exists():
            return
        try:
            profile = self.raise_file.read_text(encoding="utf-8").strip()
            self.raise_file.unlink()
        except OSError:
            return
        self.root.deiconify()
        self.root.lift()
        self.root.focus_force()
        if profile:
            self.select((profile,))

    # Dialogs and other buttons

    def confirm(self, question: str) -> bool:
        return bool(messagebox.askyesno("aacli", question, parent=self.root))

    def import_aws(self) -> None:
        plan = self.model.plan_import()
        if plan is None:
            self.refresh()
            return
        found = "\n".join(plan.added[:15]) + ("\n…" if len(plan.added) > 15 else "")
        notes = "\n".join(plan.notes[:8])
        if not plan.added:
            messagebox.showinfo("aacli", f"Nothing to import.\n{notes}", parent=self.root)
        elif self.confirm(
            f"Import these roles?\n\n{found}\n\n{notes}".strip()
        ) and self.model.apply_import(plan):
            self.show_page(self.profiles_page)
        self.rebuild_form()

    def open_config_file(self) -> None:
        """The advanced way out: the config file in the desktop's editor (as before)."""
        from trayapp.core.errors import AacliError
        from trayapp.tray.app import open_in_editor

        path = self.model.service.deps.app.config_file
        if not path.exists():
            self.model.problem = f"There is no config file yet ({path}); save a profile first."
        else:
            try:
                open_in_editor(path)  # through core/children, never waited for
            except AacliError as exc:
                self.model.problem = str(exc)
        self.refresh()

    def close(self) -> None:
        self.model.hubs.cancel()  # a sign-in waiting for the browser ends with the window
        form = self.model.form
        if (
            form is not None
            and form.changed
            and not self.confirm("Close the window without saving your changes?")
        ):
            return
        self.root.destroy()

    # Keys

    def _alt(self, event: tk.Event) -> str | None:  # type: ignore[type-arg]
        letter = (event.keysym or "").lower()
        if len(letter) != 1:
            return None
        page = self.notebook.select()
        focus = str(self.root.focus_get() or "")
        tables = []
        if page == str(self.profiles_page):
            frame = str(self.tree.tree.master)
            in_tree = focus == frame or focus.startswith(frame + ".")
            form_keys = self.form_view.keys if self.form_view is not None else None
            tables = [self.tree.keys, form_keys] if in_tree else [form_keys, self.tree.keys]
        elif page == str(self.app_page):
            tables = [self.app_view.keys]
        elif page == str(self.welcome_page):
            tables = [self.welcome.keys]
        for table in tables:
            if table is not None and table.fire(letter):
                return "break"
        for tab in self.notebook.tabs():  # then the pages' own letters (Alt+P: Profiles)
            text, index = self.notebook.tab(tab, "text"), self.notebook.tab(tab, "underline")
            if 0 <= index < len(text) and text[index].lower() == letter:
                self.notebook.select(tab)
                return "break"
        return None

    def _enter(self, _event: object) -> str:
        focus = self.root.focus_get()
        if isinstance(focus, (ttk.Button, ttk.Checkbutton, ttk.Radiobutton)):
            focus.invoke()
        elif self.notebook.select() == str(self.app_page):
            self.app_view.save()  # Enter in a field is its page's Save
        elif self.model.form is not None:
            self.save()
        return "break"

    def _write_debug(self) -> None:
        if self.debug_file is None:
            return
        data = self.model.snapshot()
        data["page"] = self.notebook.tab(self.notebook.select(), "text")
        temp = self.debug_file.with_name(self.debug_file.name + ".tmp")
        temp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        temp.replace(self.debug_file)


def _styles(root: tk.Tk) -> None:
    from tkinter import font as tkfont

    base = tkfont.nametofont("TkDefaultFont")
    style = ttk.Style(root)
    style.configure("Big.TLabel", font=(base.actual("family"), 14, "bold"))
    # Pixel sizes the theme does not scale with Tk's scaling: tree rows and check marks.
    style.configure("Treeview", rowheight=int(base.metrics("linespace") * 1.4))
    mark = int(root.winfo_fpixels("7.5p"))
    style.configure("TCheckbutton", indicatorsize=mark)
    style.configure("TRadiobutton", indicatorsize=mark)


def settings_passphrase(confirm: bool) -> str:
    """The vault passphrase, asked in the passphrase dialog (the window's env has none)."""
    from trayapp.core.errors import SecretStoreError
    from trayapp.dialogs.client import ask_passphrase

    answer = ask_passphrase("unlock the aacli vault", confirm=confirm)
    if answer is None:
        raise SecretStoreError("The vault stays locked: no passphrase was entered.")
    return answer


def run_window(profile: str | None = None, first_run: bool = False) -> int:
    """Show the window until it is closed; raise the open one instead if there is one."""
    from filelock import FileLock, Timeout

    from trayapp.core.paths import AppPaths
    from trayapp.core.service import Service, service_from_env
    from trayapp.dialogs.settings import launch

    app = AppPaths.from_env()
    lock = FileLock(launch.lock_file(app), mode=0o600)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        launch.request_raise(app, profile)
        return 0
    try:
        with_launch = launch.raise_file(app)
        with_launch.unlink(missing_ok=True)  # a request left from before is not for us
        from trayapp.tray import autostart

        def make_service() -> Service:
            return service_from_env(
                lambda paths: settings_passphrase(not paths.vault_file.exists())
            )

        model = SettingsModel(make_service(), make_service=make_service, autostart=autostart)
        root = make_root(TITLE)
        root.resizable(True, True)
        scaling = os.environ.get(SCALING_ENV)
        if scaling:
            root.tk.call("tk", "scaling", float(scaling))
        _styles(root)
        debug = os.environ.get(DEBUG_ENV)
        window = SettingsWindow(
            root, model, raise_file=with_launch, debug_file=Path(debug) if debug else None
        )
        if profile:  # once shown: opening it may ask for the vault's passphrase first
            root.after(300, lambda: window.select((profile,)))
        elif first_run or model.first_run:
            window.show_page(window.welcome_page)
        if model.first_run:
            focus: tk.Widget = window.welcome.first
        else:
            focus = window.form_view.first if window.form_view else window.tree.tree
        present(root, focus)
        # present() takes the focus back on every <Map> (for dialogs without a window
        # manager); here pages map widgets all the time, so that stops once it is shown.
        root.after(400, lambda: root.unbind("<Map>"))
        root.attributes("-topmost", False)  # a settings window need not stay above everything
        root.mainloop()
    finally:
        lock.release()
    return 0
