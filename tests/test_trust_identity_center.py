"""Issue 13 held to issue 11's standard: Identity Center's surfaces attacked as a second local
user (uid 4242) and with hostile input — the token cache (~/.aws/sso/cache), the PKCE loopback
listener, names from the portal, hostile hub names and start URLs."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import as_attacker, assert_one_line_error

from trayapp.core.paths import AppPaths, AwsPaths

SESSION = "corp"
CACHE_NAME = hashlib.sha1(SESSION.encode()).hexdigest() + ".json"
PERMISSION_SET = "corp/dev/AdministratorAccess"


@pytest.fixture
def ic(sandbox):
    """The sandbox's Identity Center, put back as it was after the test."""
    ic = sandbox.identity_center
    ic.take_denial()
    yield ic
    ic.take_denial()


@pytest.fixture
def corp(env, sandbox, ic, monkeypatch):
    """``env`` with one Identity Center hub, corp, at the sandbox's start URL (HOME is the
    test's in this process too: in-process sign-ins find its token cache)."""
    monkeypatch.setenv("HOME", env.vars["HOME"])
    env.sandbox = sandbox
    env.vars["AWS_ENDPOINT_URL"] = sandbox.endpoint_url
    env.home.mkdir(mode=0o700)
    (env.home / "config.toml").write_text(
        f"""version = 1

[settings]
secret_backend = "vault"

[profiles.corp]
sso_start_url = "{ic.start_url}"
sso_region = "{ic.region}"

[profiles.corp.accounts.dev]
id = "111111111111"
region = "eu-west-1"

[profiles.corp.accounts.dev.roles.AdministratorAccess]
""",
        encoding="utf-8",
    )
    (env.home / "config.toml").chmod(0o600)
    return env


