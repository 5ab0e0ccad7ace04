"""Issue 11 items 9 and 10: the console sign-in URL stays off command lines and off the network
in clear, the browser is never waited for, and the federation endpoint gets only what it must."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from conftest import assert_one_line_error
from signin_page import signin_url_in_page

from trayapp.core import browser, console
from trayapp.core.errors import ConsoleError


def fetch(url: str, data: bytes | None = None) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, data=data, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def recording_browser(tmp_path: Path, *, then: str = "exit 0") -> tuple[Path, Path]:
    """A $BROWSER that records its argv, environment, cwd, the page and the modes it saw."""
    record = tmp_path / "browser-record"
    record.mkdir()
    script = tmp_path / "browser.sh"
    script.write_text(
        "#!/bin/sh\n"
        f'R="{record}"\n'
        'for a in "$@"; do printf "%s\\n" "$a"; done > "$R/argv"\n'
        'env > "$R/env"; pwd > "$R/cwd"\n'
        'for a in "$@"; do [ -f "$a" ] && cat "$a" > "$R/page" && '
        'stat -c %a "$a" > "$R/mode" && stat -c %a "$(dirname "$a")" > "$R/dirmode"; done\n'
        'touch "$R/done"\n'
        f"{then}\n"
    )
    script.chmod(0o755)
    return script, record


def signin_folder(env) -> Path:
    return env.home / "state" / browser.FOLDER_NAME


# Item 9: the browser gets a private page, never the URL; never waited for; page removed


def test_web_hands_the_browser_a_private_page_that_leads_to_the_sign_in(configured, tmp_path):
    """Issue 11 item 9: the browser's argv holds a 0600 page's path in a 0700 folder of the
    state dir, under an unguessable name; its environment has no aacli secret, its cwd is /;
    the page leads to a sign-in the sandbox accepts."""
    script, record = recording_browser(tmp_path)
    result = configured.aacli(
        "web", "dev/DEVELOPER", "--code", configured.code(), BROWSER=str(script)
    )
    assert result.returncode == 0, result.stderr
    argv = record.joinpath("argv").read_text().splitlines()
    assert len(argv) == 1 and "SigninToken" not in argv[0] and "Action=" not in argv[0]
    page = Path(argv[0])
    assert page.parent == signin_folder(configured)
    assert page.name.startswith(browser.PREFIX) and page.suffix == ".html"
    assert len(page.stem) - len(browser.PREFIX) >= 30  # 24 random bytes
    assert record.joinpath("mode").read_text().strip() == "600"
    assert record.joinpath("dirmode").read_text().strip() == "700"
    assert "AACLI_PASSPHRASE" not in record.joinpath("env").read_text()
    assert record.joinpath("cwd").read_text().strip() == "/"
    text = record.joinpath("page").read_text()
    assert 'name="referrer" content="no-referrer"' in text and "location.replace(" in text
    url = signin_url_in_page(text)
    assert url.startswith(configured.sandbox.federation_url + "?Action=login")
    assert url not in result.stdout + result.stderr
    assert fetch(url)[0] == 200
    # A detached child removes the page after a while (it outlives this aacli).
    assert any(str(page) in cmd and "remove-after" in cmd for cmd in _command_lines())


def _command_lines() -> list[str]:
    lines = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                lines.append(proc.joinpath("cmdline").read_bytes().replace(b"\0", b" ").decode())
            except OSError:
                continue
    return lines


def test_web_does_not_wait_for_a_browser_that_keeps_running(configured, tmp_path):
    """Issue 11 item 9: a browser still running after the brief wait is success, not a hang."""
    script, record = recording_browser(tmp_path, then="sleep 30")
    started = time.monotonic()
    result = configured.aacli(
        "web", "dev/DEVELOPER", "--code", configured.code(), BROWSER=str(script), timeout=25
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert elapsed < 15, elapsed
    assert record.joinpath("done").exists()


def test_browser_that_fails_at_once_is_one_line_and_leaves_no_page(configured, tmp_path):
    """Issue 11 item 9: an early non-zero exit is a clear one-line error; the page is gone."""
    script, record = recording_browser(tmp_path, then="exit 3")
    result = configured.aacli(
        "web", "dev/DEVELOPER", "--code", configured.code(), BROWSER=str(script)
    )
    assert_one_line_error(result, "No browser could be opened", "aacli web --print")
    assert record.joinpath("done").exists()
    assert signin_folder(configured).is_dir()
    assert list(signin_folder(configured).iterdir()) == []


def test_browser_list_and_percent_s_as_the_browser_convention(configured, tmp_path):
    """Issue 11 item 9: $BROWSER is a list (os.pathsep); %s is replaced by the page's path."""
    script, record = recording_browser(tmp_path)
    choice = os.pathsep.join(["/nonexistent/browser", f"{script} --new-window %s --flag"])
    result = configured.aacli("web", "dev/DEVELOPER", "--code", configured.code(), BROWSER=choice)
    assert result.returncode == 0, result.stderr
    argv = record.joinpath("argv").read_text().splitlines()
    assert argv[0] == "--new-window" and argv[2] == "--flag"
    assert Path(argv[1]).parent == signin_folder(configured)


