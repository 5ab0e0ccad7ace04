"""An encrypted vault file (scrypt + AES-256-GCM) for when no OS keyring can be used.

The file format is described in docs/SECURITY.md, section "Vault format".
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from trayapp.core import files
from trayapp.core.errors import (
    SecretStoreError,
    UnsafeFileError,
    VaultCorruptError,
    VaultPassphraseError,
)
from trayapp.core.secrets import passphrase as phrase
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

    @property
    def memory(self) -> int:
        """Bytes scrypt allocates: 128·N·r."""
        return 128 * self.r * self.n

    @property
    def work(self) -> int:
        """What the time to unlock grows with: N·r·p."""
        return self.n * self.r * self.p

    def plausible(self) -> bool:
        """Whether a header's parameters are ones this code would ever run.

        A hostile or broken header must not buy a long unlock or a huge allocation: at most
        twice the default's memory and eight times its work (a few seconds at worst).
        """
        return (
            1 <= self.log2_n <= 24
            and 1 <= self.r <= 32
            and 1 <= self.p <= 16
            and self.log2_n < 16 * self.r  # scrypt's own rule, N < 2^(128·r/8)
            and self.memory <= 2 * DEFAULT_SCRYPT.memory
            and self.work <= 8 * DEFAULT_SCRYPT.work
        )

    def weaker_than(self, other: ScryptParams) -> bool:
        """Less memory or less work than ``other``: cheaper to guess passphrases against."""
        return self.memory < other.memory or self.work < other.work


DEFAULT_SCRYPT = ScryptParams()
"""N = 2**17, r = 8, p = 1 (128 MiB, about half a second): what every real vault is written with.

