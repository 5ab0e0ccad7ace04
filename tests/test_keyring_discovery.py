"""keyring's backend discovery is done once and remembered in aacli's state folder; a later
process checks the memory cheaply and discovers afresh on any doubt (issue 16, auth cost).

Every case runs real processes against a real Secret Service (gnome-keyring on a private
D-Bus session bus): the first discovers and remembers, the next ones use or refuse the memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ATTACKER_UID, ROOT
from secret_service import (
    SecretServiceEnv,
    running_secret_service,
    secret_service,  # noqa: F401 - a pytest fixture, used by name
)

MEMORY_FILE = "keyring-backend.json"  # trayapp.core.secrets.keyring_store.MEMORY_FILE

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

# A process that opens the keyring store as aacli does, stores and reads a secret, and says
# whether keyring's discovery ran (it leaves its choice in keyring.core) and what it imported.
CHILD = """
import json, sys
from pathlib import Path
import keyring.core
from trayapp.core.errors import SecretStoreError
from trayapp.core.secrets import open_secret_store

home = Path(sys.argv[1])
out = {}
try:
    store = open_secret_store("keyring", home / "vault.bin", lambda: "", state_dir=home / "state")
    store.set("acme/secret_access_key", sys.argv[2])
    out["read"] = store.get("acme/secret_access_key") == sys.argv[2]
    out["name"] = store.name
except SecretStoreError as error:
    out["error"] = str(error)
out["discovered"] = keyring.core._keyring_backend is not None
watched = ("antigravity", "keyrings.alt.file", "trayapp.core.secrets.vault")
out["imported"] = sorted(m for m in watched if m in sys.modules)
print(json.dumps(out))
"""


def open_store(home: Path, env: dict[str, str]) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(home), SECRET],
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "aacli").mkdir(mode=0o700)
    return tmp_path / "aacli"


def memory_of(home: Path) -> Path:
    return home / "state" / MEMORY_FILE


@pytest.mark.keyring
def test_the_second_process_uses_the_remembered_backend(
    secret_service: SecretServiceEnv,  # noqa: F811
    home: Path,
) -> None:
    """Issue 16 (keyring discovery): the first process discovers and remembers which backend
    (0600, in the state folder, no secret in it); the second uses it without a discovery.
    Neither loads the vault's module (cryptography's AES and scrypt) for the keyring."""
    first = open_store(home, secret_service.env)
    assert first == {
        "read": True,
        "name": "keyring (SecretService)",
        "discovered": True,
        "imported": [],
    }
    memory = memory_of(home)
    assert memory.stat().st_mode & 0o777 == 0o600
    assert (home / "state").stat().st_mode & 0o777 == 0o700
    text = memory.read_text(encoding="utf-8")
    assert json.loads(text)["backend"] == "keyring.backends.SecretService.Keyring"
    assert SECRET not in text

    second = open_store(home, secret_service.env)
    assert second == {**first, "discovered": False}


def plant(home: Path, **changes: object) -> None:
    """Change the memory a real discovery wrote (its circumstances stay right)."""
    memory = memory_of(home)
    content = json.loads(memory.read_text(encoding="utf-8"))
    content.update(changes)
    memory.write_text(json.dumps(content), encoding="utf-8")


@pytest.mark.keyring
@pytest.mark.parametrize(
    "stale",
    [
        "garbage",
        "world-writable",
        "plaintext backend",
        "unknown module",
        "other session bus",
        "older version",
    ],
)
def test_a_stale_or_doubtful_memory_is_never_trusted(
    secret_service: SecretServiceEnv,  # noqa: F811
    home: Path,
    stale: str,
) -> None:
    """Issue 16 (keyring discovery): garbage, a file others may write, a memory naming a
    backend outside the known OS stores (never even imported), another session bus or an
    older format: the process discovers afresh, works, and writes a good memory again."""
    env = dict(secret_service.env)
    assert open_store(home, env)["discovered"] is True
    memory = memory_of(home)
    if stale == "garbage":
        memory.write_bytes(b"\x00not json{")
    elif stale == "world-writable":
        memory.chmod(0o666)
    elif stale == "plaintext backend":
        plant(home, backend="keyrings.alt.file.PlaintextKeyring")
    elif stale == "unknown module":
        plant(home, backend="antigravity.Keyring")
    elif stale == "other session bus":
        env["DBUS_SESSION_BUS_ADDRESS"] += ",guid=0000"  # the same bus, spelled otherwise
    elif stale == "older version":
        plant(home, version=0)
    again = open_store(home, env)
    assert again == {
        "read": True,
        "name": "keyring (SecretService)",
        "discovered": True,
        "imported": [],
    }
    assert memory.stat().st_mode & 0o777 == 0o600
    assert json.loads(memory.read_text())["backend"] == "keyring.backends.SecretService.Keyring"
    assert open_store(home, env)["discovered"] is False  # the memory written again is good


@pytest.mark.keyring
def test_a_memory_planted_by_another_user_is_ignored(
    secret_service: SecretServiceEnv,  # noqa: F811
    home: Path,
    attacker_uid: int,
) -> None:
    """Issue 16 (keyring discovery): a memory that belongs to another uid is not used, even
    when it says exactly what a discovery would."""
    env = secret_service.env
    assert open_store(home, env)["discovered"] is True
    os.chown(memory_of(home), attacker_uid, -1)
    assert memory_of(home).stat().st_uid == ATTACKER_UID
    assert open_store(home, env)["discovered"] is True
    assert memory_of(home).stat().st_uid == os.getuid()  # replaced by the user's own


@pytest.mark.keyring
def test_a_memory_of_a_bus_that_is_gone_falls_back_to_a_clear_error(home: Path) -> None:
    """Issue 16 (keyring discovery): the session bus of the memory has gone (same address,
    nobody listening): the backend's own check fails, the discovery finds no keyring, and the
    user reads one sentence; nothing hangs."""
    with running_secret_service(home.parent / "short-lived") as service:
        env = service.env
        assert open_store(home, env)["discovered"] is True
    gone = open_store(home, env)
    assert gone["discovered"] is True
    assert "No usable system keyring" in str(gone["error"])
