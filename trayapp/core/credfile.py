"""Read, lock and atomically rewrite the AWS shared files, changing only aacli's own sections."""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from trayapp.core import files, inifile
from trayapp.core.clock import isoformat_z
from trayapp.core.errors import CredFileError
from trayapp.core.model import Credentials, KeyBefore, Session

ACCESS_KEY_ID = "aws_access_key_id"
SECRET_ACCESS_KEY = "aws_secret_access_key"
SESSION_TOKEN = "aws_session_token"
EXPIRES = "x_security_token_expires"
CREDENTIAL_KEYS = (ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN, EXPIRES)
REGION = "region"
# An edit of a big file holds the lock for a fraction of a second; with eight aacli processes
# queueing on two cores (and the tray) waits of over 30 s were measured (tests/reliability): 120 s.
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


def remove_profile_credentials(
    path: Path, profile: str, expected_key_id: str, *, keep_section: bool = False
) -> RemoveOutcome:
    """Remove aacli's four keys from ``[profile]`` if its key id is still the one aacli wrote.

    ``keep_section``: the section was there before aacli wrote into it (an empty ``[default]``),
    so its header stays even when no key is left; a section aacli created goes whole.
    """
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
        return inifile.remove_keys(text, profile, CREDENTIAL_KEYS, keep_section=keep_section)

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
        return inifile.set_value(text, section, REGION, region, config_style=True)

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


@dataclass(frozen=True)
class Origin:
    """How one AWS profile's sections were before a session writes to them (no secrets)."""

    credentials_found: bool  # the credentials file had the section: its header stays
    config_created: bool  # aacli made the config section: it goes whole when emptied
    config_found: tuple[KeyBefore, ...]  # keys it sets in a config section it did not make


def origin_of(
    credentials_path: Path, config_path: Path, profile: str, region: str, holder: Session | None
) -> Origin:
    """What a new session must put back for ``profile`` when it ends.

    ``holder`` is the session that writes to that profile now, if any (the same target's
    previous session, or the one [default] moves from): what it found is handed on, so the
    user's own values survive any number of hand-overs, unless the user changed them since.
    """
    credentials_found = has_section(credentials_path, profile)
    if holder is not None and credentials_found:
        credentials_found = profile in holder.credentials_sections_found
    if not has_section(config_path, profile, config_style=True):
        return Origin(credentials_found, True, ())
    if holder is not None and profile in holder.config_sections_created:
        return Origin(credentials_found, True, ())
    current = read_profile(config_path, profile, config_style=True).get(REGION)
    inherited = None
    if holder is not None:
        inherited = next(
            (k for k in holder.config_found if k.profile == profile and k.key == REGION), None
        )
    # No holder, or the user changed the value since: the value there now is theirs.
    handed_on = inherited is not None and current == inherited.wrote
    before = inherited.before if inherited is not None and handed_on else current
    if before is not None and ("\n" in before or before != before.strip()):
        section = inifile.config_section_name(profile)
        raise CredFileError(
            f"{config_path}: the region of [{section}] spans several lines, so aacli could not "
            "put it back afterwards; nothing was changed. Write it on one line."
        )
    return Origin(credentials_found, False, (KeyBefore(profile, REGION, before, region),))


def give_back_config(
    config_path: Path, session: Session, profile: str, *, taken_over: bool = False
) -> None:
    """Put ``profile``'s config section back as it was before ``session`` wrote to it.

    A section aacli created loses its region (and goes when nothing else is left in it); a
    key it set in the user's section gets its old value back, or goes again, but only while
    it still holds what aacli wrote. ``taken_over``: the user put keys of their own in the
    profile, so a section aacli created is theirs now and stays; their own old values still
    come back (a [default] region is never lost).
    """
    if profile in session.config_sections_created:
        if not taken_over:
            remove_profile_region(config_path, profile, session.region)
        return
    for found in session.config_found:
        if found.profile == profile:
            restore_config_key(config_path, found)


def restore_config_key(config_path: Path, found: KeyBefore) -> bool:
    """Give a config key its value from before aacli; True when the file changed."""
    section = inifile.config_section_name(found.profile)
    restored = False

    def edit(text: str) -> str:
        nonlocal restored
        current = inifile.get_section(text, section, config_style=True)
        if current is None or current.get(found.key) != found.wrote:
            return text  # gone, or the user's value now: theirs
        restored = found.before != found.wrote
        if found.before is None:
            return inifile.remove_keys(
                text, section, (found.key,), config_style=True, keep_section=True
            )
        return inifile.set_value(text, section, found.key, found.before, config_style=True)

    _edit_file(config_path, edit)
    return restored


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
