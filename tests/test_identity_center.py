"""Issue 13: Identity Center hubs in the config, sync (with and without --prune), auth of a
permission set and of a role chained from one, link-aws, the console, against the sandbox."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest
import tomllib
from conftest import assert_one_line_error, aws_cli_v2
from identity_center_fixtures import corp_hub_toml, write_config

from trayapp.core.paths import AppPaths, AwsPaths


def config_data(env) -> dict:
    return tomllib.loads((env.home / "config.toml").read_text())


def sign_in(env, ic, user: str | None = None) -> None:
    """A device-flow sign-in of corp (in this process), approved as ``user`` would."""
    from trayapp.core.config import find_profile, load_config
    from trayapp.core.sso.signin import SsoContext
    from trayapp.core.sso.signin import sign_in as core_sign_in

    hub = find_profile(load_config(env.home / "config.toml"), "corp")
    ctx = SsoContext(
        aws=AwsPaths(env.credentials, env.aws_config),
        app=AppPaths(env.home, env.home / "state"),
        endpoint_url=env.sandbox.endpoint_url,
    )
    core_sign_in(
        ctx,
        hub,
        open_browser=lambda url: True,
        show_device_code=lambda code: ic.approve(code.user_code, user=user),
        device_code=True,
    )


def aws(env, *args: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [aws_cli_v2(), *args, "--output", "json"],
        capture_output=True,
        text=True,
        env=env.environ(**(extra or {})),
        timeout=90,
    )


def caller_arn(env, profile: str, extra: dict[str, str] | None = None) -> str:
    result = aws(
        env,
        "sts",
        "get-caller-identity",
        "--profile",
        profile,
        "--endpoint-url",
        env.sandbox.endpoint_url,
        extra=extra,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["Arn"]


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


def ok_json(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# Sync


def test_sync_adds_accounts_and_permission_sets_and_keeps_the_users_names(corp, ic):
    """Issue 13 item 2: `config sync` turns ListAccounts/ListAccountRoles (paged) into accounts
    by id and permission sets marked synced; an account the user named keeps its name."""
    write_config(
        corp,
        corp_hub_toml(
            ic,
            '\n[profiles.corp.accounts.development]\nid = "111111111111"\nregion = "eu-west-1"\n',
        ),
    )
    sign_in(corp, ic)
    out = ok(corp.aacli("config", "sync", "corp"))
    assert "added corp/development/AdministratorAccess" in out
    assert "added corp/development/ReadOnlyAccess" in out
    assert "added corp/prod" in out
    assert "added corp/prod/ReadOnlyAccess" in out
    accounts = config_data(corp)["profiles"]["corp"]["accounts"]
    assert set(accounts) == {"development", "prod"}  # the user's name, the portal's name
    assert accounts["prod"]["id"] == "333333333333"
    assert accounts["development"]["roles"] == {
        "AdministratorAccess": {"synced": True},
        "ReadOnlyAccess": {"synced": True},
    }
    again = ok(corp.aacli("config", "sync", "corp"))
    assert "added" not in again.replace("0 added", "")
    assert "corp: 0 added, 0 removed; now 2 account(s), 3 permission set(s)." in again
    show = ok(corp.aacli("config", "show"))
    assert f"corp  Identity Center {ic.start_url}" in show
    assert "AdministratorAccess  permission set, synced  → AWS profile development-Admin" in show


def test_prune_removes_only_synced_roles_no_longer_assigned(corp, ic):
    """Issue 13 item 2: without --prune nothing goes; with it, only synced permission sets no
    longer assigned (and accounts left empty, and their sessions), never a role added by hand,
    a via role, the permission set a via role needs, nor an account that still holds a
    hand-added role."""
    ic.add_user("bob")
    ic.assign("bob", "dev", "AdministratorAccess")  # bob has nothing else
    write_config(
        corp,
        corp_hub_toml(
            ic,
            """
