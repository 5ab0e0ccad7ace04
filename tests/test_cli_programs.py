"""Console sign-in and the ways other programs get credentials: web, exec, env, credential-process."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import assert_one_line_error, aws_cli_v2
from signin_page import signin_url_in_page


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_web_print_gives_a_url_the_sandbox_login_accepts(configured):
    result = configured.aacli("web", "dev/DEVELOPER", "--print", "--code", configured.code())
    assert result.returncode == 0, result.stderr
    url = result.stdout.strip()
    assert url.startswith(configured.sandbox.federation_url + "?Action=login")
    assert "Issuer=https%3A%2F%2Faacli.invalid%2F" in url
    assert (
        "Destination=https%3A%2F%2Feu-west-1.console.aws.amazon.com%2Fconsole%2Fhome%3Fregion%3Deu-west-1"
        in url
    )
    status, page = fetch(url)
    assert status == 200, page
    assert "DEVELOPER" in page and "111111111111" in page
    # The second call reuses the live session: no code needed.
    again = configured.aacli("web", "dev/DEVELOPER", "--print")
    assert again.returncode == 0, again.stderr
    assert fetch(again.stdout.strip())[0] == 200


def test_web_opens_exactly_that_url_with_browser(configured, tmp_path):
    record = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > {record}\ncat "$1" > {record}.page\n')
    browser.chmod(0o755)
    result = configured.aacli(
        "web", "dev/DEVELOPER", "--code", configured.code(), BROWSER=str(browser)
    )
    assert result.returncode == 0, result.stderr
    assert record.read_text().endswith(".html")  # a private page's path, not the URL
    url = signin_url_in_page(Path(f"{record}.page").read_text())
    assert url.startswith(configured.sandbox.federation_url + "?Action=login")
    assert fetch(url)[0] == 200
    assert url not in result.stdout + result.stderr  # the token-bearing URL is not echoed


def test_web_renews_an_expired_session(configured, short_lived):
    assert configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code()).returncode == 0
    first_key = json.loads(configured.aacli("status", "--json").stdout)["sessions"][0]
    # Under 2 minutes left: web must authenticate again, so without a code it says so.
    result = configured.aacli("web", "dev/DEVELOPER", "--print", DISPLAY="")
    assert_one_line_error(result, "--code")
    result = configured.aacli("web", "dev/DEVELOPER", "--print", "--code", configured.next_code())
    assert result.returncode == 0, result.stderr
    assert fetch(result.stdout.strip())[0] == 200
    second = json.loads(configured.aacli("status", "--json").stdout)["sessions"][0]
    assert second["expires"] >= first_key["expires"]


def test_federation_refusal_is_one_clear_sentence(configured):
    assert configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code()).returncode == 0
    # Someone garbled the session's secret in the credentials file: AWS answers 400.
    text = configured.credentials.read_text()
    secret = next(
        line.split("=", 1)[1].strip()
        for line in text.splitlines()
        if line.startswith("aws_secret_access_key")
    )
    configured.credentials.write_text(text.replace(secret, "x" * 40))
    result = configured.aacli("web", "dev/DEVELOPER", "--print")
    assert_one_line_error(result, "refused the session", "HTTP 400")
    assert "x" * 40 not in result.stderr


def test_web_federation_errors_are_clear_and_never_show_the_url(configured):
    result = configured.aacli(
        "web",
        "dev/DEVELOPER",
        "--print",
        "--code",
        configured.code(),
        AACLI_FEDERATION_URL=configured.sandbox.endpoint_url + "/no-such-federation",
    )
    assert_one_line_error(result, "federation endpoint")
    assert "Session" not in result.stderr and "sessionKey" not in result.stderr
    result = configured.aacli(
        "web", "dev/DEVELOPER", "--print", AACLI_FEDERATION_URL="http://127.0.0.1:9/federation"
    )
    assert_one_line_error(result, "Could not reach")


def test_web_without_a_browser_suggests_print(configured):
    result = configured.aacli(
        "web", "dev/DEVELOPER", "--code", configured.code(), BROWSER="/nonexistent/browser"
    )
    assert_one_line_error(result, "--print")


@pytest.mark.parametrize("code", [0, 7, 130])
def test_exec_passes_the_exit_code_through(configured, code):
    assert configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code()).returncode == 0
    result = configured.aacli("exec", "dev/DEVELOPER", "--", "sh", "-c", f"exit {code}")
    assert result.returncode == code, result.stderr


def test_exec_sets_the_variables_and_passes_arguments_verbatim(configured):
    result = configured.aacli(
        "exec",
        "dev/DEVELOPER",
        "--code",
        configured.code(),
        "--",
        sys.executable,
        "-c",
        "import json, os, sys; print(json.dumps({'argv': sys.argv[1:], 'env': {k: v for k, v in os.environ.items() if k.startswith('AWS_')}}))",
        "two words",
        "a;b",
        "$HOME",
        AWS_PROFILE="should-be-unset",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["argv"] == ["two words", "a;b", "$HOME"]
    env = data["env"]
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["AWS_CREDENTIAL_EXPIRATION"].endswith("Z")
    assert env["AWS_SESSION_TOKEN"] and env["AWS_SECRET_ACCESS_KEY"]
    assert "AWS_PROFILE" not in env


def test_exec_unknown_command_is_a_clear_error(configured):
    configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code())
    result = configured.aacli("exec", "dev/DEVELOPER", "--", "no-such-program-xyz")
    assert_one_line_error(result, "command not found")
    assert_one_line_error(configured.aacli("exec", "dev/DEVELOPER"), "say what to run")


@pytest.mark.awscli
def test_env_evals_in_sh_to_a_working_identity(configured):
    aws = aws_cli_v2()
    result = configured.aacli("env", "dev/DEVELOPER", "--code", configured.code())
    assert result.returncode == 0, result.stderr
    script = (
        result.stdout
        + f"\n{aws} sts get-caller-identity --output json --endpoint-url {configured.sandbox.endpoint_url}\n"
    )
    env = configured.environ()
    env.pop("AWS_SHARED_CREDENTIALS_FILE")  # only the variables may give the identity
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert ":assumed-role/DEVELOPER/" in json.loads(out.stdout)["Arn"]


@pytest.mark.parametrize("fmt", ["fish", "powershell", "json"])
def test_env_other_formats(configured, fmt):
    if fmt == "fish":
        configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code())
    result = configured.aacli(
        "env", "dev/DEVELOPER", "--format", fmt, "--code", configured.next_code()
    )
    assert result.returncode == 0, result.stderr
    if fmt == "json":
        assert set(json.loads(result.stdout)) >= {"AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN"}
    elif fmt == "fish":
        assert (
            "set -gx AWS_SESSION_TOKEN '" in result.stdout
            and "set -e AWS_PROFILE;" in result.stdout
        )
    else:
        assert "$Env:AWS_SESSION_TOKEN = '" in result.stdout


@pytest.mark.awscli
def test_aws_cli_gets_credentials_through_credential_process(configured, tmp_path):
    aws = aws_cli_v2()
    # Link as a user would; the command must be runnable by the AWS CLI without our venv on PATH.
    result = configured.aacli("config", "link-aws", "dev/DEVELOPER", "--aws-profile", "linked")
    assert result.returncode == 0, result.stderr
    config_text = configured.aws_config.read_text()
    assert "[profile linked]" in config_text and "credential_process = " in config_text
    # First call: no session yet and no terminal -> it cannot ask; give a session first.
    assert configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code()).returncode == 0
    env = configured.environ()
    out = subprocess.run(
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
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert ":assumed-role/DEVELOPER/" in json.loads(out.stdout)["Arn"]
    raw = configured.aacli("credential-process", "dev/DEVELOPER")
    data = json.loads(raw.stdout)
    assert data["Version"] == 1 and data["Expiration"].endswith("Z")
    assert data["AccessKeyId"].startswith("ASIA")


def test_credential_process_with_code_and_link_refuses_foreign_section(configured):
    result = configured.aacli("credential-process", "dev/ReadOnly", "--code", configured.code())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Version"] == 1
    configured.aws_config.write_text("[profile mine]\nregion = eu-north-1\n")
    result = configured.aacli("config", "link-aws", "dev/DEVELOPER", "--aws-profile", "mine")
    assert_one_line_error(result, "did not link")
    assert configured.aws_config.read_text() == "[profile mine]\nregion = eu-north-1\n"
