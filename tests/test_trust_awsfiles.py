"""Issue 11 items 1, 2 and 5: aacli gives back every byte of ~/.aws it did not own, and a
damaged ledger or an edit it cannot finish never blocks a command or loses a record."""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import PASSPHRASE, assert_one_line_error

from trayapp.core import sessions as ledger_module
from trayapp.core.service import Service
from trayapp.core.sessions import load_ledger_state

CONFIG = "[default]\nregion = us-west-2\n\n[profile dev-DEVELOPER]\noutput = json\n"
CREDENTIALS = (
    "# my keys\n[default]\n\n[static]\naws_access_key_id = AKIASTATIC0000000001\n"
    "aws_secret_access_key = staticSecretDoNotTouch\n"
)


def _write(env, credentials: str | None, config: str | None) -> None:
    env.credentials.parent.mkdir(mode=0o700, exist_ok=True)
    if credentials is not None:
        env.credentials.write_text(credentials, encoding="utf-8")
    if config is not None:
        env.aws_config.write_text(config, encoding="utf-8")


@pytest.fixture
def codes(configured) -> Iterator[Callable[[], str]]:
    """Fresh codes for tests that authenticate more often than once per 30 s window (the
    sandbox then takes any six digits; aacli still refuses a code used before)."""
    configured.sandbox.mfa_check = False
    numbers = itertools.count(100001)
    yield lambda: str(next(numbers))
    configured.sandbox.mfa_check = True


def _ok(result) -> None:
    assert result.returncode == 0, result.stderr


def _section(path: Path, name: str) -> dict[str, str] | None:
    from trayapp.core.credfile import read_profile

    return dict(read_profile(path, name, config_style=path.name == "config")) or None


def _service(env) -> Service:
    return env.service()


@pytest.mark.parametrize(
    "config",
    [
        CONFIG,
        "[default]\nregion=us-west-2\n[profile dev-DEVELOPER]\n",  # odd spacing, empty section
        "[profile dev-DEVELOPER]\r\nregion = ap-south-1\r\n\r\n[default]\r\nregion = us-west-2",
    ],
    ids=["plain", "no-spaces-empty-profile", "crlf-no-final-newline"],
)
def test_auth_default_then_unauth_all_gives_the_config_back_byte_for_byte(
    configured, config: str
) -> None:
    """Issue 11 item 1 (must-show 2): `auth --default` + `unauth --all` over a ~/.aws/config
    with [default] region = us-west-2 and a [profile dev-DEVELOPER] that was there before
    gives back the file byte for byte (today [default] keeps eu-west-1 for good)."""
    _write(configured, CREDENTIALS, config)
    _ok(configured.aacli("auth", "dev/DEVELOPER", "--default", "--code", configured.code()))
    assert _section(configured.aws_config, "default")["region"] == "eu-west-1"
    assert _section(configured.aws_config, "dev-DEVELOPER")["region"] == "eu-west-1"
    _ok(configured.aacli("unauth", "--all"))
    assert configured.aws_config.read_bytes() == config.encode()
    assert configured.credentials.read_bytes() == CREDENTIALS.encode()


def test_an_empty_default_in_the_credentials_file_keeps_its_header(configured, codes) -> None:
    """Issue 11 item 2 (must-show 2): an empty [default] (header, no keys) in
    ~/.aws/credentials keeps its header and its blank line on unauth."""
    for credentials in (CREDENTIALS, "[default]\n", "[default]\n\n", "[default]"):
        _write(configured, credentials, None)
        _ok(configured.aacli("auth", "dev/DEVELOPER", "--default", "--code", codes()))
        assert _section(configured.credentials, "default")["aws_access_key_id"].startswith("ASIA")
        _ok(configured.aacli("unauth", "--all"))
        assert configured.credentials.read_bytes() == credentials.encode(), credentials


