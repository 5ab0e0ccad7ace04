"""Desktop notifications from the tray, and the sentences they say (never a secret)."""

from __future__ import annotations

import logging
import sys
import threading
from datetime import datetime
from typing import Any, Protocol

from trayapp.core.model import Session

log = logging.getLogger(__name__)
TITLE = "aacli"
ERROR_TITLE = "aacli: error"
_BUS_NAME = "org.freedesktop.Notifications"
_BUS_PATH = "/org/freedesktop/Notifications"
_CRITICAL = 2  # the "urgency" hint: the daemon keeps it until the user closes it


class Notifier(Protocol):
    def __call__(self, message: str, title: str = TITLE, *, important: bool = False) -> None: ...


class DbusNotifications:
    """org.freedesktop.Notifications over Gio, each notification with an id of its own.

    pystray's notifier replaces its previous notification with each new one, so a second
    message in the same second hid the first ("expired; credentials removed" under an error),
    and it closes the last one when the tray exits (the sign-out notices of Quit vanished).
    """

    def __init__(self) -> None:
        from gi.repository import Gio  # type: ignore[import-untyped]

        self._proxy = Gio.DBusProxy.new_for_bus_sync(
            Gio.BusType.SESSION,
            Gio.DBusProxyFlags.DO_NOT_LOAD_PROPERTIES | Gio.DBusProxyFlags.DO_NOT_CONNECT_SIGNALS,
            None,
            _BUS_NAME,
            _BUS_PATH,
            _BUS_NAME,
            None,
        )

    def notify(self, title: str, message: str, *, important: bool) -> int:
        from gi.repository import Gio, GLib

        hints = {"urgency": GLib.Variant("y", _CRITICAL if important else 1)}
        answer = self._proxy.call_sync(
            "Notify",
            # replaces_id 0: never replace an earlier notification; timeout -1: the daemon's.
            GLib.Variant("(susssasa{sv}i)", ("aacli", 0, "", title, message, [], hints, -1)),
            Gio.DBusCallFlags.NONE,
            5000,
            None,
        )
        return int(answer.unpack()[0])

    def close(self, notification_id: int) -> None:
        from gi.repository import Gio, GLib

        self._proxy.call_sync(
            "CloseNotification",
            GLib.Variant("(u)", (notification_id,)),
            Gio.DBusCallFlags.NONE,
            5000,
            None,
        )


def _dbus_notifications() -> DbusNotifications | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return DbusNotifications()
    except Exception as exc:  # no PyGObject, no session bus: pystray's own way, if any
        log.debug("no D-Bus notifications: %s", type(exc).__name__)
        return None


class IconNotifier:
    """Notifies through D-Bus on Linux (each notification its own), else through the icon.

    Neither sends notification actions, so a warning names the menu entry to use instead
    of offering a button. ``important`` ones (expiry, removal, errors) are marked critical,
    which notification daemons keep on screen until they are seen.
    """

    def __init__(self, icon: Any | None = None) -> None:
        self.icon = icon
        self.sent: list[tuple[str, str]] = []  # kept for the debug file and tests
        self._dbus: DbusNotifications | None = None
        self._dbus_tried = False
        self._last_id = 0
        self._lock = threading.Lock()

    def __call__(self, message: str, title: str = TITLE, *, important: bool = False) -> None:
        self.sent.append((title, message))
        log.info("notification: %s: %s", title, message)
        if self.icon is None or not getattr(self.icon, "HAS_NOTIFICATION", False):
            print(f"{title}: {message}", file=sys.stderr)
            return
        important = important or title == ERROR_TITLE
        try:
            dbus = self._bus()
            if dbus is None:
                self.icon.notify(message, title)
                return
            with self._lock:
                self._last_id = dbus.notify(title, message, important=important)
        except Exception as exc:  # a missing notification daemon must not stop the tray
            log.warning("could not show a notification: %s", type(exc).__name__)

    def close_last(self) -> None:
        """Close the last notification (a YubiKey prompt that is done), if it can be."""
        try:
            dbus = self._bus()
            if dbus is None:
                if self.icon is not None and getattr(self.icon, "HAS_NOTIFICATION", False):
                    self.icon.remove_notification()
                return
            with self._lock:
                last, self._last_id = self._last_id, 0
            if last:
                dbus.close(last)
        except Exception as exc:
            log.debug("could not remove the notification: %s", type(exc).__name__)

    def _bus(self) -> DbusNotifications | None:
        with self._lock:
            if not self._dbus_tried:
                self._dbus_tried = True
                self._dbus = _dbus_notifications()
            return self._dbus


def _clock(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M")


def activated(label: str, session: Session) -> str:
    return (
        f"{label} active until {_clock(session.expiration)} (AWS profile {session.aws_profiles[0]})"
    )


def renewed(label: str, session: Session) -> str:
    return f"{label} renewed (keep fresh), active until {_clock(session.expiration)}"


def expiring(label: str, left: str, session: Session) -> str:
    return (
        f"{label} expires in {left}, at {_clock(session.expiration)}. Renew it from the tray menu."
    )


def expired(label: str, removed: tuple[str, ...], left_alone: tuple[str, ...]) -> str:
    text = f"{label} expired; credentials removed"
    if left_alone:
        text += f" (AWS profile {', '.join(left_alone)} was changed outside aacli: left alone)"
    elif not removed:
        text = f"{label} expired"
    return text
