"""Sessions that audit well, against the sandbox over HTTP: roles whose trust policies demand an
external id, a session name equal to the IAM user's name and a source identity, and allow
session tags; the sandbox evaluates those conditions as AWS does and records each session."""

from __future__ import annotations

import configparser

import boto3
import pytest
from conftest import assert_one_line_error

EXTERNAL_ID = "7f3c9a1e-payments:prod/x"
STRICT = {
    "external_id": EXTERNAL_ID,
    "session_name_is_user": True,
    "source_identity_is_user": True,
    "tag_session": True,
}
RIGHT = [
    "--external-id", EXTERNAL_ID, "--source-identity", "auto",
    "--tag", "team=payments", "--tag", "cost-center=42", "--transitive-tag", "team",
]  # fmt: skip


def _section(path, name):
    parser = configparser.RawConfigParser()
    parser.read(path)
    return dict(parser[name]) if parser.has_section(name) else None


def _audited_role(env, role_kw, add_role_args, *, session_name="auto"):
    """A spoke role with audit conditions, configured in aacli with ``add_role_args``."""
    role = f"Audit-{env.hub.user_name}"
    env.sandbox.add_role("dev", role, **role_kw)
    config = env.home / "config.toml"
    text = config.read_text()
    line = 'session_name = "tester"\n'
    config.write_text(
        text.replace(line, "" if session_name == "auto" else f'session_name = "{session_name}"\n')
    )
    result = env.aacli("config", "add-role", "acme/dev", role, *add_role_args)
    assert result.returncode == 0, result.stderr
    return role


def _caller_arn(env, aws_profile):
    keys = _section(env.credentials, aws_profile)
    sts = boto3.client(
        "sts",
        region_name="us-east-1",
        endpoint_url=env.sandbox.endpoint_url,
        aws_access_key_id=keys["aws_access_key_id"],
        aws_secret_access_key=keys["aws_secret_access_key"],
        aws_session_token=keys["aws_session_token"],
    )
    return sts.get_caller_identity()["Arn"], keys["aws_access_key_id"]


def test_right_settings_succeed_and_the_session_names_the_person(configured):
    """Issue 14 item 3: with the right external id, session name and source identity, auth
    succeeds; the assumed-role ARN ends in the hub user's name (read once from
    GetCallerIdentity and kept in the config); the tags and source identity reach the session."""
    user = configured.hub.user_name
    role = _audited_role(configured, STRICT, RIGHT)

    result = configured.aacli("auth", f"dev/{role}", "--code", configured.code())
    assert result.returncode == 0, result.stderr
    arn, key_id = _caller_arn(configured, f"dev-{role}")
    assert arn.endswith(f":assumed-role/{role}/{user}"), arn
    session = configured.sandbox.role_sessions[key_id]
    assert session.session_name == user
    assert session.source_identity == user
    assert session.external_id == EXTERNAL_ID
    assert session.tags == (("team", "payments"), ("cost-center", "42"))
    assert session.transitive_tag_keys == ("team",)

    # The name is kept in the config for this key: the next sign-in asks STS only for the role.
    config = (configured.home / "config.toml").read_text()
    assert f'user_name = "{user}"' in config
    assert f'user_name_for = "{configured.hub.access_key_id}"' in config
    asked = [
        r.action
        for r in configured.sandbox.sts_requests
        if r.key_id == configured.hub.access_key_id
    ]
    assert asked.count("GetCallerIdentity") == 1
    again = configured.aacli("auth", "dev/DEVELOPER", "--code", configured.next_code())
    assert again.returncode == 0, again.stderr
    asked = [
        r.action
        for r in configured.sandbox.sts_requests
        if r.key_id == configured.hub.access_key_id
    ]
    assert asked.count("GetCallerIdentity") == 1
    assert _caller_arn(configured, "dev-DEVELOPER")[0].endswith(f"/DEVELOPER/{user}")

    shown = configured.aacli("config", "show").stdout
    assert f"session name: auto (hub IAM user name = {user})" in shown, shown
    assert f"external id {EXTERNAL_ID}" in shown
    assert "source identity auto" in shown
    assert "tags team=payments (transitive), cost-center=42" in shown