def test_expiry_gives_both_files_back_byte_for_byte(configured, short_lived) -> None:
    """Issue 11 items 1 and 2 (must-show 2): the same when the session expires and the sweep
    removes it, instead of unauth."""
    _write(configured, CREDENTIALS, CONFIG)
    _ok(configured.aacli("auth", "dev/DEVELOPER", "--default", "--code", configured.code()))
    time.sleep(5)
    result = configured.aacli("sweep")
    _ok(result)
    assert "expired" in result.stderr
    assert configured.aws_config.read_bytes() == CONFIG.encode()
    assert configured.credentials.read_bytes() == CREDENTIALS.encode()


@pytest.mark.parametrize("first_out", ["dev/DEVELOPER", "prod/ReadOnly"])
def test_default_handed_over_keeps_the_users_region_not_the_first_sessions(
    configured, first_out: str
) -> None:
    """Issue 11 item 1: [default] moves to the newest session; the user's region survives
    the hand-over (not the first session's), in whichever order the sessions end."""
    _write(configured, CREDENTIALS, CONFIG)
    _ok(configured.aacli("auth", "dev/DEVELOPER", "--default", "--code", configured.code()))
    _ok(configured.aacli("auth", "prod/ReadOnly", "--default", "--code", configured.next_code()))
    assert _section(configured.aws_config, "default")["region"] == "us-east-2"
    _ok(configured.aacli("unauth", first_out))
    if first_out == "dev/DEVELOPER":  # prod still holds [default]
        assert _section(configured.aws_config, "default")["region"] == "us-east-2"
        assert _section(configured.credentials, "default") is not None
    _ok(configured.aacli("unauth", "--all"))
    assert configured.aws_config.read_bytes() == CONFIG.encode()
    assert configured.credentials.read_bytes() == CREDENTIALS.encode()


def test_a_default_created_by_aacli_and_handed_over_is_removed_whole(configured) -> None:
    """Issue 11 item 1: a [default] aacli created is removed whole by whichever session ends
    up holding it (today the second session thinks the user wrote it and leaves its region)."""
    _write(configured, "", "")
    _ok(configured.aacli("auth", "dev/DEVELOPER", "--default", "--code", configured.code()))
    _ok(configured.aacli("auth", "prod/ReadOnly", "--default", "--code", configured.next_code()))
    _ok(configured.aacli("unauth", "--all"))
    assert configured.aws_config.read_bytes() == b""
    assert configured.credentials.read_bytes() == b""


def test_a_region_the_user_changed_since_is_left_alone(configured) -> None:
    """Issue 11 item 1: the old value is put back only while the key still holds what aacli
    wrote; a value the user set since stays."""
    _write(configured, CREDENTIALS, CONFIG)
    _ok(configured.aacli("auth", "dev/DEVELOPER", "--default", "--code", configured.code()))
    edited = configured.aws_config.read_text().replace(
        "[default]\nregion = eu-west-1", "[default]\nregion = ap-south-1"
    )
    configured.aws_config.write_text(edited)
    _ok(configured.aacli("unauth", "--all"))
    assert _section(configured.aws_config, "default") == {"region": "ap-south-1"}
    assert _section(configured.aws_config, "dev-DEVELOPER") == {"output": "json"}


def test_default_taken_over_by_the_user_still_gets_its_region_back(configured) -> None:
    """Issue 11 item 1: the user put keys of their own into [default] while aacli's session
    held it: unauth leaves their keys alone, and [default]'s region is still not lost."""
    _write(configured, CREDENTIALS, CONFIG)
    _ok(configured.aacli("auth", "dev/DEVELOPER", "--default", "--code", configured.code()))
    theirs = CREDENTIALS.replace(
        "[default]\n",
        "[default]\naws_access_key_id = AKIATHEIRS0000000001\n"
        "aws_secret_access_key = theirSecret\n",
    )
    configured.credentials.write_text(theirs)
    result = configured.aacli("unauth", "--all")
    _ok(result)
    assert "left AWS profile 'default' alone" in result.stderr
    assert configured.credentials.read_text() == theirs
    assert configured.aws_config.read_bytes() == CONFIG.encode()