def test_leftover_pages_are_swept_and_the_remover_removes(configured, tmp_path):
    """Issue 11 item 9: pages older than a few minutes go at the next `aacli web`; the detached
    remover deletes its page."""
    folder = signin_folder(configured)
    folder.mkdir(parents=True, mode=0o700)
    old = folder / f"{browser.PREFIX}left-over{browser.SUFFIX}"
    fresh = folder / f"{browser.PREFIX}just-now{browser.SUFFIX}"
    for page in (old, fresh):
        page.write_text("x")
    past = time.time() - browser.SWEEP_AFTER_SECONDS - 60
    os.utime(old, (past, past))
    script, _ = recording_browser(tmp_path)
    result = configured.aacli(
        "web", "dev/DEVELOPER", "--code", configured.code(), BROWSER=str(script)
    )
    assert result.returncode == 0, result.stderr
    assert not old.exists() and fresh.exists()
    browser.remove_later(fresh, seconds=0.3)
    deadline = time.monotonic() + 15
    while fresh.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not fresh.exists()


def test_redirect_page_keeps_any_url_inert():
    """Issue 11 item 9: the page carries the URL exactly, and no URL can break out of it."""
    nasty = "https://h/?a=1&b=</script><script>alert(1)</script>\"'\u2028x"
    page = browser.redirect_page(nasty)
    assert signin_url_in_page(page) == nasty
    assert page.count("<script>") == 1 and page.count("</script>") == 1
    assert json.loads(page.split("location.replace(", 1)[1].split(");</script>", 1)[0]) == nasty


def test_redirect_page_says_what_it_signs_in_to():
    """Issue 13: an Identity Center sign-in's page says so (not "the AWS console"), escaped."""
    page = browser.redirect_page("https://h/authorize?x=1", browser.IDENTITY_CENTER_TITLE)
    assert "<title>Signing in to IAM Identity Center</title>" in page
    assert "AWS console" not in page
    assert "<b>" not in browser.redirect_page("https://h/", "<b>x</b>")
    assert "<title>Signing in to the AWS console</title>" in browser.redirect_page("https://h/")


def test_tray_open_console_uses_the_private_page(configured, tmp_path, monkeypatch):
    """Issue 11 item 9: the tray's Open console hands the browser the page, not the URL."""
    from test_tray_menu import _tray

    from trayapp.tray.menu import Action

    script, record = recording_browser(tmp_path)
    monkeypatch.setenv("BROWSER", str(script))
    monkeypatch.setenv("AACLI_FEDERATION_URL", configured.sandbox.federation_url)
    tray = _tray(configured)
    tray.perform(Action("console", "acme/dev/DEVELOPER"))
    argv = record.joinpath("argv").read_text().splitlines()
    assert Path(argv[0]).parent == signin_folder(configured)
    url = signin_url_in_page(record.joinpath("page").read_text())
    assert fetch(url)[0] == 200


# Item 9: the sandbox's federation endpoint, as AWS: a token signs in once, within 15 minutes