[profiles.corp.accounts.dev]
id = "111111111111"
region = "eu-west-1"
[profiles.corp.accounts.dev.roles.AdministratorAccess]
synced = true
[profiles.corp.accounts.dev.roles.ReadOnlyAccess]
synced = true
[profiles.corp.accounts.dev.roles.PowerUserAccess]
[profiles.corp.accounts.dev.roles.DEVELOPER]
via = "AdministratorAccess"
[profiles.corp.accounts.prod]
id = "333333333333"
region = "us-east-2"
[profiles.corp.accounts.prod.roles.ReadOnlyAccess]
synced = true
[profiles.corp.accounts.prod.roles.ReadOnly]
via = "ReadOnlyAccess"
[profiles.corp.accounts.stage]
id = "222222222222"
region = "eu-west-1"
[profiles.corp.accounts.stage.roles.ReadOnlyAccess]
synced = true
[profiles.corp.accounts.lab]
id = "777777777777"
region = "eu-west-1"
""",
        ),
    )
    sign_in(corp, ic)  # alice has dev/ReadOnlyAccess: a live session of it
    ok(corp.aacli("auth", "corp/dev/ReadOnlyAccess"))
    assert "[dev-ReadOnlyAccess]" in corp.credentials.read_text()
    sign_in(corp, ic, user="bob")
    before = (corp.home / "config.toml").read_bytes()
    out = ok(corp.aacli("config", "sync", "corp"))
    assert "removed" not in out.replace("0 removed", "")
    assert "kept corp/dev/ReadOnlyAccess (not assigned now; --prune removes it)" in out
    assert (corp.home / "config.toml").read_bytes() == before

    out = ok(corp.aacli("config", "sync", "corp", "--prune"))
    assert "removed corp/dev/ReadOnlyAccess" in out
    assert "removed corp/stage/ReadOnlyAccess" in out
    assert "removed corp/stage\n" in out
    assert "kept corp/dev/PowerUserAccess (not assigned now; added by hand" in out
    assert (
        "kept corp/prod/ReadOnlyAccess (not assigned now; a role added by hand goes via it)" in out
    )
    assert "kept corp/prod (not assigned now; holds roles added by hand)" in out
    assert "kept corp/lab (not assigned now; added by hand, with no roles)" in out
    accounts = config_data(corp)["profiles"]["corp"]["accounts"]
    assert set(accounts) == {"dev", "prod", "lab"}
    assert set(accounts["dev"]["roles"]) == {"AdministratorAccess", "PowerUserAccess", "DEVELOPER"}
    assert set(accounts["prod"]["roles"]) == {"ReadOnlyAccess", "ReadOnly"}
    assert accounts["prod"]["region"] == "us-east-2"  # the user's region stays
    assert "[dev-ReadOnlyAccess]" not in corp.credentials.read_text()  # its session went too
    status = ok_json(corp.aacli("status", "--json"))
    assert status["sessions"] == []


# Auth, chaining, the AWS CLI, the console


def test_auth_of_a_permission_set_writes_a_profile_the_aws_cli_uses(corp, ic):
    """Issue 13 item 2: `aacli auth corp/dev/AdministratorAccess` (GetRoleCredentials, no
    code) writes the credentials file as for IAM-user roles; the AWS CLI v2 then is the
    AWSReservedSSO role; env, exec, credential-process and status work for it too."""
    write_config(
        corp,
        corp_hub_toml(
            ic,
            '\n[profiles.corp.accounts.dev]\nid = "111111111111"\nregion = "eu-west-1"\n'
            "[profiles.corp.accounts.dev.roles.AdministratorAccess]\nsynced = true\n",
        ),
    )
    sign_in(corp, ic)
    out = ok(corp.aacli("auth", "corp/dev/AdministratorAccess"))
    assert "credentials written to AWS profile 'dev-AdministratorAccess'" in out
    arn = caller_arn(corp, "dev-AdministratorAccess")
    assert ":assumed-role/AWSReservedSSO_AdministratorAccess" in arn
    assert arn.startswith("arn:aws:sts::111111111111:")
    status = ok_json(corp.aacli("status", "--json"))
    assert [s["target"] for s in status["sessions"]] == ["corp/dev/AdministratorAccess"]
    assert status["hub_keys"] == []
    [sign_in_entry] = status["identity_center"]
    assert sign_in_entry["profile"] == "corp" and sign_in_entry["seconds_left"] > 3600
    assert "Identity Center hub corp: signed in until " in ok(corp.aacli("status"))
    env_out = ok(corp.aacli("env", "corp/dev/AdministratorAccess"))
    assert "AWS_SESSION_TOKEN=" in env_out
    process = ok_json(corp.aacli("credential-process", "corp/dev/AdministratorAccess"))
    assert process["Version"] == 1 and process["AccessKeyId"].startswith("ASIA")
    ran = corp.aacli(
        "exec",
        "corp/dev/AdministratorAccess",
        "--",
        aws_cli_v2(),
        "sts",
        "get-caller-identity",
        "--endpoint-url",
        corp.sandbox.endpoint_url,
    )
    assert "AWSReservedSSO_AdministratorAccess" in ok(ran)


def test_a_role_chained_from_a_permission_set_is_capped_at_1h_and_renewed(corp, ic, sandbox):
    """Issue 13 item 2: `config add-role corp/dev DEVELOPER --via AdministratorAccess` chains
    the spoke role from the permission set's credentials; AWS's 1 h cap is kept (a 2 h role
    asks for 1 h), the AWS CLI is the spoke role, and expired credentials are renewed without
    a prompt or a new sign-in."""
    write_config(
        corp,
        corp_hub_toml(
            ic,
            '\n[profiles.corp.accounts.dev]\nid = "111111111111"\nregion = "eu-west-1"\n'
            "[profiles.corp.accounts.dev.roles.AdministratorAccess]\nsynced = true\n",
        ),
    )
    sign_in(corp, ic)
    out = ok(
        corp.aacli(
            "config", "add-role", "corp/dev", "DEVELOPER", "--via", "AdministratorAccess",
            "--duration", "2h",
        )
    )  # fmt: skip
    assert "chained from AdministratorAccess: at most 1 h" in out
    assert config_data(corp)["profiles"]["corp"]["accounts"]["dev"]["roles"]["DEVELOPER"] == {
        "duration": 7200,
        "via": "AdministratorAccess",
    }
    said = ok(corp.aacli("auth", "corp/dev/DEVELOPER"))
    assert "note: roles assumed from AdministratorAccess last at most 1 h" in said
    arn = caller_arn(corp, "dev-DEVELOPER")
    assert arn.startswith("arn:aws:sts::111111111111:assumed-role/DEVELOPER/")
    session = ok_json(corp.aacli("status", "--json"))["sessions"][0]
    assert 3000 < session["seconds_left"] <= 3600

    sandbox.credential_lifetime = 4  # both the permission set's and the chained session
    try:
        first = ok_json(corp.aacli("credential-process", "corp/dev/DEVELOPER"))
        ok(corp.aacli("unauth", "--all"))
        first = ok_json(corp.aacli("credential-process", "corp/dev/DEVELOPER"))
        time.sleep(5)
        renewed = ok_json(corp.aacli("credential-process", "corp/dev/DEVELOPER"))
    finally:
        sandbox.credential_lifetime = None
    assert renewed["AccessKeyId"] != first["AccessKeyId"]
    assert renewed["Expiration"] > first["Expiration"]


def test_a_chained_role_beside_the_iam_user_hubs_same_role_gets_its_own_aws_profile(corp, ic):
    """Issue 13 item 4 (the migration path): `add-role corp/dev DEVELOPER --via …` while the
    IAM-user hub acme has dev/DEVELOPER: the new role writes corp-dev-DEVELOPER (named after its
    hub, as sync does), and the message names it in full (dev/DEVELOPER is ambiguous now)."""
    write_config(
        corp,
        '\n[profiles.acme]\naccess_key_id = "AKIAAAAAAAAAAAAAAAAA"\n'
        'mfa_serial = "arn:aws:iam::999999999999:mfa/alice"\n'
        '[profiles.acme.accounts.dev]\nid = "111111111111"\nregion = "eu-west-1"\n'
        "[profiles.acme.accounts.dev.roles.DEVELOPER]\n"
        + corp_hub_toml(
            ic,
            '\n[profiles.corp.accounts.dev]\nid = "111111111111"\nregion = "eu-west-1"\n'
            "[profiles.corp.accounts.dev.roles.AdministratorAccess]\nsynced = true\n",
        ),
    )
    out = ok(
        corp.aacli("config", "add-role", "corp/dev", "DEVELOPER", "--via", "AdministratorAccess")
    )
    assert (
        "Added role corp/dev/DEVELOPER (chained from AdministratorAccess: at most 1 h, renewed); "
        "'aacli auth corp/dev/DEVELOPER' writes AWS profile 'corp-dev-DEVELOPER'."
    ) in out
    role = config_data(corp)["profiles"]["corp"]["accounts"]["dev"]["roles"]["DEVELOPER"]
    assert role["aws_profile"] == "corp-dev-DEVELOPER"


def test_config_errors_are_one_line_and_change_nothing(corp, ic):
    """Issue 13 item 1: an Identity Center hub with access_key_id, a via naming no permission
    set of its account, a via on an IAM-user hub, a start URL that is not https: each one line
    naming the key; bad CLI input changes nothing; hub-key verbs say there is no hub key."""
    good = (corp.home / "config.toml").read_bytes()
    iam_hub = (
        '\n[profiles.acme]\naccess_key_id = "AKIAAAAAAAAAAAAAAAAA"\n'
        'mfa_serial = "arn:aws:iam::999999999999:mfa/alice"\n'
        '[profiles.acme.accounts.dev]\nid = "111111111111"\nregion = "eu-west-1"\n'
    )
    dev = '\n[profiles.corp.accounts.dev]\nid = "111111111111"\nregion = "eu-west-1"\n'
    cases = [
        (
            corp_hub_toml(ic).replace(
                "sso_region", 'access_key_id = "AKIAAAAAAAAAAAAAAAAA"\nsso_region'
            ),
            "profiles.corp.access_key_id: an Identity Center hub has no hub key",
        ),
        (
            corp_hub_toml(ic, dev + '[profiles.corp.accounts.dev.roles.DEVELOPER]\nvia = "Nope"\n'),
            "profiles.corp.accounts.dev.roles.DEVELOPER.via: 'Nope' is no permission set of "
            "account 'dev'",
        ),
        (
            iam_hub + '[profiles.acme.accounts.dev.roles.DEVELOPER]\nvia = "Admin"\n',
            "profiles.acme.accounts.dev.roles.DEVELOPER.via: only a role of an Identity Center hub",
        ),
        (
            corp_hub_toml(ic).replace(ic.start_url, "http://corp.awsapps.com/start"),
            "profiles.corp.sso_start_url: start URL 'http://corp.awsapps.com/start' must be "
            "an https:// address",
        ),
    ]
    for body, message in cases:
        write_config(corp, body)
        assert_one_line_error(corp.aacli("config", "show"), message)
    (corp.home / "config.toml").write_bytes(good)
    for args, message in [
        (
            ("config", "add-sso", "corp2", "--start-url", "http://x.example/start", "--region", "eu-west-1"),
            "must be an https:// address",
        ),
        (("config", "add-sso", "corp", "--start-url", ic.start_url, "--region", "eu-west-1"),
         "profile 'corp' already exists"),
        (("config", "set-key", "corp"), "an Identity Center hub has no hub key"),
        (("config", "codes", "corp", "--ask"), "an Identity Center hub has no hub key"),
        (("config", "mfa-session", "corp", "12h"), "an Identity Center hub has no hub key"),
        (("rotate", "corp"), "an Identity Center hub has no hub key, so nothing to rotate"),
        (("config", "add-account", "corp", "dev", "--id", "111111111111", "--region", "eu-west-1"), None),
        (("config", "add-role", "corp/dev", "DEVELOPER", "--via", "AdministratorAccess"),
         "corp/dev has no permission set 'AdministratorAccess'"),
        (("config", "add-role", "corp/dev", "Admin", "--duration", "2h"),
         "--duration: a permission set takes none"),
        (("login", "nobody"), "no profile named 'nobody'"),
        (("config", "add-role", "corp/dev", "AdministratorAccess"), None),
        (("config", "add-role", "corp/dev", "DEVELOPER", "--via", "AdministratorAccess"), None),
        (("config", "remove", "corp/dev/AdministratorAccess"),
         "corp/dev/AdministratorAccess is the permission set DEVELOPER goes via; remove that first"),
    ]:  # fmt: skip
        before = (corp.home / "config.toml").read_bytes()
        result = corp.aacli(*args)
        if message is None:
            ok(result)
            continue
        assert_one_line_error(result, message)
        assert (corp.home / "config.toml").read_bytes() == before
    removed = corp.aacli("config", "remove", "corp", AACLI_PASSPHRASE="")
    assert "Removed corp. Its sign-in, shared with the AWS CLI" in ok(removed)
    assert not (corp.home / "vault.bin").exists()  # no secret store opened for it


def test_the_config_menu_adds_an_identity_center_hub(corp, ic):
    """Issue 13 item 1: `aacli config` on a terminal adds an Identity Center hub, checking the
    start URL as it is typed (http elsewhere than 127.0.0.1 is asked again)."""
    import pexpect

    child = pexpect.spawn(
        sys.executable,
        ["-m", "trayapp.cli.main", "config"],
        env=corp.environ(),
        encoding="utf-8",
        timeout=30,
    )
    child.expect(r"(\d)\) Add an Identity Center hub")
    child.sendline(child.match.group(1))
    child.expect("Hub name")
    child.sendline("corp2")
    child.expect("Start URL")
    child.sendline("http://corp.example/start")
    child.expect("must be an https:// address")
    child.expect("Start URL")
    child.sendline("https://corp2.awsapps.com/start")
    child.expect("Identity Center region")
    child.sendline("eu-central-1")
    child.expect("Added Identity Center hub 'corp2'")
    child.expect(r"(\d)\) Done")
    child.sendline(child.match.group(1))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    hub = config_data(corp)["profiles"]["corp2"]
    assert hub == {
        "sso_start_url": "https://corp2.awsapps.com/start",
        "sso_region": "eu-central-1",
        "accounts": {},
    }


def test_status_of_an_identity_center_hub_reads_the_cache_without_botocore(corp, ic):
    """Issue 13 item 2: `aacli status` says whether each Identity Center hub is signed in, from
    the token cache alone: no network, no botocore (status stays a fast path)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "trayapp.cli.main", "status"],
        capture_output=True,
        text=True,
        env=corp.environ(),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Identity Center hub corp: not signed in (aacli login corp)" in done.stdout
    loaded = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "trayapp.core.sso.cache" in loaded
    assert not {name.split(".")[0] for name in loaded} & {"boto3", "botocore"}


