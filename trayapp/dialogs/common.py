"""What every dialog window shares: a centred, on-top, focused root and its look."""

from __future__ import annotations

import os
import tkinter as tk
from collections.abc import Callable
from tkinter import font as tkfont
from tkinter import ttk

# Both at least 4.5:1 against the clam theme's #dcdad5 (WCAG AA for normal text): the red
# 5.3:1, the grey 5.4:1 (they were 3.9:1 and 3.5:1).
ERROR_COLOUR = "#a3261b"
MUTED_COLOUR = "#4b5563"
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
    left, top, area_width, area_height = pointer_monitor(root)
    x = left + max(0, (area_width - width) // 2)
    y = top + max(0, (area_height - height) // 3)
    root.geometry(f"+{x}+{y}")
    root.attributes("-topmost", True)

    def grab_focus(_event: object = None) -> None:
        if not root.winfo_exists():
            return
        root.lift()
        if root.focus_get() is not None:
            return  # the dialog has the keyboard: keep the field the user has moved to
        root.focus_force()
        focus.focus_set()

    root.bind("<Map>", grab_focus, add=True)
    root.deiconify()
    root.after(150, grab_focus)


def pointer_monitor(root: tk.Tk) -> tuple[int, int, int, int]:
    """x, y, width, height of the monitor the pointer is on; Tk knows only the whole X screen,
    which on two monitors puts a centred window across the seam. GDK knows the monitors; where
    it cannot be loaded the whole screen is used."""
    screen = (0, 0, root.winfo_screenwidth(), root.winfo_screenheight())
    try:
        import gi  # type: ignore[import-untyped]

        gi.require_version("Gdk", "3.0")
        from gi.repository import Gdk  # type: ignore[import-untyped]

        display = Gdk.Display.open(root.winfo_screen())
        if display is None:
            return screen
        try:
            area = display.get_monitor_at_point(*root.winfo_pointerxy()).get_geometry()
        finally:
            display.close()
    except (ImportError, ValueError, AttributeError, TypeError):
        return screen
    return area.x, area.y, area.width, area.height


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
