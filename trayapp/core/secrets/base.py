"""The secret store protocol every backend implements, and the key names it holds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from trayapp.core.errors import SecretStoreError

Passphrase = Callable[[], str]
"""Asks for the vault passphrase (hidden prompt, ``AACLI_PASSPHRASE``, Tk dialog).

Called lazily, only when a vault must be opened, and at most once per vault object.
"""


class SecretStore(Protocol):
    """Where secrets live: string values under keys like ``acme/secret_access_key``."""

    @property
    def name(self) -> str:
        """What the user is told, e.g. ``keyring (SecretService)`` or ``vault (/path)``."""
        ...

    def get(self, key: str) -> str | None:
        """The value under ``key``, or None when there is none."""
        ...

    def set(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``, replacing any old value."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; a missing key is not an error."""
        ...

    def keys(self) -> list[str]:
        """Every key stored, sorted."""
        ...


@dataclass(frozen=True)
class BackendStatus:
    """One backend as ``aacli crypto`` shows it: usable or not, and why."""

    backend: str  # "keyring" or "vault"
    viable: bool
    priority: int
    detail: str  # the store's name when viable, else what is missing and how to get it


class SecretBackend(Protocol):
    """A kind of secret store, picked by ``viable`` and ``priority`` like keyring's backends."""

    backend: str
    priority: int

    def status(self) -> BackendStatus: ...

    def open(self) -> SecretStore: ...


SECRET_ACCESS_KEY = "secret_access_key"
TOTP_SEED = "totp_seed"
MFA_SESSION = "mfa_session"
# A rotation's new hub key, stored before the old one is touched (JSON: key id and secret).
PENDING_SECRET_ACCESS_KEY = "pending_secret_access_key"


def secret_key(profile: str, item: str) -> str:
    """The store key of one item of a profile, e.g. ``acme/secret_access_key``."""
    if not profile or "/" in profile:
        raise SecretStoreError(
            f"A profile name used as a secret key must not contain '/': {profile!r}."
        )
    return f"{profile}/{item}"


def check_key(key: str) -> None:
    """Refuse keys that cannot be stored: empty, non-text, or with control characters."""
    if not isinstance(key, str) or not key or not key.isprintable():
        raise SecretStoreError(f"Invalid secret key {key!r}: it must be non-empty printable text.")