def test_sandbox_sign_in_token_works_once(configured):
    """Issue 11 item 9: the second use of a sign-in token is refused."""
    result = configured.aacli("web", "dev/DEVELOPER", "--print", "--code", configured.code())
    assert result.returncode == 0, result.stderr
    url = result.stdout.strip()
    assert fetch(url)[0] == 200
    status, page = fetch(url)
    assert status == 400 and "Invalid or expired sign-in token" in page


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def federation_alone():
    """The sandbox's federation app on its own loopback server, with a clock the test moves."""
    from werkzeug.serving import make_server

    from trayapp.sandbox.federation import FederationApp
    from trayapp.sandbox.issued import ASSUME_ROLE, IssuedCredentials, IssuedLedger

    clock = _Clock()
    ledger = IssuedLedger()
    record = IssuedCredentials(
        access_key_id="ASIAFEDERATIONTEST01",
        secret_access_key="fed-secret",
        session_token="fed-token",
        expiration=clock.now + timedelta(hours=12),
        arn="arn:aws:sts::111111111111:assumed-role/DEVELOPER/tester",
        account_id="111111111111",
        user_name="tester",
        operation=ASSUME_ROLE,
        from_long_term_keys=True,
        mfa_authenticated=True,
    )
    ledger.add(record)
    server = make_server("127.0.0.1", 0, FederationApp(ledger, clock))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/federation"
    session = json.dumps(
        {"sessionId": record.access_key_id, "sessionKey": "fed-secret", "sessionToken": "fed-token"}
    )

    def new_token() -> str:
        form = urllib.parse.urlencode({"Action": "getSigninToken", "Session": session}).encode()
        status, body = fetch(base, form)  # a POST, as aacli sends it
        assert status == 200, body
        return json.loads(body)["SigninToken"]

    def login(token: str) -> int:
        query = urllib.parse.urlencode(
            {
                "Action": "login",
                "Issuer": console.ISSUER,
                "Destination": "https://console.aws.amazon.com/",
                "SigninToken": token,
            }
        )
        return fetch(f"{base}?{query}")[0]

    yield clock, new_token, login
    server.shutdown()


def test_sandbox_sign_in_token_expires_after_15_minutes(federation_alone):
    """Issue 11 item 9: a sign-in token is refused 15 minutes after its issue."""
    clock, new_token, login = federation_alone
    early = new_token()
    clock.now += timedelta(minutes=14, seconds=59)
    assert login(early) == 200
    late = new_token()
    clock.now += timedelta(minutes=15)
    assert login(late) == 400


# Item 10: where the session's keys may go, and how


LOOPBACK_OVERRIDES = (
    "http://127.0.0.1:9/federation",
    "http://127.5.6.7:9/federation",
    "http://[::1]:9/federation",
    "http://localhost:9/federation",
    "https://LOCALHOST/federation",
)
REMOTE_OVERRIDES = (
    "http://signin.example.com/federation",
    "https://signin.aws.amazon.com.evil.example/federation",
    "http://127.0.0.1.evil.example/federation",
    "http://user@evil.example/federation",
    "http://127.0.0.1@evil.example/federation",
    "http://10.0.0.1/federation",
    "ftp://127.0.0.1/federation",
    "http://[::1/federation",
)


def test_federation_override_only_for_loopback():
    """Issue 11 item 10: AACLI_FEDERATION_URL is obeyed for this machine's addresses (the
    sandbox) and refused in one sentence for anything else."""
    for url in LOOPBACK_OVERRIDES:
        assert console.federation_endpoint("aws", {"AACLI_FEDERATION_URL": url}) == url
    for url in REMOTE_OVERRIDES:
        with pytest.raises(ConsoleError, match="must point at this machine"):
            console.federation_endpoint("aws", {"AACLI_FEDERATION_URL": url})
    assert console.federation_endpoint("aws-cn", {}) == "https://signin.amazonaws.cn/federation"


def test_web_refuses_a_remote_federation_override(configured):
    """Issue 11 item 10: `aacli web` with a non-loopback override fails, sending nothing."""
    result = configured.aacli(
        "web",
        "dev/DEVELOPER",
        "--print",
        "--code",
        configured.code(),
        AACLI_FEDERATION_URL="http://signin.example.com/federation",
    )
    assert_one_line_error(result, "AACLI_FEDERATION_URL", "this machine")