def test_the_mfa_session_path_sends_them_too(configured):
    """Issue 14 item 3: through the MFA session (GetSessionToken, then AssumeRole with it),
    the external id, session name, source identity and tags reach the role session as well."""
    user = configured.hub.user_name
    role = _audited_role(configured, STRICT, RIGHT)
    assert configured.aacli("config", "mfa-session", "acme", "8h").returncode == 0
    result = configured.aacli("auth", f"dev/{role}", "--code", configured.code())
    assert result.returncode == 0, result.stderr
    arn, key_id = _caller_arn(configured, f"dev-{role}")
    assert arn.endswith(f"/{role}/{user}"), arn
    session = configured.sandbox.role_sessions[key_id]
    assert (session.source_identity, session.external_id) == (user, EXTERNAL_ID)
    assert session.tags == (("team", "payments"), ("cost-center", "42"))


WRONG = {
    "wrong external id": (STRICT, ["--external-id", "not-the-id", *RIGHT[2:]], "auto",
                          ["not allowed to assume", "the role's external id"]),
    "no external id": (STRICT, RIGHT[2:], "auto", ["not allowed to assume", "no external id"]),
    "session name not the user": (STRICT, RIGHT, "tester",
                                  ["not allowed to assume", "session name 'tester'"]),
    "no source identity": (STRICT, [*RIGHT[:2], *RIGHT[4:]], "auto",
                           ["not allowed to assume", "no source identity"]),
    "tags not allowed": ({**STRICT, "tag_session": False}, RIGHT, "auto",
                         ["does not allow session tags", "sts:TagSession"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(WRONG))
def test_wrong_settings_fail_with_a_clear_sentence(configured, case):
    """Issue 14 item 3: a wrong or missing external id, a session name that is not the user's
    name, no source identity, tags the trust policy does not allow: AWS's refusal becomes one
    sentence naming what was sent; nothing is written."""
    role_kw, args, session_name, fragments = WRONG[case]
    role = _audited_role(configured, role_kw, args, session_name=session_name)
    result = configured.aacli("auth", f"dev/{role}", "--code", configured.code())
    assert_one_line_error(result, *fragments)
    assert EXTERNAL_ID not in result.stderr and "not-the-id" not in result.stderr
    assert (
        not configured.credentials.exists()
        or _section(configured.credentials, f"dev-{role}") is None
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--external-id", "x"], "external id 'x' must be 2-1224"),
        (["--external-id", "has space"], "external id 'has space'"),
        (["--source-identity", "a"], "source identity 'a'"),
        (["--tag", "team"], "KEY=VALUE"),
        (["--tag", "aws:team=x"], "AWS's own"),
        (["--tag", "team=a;b"], "the value of tag 'team'"),
        (["--tag", "k" * 129 + "=v"], "tag key"),
        (["--tag", "Team=a", "--tag", "team=b"], "given twice"),
        ([a for i in range(51) for a in ("--tag", f"k{i}=v")], "at most 50"),
        (["--tag", "team=a", "--transitive-tag", "cost"], "not one of the role's tags"),
    ],
)
def test_audit_settings_are_checked_against_aws_limits(configured, args, fragment):
    """Issue 14 item 3: external id, source identity, tags and transitive keys are validated
    with AWS's limits and charsets; a bad value changes nothing."""
    before = (configured.home / "config.toml").read_bytes()
    result = configured.aacli("config", "add-role", "acme/dev", "Audited", *args)
    assert_one_line_error(result, fragment)
    assert (configured.home / "config.toml").read_bytes() == before


def test_session_name_settings(configured):
    """Issue 14 item 3: add-profile --session-name takes auto, os-user or a fixed name, and
    refuses anything AWS would not take."""
    args = ["config", "add-profile", "other", "--access-key-id", "AKIAOTHERUSER0000001",
            "--mfa-serial", "arn:aws:iam::123456789012:mfa/bob"]  # fmt: skip
    bad = configured.aacli(*args, "--session-name", "bob smith!")
    assert_one_line_error(bad, "session name 'bob smith!'")
    ok = configured.aacli(*args, "--session-name", "os-user", input="S" * 40 + "\n")
    assert ok.returncode == 0, ok.stderr
    assert 'session_name = "os-user"' in (configured.home / "config.toml").read_text()
    assert "session name: os-user" in configured.aacli("config", "show").stdout


def test_import_reads_external_id_session_name_and_source_identity(env):
    """Issue 14 item 3: import-aws takes the AWS CLI's external_id and role_session_name and
    aws-vault's source_identity; a bad value skips that profile with the reason."""
    env.aws_config.parent.mkdir(mode=0o700)
    env.aws_config.write_text(
        "[profile hub]\nmfa_serial = arn:aws:iam::123456789012:mfa/alice\n\n"
        "[profile prod-Admin]\nrole_arn = arn:aws:iam::333333333333:role/Admin\n"
        "source_profile = hub\nexternal_id = 7f3c-ext:id\nrole_session_name = alice\n"
        "source_identity = alice\n\n"
        "[profile dev-Admin]\nrole_arn = arn:aws:iam::111111111111:role/Admin\n"
        "source_profile = hub\nexternal_id = x\n"
    )
    env.credentials.write_text(
        "[hub]\naws_access_key_id = AKIAHUBIMPORT0000001\n"
        "aws_secret_access_key = importedSecretKeyValue0001\n"
    )
    result = env.aacli("config", "import-aws")
    assert result.returncode == 0, result.stderr
    assert "external id 'x' must be 2-1224" in result.stderr  # dev-Admin skipped, with why
    shown = env.aacli("config", "show").stdout
    assert "session name: alice" in shown, shown
    assert "external id 7f3c-ext:id; source identity alice" in shown
    assert "111111111111" not in shown


def test_a_name_read_with_another_key_is_read_again(configured):
    """Issue 14 item 3: the stored user name belongs to the key it was read with: after the
    hub key changed (a rotation), the next auth reads the name again from GetCallerIdentity."""
    config = configured.home / "config.toml"
    user = configured.hub.user_name
    config.write_text(
        config.read_text().replace(
            'session_name = "tester"\n',
            'user_name = "old-name"\nuser_name_for = "AKIAOLDKEY0000000001"\n',
        )
    )
    result = configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code())
    assert result.returncode == 0, result.stderr
    text = config.read_text()
    assert f'user_name = "{user}"' in text and "old-name" not in text
    assert f'user_name_for = "{configured.hub.access_key_id}"' in text
    sessions = [
        s for s in configured.sandbox.role_sessions.values() if s.role_arn.endswith("/DEVELOPER")
    ]
    assert sessions[-1].session_name == user