def test_renewing_without_default_keeps_the_default_it_holds(configured) -> None:
    """Issue 11 item 1: renewing a session (as the tray's Renew does, without --default) keeps
    writing where it wrote before; today [default] is left behind with no ledger entry, so
    it is never removed and blocks the next --default."""
    _write(configured, CREDENTIALS, CONFIG)
    _ok(configured.aacli("auth", "dev/DEVELOPER", "--default", "--code", configured.code()))
    _ok(configured.aacli("auth", "dev/DEVELOPER", "--code", configured.next_code()))
    [session] = load_ledger_state(configured.home / "state" / "sessions.json")[0]
    assert _section(configured.credentials, "default")["aws_access_key_id"] == (
        session.access_key_id
    )
    _ok(configured.aacli("unauth", "--all"))
    assert configured.aws_config.read_bytes() == CONFIG.encode()
    assert configured.credentials.read_bytes() == CREDENTIALS.encode()


def test_an_auth_killed_after_writing_is_undone_back_to_the_users_values(
    configured, monkeypatch
) -> None:
    """Issue 11 item 1: an aacli that dies after writing the files but before saving the
    ledger is undone by the next one (_finish_interrupted), user's region included."""
    _write(configured, CREDENTIALS, CONFIG)
    _ok(configured.aacli("auth", "dev/DEVELOPER", "--default", "--code", configured.code()))
    service = _service(configured)
    real_save = ledger_module.save_ledger
    calls = []

    def dies_on_the_final_save(path, sessions, pending=(), *args, **kwargs):
        calls.append(pending)
        if not pending:
            raise SystemExit("killed")  # as if killed: nothing after this runs
        return real_save(path, sessions, pending, *args, **kwargs)

    monkeypatch.setattr("trayapp.core.session_files.save_ledger", dies_on_the_final_save)
    from trayapp.core.codes import FixedCode

    with pytest.raises(SystemExit):
        service.authenticate(
            service.resolve("prod/ReadOnly"), FixedCode(configured.next_code()), also_default=True
        )
    monkeypatch.undo()
    assert _section(configured.aws_config, "default")["region"] == "us-east-2"
    assert load_ledger_state(configured.home / "state" / "sessions.json")[1]  # pending
    _ok(configured.aacli("status"))
    sessions, pending = load_ledger_state(configured.home / "state" / "sessions.json")
    assert pending == []
    assert [s.target for s in sessions] == ["acme/dev/DEVELOPER"]
    assert sessions[0].aws_profiles == ("dev-DEVELOPER",)  # its [default] keys were overwritten
    assert _section(configured.aws_config, "default") == {"region": "us-west-2"}
    _ok(configured.aacli("unauth", "--all"))
    assert configured.aws_config.read_bytes() == CONFIG.encode()
    assert configured.credentials.read_bytes() == CREDENTIALS.encode()


def test_a_ledger_of_an_older_aacli_still_loads_and_signs_out(configured) -> None:
    """Issue 11 item 1: the new ledger fields have defaults, so a ledger written before them
    loads, and signing out works as it did."""
    _write(configured, CREDENTIALS, CONFIG)
    _ok(configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code()))
    path = configured.home / "state" / "sessions.json"
    data = json.loads(path.read_text())
    old_fields = {
        "target",
        "aws_profiles",
        "access_key_id",
        "expiration",
        "issued_at",
        "credentials_file",
        "config_file",
        "region",
        "from_long_term_keys",
        "config_sections_created",
    }
    data["sessions"] = [{k: v for k, v in s.items() if k in old_fields} for s in data["sessions"]]
    path.write_text(json.dumps(data))
    result = configured.aacli("status", "--json")
    _ok(result)
    assert [s["target"] for s in json.loads(result.stdout)["sessions"]] == ["acme/dev/DEVELOPER"]
    _ok(configured.aacli("unauth", "--all"))
    assert configured.credentials.read_bytes() == CREDENTIALS.encode()


# --- item 5: the ledger itself ------------------------------------------------------------


def _ledger(env) -> Path:
    return env.home / "state" / "sessions.json"