def test_import_aws_says_why_it_skips_what_has_no_hub_key(corp, ic):
    """Issue 13 item 1: `config import-aws` does not turn an Identity Center sign-in into a hub
    key: a role whose source profile is an sso profile, and a source named like an Identity
    Center hub of the config, are skipped with the reason; the config stays as it was."""
    corp.aws_config.parent.mkdir(mode=0o700, exist_ok=True)
    corp.aws_config.write_text(
        "[profile sso-admin]\nsso_session = corp\nsso_account_id = 111111111111\n"
        "sso_role_name = AdministratorAccess\n"
        "[profile chained]\nrole_arn = arn:aws:iam::111111111111:role/DEVELOPER\n"
        "source_profile = sso-admin\n"
        "[profile corp]\naws_access_key_id = AKIAAAAAAAAAAAAAAAAA\n"
        "mfa_serial = arn:aws:iam::999999999999:mfa/alice\n"
        "[profile keyed]\nrole_arn = arn:aws:iam::111111111111:role/ReadOnly\n"
        "source_profile = corp\n"
    )
    before = (corp.home / "config.toml").read_bytes()
    out = ok(corp.aacli("config", "import-aws"))
    assert "skipped chained: source profile 'sso-admin' signs in with Identity Center" in out
    assert "skipped keyed: profile corp is an Identity Center hub, which has no hub key" in out
    assert (corp.home / "config.toml").read_bytes() == before


