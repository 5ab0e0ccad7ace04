"""Start-up stays fast: the commands people run most never import the heavy libraries.

Each case runs the real CLI in a fresh interpreter with ``-X importtime`` and reads the
modules it loaded from that report; `aacli status` lists three live sessions. The timings
themselves are `make bench`'s business (docs/PERFORMANCE.md), not a test's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from trayapp.core.model import Session
from trayapp.core.sessions import save_ledger

HEAVY = ("boto3", "botocore", "pystray", "PIL", "tkinter", "gi", "keyring", "cryptography", "moto")


def run_with_importtime(env, *argv: str, code: str | None = None):
    """aacli (or ``code``) under ``-X importtime``: its result, the modules it loaded, and its
    stderr without the import report."""
    command = ["-c", code] if code is not None else ["-m", "trayapp.cli.main", *argv]
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *command],
        capture_output=True,
        text=True,
        env=env.environ(),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    names, said = set(), []
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
        else:
            said.append(line)
    assert code is not None or "trayapp.cli" in names, "no -X importtime report"
    return result, names, said


def imported_modules(env, *argv: str, code: str | None = None) -> set[str]:
    return run_with_importtime(env, *argv, code=code)[1]


@pytest.fixture
def three_sessions(env):
    now = datetime.now(timezone.utc)
    save_ledger(
        env.home / "state" / "sessions.json",
        [
            Session(
                target=f"acme/dev/ROLE{n}",
                aws_profiles=(f"dev-ROLE{n}",),
                access_key_id=f"ASIAEXAMPLE{n:09d}",
                expiration=now + timedelta(hours=1),
                issued_at=now,
                credentials_file=str(env.credentials),
                config_file=str(env.aws_config),
                region="eu-west-1",
            )
            for n in range(3)
        ],
    )
    return env


@pytest.mark.parametrize(
    "argv", [["status"], ["status", "--json"], ["--help"], ["--version"], ["status", "--help"]]
)
def test_fast_paths_import_no_heavy_library(three_sessions, argv):
    loaded = imported_modules(three_sessions, *argv)
    heavy = sorted({name.split(".")[0] for name in loaded} & set(HEAVY))
    assert heavy == [], f"aacli {' '.join(argv)} imported {heavy}"
    if argv == ["status"]:
        assert "trayapp.core.sessions" in loaded  # it did read the ledger


# What `credential-process` with a live session must not load either: SDKs run it for every
# client they build (issue 16: at most 2.0 times `python -c pass`, measured by `make bench`).
NOT_FOR_CREDENTIAL_PROCESS = (
    *HEAVY,
    "tomllib",
    "asyncio",
    "filelock",
    "argparse",
    "dataclasses",
    "typing",
    "trayapp.core.service",
    "trayapp.core.config",
    "trayapp.core.model",
)
CONFIG = """version = 1

[settings]
secret_backend = "vault"

[profiles.acme]
access_key_id = "AKIAEXAMPLEHUB000001"
mfa_serial = "arn:aws:iam::999999999999:mfa/tester"

[profiles.acme.accounts.dev]
id = "111111111111"
region = "eu-west-1"

