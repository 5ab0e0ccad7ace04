"""Issue 13: Identity Center sign-in (device code, authorization code + PKCE), the AWS CLI's
shared token cache both ways, refresh, sign-out and refusals, against the sandbox stand-in."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import ROOT, assert_one_line_error, aws_cli_v2
from identity_center_fixtures import DEV_ADMINISTRATOR

from trayapp.core.model import Profile
from trayapp.core.paths import AppPaths, AwsPaths

SESSION = "corp"
CACHE_NAME = hashlib.sha1(SESSION.encode()).hexdigest() + ".json"
CLI_FIELDS = {
    "startUrl",
    "region",
    "accessToken",
    "expiresAt",
    "clientId",
    "clientSecret",
    "registrationExpiresAt",
    "refreshToken",
}
CODE_LINE = re.compile(r"enter the code: ([A-Z]{4}-[A-Z]{4})")


@pytest.fixture
def corp_accounts() -> str:
    """corp has an account with one permission set (dev, AdministratorAccess)."""
    return DEV_ADMINISTRATOR


def cache_dir(env) -> Path:
    return Path(env.vars["HOME"]) / ".aws" / "sso" / "cache"


def cache_file(env) -> Path:
    return cache_dir(env) / CACHE_NAME


def sso_context(env):
    """The core's view of ``env`` (HOME is the test's for the cache folder)."""
    from trayapp.core.sso.signin import SsoContext

    return SsoContext(
        aws=AwsPaths(env.credentials, env.aws_config),
        app=AppPaths(env.home, env.home / "state"),
        endpoint_url=env.sandbox.endpoint_url,
    )


def corp_hub(ic) -> Profile:
    from trayapp.core.model import IdentityCenter

    return Profile(
        name=SESSION,
        access_key_id="",
        mfa_serial="",
        identity_center=IdentityCenter(ic.start_url, ic.region),
    )


@pytest.fixture
def home_env(corp):
    """``corp``, for tests whose in-process core calls read its token cache (corp makes the
    test process's HOME the test's)."""
    return corp


def portal_accepts(sandbox, token: str) -> bool:
    """Whether the sandbox's portal takes ``token`` (ListAccounts with it)."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    client = boto3.client(
        "sso",
        region_name="eu-west-1",
        endpoint_url=sandbox.endpoint_url,
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )
    try:
        client.list_accounts(accessToken=token)
    except client.exceptions.UnauthorizedException:
        return False
    return True


def start_login(env, *args: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "trayapp.cli.main", "login", SESSION, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env.environ(**extra),
        cwd=env.root,
    )


def read_until(stream, pattern: re.Pattern[str], seen: list[str], timeout: float = 30) -> str:
    """Lines of ``stream`` until one matches; the first group (or the line)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        seen.append(line)
        found = pattern.search(line)
        if found:
            return found.group(1) if found.groups() else line
    raise AssertionError("aacli never said it: " + "".join(seen))


def recording_browser(tmp_path: Path) -> tuple[Path, Path]:
    """A $BROWSER that records the page it was given and opens nothing."""
    record = tmp_path / "opened"
    script = tmp_path / "record-browser"
    script.write_text(f'#!/bin/sh\nprintf "%s" "$1" > {record}.argv\ncat "$1" > {record}\n')
    script.chmod(0o755)
    return script, record


def following_browser(tmp_path: Path) -> tuple[Path, Path]:
    """A $BROWSER that follows the page's URL with an HTTP client through every redirect, to
    aacli's loopback listener, as a browser would; it records where it went and what it saw."""
    record = tmp_path / "followed.json"
    script = tmp_path / "follow-browser"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys, urllib.error, urllib.request\n"
        f"sys.path.insert(0, {str(ROOT / 'tests')!r})\n"
        "from signin_page import signin_url_in_page\n"
        "url = signin_url_in_page(open(sys.argv[1]).read())\n"
        "seen = {'url': url, 'argv': sys.argv[1:]}\n"
        "try:\n"
        "    with urllib.request.urlopen(url, timeout=30) as answer:\n"
        "        seen.update(status=answer.status, final=answer.url, body=answer.read().decode())\n"
        "except urllib.error.HTTPError as exc:\n"
        "    seen.update(status=exc.code, final=exc.url, body=exc.read().decode())\n"
        f"open({str(record)!r}, 'w').write(json.dumps(seen))\n"
    )
    script.chmod(0o755)
    return script, record