@pytest.fixture
def attacker_dir(attacker_uid):
    """A folder in /tmp that the attacker owns (0755), removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="aacli-attacker-", dir="/tmp"))
    try:
        folder.chmod(0o755)
        os.chown(folder, attacker_uid, -1)
        yield folder
    finally:
        subprocess.run(["rm", "-rf", str(folder)], check=False)


def cache_dir(env) -> Path:
    return Path(env.vars["HOME"]) / ".aws" / "sso" / "cache"


def cache_file(env) -> Path:
    return cache_dir(env) / CACHE_NAME


def context(env):
    from trayapp.core.sso.signin import SsoContext

    return SsoContext(
        aws=AwsPaths(env.credentials, env.aws_config),
        app=AppPaths(env.home, env.home / "state"),
        endpoint_url=env.sandbox.endpoint_url,
    )


def hub(ic):
    from trayapp.core.model import IdentityCenter, Profile

    return Profile(
        name=SESSION,
        access_key_id="",
        mfa_serial="",
        identity_center=IdentityCenter(ic.start_url, ic.region),
    )


def device_sign_in(env, ic):
    """A device-code sign-in in this process, the code approved as the person would."""
    from trayapp.core.sso.signin import sign_in

    return sign_in(
        context(env),
        hub(ic),
        open_browser=lambda url: True,
        show_device_code=lambda code: ic.approve(code.user_code),
        device_code=True,
    )


def a_cached_token(env, ic) -> dict[str, str]:
    """A well-formed cache file for corp that the sandbox never issued."""
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    return {
        "startUrl": ic.start_url,
        "region": ic.region,
        "accessToken": "not-a-real-token",
        "expiresAt": later.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


# The token cache: ~/.aws/sso/cache


@pytest.mark.parametrize(
    "planted",
    ["folder-group-writable", "folder-of-another-user", "folder-symlink-to-theirs"],
)
def test_a_cache_folder_aacli_may_not_trust_stops_the_sign_in_in_one_line(
    corp, ic, attacker_uid, attacker_dir, planted
):
    """Issue 13 trust (token cache): ~/.aws/sso/cache writable by the group, owned by another
    user, or a symlink into another user's folder: `aacli login` refuses in one line before
    it calls Identity Center, and writes no token anywhere."""
    folder = cache_dir(corp)
    folder.parent.mkdir(parents=True, mode=0o700)
    if planted == "folder-group-writable":
        folder.mkdir(mode=0o700)
        folder.chmod(0o770)
    elif planted == "folder-of-another-user":
        folder.mkdir(mode=0o700)
        os.chown(folder, attacker_uid, -1)
    else:
        folder.symlink_to(attacker_dir)
    before = len(ic.requests)
    result = corp.aacli("login", "corp", "--device-code", BROWSER="/bin/true", timeout=30)
    fragment = "writable by other users" if planted == "folder-group-writable" else "another user"
    assert_one_line_error(result, fragment, "token cache folder")
    assert ic.requests[before:] == []
    assert list(folder.iterdir()) == [] and list(attacker_dir.iterdir()) == []


@pytest.mark.parametrize("planted", ["file-of-another-user", "file-group-writable"])
def test_a_cache_file_aacli_may_not_trust_is_refused_in_one_line(corp, ic, attacker_uid, planted):
    """Issue 13 trust (token cache): corp's token file owned by another user, or writable by
    the group: `aacli auth` of a permission set refuses it in one line (the token is not
    sent to the portal) and leaves it as it was."""
    cache_dir(corp).mkdir(parents=True, mode=0o700)
    path = cache_file(corp)
    path.write_text(json.dumps(a_cached_token(corp, ic)))
    if planted == "file-of-another-user":
        path.chmod(0o600)
        os.chown(path, attacker_uid, -1)
    else:
        path.chmod(0o660)
    before, text = len(ic.requests), path.read_text()
    result = corp.aacli("auth", PERMISSION_SET, timeout=30)
    fragment = "another user" if planted == "file-of-another-user" else "writable by other users"
    assert_one_line_error(result, fragment, CACHE_NAME)
    assert ic.requests[before:] == []
    assert path.read_text() == text
    assert not corp.credentials.exists()


def test_a_cache_file_symlinked_into_another_users_folder_gets_no_token(corp, ic, attacker_dir):
    """Issue 13 trust (token cache): corp's cache file is a dangling symlink into a folder
    another user owns: a sign-in refuses, in one line and before it calls Identity Center, to
    write the token (with its refresh token and client secret) there; nothing appears in that
    folder. A symlink loop there is one line too."""
    from trayapp.core.errors import UnsafeFileError

    cache_dir(corp).mkdir(parents=True, mode=0o700)
    cache_file(corp).symlink_to(attacker_dir / "stolen.json")
    before = len(ic.requests)
    with pytest.raises(UnsafeFileError, match="another user") as refused:
        device_sign_in(corp, ic)
    assert "\n" not in str(refused.value)
    assert ic.requests[before:] == []
    assert list(attacker_dir.iterdir()) == []
    assert cache_file(corp).is_symlink()
    cache_file(corp).unlink()
    cache_file(corp).symlink_to(cache_file(corp))
    result = corp.aacli("login", "corp", "--device-code", BROWSER="/bin/true", timeout=30)
    assert_one_line_error(result, CACHE_NAME)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "20-mib"])
def test_a_hostile_cache_file_fails_fast_in_one_line(corp, ic, kind):
    """Issue 13 trust (token cache): a FIFO, a symlink to /dev/zero, a 20 MiB file where
    corp's token goes: `aacli auth` of a permission set says so in one line within
    seconds (no read that waits or fills memory) and `aacli status` still answers."""
    cache_dir(corp).mkdir(parents=True, mode=0o700)
    path = cache_file(corp)
    if kind == "fifo":
        os.mkfifo(path, 0o600)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    else:
        with path.open("wb") as handle:
            handle.truncate(20 * 2**20)
        path.chmod(0o600)
    started = time.monotonic()
    result = corp.aacli("auth", PERMISSION_SET, timeout=30)
    fragment = {"fifo": "FIFO", "dev-zero": "a device", "20-mib": "MiB"}[kind]
    assert_one_line_error(result, fragment)
    assert time.monotonic() - started < 15
    status = corp.aacli("status", timeout=30)
    assert "Traceback" not in status.stderr, status.stderr
    assert time.monotonic() - started < 30


HOSTILE_JSON = {
    "wrong-types": {
        "startUrl": ["x"],
        "region": {"a": 1},
        "accessToken": 12345,
        "expiresAt": 17,
        "refreshToken": None,
        "clientId": [],
        "clientSecret": {},
        "registrationExpiresAt": True,
    },
    "huge-strings": {
        "startUrl": "https://" + "a" * 4_000_000,
        "region": "r" * 2_000_000,
        "accessToken": "t" * 5_000_000,
        "expiresAt": "2" * 1_000_000,
    },
    "a-list": [1, 2, 3],
    "bad-times": {
        "startUrl": "START",
        "region": "eu-west-1",
        "accessToken": "x",
        "expiresAt": "9999-99-99T99:99:99Z",
        "registrationExpiresAt": "yesterday",
    },
    "nesting": json.loads("[" * 50 + "]" * 50),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_JSON))
def test_hostile_json_in_the_cache_is_no_sign_in_and_no_traceback(corp, ic, kind):
    """Issue 13 trust (token cache): a cache file (the user's own, as another tool may have
    written it) with wrong types, huge strings, bad times or deep nesting is no sign-in:
    `aacli auth` says to sign in (one line), `status` answers, and the file stays as it is."""
    cache_dir(corp).mkdir(parents=True, mode=0o700)
    path = cache_file(corp)
    data = HOSTILE_JSON[kind]
    if kind == "bad-times":
        data = {**data, "startUrl": ic.start_url}
    path.write_text(json.dumps(data))
    path.chmod(0o600)
    before, text = len(ic.requests), path.read_bytes()
    result = corp.aacli("auth", PERMISSION_SET, timeout=60)
    assert_one_line_error(result, "sign in to corp first")
    status = corp.aacli("status", "--json", timeout=60)
    assert status.returncode == 0 and "Traceback" not in status.stderr, status.stderr
    assert ic.requests[before:] == []
    assert path.read_bytes() == text


# The PKCE loopback listener


def _get(url: str) -> tuple[int, str, str]:
    """(status, body, final URL) of a GET that follows redirects, as a browser does."""
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, answer.read().decode(), answer.url
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), exc.url


FORGER = """
import sys, urllib.error, urllib.request
for url in sys.argv[1:]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            print(answer.status, answer.read().decode().replace(chr(10), " "))
    except urllib.error.HTTPError as exc:
        print(exc.code, exc.read().decode().replace(chr(10), " "))
