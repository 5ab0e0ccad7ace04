"""aacli auth/status/unauth/sweep end to end: the sandbox over HTTP, real AWS clients."""

from __future__ import annotations

import configparser
import json
import stat
import subprocess
import time

import boto3
import pytest
from conftest import assert_one_line_error, aws_cli_v2

FOREIGN = (
    "# my AWS credentials\r\n"
    "; keep this comment\r\n"
    "[default]\r\n"
    "aws_access_key_id = AKIASTATICDEFAULT001\r\n"
    "aws_secret_access_key = staticSecretDoNotTouch\r\n"
    "\r\n"
    + "".join(
        f"[foreign{i}]\r\naws_access_key_id = AKIAFOREIGN{i:09d}\r\n"
        f"aws_secret_access_key = foreignsecret{i}\r\n\r\n"
        for i in range(50)
    )
    + "# trailing comment, no final newline"
)


def _section(path, name):
    parser = configparser.RawConfigParser()
    parser.read(path)
    return dict(parser[name]) if parser.has_section(name) else None


@pytest.mark.awscli
def test_auth_writes_a_profile_the_aws_cli_and_boto3_use(configured, monkeypatch):
    result = configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code())
    assert result.returncode == 0, result.stderr
    assert "dev-DEVELOPER" in result.stderr

    aws = aws_cli_v2()
    identity = subprocess.run(
        [
            aws,
            "sts",
            "get-caller-identity",
            "--profile",
            "dev-DEVELOPER",
            "--output",
            "json",
            "--endpoint-url",
            configured.sandbox.endpoint_url,
        ],
        capture_output=True,
        text=True,
        env=configured.environ(),
        timeout=60,
    )
    assert identity.returncode == 0, identity.stderr
    data = json.loads(identity.stdout)
    assert data["Account"] == "111111111111"
    assert ":assumed-role/DEVELOPER/" in data["Arn"]

    for name in ("AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"):
        monkeypatch.setenv(name, configured.vars[name])
    session = boto3.Session(profile_name="dev-DEVELOPER")
    assert session.region_name == "eu-west-1"
    arn = session.client("sts", endpoint_url=configured.sandbox.endpoint_url).get_caller_identity()[
        "Arn"
    ]
    assert arn.endswith("assumed-role/DEVELOPER/tester")

    section = _section(configured.credentials, "dev-DEVELOPER")
    assert section["aws_access_key_id"].startswith("ASIA")
    assert section["x_security_token_expires"].endswith("Z")
    assert stat.S_IMODE(configured.credentials.stat().st_mode) == 0o600
    assert stat.S_IMODE(configured.credentials.parent.stat().st_mode) == 0o700


def test_foreign_bytes_survive_auth_and_unauth(configured):
    configured.credentials.parent.mkdir(mode=0o700)
    configured.credentials.write_bytes(FOREIGN.encode())
    configured.credentials.chmod(0o644)
    config_text = "[profile foreign1]\r\nregion = ap-south-1\r\n# end"
    configured.aws_config.write_bytes(config_text.encode())

    result = configured.aacli(
        "auth", "dev/DEVELOPER", "--code", configured.code(), "--duration", "1h"
    )
    assert result.returncode == 0, result.stderr
    written = configured.credentials.read_bytes()
    assert written.startswith(FOREIGN.encode())  # foreign part untouched, ours appended
    assert b"[dev-DEVELOPER]\r\n" in written  # in the file's own line endings
    assert stat.S_IMODE(configured.credentials.stat().st_mode) == 0o600
    assert _section(configured.aws_config, "profile dev-DEVELOPER") == {"region": "eu-west-1"}

    status = configured.aacli("status", "--json")
    assert [s["target"] for s in json.loads(status.stdout)["sessions"]] == ["acme/dev/DEVELOPER"]

    result = configured.aacli("unauth", "dev/DEVELOPER")
    assert result.returncode == 0, result.stderr
    assert configured.credentials.read_bytes() == FOREIGN.encode()
    assert configured.aws_config.read_bytes() == config_text.encode()
    assert json.loads(configured.aacli("status", "--json").stdout)["sessions"] == []