A vault read with weaker parameters (written by an old aacli, or by a test) opens, and is
re-encrypted at this cost on its next save.
"""


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


def _new_keys(passphrase: str, params: ScryptParams) -> _Keys:
    """Keys for a new passphrase (already checked): NFC, fresh salt."""
    return _derive(phrase.normalise(passphrase), secrets.token_bytes(16), params)


class Vault:
    """A SecretStore in one encrypted file; the passphrase is asked for once per object."""

    def __init__(
        self, path: Path, passphrase: Passphrase, *, scrypt: ScryptParams = DEFAULT_SCRYPT
    ) -> None:
        """``scrypt`` is the cost this object writes at, and the floor below which a vault it
        reads is re-encrypted on the next save. Only tests lower it (for speed): production
        never does, and nothing read from a file can."""
        self.path = path
        self._passphrase = passphrase
        self._scrypt = scrypt
        self._keys: _Keys | None = None
        # Set while the open vault must be re-keyed at the next save (weak cost, or keyed with
        # a passphrase that was not NFC): the NFC passphrase to re-key it with, then dropped.
        self._rekey_with: str | None = None

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
        phrase.check_new(passphrase_value)
        vault = cls(path, lambda: passphrase_value, scrypt=scrypt)
        with vault._locked():
            if path.exists():
                raise SecretStoreError(f"A vault already exists at {path}; it was not changed.")
            vault._keys = _new_keys(passphrase_value, scrypt)
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
        first = self._unlock_before_locking()
        with self._locked():
            sealed = self._load(must_exist=False)
            if sealed is not None:
                stored = self._unseal(sealed)
                keys = self._keys_to_write()
            else:
                # The first secret creates the vault, under the passphrase asked for above.
                typed = first if first is not None else self._passphrase()
                phrase.check_new(typed)
                stored, keys = {}, _new_keys(typed, self._scrypt)
                self._keys = keys
            stored[key] = value
            self._write(stored, keys)

    def _unlock_before_locking(self) -> str | None:
        """Ask for the passphrase (and derive the keys) before the lock is taken, so that no
        other aacli waits on a person typing; a new vault's passphrase when there is none yet."""
        sealed = self._load(must_exist=False)
        if sealed is not None:
            self._unseal(sealed)
            return None
        typed = self._passphrase()
        phrase.check_new(typed)
        return typed

    def delete(self, key: str) -> None:
        check_key(key)
        self._read()  # the passphrase, if it must be asked for, is asked before the lock
        with self._locked():
            stored = self._read()
            if key in stored:
                del stored[key]
                self._write(stored, self._keys_to_write())

    def change_passphrase(self, old: str, new: str) -> None:
        """Re-encrypt under ``new`` (fresh salt, current scrypt cost); atomic on disk."""
        phrase.check_new(new)
        with self._locked():
            sealed = self._load(must_exist=True)
            assert sealed is not None
            stored = self._open(sealed, self._unlock(sealed, old))
            new_keys = _new_keys(new, self._scrypt)
            self._write(stored, new_keys)
            self._keys, self._rekey_with = new_keys, None
            self._passphrase = lambda: new

    def remove(self) -> None:
        """Delete the vault file (the target too, when ``path`` is a symlink), its lock and
        temp files: every secret in it is gone. Used by ``aacli reset``."""
        with self._locked():
            target = self.path.resolve()
            for path in {self.path, target}:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            for folder, name in {(self.path.parent, self.path.name), (target.parent, target.name)}:
                for temp in folder.glob(f".{name}.*"):
                    with contextlib.suppress(OSError):
                        temp.unlink()
        with contextlib.suppress(FileNotFoundError):
            self._lock_file.unlink()
        self._keys = self._rekey_with = None

    # -- reading ---------------------------------------------------------------------------

    def _read(self, *, must_exist: bool = False) -> dict[str, str]:
        sealed = self._load(must_exist=must_exist)
        return {} if sealed is None else self._unseal(sealed)

    def _unseal(self, sealed: _Sealed) -> dict[str, str]:
        keys = self._keys
        if keys is None or keys.kdf_salt != sealed.kdf_salt or keys.params != sealed.params:
            keys = self._unlock(sealed, self._passphrase())
        stored = self._open(sealed, keys)
        self._keys = keys
        return stored

    def _unlock(self, sealed: _Sealed, typed: str) -> _Keys:
        """The keys ``typed`` gives for this file: its NFC form, else as typed (older vaults)."""
        forms = phrase.forms_to_try(typed)
        for form in forms:
            try:
                keys = _derive(form, sealed.kdf_salt, sealed.params)
            except (MemoryError, ValueError):  # settings OpenSSL refuses, though plausible
                raise self._corrupt("its key derivation settings cannot be used") from None
            if hmac.compare_digest(keys.verifier(), sealed.verifier):
                stale = form != forms[0] or sealed.params.weaker_than(self._scrypt)
                self._rekey_with = forms[0] if stale else None
                return keys
        raise VaultPassphraseError("Wrong vault passphrase.")

    def _keys_to_write(self) -> _Keys:
        """The keys of the open vault, or new ones (NFC, default cost) when it must be re-keyed."""
        assert self._keys is not None, "keys are set by the read before every write"
        if self._rekey_with is not None:
            self._keys = _new_keys(self._rekey_with, self._scrypt)
            self._rekey_with = None
        return self._keys

    def _load(self, *, must_exist: bool) -> _Sealed | None:
        try:
            # The folder a write would go to (the target's, for a symlink) must be private too.
            for folder in {self.path.parent, self.path.resolve().parent}:
                files.check_trusted_path(folder, what="The folder holding the vault")
            data = files.read_bytes(self.path, trusted=True, what="The vault file")
        except (UnsafeFileError, OSError, RuntimeError) as error:
            raise SecretStoreError(
                _sentence(error, f"Cannot read the vault file {self.path}")
            ) from None
        if data is None:
            if must_exist:
                raise SecretStoreError(
                    f"There is no vault at {self.path} yet; it is created when the first secret is stored (aacli config add-profile)."
                )
            return None
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
        if kdf_id != KDF_SCRYPT or length < _TAG_SIZE:
            raise self._corrupt("its key derivation settings are invalid")
        if not params.plausible():
            raise self._corrupt(
                f"its key derivation settings (scrypt N=2^{log2_n}, r={r}, p={p}) are invalid "
                "or cost more than aacli allows"
            )
        return _Sealed(
            header=data[: _HEADER.size],
            params=params,
            kdf_salt=kdf_salt,
            save_salt=save_salt,
            nonce=nonce,
            verifier=verifier,
            ciphertext=body[_HEADER.size :],
        )

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
        try:
            # Follows a symlinked vault.bin (the target is rewritten), as the AWS files are.
            files.atomic_write(self.path, body + hashlib.sha256(body).digest())
        except UnsafeFileError as error:
            raise SecretStoreError(str(error)) from None

    @property
    def _lock_file(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise every writer of this vault (the tray and the CLI may run at once)."""
        try:
            with files.file_lock(
                self._lock_file,
                timeout=_LOCK_TIMEOUT_SECONDS,
                busy=f"The vault {self.path} is being changed by another aacli; try again.",
            ):
                yield
        except UnsafeFileError as error:
            raise SecretStoreError(str(error)) from None


def _sentence(error: BaseException, prefix: str) -> str:
    if isinstance(error, UnsafeFileError):
        return str(error)
    return f"{prefix}: {files.reason(error)}."


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
