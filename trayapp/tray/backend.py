"""Picks the pystray backend: on Linux only gtk or appindicator, which have menus."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, MutableMapping
from typing import Any

from trayapp.core.errors import AacliError

LINUX_BACKENDS = ("appindicator", "gtk")  # preferred first; pystray's xorg has no menu at all

INSTALL_HINT = (
    "the tray needs PyGObject for its menu (pystray's xorg backend has none). "
    "On Debian/Ubuntu: sudo apt-get install libgirepository1.0-dev libcairo2-dev pkg-config "
    "gir1.2-gtk-3.0 gir1.2-ayatanaappindicator3-0.1 && pip install 'PyGObject<3.51'"
)
NO_DISPLAY = (
    "the tray needs a graphical desktop: neither DISPLAY nor WAYLAND_DISPLAY is set. "
    "Start it from your desktop session (or its autostart)."
)


class TrayUnavailable(AacliError):
    """The tray cannot run here; the message says what is missing."""

    exit_code = 2


def _gtk_importable() -> bool:
    # Pillow's FreeType module must load before GTK does: loaded after, it binds to the
    # system's older libfreetype and renders no text (the icon's session count was blank).
    from PIL import ImageFont  # noqa: F401

    try:
        import gi  # type: ignore[import-untyped]

        gi.require_version("Gtk", "3.0")
        from gi.repository import Gtk  # type: ignore[import-untyped]  # noqa: F401
    except (ImportError, ValueError):
        return False
    return True


def _appindicator_importable() -> bool:
    if not _gtk_importable():
        return False
    import gi

    for name in ("AyatanaAppIndicator3", "AppIndicator3"):
        try:
            gi.require_version(name, "0.1")
            return True
        except ValueError:
            continue
    return False


def status_notifier_watcher(timeout_ms: int = 1000) -> bool:
    """Whether the session bus has a StatusNotifierWatcher (the panel side of appindicator);
    a bounded call: an unreachable bus is a no."""
    try:
        from gi.repository import Gio, GLib

        bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
        answer = bus.call_sync(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "NameHasOwner",
            GLib.Variant("(s)", ("org.kde.StatusNotifierWatcher",)),
            None,
            Gio.DBusCallFlags.NONE,
            timeout_ms,
            None,
        )
    except Exception:  # no PyGObject, no bus: no watcher
        return False
    return bool(answer.unpack()[0])


CHECKS: dict[str, Callable[[], bool]] = {
    "appindicator": _appindicator_importable,
    "gtk": _gtk_importable,
}


def choose_backend(
    env: MutableMapping[str, str] | None = None, platform: str = sys.platform
) -> str | None:
    """Set ``PYSTRAY_BACKEND`` (before pystray is imported) and return it; None: pystray's own.

    ``AACLI_TRAY_BACKEND`` forces ``gtk`` or ``appindicator`` (tests use it).
    """
    env = os.environ if env is None else env
    if not platform.startswith("linux"):
        return None  # macOS and Windows backends have menus
    if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        raise TrayUnavailable(NO_DISPLAY)
    forced = env.get("AACLI_TRAY_BACKEND", "").strip().lower()
    if forced and forced not in CHECKS:
        raise TrayUnavailable(
            f"AACLI_TRAY_BACKEND={forced!r} is not a tray backend with a menu; "
            f"use one of {', '.join(LINUX_BACKENDS)}"
        )
    for name in (forced,) if forced else LINUX_BACKENDS:
        if not forced and name == "appindicator" and not status_notifier_watcher():
            # Nothing on the bus shows indicators (trayer, stalonetray, a bare Xvfb): the
            # library would fall back to a GtkStatusIcon of its own, printing a Gdk-CRITICAL
            # at every start. The gtk backend is that status icon, done cleanly.
            continue
        if CHECKS[name]():
            env["PYSTRAY_BACKEND"] = name
            return name
    raise TrayUnavailable(INSTALL_HINT)


# What pystray's backends leave out, added to the icon once it exists.


def left_click_opens_menu(icon: Any) -> None:
    """gtk: a left click ("activate") opens the menu too; pystray only runs a default item."""
    status_icon = getattr(icon, "_status_icon", None)
    if status_icon is None:
        return  # appindicator opens its menu on any click; macOS and Windows too

    def activated(widget: Any) -> None:
        icon._on_status_icon_popup_menu(widget, 1, 0)

    status_icon.connect("activate", activated)


def set_tooltip(icon: Any, text: str) -> None:
    """The hover text: gtk's StatusIcon tooltip (pystray sets only its title); appindicator
    shows the title, which pystray sets itself."""
    status_icon = getattr(icon, "_status_icon", None)
    if status_icon is None:
        return
    from gi.repository import GLib

    GLib.idle_add(lambda: status_icon.set_tooltip_text(text) and False)


def on_logout(quit_: Callable[[], None]) -> None:
    """SIGTERM (a logout, systemd, kill) quits like the Quit item, by the same rule.

    Under GLib's loop a Python signal handler would wait for the next Python bytecode, which
    an idle loop never runs; GLib's own handler runs in the loop.
    """
    import signal

    try:
        from gi.repository import GLib

        GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGTERM, lambda: quit_() or False)
    except (ImportError, AttributeError, ValueError):
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda _sig, _frame: quit_())
