"""The sandbox Identity Center's records (clients, pending grants, sessions, the request log)
and the OAuth helpers its OIDC half and its pages share (PKCE S256, loopback redirects)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit


class ApiError(Exception):
    """An error answered as the service model defines it; the message is the description."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class IcRequest:
    """One call Identity Center received, without its secrets."""

    operation: str
    grant_type: str | None = None
    client_id: str | None = None
    user: str | None = None
    account_id: str | None = None
    role_name: str | None = None
    outcome: str = "ok"  # "ok" or the error code answered


@dataclass
class Client:
    """A RegisterClient registration; no grant types registered means any grant."""

    client_id: str
    secret: str = field(repr=False)
    name: str
    grant_types: tuple[str, ...]
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime

    def allows(self, grant: str) -> bool:
        return not self.grant_types or grant in self.grant_types


@dataclass
class DeviceAuth:
    """A StartDeviceAuthorization waiting for the user at the device page."""

    client_id: str
    user_code: str
    expires_at: datetime
    interval: int
    last_poll: datetime | None = None
    user: str | None = None  # set when approved
    denied: bool = False


@dataclass(frozen=True)
class AuthCode:
    """An authorization code the start page gave, for CreateToken with its PKCE verifier."""

    client_id: str
    redirect_uri: str
    challenge: str
    user: str
    scopes: tuple[str, ...]
    expires_at: datetime


@dataclass
class Session:
    """An access token (and the refresh token that may renew it) of a signed-in user."""

    user: str
    client_id: str
    scopes: tuple[str, ...]
    expires_at: datetime
    signin: str  # one sign-in, through all the tokens its refresh tokens gave
    refresh_token: str | None = field(default=None, repr=False)


Grant = tuple[str, tuple[str, ...], str]  # user, scopes, sign-in id


def new_secret(prefix: str, length: int = 48) -> str:
    return prefix + secrets.token_urlsafe(length)


def new_user_code() -> str:
    alphabet = string.ascii_uppercase.replace("O", "").replace("I", "")
    half = ["".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(2)]
    return "-".join(half)


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a code verifier."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def loopback_match(registered: str, asked: str) -> bool:
    """RFC 8252: a loopback redirect URI matches its registration on any port."""
    a, b = urlsplit(registered), urlsplit(asked)
    if b.scheme != "http" or b.hostname not in ("127.0.0.1", "localhost"):
        return False
    return (a.scheme, a.hostname, a.path) == (b.scheme, b.hostname, b.path)
