"""Issue 15: rotating the hub key from the CLI against the sandbox (both policy shapes)."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest
from conftest import assert_one_line_error, aws_cli_v2

from trayapp.core.config import load_config, parse_config
from trayapp.core.errors import NetworkError, ThrottledError


@pytest.fixture
def iam_mfa(sandbox):
    """The hub policy's self-management statement demands aws:MultiFactorAuthPresent."""
    sandbox.iam_mfa = True
    yield
    sandbox.iam_mfa = False


def _config(env):
    return load_config(env.home / "config.toml").profiles[0]


def _sts_accepts(env, key_id: str, secret: str) -> bool:
    from trayapp.core.sts import StsCaller, make_sts_client

    caller = StsCaller(key_id, secret, "us-east-1", endpoint_url=env.sandbox.endpoint_url)
    sts = make_sts_client(caller)
    try:
        sts.get_caller_identity()
    except Exception:
        return False
    return True


def _stored_secret(env) -> str:
    from conftest import PASSPHRASE

    from trayapp.core.secrets.vault import Vault

    vault = Vault(env.home / "vault.bin", lambda: PASSPHRASE)
    value = vault.get("acme/secret_access_key")
    assert value
    return value


def _journal_files(env) -> list[str]:
    state = env.home / "state"
    return sorted(p.name for p in state.glob("key-rotation-*.json")) if state.is_dir() else []