[profiles.acme.accounts.dev.roles.ROLE0]
duration = "2h"
"""


@pytest.fixture
def live_session(env):
    """A config, and a live session of acme/dev/ROLE0 in the ledger and the credentials file."""
    from trayapp.core.credfile import write_profile_credentials
    from trayapp.core.model import Credentials

    env.home.mkdir(mode=0o700)
    (env.home / "config.toml").write_text(CONFIG, encoding="utf-8")
    (env.home / "config.toml").chmod(0o600)
    now = datetime.now(timezone.utc) + timedelta(seconds=1)  # the ledger keeps whole seconds
    creds = Credentials("ASIAEXAMPLE000000000", "s" * 40, "t" * 300, now + timedelta(hours=1))
    env.credentials.parent.mkdir(mode=0o700)
    write_profile_credentials(env.credentials, "dev-ROLE0", creds, set())
    session = Session(
        target="acme/dev/ROLE0",
        aws_profiles=("dev-ROLE0",),
        access_key_id=creds.access_key_id,
        expiration=creds.expiration,
        issued_at=now,
        credentials_file=str(env.credentials),
        config_file=str(env.aws_config),
        region="eu-west-1",
    )
    save_ledger(env.home / "state" / "sessions.json", [session])
    return env


def credential_process(env, *argv: str) -> tuple[set[str], dict[str, object]]:
    loaded = imported_modules(env, "credential-process", *argv)
    answer = env.aacli("credential-process", *argv)
    assert answer.returncode == 0, answer.stderr
    return loaded, json.loads(answer.stdout)


def test_credential_process_with_a_live_session_loads_almost_nothing(live_session):
    """Issue 16 perf: `credential-process TARGET` with a live session imports none of the
    service, botocore, keyring, tomllib, argparse or dataclasses, and answers exactly what the
    full path answers; with a doubt (a shortening, the config changed since the session
    began) the full path answers, the same; `--server` without a tray falls back to it too."""
    loaded, quick = credential_process(live_session, "acme/dev/ROLE0")
    heavy = sorted(
        name
        for name in NOT_FOR_CREDENTIAL_PROCESS
        if name in loaded or name in {n.split(".")[0] for n in loaded}
    )
    assert heavy == [], f"credential-process imported {heavy}"
    assert "trayapp.core.quick_session" in loaded
    # Beyond what Python itself loads at start (here: the dev venv's site, which an editable
    # install makes load re and pathlib), aacli's modules and two C modules only: no json,
    # re, pathlib, datetime, contextlib, collections or ctypes of its own (core/lean); gc and
    # resource are built in.
    added = loaded - imported_modules(live_session, code="pass")
    others = {n for n in added if n.split(".")[0] != "trayapp"} - {"runpy"}  # runpy: -m's
    assert others <= {"resource", "_json", "gc"}, f"credential-process imported {sorted(others)}"
    assert quick["AccessKeyId"] == "ASIAEXAMPLE000000000" and quick["Version"] == 1

    loaded, full = credential_process(live_session, "dev/ROLE0")  # a shortening
    assert "trayapp.core.service" in loaded
    assert full == quick

    loaded, with_server = credential_process(live_session, "--server", "acme/dev/ROLE0")
    assert not {"botocore", "boto3", "keyring", "tomllib"} & {n.split(".")[0] for n in loaded}
    assert with_server == quick  # no tray listens: the live session answers

    config = live_session.home / "config.toml"
    later = config.stat().st_mtime + 5
    os.utime(config, (later, later))
    loaded, changed = credential_process(live_session, "acme/dev/ROLE0")
    assert "trayapp.core.service" in loaded
    assert changed == quick


def test_help_imports_no_command_module(env):
    loaded = imported_modules(env, "--help")
    commands = sorted(n for n in loaded if n.startswith("trayapp.cli.") and n != "trayapp.cli.main")
    assert commands == [], f"aacli --help imported {commands}"


def test_the_quick_path_keeps_the_full_paths_rules(tmp_path):
    """core/quick_session repeats two rules to stay light: they are the full path's own (the
    file names it shares with AppPaths through core/app_dirs)."""
    from trayapp.core import quick_session, service, sessions

    assert quick_session.LEDGER_VERSION == sessions.LEDGER_VERSION
    assert service.MIN_LEFT.total_seconds() == quick_session.MIN_LEFT_SECONDS
    assert sessions.DAMAGED == quick_session.DAMAGED


def _odd_credentials(text: str) -> list[str]:
    return [
        text + "[dev-ROLE0]\n",  # the section twice: AWS tools refuse the file
        text.replace("aws_session_token", "  aws_session_token"),  # a continued value
        text + "[DEFAULT]\naws_session_token = x\n",  # every section's keys
        text + "not a key\n",
        text.replace("\n", "\r", 1),
        text.replace("ASIAEXAMPLE000000000", "ASIAEXAMPLE000000001"),  # not the ledger's key
    ]


def test_the_quick_path_leaves_every_doubt_to_the_full_path(live_session):
    """Issue 16 perf: the quick reading answers a plain case exactly, and gives None (the full
    path answers, or says what is wrong) for an odd credentials file or ledger."""
    from trayapp.core.quick_session import live_credentials

    env = live_session.environ()
    found = live_credentials("acme/dev/ROLE0", env)
    assert found is not None and found["SessionToken"] == "t" * 300
    assert found["Expiration"].endswith("Z") and len(found["Expiration"]) == 20
    assert live_credentials("acme/dev/ROLE1", env) is None
    assert live_credentials("dev/ROLE0", env) is None  # a shortening: the full path resolves it

    text = live_session.credentials.read_text()
    for odd in _odd_credentials(text):
        live_session.credentials.write_text(odd)
        assert live_credentials("acme/dev/ROLE0", env) is None, odd
    live_session.credentials.write_text(text)

    ledger_file = live_session.home / "state" / "sessions.json"
    ledger = json.loads(ledger_file.read_text())
    session = ledger["sessions"][0]
    odd_ledgers = [
        {**ledger, "pending": [session]},
        {**ledger, "version": 2},
        {**ledger, "sessions": [{**session, "expiration": "2099-01-01T00:00:00+00:00"}]},
        {
            **ledger,
            "sessions": [session, {**session, "target": "x", "expiration": "2000-01-01T00:00:00Z"}],
        },
    ]
    for odd in odd_ledgers:
        ledger_file.write_text(json.dumps(odd))
        assert live_credentials("acme/dev/ROLE0", env) is None, odd
    ledger_file.write_text(json.dumps(ledger))
    assert live_credentials("acme/dev/ROLE0", env) == found
    ledger_file.chmod(0o666)  # writable by others: not trusted, so not read here either
    assert live_credentials("acme/dev/ROLE0", env) is None


def _status(env) -> tuple[str, bool]:
    """`aacli status`'s stdout and stderr, and whether the quick path answered (no service)."""
    result, loaded, said = run_with_importtime(env, "status")
    shown = result.stdout + "".join(f"stderr: {line}\n" for line in said)
    return shown, "trayapp.core.service" not in loaded


