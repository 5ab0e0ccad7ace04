"""The ledger of sessions aacli wrote (no secrets), kept as JSON in the state dir.

Its paths decide which files aacli edits, so it is read as a trusted file (the user's own,
writable by nobody else). A damaged ledger is never deleted: it is set aside under a name of
its own, and :func:`damaged_copies` lets status and sweep say so until the user removes it.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from trayapp.core import files
from trayapp.core.clock import isoformat_z, parse_iso
from trayapp.core.errors import UnsafeFileError
from trayapp.core.model import KeyBefore, Session

# Fields added later have defaults, so any older ledger still loads; no version bump needed.
LEDGER_VERSION = 1
DAMAGED = ".damaged"
WHAT = "The session ledger"


@dataclass(frozen=True)
class Unfinished:
    """An edit aacli could not finish (a file it cannot read now): kept, retried, reported."""

    session: Session
    problem: str  # the one-line error of the last try


@dataclass(frozen=True)
class Ledger:
    sessions: list[Session] = field(default_factory=list)
    pending: list[Session] = field(default_factory=list)  # edits under way (or cut short)
    unfinished: list[Unfinished] = field(default_factory=list)
    damaged: bool = False  # unreadable as a ledger: read as empty until set aside


def read_ledger(path: Path, *, set_aside: bool = False) -> Ledger:
    """The ledger as it is on disk. ``set_aside`` (only under the AWS-files lock, so a good
    ledger written meanwhile is never the one moved): a damaged one is renamed to
    ``sessions.json.damaged-<UTC time>`` and read as empty."""
    try:
        raw = files.read_bytes(path, trusted=True, what=WHAT)
    except UnsafeFileError:
        if _is_file_or_missing(path):
            raise  # someone else's or writable by others: the message says how to fix it
        raw = b""  # a folder, a FIFO, a device where the ledger should be: damaged
    if raw is None:
        return Ledger()
    try:
        return _parse(raw.decode("utf-8"))
    except (ValueError, KeyError, TypeError, AttributeError):
        pass  # UnicodeDecodeError and json's errors are ValueErrors
    if set_aside:
        _set_aside(path)
    return Ledger(damaged=True)


def load_ledger(path: Path) -> list[Session]:
    """The recorded sessions (none while the ledger is damaged)."""
    return read_ledger(path).sessions


def load_ledger_state(path: Path) -> tuple[list[Session], list[Session]]:
    """The recorded sessions, and the pending ones: written ahead of a file edit that was
    interrupted if they are still there (see Service._finish_interrupted)."""
    ledger = read_ledger(path)
    return ledger.sessions, ledger.pending


def save_ledger(
    path: Path,
    sessions: list[Session],
    pending: Sequence[Session] = (),
    unfinished: Sequence[Unfinished] | None = None,
) -> None:
    """Write the ledger; ``pending``: sessions whose file edit is about to start.

    ``unfinished`` None keeps the ones on disk, so no writer can drop them unawares.
    """
    if unfinished is None:
        with contextlib.suppress(UnsafeFileError):
            unfinished = read_ledger(path).unfinished
    data: dict[str, Any] = {
        "version": LEDGER_VERSION,
        "sessions": [_session_to(s) for s in sessions],
    }
    if pending:
        data["pending"] = [_session_to(s) for s in pending]
    if unfinished:
        data["unfinished"] = [
            {"session": _session_to(u.session), "problem": u.problem} for u in unfinished
        ]
    files.atomic_write(path, json.dumps(data, indent=1))


def damaged_copies(path: Path) -> list[Path]:
    """The damaged ledgers set aside so far (oldest first), which the user should look at."""
    try:
        return sorted(path.parent.glob(f"{path.name}{DAMAGED}*"))
    except OSError:
        return []


def only_profiles(session: Session, names: Sequence[str]) -> Session:
    """The session narrowed to those of its AWS profiles in ``names``, with what it found there."""
    keep = set(names)
    return replace(
        session,
        aws_profiles=tuple(p for p in session.aws_profiles if p in keep),
        config_sections_created=tuple(p for p in session.config_sections_created if p in keep),
        credentials_sections_found=tuple(
            p for p in session.credentials_sections_found if p in keep
        ),
        config_found=tuple(k for k in session.config_found if k.profile in keep),
    )


def is_expired(session: Session, now: datetime) -> bool:
    return session.expiration <= now


def seconds_left(session: Session, now: datetime) -> int:
    return max(0, int((session.expiration - now).total_seconds()))


def _is_file_or_missing(path: Path) -> bool:
    try:
        return path.is_file() or not os.path.lexists(path)
    except OSError:
        return True


def _set_aside(path: Path) -> None:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    for n in range(1000):
        copy = path.with_name(f"{path.name}{DAMAGED}-{stamp}" + (f"-{n}" if n else ""))
        if os.path.lexists(copy):
            continue
        try:
            os.rename(path, copy)
        except FileNotFoundError:
            return  # another aacli set it aside a moment ago
        except OSError as exc:
            raise UnsafeFileError(
                f"{WHAT} {path} is damaged and cannot be moved aside ({files.reason(exc)}); "
                f"move it away yourself (mv {path} {path}{DAMAGED}) and run aacli again."
            ) from None
        return


def _parse(text: str) -> Ledger:
    data = json.loads(text)
    return Ledger(
        sessions=[_session_from(entry) for entry in data["sessions"]],
        pending=[_session_from(entry) for entry in data.get("pending", ())],
        unfinished=[
            Unfinished(_session_from(entry["session"]), str(entry["problem"]))
            for entry in data.get("unfinished", ())
        ],
    )


def _session_to(session: Session) -> dict[str, Any]:
    data = asdict(session)
    data["expiration"] = isoformat_z(session.expiration)
    data["issued_at"] = isoformat_z(session.issued_at)
    data["aws_profiles"] = list(session.aws_profiles)
    data["config_sections_created"] = list(session.config_sections_created)
    data["credentials_sections_found"] = list(session.credentials_sections_found)
    data["config_found"] = [asdict(k) for k in session.config_found]
    return data


def _session_from(data: dict[str, Any]) -> Session:
    return Session(
        target=str(data["target"]),
        aws_profiles=_names(data["aws_profiles"]),
        access_key_id=str(data["access_key_id"]),
        expiration=parse_iso(str(data["expiration"])),
        issued_at=parse_iso(str(data["issued_at"])),
        credentials_file=str(data["credentials_file"]),
        config_file=str(data["config_file"]),
        region=str(data["region"]),
        from_long_term_keys=bool(data.get("from_long_term_keys", True)),
        config_sections_created=_names(data.get("config_sections_created", ())),
        credentials_sections_found=_names(data.get("credentials_sections_found", ())),
        config_found=tuple(_key_before(k) for k in data.get("config_found", ())),
    )


def _names(items: Any) -> tuple[str, ...]:
    if isinstance(items, str | bytes) or not all(isinstance(i, str) for i in items):
        raise TypeError("a list of names was expected")
    return tuple(items)


def _key_before(data: dict[str, Any]) -> KeyBefore:
    before = data["before"]
    return KeyBefore(
        profile=str(data["profile"]),
        key=str(data["key"]),
        before=None if before is None else str(before),
        wrote=str(data["wrote"]),
    )
