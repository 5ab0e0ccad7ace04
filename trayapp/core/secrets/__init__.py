"""Where secrets live: pick the OS keyring or the encrypted vault, like keyring picks backends.

Backend modules are imported only when needed (keyring and cryptography are slow to import).
"""

from __future__ import annotations

from pathlib import Path

from trayapp.core.errors import UsageError
from trayapp.core.secrets.base import (
    MFA_SESSION,
    SECRET_ACCESS_KEY,
    TOTP_SEED,
    BackendStatus,
    Passphrase,
    SecretBackend,
    SecretStore,
    secret_key,
)

BACKEND_CHOICES = ("auto", "keyring", "vault")

__all__ = [
    "BACKEND_CHOICES",
    "MFA_SESSION",
    "SECRET_ACCESS_KEY",
    "TOTP_SEED",
    "BackendStatus",
    "Passphrase",
    "SecretBackend",
    "SecretStore",
    "describe_backends",
    "open_secret_store",
    "secret_key",
]


def _backends(vault_path: Path, passphrase: Passphrase) -> list[SecretBackend]:
    from trayapp.core.secrets.keyring_store import KeyringSecretBackend
    from trayapp.core.secrets.vault import VaultSecretBackend

    found: list[SecretBackend] = [
        KeyringSecretBackend(),
        VaultSecretBackend(vault_path, passphrase),
    ]
    return sorted(found, key=lambda backend: backend.priority, reverse=True)


def describe_backends(
    vault_path: Path, passphrase: Passphrase | None = None
) -> list[BackendStatus]:
    """Every backend, best first, with whether it is usable here (for ``aacli crypto``)."""
    return [backend.status() for backend in _backends(vault_path, passphrase or _no_passphrase)]


def open_secret_store(backend: str, vault_path: Path, passphrase: Passphrase) -> SecretStore:
    """The store named by ``backend``: "keyring", "vault", or "auto" (the best viable one).

    Raises SecretStoreError when "keyring" is asked for and no real OS keyring is usable.
    """
    if backend not in BACKEND_CHOICES:
        raise UsageError(
            f"Unknown secret backend {backend!r}; choose one of {', '.join(BACKEND_CHOICES)}."
        )
    candidates = _backends(vault_path, passphrase)
    if backend != "auto":
        chosen = next(b for b in candidates if b.backend == backend)
        return chosen.open()
    for candidate in candidates:
        if candidate.status().viable:
            return candidate.open()
    raise AssertionError("the vault backend is always viable")


def _no_passphrase() -> str:
    raise AssertionError("describe_backends never opens a vault")