def test_default_also_written_but_never_over_static_keys(configured):
    configured.credentials.parent.mkdir(mode=0o700)
    configured.credentials.write_text(FOREIGN)
    before = configured.credentials.read_bytes()
    result = configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code(), "--default")
    assert_one_line_error(result, "default")
    assert configured.credentials.read_bytes() == before

    configured.credentials.write_text("")
    result = configured.aacli(
        "auth", "dev/DEVELOPER", "--code", configured.next_code(), "--default"
    )
    assert result.returncode == 0, result.stderr
    default = _section(configured.credentials, "default")
    assert default == _section(configured.credentials, "dev-DEVELOPER")
    assert configured.aacli("unauth", "--all").returncode == 0
    assert configured.credentials.read_text() == ""


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["auth", "dev/DEVELOPER", "--code", "000000"], ["MFA code"]),
        (["auth", "dev/DEVELOPER", "--code", "12345a"], ["6 digits"]),
        (["auth", "dev/DEVELOPER", "--code", "1234567"], ["6 digits"]),
        (["auth", "nowhere", "--code", "123456"], ["no role matches"]),
        (["auth", "dev", "--code", "123456"], ["several roles"]),
        (["auth", "dev/DEVELOPER", "--code", "123456", "--duration", "13h"], ["12 h"]),
        (
            ["config", "add-account", "acme", "qa", "--id", "1234", "--region", "eu-west-1"],
            ["12 digits"],
        ),
        (
            ["config", "add-account", "acme", "qa", "--id", "444444444444", "--region", "mars-1"],
            ["region"],
        ),
        (["config", "add-role", "acme/dev", "bad role!"], ["role name"]),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(configured, args, fragments):
    configured.credentials.parent.mkdir(mode=0o700)
    configured.credentials.write_bytes(FOREIGN.encode())
    before = {p: p.read_bytes() for p in [configured.credentials, configured.home / "config.toml"]}
    result = configured.aacli(*args)
    assert_one_line_error(result, *fragments)
    for path, content in before.items():
        assert path.read_bytes() == content


def _requests_with_code(configured, code):
    """The STS calls of this test's MFA device that carried ``code``, as the sandbox saw them."""
    return [
        r.action
        for r in configured.sandbox.sts_requests
        if r.serial == configured.hub.mfa_serial and r.token_code == code
    ]


def test_reused_code_is_refused_before_it_reaches_aws(configured):
    """Issue 17 item 1: the guard, not AWS, refuses the reused code: it is sent exactly once."""
    code = configured.code()
    assert configured.aacli("auth", "dev/ReadOnly", "--code", code).returncode == 0
    assert _requests_with_code(configured, code) == ["AssumeRole"]
    result = configured.aacli("auth", "prod/ReadOnly", "--code", code)
    assert_one_line_error(result, "already used", "next code")
    assert _section(configured.credentials, "prod-ReadOnly") is None
    # The sandbox's own refusal says "already used" too: only the request log tells them apart.
    assert _requests_with_code(configured, code) == ["AssumeRole"]


def test_reused_code_is_refused_by_aws_too(configured):
    """Another machine used the code: AWS (the sandbox) rejects it with a clear sentence."""
    code = configured.code()
    configured.sandbox.spend_code(configured.hub, code) if hasattr(
        configured.sandbox, "spend_code"
    ) else boto3.client(
        "sts",
        endpoint_url=configured.sandbox.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=configured.hub.access_key_id,
        aws_secret_access_key=configured.hub.secret_access_key,
    ).get_session_token(SerialNumber=configured.hub.mfa_serial, TokenCode=code)
    result = configured.aacli("auth", "dev/DEVELOPER", "--code", code)
    assert_one_line_error(result, "rejected the MFA code")


