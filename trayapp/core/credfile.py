"""Read, lock and atomically rewrite the AWS shared files, changing only aacli's own sections."""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path
from typing import TypeVar

from trayapp.core import files, inifile
from trayapp.core.clock import isoformat_z
from trayapp.core.errors import CredFileError
from trayapp.core.model import Credentials

ACCESS_KEY_ID = "aws_access_key_id"
SECRET_ACCESS_KEY = "aws_secret_access_key"
SESSION_TOKEN = "aws_session_token"
EXPIRES = "x_security_token_expires"
CREDENTIAL_KEYS = (ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN, EXPIRES)
REGION = "region"
# An edit of a big file holds the lock for a fraction of a second; with eight aacli processes
# queueing on two cores a wait of over 10 s was measured (tests/reliability), so 30 s.
LOCK_TIMEOUT = 120.0
LOCK_BUSY = "Another aacli process is editing the AWS files; try again."
T = TypeVar("T")


class RemoveOutcome(enum.Enum):
    """What removing aacli's credentials from a profile found."""

    REMOVED = "removed"
    ABSENT = "absent"  # no credentials of any kind in that profile
    CHANGED = "changed"  # someone else's key id is there now: left untouched


def read_text(path: Path) -> str:
    """The file's text ("" when it does not exist); UTF-8 only, a BOM is kept as U+FEFF.

    A FIFO, a device or a file over 16 MiB is refused at once (files.read_bytes), so no lock
    holder ever waits on a read that may not end.
    """
    raw = files.read_bytes(path)
    if raw is None:
        return ""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CredFileError(
            f"{path} line {line}: not UTF-8 text; aacli will not edit it. Nothing was changed."
        ) from None


def atomic_write(path: Path, text: str) -> None:
    """Replace the file (the target, if ``path`` is a symlink) with ``text``, mode 0600.

    Readers see the old file or the new one, never a part; on failure the old file stays.
    """
    files.atomic_write(path, text)


@contextlib.contextmanager
def aws_files_lock(lock_file: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the inter-process lock that keeps the tray and the CLI from interleaving edits."""
    with files.file_lock(lock_file, timeout=timeout, busy=LOCK_BUSY):
        yield


def write_profile_credentials(
    path: Path, profile: str, creds: Credentials, owned_key_ids: Collection[str]
) -> None:
    """Write the credentials into ``[profile]``, unless that profile holds someone else's keys."""

    def edit(text: str) -> str:
        current = inifile.get_section(text, profile)
        if current is not None:
            ours = current.get(ACCESS_KEY_ID) in owned_key_ids
            if not ours and any(key in current for key in CREDENTIAL_KEYS):
                raise CredFileError(
                    f"{path}: profile [{profile}] holds keys that aacli did not write; "
                    "nothing was changed. Choose another AWS profile name for this role, "
                    "or remove those keys yourself."
                )
        values = {
            ACCESS_KEY_ID: creds.access_key_id,
            SECRET_ACCESS_KEY: creds.secret_access_key,
            SESSION_TOKEN: creds.session_token,
            EXPIRES: isoformat_z(creds.expiration),
        }
        return inifile.upsert_section(text, profile, values)

    _edit_file(path, edit)


def remove_profile_credentials(path: Path, profile: str, expected_key_id: str) -> RemoveOutcome:
    """Remove aacli's four keys from ``[profile]`` if its key id is still the one aacli wrote."""
    outcome = RemoveOutcome.ABSENT

    def edit(text: str) -> str:
        nonlocal outcome
        current = inifile.get_section(text, profile)
        if current is None or not any(key in current for key in CREDENTIAL_KEYS):
            return text
        if current.get(ACCESS_KEY_ID) != expected_key_id:
            outcome = RemoveOutcome.CHANGED
            return text
        outcome = RemoveOutcome.REMOVED
        return inifile.remove_keys(text, profile, CREDENTIAL_KEYS)

    _edit_file(path, edit)
    return outcome


def set_profile_region(config_path: Path, profile: str, region: str) -> bool:
    """Set ``region`` for the profile in the config file; True when the section was created."""
    section = inifile.config_section_name(profile)
    created = False

    def edit(text: str) -> str:
        nonlocal created
        current = inifile.get_section(text, section, config_style=True)
        created = current is None
        if current is not None and current.get(REGION) == region:
            return text
        return inifile.upsert_section(text, section, {REGION: region}, config_style=True)

    _edit_file(config_path, edit)
    return created


def remove_profile_region(config_path: Path, profile: str, region: str) -> bool:
    """Remove the profile's ``region`` if it is still ``region``; True when it was removed."""
    section = inifile.config_section_name(profile)
    removed = False

    def edit(text: str) -> str:
        nonlocal removed
        current = inifile.get_section(text, section, config_style=True)
        if current is None or current.get(REGION) != region:
            return text
        removed = True
        return inifile.remove_keys(text, section, (REGION,), config_style=True)

    _edit_file(config_path, edit)
    return removed


def read_profile(path: Path, profile: str, *, config_style: bool = False) -> Mapping[str, str]:
    """The keys of one section ({} when absent), e.g. to show what a profile holds."""
    section = inifile.config_section_name(profile) if config_style else profile
    text = read_text(path)
    found = _with_path(path, lambda: inifile.get_section(text, section, config_style=config_style))
    return found or {}


def has_section(path: Path, profile: str, *, config_style: bool = False) -> bool:
    """Whether the profile's section exists (even with no keys)."""
    section = inifile.config_section_name(profile) if config_style else profile
    text = read_text(path)
    found = _with_path(path, lambda: inifile.get_section(text, section, config_style=config_style))
    return found is not None


def _edit_file(path: Path, edit: Callable[[str], str]) -> None:
    text = read_text(path)
    new_text = _with_path(path, lambda: edit(text))
    if new_text != text:
        atomic_write(path, new_text)


def _with_path(path: Path, action: Callable[[], T]) -> T:
    """Run an edit, naming the file in an IniError (which only knows line numbers)."""
    try:
        return action()
    except inifile.IniError as exc:
        where = f"{path} line {exc.line}" if exc.line else str(path)
        raise CredFileError(
            f"{where}: {exc.reason}; aacli will not edit this file until it is fixed. "
            "Nothing was changed."
        ) from None