def test_status_answers_quickly_what_the_full_path_prints(configured):
    """Issue 16 perf: `aacli status` in its plain case (a quiet ledger, MFA sessions, hub key
    ages) prints from core/quick_status exactly what the full path printed, once a full status
    has remembered the config; any edit of the config, something to sweep or warn about, an
    untrusted facts file or an Identity Center hub sends it to the full path again."""
    env = configured
    assert env.aacli("rotate", "acme").returncode == 0
    assert env.aacli("config", "mfa-session", "acme", "12h").returncode == 0
    for target in ("dev/ReadOnly", "prod/ReadOnly"):
        assert env.aacli("auth", target, "--code", env.code()).returncode == 0
    config = env.home / "config.toml"
    created = (datetime.now(timezone.utc) - timedelta(days=97)).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = config.read_text()
    config.write_text(
        "".join(
            f"key_created = {created}\n" if line.startswith("key_created =") else line
            for line in text.splitlines(keepends=True)
        )
    )

    full, quick = _status(env)
    assert not quick and "hub key of acme: 97 days old (rotate" in full
    assert "MFA session of profile acme: until" in full and "prod/ReadOnly" in full
    assert _status(env) == (full, True)  # remembered: the same lines, quickly

    assert env.aacli("config", "rotate-after", "acme", "0").returncode == 0
    changed, quick = _status(env)
    assert not quick and "hub key of acme: 97 days old\n" in changed
    assert _status(env) == (changed, True)
    os.utime(config)  # touched by hand, nothing else: still forgotten
    assert _status(env) == (changed, False)

    facts = env.home / "state" / "status-facts.json"
    facts.chmod(0o666)  # writable by others: not trusted
    assert _status(env) == (changed, False)
    assert facts.stat().st_mode & 0o777 == 0o600  # the full path wrote it again, private

    ledger_file = env.home / "state" / "sessions.json"
    ledger = json.loads(ledger_file.read_text())
    ledger["sessions"][0]["expiration"] = "2000-01-01T00:00:00Z"  # something to sweep
    ledger_file.write_text(json.dumps(ledger))
    swept, quick = _status(env)
    assert not quick and "expired; removed" in swept
    assert _status(env)[1]

    damaged = env.home / "state" / "sessions.json.damaged-20261201T000000Z"
    damaged.write_text("{")
    warned, quick = _status(env)
    assert not quick and "set aside a damaged session ledger" in warned
    assert _status(env) == (warned, False)  # it warns each time until the copy is gone
    damaged.unlink()

    hub = ("config", "add-sso", "corp", "--start-url", "https://corp.example/start")
    assert env.aacli(*hub, "--region", "eu-west-1").returncode == 0
    with_hub, quick = _status(env)
    assert not quick and "Identity Center hub corp: not signed in" in with_hub
    assert _status(env) == (with_hub, False)  # never remembered: its sign-in is read each time