"""


def _listeners(port: int) -> list[str]:
    """The local addresses listening on TCP ``port`` (/proc/net/tcp and tcp6)."""
    import ipaddress

    found = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, _, hex_port = fields[1].partition(":")
            if int(hex_port, 16) != port or fields[3] != "0A":
                continue
            raw = bytes.fromhex(address)
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, width // 2, 4))
            found.append(str(ipaddress.ip_address(raw)))
    return found


def test_a_forged_callback_from_another_user_is_refused_and_the_real_one_completes(
    corp, ic, attacker_uid
):
    """Issue 13 trust (loopback redirect): while aacli waits on 127.0.0.1 (and only there),
    another local user sends it callbacks with a wrong state, no state, and an error: each
    gets a 400 and changes nothing; the browser's real redirect then completes the sign-in,
    and no page the listener sends shows the authorization code."""
    from trayapp.core.sso.signin import sign_in

    seen: dict[str, object] = {}

    def browser(url: str) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        redirect = query["redirect_uri"][0]
        port = urllib.parse.urlsplit(redirect).port
        assert port is not None
        seen["listeners"] = _listeners(port)
        forged = [
            f"{redirect}?code=FORGED-CODE&state=guessed-state",
            f"{redirect}?code=FORGED-CODE",
            f"{redirect}?error=access_denied&state=",
            f"{redirect}?code=FORGED-CODE&state={query['state'][0][:-1]}",
        ]
        argv = ["/usr/bin/python3", "-I", "-c", FORGER, *forged]
        seen["forged"] = as_attacker(argv, cwd="/", timeout=60).stdout.splitlines()
        seen["real"] = _get(url)

    def open_browser(url: str) -> bool:
        threading.Thread(target=browser, args=(url,), daemon=True).start()
        return True

    token = sign_in(
        context(corp),
        hub(ic),
        open_browser=open_browser,
        show_device_code=lambda code: pytest.fail("no device code in a browser sign-in"),
    )
    assert seen["listeners"] == ["127.0.0.1"]
    forged = seen["forged"]
    assert isinstance(forged, list) and len(forged) == 4
    assert all(line.startswith("400 ") for line in forged), forged
    assert not any("FORGED-CODE" in line for line in forged)
    status, body, final = seen["real"]  # type: ignore[misc]
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(final).query)["code"][0]
    assert status == 200 and "You can close this tab" in body
    assert code not in body
    assert token.access_token and json.loads(cache_file(corp).read_text())["accessToken"]
    exchanges = [r for r in ic.requests if r.operation == "CreateToken"]
    assert exchanges[-1].grant_type == "authorization_code"


# Names from the portal, hub names, start URLs

HOSTILE_ACCOUNT_NAME = "dev\x1b]0;pwned\x07\n[profile evil]\r\ncredential_process = id"
HOSTILE_ROLE_NAME = "Admin\x1b[31m\u202e"


def test_hostile_portal_names_keep_every_file_valid_and_reach_the_terminal_escaped(
    corp, ic, monkeypatch, tmp_path
):
    """Issue 13 trust (portal names): ListAccounts names with terminal escapes, newlines,
    brackets, `..` and 300 characters, and a permission set with escapes: `config sync` keeps
    config.toml loadable, writes only safe names, prints nothing raw; `config link-aws` of a
    synced role keeps ~/.aws/config valid INI with no foreign section."""
    import configparser

    names = {
        "111111111111": HOSTILE_ACCOUNT_NAME,
        "333333333333": "../" * 100,
    }
    real_accounts, real_roles = ic._list_accounts, ic._list_account_roles

    def accounts(session, query):
        body = real_accounts(session, query)
        for item in body["accountList"]:
            item["accountName"] = names.get(item["accountId"], item["accountName"])
        return body

    def roles(session, query):
        body = real_roles(session, query)
        extra = {**body["roleList"][0], "roleName": HOSTILE_ROLE_NAME}
        body["roleList"] = [*body["roleList"], extra]
        return body

    monkeypatch.setattr(ic, "_list_accounts", accounts)
    monkeypatch.setattr(ic, "_list_account_roles", roles)
    cache_dir(corp).mkdir(parents=True, mode=0o700)
    device_sign_in(corp, ic)
    result = corp.aacli("config", "sync", "corp", timeout=90)
    assert result.returncode == 0, result.stderr
    said = result.stdout + result.stderr
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u202e]", said), repr(said)
    shown = corp.aacli("config", "show", timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u202e]", shown.stdout + shown.stderr)
    import tomllib

    config = tomllib.loads((corp.home / "config.toml").read_text())
    for account, body in config["profiles"]["corp"]["accounts"].items():
        assert re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", account) and account not in (".", ".."), (
            account
        )
        for role in body.get("roles", {}):
            assert re.fullmatch(r"[A-Za-z0-9_.+=,@-]{1,64}", role), role
    targets = [
        f"corp/{account}/{role}"
        for account, body in config["profiles"]["corp"]["accounts"].items()
        for role in body.get("roles", {})
    ]
    assert len(targets) >= 3, targets
    for target in targets:
        linked = corp.aacli("config", "link-aws", target, timeout=60)
        assert linked.returncode == 0, linked.stderr
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(corp.aws_config.read_text())
    assert "profile evil" not in parser.sections()
    assert all(not re.search(r"[\x00-\x1f\x7f]", s) for s in parser.sections())


@pytest.mark.parametrize(
    "name",
    ["a b", "a]b", "x\ny", '"quoted"', "a/b", "..", "a\x1b[31m", "n" * 300],
)
def test_a_hostile_hub_name_is_refused_in_one_line_and_changes_nothing(corp, ic, name):
    """Issue 13 trust (hub names): `config add-sso` with a name that could not be a clean
    `[sso-session NAME]` (spaces, brackets, newlines, quotes, a slash, `..`, escapes,
    300 characters) is refused in one line, printed escaped; config.toml and ~/.aws/config
    stay as they were."""
    config = (corp.home / "config.toml").read_bytes()
    result = corp.aacli(
        "config", "add-sso", name, "--start-url", ic.start_url, "--region", "eu-west-1"
    )
    assert_one_line_error(result)
    assert "\x1b" not in result.stderr
    assert (corp.home / "config.toml").read_bytes() == config
    assert not corp.aws_config.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://corp.awsapps.com/start",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "ftp://corp.awsapps.com/start",
        "https://",
        "https://corp.awsapps.com/start\n[x]",
        "https://user:secret@corp.awsapps.com/start",
    ],
)
def test_a_start_url_that_is_not_plain_https_is_refused(corp, ic, url):
    """Issue 13 trust (start URL): `config add-sso` takes only an https start URL (plain http
    only for a loopback sandbox): http to a real host, file:, javascript:, ftp:, no host, a
    newline, credentials in the URL are refused in one line and nothing is written."""
    config = (corp.home / "config.toml").read_bytes()
    result = corp.aacli("config", "add-sso", "other", "--start-url", url, "--region", "eu-west-1")
    assert_one_line_error(result, "https://")
    assert (corp.home / "config.toml").read_bytes() == config


def test_a_hand_written_hostile_hub_name_or_start_url_is_refused_before_any_sign_in(corp, ic):
    """Issue 13 trust (hub names, start URL): config.toml edited by hand with a hub whose name
    cannot be an sso-session section, or whose start URL is plain http to a real host:
    `aacli login` refuses in one line before calling Identity Center; nothing is written."""
    config = corp.home / "config.toml"
    original = config.read_text()
    before = len(ic.requests)
    for table, url in (
        ('"a]b"', ic.start_url),
        ('"x y"', ic.start_url),
        ("plain", "http://corp.awsapps.com/start"),
    ):
        name = json.loads(table) if table.startswith('"') else table
        config.write_text(
            original + f'\n[profiles.{table}]\nsso_start_url = "{url}"\nsso_region = "eu-west-1"\n'
        )
        result = corp.aacli("login", name, "--device-code", BROWSER="/bin/true", timeout=30)
        assert_one_line_error(result)
    assert ic.requests[before:] == []
    assert not corp.aws_config.exists()
    assert not cache_dir(corp).exists()
    assert sys.executable  # the CLI ran in this Python


@pytest.mark.parametrize("region", ["evil.example.com/x", "a" * 5000, "us-east-1\x1b[31m"])
def test_a_region_in_the_cache_file_never_chooses_where_the_refresh_token_goes(corp, ic, region):
    """Issue 13 trust (token cache): an expired cached token whose ``region`` is hostile (a
    host and path, 5000 characters, an escape): the refresh (with the refresh token and the
    client secret) goes to the hub's own region's endpoint, as the AWS CLI's does, so the
    outcome is the usual one line ("Sign in to corp first"), and logout still works."""
    cache_dir(corp).mkdir(parents=True, mode=0o700)
    past = datetime.now(timezone.utc) - timedelta(hours=1)
    later = datetime.now(timezone.utc) + timedelta(days=30)
    data = {
        **a_cached_token(corp, ic),
        "region": region,
        "expiresAt": past.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "refreshToken": "not-a-refresh-token",
        "clientId": "not-a-client",
        "clientSecret": "not-a-secret",
        "registrationExpiresAt": later.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    cache_file(corp).write_text(json.dumps(data))
    cache_file(corp).chmod(0o600)
    result = corp.aacli("auth", PERMISSION_SET, timeout=60)
    assert_one_line_error(result, "sign in to corp first")
    assert "not-a-secret" not in result.stderr and "not-a-refresh-token" not in result.stderr
    out = corp.aacli("logout", "corp", timeout=60)
    assert out.returncode == 0, out.stderr
    assert not cache_file(corp).exists()


def test_debug_output_of_a_browser_sign_in_shows_no_secret(corp, ic, tmp_path):
    """Issue 13 trust (secrets in logs): `aacli --debug login corp` through a browser (an
    HTTP client following the redirects to the loopback listener): its output shows neither
    the authorization code, the access token, the refresh token nor the client secret."""
    from conftest import ROOT

    record = tmp_path / "followed.json"
    browser = tmp_path / "follow-browser"
    browser.write_text(
        f"#!{sys.executable}\n"
        "import json, sys, urllib.request\n"
        f"sys.path.insert(0, {str(ROOT / 'tests')!r})\n"
        "from signin_page import signin_url_in_page\n"
        "url = signin_url_in_page(open(sys.argv[1]).read())\n"
        "with urllib.request.urlopen(url, timeout=30) as answer:\n"
        f"    open({str(record)!r}, 'w').write(json.dumps({{'final': answer.url}}))\n"
    )
    browser.chmod(0o755)
    result = corp.aacli("--debug", "login", "corp", BROWSER=str(browser), timeout=90)
    assert result.returncode == 0, result.stderr
    final = json.loads(record.read_text())["final"]
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(final).query)["code"][0]
    data = json.loads(cache_file(corp).read_text())
    said = result.stdout + result.stderr
    for secret in (code, data["accessToken"], data["refreshToken"], data["clientSecret"]):
        assert secret and secret not in said
