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


def child_json(code: str, env: dict[str, str], *args: str) -> object:
    """What a fresh interpreter running ``code`` (this tree on its path) prints, as JSON."""
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def open_store(home: Path, env: dict[str, str], child: str = CHILD) -> dict[str, object]:
    out = child_json(child, env, str(home), SECRET)
    assert isinstance(out, dict)
    return out


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


# A process that only reads, as `aacli auth` does: open the store, read the hub key.
READER = """
import json, sys
from pathlib import Path
from trayapp.core.errors import SecretStoreError
from trayapp.core.secrets import open_secret_store

home = Path(sys.argv[1])
out = {}
try:
    store = open_secret_store("keyring", home / "vault.bin", lambda: "", state_dir=home / "state")
    out["name"] = store.name
    out["read"] = store.get("acme/secret_access_key") == sys.argv[2]
    out["absent"] = store.get("nobody/secret_access_key")
except SecretStoreError as error:
    out["error"] = str(error)
out["keyring imported"] = "keyring" in sys.modules
print(json.dumps(out))
"""


def read_store(home: Path, env: dict[str, str]) -> dict[str, object]:
    return open_store(home, env, child=READER)


@pytest.mark.keyring
def test_a_read_after_a_remembered_secret_service_loads_no_keyring_package(
    secret_service: SecretServiceEnv,  # noqa: F811
    home: Path,
) -> None:
    """Issue 16 (auth cost): with keyring's choice of the Secret Service remembered, a process
    that only reads (`aacli auth`) reads keyring's own item without importing keyring's
    package (~11 ms); the first process, which discovers and writes, still uses keyring."""
    assert open_store(home, secret_service.env)["discovered"] is True
    assert read_store(home, secret_service.env) == {
        "name": "keyring (SecretService)",
        "read": True,
        "absent": None,
        "keyring imported": False,
    }


@pytest.mark.keyring
@pytest.mark.parametrize(
    "setting",
    [
        {"KEYRING_PROPERTY_SCHEME": "default"},
        {"PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring"},
    ],
)
def test_keyring_settings_in_the_environment_leave_the_read_to_keyring(
    secret_service: SecretServiceEnv,  # noqa: F811
    home: Path,
    setting: dict[str, str],
) -> None:
    """keyring's own settings (another collection or scheme, a named backend) are keyring's
    to apply: with any of them set, the read goes through keyring."""
    assert open_store(home, secret_service.env)["discovered"] is True
    read = read_store(home, {**secret_service.env, **setting})
    assert read["keyring imported"] is True
    assert read["read"] is True


@pytest.mark.keyring
def test_a_read_of_a_bus_that_is_gone_is_keyrings_clear_error(home: Path) -> None:
    """The remembered Secret Service has gone (same bus address, nobody listening): the lean
    read hands over to keyring, whose discovery finds no keyring: one sentence, nothing hangs."""
    with running_secret_service(home.parent / "short-lived") as service:
        env = service.env
        assert open_store(home, env)["discovered"] is True
        assert read_store(home, env)["keyring imported"] is False
    gone = read_store(home, env)
    assert "No usable system keyring" in str(gone["error"]), gone
    assert SECRET not in str(gone["error"])


@pytest.mark.keyring
def test_a_locked_collection_is_one_clear_sentence_on_the_lean_read(home: Path) -> None:
    """A locked default collection, its unlock prompt not answered: the lean read says so in
    keyring's words and hands nothing over (a second prompt would follow otherwise)."""
    with running_secret_service(home.parent / "locked") as service:
        assert open_store(home, service.env)["discovered"] is True
        lock = (
            "import secretstorage; c = secretstorage.dbus_init(); "
            "secretstorage.get_default_collection(c).lock(); c.close()"
        )
        subprocess.run([sys.executable, "-c", lock], env=service.env, check=True, timeout=30)
        read = read_store(home, service.env)
    assert str(read["error"]).startswith("The system keyring is locked"), read
    assert read["keyring imported"] is False
    assert SECRET not in str(read["error"])


KEYRING_RULES = """
import json, sys
from trayapp.core.secrets import keyring_store
before = (str(keyring_store._keyring_folder()), str(keyring_store._keyring_config_root()))
import keyring, keyring.util.platform_ as platform_
from pathlib import Path
after = (str(Path(keyring.__file__).parent), str(platform_.config_root()))
print(json.dumps([before, after, str(keyring_store._keyring_folder())]))
"""


@pytest.mark.parametrize("xdg", [None, "", "/somewhere/config", "relative/config"])
def test_keyrings_folder_and_config_are_found_as_keyring_finds_them(xdg: str | None) -> None:
    """What the memory is checked against is found without importing keyring, and it is what
    keyring itself would use: its package folder and its config root."""
    env = {k: v for k, v in os.environ.items() if k != "XDG_CONFIG_HOME"}
    if xdg is not None:
        env["XDG_CONFIG_HOME"] = xdg
    before, after, imported = child_json(KEYRING_RULES, env)  # type: ignore[misc]
    assert before == after
    assert imported == after[0]