def test_old_configs_load_unchanged_and_new_settings_round_trip(tmp_path):
    """Issue 14 item 3: a config written before these settings loads as it did (any session
    name string, no code source: typed codes); the new ones are saved and read back as set,
    and a bad value in the file names the key."""
    from trayapp.core.config import load_config, save_config
    from trayapp.core.errors import ConfigError

    folder = tmp_path / "aacli"
    folder.mkdir(mode=0o700)
    path = folder / "config.toml"
    old = (
        'version = 1\n\n[profiles.acme]\naccess_key_id = "AKIAOLDCONFIG0000001"\n'
        'mfa_serial = "arn:aws:iam::123456789012:mfa/alice"\nsession_name = "Jörg Müller"\n\n'
        '[profiles.acme.accounts.dev]\nid = "111111111111"\nregion = "eu-west-1"\n\n'
        "[profiles.acme.accounts.dev.roles.DEVELOPER]\nduration = 3600\n"
    )
    path.write_text(old, encoding="utf-8")
    path.chmod(0o600)
    profile = load_config(path).profiles[0]
    assert (profile.session_name, profile.codes, profile.user_name) == ("Jörg Müller", "ask", None)
    role = profile.accounts[0].roles[0]
    assert (role.external_id, role.source_identity, role.tags) == (None, None, ())

    new = old.replace(
        "duration = 3600\n",
        'duration = 3600\nexternal_id = "ext-123"\nsource_identity = "auto"\n'
        'transitive_tag_keys = ["team"]\n[profiles.acme.accounts.dev.roles.DEVELOPER.tags]\n'
        'team = "payments"\n',
    ).replace('session_name = "Jörg Müller"\n', 'codes = "ykman"\nykman_serial = 12345678\n')
    path.write_text(new, encoding="utf-8")
    config = load_config(path)
    save_config(config, path)
    assert load_config(path) == config
    profile = config.profiles[0]
    assert (profile.codes, profile.ykman_serial) == ("ykman", "12345678")
    assert profile.accounts[0].roles[0].tags == (("team", "payments"),)

    path.write_text(new.replace('"ext-123"', '"x"'), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"roles\.DEVELOPER\.external_id: external id 'x'"):
        load_config(path)
    path.write_text(new.replace('codes = "ykman"', 'codes = "process"'), encoding="utf-8")
    with pytest.raises(ConfigError, match="'process' needs mfa_process"):
        load_config(path)