def test_a_ledger_that_is_a_folder_is_set_aside_with_a_clear_line(configured) -> None:
    """Issue 11 item 5: a ledger that is a folder gave "unexpected error (IsADirectoryError)"
    on every command; now it is set aside whole (nothing in it lost), aacli goes on, and
    status says where it went and what to do."""
    ledger = _ledger(configured)
    ledger.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    ledger.mkdir()
    (ledger / "keep-me").write_text("x")
    result = configured.aacli("status")
    _ok(result)
    [copy] = list(ledger.parent.glob("sessions.json.damaged-*"))
    assert (copy / "keep-me").read_text() == "x"
    warnings = [line for line in result.stderr.splitlines() if str(copy) in line]
    assert len(warnings) == 1 and "delete" in warnings[0].lower(), result.stderr
    _ok(configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code()))
    assert ledger.is_file()


def test_a_second_damaged_ledger_does_not_overwrite_the_first_copy(configured) -> None:
    """Issue 11 item 5: each damaged ledger is set aside under a name of its own
    (sessions.json.damaged-<UTC time>), so a second one never overwrites the first."""
    ledger = _ledger(configured)
    ledger.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    for n in range(2):
        ledger.write_text(f"{{ not json {n}")
        ledger.chmod(0o600)
        result = configured.aacli("sweep")
        _ok(result)
        assert "damaged" in result.stderr
    copies = sorted(ledger.parent.glob("sessions.json.damaged*"))
    assert sorted(p.read_text() for p in copies) == ["{ not json 0", "{ not json 1"]


def test_a_pending_entry_that_cannot_be_applied_is_kept_aside_not_blocking(configured) -> None:
    """Issue 11 item 5: a pending entry naming a file aacli cannot read made every command
    fail until fixed by hand; now it is kept aside (not lost), commands go on, status and
    sweep say what is wrong and what to do, and sweep finishes it once the file is fixed."""
    _ok(configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code()))
    ledger = _ledger(configured)
    data = json.loads(ledger.read_text())
    bad = configured.root / "unreadable"
    bad.mkdir()  # a folder where the credentials file should be: it cannot be read
    plan = dict(data["sessions"][0], target="acme/prod/ReadOnly", aws_profiles=["prod-ReadOnly"])
    plan["access_key_id"] = "ASIAPENDING000000001"
    plan["credentials_file"] = str(bad)
    data["pending"] = [plan]
    ledger.write_text(json.dumps(data))

    status = configured.aacli("status")
    _ok(status)
    assert "acme/dev/DEVELOPER" in status.stdout
    lines = [line for line in status.stderr.splitlines() if "acme/prod/ReadOnly" in line]
    assert len(lines) == 1 and str(bad) in lines[0] and "aacli sweep" in lines[0], status.stderr
    _ok(configured.aacli("auth", "prod/ReadOnly", "--code", configured.next_code()))
    _ok(configured.aacli("unauth", "dev/DEVELOPER"))
    kept = json.loads(ledger.read_text())
    assert [u["session"]["access_key_id"] for u in kept["unfinished"]] == ["ASIAPENDING000000001"]

    bad.rmdir()  # fixed: nothing there any more
    swept = configured.aacli("sweep")
    _ok(swept)
    assert "acme/prod/ReadOnly" not in configured.aacli("status").stderr
    assert "unfinished" not in json.loads(ledger.read_text())


def test_an_expired_session_that_cannot_be_removed_does_not_block_commands(
    configured, short_lived
) -> None:
    """Issue 11 item 5: every command sweeps first; an expired session whose file cannot be
    read now is kept aside and reported instead of failing every command."""
    _ok(configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code()))
    real = configured.credentials
    saved = real.read_bytes()
    time.sleep(5)
    real.unlink()
    os.mkfifo(real)  # a FIFO where the file was: aacli refuses to wait on it
    try:
        result = configured.aacli("status")
        _ok(result)
        assert "acme/dev/DEVELOPER" in result.stderr and "aacli sweep" in result.stderr
        _ok(configured.aacli("sweep"))  # still cannot: reported, not a failure
    finally:
        real.unlink()
    real.write_bytes(saved)
    real.chmod(0o600)
    swept = configured.aacli("sweep")
    _ok(swept)
    assert b"aws_access_key_id" not in real.read_bytes()
    assert "unfinished" not in json.loads(_ledger(configured).read_text())


