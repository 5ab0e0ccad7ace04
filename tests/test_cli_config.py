"""aacli config / crypto / reset, and the interactive pick lists on a real terminal."""

from __future__ import annotations

import json
import stat
import sys

import pexpect
import pytest
from conftest import ROOT, assert_one_line_error

KEY_ID = "AKIAABCDEFGHIJKLMNOP"
SECRET = "abcdEFGHijklMNOPqrstUVWXyz0123456789abcd"


def test_set_up_by_subcommands(env):
    result = env.aacli(
        "config",
        "add-profile",
        "acme",
        "--access-key-id",
        KEY_ID,
        "--mfa-serial",
        "arn:aws:iam::999999999999:mfa/alice",
        input=SECRET + "\n",
    )
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr
    config_text = (env.home / "config.toml").read_text()
    assert SECRET not in config_text and KEY_ID in config_text
    # No OS keyring in this environment: "auto" chose the vault and the config pins it.
    assert 'secret_backend = "vault"' in config_text
    assert stat.S_IMODE((env.home / "config.toml").stat().st_mode) == 0o600
    assert SECRET.encode() not in (env.home / "vault.bin").read_bytes()

    assert (
        env.aacli(
            "config",
            "add-account",
            "acme",
            "dev",
            "--id",
            "1111-1111-1111",
            "--region",
            "eu-west-1",
        ).returncode
        == 0
    )
    assert env.aacli("config", "add-role", "dev", "DEVELOPER", "--duration", "2h").returncode == 0
    result = env.aacli("config", "add-role", "acme/dev", "ReadOnly", "--aws-profile", "dev-ro")
    assert result.returncode == 0 and "dev-ro" in result.stderr
    shown = json.loads(env.aacli("config", "show", "--json").stdout)
    roles = shown["profiles"]["acme"]["accounts"]["dev"]["roles"]
    assert roles == {
        "DEVELOPER": {"duration": 7200},
        "ReadOnly": {"duration": 3600, "aws_profile": "dev-ro"},
    }
    assert shown["profiles"]["acme"]["accounts"]["dev"]["id"] == "111111111111"
    text = env.aacli("config", "show").stdout
    assert "DEVELOPER  120 min  → AWS profile dev-DEVELOPER" in text

    assert_one_line_error(
        env.aacli(
            "config",
            "add-profile",
            "acme",
            "--access-key-id",
            KEY_ID,
            "--mfa-serial",
            "GAHT12345678",
            input=SECRET + "\n",
        ),
        "already exists",
    )
    assert env.aacli("config", "remove", "acme/dev/ReadOnly").returncode == 0
    assert "ReadOnly" not in env.aacli("config", "show").stdout
    assert env.aacli("config", "path").stdout.strip() == str(env.home / "config.toml")


def test_bare_config_without_a_terminal_says_what_to_do(env):
    assert_one_line_error(env.aacli("config"), "aacli config ACTION")


def test_import_from_aws_config(env):
    aws = env.credentials.parent
    aws.mkdir(mode=0o700)
    env.aws_config.write_text(
        "[profile hub]\nregion = eu-central-1\nmfa_serial = arn:aws:iam::999999999999:mfa/alice\n\n"
        "[profile dev-Admin]\nrole_arn = arn:aws:iam::111111111111:role/Admin\nsource_profile = hub\n"
        "region = eu-west-1\nduration_seconds = 7200\n\n"
        "[profile prod]\nrole_arn = arn:aws:iam::333333333333:role/path/ReadOnly\nsource_profile = hub\n\n"
        "[profile sso-thing]\nsso_start_url = https://x\n\n"
        "[profile nomfa]\nrole_arn = arn:aws:iam::444444444444:role/X\ncredential_source = Ec2InstanceMetadata\n"
    )
    env.credentials.write_text(
        f"[hub]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"
    )
    before = (env.aws_config.read_bytes(), env.credentials.read_bytes())
    dry = env.aacli("config", "import-aws", "--dry-run")
    assert dry.returncode == 0 and "would add hub/dev/Admin" in dry.stderr, dry.stderr
    assert not (env.home / "config.toml").exists()
    result = env.aacli("config", "import-aws")
    assert result.returncode == 0, result.stderr
    assert "skipped nomfa" in result.stderr
    shown = json.loads(env.aacli("config", "show", "--json").stdout)["profiles"]["hub"]
    assert shown["access_key_id"] == KEY_ID
    assert shown["sts_region"] == "eu-central-1"
    assert shown["accounts"]["dev"]["roles"]["Admin"]["duration"] == 7200
    # [profile dev-Admin] exists in ~/.aws/config, so the written profile gets another name.
    assert shown["accounts"]["dev"]["roles"]["Admin"]["aws_profile"] == "dev-Admin-aacli"
    assert shown["accounts"]["prod"]["roles"]["ReadOnly"]["duration"] == 3600
    assert (env.aws_config.read_bytes(), env.credentials.read_bytes()) == before  # read only
    again = env.aacli("config", "import-aws")
    assert "already configured" in again.stderr and "Nothing to import" in again.stderr