def test_not_signed_in_is_one_line_and_writes_nothing(corp, ic):
    """Issue 13 item 2: a role of a hub that is not signed in: one line saying how to sign in,
    no credentials written."""
    write_config(
        corp,
        corp_hub_toml(
            ic,
            '\n[profiles.corp.accounts.dev]\nid = "111111111111"\nregion = "eu-west-1"\n'
            "[profiles.corp.accounts.dev.roles.AdministratorAccess]\n"
            '[profiles.corp.accounts.dev.roles.DEVELOPER]\nvia = "AdministratorAccess"\n',
        ),
    )
    for target in ("corp/dev/AdministratorAccess", "corp/dev/DEVELOPER"):
        assert_one_line_error(corp.aacli("auth", target), "aacli login corp")
    assert_one_line_error(corp.aacli("config", "sync", "corp"), "aacli login corp")
    assert not corp.credentials.exists()


def test_refusals_are_one_line_in_identity_center_words(corp, ic):
    """Issue 13 item 2: a spoke role that does not trust the permission set, a permission set
    not assigned to the signed-in user, a sign-in the portal no longer accepts: each one line
    saying what to do (no hub user, no MFA in it), nothing written."""
    write_config(
        corp,
        corp_hub_toml(
            ic,
            '\n[profiles.corp.accounts.dev]\nid = "111111111111"\nregion = "eu-west-1"\n'
            "[profiles.corp.accounts.dev.roles.ReadOnlyAccess]\n"
            "[profiles.corp.accounts.dev.roles.AdministratorAccess]\n"
            '[profiles.corp.accounts.dev.roles.Missing]\nvia = "ReadOnlyAccess"\n',
        ),
    )
    sign_in(corp, ic)
    result = corp.aacli("auth", "corp/dev/Missing")
    assert_one_line_error(
        result,
        "Permission set ReadOnlyAccess may not assume arn:aws:iam::111111111111:role/Missing",
        "AWSReservedSSO_ReadOnlyAccess_",
    )
    assert "MFA" not in result.stderr and "hub user" not in result.stderr
    ic.add_user("carol")  # assigned nothing
    sign_in(corp, ic, user="carol")
    assert_one_line_error(
        corp.aacli("auth", "corp/dev/AdministratorAccess"),
        "Identity Center does not give you permission set AdministratorAccess in account dev",
    )
    ic.expire_tokens()
    assert_one_line_error(
        corp.aacli("auth", "corp/dev/ReadOnlyAccess"),
        "The sign-in to corp has expired or was revoked; sign in again: aacli login corp",
    )
    assert not corp.credentials.exists()


