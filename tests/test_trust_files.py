"""Issue 11, the files aacli trusts: locks on every read-modify-write, reads that cannot hang or
exhaust memory, and owner/mode checks on every file and folder that decides what aacli does."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import Env, assert_one_line_error

MIB = 1024 * 1024


def _limited_memory() -> None:
    # A reader that slurps /dev/zero must hit this, not the machine's memory.
    resource.setrlimit(resource.RLIMIT_AS, (2048 * MIB, 2048 * MIB))


def _aacli(
    env: Env, *args: str, timeout: float = 60, **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trayapp.cli.main", *args],
        input="",
        capture_output=True,
        text=True,
        env=env.environ(**extra),
        timeout=timeout,
        cwd=env.root,
        preexec_fn=_limited_memory,
    )


def test_concurrent_config_edits_lose_nothing(configured: Env) -> None:
    """Issue 11 item 3 (must-show 3): 8 concurrent `aacli config add-account` with distinct
    names all succeed, and all 8 accounts are in the config afterwards."""

    def add(n: int) -> subprocess.CompletedProcess[str]:
        return configured.aacli(
            "config",
            "add-account",
            "acme",
            f"team{n}",
            "--id",
            f"{n:012d}",
            "--region",
            "eu-west-1",
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(add, range(1, 9)))
    for result in results:
        assert result.returncode == 0, result.stderr
    shown = configured.aacli("config", "show", "--json")
    accounts = json.loads(shown.stdout)["profiles"]["acme"]["accounts"]
    assert {f"team{n}" for n in range(1, 9)} <= set(accounts)
    leftovers = [p.name for p in configured.home.iterdir() if ".aacli-tmp-" in p.name]
    assert leftovers == []


def _mfa_index_writer(args: tuple[str, int]) -> None:
    from datetime import datetime, timedelta, timezone

    from trayapp.core.model import Credentials, Profile
    from trayapp.core.paths import AppPaths
    from trayapp.core.providers.base import ProviderContext
    from trayapp.core.providers.cached_session import MfaSessionCache

    class NoSecrets:  # the index is under test here, not the secret store
        name = "nowhere"

        def set(self, key: str, value: str) -> None:
            pass

        def delete(self, key: str) -> None:
            pass

    state, n = args
    cache = MfaSessionCache(
        ProviderContext(
            clock=lambda: datetime.now(timezone.utc),
            sts_factory=lambda caller: None,
            endpoint_url=None,
            secrets=lambda: NoSecrets(),  # type: ignore[arg-type,return-value]
            app=AppPaths(config_dir=Path(state), state_dir=Path(state)),
        )
    )
    profile = Profile(
        name=f"p{n}",
        access_key_id="AKIAEXAMPLE000000000",
        mfa_serial="arn:aws:iam::999999999999:mfa/x",
    )
    creds = Credentials(
        "ASIAEXAMPLE", "secret", "token", datetime.now(timezone.utc) + timedelta(hours=1)
    )
    for _ in range(5):
        cache.store(profile, creds)


def test_concurrent_mfa_session_index_updates_lose_nothing(tmp_path: Path) -> None:
    """Issue 11 item 3: the MFA-session index is a read-modify-write too; 8 processes recording
    sessions of 8 profiles at once leave all 8 in it."""
    import multiprocessing

    from trayapp.core.paths import AppPaths, AwsPaths
    from trayapp.core.service import Deps, Service

    home, aws = tmp_path / "aacli", tmp_path / "aws"
    with multiprocessing.get_context("spawn").Pool(8) as pool:
        pool.map(_mfa_index_writer, [(str(home / "state"), n) for n in range(8)])
    service = Service(Deps(app=AppPaths(home, home / "state"), aws=AwsPaths(aws / "c", aws / "f")))
    assert sorted(service.mfa_sessions()) == [f"p{n}" for n in range(8)]


def _hostile_credentials(kind: str, path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path, 0o600)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    else:
        with path.open("wb") as handle:
            handle.write(b"[big]\n")
            handle.write(b"# padding\n" * (20 * MIB // 10))


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "20-mib"])
def test_a_hostile_credentials_file_fails_fast_and_blocks_no_one(
    configured: Env, kind: str
) -> None:
    """Issue 11 item 4 (must-show 6): a FIFO, a symlink to /dev/zero and a 20 MB file at
    ~/.aws/credentials each give one clear line within seconds, and another aacli process that
    needs the same lock meanwhile is not blocked."""
    _hostile_credentials(kind, configured.credentials)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        auth = pool.submit(
            _aacli, configured, "auth", "dev/DEVELOPER", "--code", configured.code(), timeout=30
        )
        time.sleep(0.5)
        other = pool.submit(_aacli, configured, "unauth", "--all", timeout=30)
        auth_result, other_result = auth.result(), other.result()
    elapsed = time.monotonic() - started
    expected = {
        "fifo": "a FIFO, not a regular file",
        "dev-zero": "a device, not a regular file",
        "20-mib": "more than the 16 MiB",
    }[kind]
    assert_one_line_error(auth_result, expected)
    assert elapsed < 20, f"took {elapsed:.1f} s"
    assert "Traceback" not in other_result.stderr
    assert "Another aacli process is editing" not in other_result.stderr
    assert (
        not (configured.home / "state" / "sessions.json").exists()
        or json.loads((configured.home / "state" / "sessions.json").read_text())["sessions"] == []
    )


def test_a_config_owned_by_another_user_is_refused(configured: Env, attacker_uid: int) -> None:
    """Issue 11 item 15: a config owned by another user (even mode 0600) is not trusted."""
    config = configured.home / "config.toml"
    before = config.read_bytes()
    os.chown(config, attacker_uid, -1)
    result = configured.aacli("auth", "dev/DEVELOPER", "--code", "123456")
    assert_one_line_error(result, "belongs to another user", "chown")
    assert config.read_bytes() == before


def test_a_state_folder_or_ledger_of_another_user_is_refused(
    configured: Env, attacker_uid: int
) -> None:
    """Issue 11 item 15: the state folder and the ledger (whose paths decide which files aacli
    edits) are checked for owner and mode like the config."""
    first = configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code())
    assert first.returncode == 0, first.stderr
    state = configured.home / "state"
    ledger = state / "sessions.json"
    os.chown(ledger, attacker_uid, -1)
    assert_one_line_error(configured.aacli("unauth", "--all"), "belongs to another user")
    os.chown(ledger, os.getuid(), -1)
    ledger.chmod(0o666)
    assert_one_line_error(configured.aacli("unauth", "--all"), "writable by other users")
    ledger.chmod(0o600)
    os.chown(state, attacker_uid, -1)
    assert_one_line_error(configured.aacli("unauth", "--all"), "belongs to another user")
    os.chown(state, os.getuid(), -1)
    assert configured.aacli("unauth", "--all").returncode == 0


def _umask_zero() -> None:
    os.umask(0)


def test_what_aacli_creates_is_private_whatever_the_umask(env: Env, sandbox) -> None:
    """Issue 11 item 15: under umask 000 every folder aacli creates is 0700 (~/.config,
    ~/.local, ~/.local/state, its own, ~/.aws) and every file 0600, the lock files too."""
    hub = sandbox.add_hub_user("umask-user")
    home = Path(env.vars["HOME"])
    for key in ("AACLI_HOME", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"):
        env.vars.pop(key)
    env.vars["AWS_ENDPOINT_URL"] = sandbox.endpoint_url
    base = {k: v for k, v in env.environ().items() if not k.startswith("XDG_")}

    def run(*args: str, input: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "trayapp.cli.main", *args],
            input=input,
            capture_output=True,
            text=True,
            env=base,
            timeout=60,
            cwd=env.root,
            preexec_fn=_umask_zero,
        )

    steps = [
        run(
            "config",
            "add-profile",
            "acme",
            "--access-key-id",
            hub.access_key_id,
            "--mfa-serial",
            hub.mfa_serial,
            input=hub.secret_access_key + "\n",
        ),
        run(
            "config", "add-account", "acme", "dev", "--id", "111111111111", "--region", "eu-west-1"
        ),
        run("config", "add-role", "acme/dev", "DEVELOPER"),
        run("auth", "dev/DEVELOPER", "--code", sandbox.current_code(hub)),
    ]
    for result in steps:
        assert result.returncode == 0, result.stderr
    folders = [
        home / ".config",
        home / ".config" / "aacli",
        home / ".local",
        home / ".local" / "state",
        home / ".local" / "state" / "aacli",
        home / ".aws",
    ]
    for folder in folders:
        assert oct(folder.stat().st_mode & 0o777) == "0o700", folder
    made = [
        p
        for root in (home / ".config", home / ".local", home / ".aws")
        for p in root.rglob("*")
        if p.is_file()
    ]
    assert any(p.name == "aws-files.lock" for p in made)
    for path in made:
        assert oct(path.stat().st_mode & 0o777) == "0o600", path


def test_a_shared_aws_folder_gets_a_warning(configured: Env) -> None:
    """Issue 11 item 15: a group/world-writable ~/.aws is named in a warning with the fix."""
    configured.credentials.parent.mkdir(mode=0o700)
    configured.credentials.parent.chmod(0o777)
    result = configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code())
    assert result.returncode == 0, result.stderr
    assert f"chmod 700 {configured.credentials.parent}" in result.stderr


def test_a_config_folder_swapped_in_by_another_user_is_refused(
    configured: Env, attacker_uid: int
) -> None:
    """Issue 11 item 15: with a shared parent folder another user can swap in their own aacli
    folder (config pointing at their roles); aacli refuses a folder it does not own."""
    evil = configured.root / "evil-aacli"
    evil.mkdir(mode=0o700)
    (evil / "config.toml").write_bytes((configured.home / "config.toml").read_bytes())
    (evil / "config.toml").chmod(0o600)
    os.chown(evil / "config.toml", os.getuid(), -1)
    os.chown(evil, attacker_uid, -1)
    result = configured.aacli("auth", "dev/DEVELOPER", "--code", "123456", AACLI_HOME=str(evil))
    assert_one_line_error(result, "belongs to another user")


def test_login_entries_are_written_privately_whatever_the_umask(env: Env) -> None:
    """Issue 11 item 15: the autostart entry and the menu launcher run at every login, so
    under umask 000 neither they nor the folders aacli creates for them are writable by
    others (another user could otherwise edit their Exec= line)."""
    home = Path(env.vars["HOME"])
    base = {k: v for k, v in env.environ().items() if not k.startswith("XDG_")}
    for flags in (["--autostart", "on"], ["--install-launcher"]):
        result = subprocess.run(
            [sys.executable, "-m", "trayapp.cli.main", "tray", *flags],
            capture_output=True,
            text=True,
            env=base,
            timeout=60,
            cwd=env.root,
            preexec_fn=_umask_zero,
        )
        assert result.returncode == 0, result.stderr
    entries = [
        home / ".config/autostart/aacli.desktop",
        home / ".local/share/applications/aacli.desktop",
    ]
    for entry in entries:
        assert entry.exists(), entry
        assert entry.stat().st_mode & 0o022 == 0, oct(entry.stat().st_mode)
        for folder in (entry.parent, entry.parent.parent):
            assert folder.stat().st_mode & 0o022 == 0, folder


def test_no_lock_waits_on_a_person_typing_the_vault_passphrase(configured: Env) -> None:
    """Issue 11 item 4: while one aacli waits at "Vault passphrase:", the vault's lock is not
    held, so another aacli (here: forgetting a TOTP seed) changes the vault at once."""
    import pexpect

    setting = pexpect.spawn(
        sys.executable,
        ["-m", "trayapp.cli.main", "config", "set-key", "acme"],
        env={k: v for k, v in configured.environ().items() if k != "AACLI_PASSPHRASE"},
        cwd=str(configured.root),
        encoding="utf-8",
        timeout=30,
    )
    try:
        setting.expect("Secret access key")
        setting.sendline(configured.hub.secret_access_key)
        setting.expect("Vault passphrase")
        started = time.monotonic()
        other = configured.aacli("config", "totp", "acme", "--remove", timeout=60)
        assert other.returncode == 0, other.stderr
        assert time.monotonic() - started < 15
    finally:
        setting.terminate(force=True)
