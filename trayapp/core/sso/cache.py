"""The AWS CLI's Identity Center token cache (~/.aws/sso/cache), shared with ``aws`` both ways.

One JSON file per sso-session, named by the SHA-1 of the session's name, with the AWS CLI's
field names, so that ``aws sso login --sso-session corp`` and ``aacli login corp`` share one
sign-in. Fields aacli does not know (another tool's) are kept when it rewrites the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from trayapp.core import files
from trayapp.core.clock import isoformat_z

WHAT = "The Identity Center token cache file"
FOLDER_WHAT = "The Identity Center token cache folder"
# aacli's own note of the flow a cached client registration was made for (the AWS CLI ignores
# fields it does not know, and drops this one when it refreshes: the next sign-in registers).
GRANT_FIELD = "aacliRegistrationFlow"
_FIELDS = {
    "startUrl",
    "region",
    "accessToken",
    "expiresAt",
    "clientId",
    "clientSecret",
    "registrationExpiresAt",
    "refreshToken",
    GRANT_FIELD,
}


@dataclass(frozen=True)
class SsoToken:
    """One sign-in: the bearer token, how to refresh it, and the client it was issued to."""

    access_token: str = field(repr=False)
    expires_at: datetime
    start_url: str
    region: str
    refresh_token: str | None = field(repr=False, default=None)
    client_id: str | None = None
    client_secret: str | None = field(repr=False, default=None)
    registration_expires_at: datetime | None = None
    registration_flow: str | None = None  # "device" | "authorization_code": aacli's note


def cache_key(session_name: str) -> str:
    """The file name the AWS CLI gives an sso-session's token: SHA-1 of its name."""
    return hashlib.sha1(session_name.encode("utf-8")).hexdigest() + ".json"  # noqa: S324


def parse_time(value: object) -> datetime | None:
    """A time as the AWS CLI writes it ("…Z"; older versions "…UTC" or an offset)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith("UTC"):
        text = text[:-3]
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


class TokenCache:
    """The token files of one cache folder (``AwsPaths.sso_cache_dir``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, session_name: str) -> Path:
        return self.folder / cache_key(session_name)

    def check(self, session_name: str | None = None) -> None:
        """Refuse a cache folder another user owns or may write to (before a sign-in starts),
        and the folder a symlinked token file of ``session_name`` points into."""
        files.check_trusted_path(self.folder, what=FOLDER_WHAT)
        if session_name is not None:
            try:
                target = self.path(session_name).resolve()
            except (OSError, RuntimeError):  # a symlink loop: reading it says so in one line
                return
            files.check_trusted_path(target.parent, what=FOLDER_WHAT)

    def load(self, session_name: str) -> SsoToken | None:
        """The session's token; None when there is none, or the file is not a usable token.

        A file that is not the user's own, is writable by others, or is not a regular file
        (a FIFO, a device) is refused with a one-line :class:`UnsafeFileError`.
        """
        data = self._read(session_name)
        if data is None:
            return None
        access_token = data.get("accessToken")
        expires_at = parse_time(data.get("expiresAt"))
        if not isinstance(access_token, str) or not access_token or expires_at is None:
            return None
        return SsoToken(
            access_token=access_token,
            expires_at=expires_at,
            start_url=_text(data.get("startUrl")) or "",
            region=_text(data.get("region")) or "",
            refresh_token=_text(data.get("refreshToken")),
            client_id=_text(data.get("clientId")),
            client_secret=_text(data.get("clientSecret")),
            registration_expires_at=parse_time(data.get("registrationExpiresAt")),
            registration_flow=_text(data.get(GRANT_FIELD)),
        )

    def save(self, session_name: str, token: SsoToken) -> None:
        """Write the token (mode 0600, atomic, in a private folder), keeping unknown fields."""
        files.private_dir(self.folder, what=FOLDER_WHAT)
        previous = self._read(session_name) or {}
        data: dict[str, Any] = {k: v for k, v in previous.items() if k not in _FIELDS}
        data.update(
            {
                "startUrl": token.start_url,
                "region": token.region,
                "accessToken": token.access_token,
                "expiresAt": isoformat_z(token.expires_at),
            }
        )
        optional: dict[str, str | None] = {
            "clientId": token.client_id,
            "clientSecret": token.client_secret,
            "registrationExpiresAt": (
                isoformat_z(token.registration_expires_at)
                if token.registration_expires_at
                else None
            ),
            "refreshToken": token.refresh_token,
            GRANT_FIELD: token.registration_flow,
        }
        data.update({key: value for key, value in optional.items() if value})
        # A symlinked token file is followed (as the AWS CLI does), but only into a folder of
        # the user's own: never hand the tokens to a folder another user controls.
        self.check(session_name)
        files.atomic_write(self.path(session_name), json.dumps(data, indent=2) + "\n", mode=0o600)

    def remove(self, session_name: str) -> bool:
        """Remove the session's token file; True when there was one."""
        path = self.path(session_name)
        if not path.exists() and not path.is_symlink():
            return False
        files.check_trusted_path(self.folder, what=FOLDER_WHAT)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            files.fsync_dir(self.folder)
            return True
        return False

    def _read(self, session_name: str) -> dict[str, Any] | None:
        text = files.read_text(self.path(session_name), trusted=True, what=WHAT)
        if text is None:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None  # a half-written or foreign file: a sign-in replaces it
        return data if isinstance(data, dict) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