def test_link_aws_writes_an_sso_profile_the_aws_cli_uses(corp, ic, sandbox, tmp_path):
    """Issue 13 item 2: `config link-aws` of a permission set writes the AWS CLI's own sso
    profile (sso_session, sso_account_id, sso_role_name, region), byte-preserving; after the
    sign-in, `aws sts get-caller-identity --profile …` uses the shared token cache."""
    write_config(
        corp,
        corp_hub_toml(
            ic,
            '\n[profiles.corp.accounts.dev]\nid = "111111111111"\nregion = "eu-west-1"\n'
            "[profiles.corp.accounts.dev.roles.AdministratorAccess]\nsynced = true\n",
        ),
    )
    corp.aws_config.parent.mkdir(mode=0o700, exist_ok=True)
    mine = "# mine\r\n[profile other]\r\nregion = us-west-2\r\n"
    corp.aws_config.write_text(mine, newline="")
    sign_in(corp, ic)
    out = ok(corp.aacli("config", "link-aws", "corp/dev/AdministratorAccess"))
    assert "Added [profile dev-AdministratorAccess-sso]" in out
    text = corp.aws_config.read_bytes().decode()
    assert text.startswith(mine)
    assert "[sso-session corp]" in text
    section = text.split("[profile dev-AdministratorAccess-sso]", 1)[1]
    for line in (
        "sso_session = corp",
        "sso_account_id = 111111111111",
        "sso_role_name = AdministratorAccess",
        "region = eu-west-1",
    ):
        assert line in section
    extra = sandbox.identity_center.aws_cli_environment(tmp_path / "aws-data")
    arn = caller_arn(corp, "dev-AdministratorAccess-sso", extra)
    assert ":assumed-role/AWSReservedSSO_AdministratorAccess" in arn
    token = json.loads(
        (
            corp.root
            / "home"
            / ".aws"
            / "sso"
            / "cache"
            / (hashlib.sha1(b"corp").hexdigest() + ".json")
        ).read_text()
    )
    assert datetime.fromisoformat(token["expiresAt"].replace("Z", "+00:00")) > datetime.now(
        timezone.utc
    )


