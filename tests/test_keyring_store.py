"""The OS keyring store against a real Secret Service, and the refusal of plaintext keyrings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import SecretService, fail, null
from keyring.backends.chainer import ChainerBackend
from secret_service import (  # the lead moves this fixture to conftest.py later
    SecretServiceEnv,
    running_secret_service,
    secret_service,  # noqa: F401 - a pytest fixture, used by name
)

from trayapp.core.errors import SecretStoreError
from trayapp.core.secrets import describe_backends, open_secret_store
from trayapp.core.secrets.keyring_store import INDEX_KEY, KeyringStore, keyring_viable
from trayapp.core.secrets.vault import Vault

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
REPO = Path(__file__).resolve().parents[1]


def never_asked() -> str:
    raise AssertionError("the vault passphrase was asked for")


class PlaintextKeyring(KeyringBackend):
    """A working keyring that keeps secrets in a JSON file, as keyrings.alt's PlaintextKeyring."""

    priority = 0.5  # type: ignore[assignment]  # keyrings.alt's own value

    def __init__(self, file_path: Path) -> None:
        super().__init__()
        self.file_path = file_path

    def _load(self) -> dict[str, str]:
        return json.loads(self.file_path.read_text()) if self.file_path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\0{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        items = self._load()
        items[f"{service}\0{username}"] = password
        self.file_path.write_text(json.dumps(items))

    def delete_password(self, service: str, username: str) -> None:
        items = self._load()
        items.pop(f"{service}\0{username}")
        self.file_path.write_text(json.dumps(items))


class NamedLikeKeyringsAlt(PlaintextKeyring):
    """Caught by its module alone: no file_path attribute."""

    __module__ = "keyrings.alt.file"

    def __init__(self, file_path: Path) -> None:
        KeyringBackend.__init__(self)
        self._path = file_path


def plaintext_backends(tmp_path: Path) -> list[KeyringBackend]:
    found: list[KeyringBackend] = [
        PlaintextKeyring(tmp_path / "plain.json"),
        NamedLikeKeyringsAlt(tmp_path / "plain2.json"),
        fail.Keyring(),
        null.Keyring(),
    ]
    try:  # the real thing, where it is installed
        from keyrings.alt.file import EncryptedKeyring
        from keyrings.alt.file import PlaintextKeyring as AltPlaintext
    except ImportError:
        pass
    else:
        found += [AltPlaintext(), EncryptedKeyring()]
    return found


def chainer_of(*backends: KeyringBackend) -> ChainerBackend:
    class Chain(ChainerBackend):
        pass

    Chain.backends = list(backends)  # type: ignore[assignment,misc]
    return Chain()


@pytest.fixture
def forced_keyring() -> Iterator[None]:
    """Restores keyring's process-wide backend after a test forced one."""
    before = keyring.get_keyring()
    yield
    keyring.set_keyring(before)


@pytest.fixture
def on_bus(secret_service: SecretServiceEnv, monkeypatch: pytest.MonkeyPatch) -> SecretServiceEnv:  # noqa: F811
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", secret_service.bus_address)
    return secret_service


def secret_tool_lookup(service: SecretServiceEnv, key: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["secret-tool", "lookup", "service", "aacli", "username", key],
        env=service.env,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )


@pytest.mark.keyring
def test_round_trip_in_real_secret_service(on_bus: SecretServiceEnv, forced_keyring: None) -> None:
    keyring.set_keyring(SecretService.Keyring())
    assert keyring_viable()
    store = KeyringStore()
    assert store.name == "keyring (SecretService)"
    store.set("acme/secret_access_key", SECRET)
    store.set("acme/totp_seed", "JBSWY3DPEHPK3PXP")
    assert store.get("acme/secret_access_key") == SECRET
    assert store.keys() == ["acme/secret_access_key", "acme/totp_seed"]

    found = secret_tool_lookup(on_bus, "acme/secret_access_key")
    assert found.returncode == 0 and found.stdout == SECRET  # really in gnome-keyring
    assert json.loads(secret_tool_lookup(on_bus, INDEX_KEY).stdout) == store.keys()

    store.delete("acme/secret_access_key")
    store.delete("acme/secret_access_key")  # missing is fine
    assert store.get("acme/secret_access_key") is None
    assert secret_tool_lookup(on_bus, "acme/secret_access_key").stdout == ""
    assert KeyringStore().keys() == ["acme/totp_seed"]
    with pytest.raises(SecretStoreError, match="reserved"):
        store.set(INDEX_KEY, "[]")


@pytest.mark.keyring
def test_auto_picks_real_keyring(
    on_bus: SecretServiceEnv, forced_keyring: None, tmp_path: Path
) -> None:
    keyring.set_keyring(SecretService.Keyring())
    store = open_secret_store("auto", tmp_path / "vault.bin", never_asked)
    assert isinstance(store, KeyringStore)
    statuses = describe_backends(tmp_path / "vault.bin")
    assert [(s.backend, s.viable) for s in statuses] == [("keyring", True), ("vault", True)]
    assert statuses[0].detail == "keyring (SecretService)"
    assert "not created yet" in statuses[1].detail


@pytest.mark.keyring
def test_chainer_uses_its_real_store(
    on_bus: SecretServiceEnv, forced_keyring: None, tmp_path: Path
) -> None:
    plain = PlaintextKeyring(tmp_path / "plain.json")
    keyring.set_keyring(chainer_of(plain, SecretService.Keyring()))
    assert keyring_viable()
    store = KeyringStore()
    assert store.name == "keyring (SecretService)"
    store.set("chain/secret_access_key", SECRET)
    assert secret_tool_lookup(on_bus, "chain/secret_access_key").stdout == SECRET
    assert not plain.file_path.exists()  # nothing went to the plaintext file
    store.delete("chain/secret_access_key")


@pytest.mark.keyring
def test_locked_keyring_is_one_clear_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forced_keyring: None
) -> None:
    # Its own daemon: a locked collection cannot be unlocked again without a prompter.
    with running_secret_service(tmp_path) as service:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", service.bus_address)
        keyring.set_keyring(SecretService.Keyring())
        store = KeyringStore()
        store.set("acme/secret_access_key", SECRET)
        import secretstorage

        connection = secretstorage.dbus_init()
        try:
            secretstorage.get_default_collection(connection).lock()
        finally:
            connection.close()
        for action in (
            lambda: store.get("acme/secret_access_key"),
            lambda: store.set("acme/secret_access_key", "new value"),
        ):
            with pytest.raises(SecretStoreError) as caught:
                action()
            assert str(caught.value).startswith("The system keyring is locked")
            assert SECRET not in str(caught.value) and "new value" not in str(caught.value)