def test_a_ledger_others_may_write_is_refused_with_the_fix(configured) -> None:
    """Issue 11 item 5: the ledger's paths decide which files aacli edits, so it is read as a
    trusted file: writable by others, it is refused with a one-line fix."""
    _ok(configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code()))
    _ledger(configured).chmod(0o666)
    result = configured.aacli("status")
    assert_one_line_error(result, "chmod 600", str(_ledger(configured)))


# --- must-show 3: [default] handed over between eight workers and the tray's sweep --------

WORKER = r"""
import contextlib, io, json, random, sys, time
from trayapp.cli.main import main as aacli

profile, ops, seed, deadline = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
rng = random.Random(seed)
failures, done, last = [], 0, ""
for _ in range(ops):
    if time.time() > deadline:
        break
    target = rng.choice([f"{profile}/dev/DEVELOPER", f"{profile}/prod/ReadOnly"])
    if rng.random() < 0.6:
        code = last
        while code == last:
            code = f"{rng.randrange(10**6):06d}"
        last = code
        argv = ["auth", target, "--code", code] + (["--default"] if rng.random() < 0.7 else [])
    else:
        argv = ["unauth", target]
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            rc = aacli(argv)
        except SystemExit as exc:
            rc = int(exc.code or 0)
    done += 1
    if rc:
        failures.append(" ".join(argv[:2]) + ": " + err.getvalue().strip())
print(json.dumps({"done": done, "failures": failures}))
"""


def _load_config(users: list) -> str:
    parts = ['version = 1\n\n[settings]\nsecret_backend = "vault"\n']
    for n, hub in enumerate(users):
        parts.append(
            f'\n[profiles.w{n}]\naccess_key_id = "{hub.access_key_id}"\n'
            f'mfa_serial = "{hub.mfa_serial}"\nsession_name = "w{n}"\n'
            f'[profiles.w{n}.accounts.dev]\nid = "111111111111"\nregion = "eu-west-1"\n'
            f'[profiles.w{n}.accounts.dev.roles.DEVELOPER]\naws_profile = "w{n}-dev"\n'
            f'[profiles.w{n}.accounts.prod]\nid = "333333333333"\nregion = "us-east-2"\n'
            f'[profiles.w{n}.accounts.prod.roles.ReadOnly]\naws_profile = "w{n}-prod"\n'
        )
    return "".join(parts)


@pytest.mark.slow
def test_eight_workers_handing_default_around_with_the_tray_lose_nothing(env, sandbox) -> None:
    """Issue 11 item 1 (must-show 3): eight concurrent CLI workers auth (mostly --default) and
    unauth while the tray sweeps expired sessions: no operation fails, [default] always
    belongs to exactly one session, and signing out of all gives back both files (the user's
    [default] region and empty [default] header) byte for byte."""
    import subprocess
    import sys

    from trayapp.core.providers.hub_keys import hub_secret_key
    from trayapp.core.secrets.vault import ScryptParams, Vault

    workers = 8
    users = [sandbox.add_hub_user(f"hand{n}-{os.getpid()}") for n in range(workers)]
    env.vars["AWS_ENDPOINT_URL"] = sandbox.endpoint_url
    env.home.mkdir(mode=0o700)
    (env.home / "config.toml").write_text(_load_config(users), encoding="utf-8")
    (env.home / "config.toml").chmod(0o600)
    vault = Vault.create(env.home / "vault.bin", PASSPHRASE, scrypt=ScryptParams(log2_n=10))
    for n, hub in enumerate(users):
        vault.set(hub_secret_key(f"w{n}"), hub.secret_access_key)
    config = CONFIG + "\n[profile w0-dev]\noutput = text\n"
    _write(env, CREDENTIALS, config)
    here = Path(__file__).parent
    sandbox.mfa_check = False
    sandbox.credential_lifetime = 15
    try:
        tray = subprocess.Popen(
            [sys.executable, str(here / "reliability" / "tray_sweeper.py"), "0.5"],
            env=env.environ(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.time() + 60
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER, f"w{n}", "30", str(n), str(deadline)],
                env=env.environ(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=env.root,
            )
            for n in range(workers)
        ]
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
            results.append(json.loads(out))
        from trayapp.core.credfile import aws_files_lock

        with aws_files_lock(env.home / "state" / "aws-files.lock"):  # a still picture
            holders = [s for s in load_ledger_state(_ledger(env))[0] if "default" in s.aws_profiles]
            assert len(holders) <= 1
            if holders:
                written = _section(env.credentials, "default") or {}
                assert written.get("aws_access_key_id") == holders[0].access_key_id
                assert _section(env.aws_config, "default") == {"region": holders[0].region}
        time.sleep(16)  # every session has expired: the tray's sweep removes them
        tray.send_signal(__import__("signal").SIGTERM)
        tray_out, tray_err = tray.communicate(timeout=60)
        assert tray.returncode == 0, tray_err
    finally:
        sandbox.mfa_check = True
        sandbox.credential_lifetime = None
    failures = [f for r in results for f in r["failures"]]
    assert failures == [], failures[:5]
    assert sum(r["done"] for r in results) >= workers * 3
    assert json.loads(tray_out)["errors"] == []
    sessions, pending = load_ledger_state(_ledger(env))
    assert pending == [] and sessions == []
    assert "unfinished" not in json.loads(_ledger(env).read_text())
    assert env.aws_config.read_text() == config
    assert env.credentials.read_text() == CREDENTIALS