def test_console_url_for_a_permission_set_and_a_chained_role(corp, ic, sandbox):
    """Issue 13 item 2: `aacli web --print` signs in at the sandbox's federation endpoint for
    both; the chained role's token request has no SessionDuration (AWS refuses one)."""
    import urllib.request

    write_config(
        corp,
        corp_hub_toml(
            ic,
            '\n[profiles.corp.accounts.dev]\nid = "111111111111"\nregion = "eu-west-1"\n'
            "[profiles.corp.accounts.dev.roles.AdministratorAccess]\nsynced = true\n"
            '[profiles.corp.accounts.dev.roles.DEVELOPER]\nvia = "AdministratorAccess"\n',
        ),
    )
    sign_in(corp, ic)
    for target, who in (
        ("corp/dev/AdministratorAccess", "assumed-role/AWSReservedSSO_AdministratorAccess"),
        ("corp/dev/DEVELOPER", "assumed-role/DEVELOPER/"),
    ):
        url = ok(corp.aacli("web", target, "--print")).strip().splitlines()[-1]
        assert url.startswith(sandbox.federation_url + "?Action=login")
        with urllib.request.urlopen(url, timeout=30) as page:
            assert who in page.read().decode()


# The facade the tray calls


def corp_service(env):
    from trayapp.core.service import Deps, Service

    return Service(
        Deps(
            app=AppPaths(config_dir=env.home, state_dir=env.home / "state"),
            aws=AwsPaths(credentials_file=env.credentials, config_file=env.aws_config),
            endpoint_url=env.sandbox.endpoint_url,
            sso_endpoint_url=env.sandbox.endpoint_url,
            passphrase=lambda: "unused",
        )
    )