def test_credential_process_server_asks_the_tray_first_and_loads_almost_nothing(live_session):
    """Issue 16 perf: `credential-process --server TARGET` with a tray listening gets the
    tray's answer before argparse, the service or json are loaded; the tray's error is said
    in one line and the tray is asked once (a second ask could mean a second MFA dialog)."""
    from trayapp.core.paths import AppPaths
    from trayapp.core.tray_socket import TraySocket

    asked = []
    answer = {"Version": 1, "AccessKeyId": "ASIATRAY", "SecretAccessKey": "s", "SessionToken": "t",
              "Expiration": "2099-01-01T00:00:00Z"}  # fmt: skip

    def handler(request):
        asked.append(request)
        if request["target"] == "acme/dev/ROLE0":
            return answer
        return {"error": "Sign-in to acme/dev/NOPE was cancelled."}

    socket_file = AppPaths.from_env(live_session.vars).tray_socket_file
    tray = TraySocket(socket_file, handler).serve()
    try:
        loaded, found = credential_process(live_session, "--server", "acme/dev/ROLE0")
        assert found == answer
        added = loaded - imported_modules(live_session, code="pass")
        heavy = {"argparse", "json", "dataclasses", "typing", "logging", "threading", "datetime"}
        assert not (heavy | set(NOT_FOR_CREDENTIAL_PROCESS)) & added, sorted(added)
        asked.clear()
        refused = live_session.aacli("credential-process", "acme/dev/NOPE", "--server")
        assert refused.returncode == 1 and refused.stdout == ""
        assert refused.stderr == "aacli: the tray: Sign-in to acme/dev/NOPE was cancelled.\n"
        assert len(asked) == 1
    finally:
        tray.stop()


EXIT_PROBE = """
import atexit, gc, sys
from trayapp.cli.main import script

def report():
    tracked = sum(len(gc.get_objects(generation)) for generation in range(3))
    print(f"exit-probe {tracked} {gc.get_freeze_count()} {int(gc.isenabled())}", file=sys.stderr)

atexit.register(report)
sys.argv[0] = "aacli"
sys.exit(script())
"""


def test_the_aacli_program_leaves_its_objects_out_of_the_collections_at_exit(configured):
    """Issue 16 (auth cost): the interpreter collects cycles as it exits, and after `aacli auth`
    that walked every object botocore's models left (~50 ms: bench/NOTES.md). The program
    (console script and ``-m``) freezes them first: what is left to walk at exit is small."""
    result = subprocess.run(
        [sys.executable, "-c", EXIT_PROBE, "auth", "dev/DEVELOPER", "--code", configured.code()],
        capture_output=True,
        text=True,
        env=configured.environ(),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    probe = [line.split() for line in result.stderr.splitlines() if line.startswith("exit-probe")]
    assert len(probe) == 1, result.stderr[-2000:]
    tracked, frozen, enabled = (int(n) for n in probe[0][1:])
    assert frozen > 50_000, f"only {frozen} objects frozen"
    assert tracked < 2_000, f"{tracked} objects left for the collections at exit"
    assert enabled == 0


@pytest.mark.keyring
def test_auth_with_the_keyring_reads_the_hub_key_without_keyrings_package(configured, tmp_path):
    """Issue 16 (auth cost): once keyring's choice of the Secret Service is remembered, `aacli
    auth` reads the hub key with secretstorage alone: keyring's package and its dependencies
    (jaraco, more_itertools, importlib_metadata: ~11 ms) stay unloaded, and the role's
    credentials are written as before."""
    from secret_service import running_secret_service

    with running_secret_service(tmp_path / "ss") as service:
        bus = {k: service.env[k] for k in ("DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR")}
        configured.vars.update(bus)
        moved = configured.aacli("crypto", "--use", "keyring")
        assert moved.returncode == 0, moved.stderr
        first = configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code())
        assert first.returncode == 0, first.stderr
        configured.credentials.unlink()
        _, loaded, _ = run_with_importtime(
            configured, "auth", "dev/ReadOnly", "--code", configured.next_code()
        )
    roots = {name.split(".")[0] for name in loaded}
    assert "secretstorage" in roots  # the hub key did come from the Secret Service
    assert not roots & {"keyring", "jaraco", "more_itertools"}, sorted(
        roots & {"keyring", "jaraco", "more_itertools"}
    )
    assert "[dev-ReadOnly]" in configured.credentials.read_text()
