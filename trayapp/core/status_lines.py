"""The lines ``aacli status`` prints for people, from plain values (Unix seconds, names), so
that its full path and its quick path (core/quick_status) print the same words."""

from __future__ import annotations

import time

from trayapp.core.timeleft import time_left

TYPE_CHECKING = False  # typing's, without importing typing: start-up time
if TYPE_CHECKING:
    from collections.abc import Sequence

HEADER = ("TARGET", "AWS PROFILE", "UNTIL", "LEFT")
NO_SESSIONS = "No active sessions."


def clock_time(seconds: float) -> str:
    """``HH:MM`` in the local time zone."""
    return time.strftime("%H:%M", time.localtime(seconds))


def left(until: float, now: float) -> str:
    return time_left(max(0, int(until - now)))


def mfa_session(profile: str, until: float, now: float) -> str:
    return f"MFA session of profile {profile}: until {clock_time(until)} ({left(until, now)} left)"


def key_age(profile: str, days: int, due: bool) -> str:
    """e.g. "hub key of acme: 97 days old (rotate: aacli rotate acme)"."""
    shown = "1 day" if days == 1 else f"{days} days"
    advice = f" (rotate: aacli rotate {profile})" if due else ""
    return f"hub key of {profile}: {shown} old{advice}"


def key_days(created: float, now: float) -> int:
    """Whole days since ``created`` (as ``timedelta.days`` counts them), never below 0."""
    return max(0, int((now - created) // 86400))


def sessions_table(sessions: Sequence[tuple[str, Sequence[str], float]], now: float) -> list[str]:
    """(target, AWS profiles, expiry) each, soonest first as given; or "No active sessions."."""
    if not sessions:
        return [NO_SESSIONS]
    rows = [
        (target, ", ".join(profiles), clock_time(until), left(until, now))
        for target, profiles, until in sessions
    ]
    widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    return [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in [HEADER, *rows]
    ]