def test_the_service_signs_in_syncs_and_gets_a_permission_set_without_a_code(corp, ic):
    """Issue 13 item 3: Service.sign_in (device flow), sso_expiry, sync and authenticate of a
    permission set (no code source is asked), can_renew_silently, sign_out: the tray's verbs."""
    from trayapp.core.errors import SignInNeeded

    class NoCodes:
        name, can_retry = "none", False

        def get_code(self, request):
            raise AssertionError("a permission set asked for an MFA code")

    service = corp_service(corp)
    assert service.sso_expiry("corp") is None
    until = service.sign_in(
        "corp",
        open_browser=lambda url: False,
        show_device_code=lambda code: ic.approve(code.user_code),
        device_code=True,
    )
    expiry = service.sso_expiry("corp")
    assert expiry is not None and abs(expiry - until).total_seconds() < 1  # the cache's seconds
    assert expiry > datetime.now(timezone.utc)
    report = service.sync("corp")
    assert "dev/AdministratorAccess" in report.added and report.removed == ()
    target = service.resolve("corp/dev/AdministratorAccess")
    assert service.can_renew_silently(target)
    session = service.authenticate(target, NoCodes())
    assert session.aws_profiles == ("dev-AdministratorAccess",)
    assert service.sign_out("corp") is True
    assert service.sso_expiry("corp") is None and not service.can_renew_silently(target)
    with pytest.raises(SignInNeeded, match="aacli login corp"):
        service.authenticate(target, NoCodes())


