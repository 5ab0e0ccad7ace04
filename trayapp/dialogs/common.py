"""What every dialog window shares: a centred, on-top, focused root and its look."""

from __future__ import annotations

import os
import tkinter as tk
from collections.abc import Callable
from tkinter import font as tkfont
from tkinter import ttk

ERROR_COLOUR = "#c0392b"
MUTED_COLOUR = "#6b7280"
PAD = 16
PARENT_CHECK_MS = 300


def make_root(title: str) -> tk.Tk:
    """A hidden root window with the app's theme; ``present`` shows it."""
    root = tk.Tk(className="aacli")
    root.withdraw()
    root.title(title)
    root.resizable(False, False)
    style = ttk.Style(root)
    # X11's default Tk theme looks dated; macOS and Windows keep their native one.
    if root.tk.call("tk", "windowingsystem") == "x11" and "clam" in style.theme_names():
        style.theme_use("clam")
    base = tkfont.nametofont("TkDefaultFont")
    base.configure(size=10)
    background = style.lookup("TFrame", "background") or "#dcdad5"
    root.configure(background=background)
    style.configure("Error.TLabel", foreground=ERROR_COLOUR)
    style.configure("Muted.TLabel", foreground=MUTED_COLOUR, font=(base.actual("family"), 9))
    style.configure("Title.TLabel", font=(base.actual("family"), 11, "bold"))
    return root


def present(root: tk.Tk, focus: tk.Widget) -> None:
    """Centre the window, keep it on top, and give ``focus`` the keyboard.

    Without a window manager (a bare Xvfb, some kiosk sessions) nobody hands
    focus to a new window, so the dialog takes it itself once it is mapped,
    and again a moment later in case a window manager took it back.
    """
    root.update_idletasks()
    width, height = root.winfo_reqwidth(), root.winfo_reqheight()
    x = max(0, (root.winfo_screenwidth() - width) // 2)
    y = max(0, (root.winfo_screenheight() - height) // 3)
    root.geometry(f"+{x}+{y}")
    root.attributes("-topmost", True)

    def grab_focus(_event: object = None) -> None:
        if not root.winfo_exists():
            return
        root.lift()
        root.focus_force()
        focus.focus_set()

    root.bind("<Map>", grab_focus, add=True)
    root.deiconify()
    root.after(150, grab_focus)


def bind_cancel(root: tk.Tk, cancel: Callable[[], None]) -> None:
    """Esc, the window's close button and the end of the process that asked all cancel."""
    root.bind("<Escape>", lambda _event: cancel())
    root.protocol("WM_DELETE_WINDOW", cancel)
    _cancel_when_orphaned(root, cancel, os.getppid())


def _cancel_when_orphaned(root: tk.Tk, cancel: Callable[[], None], parent: int) -> None:
    """A dialog never outlives the tray (or CLI) that asked: once the parent is gone (the
    tray quit, a logout), nobody would read the answer."""

    def check() -> None:
        if os.getppid() != parent:
            cancel()
        elif root.winfo_exists():
            root.after(PARENT_CHECK_MS, check)

    root.after(PARENT_CHECK_MS, check)
