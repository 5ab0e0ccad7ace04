"""Where secrets live: pick the OS keyring or the encrypted vault, like keyring picks backends.

Backend modules are imported only when needed (keyring and cryptography are slow to import).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trayapp.core.errors import AacliError, UsageError
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
    "Forgotten",
    "Passphrase",
    "SecretBackend",
    "SecretStore",
    "describe_backends",
    "forget_everything",
    "open_secret_store",
    "secret_key",
]


def _backends(
    vault_path: Path,
    passphrase: Passphrase,
    state_dir: Path | None = None,
    only: str | None = None,
) -> list[SecretBackend]:
    """Every backend, best first; ``only``: just that one (the other's module, keyring or
    cryptography, is then not even imported)."""
    found: list[SecretBackend] = []
    if only in (None, "keyring"):
        from trayapp.core.secrets.keyring_store import MEMORY_FILE, KeyringSecretBackend

        memory = state_dir / MEMORY_FILE if state_dir is not None else None  # keyring's choice
        found.append(
            KeyringSecretBackend(lock_file=keyring_lock_file(vault_path), memory_file=memory)
        )
    if only in (None, "vault"):
        from trayapp.core.secrets.vault import VaultSecretBackend

        found.append(VaultSecretBackend(vault_path, passphrase))
    return sorted(found, key=lambda backend: backend.priority, reverse=True)


def describe_backends(
    vault_path: Path, passphrase: Passphrase | None = None
) -> list[BackendStatus]:
    """Every backend, best first, with whether it is usable here (for ``aacli crypto``)."""
    return [backend.status() for backend in _backends(vault_path, passphrase or _no_passphrase)]


def open_secret_store(
    backend: str, vault_path: Path, passphrase: Passphrase, *, state_dir: Path | None = None
) -> SecretStore:
    """The store named by ``backend``: "keyring", "vault", or "auto" (the best viable one).

    Raises SecretStoreError when "keyring" is asked for and no real OS keyring is usable.
    ``state_dir``: where keyring's backend discovery is remembered between processes.
    """
    if backend not in BACKEND_CHOICES:
        raise UsageError(
            f"Unknown secret backend {backend!r}; choose one of {', '.join(BACKEND_CHOICES)}."
        )
    candidates = _backends(
        vault_path, passphrase, state_dir, None if backend == "auto" else backend
    )
    if backend != "auto":
        chosen = next(b for b in candidates if b.backend == backend)
        return chosen.open()
    for candidate in candidates:
        if candidate.status().viable:
            return candidate.open()
    raise AssertionError("the vault backend is always viable")


def keyring_lock_file(vault_path: Path) -> Path:
    """The lock that serialises changes of the keyring's index: beside the vault, in aacli's
    private config folder."""
    return vault_path.with_name("keyring.lock")


@dataclass(frozen=True)
class Forgotten:
    """What :func:`forget_everything` removed from one store."""

    store: str  # the store's name, e.g. "keyring (SecretService)" or "vault (/path)"
    count: int | None  # secrets removed; None for a vault deleted without being opened
    problem: str | None = None  # why this store could not be (fully) emptied

    def describe(self) -> str:
        if self.problem is not None:
            return f"{self.store}: not removed ({self.problem})"
        if self.count is None:
            return f"{self.store}: the file was deleted unopened (its secrets with it)"
        return f"{self.store}: {self.count} secret{'' if self.count == 1 else 's'} removed"


def forget_everything(
    vault_path: Path, passphrase: Passphrase, *, keyring_in_use: bool
) -> list[Forgotten]:
    """Delete every secret aacli ever stored: all of the keyring's aacli entries (the index
    and, where it can be searched, the keyring itself say which) and the vault file.

    The stores are walked, not the config, so secrets of profiles removed by hand go too.
    The keyring is looked at only when one is usable (or ``keyring_in_use``, then its
    failure is reported); a vault that cannot be opened is deleted all the same.
    """
    from trayapp.core.secrets.keyring_store import KeyringStore, keyring_viable
    from trayapp.core.secrets.vault import Vault

    found: list[Forgotten] = []
    try:
        usable = keyring_viable()
    except Exception:  # a broken keyring install: nothing can have been stored in it
        usable = False
    if usable or keyring_in_use:
        keyring_store = KeyringStore(lock_file=keyring_lock_file(vault_path))
        try:
            found.append(Forgotten(keyring_store.name, keyring_store.clear()))
        except AacliError as error:
            found.append(Forgotten("keyring", None, problem=str(error)))
    if vault_path.exists() or vault_path.is_symlink():
        vault = Vault(vault_path, passphrase)
        try:
            count: int | None = len(vault.keys())
        except (AacliError, EOFError):  # locked, wrong passphrase, damaged: deleted unread
            count = None
        try:
            vault.remove()
        except AacliError as error:
            found.append(Forgotten(vault.name, None, problem=str(error)))
        else:
            found.append(Forgotten(vault.name, count))
    return found


def _no_passphrase() -> str:
    raise AssertionError("describe_backends never opens a vault")