@pytest.mark.keyring
def test_crypto_switches_backends_and_changes_the_passphrase(configured, tmp_path):
    from secret_service import running_secret_service

    with running_secret_service(tmp_path / "ss") as service:
        extra = {
            k: v
            for k, v in service.env.items()
            if k in ("DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR")
        }
        shown = configured.aacli("crypto", **extra)
        assert shown.returncode == 0 and "keyring" in shown.stdout and "vault" in shown.stdout
        moved = configured.aacli("crypto", "--use", "keyring", **extra)
        assert moved.returncode == 0, moved.stderr
        assert "(1 moved)" in moved.stderr
        assert 'secret_backend = "keyring"' in (configured.home / "config.toml").read_text()
        # The vault no longer holds the key; the keyring does, and auth works from it.
        assert (
            configured.aacli(
                "auth", "dev/ReadOnly", "--code", configured.code(), **extra
            ).returncode
            == 0
        )
        back = configured.aacli("crypto", "--use", "vault", **extra)
        assert back.returncode == 0 and "(1 moved)" in back.stderr
    changed = configured.aacli(
        "crypto", "--change-passphrase", AACLI_NEW_PASSPHRASE="another passphrase"
    )
    assert changed.returncode == 0, changed.stderr
    assert_one_line_error(
        configured.aacli("auth", "prod/ReadOnly", "--code", configured.next_code()),
        "Wrong vault passphrase",
    )
    ok = configured.aacli(
        "auth",
        "prod/ReadOnly",
        "--code",
        configured.next_code(),
        AACLI_PASSPHRASE="another passphrase",
    )
    assert ok.returncode == 0, ok.stderr


def test_reset_removes_only_aacli_files(configured):
    configured.credentials.parent.mkdir(mode=0o700)
    configured.credentials.write_text("[mine]\naws_access_key_id = AKIAMINE00000000000\n")
    assert configured.aacli("auth", "dev/ReadOnly", "--code", configured.code()).returncode == 0
    assert_one_line_error(configured.aacli("reset"), "--yes")
    result = configured.aacli("reset", "--yes")
    assert result.returncode == 0, result.stderr
    assert configured.credentials.read_text() == "[mine]\naws_access_key_id = AKIAMINE00000000000\n"
    leftovers = sorted(p.name for p in configured.home.rglob("*") if p.is_file())
    assert leftovers == [], leftovers


def _spawn(env, *args):
    child = pexpect.spawn(
        sys.executable,
        ["-m", "trayapp.cli.main", *args],
        env=env.environ(),
        cwd=str(ROOT),
        encoding="utf-8",
        timeout=30,
    )
    return child


def test_bare_auth_on_a_terminal_offers_a_numbered_list_and_a_hidden_prompt(configured):
    child = _spawn(configured, "auth")
    child.expect("Which role\\?")
    child.expect(r"(\d)\) acme/dev/ReadOnly")
    number = child.match.group(1)
    child.expect("Choose 1-3: ")
    child.sendline("9")
    child.expect("Type a number from 1 to 3")
    child.sendline(number)
    child.expect("MFA code for acme/dev/ReadOnly")
    child.sendline("12345")  # malformed: asked again, nothing sent to AWS
    child.expect("6 digits")
    child.sendline("000000")  # wrong: AWS says so and the prompt comes back
    child.expect("rejected the MFA code")
    child.sendline(configured.code())
    child.expect("credentials written to AWS profile 'dev-ReadOnly'")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_bare_config_menu_on_a_terminal(configured):
    child = _spawn(configured, "config")
    child.expect("What would you like to do\\?")
    child.expect(r"(\d)\) Show the configuration")
    child.sendline(child.match.group(1))
    child.expect("acme  key")
    child.expect("What would you like to do\\?")  # the menu stays until the user leaves
    child.expect(r"(\d)\) Done")
    child.sendline(child.match.group(1))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_config_menu_checks_each_answer_and_confirms_removals(configured):
    """Issue 12 (aacli config on a terminal): each answer is checked as it is typed (asked
    again, the others kept), the menu stays after each action, a removal asks first."""
    config = configured.home / "config.toml"
    child = _spawn(configured, "config")
    child.expect(r"(\d)\) Add an account")
    child.sendline(child.match.group(1))
    child.expect("Account name")
    child.sendline("qa")
    child.expect("Account id")
    child.sendline("12345")  # too short: said at once, asked again
    child.expect("12 digits")
    child.expect("Account id")
    child.sendline("444444444444")
    child.expect("Region")
    child.sendline("moon-1")
    child.expect("try again")
    child.expect("Region")
    child.sendline("eu-west-1")
    child.expect("Added account 'qa'")
    child.expect(r"(\d)\) Remove a profile, account or role")
    child.sendline(child.match.group(1))
    child.expect("PROFILE, PROFILE/ACCOUNT")
    child.sendline("acme/nope")
    child.expect("try again")
    child.sendline("acme/qa")
    child.expect(r"Remove account acme/qa and its 0 role\(s\)\? \[y/N\]")
    child.sendline("n")
    child.expect("Nothing was removed")
    assert "[profiles.acme.accounts.qa]" in config.read_text()
    child.expect(r"(\d)\) Remove a profile, account or role")
    child.sendline(child.match.group(1))
    child.expect("PROFILE, PROFILE/ACCOUNT")
    child.sendline("acme/qa")
    child.expect(r"\[y/N\]")
    child.sendline("y")
    child.expect("Removed acme/qa")
    child.expect(r"(\d)\) Done")
    child.sendline(child.match.group(1))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "accounts.qa" not in config.read_text()


def test_ctrl_c_at_the_code_prompt_ends_cleanly(configured):
    child = _spawn(configured, "auth", "dev/DEVELOPER")
    child.expect("MFA code for")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert "Traceback" not in (child.before or "")
    assert not configured.credentials.exists()