def device_login(env, ic, tmp_path: Path, *, approve: bool = True) -> subprocess.CompletedProcess:
    browser, _ = recording_browser(tmp_path)
    child = start_login(env, "--device-code", BROWSER=str(browser))
    seen: list[str] = []
    try:
        user_code = read_until(child.stderr, CODE_LINE, seen)
        assert ic.approve(user_code, allow=approve)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return subprocess.CompletedProcess(child.args, child.returncode, out, "".join(seen) + err)


def aws_cli_env(env, sandbox, tmp_path: Path) -> dict[str, str]:
    """The AWS CLI v2 here (2.9) has no AWS_ENDPOINT_URL: endpoint rule sets on its data path
    send its sso and sso-oidc calls to the sandbox instead of AWS."""
    data = tmp_path / "aws-data"
    rules = {
        "version": "1.0",
        "parameters": {
            "Region": {"builtIn": "AWS::Region", "required": False, "type": "String"},
        },
        "rules": [
            {
                "conditions": [],
                "endpoint": {"url": sandbox.endpoint_url, "properties": {}, "headers": {}},
                "type": "endpoint",
            }
        ],
    }
    for service in ("sso", "sso-oidc"):
        folder = data / service / "2019-06-10"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "endpoint-rule-set-1.json").write_text(json.dumps(rules))
    return env.environ(AWS_DATA_PATH=str(data), PYTHONUNBUFFERED="1")


def link_permission_set(env, ic) -> None:
    """An AWS CLI sso profile of corp's dev AdministratorAccess (what `config link-aws` does)."""
    with env.aws_config.open("a") as config:
        config.write(
            "\n[profile corp-admin]\nsso_session = corp\nsso_account_id = 111111111111\n"
            "sso_role_name = AdministratorAccess\nregion = eu-west-1\n"
        )


def aws_identity(env, sandbox, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            aws_cli_v2(),
            "sts",
            "get-caller-identity",
            "--profile",
            "corp-admin",
            "--output",
            "json",
            "--endpoint-url",
            sandbox.endpoint_url,
        ],
        capture_output=True,
        text=True,
        env=aws_cli_env(env, sandbox, tmp_path),
        timeout=90,
    )


# Device flow


