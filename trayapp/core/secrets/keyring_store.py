"""The OS keyring (Secret Service, macOS Keychain, Windows Credential Locker) as a secret store.

``keyring`` is imported only when a keyring is actually used: importing it is slow, and the
CLI must start fast.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trayapp.core.errors import SecretStoreError, UnsafeFileError
from trayapp.core.secrets.base import BackendStatus, check_key

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

DEFAULT_SERVICE = "aacli"
INDEX_KEY = "aacli:index"
"""A non-secret entry listing the keys stored, because most keyrings cannot enumerate items.

It is written before the secret it lists (a crash leaves an extra name, never a secret nobody
knows of), under a lock, and removed with the last secret. Where the keyring can be searched
(the Secret Service), ``keys()`` also finds entries the index misses.
"""
_INDEX_LOCK_TIMEOUT_SECONDS = 30.0

# Raised by keyring, secretstorage and jeepney when there is no bus or no daemon on it.
_UNREACHABLE = ("InitError", "SecretServiceNotAvailableException", "DBusErrorResponse")
_INSTALL_HINT = (
    "on Linux, install and start a Secret Service (gnome-keyring or KWallet) and the Python "
    "package secretstorage, or use the vault backend"
)


def _label(backend: KeyringBackend) -> str:
    """``SecretService``, ``macOS``, ``Windows``, ``kwallet``: the backend's module name."""
    return type(backend).__module__.rsplit(".", 1)[-1]


def _why_not_real(backend: KeyringBackend) -> str | None:
    """None when ``backend`` is a real OS store; else why it is not one."""
    cls = type(backend)
    module = cls.__module__
    if module in ("keyring.backends.fail", "keyring.backends.null"):
        return "no system keyring was found"
    # keyrings.alt's backends (PlaintextKeyring, EncryptedKeyring, ...) keep secrets in a
    # file we cannot vouch for; any backend with a file_path is such a file, whoever wrote it.
    if module.startswith("keyrings.alt") or hasattr(backend, "file_path"):
        return f"the selected keyring {module}.{cls.__name__} keeps secrets in a plain file"
    try:
        priority = backend.priority
    except Exception:  # keyring backends report "not usable here" by raising from priority
        return f"the keyring {_label(backend)} is not available here"
    if priority <= 0:
        return f"the keyring {_label(backend)} is not usable (priority {priority})"
    return None


def resolve_keyring(backend: KeyringBackend | None = None) -> tuple[KeyringBackend | None, str]:
    """The real OS store to use (``backend`` or keyring's choice) and its label, or None and why.

    A ChainerBackend is looked through: its first real store is used, never a plaintext one.
    """
    import keyring
    from keyring.backends.chainer import ChainerBackend

    candidate = keyring.get_keyring() if backend is None else backend
    chained: list[KeyringBackend] = (
        list(candidate.backends) if isinstance(candidate, ChainerBackend) else [candidate]
    )
    reasons = []
    for item in chained:
        reason = _why_not_real(item)
        if reason is None:
            return item, f"keyring ({_label(item)})"
        reasons.append(reason)
    return None, "; ".join(reasons) if reasons else "no system keyring was found"


def keyring_viable(backend: KeyringBackend | None = None) -> bool:
    """True only when a real OS keyring (priority > 0, not a file) would hold the secrets."""
    return resolve_keyring(backend)[0] is not None


