"""Desktop notifications from the tray, and the sentences they say (never a secret)."""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from typing import Any, Protocol

from trayapp.core.model import Session

log = logging.getLogger(__name__)
TITLE = "aacli"


class Notifier(Protocol):
    def __call__(self, message: str, title: str = TITLE) -> None: ...


class IconNotifier:
    """Notifies through the pystray icon (D-Bus org.freedesktop.Notifications on Linux).

    pystray's gtk backend sends no notification actions, so a warning names the
    menu entry to use instead of offering a button.
    """

    def __init__(self, icon: Any | None = None) -> None:
        self.icon = icon
        self.sent: list[tuple[str, str]] = []  # kept for the debug file and tests

    def __call__(self, message: str, title: str = TITLE) -> None:
        self.sent.append((title, message))
        log.info("notification: %s: %s", title, message)
        if self.icon is None or not getattr(self.icon, "HAS_NOTIFICATION", False):
            print(f"{title}: {message}", file=sys.stderr)
            return
        try:
            self.icon.notify(message, title)
        except Exception as exc:  # a missing notification daemon must not stop the tray
            log.warning("could not show a notification: %s", type(exc).__name__)


def _clock(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M")


def activated(label: str, session: Session) -> str:
    return f"{label} active until {_clock(session.expiration)} (profile {session.aws_profiles[0]})"


def renewed(label: str, session: Session) -> str:
    return f"{label} renewed (keep fresh), active until {_clock(session.expiration)}"


def expiring(label: str, left: str, session: Session) -> str:
    return (
        f"{label} expires in {left}, at {_clock(session.expiration)}. Renew it from the tray menu."
    )


def expired(label: str, removed: tuple[str, ...], left_alone: tuple[str, ...]) -> str:
    text = f"{label} expired; credentials removed"
    if left_alone:
        text += f" (profile {', '.join(left_alone)} was changed outside aacli: left alone)"
    elif not removed:
        text = f"{label} expired"
    return text