def test_device_code_sign_in_writes_the_aws_cli_cache_and_sso_session(corp, ic, tmp_path):
    """Issue 13 item 2: `aacli login corp --device-code` shows a code; once the person approves
    it, the token is in ~/.aws/sso/cache/<sha1 corp>.json (0600, folder 0700, the AWS CLI's
    fields) and [sso-session corp] is in ~/.aws/config; no token in any output."""
    before = len(ic.requests)
    result = device_login(corp, ic, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Signed in to corp until" in result.stderr
    path = cache_file(corp)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    data = json.loads(path.read_text())
    assert set(data) >= CLI_FIELDS
    assert data["startUrl"] == ic.start_url and data["region"] == ic.region
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["expiresAt"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["registrationExpiresAt"])
    for secret in (data["accessToken"], data["refreshToken"], data["clientSecret"]):
        assert secret not in result.stdout + result.stderr
        assert secret not in corp.aws_config.read_text()
    assert portal_accepts(corp.sandbox, data["accessToken"])
    assert corp.aws_config.read_text() == (
        f"[sso-session corp]\nsso_start_url = {ic.start_url}\nsso_region = eu-west-1\n"
        "sso_registration_scopes = sso:account:access\n"
    )
    calls = [(r.operation, r.grant_type, r.outcome) for r in ic.requests[before:]]
    assert ("StartDeviceAuthorization", None, "ok") in calls
    tokens = [c for c in calls if c[0] == "CreateToken" and c[2] == "ok"]
    assert tokens == [("CreateToken", "urn:ietf:params:oauth:grant-type:device_code", "ok")]


def test_denied_device_sign_in_is_one_line_and_writes_nothing(corp, ic, tmp_path):
    """Issue 13 item 2: a refused device sign-in (access_denied) is one line; no cache file,
    no ~/.aws/config."""
    result = device_login(corp, ic, tmp_path, approve=False)
    assert_one_line_error(result_without_progress(result), "refused")
    assert not cache_file(corp).exists()
    assert not corp.aws_config.exists()


def result_without_progress(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    """Only the error line (the code and URL lines before it are progress)."""
    lines = [line for line in result.stderr.splitlines() if line.startswith("aacli: ")]
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout, "\n".join(lines)
    )


# Authorization code + PKCE


def test_browser_sign_in_with_pkce_on_a_loopback_redirect(corp, ic, tmp_path):
    """Issue 13 item 2: `aacli login corp` opens the browser (an HTTP client following the
    redirects, as a browser does) at <oidc>/authorize with an S256 challenge and a state; the
    portal sends it to aacli's 127.0.0.1 listener, which answers "you can close this tab";
    aacli exchanges the code with its verifier. Other bytes of ~/.aws/config stay."""
    corp.aws_config.parent.mkdir(mode=0o700)
    theirs = "# mine\r\n[profile keep]\r\nregion = us-east-2\r\n"
    corp.aws_config.write_bytes(theirs.encode())
    browser, record = following_browser(tmp_path)
    before = len(ic.requests)
    result = corp.aacli("login", "corp", BROWSER=str(browser), timeout=90)
    assert result.returncode == 0, result.stderr
    assert "Opening the browser to sign in to corp\u2026" in result.stderr
    seen = json.loads(record.read_text())
    assert seen["argv"][0].endswith(".html")  # a private page, never the URL on argv
    assert seen["url"].startswith(f"{corp.sandbox.endpoint_url}/authorize?response_type=code&")
    for part in (
        "client_id=",
        "redirect_uri=http%3A%2F%2F127.0.0.1%3A",
        "state=",
        "code_challenge_method=S256",
        "scopes=sso%3Aaccount%3Aaccess",
        "code_challenge=",
    ):
        assert part in seen["url"], part
    assert re.match(r"http://127\.0\.0\.1:\d+/oauth/callback\?code=", seen["final"])
    assert seen["status"] == 200 and "You can close this tab" in seen["body"]
    calls = [(r.operation, r.grant_type) for r in ic.requests[before:]]
    assert calls[-1] == ("CreateToken", "authorization_code")
    assert ("StartDeviceAuthorization", None) not in calls
    data = json.loads(cache_file(corp).read_text())
    assert portal_accepts(corp.sandbox, data["accessToken"])
    text = corp.aws_config.read_bytes().decode()
    assert text.startswith(theirs)
    assert text[len(theirs) :] == (
        f"\r\n[sso-session corp]\r\nsso_start_url = {ic.start_url}\r\nsso_region = eu-west-1"
        "\r\nsso_registration_scopes = sso:account:access\r\n"
    )
    # Signing in again keeps the section as it is, and reuses the cached registration.
    again = corp.aacli("login", "corp", BROWSER=str(browser), timeout=90)
    assert again.returncode == 0, again.stderr
    assert corp.aws_config.read_bytes().decode() == text
    assert json.loads(cache_file(corp).read_text())["clientId"] == data["clientId"]


def test_denied_browser_sign_in_is_one_line_and_writes_nothing(corp, ic, tmp_path):
    """Issue 13 item 2: the portal refuses the sign-in (access_denied back on the redirect):
    one line, no cache file, no ~/.aws/config; the browser is told to close the tab."""
    ic.deny_next()
    browser, record = following_browser(tmp_path)
    result = corp.aacli("login", "corp", BROWSER=str(browser), timeout=90)
    assert_one_line_error(result_without_progress(result), "refused")
    assert "Traceback" not in result.stderr
    assert not cache_file(corp).exists()
    assert not corp.aws_config.exists()
    assert "did not succeed" in json.loads(record.read_text())["body"]


def test_ctrl_c_cancels_a_waiting_browser_sign_in_cleanly(corp, ic, tmp_path):
    """Issue 13 item 2: Ctrl-C while aacli waits for the browser: "cancelled", exit 130, the
    loopback listener closed, nothing written."""
    browser, record = recording_browser(tmp_path)  # opens nothing: aacli waits
    child = start_login(corp, BROWSER=str(browser))
    seen: list[str] = []
    read_until(child.stderr, re.compile(r"Opening the browser"), seen)
    deadline = time.monotonic() + 20
    while not record.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    from signin_page import signin_url_in_page

    url = signin_url_in_page(record.read_text())
    port = int(re.search(r"redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A(\d+)", url).group(1))
    time.sleep(0.5)
    child.send_signal(signal.SIGINT)
    _out, err = child.communicate(timeout=20)
    assert child.returncode == 130, err
    assert err.strip().splitlines() == ["aacli: cancelled"]
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    assert not cache_file(corp).exists()
    assert not corp.aws_config.exists()


# The AWS CLI shares the sign-in both ways


@pytest.mark.awscli
def test_aws_cli_uses_the_sign_in_aacli_wrote(home_env, ic, tmp_path):
    """Issue 13 item 2: after `aacli login corp`, the AWS CLI v2 signs in with the shared
    cache: `aws sts get-caller-identity --profile <sso profile>` is the permission set's role.
    The token is within the CLI's 15-minute refresh window, so the CLI refreshes it with the
    client registration aacli cached beside it, and aacli then uses the CLI's new token."""
    from trayapp.core.sso import signin

    corp = home_env
    ic.token_lifetime = 600  # over aacli's 5 minutes, under the AWS CLI's 15
    result = device_login(corp, ic, tmp_path)
    assert result.returncode == 0, result.stderr
    ours = json.loads(cache_file(corp).read_text())["accessToken"]
    link_permission_set(corp, ic)
    before = len(ic.requests)
    identity = aws_identity(corp, corp.sandbox, tmp_path)
    assert identity.returncode == 0, identity.stderr
    arn = json.loads(identity.stdout)["Arn"]
    assert ":assumed-role/AWSReservedSSO_AdministratorAccess" in arn
    assert json.loads(identity.stdout)["Account"] == "111111111111"
    calls = [(r.operation, r.grant_type) for r in ic.requests[before:]]
    assert calls[:2] == [("CreateToken", "refresh_token"), ("GetRoleCredentials", None)]
    theirs = json.loads(cache_file(corp).read_text())["accessToken"]
    assert theirs != ours
    assert signin.access_token(sso_context(corp), corp_hub(ic)) == theirs


@pytest.mark.awscli
def test_aacli_uses_the_sign_in_the_aws_cli_wrote(home_env, ic, tmp_path):
    """Issue 13 item 2: `aws sso login --sso-session corp` (the AWS CLI's own device flow)
    writes the cache; aacli's access_token reads it, with no new sign-in, and `aacli logout`
    ends it."""
    from trayapp.core.sso import signin

    corp = home_env
    corp.aws_config.parent.mkdir(mode=0o700, exist_ok=True)
    corp.aws_config.write_text(
        f"[sso-session corp]\nsso_start_url = {ic.start_url}\nsso_region = eu-west-1\n"
        "sso_registration_scopes = sso:account:access\n"
    )
    child = subprocess.Popen(
        [aws_cli_v2(), "sso", "login", "--sso-session", "corp", "--no-browser"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=aws_cli_env(corp, corp.sandbox, tmp_path),
    )
    seen: list[str] = []
    try:
        user_code = read_until(child.stdout, re.compile(r"^([A-Z]{4}-[A-Z]{4})\s*$"), seen, 60)
        assert ic.approve(user_code)
        out, _ = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, "".join(seen) + out
    written = json.loads(cache_file(corp).read_text())
    before = len(ic.requests)
    ctx, hub = sso_context(corp), corp_hub(ic)
    assert signin.access_token(ctx, hub) == written["accessToken"]
    assert signin.token_expiry(ctx, hub) is not None
    assert not [r for r in ic.requests[before:] if r.operation != "ListAccounts"]
    logout = corp.aacli("logout", "corp")
    assert logout.returncode == 0, logout.stderr
    assert not cache_file(corp).exists()
    assert not portal_accepts(corp.sandbox, written["accessToken"])


def test_a_hand_written_aws_cli_token_is_used_and_refreshed(home_env, ic, tmp_path):
    """Issue 13 item 2: a cache file in the AWS CLI's format (written by hand, as the CLI
    does, with a field aacli does not know) is used as it is; once near its expiry it is
    refreshed with the refresh token, keeping the unknown field, without a new sign-in."""
    from trayapp.core.sso import signin

    corp = home_env
    assert device_login(corp, ic, tmp_path).returncode == 0
    issued = json.loads(cache_file(corp).read_text())
    soon = datetime.now(timezone.utc) + timedelta(minutes=2)
    hand = {
        "startUrl": ic.start_url,
        "region": "eu-west-1",
        "accessToken": issued["accessToken"],
        "expiresAt": soon.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "clientId": issued["clientId"],
        "clientSecret": issued["clientSecret"],
        "registrationExpiresAt": issued["registrationExpiresAt"],
        "refreshToken": issued["refreshToken"],
        "someOtherTool": "kept",
    }
    cache_file(corp).write_text(json.dumps(hand))
    ctx, hub = sso_context(corp), corp_hub(ic)
    assert signin.token_expiry(ctx, hub) == soon.replace(microsecond=0)
    before = len(ic.requests)
    fresh = signin.access_token(ctx, hub)  # 2 minutes left: refreshed first
    assert fresh != issued["accessToken"] and portal_accepts(corp.sandbox, fresh)
    calls = [(r.operation, r.grant_type) for r in ic.requests[before:]]
    assert calls == [("CreateToken", "refresh_token"), ("ListAccounts", None)]
    data = json.loads(cache_file(corp).read_text())
    assert data["accessToken"] == fresh and data["someOtherTool"] == "kept"
    assert data["refreshToken"] != issued["refreshToken"]
    assert stat.S_IMODE(cache_file(corp).stat().st_mode) == 0o600
    # Far from expiry now: no call at all.
    before = len(ic.requests)
    assert signin.access_token(ctx, hub) == fresh
    assert ic.requests[before:] == []


def test_expired_tokens_are_refreshed_without_a_new_sign_in(home_env, ic, tmp_path):
    """Issue 13 item 2: a short token lifetime, then the sandbox expires every token: the next
    access_token refreshes (refresh_token grant) and the new token works; with the refresh
    token refused too, it is "Sign in to corp first: aacli login corp"."""
    from trayapp.core.errors import SignInNeeded
    from trayapp.core.sso import signin

    corp = home_env
    ic.token_lifetime = 120  # under the 5 minutes aacli refreshes ahead
    assert device_login(corp, ic, tmp_path).returncode == 0
    old = json.loads(cache_file(corp).read_text())["accessToken"]
    ic.expire_tokens()
    assert not portal_accepts(corp.sandbox, old)
    ctx, hub = sso_context(corp), corp_hub(ic)
    before = len(ic.requests)
    fresh = signin.access_token(ctx, hub)
    assert fresh != old and portal_accepts(corp.sandbox, fresh)
    grants = [r.grant_type for r in ic.requests[before:] if r.operation == "CreateToken"]
    assert grants == ["refresh_token"]
    assert not [r for r in ic.requests[before:] if r.operation == "StartDeviceAuthorization"]
    # The refresh token is spent (the sandbox rotates it): a garbled one is refused.
    data = json.loads(cache_file(corp).read_text())
    data["refreshToken"] = "garbled"
    data["expiresAt"] = "2020-01-01T00:00:00Z"
    cache_file(corp).write_text(json.dumps(data))
    with pytest.raises(SignInNeeded, match=r"^Sign in to corp first: aacli login corp$"):
        signin.access_token(ctx, hub)


# Sign-out


def test_logout_removes_the_cache_file_and_the_sandbox_refuses_the_token(corp, ic, tmp_path):
    """Issue 13 item 2: `aacli logout corp` calls Logout and removes the cache file; the
    sandbox then refuses the token; [sso-session corp] stays; a second logout says so."""
    assert device_login(corp, ic, tmp_path).returncode == 0
    token = json.loads(cache_file(corp).read_text())["accessToken"]
    config = corp.aws_config.read_text()
    before = len(ic.requests)
    result = corp.aacli("logout", "corp")
    assert result.returncode == 0, result.stderr
    assert "Signed out of corp." in result.stderr
    assert not cache_file(corp).exists()
    assert not portal_accepts(corp.sandbox, token)
    assert corp.aws_config.read_text() == config
    assert ic.requests[before].operation == "Logout"
    again = corp.aacli("logout", "corp")
    assert again.returncode == 0 and "corp was not signed in." in again.stderr


# A hostile cache


def test_a_fifo_in_the_cache_is_refused_in_one_line(corp, ic, tmp_path):
    """Issue 13 item 2: a FIFO where corp's cache file goes: login and logout each say so in
    one line, at once (no read that waits), and nothing is written."""
    cache_dir(corp).mkdir(parents=True, mode=0o700)
    os.mkfifo(cache_file(corp), 0o600)
    before = len(ic.requests)
    for args in (("login", "corp", "--device-code"), ("logout", "corp")):
        started = time.monotonic()
        result = corp.aacli(*args, BROWSER="/bin/true", timeout=30)
        assert_one_line_error(result, "FIFO")
        assert time.monotonic() - started < 20
    assert stat.S_ISFIFO(cache_file(corp).lstat().st_mode)
    assert not corp.aws_config.exists()
    assert ic.requests[before:] == []  # refused before any call


def test_a_cache_folder_of_another_user_is_refused_in_one_line(corp, ic, attacker_uid):
    """Issue 13 item 2: ~/.aws/sso/cache owned by another user: login refuses in one line
    before signing in, and writes nothing there."""
    folder = cache_dir(corp)
    folder.mkdir(parents=True, mode=0o700)
    os.chown(folder, attacker_uid, -1)
    before = len(ic.requests)
    result = corp.aacli("login", "corp", "--device-code", BROWSER="/bin/true", timeout=30)
    assert_one_line_error(result, "another user")
    assert list(folder.iterdir()) == []
    assert not corp.aws_config.exists()
    assert ic.requests[before:] == []


def test_a_config_aacli_cannot_edit_or_a_wrong_profile_stops_before_any_sign_in(corp, ic):
    """Issue 13 item 2: ~/.aws/config with [sso-session corp] twice, an unknown profile, an
    IAM-user profile: one line each, before any call to Identity Center; nothing changes."""
    corp.aws_config.parent.mkdir(mode=0o700)
    twice = "[sso-session corp]\nsso_region = eu-west-1\n\n[sso-session corp]\nsso_region = x\n"
    corp.aws_config.write_text(twice)
    config = corp.home / "config.toml"
    config.write_text(
        config.read_text() + '\n[profiles.acme]\naccess_key_id = "AKIAIOSFODNN7EXAMPLE"\n'
        'mfa_serial = "arn:aws:iam::999999999999:mfa/alice"\n'
    )
    before = len(ic.requests)
    result = corp.aacli("login", "corp", "--device-code", BROWSER="/bin/true")
    assert_one_line_error(result, "appears a second time", "nothing was changed")
    assert_one_line_error(corp.aacli("login", "nobody"), "no profile named 'nobody'")
    assert_one_line_error(corp.aacli("login", "acme"), "is an IAM-user hub")
    assert_one_line_error(corp.aacli("logout", "acme"), "is an IAM-user hub")
    assert ic.requests[before:] == []
    assert corp.aws_config.read_text() == twice
    assert not cache_dir(corp).exists()


def test_the_loopback_listener_checks_state_and_its_wait_is_bounded():
    """Issue 13 item 2: the one-shot 127.0.0.1 listener answers only /oauth/callback with its
    own state (a wrong state: 400, and the wait goes on), takes one answer, is not held up by
    a connection that sends nothing, and gives up after its bound or when cancelled."""
    import threading
    import urllib.error
    import urllib.request

    from trayapp.core.errors import SignInError
    from trayapp.core.sso import oidc

    def get(url: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    with oidc.CallbackListener() as listener:
        base = listener.redirect_uri
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/oauth/callback", base)
        answers: list[tuple[int, str]] = []

        silent = socket.create_connection(("127.0.0.1", listener.port))  # sends nothing

        def browser() -> None:
            answers.append(get(base.replace("/oauth/callback", "/other?code=x")))
            answers.append(get(f"{base}?code=stolen&state=guessed"))
            answers.append(get(f"{base}?code=the-code&state={listener.state}"))

        thread = threading.Thread(target=browser)
        thread.start()
        started = time.monotonic()
        assert listener.wait(lambda: False, timeout=30) == "the-code"
        assert time.monotonic() - started < oidc.CONNECTION_SECONDS + 10
        thread.join(10)
        silent.close()
        assert [status for status, _ in answers] == [404, 400, 200]
        assert "You can close this tab" in answers[2][1]
    with oidc.CallbackListener() as listener:
        started = time.monotonic()
        with pytest.raises(SignInError, match="did not finish the sign-in"):
            listener.wait(lambda: False, timeout=1)
        assert time.monotonic() - started < 5
        with pytest.raises(oidc.Cancelled):
            listener.wait(lambda: True)


def test_device_polling_slows_down_and_an_expired_code_is_one_line(corp, ic, tmp_path):
    """Issue 13 item 2: polling keeps to the interval and each slow_down adds 5 s to it; a
    device code that expires before it is approved ends `aacli login` with one line."""
    import dataclasses

    from trayapp.core.sso import oidc

    api = oidc.Oidc(
        sso_context(corp).client("sso-oidc", ic.region), lambda: datetime.now(timezone.utc)
    )
    reg = api.register(flow=oidc.DEVICE_FLOW, scopes=["sso:account:access"], issuer_url="")
    ic.poll_interval = 5  # polls under 4 s apart are too fast, even on a slow machine
    try:
        auth = api.start_device_authorization(reg, ic.start_url)
    finally:
        ic.poll_interval = 1
    too_fast = dataclasses.replace(auth, interval=1)  # as if it had misread the interval
    before = len(ic.requests)
    polls: list[tuple[str, float]] = []  # each CreateToken's outcome, and when it was seen

    def watch() -> bool:
        answers = [r.outcome for r in ic.requests[before:] if r.operation == "CreateToken"]
        polls.extend((outcome, time.monotonic()) for outcome in answers[len(polls) :])
        if polls and polls[-1][0] == "SlowDownException":
            ic.approve(auth.user_code)
        return False

    issued = api.poll_device_token(reg, too_fast, cancelled=watch)
    assert portal_accepts(corp.sandbox, issued.access_token)
    watch()
    outcomes = [outcome for outcome, _ in polls]
    assert outcomes[-2:] == ["SlowDownException", "ok"], outcomes
    assert set(outcomes[:-2]) == {"AuthorizationPendingException"}, outcomes
    slowed = polls[-1][1] - polls[-2][1]
    assert slowed >= 1 + oidc.SLOW_DOWN_SECONDS - 0.5, slowed

    browser, _ = recording_browser(tmp_path)
    child = start_login(corp, "--device-code", BROWSER=str(browser))
    seen: list[str] = []
    read_until(child.stderr, CODE_LINE, seen)
    ic.expire_device_codes()
    _out, err = child.communicate(timeout=60)
    errors = [line for line in err.splitlines() if line.startswith("aacli: ")]
    assert child.returncode == 1 and errors == [
        "aacli: The sign-in code expired before it was approved; sign in again."
    ], err
    assert "Traceback" not in err
    assert not cache_file(corp).exists()


def test_offline_with_an_expired_token_says_so_not_sign_in_again(home_env, ic, tmp_path):
    """Issue 13 item 2: the token is expired and Identity Center cannot be reached: the error
    says it could not be reached (signing in again would not help); the cache is kept."""
    from trayapp.core.errors import NetworkError
    from trayapp.core.sso import signin

    corp = home_env
    assert device_login(corp, ic, tmp_path).returncode == 0
    data = json.loads(cache_file(corp).read_text())
    data["expiresAt"] = "2020-01-01T00:00:00Z"
    cache_file(corp).write_text(json.dumps(data))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    ctx = sso_context(corp)
    offline = type(ctx)(aws=ctx.aws, app=ctx.app, clock=ctx.clock, endpoint_url=closed)
    with pytest.raises(NetworkError, match="Could not reach Identity Center"):
        signin.access_token(offline, corp_hub(ic))
    assert json.loads(cache_file(corp).read_text()) == data


def test_no_browser_prints_the_url_and_a_failing_browser_falls_back_to_the_device_code(
    corp, ic, tmp_path
):
    """Issue 13 item 2: --no-browser prints the sign-in URL (followed here by an HTTP client)
    instead of opening it; a $BROWSER that cannot start makes aacli show a device code."""
    import urllib.request

    child = start_login(corp, "--no-browser")
    seen: list[str] = []
    url = read_until(child.stderr, re.compile(r"^  (http://\S+/authorize\?\S+)$"), seen)
    with urllib.request.urlopen(url, timeout=30) as answer:
        assert "You can close this tab" in answer.read().decode()
    _out, err = child.communicate(timeout=60)
    assert child.returncode == 0, "".join(seen) + err
    assert cache_file(corp).exists()
    cache_file(corp).unlink()

    child = start_login(corp, BROWSER="/nonexistent/browser")
    seen = []
    user_code = read_until(child.stderr, CODE_LINE, seen)
    assert any("No browser could be opened; sign in with a code instead." in s for s in seen)
    assert ic.approve(user_code)
    _out, err = child.communicate(timeout=60)
    assert child.returncode == 0, "".join(seen) + err
    assert json.loads(cache_file(corp).read_text())["startUrl"] == ic.start_url


def test_processes_refreshing_at_once_refresh_once_and_all_get_a_working_token(
    home_env, ic, tmp_path
):
    """Issue 13 item 2: four processes (the tray, CLI commands) find the token expired at
    once: one refreshes (the sandbox's refresh tokens work once), the others wait for it and
    use its token; nobody is told to sign in again."""
    corp = home_env
    assert device_login(corp, ic, tmp_path).returncode == 0
    data = json.loads(cache_file(corp).read_text())
    data["expiresAt"] = "2020-01-01T00:00:00Z"
    cache_file(corp).write_text(json.dumps(data))
    ic.expire_tokens()
    program = (
        "import sys\n"
        "from pathlib import Path\n"
        "from trayapp.core.model import IdentityCenter, Profile\n"
        "from trayapp.core.paths import AppPaths, AwsPaths\n"
        "from trayapp.core.sso.signin import SsoContext, access_token\n"
        "home, aws, endpoint, start = sys.argv[1:]\n"
        "ctx = SsoContext(aws=AwsPaths(Path(aws) / 'credentials', Path(aws) / 'config'),\n"
        "                 app=AppPaths(Path(home), Path(home) / 'state'), endpoint_url=endpoint)\n"
        "hub = Profile('corp', '', '', identity_center=IdentityCenter(start, 'eu-west-1'))\n"
        "token = access_token(ctx, hub)\n"
        "print(token)\n"
    )
    args = [str(corp.home), str(corp.aws_config.parent), corp.sandbox.endpoint_url, ic.start_url]
    before = len(ic.requests)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", program, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=corp.environ(),
        )
        for _ in range(4)
    ]
    results = [child.communicate(timeout=120) for child in children]
    assert all(child.returncode == 0 for child in children), results
    tokens = {out.strip() for out, _ in results}
    assert len(tokens) == 1, "each process should use the one refreshed token"
    grants = [r.grant_type for r in ic.requests[before:] if r.operation == "CreateToken"]
    assert grants == ["refresh_token"]
    assert portal_accepts(corp.sandbox, tokens.pop())


def test_a_damaged_cache_file_means_sign_in_again_and_a_sign_in_replaces_it(home_env, ic, tmp_path):
    """Issue 13 item 2: a cache file that is not a token (cut short, not JSON, no token in it)
    is no sign-in: "Sign in to corp first", no traceback; the next sign-in replaces it 0600."""
    from trayapp.core.errors import SignInNeeded
    from trayapp.core.sso import signin

    corp = home_env
    cache_dir(corp).mkdir(parents=True, mode=0o700)
    ctx, hub = sso_context(corp), corp_hub(ic)
    for damaged in ('{"accessToken": "abc", "expiresAt": "tomorr', "[]", '{"startUrl": "x"}'):
        cache_file(corp).write_text(damaged)
        assert signin.token_expiry(ctx, hub) is None
        with pytest.raises(SignInNeeded, match=r"^Sign in to corp first: aacli login corp$"):
            signin.access_token(ctx, hub)
    assert device_login(corp, ic, tmp_path).returncode == 0
    assert portal_accepts(corp.sandbox, signin.access_token(ctx, hub))
    assert stat.S_IMODE(cache_file(corp).stat().st_mode) == 0o600


def test_a_registration_identity_center_refuses_is_replaced_not_retried_forever(
    home_env, ic, tmp_path
):
    """Issue 13 item 2: Identity Center drops aacli's client registration before its stated
    end: a device sign-in registers again by itself; a refresh refused for it says "sign in"
    (once the token is spent) and forgets the registration, so the browser sign-in that
    follows registers anew."""
    from trayapp.core.errors import SignInNeeded
    from trayapp.core.sso import signin

    corp = home_env
    assert device_login(corp, ic, tmp_path).returncode == 0
    first = json.loads(cache_file(corp).read_text())["clientId"]
    ic.expire_clients()
    before = len(ic.requests)
    assert device_login(corp, ic, tmp_path).returncode == 0  # the cached one, refused: anew
    second = json.loads(cache_file(corp).read_text())["clientId"]
    assert second != first
    outcomes = [(r.operation, r.outcome) for r in ic.requests[before:]][:3]
    assert outcomes == [
        ("StartDeviceAuthorization", "InvalidClientException"),
        ("RegisterClient", "ok"),
        ("StartDeviceAuthorization", "ok"),
    ]

    ic.token_lifetime = 60  # the next access_token refreshes
    browser, _ = following_browser(tmp_path)
    assert corp.aacli("login", "corp", BROWSER=str(browser), timeout=90).returncode == 0
    token = json.loads(cache_file(corp).read_text())["accessToken"]
    ic.expire_clients()
    # Refused for its client; the token still has a minute: that is used meanwhile.
    assert signin.access_token(sso_context(corp), corp_hub(ic)) == token
    left = json.loads(cache_file(corp).read_text())
    assert "clientId" not in left and "clientSecret" not in left and "refreshToken" not in left
    left["expiresAt"] = "2020-01-01T00:00:00Z"
    cache_file(corp).write_text(json.dumps(left))
    with pytest.raises(SignInNeeded):
        signin.access_token(sso_context(corp), corp_hub(ic))
    before = len(ic.requests)
    result = corp.aacli("login", "corp", BROWSER=str(browser), timeout=90)
    assert result.returncode == 0, result.stderr
    assert ic.requests[before].operation == "RegisterClient"


def test_expiry_times_in_every_form_the_aws_cli_has_written_are_read(home_env, ic):
    """Issue 13 item 2: expiresAt as AWS CLI v2 writes it ("…Z"), as older versions did
    ("…UTC") and with an offset: the same moment; token_expiry makes no call."""
    from trayapp.core.sso import signin

    corp = home_env
    cache_dir(corp).mkdir(parents=True, mode=0o700)
    ctx, hub = sso_context(corp), corp_hub(ic)
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    before = len(ic.requests)
    for written in ("2030-01-02T03:04:05Z", "2030-01-02T03:04:05UTC", "2030-01-02T04:04:05+01:00"):
        token = {"startUrl": ic.start_url, "region": "eu-west-1", "accessToken": "t"}
        cache_file(corp).write_text(json.dumps({**token, "expiresAt": written}))
        assert signin.token_expiry(ctx, hub) == moment, written
    assert ic.requests[before:] == []
