"""How old a hub key is, from the date cached in the config (no AWS call), and whether the
profile's ``rotate_after`` says it is due."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from trayapp.core.clock import isoformat_z, parse_iso
from trayapp.core.errors import UsageError
from trayapp.core.model import Config, Profile

MAX_ROTATE_AFTER = 3650


@dataclass(frozen=True)
class KeyAge:
    """The age of one profile's hub key."""

    profile: str
    access_key_id: str
    created: datetime
    days: int
    due: bool  # older than rotate_after days (never when rotate_after is 0)


def key_age(profile: Profile, now: datetime) -> KeyAge | None:
    """The key's age, or None when the config has no date for the key in use."""
    if profile.key_created is None or profile.key_created_for != profile.access_key_id:
        return None
    days = max(0, (now - profile.key_created).days)
    due = profile.rotate_after > 0 and days >= profile.rotate_after
    return KeyAge(profile.name, profile.access_key_id, profile.key_created, days, due)


def due_keys(config: Config, now: datetime) -> list[KeyAge]:
    """Every profile whose hub key is due for rotation, oldest first."""
    ages = [age for p in config.profiles if (age := key_age(p, now)) is not None and age.due]
    return sorted(ages, key=lambda age: age.created)


def with_key(profile: Profile, access_key_id: str, created: datetime) -> Profile:
    """``profile`` using ``access_key_id``, made at ``created`` (kept to the second)."""
    return replace(
        profile,
        access_key_id=access_key_id,
        key_created=created.replace(microsecond=0),
        key_created_for=access_key_id,
    )


def describe(age: KeyAge) -> str:
    """One line for ``status``, e.g. "hub key of acme: 97 days old (rotate: aacli rotate acme)"."""
    from trayapp.core.status_lines import key_age as line

    return line(age.profile, age.days, age.due)


def rotate_after_days(text: str) -> int:
    """``rotate_after`` as the user typed it: whole days, 0 (never remind) to 3650."""
    value = text.strip()
    if not value.isdigit() or not 0 <= int(value) <= MAX_ROTATE_AFTER:
        raise UsageError(
            f"rotate-after takes whole days from 0 (never remind) to {MAX_ROTATE_AFTER}, "
            f"not {text!r}"
        )
    return int(value)


def with_rotate_after(config: Config, name: str, days: int) -> Config:
    """``config`` with profile ``name`` reminding after ``days`` days."""
    from trayapp.core.config import iam_user_hub, replace_profile

    profile = iam_user_hub(config, name, "so nothing to rotate")
    return replace_profile(config, replace(profile, rotate_after=days))


REMIND_EVERY = timedelta(days=1)


def reminders_file(state_dir: Path) -> Path:
    return state_dir / "key-reminders.json"


def to_remind(state_dir: Path, ages: Sequence[KeyAge], now: datetime) -> list[KeyAge]:
    """The due keys whose reminder was not shown in the last day (by any tray); they are
    recorded as reminded now."""
    from trayapp.core import files

    path = reminders_file(state_dir)
    try:
        data = json.loads(files.read_text(path, trusted=True, what="the key reminders") or "{}")
    except ValueError:
        data = {}
    shown = data if isinstance(data, dict) else {}
    due = []
    for age in ages:
        try:
            last = parse_iso(str(shown[age.profile]))
        except (KeyError, ValueError):
            last = None
        if last is None or now - last >= REMIND_EVERY or last > now:
            due.append(age)
    if due:
        shown.update({age.profile: isoformat_z(now) for age in due})
        files.private_dir(state_dir)
        files.atomic_write(path, json.dumps(shown, indent=1, sort_keys=True))
    return due
