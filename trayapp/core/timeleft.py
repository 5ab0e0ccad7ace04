"""How much time a session has left, in words: one rounding for the tray and the CLI."""

from __future__ import annotations

import math


def time_left(seconds: float) -> str:
    """``47 min``, ``1 h 05 min``, ``<1 min``: minutes rounded up, so "0 min" is never shown
    for a session that still works, and a session shown as "1 min" has at most 60 s left."""
    if seconds < 60:
        return "<1 min"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