def test_a_relative_aws_path_is_recorded_absolute(configured) -> None:
    """Issue 11 item 5: with a relative AWS_SHARED_CREDENTIALS_FILE the ledger recorded the
    relative path, so an unauth or sweep run from another folder looked at the wrong file and
    the keys stayed; the ledger now records where the file really is."""
    import subprocess
    import sys

    work = configured.root / "work"
    (work / "aws").mkdir(parents=True, mode=0o700)
    relative = {"AWS_SHARED_CREDENTIALS_FILE": "aws/credentials", "AWS_CONFIG_FILE": "aws/config"}

    def aacli(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "trayapp.cli.main", *argv],
            capture_output=True,
            text=True,
            env=configured.environ(**relative),
            cwd=cwd,
            timeout=60,
        )

    _ok(aacli("auth", "dev/DEVELOPER", "--code", configured.code(), cwd=work))
    assert b"aws_access_key_id" in (work / "aws" / "credentials").read_bytes()
    _ok(aacli("unauth", "--all", cwd=configured.root))
    assert (work / "aws" / "credentials").read_bytes() == b""
    assert not (configured.root / "aws" / "credentials").exists()


# --- the INI editor underneath ------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    ["region = us-west-2", "region=us-west-2", "Region\t:\tus-west-2", "  region = us-west-2  "],
)
def test_a_value_set_and_set_back_gives_the_line_back_byte_for_byte(line: str) -> None:
    """Issue 11 item 1: a key's value is changed inside its own line (its spelling, delimiter
    and spacing kept), so putting the old value back restores the line exactly."""
    from trayapp.core.inifile import get_section, set_value

    text = f"[default]\r\n# mine\r\n{line}\r\noutput = json\r\n"
    if line.startswith(" "):
        text = f"[default]\n{line}\n"
    changed = set_value(text, "default", "region", "eu-west-1", config_style=True)
    assert get_section(changed, "default")["region"] == "eu-west-1"
    assert set_value(changed, "default", "region", "us-west-2", config_style=True) == text


@pytest.mark.parametrize(
    "text",
    [
        "[default]\n",
        "[default]\n\n",
        "# mine\n[default]\n\n[b]\nx = 1\n",
        "[default]",
        "[a]\n[default]\n# note\n",
    ],
)
def test_a_section_found_keeps_its_header_when_emptied(text: str) -> None:
    """Issue 11 item 2: keys aacli added to a section that was there before are removed with
    the section's header, blank lines and comments kept; a section it created goes whole."""
    from trayapp.core.inifile import remove_keys, upsert_section

    keys = {"aws_access_key_id": "ASIAX", "aws_secret_access_key": "s"}
    written = upsert_section(text, "default", keys)
    assert remove_keys(written, "default", list(keys), keep_section=True) == text
    created = upsert_section("[a]\nx = 1\n", "ours", keys)
    assert remove_keys(created, "ours", list(keys)) == "[a]\nx = 1\n"
