"""An encrypted vault file (scrypt + AES-256-GCM) for when no OS keyring can be used.

The file format is described in docs/SECURITY.md, section "Vault format".
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from filelock import FileLock, Timeout

from trayapp.core.errors import (
    SecretStoreError,
    UsageError,
    VaultCorruptError,
    VaultPassphraseError,
)
from trayapp.core.secrets.base import BackendStatus, Passphrase, check_key

MAGIC = b"AACLIVLT"
FORMAT_VERSION = 1
KDF_SCRYPT = 1
# magic, version, kdf id, log2(N), r, p, kdf salt, save salt, nonce, verifier, ciphertext length
_HEADER = struct.Struct(">8sBBBBB16s16s12s32sI")
_CHECKSUM_SIZE = 32
_TAG_SIZE = 16
_VERIFIER_LABEL = b"aacli vault v1 passphrase verifier"
_FILE_KEY_INFO = b"aacli vault v1 file key"
# A hostile header must not make us allocate without bound: 1 GiB of scrypt memory at most.
_MAX_SCRYPT_MEMORY = 1 << 30
_LOCK_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost: N = 2**log2_n, block size r, parallelism p."""

    log2_n: int = 17
    r: int = 8
    p: int = 1

    @property
    def n(self) -> int:
        return 1 << self.log2_n

    def plausible(self) -> bool:
        """Whether a header's parameters are ones this code would ever run."""
        return (
            1 <= self.log2_n <= 24
            and 1 <= self.r <= 32
            and 1 <= self.p <= 16
            and 128 * self.r * self.n <= _MAX_SCRYPT_MEMORY
        )


DEFAULT_SCRYPT = ScryptParams()
"""N = 2**17 (128 MiB, about half a second): what every real vault is written with."""


@dataclass(frozen=True)
class _Keys:
    """The scrypt output for one (passphrase, kdf salt, params): 32 bytes each."""

    kdf_salt: bytes
    params: ScryptParams
    master: bytes
    verifier_key: bytes

    def __repr__(self) -> str:
        return f"_Keys(params={self.params!r})"

    def verifier(self) -> bytes:
        return hmac.new(self.verifier_key, _VERIFIER_LABEL, hashlib.sha256).digest()

    def file_key(self, save_salt: bytes) -> bytes:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=save_salt, info=_FILE_KEY_INFO)
        return hkdf.derive(self.master)


@dataclass(frozen=True)
class _Sealed:
    """A parsed vault file whose checksum and lengths are right, not yet decrypted."""

    header: bytes
    params: ScryptParams
    kdf_salt: bytes
    save_salt: bytes
    nonce: bytes
    verifier: bytes
    ciphertext: bytes


def _derive(passphrase: str, kdf_salt: bytes, params: ScryptParams) -> _Keys:
    kdf = Scrypt(salt=kdf_salt, length=64, n=params.n, r=params.r, p=params.p)
    out = kdf.derive(passphrase.encode("utf-8"))
    return _Keys(kdf_salt=kdf_salt, params=params, master=out[:32], verifier_key=out[32:])


def _check_new_passphrase(passphrase: str) -> None:
    # The old tool stored everything in plain text when given an empty passphrase.
    if not passphrase:
        raise UsageError("The vault passphrase must not be empty.")


