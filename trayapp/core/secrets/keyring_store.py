"""The OS keyring (Secret Service, macOS Keychain, Windows Credential Locker) as a secret store.

``keyring`` is imported only when a keyring is actually used: importing it is slow, and the
CLI must start fast. Its backend discovery (every backend and plugin loaded, each asked for its
priority: 155-205 ms) is done once and remembered in aacli's state folder (which backend class,
never a secret); a later process checks that memory cheaply and falls back to the discovery on
any doubt (see :func:`remembered_keyring`). When it names the Secret Service, reads need not
import keyring at all (:func:`lean_secret_service`): `aacli auth` only reads the hub key.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trayapp.core.errors import SecretStoreError, UnsafeFileError
from trayapp.core.secrets.base import BackendStatus, check_key
from trayapp.core.secrets.secret_service import UNREACHABLE, SecretServiceReader

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


MEMORY_FILE = "keyring-backend.json"
MEMORY_VERSION = 1
# The only backends remembered: a memory naming anything else is not imported at all.
REMEMBERED_BACKENDS = (
    "keyring.backends.SecretService.Keyring",
    "keyring.backends.libsecret.Keyring",
    "keyring.backends.kwallet.DBusKeyring",
    "keyring.backends.kwallet.DBusKeyringKWallet4",
    "keyring.backends.macOS.Keyring",
    "keyring.backends.Windows.WinVaultKeyring",
)


def _circumstances() -> dict[str, object]:
    """What keyring's choice depends on, each cheap to look at: the session bus, the Python and
    its installed packages (an install or removal changes the folder's mtime), keyring's own
    config file. Found without importing keyring where its rules are plain (not on macOS or
    Windows), so that :func:`lean_secret_service` need not import it."""

    def mtime(path: str | Path) -> int | None:
        try:
            return os.stat(path).st_mtime_ns
        except OSError:
            return None

    package = _keyring_folder()
    config = _keyring_config_root() / "keyringrc.cfg"
    return {
        "bus": os.environ.get("DBUS_SESSION_BUS_ADDRESS", ""),
        "python": sys.executable,
        "keyring": [str(package), mtime(package)],
        "packages": [str(package.parent), mtime(package.parent)],
        "config": [str(config), mtime(config)],
    }


def _keyring_folder() -> Path:
    """keyring's package folder: the imported one, else the one an import would find."""
    loaded = sys.modules.get("keyring")
    origin = getattr(loaded, "__file__", None) if loaded is not None else None
    if origin is None:
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec("keyring")
        origin = spec.origin if spec is not None else None
    return Path(origin or "").parent


def _keyring_config_root() -> Path:
    """keyring's ``platform_.config_root()``: on Linux and the other Unixes its rule is
    ``$XDG_CONFIG_HOME`` (or ``~/.config``) / python_keyring; elsewhere keyring is asked."""
    if sys.platform in ("darwin", "win32"):
        import keyring.util.platform_ as platform_

        return Path(platform_.config_root())
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config", "python_keyring")


def _remembered_name(memory_file: Path) -> str | None:
    """The backend class the memory names, when it may be trusted (see remembered_keyring)."""
    from trayapp.core import files

    try:
        raw = files.read_bytes(memory_file, trusted=True, max_bytes=4096, what="keyring memory")
        memory = json.loads(raw) if raw is not None else None
    except (UnsafeFileError, ValueError):
        return None  # another user's, shared, too big or garbage: never trusted
    if not isinstance(memory, dict) or memory.get("version") != MEMORY_VERSION:
        return None
    name = memory.get("backend")
    if name not in REMEMBERED_BACKENDS or memory.get("circumstances") != _circumstances():
        return None
    return str(name)


def remembered_keyring(memory_file: Path) -> KeyringBackend | None:
    """The backend a discovery chose before, when nothing it depends on has changed since and
    the backend itself still says it is usable here (for the Secret Service: a D-Bus round trip
    to the daemon); else None, and the caller discovers afresh.

    The memory is used only when it is the user's own file, writable by nobody else, names one
    of :data:`REMEMBERED_BACKENDS`, and matches :func:`_circumstances` exactly.
    """
    name = _remembered_name(memory_file)
    if name is None:
        return None
    module_name, _, class_name = name.rpartition(".")
    try:
        import importlib

        backend = getattr(importlib.import_module(module_name), class_name)()
    except Exception:  # uninstalled since, or broken: discover afresh
        return None
    return backend if _why_not_real(backend) is None else None


SECRET_SERVICE = "keyring.backends.SecretService.Keyring"


def lean_secret_service(memory_file: Path) -> SecretServiceReader | None:
    """A reader of keyring's Secret Service items that needs no keyring import, when the
    memory may be trusted (:func:`remembered_keyring`'s rules), names the Secret Service, and
    nothing would make keyring itself read otherwise: no ``PYTHON_KEYRING_BACKEND``, no
    ``KEYRING_PROPERTY_*`` (another collection or scheme). The daemon is not asked here: a read
    that finds none hands over to keyring (:class:`KeyringStore`)."""
    if os.environ.get("PYTHON_KEYRING_BACKEND") or any(
        name.startswith("KEYRING_PROPERTY_") for name in os.environ
    ):
        return None
    if _remembered_name(memory_file) != SECRET_SERVICE:
        return None
    return SecretServiceReader()


def remember_keyring(memory_file: Path, backend: KeyringBackend) -> None:
    """Remember the discovered ``backend`` for the next process (best effort: a memory that
    cannot be written only costs the next process a discovery)."""
    from trayapp.core import files

    cls = type(backend)
    name = f"{cls.__module__}.{cls.__qualname__}"
    if name not in REMEMBERED_BACKENDS:
        return
    memory = {"version": MEMORY_VERSION, "backend": name, "circumstances": _circumstances()}
    with contextlib.suppress(Exception):
        files.private_dir(memory_file.parent)
        files.atomic_write(memory_file, json.dumps(memory, indent=1) + "\n", mode=0o600)


def resolve_keyring(
    backend: KeyringBackend | None = None, *, memory_file: Path | None = None
) -> tuple[KeyringBackend | None, str]:
    """The real OS store to use (``backend`` or keyring's choice) and its label, or None and why.

    A ChainerBackend is looked through: its first real store is used, never a plaintext one.
    ``memory_file``: where keyring's choice is remembered between processes (none: discover).
    ``PYTHON_KEYRING_BACKEND`` is keyring's own (and cheap) way to name one: always honoured.
    """
    import keyring

    use_memory = (
        backend is None and memory_file is not None and not os.environ.get("PYTHON_KEYRING_BACKEND")
    )
    if use_memory and memory_file is not None:
        remembered = remembered_keyring(memory_file)
        if remembered is not None:
            return remembered, f"keyring ({_label(remembered)})"
    found, label = _resolve_keyring(keyring.get_keyring() if backend is None else backend)
    if use_memory and memory_file is not None and found is not None:
        remember_keyring(memory_file, found)
    return found, label


def _resolve_keyring(candidate: KeyringBackend) -> tuple[KeyringBackend | None, str]:
    from keyring.backends.chainer import ChainerBackend

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
        memory_file: Path | None = None,
    ) -> None:
        """``backend`` names a keyring backend; by default keyring's own choice.

        ``lock_file`` serialises changes of the index between processes (the tray and the CLI).
        ``memory_file`` remembers keyring's choice between processes (:func:`resolve_keyring`).
        """
        self.service = service
        self._requested = backend
        self._lock_file = lock_file
        self._memory_file = memory_file
        self._backend: KeyringBackend | None = None
        self._reader: SecretServiceReader | None = None  # reads without keyring's import
        self._lean_tried = False
        self._label = ""

    def __repr__(self) -> str:
        return f"KeyringStore(service={self.service!r})"

    @property
    def name(self) -> str:
        if self._backend is None and self._lean() is not None:
            return self._label
        self._resolved()
        return self._label

    def get(self, key: str) -> str | None:
        self._check(key)
        value: object = UNREACHABLE
        if self._backend is None and (reader := self._lean()) is not None:
            value = self._call("read a secret", reader.get_password, key)
        if value is UNREACHABLE:  # keyring itself then finds why, and says it
            self._reader = None
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

    def _lean(self) -> SecretServiceReader | None:
        """The Secret Service reader that spares keyring's import, where the remembered
        discovery allows it (:func:`lean_secret_service`); looked for once."""
        if not self._lean_tried:
            self._lean_tried = True
            if self._requested is None and self._memory_file is not None:
                self._reader = lean_secret_service(self._memory_file)
                if self._reader is not None:
                    self._label = "keyring (SecretService)"
        return self._reader

    def _resolved(self) -> KeyringBackend:
        if self._backend is None:
            backend, label = resolve_keyring(self._requested, memory_file=self._memory_file)
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

    def __init__(
        self,
        service: str = DEFAULT_SERVICE,
        *,
        lock_file: Path | None = None,
        memory_file: Path | None = None,
    ) -> None:
        self._service = service
        self._lock_file = lock_file
        self._memory_file = memory_file

    def status(self) -> BackendStatus:
        try:
            backend, label = resolve_keyring(memory_file=self._memory_file)
        except Exception as error:  # a broken keyring install must not break `aacli crypto`
            backend, label = None, f"keyring cannot be loaded ({type(error).__name__})"
        if backend is not None and (silent := unanswered(backend)) is not None:
            backend, label = None, f"{label} {silent}"
        if backend is None:
            label = f"{label}; {_INSTALL_HINT}"
        return BackendStatus(self.backend, backend is not None, self.priority, label)

    def open(self) -> KeyringStore:
        store = KeyringStore(
            self._service, lock_file=self._lock_file, memory_file=self._memory_file
        )
        store.name  # noqa: B018 - resolves now, so an unusable keyring fails here
        return store