def code_window(moment: datetime | None = None) -> int:
    """The number of the 30 s code window ``moment`` (default: now) falls in."""
    from trayapp.sandbox.totp import STEP

    moment = moment or datetime.now(timezone.utc)
    return int(moment.timestamp() // STEP.total_seconds())


def unused_code(env, used: set[int], *, keep: bool = True) -> str:
    """A code the sandbox takes now (the window before, this one or the next, as AWS does)
    from a window not in ``used``, which ``keep`` adds it to: the test's steps may cross a
    window's end, and a code AWS took once it refuses after."""
    from trayapp.sandbox.totp import STEP

    now = code_window()
    window = next(w for w in (now, now + 1, now - 1) if w not in used)
    if keep:
        used.add(window)
    moment = datetime.fromtimestamp(window * STEP.total_seconds() + 1, timezone.utc)
    return env.sandbox._devices.code_at(env.hub.mfa_serial, moment)


def _auth_and_aws_cli(env, code: str | None = None) -> None:
    result = env.aacli("auth", "dev/DEVELOPER", "--code", code or env.code())
    assert result.returncode == 0, result.stderr
    out = subprocess.run(
        [
            aws_cli_v2(),
            "sts",
            "get-caller-identity",
            "--profile",
            "dev-DEVELOPER",
            "--endpoint-url",
            env.sandbox.endpoint_url,
        ],
        capture_output=True,
        text=True,
        env=env.environ(),
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert ":assumed-role/DEVELOPER/" in json.loads(out.stdout)["Arn"]


def test_rotate_without_mfa_condition(configured):
    """Issue 15 item 1: without the MFA condition `aacli rotate` leaves exactly one active key,
    a new id, the old one deleted; auth with the new key works and the AWS CLI reads the role
    profile as before."""
    env = configured
    old = env.hub.access_key_id
    result = env.aacli("rotate", "acme")
    assert result.returncode == 0, result.stderr
    keys = env.sandbox.access_keys(env.hub)
    assert list(keys.values()) == ["Active"]
    (new,) = keys
    assert new != old
    assert f"aacli now uses {new}; {old} was deleted" in result.stderr
    profile = _config(env)
    assert profile.access_key_id == new and profile.key_created_for == new
    assert not _sts_accepts(env, old, env.hub.secret_access_key)
    assert _sts_accepts(env, new, _stored_secret(env))
    assert _journal_files(env) == []
    _auth_and_aws_cli(env)
    status = env.aacli("status")
    assert "hub key of acme: 0 days old" in status.stdout


def test_rotate_with_mfa_condition_keep_old_then_delete(configured, iam_mfa):
    """Issue 15 item 1: with aws:MultiFactorAuthPresent on self-management, rotation needs a
    code; --keep-old leaves the old key Inactive, --delete-old finishes later."""
    env = configured
    old = env.hub.access_key_id
    refused = env.aacli("rotate", "acme", DISPLAY="", WAYLAND_DISPLAY="")
    assert_one_line_error(refused, "needs an MFA code", "--code")
    assert env.sandbox.access_keys(env.hub) == {old: "Active"}
    used: set[int] = set()
    result = env.aacli("rotate", "acme", "--keep-old", "--code", unused_code(env, used))
    assert result.returncode == 0, result.stderr
    keys = env.sandbox.access_keys(env.hub)
    new = next(k for k in keys if k != old)
    assert keys == {old: "Inactive", new: "Active"}
    assert "--delete-old" in result.stderr
    _auth_and_aws_cli(env, unused_code(env, used))
    again = env.aacli("rotate", "acme", "--code", unused_code(env, used, keep=False))
    assert_one_line_error(again, "still kept Inactive", "--delete-old")
    done = env.aacli("rotate", "acme", "--delete-old", "--code", unused_code(env, used))
    assert done.returncode == 0, done.stderr
    assert env.sandbox.access_keys(env.hub) == {new: "Active"}
    assert _journal_files(env) == []


def test_two_existing_keys_change_nothing(configured):
    """Issue 15 item 3: with two keys already, a clear error naming the other key; nothing
    changed (IAM keys, config, vault)."""
    env = configured
    from trayapp.sandbox.isolated import isolated_client

    admin = isolated_client("iam", env.sandbox.endpoint_url, account_id=env.hub.account_id)
    other = admin.create_access_key(UserName=env.hub.user_name)["AccessKey"]["AccessKeyId"]
    before = env.sandbox.access_keys(env.hub)
    config, vault = (env.home / "config.toml").read_bytes(), (env.home / "vault.bin").read_bytes()
    result = env.aacli("rotate", "acme")
    assert_one_line_error(
        result, other, "two access keys", "delete-access-key", "nothing was changed"
    )
    assert env.sandbox.access_keys(env.hub) == before
    assert (env.home / "config.toml").read_bytes() == config
    assert (env.home / "vault.bin").read_bytes() == vault
    assert _journal_files(env) == []


def test_wrong_mfa_code_changes_nothing(configured, iam_mfa):
    """Issue 15 item 3: a wrong MFA code: AWS's refusal in one sentence, nothing changed."""
    env = configured
    good = {env.code(), env.next_code()}
    wrong = next(c for c in ("000000", "111111", "222222") if c not in good)
    config, vault = (env.home / "config.toml").read_bytes(), (env.home / "vault.bin").read_bytes()
    result = env.aacli("rotate", "acme", "--code", wrong)
    assert_one_line_error(result, "MFA code")
    assert env.sandbox.access_keys(env.hub) == {env.hub.access_key_id: "Active"}
    assert (env.home / "config.toml").read_bytes() == config
    assert (env.home / "vault.bin").read_bytes() == vault
    assert _journal_files(env) == []


def test_new_key_propagation_is_waited_for(configured, sandbox):
    """Issue 15 step 3: STS refuses a new key for a few seconds; aacli retries, bounded."""
    env = configured
    sandbox.key_propagation = 2.5
    try:
        started = time.monotonic()
        result = env.aacli("rotate", "acme")
        took = time.monotonic() - started
    finally:
        sandbox.key_propagation = 0.0
    assert result.returncode == 0, result.stderr
    assert took >= 2.5
    assert len(env.sandbox.access_keys(env.hub)) == 1


def test_throttled_create_is_one_sentence_and_rolled_back(configured, sandbox):
    """Issue 15: AWS errors become one sentence (throttled), and nothing is left behind."""
    env = configured
    sandbox.faults.next("throttling", count=3, action="CreateAccessKey")
    try:
        result = env.aacli("rotate", "acme", AACLI_STS_TIMEOUT="5")
    finally:
        sandbox.faults.clear()
    assert_one_line_error(result, "throttling")
    assert env.sandbox.access_keys(env.hub) == {env.hub.access_key_id: "Active"}
    assert _journal_files(env) == []


def test_iam_error_sentences():
    """Issue 15: key limit, MFA required, not allowed, throttled, network: one sentence each."""
    import botocore.exceptions as bex

    from trayapp.core import iam

    def client_error(code: str, status: int = 400) -> Exception:
        return bex.ClientError(
            {
                "Error": {"Code": code, "Message": "x"},
                "ResponseMetadata": {"HTTPStatusCode": status},
            },
            "CreateAccessKey",
        )

    cases = {
        "LimitExceeded": (iam.KeyLimitError, "two access keys"),
        "Throttling": (ThrottledError, "throttling"),
    }
    for code, (kind, words) in cases.items():
        err = iam.map_error(client_error(code), "CreateAccessKey")
        assert isinstance(err, kind) and words in str(err) and "\n" not in str(err)
    denied = iam.map_error(client_error("AccessDenied", 403), "CreateAccessKey")
    assert isinstance(denied, iam.MfaRequiredError)
    denied = iam.map_error(client_error("AccessDenied", 403), "CreateAccessKey", with_mfa=True)
    assert "Rotating the hub key" in str(denied) and not isinstance(denied, iam.MfaRequiredError)
    net = iam.map_error(bex.EndpointConnectionError(endpoint_url="http://x"), "ListAccessKeys")
    assert isinstance(net, NetworkError) and "http://x" in str(net)


def test_rotate_after_and_key_age_in_status(configured):
    """Issue 15: `config rotate-after` (0 = never), an old key shows in status with the
    advice; old configs load unchanged with the defaults."""
    env = configured
    assert env.aacli("rotate", "acme").returncode == 0
    path = env.home / "config.toml"
    text = path.read_text()
    created = (datetime.now(timezone.utc) - timedelta(days=97)).strftime("%Y-%m-%dT%H:%M:%SZ")
    import re

    path.write_text(re.sub(r"key_created = .*", f"key_created = {created}", text))
    status = env.aacli("status")
    assert "hub key of acme: 97 days old (rotate: aacli rotate acme)" in status.stdout
    assert json.loads(env.aacli("status", "--json").stdout)["hub_keys"] == [
        {"profile": "acme", "days_old": 97, "rotate_now": True}
    ]
    bad = env.aacli("config", "rotate-after", "acme", "soon")
    assert_one_line_error(bad, "whole days")
    assert env.aacli("config", "rotate-after", "acme", "0").returncode == 0
    assert _config(env).rotate_after == 0
    assert "hub key of acme: 97 days old\n" in env.aacli("status").stdout
    old_style = {
        "profiles": {
            "a": {
                "access_key_id": "AKIAAAAAAAAAAAAAAAAA",
                "mfa_serial": "arn:aws:iam::123456789012:mfa/a",
            }
        }
    }
    profile = parse_config(old_style, path).profiles[0]
    assert (profile.rotate_after, profile.key_created) == (90, None)


def test_rotation_drops_the_mfa_session_keeps_role_sessions_and_config_remove_forgets(
    configured,
):
    """Issue 15 step 6: the profile's cached MFA session is dropped, a live role session stays
    valid; `config remove` forgets the pending key's secret too."""
    env = configured
    assert env.aacli("config", "mfa-session", "acme", "1h").returncode == 0
    _auth_and_aws_cli(env)  # through a new MFA session, cached
    assert "MFA session of profile acme" in env.aacli("status").stdout
    assert env.aacli("rotate", "acme").returncode == 0
    status = env.aacli("status").stdout
    assert "MFA session of profile acme" not in status and "acme/dev/DEVELOPER" in status
    out = subprocess.run(
        [aws_cli_v2(), "sts", "get-caller-identity", "--profile", "dev-DEVELOPER",
         "--endpoint-url", env.sandbox.endpoint_url],
        capture_output=True, text=True, env=env.environ(), timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr  # the role session outlives the old key

    from conftest import PASSPHRASE

    from trayapp.core.secrets.vault import Vault

    vault = Vault(env.home / "vault.bin", lambda: PASSPHRASE)
    vault.set("acme/pending_secret_access_key", '{"access_key_id": "AKIA", "x": 1}')
    assert env.aacli("config", "remove", "acme").returncode == 0
    vault = Vault(env.home / "vault.bin", lambda: PASSPHRASE)
    names = vault.keys()  # the SecretStore protocol, not a dict
    assert [name for name in names if name.startswith("acme/")] == []


def test_refresh_age_reads_the_create_date_from_iam(configured):
    """Issue 15: the key's age from iam:ListAccessKeys CreateDate, cached in the config (status
    makes no IAM call: before the refresh it counts from the day aacli stored the key)."""
    import boto3

    env = configured
    iam = boto3.client(
        "iam",
        region_name="us-east-1",
        endpoint_url=env.sandbox.endpoint_url,
        aws_access_key_id=env.hub.access_key_id,
        aws_secret_access_key=env.hub.secret_access_key,
    )
    listed = iam.list_access_keys(UserName=env.hub.user_name)["AccessKeyMetadata"]
    made = next(k["CreateDate"] for k in listed if k["AccessKeyId"] == env.hub.access_key_id)
    result = env.aacli("rotate", "acme", "--refresh-age")
    assert result.returncode == 0, result.stderr
    assert "hub key of acme: 0 days old" in result.stderr
    profile = _config(env)
    assert profile.key_created_for == env.hub.access_key_id
    assert profile.key_created == made.replace(microsecond=0)  # IAM's date, not the stored one
    assert "hub key of acme: 0 days old" in env.aacli("status").stdout


def test_rotate_takes_its_code_from_the_profiles_mfa_command(configured, iam_mfa, tmp_path):
    """Issue 14/15: with `config codes PROFILE --process CMD`, a rotation whose policy needs MFA
    gets its code from that command, not from a prompt."""
    from test_codes_process import _code_command, _set_process

    env = configured
    old = env.hub.access_key_id
    _set_process(env, _code_command(env, tmp_path))
    result = env.aacli("rotate", "acme", DISPLAY="", WAYLAND_DISPLAY="")
    assert result.returncode == 0, result.stderr
    keys = env.sandbox.access_keys(env.hub)
    assert old not in keys and list(keys.values()) == ["Active"]


def test_a_profile_with_a_rotation_on_record_is_not_removed(configured):
    """Review: removing a profile whose rotation keeps an old key (or is unfinished) would
    forget the journal that names the keys in IAM; it is refused until the rotation is done."""
    env = configured
    result = env.aacli("rotate", "acme", "--keep-old")
    assert result.returncode == 0, result.stderr
    config = (env.home / "config.toml").read_bytes()
    assert_one_line_error(env.aacli("config", "remove", "acme"), "--delete-old")
    assert (env.home / "config.toml").read_bytes() == config
    assert env.aacli("rotate", "acme", "--delete-old").returncode == 0
    removed = env.aacli("config", "remove", "acme")
    assert removed.returncode == 0, removed.stderr


def test_a_stored_key_has_an_age_from_the_day_aacli_stored_it(configured):
    """Issue 15: the key's age comes from IAM's CreateDate when read, else from the date aacli
    stored the key: `config set-key` records it, so `status` shows an age at once."""
    status = configured.aacli("status")
    assert "hub key of acme: 0 days old" in status.stdout + status.stderr
