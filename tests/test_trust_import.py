"""Issue 11 items 7 (import), 17 and 18: import-aws and link-aws over files aacli did not write."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PASSPHRASE, ROOT, assert_one_line_error, aws_cli_v2

from trayapp.core import validate
from trayapp.core.errors import UsageError

KEY_ID = "AKIAABCDEFGHIJKLMNOP"
SECRET = "abcdEFGHijklMNOPqrstUVWXyz0123456789abcd"
TITLE_ESCAPE = "\x1b]0;pwned\x07"  # sets the terminal's window title
COLOUR_ESCAPE = "\x1b[31m"


def _vault_keys(home: Path) -> list[str]:
    from trayapp.core.secrets.vault import Vault

    vault = home / "vault.bin"
    return Vault(vault, lambda: PASSPHRASE).keys() if vault.exists() else []


def _config_profiles(env) -> dict:
    shown = env.aacli("config", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)["profiles"]


def _write_aws_files(env, config_text: str, *, secret: str = SECRET) -> None:
    env.aws_config.parent.mkdir(parents=True, exist_ok=True)
    env.aws_config.write_text(config_text, encoding="utf-8")
    env.credentials.write_text(
        f"[hub]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {secret}\n"
    )
    env.home.mkdir(mode=0o700, exist_ok=True)
    (env.home / "config.toml").write_text('version = 1\n[settings]\nsecret_backend = "vault"\n')
    (env.home / "config.toml").chmod(0o600)


HUB = "[profile hub]\nregion = eu-central-1\nmfa_serial = arn:aws:iam::999999999999:mfa/alice\n\n"


def _role(section: str, arn: str) -> str:
    return f"[{section}]\nrole_arn = {arn}\nsource_profile = hub\n\n"


# Item 18: one odd profile no longer aborts the import; untrusted names are shown escaped.


def test_import_skips_odd_profiles_with_a_reason_each_and_imports_the_rest(env):
    """Issue 11 item 18: an account name starting with '-', a role ARN with non-ASCII letters
    and a section name with terminal escapes are each skipped with one line; the rest is in."""
    _write_aws_files(
        env,
        HUB
        + _role("profile dev-Admin", "arn:aws:iam::111111111111:role/Admin")
        + _role("profile -stage-ReadOnly", "arn:aws:iam::222222222222:role/ReadOnly")
        + _role("profile qa-Dév", "arn:aws:iam::444444444444:role/Développeur")
        + _role(f"profile {TITLE_ESCAPE}x{COLOUR_ESCAPE}", "arn:aws:iam::555555555555:role/X")
        + _role("profile prod-ReadOnly", "arn:aws:iam::333333333333:role/path/ReadOnly"),
    )
    result = env.aacli("config", "import-aws")
    assert result.returncode == 0, result.stderr
    out = result.stdout + result.stderr
    assert "\x1b" not in out and "\x07" not in out, repr(out)
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == 3, result.stderr
    assert skipped[0].startswith("skipped -stage-ReadOnly: account name '-stage'"), skipped[0]
    assert skipped[1].startswith("skipped qa-Dév: role_arn is not an IAM role ARN"), skipped[1]
    assert skipped[2].startswith("skipped \\x1b]0;pwned\\x07x\\x1b[31m: account name"), skipped[2]
    assert "added hub/dev/Admin (from [profile dev-Admin])" in result.stderr
    assert "added hub/prod/ReadOnly (from [profile prod-ReadOnly])" in result.stderr
    accounts = _config_profiles(env)["hub"]["accounts"]
    assert sorted(accounts) == ["dev", "prod"]
    assert _vault_keys(env.home) == ["hub/secret_access_key"]


def test_import_skips_a_role_whose_aws_profile_another_role_writes(env):
    """Issue 11 item 18: a clash with a role already configured skips that profile only (the
    old import printed "added …", then failed to save and imported nothing)."""
    _write_aws_files(
        env,
        HUB
        + _role("profile dev-Admin", "arn:aws:iam::111111111111:role/Admin")
        + _role("profile prod-Admin", "arn:aws:iam::333333333333:role/Admin"),
    )
    (env.home / "config.toml").write_text(
        'version = 1\n[settings]\nsecret_backend = "vault"\n'
        f'[profiles.other]\naccess_key_id = "{KEY_ID}"\n'
        'mfa_serial = "arn:aws:iam::888888888888:mfa/bob"\n'
        '[profiles.other.accounts.qa]\nid = "444444444444"\nregion = "eu-west-1"\n'
        '[profiles.other.accounts.qa.roles.ReadOnly]\naws_profile = "dev-Admin-aacli"\n'
    )
    result = env.aacli("config", "import-aws")
    assert result.returncode == 0, result.stderr
    assert (
        "skipped dev-Admin: another role of the config already writes AWS profile "
        "'dev-Admin-aacli'" in result.stderr
    )
    assert "added hub/prod/Admin (from [profile prod-Admin])" in result.stderr
    assert sorted(_config_profiles(env)["hub"]["accounts"]) == ["prod"]


def test_import_dry_run_and_repeat_show_untrusted_names_escaped(env):
    """Issue 11 item 18: every line naming a section of the AWS files shows it escaped."""
    section = f"profile ok{COLOUR_ESCAPE}-Admin"
    _write_aws_files(env, HUB + _role(section, "arn:aws:iam::111111111111:role/Admin"))
    dry = env.aacli("config", "import-aws", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "\x1b" not in dry.stderr
    assert "would add hub/ok--Admin" not in dry.stderr  # the name was cleaned for aacli…
    assert "(from [profile ok\\x1b[31m-Admin])" in dry.stderr  # …and shown as it is
    assert env.aacli("config", "import-aws").returncode == 0
    again = env.aacli("config", "import-aws")
    assert "\x1b" not in again.stderr and "ok\\x1b[31m-Admin: " in again.stderr, again.stderr


def test_ini_errors_naming_a_foreign_section_show_it_escaped(configured):
    """Issue 11 item 18: credfile/inifile errors that name a section read from ~/.aws show it
    escaped, never as control characters."""
    name = f"profile {TITLE_ESCAPE}"
    configured.aws_config.parent.mkdir(parents=True, exist_ok=True)
    configured.aws_config.write_text(f"[{name}]\nregion = x\n[{name}]\nregion = y\n")
    result = configured.aacli("config", "link-aws", "dev/DEVELOPER", "--aws-profile", "linked")
    assert_one_line_error(result, "appears a second time")
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr, repr(result.stderr)
    assert "[profile \\x1b]0;pwned\\x07]" in result.stderr


def test_shown_escapes_what_a_terminal_would_obey_and_keeps_letters():
    """Issue 11 item 18: the one helper for names from files aacli did not write."""
    from trayapp.core.untrusted import shown

    assert shown(TITLE_ESCAPE) == "\\x1b]0;pwned\\x07"
    assert shown("a\nforged line") == "a\\nforged line"
    assert shown("evil\u202etxt.exe") == "evil\\u202etxt.exe"  # right-to-left override
    assert shown("café-Straße dev") == "café-Straße dev"
    assert shown("\x9b31m") == "\\x9b31m"  # the 8-bit CSI
    assert len(shown("x" * 10_000)) == 200


@pytest.mark.parametrize(
    ("check", "value"),
    [
        ("name", "dev\n"),
        ("role_name", "Admin\n"),
        ("region", "eu-west-1\n"),
        ("aws_profile", "dev-Admin\n"),
        ("secret_access_key", "short"),
        ("secret_access_key", "abcdEFGHijkl\x1bMNOPqrstUVWX"),
    ],
)
def test_validators_accept_ascii_only_and_the_whole_value(check, value):
    """Issue 11 item 18: validate's patterns match the whole value (a `$` alone lets a trailing
    newline through), and the secret key rule that import checks before storing lives there."""
    checker = getattr(validate, check)
    with pytest.raises(UsageError) as refused:
        checker(value, "account name") if check == "name" else checker(value)
    assert "abcdEFGH" not in str(refused.value)  # a secret is never echoed


# Item 7 (import part): a failed import changes nothing, neither the config nor the store.


def test_import_whose_only_role_is_odd_stores_no_secret(env):
    """Issue 11 item 7: nothing importable means no hub secret is stored (the old import stored
    the secret, then failed to save the config)."""
    _write_aws_files(env, HUB + _role("profile -dev-Admin", "arn:aws:iam::111111111111:role/Admin"))
    before = (env.home / "config.toml").read_bytes()
    result = env.aacli("config", "import-aws")
    assert result.returncode == 0, result.stderr
    assert "skipped -dev-Admin: account name '-dev'" in result.stderr
    assert "Nothing to import" in result.stderr
    assert (env.home / "config.toml").read_bytes() == before
    assert _vault_keys(env.home) == []


def test_import_with_a_malformed_secret_skips_that_hub_and_stores_nothing(env):
    """Issue 11 item 7: a source profile whose secret is malformed is skipped before anything is
    stored, and the message never shows the secret."""
    _write_aws_files(
        env, HUB + _role("profile dev-Admin", "arn:aws:iam::111111111111:role/Admin"), secret="x y"
    )
    result = env.aacli("config", "import-aws")
    assert result.returncode == 0, result.stderr
    assert "skipped dev-Admin: source profile 'hub': the secret access key must be" in (
        result.stderr
    )
    assert "x y" not in result.stderr
    assert _vault_keys(env.home) == []
    assert _config_profiles(env) == {}


def test_import_that_cannot_save_the_config_puts_the_secret_store_back(env):
    """Issue 11 item 7: the config save fails (its lock cannot be taken): no secret is left."""
    _write_aws_files(env, HUB + _role("profile dev-Admin", "arn:aws:iam::111111111111:role/Admin"))
    (env.home / "config.toml.lock").mkdir()  # the lock file cannot be created
    before = (env.home / "config.toml").read_bytes()
    result = env.aacli("config", "import-aws")
    assert result.returncode != 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "added " not in result.stderr  # nothing is announced that did not happen
    assert (env.home / "config.toml").read_bytes() == before
    assert _vault_keys(env.home) == []


# Item 17: credential_process always names an absolute program, quoted.


def _linked_command(env) -> str:
    for line in env.aws_config.read_text().splitlines():
        if line.startswith("credential_process = "):
            return line.removeprefix("credential_process = ")
    raise AssertionError(env.aws_config.read_text())


@pytest.mark.awscli
@pytest.mark.parametrize("entry", ["my tools/bin", "."])
def test_link_aws_writes_an_absolute_quoted_program_that_the_aws_cli_runs(configured, entry):
    """Issue 11 item 17: PATH with a relative entry ('.' or 'my tools/bin', a folder with a
    space): credential_process names the absolute program, quoted, and the AWS CLI v2 runs it
    from another working directory."""
    aws = aws_cli_v2()
    workdir = configured.root / "project dir"
    program_dir = workdir / entry
    program_dir.mkdir(parents=True, exist_ok=True)
    program = program_dir / "aacli"
    program.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m trayapp.cli.main "$@"\n')
    program.chmod(0o755)
    env = configured.environ(PATH=f"{entry}{os.pathsep}{os.environ['PATH']}", PYTHONPATH=str(ROOT))
    linked = subprocess.run(
        [str(program), "config", "link-aws", "dev/DEVELOPER", "--aws-profile", "linked"],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert linked.returncode == 0, linked.stderr
    command = _linked_command(configured)
    argv = shlex.split(command)  # what botocore's compat_shell_split does on POSIX
    assert argv[0] == str(program.resolve()) and os.path.isabs(argv[0]), command
    assert argv[1:] == ["credential-process", "acme/dev/DEVELOPER"]
    assert configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code()).returncode == 0
    outside = subprocess.run(
        [
            aws,
            "sts",
            "get-caller-identity",
            "--profile",
            "linked",
            "--output",
            "json",
            "--endpoint-url",
            configured.sandbox.endpoint_url,
        ],
        env=configured.environ(),  # PATH without the relative entry, another directory
        cwd="/",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert outside.returncode == 0, outside.stderr
    assert ":assumed-role/DEVELOPER/" in json.loads(outside.stdout)["Arn"]


def test_sandbox_takes_only_ascii_digits_as_a_code(sandbox):
    """Issue 11 item 18: the sandbox's checker matched codes with `\\d` without re.ASCII, so
    with the MFA check off it took Arabic-Indic digits that AWS refuses."""
    import boto3
    from botocore.exceptions import ClientError

    hub = sandbox.add_hub_user("ascii-digits")
    sts = boto3.Session(
        aws_access_key_id=hub.access_key_id,
        aws_secret_access_key=hub.secret_access_key,
        region_name="us-east-1",
    ).client("sts", endpoint_url=sandbox.endpoint_url)
    role = "arn:aws:iam::111111111111:role/ReadOnly"
    sandbox.mfa_check = False
    try:
        with pytest.raises(ClientError, match="AccessDenied"):
            sts.assume_role(
                RoleArn=role,
                RoleSessionName="tester",
                SerialNumber=hub.mfa_serial,
                TokenCode="\u0661\u0662\u0663\u0664\u0665\u0666",
            )
        sts.assume_role(
            RoleArn=role, RoleSessionName="tester", SerialNumber=hub.mfa_serial, TokenCode="123456"
        )
    finally:
        sandbox.mfa_check = True
