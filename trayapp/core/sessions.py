"""The ledger of sessions aacli wrote (no secrets), kept as JSON in the state dir."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from trayapp.core.clock import isoformat_z, parse_iso
from trayapp.core.model import Session

LEDGER_VERSION = 1


def load_ledger(path: Path) -> list[Session]:
    """The recorded sessions. A damaged ledger is set aside (never deleted) and read as empty."""
    return load_ledger_state(path)[0]


def load_ledger_state(path: Path) -> tuple[list[Session], list[Session]]:
    """The recorded sessions, and the pending ones: written ahead of a file edit that was
    interrupted if they are still there (see Service._finish_interrupted)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], []
    try:
        data = json.loads(text)
        sessions = [_session_from(entry) for entry in data["sessions"]]
        pending = [_session_from(entry) for entry in data.get("pending", ())]
    except (ValueError, KeyError, TypeError, AttributeError):
        path.replace(path.with_name(f"{path.name}.damaged"))
        return [], []
    return sessions, pending


def save_ledger(path: Path, sessions: list[Session], pending: Sequence[Session] = ()) -> None:
    """Write the ledger; ``pending``: sessions whose file edit is about to start."""
    from trayapp.core.credfile import atomic_write

    data: dict[str, Any] = {
        "version": LEDGER_VERSION,
        "sessions": [_session_to(s) for s in sessions],
    }
    if pending:
        data["pending"] = [_session_to(s) for s in pending]
    atomic_write(path, json.dumps(data, indent=1))


def is_expired(session: Session, now: datetime) -> bool:
    return session.expiration <= now


def seconds_left(session: Session, now: datetime) -> int:
    return max(0, int((session.expiration - now).total_seconds()))


def _session_to(session: Session) -> dict[str, Any]:
    data = asdict(session)
    data["expiration"] = isoformat_z(session.expiration)
    data["issued_at"] = isoformat_z(session.issued_at)
    data["aws_profiles"] = list(session.aws_profiles)
    data["config_sections_created"] = list(session.config_sections_created)
    return data


def _session_from(data: dict[str, Any]) -> Session:
    return Session(
        target=str(data["target"]),
        aws_profiles=tuple(str(p) for p in data["aws_profiles"]),
        access_key_id=str(data["access_key_id"]),
        expiration=parse_iso(str(data["expiration"])),
        issued_at=parse_iso(str(data["issued_at"])),
        credentials_file=str(data["credentials_file"]),
        config_file=str(data["config_file"]),
        region=str(data["region"]),
        from_long_term_keys=bool(data.get("from_long_term_keys", True)),
        config_sections_created=tuple(str(p) for p in data.get("config_sections_created", ())),
    )
