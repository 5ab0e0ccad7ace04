"""Time as a dependency: a clock is any callable returning an aware UTC datetime."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The wall clock, timezone-aware UTC."""
    return datetime.now(timezone.utc)


def isoformat_z(moment: datetime) -> str:
    """ISO 8601 in UTC with a trailing Z, to the second (as AWS tools write it)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    """Parse ISO 8601 (``Z`` or offset); naive values are taken as UTC."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)