@pytest.mark.keyring
def test_unreachable_bus_is_one_clear_sentence(
    on_bus: SecretServiceEnv, forced_keyring: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    keyring.set_keyring(SecretService.Keyring())
    store = KeyringStore()
    store.set("acme/secret_access_key", SECRET)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus'}")
    with pytest.raises(SecretStoreError, match="cannot be reached") as caught:
        store.get("acme/secret_access_key")
    assert SECRET not in str(caught.value)
    assert not keyring_viable()
    with pytest.raises(SecretStoreError, match="No usable system keyring"):
        KeyringStore().get("acme/secret_access_key")


def test_plaintext_and_null_keyrings_are_not_viable(forced_keyring: None, tmp_path: Path) -> None:
    for backend in plaintext_backends(tmp_path):
        keyring.set_keyring(backend)
        assert not keyring_viable(), type(backend)
        assert not keyring_viable(chainer_of(backend)), type(backend)
        store = open_secret_store("auto", tmp_path / "cfg" / "vault.bin", never_asked)
        assert isinstance(store, Vault), type(backend)
        with pytest.raises(SecretStoreError, match=r"No usable system keyring.*gnome-keyring"):
            open_secret_store("keyring", tmp_path / "cfg" / "vault.bin", never_asked)
        keyring_status = describe_backends(tmp_path / "cfg" / "vault.bin")
        assert [(s.backend, s.viable) for s in keyring_status] == [
            ("keyring", False),
            ("vault", True),
        ]
    assert not (tmp_path / "plain.json").exists()


def test_unknown_backend_name(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="Unknown secret backend 'kwallet'"):
        open_secret_store("kwallet", tmp_path / "vault.bin", never_asked)


def test_importing_secrets_stays_cheap() -> None:
    code = (
        "import sys, trayapp.core.secrets\n"
        "slow = [m for m in ('keyring', 'cryptography', 'secretstorage') if m in sys.modules]\n"
        "print(','.join(slow))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == ""
