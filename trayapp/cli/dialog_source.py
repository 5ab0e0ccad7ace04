"""The Tk dialog as an MFA code source, when a desktop session can show it."""

from __future__ import annotations

import os
import sys
from typing import Any


def dialog_code_source() -> Any | None:
    """A code source that shows the Tk dialog, or None where no dialog can be shown."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return None
    try:
        from trayapp.dialogs.source import DialogCode
    except ImportError:
        return None
    return DialogCode()
