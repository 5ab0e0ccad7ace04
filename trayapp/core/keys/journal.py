"""The rotation journal: how far a hub key rotation got, so that a killed process is finished
or undone by the next aacli. It holds key ids and the step, never a secret."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path

from trayapp.core import files
from trayapp.core.app_dirs import ROTATION_JOURNAL
from trayapp.core.clock import isoformat_z, parse_iso
from trayapp.core.errors import AacliError, UnsafeFileError

# The steps, in order. Before SWITCHING aacli still uses the old key (an interrupted rotation
# is undone); from SWITCHING on it uses the new one (the rotation is finished).
CREATING = "creating"  # about to call CreateAccessKey
CREATED = "created"  # the new key is in the secret store as pending
SWITCHING = "switching"  # making the pending key the profile's key
SWITCHED = "switched"  # aacli uses the new key; the old one is to be deactivated and deleted
KEPT_OLD = "kept-old"  # done; the old key stays Inactive until --delete-old
STEPS = (CREATING, CREATED, SWITCHING, SWITCHED, KEPT_OLD)
LOCK_TIMEOUT = 120.0  # a rotation waits for AWS to propagate a key: allow for that


class JournalError(AacliError):
    """The journal cannot be read or written."""


@dataclass(frozen=True)
class Journal:
    """One profile's rotation in progress."""

    profile: str
    user_name: str
    old_key_id: str
    step: str
    started: datetime
    new_key_id: str | None = None
    keep_old: bool = False

    def at(self, step: str, **changes: object) -> Journal:
        return replace(self, step=step, **changes)  # type: ignore[arg-type]


def journal_file(state_dir: Path, profile: str) -> Path:
    prefix, suffix = ROTATION_JOURNAL
    return state_dir / f"{prefix}{profile}{suffix}"


def read_journal(state_dir: Path, profile: str) -> Journal | None:
    path = journal_file(state_dir, profile)
    text = files.read_text(path, trusted=True, what="the key rotation journal")
    if text is None:
        return None
    try:
        data = json.loads(text)
        journal = Journal(**{**data, "started": parse_iso(data["started"])})
        if journal.step not in STEPS or journal.profile != profile:
            raise ValueError(journal.step)
    except (ValueError, TypeError, KeyError):
        raise JournalError(
            f"The key rotation journal {path} is damaged; check the keys of the profile's IAM "
            "user (aws iam list-access-keys), store the one in use with 'aacli config set-key', "
            "then delete the file."
        ) from None
    return journal


def write_journal(state_dir: Path, journal: Journal) -> None:
    files.private_dir(state_dir)
    data = {**asdict(journal), "started": isoformat_z(journal.started)}
    files.atomic_write(journal_file(state_dir, journal.profile), json.dumps(data, indent=1))


def clear_journal(state_dir: Path, profile: str) -> None:
    path = journal_file(state_dir, profile)
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise JournalError(
            f"Cannot remove the rotation journal {path}: {files.reason(exc)}."
        ) from None
    # The removal must be on disk before anything that assumes it is (fsync of the folder).
    files.fsync_dir(state_dir)


def journaled_profiles(state_dir: Path) -> list[str]:
    """The profiles with a journal (a rotation interrupted, or an old key kept)."""
    if not state_dir.is_dir():
        return []
    prefix, suffix = ROTATION_JOURNAL
    return sorted(
        p.name[len(prefix) : -len(suffix)]
        for p in state_dir.iterdir()
        if p.name.startswith(prefix) and p.name.endswith(suffix)
    )


class RotationBusy(AacliError):
    """Another aacli holds the profile's rotation lock."""


@contextmanager
def rotation_lock(
    state_dir: Path, profile: str, *, timeout: float = LOCK_TIMEOUT
) -> Iterator[None]:
    """One rotation (or recovery) of a profile at a time, CLI and tray alike."""
    busy = f"Another aacli is rotating the hub key of '{profile}'; try again in a minute."
    try:
        lock = files.file_lock(
            state_dir / f"key-rotation-{profile}.lock", timeout=timeout, busy=busy
        )
        lock.__enter__()
    except UnsafeFileError as exc:
        if str(exc) == busy:
            raise RotationBusy(busy) from None
        raise
    try:
        yield
    finally:
        lock.__exit__(None, None, None)