def test_duration_above_the_roles_maximum(configured):
    # ReadOnly allows 1 h in the sandbox; the config may say more, AWS refuses.
    result = configured.aacli(
        "auth", "dev/ReadOnly", "--code", configured.code(), "--duration", "2h"
    )
    assert_one_line_error(result, "longer than", "ReadOnly")
    assert not configured.credentials.exists()


def test_corrupt_config_is_reported_and_never_rewritten(configured):
    path = configured.home / "config.toml"
    broken = path.read_text().replace('id = "111111111111"', 'id = "1111"')
    path.write_text(broken)
    result = configured.aacli("status")
    assert result.returncode == 0  # status reads only the ledger
    result = configured.aacli("auth", "dev/DEVELOPER", "--code", "123456")
    assert_one_line_error(result, "config.toml", "profiles.acme.accounts.dev.id", "12 digits")
    path.write_text("this is [not toml")
    result = configured.aacli("config", "show")
    assert_one_line_error(result, "config.toml", "left unchanged")
    assert path.read_text() == "this is [not toml"


def test_expired_credentials_are_removed_by_any_command(configured, short_lived):
    configured.credentials.parent.mkdir(mode=0o700)
    configured.credentials.write_bytes(FOREIGN.encode())
    assert configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code()).returncode == 0
    assert (
        configured.aacli("auth", "prod/ReadOnly", "--code", configured.next_code()).returncode == 0
    )
    # The user replaced prod-ReadOnly's keys by hand: aacli must leave them alone.
    text = configured.credentials.read_bytes()
    ours = _section(configured.credentials, "prod-ReadOnly")["aws_access_key_id"].encode()
    configured.credentials.write_bytes(text.replace(ours, b"AKIAUSERCHANGEDKEY01"))
    time.sleep(4.5)
    result = configured.aacli("status")
    assert "No active sessions" in result.stdout
    assert "expired" in result.stderr and "left AWS profile 'prod-ReadOnly' alone" in result.stderr
    assert _section(configured.credentials, "dev-DEVELOPER") is None
    assert (
        _section(configured.credentials, "prod-ReadOnly")["aws_access_key_id"]
        == "AKIAUSERCHANGEDKEY01"
    )
    assert configured.credentials.read_bytes().startswith(FOREIGN.encode())


def test_status_lists_active_sessions_with_time_left(configured):
    assert configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code()).returncode == 0
    result = configured.aacli("status")
    assert result.returncode == 0
    line = next(line for line in result.stdout.splitlines() if "acme/dev/DEVELOPER" in line)
    assert "dev-DEVELOPER" in line and ("1 h 59 min" in line or "2 h 00 min" in line)


def test_no_code_without_a_terminal_is_a_clear_error(configured):
    result = configured.aacli("auth", "dev/DEVELOPER", DISPLAY="", WAYLAND_DISPLAY="")
    assert_one_line_error(result, "--code")


def test_unauth_leaves_a_section_without_our_key_id_alone(configured):
    """Issue 17 item 4: the user replaced our section with their own secret and token but no
    key id: unauth and sweep leave every byte of it."""
    assert configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code()).returncode == 0
    theirs = (
        FOREIGN.replace("# trailing comment, no final newline", "")
        + "[dev-DEVELOPER]\r\naws_secret_access_key = theirSecret\r\n"
        "aws_session_token = theirToken\r\n"
    ).encode()
    configured.credentials.write_bytes(theirs)
    result = configured.aacli("unauth", "dev/DEVELOPER")
    assert "Traceback" not in result.stderr, result.stderr
    assert configured.credentials.read_bytes() == theirs
    assert "left AWS profile 'dev-DEVELOPER' alone" in result.stderr
    assert configured.aacli("sweep").returncode == 0
    assert configured.credentials.read_bytes() == theirs