class KeyringStore:
    """A SecretStore in the OS keyring, under one service name."""

    def __init__(
        self,
        service: str = DEFAULT_SERVICE,
        backend: KeyringBackend | None = None,
        *,
        lock_file: Path | None = None,
    ) -> None:
        """``backend`` names a keyring backend; by default keyring's own choice.

        ``lock_file`` serialises changes of the index between processes (the tray and the CLI).
        """
        self.service = service
        self._requested = backend
        self._lock_file = lock_file
        self._backend: KeyringBackend | None = None
        self._label = ""

    def __repr__(self) -> str:
        return f"KeyringStore(service={self.service!r})"

    @property
    def name(self) -> str:
        self._resolved()
        return self._label

    def get(self, key: str) -> str | None:
        self._check(key)
        value = self._call("read a secret", self._resolved().get_password, key)
        return value if isinstance(value, str) else None

    def set(self, key: str, value: str) -> None:
        self._check(key)
        if not isinstance(value, str):
            raise SecretStoreError(f"The value for {key} must be text.")
        with self._index_locked():
            index = self._index()
            if key not in index:
                self._save_index([*index, key])
            self._call("store a secret", self._resolved().set_password, key, value)

    def delete(self, key: str) -> None:
        self._check(key)
        backend = self._resolved()
        with self._index_locked():
            if self._call("read a secret", backend.get_password, key) is not None:
                self._call("delete a secret", backend.delete_password, key)
            index = self._index()
            if key in index:
                self._save_index([k for k in index if k != key])

    def keys(self) -> list[str]:
        return sorted(set(self._index()) | set(self._searched()))

    def clear(self) -> int:
        """Delete every secret of this service and the index itself; how many secrets."""
        found = self.keys()
        for key in found:
            self.delete(key)
        with self._index_locked():
            backend = self._resolved()
            if self._call("read a secret", backend.get_password, INDEX_KEY) is not None:
                self._call("delete a secret", backend.delete_password, INDEX_KEY)
        return len(found)

    def _check(self, key: str) -> None:
        check_key(key)
        if key == INDEX_KEY:
            raise SecretStoreError(f"The key {INDEX_KEY} is reserved.")

    def _index(self) -> list[str]:
        raw = self._call("read a secret", self._resolved().get_password, INDEX_KEY)
        if not isinstance(raw, str):
            return []
        try:
            keys = json.loads(raw)
        except ValueError:
            return []  # only a listing: the secrets themselves are still there
        return [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else []

    def _save_index(self, keys: list[str]) -> None:
        backend = self._resolved()
        if keys:
            self._call("store a secret", backend.set_password, INDEX_KEY, json.dumps(keys))
        else:  # nothing of aacli's stays behind once its last secret is gone
            self._call("delete a secret", backend.delete_password, INDEX_KEY)

    def _searched(self) -> list[str]:
        """The keys of this service the keyring itself finds, where it can be searched."""
        backend = self._resolved()
        if type(backend).__module__ != "keyring.backends.SecretService":
            return []

        def search(service: str, _key: str) -> list[str]:
            collection = backend.get_preferred_collection()  # type: ignore[attr-defined]
            with contextlib.closing(collection.connection):
                items = collection.search_items({"service": service})
                names = [item.get_attributes().get("username") for item in items]
            return [n for n in names if isinstance(n, str) and n and n != INDEX_KEY]

        found = self._call("list the secrets", search, "")
        return found if isinstance(found, list) else []

    @contextlib.contextmanager
    def _index_locked(self) -> Iterator[None]:
        if self._lock_file is None:
            yield
            return
        from trayapp.core.files import file_lock

        try:
            with file_lock(
                self._lock_file,
                timeout=_INDEX_LOCK_TIMEOUT_SECONDS,
                busy="Another aacli is changing the keyring's secrets; try again.",
            ):
                yield
        except UnsafeFileError as error:
            raise SecretStoreError(str(error)) from None

    def _resolved(self) -> KeyringBackend:
        if self._backend is None:
            backend, label = resolve_keyring(self._requested)
            if backend is None:
                raise SecretStoreError(f"No usable system keyring: {label}; {_INSTALL_HINT}.")
            self._backend, self._label = backend, label
        return self._backend

    def _call(self, action: str, method: Any, key: str, *value: str) -> object:
        try:
            return method(self.service, key, *value)
        # Backends raise anything (D-Bus, secretstorage, OS errors): each becomes one
        # sentence that names the error's type only, since a message could quote a value.
        except Exception as error:
            kind = type(error).__name__
            if kind in ("KeyringLocked", "LockedException"):
                raise SecretStoreError(
                    "The system keyring is locked, or its unlock prompt was dismissed; "
                    "unlock it and try again."
                ) from None
            if isinstance(error, OSError) or kind in _UNREACHABLE:
                raise SecretStoreError(
                    f"The system keyring cannot be reached ({kind}); check that it is running "
                    "in this session (a D-Bus session bus and a Secret Service daemon on Linux)."
                ) from None
            raise SecretStoreError(f"The {self._label} could not {action} ({kind}).") from None


PROBE_SECONDS = 3.0


def unanswered(backend: KeyringBackend, seconds: float = PROBE_SECONDS) -> str | None:
    """None when ``backend`` answers a real call within ``seconds``; else why not.

    A session bus with no Secret Service daemon on it (i3, sway and other minimal desktops)
    passes every look at the keyring library, then fails the first read. The call made here
    reads the default collection's "locked" property: it never asks the user to unlock.
    Backends other than the Secret Service answer their look truthfully and are not probed.
    """
    if type(backend).__module__ != "keyring.backends.SecretService":
        return None
    outcome: list[str | None] = []

    def probe() -> None:
        try:
            import secretstorage

            connection = secretstorage.dbus_init()
            try:
                secretstorage.get_default_collection(connection).is_locked()
            finally:
                connection.close()
        except Exception as error:  # jeepney and secretstorage raise several kinds here
            outcome.append(type(error).__name__)
        else:
            outcome.append(None)

    thread = threading.Thread(target=probe, name="aacli-keyring-probe", daemon=True)
    thread.start()
    thread.join(seconds)
    if not outcome:
        return f"does not answer (no reply within {seconds:.0f} s)"
    if outcome[0] is not None:
        return f"does not answer: no Secret Service daemon on the session bus ({outcome[0]})"
    return None


class KeyringSecretBackend:
    """The OS keyring as a backend: preferred whenever it is a real OS store."""

    backend = "keyring"
    priority = 10

    def __init__(self, service: str = DEFAULT_SERVICE, *, lock_file: Path | None = None) -> None:
        self._service = service
        self._lock_file = lock_file

    def status(self) -> BackendStatus:
        try:
            backend, label = resolve_keyring()
        except Exception as error:  # a broken keyring install must not break `aacli crypto`
            backend, label = None, f"keyring cannot be loaded ({type(error).__name__})"
        if backend is not None and (silent := unanswered(backend)) is not None:
            backend, label = None, f"{label} {silent}"
        if backend is None:
            label = f"{label}; {_INSTALL_HINT}"
        return BackendStatus(self.backend, backend is not None, self.priority, label)

    def open(self) -> KeyringStore:
        store = KeyringStore(self._service, lock_file=self._lock_file)
        store.name  # noqa: B018 - resolves now, so an unusable keyring fails here
        return store