class _Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str, str]]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        type(self).seen.append((self.command, self.path, body))
        payload = json.dumps({"SigninToken": "recorded-token"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


def test_sign_in_token_request_is_a_post_with_the_keys_in_the_body(configured):
    """Issue 11 item 10: getSigninToken is a POST; the secret key and token are never in the
    URL; the sandbox accepts the POST (the sign-in works)."""
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}/federation"
        result = configured.aacli(
            "web",
            "dev/DEVELOPER",
            "--print",
            "--code",
            configured.code(),
            AACLI_FEDERATION_URL=endpoint,
        )
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    [(method, path, body)] = _Recorder.seen
    assert method == "POST"
    assert path == "/federation"  # nothing in the query string
    form = urllib.parse.parse_qs(body)
    assert form["Action"] == ["getSigninToken"]
    session = json.loads(form["Session"][0])
    assert session["sessionKey"] in configured.credentials.read_text()
    # And through the sandbox: the POSTed session gives a sign-in it accepts.
    result = configured.aacli("web", "dev/DEVELOPER", "--print")
    assert result.returncode == 0, result.stderr
    assert fetch(result.stdout.strip())[0] == 200


@pytest.mark.parametrize(
    ("partition", "url"),
    [
        ("aws", "https://console.aws.amazon.com/"),
        ("aws", "https://eu-west-1.console.aws.amazon.com/s3/home?region=eu-west-1"),
        ("aws", "https://s3.console.aws.amazon.com/s3/buckets"),
        ("aws", "https://console.aws.amazon.com:443/ec2"),
        ("aws-cn", "https://console.amazonaws.cn/console/home"),
        ("aws-us-gov", "https://console.amazonaws-us-gov.com/console/home"),
    ],
)
def test_destination_on_the_partitions_console_is_accepted(partition, url):
    """Issue 11 item 10: the partition's console hosts are valid destinations."""
    assert console.check_destination(partition, url) == url


@pytest.mark.parametrize(
    ("partition", "url"),
    [
        ("aws", "http://console.aws.amazon.com/"),
        ("aws", "https://evil.example/"),
        ("aws", "https://console.aws.amazon.com.evil.example/"),
        ("aws", "https://evilconsole.aws.amazon.com/"),
        ("aws", "https://console.aws.amazon.com@evil.example/"),
        ("aws", "https://evil.example\\@console.aws.amazon.com/"),
        ("aws", "https://console.aws.amazon.com:8443/"),
        ("aws", "https://console.aws.amazon\t.com/"),
        ("aws", "javascript:alert(1)//console.aws.amazon.com"),
        ("aws", "https://console.amazonaws.cn/"),
        ("aws-cn", "https://console.aws.amazon.com/"),
    ],
)
def test_destination_elsewhere_is_refused(partition, url):
    """Issue 11 item 10: any other host (or scheme, port, user part) is refused."""
    with pytest.raises(ConsoleError, match="https page of the AWS console"):
        console.check_destination(partition, url)


def test_web_refuses_a_foreign_destination_before_asking_for_a_code(configured):
    """Issue 11 item 10: `--destination` off the console fails at once, before any code."""
    result = configured.aacli(
        "web", "dev/DEVELOPER", "--print", "--destination", "https://evil.example/phish"
    )
    assert_one_line_error(result, "https page of the AWS console")
    assert not configured.credentials.exists()


def test_issuer_is_an_https_url(configured):
    """Issue 11 item 10: the login URL names aacli's issuer as an https URL."""
    result = configured.aacli("web", "dev/DEVELOPER", "--print", "--code", configured.code())
    assert result.returncode == 0, result.stderr
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(result.stdout.strip()).query)
    [issuer] = query["Issuer"]
    assert urllib.parse.urlsplit(issuer).scheme == "https" and "aacli" in issuer
    assert fetch(result.stdout.strip())[0] == 200
    assert configured.sandbox.console_signins[-1].issuer == issuer