def test_sync_makes_portal_names_safe_and_never_takes_another_roles_aws_profile():
    """Issue 13 item 2: account names from the portal become safe aacli names (control
    characters, spaces and a name taken by another account of the hub become '-' or get the id
    appended); unusable ids and permission-set names are skipped with an escaped note; a
    permission set whose default AWS profile another hub writes gets one named after its hub."""
    from pathlib import Path

    from trayapp.core.config import config_to_data, parse_config
    from trayapp.core.sso.portal import sync

    start = (
        'version = 1\n[profiles.acme]\naccess_key_id = "AKIAAAAAAAAAAAAAAAAA"\n'
        'mfa_serial = "arn:aws:iam::999999999999:mfa/alice"\n'
        '[profiles.acme.accounts.dev]\nid = "111111111111"\nregion = "eu-west-1"\n'
        "[profiles.acme.accounts.dev.roles.Admin]\n"
        '[profiles.corp]\nsso_start_url = "https://corp.awsapps.com/start"\n'
        'sso_region = "eu-west-1"\n'
        '[profiles.corp.accounts.dev]\nid = "222222222222"\nregion = "eu-west-1"\n'
    )
    config = parse_config(tomllib.loads(start), Path("config.toml"))
    listed = [
        ("444444444444", "\x1b]0;pwned\x07 Prod Team!", ["Admin"]),
        ("555555555555", "dev", ["ReadOnly"]),
        ("not-an-id\x1b[2J", "x", []),
        ("666666666666", "\u202e\u202e", ["bad name\x1b[31m"]),
        ("111111111111", "dev", ["Admin"]),
        ("222222222222", "Renamed In The Portal", ["Admin"]),
    ]
    new, report = sync(config, "corp", listed, prune=False)
    corp = next(p for p in new.profiles if p.name == "corp")
    names = {a.account_id: a.name for a in corp.accounts}
    assert names == {
        "222222222222": "dev",
        "444444444444": "0-pwned-Prod-Team",
        "555555555555": "dev-555555555555",
        "666666666666": "666666666666",
        "111111111111": "dev-111111111111",
    }
    assert "skipped account not-an-id\\x1b[2J: not a 12-digit id" in report.notes
    assert "skipped permission set bad name\\x1b[31m: not a role name" in report.notes
    profiles = {
        (a.name, r.name): r.aws_profile for a in corp.accounts for r in a.roles
    }  # the default (None) unless another role writes it already
    assert profiles[("0-pwned-Prod-Team", "Admin")] is None
    assert profiles[("dev-111111111111", "Admin")] is None
    assert profiles[("dev", "Admin")] == "corp-dev-Admin"  # acme/dev/Admin writes dev-Admin
    assert parse_config(config_to_data(new), Path("config.toml")) == new  # saves as it is