class Vault:
    """A SecretStore in one encrypted file; the passphrase is asked for once per object."""

    def __init__(
        self, path: Path, passphrase: Passphrase, *, scrypt: ScryptParams = DEFAULT_SCRYPT
    ) -> None:
        """``scrypt`` sets the cost of vaults this object writes; lower it only in tests."""
        self.path = path
        self._passphrase = passphrase
        self._scrypt = scrypt
        self._keys: _Keys | None = None

    def __repr__(self) -> str:
        return f"Vault({str(self.path)!r})"

    @property
    def name(self) -> str:
        return f"vault ({self.path})"

    @property
    def exists(self) -> bool:
        return self.path.exists()

    @classmethod
    def create(
        cls, path: Path, passphrase_value: str, *, scrypt: ScryptParams = DEFAULT_SCRYPT
    ) -> Vault:
        """Write a new empty vault at ``path``; an existing file is never replaced."""
        _check_new_passphrase(passphrase_value)
        _make_private_dir(path.parent)
        vault = cls(path, lambda: passphrase_value, scrypt=scrypt)
        with vault._locked():
            if path.exists():
                raise SecretStoreError(f"A vault already exists at {path}; it was not changed.")
            vault._keys = _derive(passphrase_value, secrets.token_bytes(16), scrypt)
            vault._write({}, vault._keys)
        return vault

    def get(self, key: str) -> str | None:
        check_key(key)
        return self._read().get(key)

    def keys(self) -> list[str]:
        return sorted(self._read())

    def set(self, key: str, value: str) -> None:
        check_key(key)
        if not isinstance(value, str):
            raise SecretStoreError(f"The value for {key} must be text.")
        _make_private_dir(self.path.parent)
        with self._locked():
            if self.path.exists():
                stored = self._read(must_exist=True)
                keys = self._current_keys()
            else:
                # The first secret creates the vault, under a passphrase asked for now.
                passphrase = self._passphrase()
                _check_new_passphrase(passphrase)
                stored, keys = {}, _derive(passphrase, secrets.token_bytes(16), self._scrypt)
                self._keys = keys
            stored[key] = value
            self._write(stored, keys)

    def delete(self, key: str) -> None:
        check_key(key)
        with self._locked():
            stored = self._read()
            if key in stored:
                del stored[key]
                self._write(stored, self._current_keys())

    def change_passphrase(self, old: str, new: str) -> None:
        """Re-encrypt under ``new`` (fresh salt, current scrypt cost); atomic on disk."""
        _check_new_passphrase(new)
        with self._locked():
            sealed = self._load(must_exist=True)
            assert sealed is not None
            old_keys = _derive(old, sealed.kdf_salt, sealed.params)
            stored = self._open(sealed, old_keys)
            new_keys = _derive(new, secrets.token_bytes(16), self._scrypt)
            self._write(stored, new_keys)
            self._keys = new_keys
            self._passphrase = lambda: new

    # -- reading ---------------------------------------------------------------------------

    def _read(self, *, must_exist: bool = False) -> dict[str, str]:
        sealed = self._load(must_exist=must_exist)
        if sealed is None:
            return {}
        keys = self._keys_for(sealed)
        stored = self._open(sealed, keys)
        self._keys = keys
        return stored

    def _load(self, *, must_exist: bool) -> _Sealed | None:
        self._check_permissions()
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            if must_exist:
                raise SecretStoreError(
                    f"There is no vault at {self.path} yet; it is created when the first secret is stored (aacli config add-profile)."
                ) from None
            return None
        except OSError as error:
            raise SecretStoreError(
                f"Cannot read the vault file {self.path}: {error.strerror}."
            ) from None
        return self._parse(data)

    def _parse(self, data: bytes) -> _Sealed:
        if not data.startswith(MAGIC):
            raise self._corrupt("it does not start like an aacli vault")
        if len(data) < _HEADER.size + _TAG_SIZE + _CHECKSUM_SIZE:
            raise self._corrupt("it is too short: truncated")
        (_, version, kdf_id, log2_n, r, p, kdf_salt, save_salt, nonce, verifier, length) = (
            _HEADER.unpack_from(data)
        )
        if _HEADER.size + length + _CHECKSUM_SIZE != len(data):
            raise self._corrupt("its length does not match its header: truncated or extended")
        body = data[:-_CHECKSUM_SIZE]
        if not hmac.compare_digest(hashlib.sha256(body).digest(), data[-_CHECKSUM_SIZE:]):
            raise self._corrupt("checksum mismatch")
        if version != FORMAT_VERSION:
            raise SecretStoreError(
                f"The vault file {self.path} has format version {version}, which this "
                "version of aacli cannot read; upgrade aacli. The file was not changed."
            )
        params = ScryptParams(log2_n=log2_n, r=r, p=p)
        if kdf_id != KDF_SCRYPT or not params.plausible() or length < _TAG_SIZE:
            raise self._corrupt("its key derivation settings are invalid")
        return _Sealed(
            header=data[: _HEADER.size],
            params=params,
            kdf_salt=kdf_salt,
            save_salt=save_salt,
            nonce=nonce,
            verifier=verifier,
            ciphertext=body[_HEADER.size :],
        )

    def _keys_for(self, sealed: _Sealed) -> _Keys:
        """The cached keys if they fit this file, else scrypt on the passphrase asked for now."""
        keys = self._keys
        if keys is None or keys.kdf_salt != sealed.kdf_salt or keys.params != sealed.params:
            keys = _derive(self._passphrase(), sealed.kdf_salt, sealed.params)
        return keys

    def _current_keys(self) -> _Keys:
        assert self._keys is not None, "keys are set by the _read() before every write"
        return self._keys

    def _open(self, sealed: _Sealed, keys: _Keys) -> dict[str, str]:
        if not hmac.compare_digest(keys.verifier(), sealed.verifier):
            raise VaultPassphraseError("Wrong vault passphrase.")
        try:
            plaintext = AESGCM(keys.file_key(sealed.save_salt)).decrypt(
                sealed.nonce, sealed.ciphertext, sealed.header
            )
        except InvalidTag:
            raise self._corrupt("authentication failed") from None
        try:
            stored = json.loads(plaintext.decode("utf-8"))
        except ValueError:
            raise self._corrupt("its contents are not valid") from None
        if not isinstance(stored, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in stored.items()
        ):
            raise self._corrupt("its contents are not valid")
        return stored

    def _corrupt(self, reason: str) -> VaultCorruptError:
        return VaultCorruptError(
            f"The vault file {self.path} is damaged or was tampered with ({reason}); "
            "it was not changed."
        )

    # -- writing ---------------------------------------------------------------------------

    def _write(self, stored: dict[str, str], keys: _Keys) -> None:
        save_salt = secrets.token_bytes(16)
        nonce = secrets.token_bytes(12)
        plaintext = json.dumps(stored, sort_keys=True, separators=(",", ":")).encode("utf-8")
        header = _HEADER.pack(
            MAGIC,
            FORMAT_VERSION,
            KDF_SCRYPT,
            keys.params.log2_n,
            keys.params.r,
            keys.params.p,
            keys.kdf_salt,
            save_salt,
            nonce,
            keys.verifier(),
            len(plaintext) + _TAG_SIZE,
        )
        ciphertext = AESGCM(keys.file_key(save_salt)).encrypt(nonce, plaintext, header)
        body = header + ciphertext
        self._check_permissions()
        try:
            _replace_atomically(self.path, body + hashlib.sha256(body).digest())
        except OSError as error:
            raise SecretStoreError(
                f"Cannot write the vault file {self.path}: {error.strerror}; it was not changed."
            ) from None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise every writer of this vault (the tray and the CLI may run at once)."""
        lock = FileLock(
            self.path.with_name(self.path.name + ".lock"),
            timeout=_LOCK_TIMEOUT_SECONDS,
            mode=0o600,
        )
        try:
            lock.acquire()
        except Timeout:
            raise SecretStoreError(
                f"The vault {self.path} is being changed by another aacli; try again."
            ) from None
        except OSError as error:
            raise SecretStoreError(
                f"Cannot lock the vault {self.path}: {error.strerror}."
            ) from None
        try:
            yield
        finally:
            lock.release()

    def _check_permissions(self) -> None:
        if os.name != "posix":
            return
        parent = self.path.parent
        try:
            if stat.S_IMODE(parent.stat().st_mode) & 0o022:
                raise SecretStoreError(
                    f"The folder {parent} holding the vault is writable by other users; "
                    f"fix it with: chmod 700 {parent}"
                )
            mode = stat.S_IMODE(self.path.stat().st_mode)
        except FileNotFoundError:
            return
        if mode & 0o022:
            raise SecretStoreError(
                f"The vault file {self.path} is writable by other users; "
                f"fix it with: chmod 600 {self.path}"
            )


def _make_private_dir(folder: Path) -> None:
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        raise SecretStoreError(f"Cannot create the folder {folder}: {error.strerror}.") from None


def _replace_atomically(path: Path, data: bytes) -> None:
    """Temp file in the same folder, fsync, rename: a crash leaves the old or the new file."""
    # Every writer holds the vault lock, so any temp file seen now was left by a killed writer.
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        with suppress(OSError):
            stale.unlink()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as tmp_file:
            tmp_file.write(data)
            tmp_file.flush()
            os.fsync(tmp_file.fileno())
        tmp.chmod(0o600)
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            tmp.unlink()
        raise
    if os.name == "posix":
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class VaultSecretBackend:
    """The vault as a backend: always usable, below a real keyring."""

    backend = "vault"
    priority = 1

    def __init__(self, path: Path, passphrase: Passphrase) -> None:
        self._path = path
        self._passphrase = passphrase

    def status(self) -> BackendStatus:
        detail = f"vault ({self._path})"
        if not self._path.exists():
            detail += ", not created yet"
        return BackendStatus(self.backend, viable=True, priority=self.priority, detail=detail)

    def open(self) -> Vault:
        return Vault(self._path, self._passphrase)
