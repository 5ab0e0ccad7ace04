"""The local credential server (issue 16): SDKs through `exec --server`, `serve`, the refusals."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import PASSPHRASE, ROOT, assert_one_line_error, aws_cli_v2, need_tool

JS_DIR = ROOT / "tests" / "js"
NO_TERMINAL = {"DISPLAY": "", "WAYLAND_DISPLAY": ""}  # no dialog; stdin is a pipe
TARGET = "acme/dev/DEVELOPER"

# A child that calls GetCallerIdentity with boto3 and says what it was given.
BOTO3_CALLER = """
import json, os, boto3
sts = boto3.client("sts", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
print(json.dumps({
    "arn": sts.get_caller_identity()["Arn"],
    "env": {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "AACLI_"))},
}))
"""

# A long-running boto3 client: one client, a call every 5 s across the credentials' expiry.
BOTO3_LONG_RUNNING = """
import json, os, sys, time, boto3
session = boto3.session.Session()
sts = session.client("sts", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
deadline = time.monotonic() + float(sys.argv[1])
calls = []
while time.monotonic() < deadline:
    arn = sts.get_caller_identity()["Arn"]
    calls.append([arn, session.get_credentials().get_frozen_credentials().access_key])
    time.sleep(5)
print(json.dumps(calls))
"""


@pytest.fixture
def seeded(configured):
    """``configured`` with the hub's TOTP seed stored: renewals need nobody to type a code."""
    seed = configured.hub.mfa_seed
    result = configured.aacli("config", "totp", "acme", "--seed-from-stdin", input=seed + "\n")
    assert result.returncode == 0, result.stderr
    return configured


def _aws_files(env) -> dict[str, bytes | None]:
    """Every file under the AWS folders the test points at, and ~/.aws."""
    found: dict[str, bytes | None] = {}
    for folder in {env.credentials.parent, env.aws_config.parent, Path(env.vars["HOME"]) / ".aws"}:
        for path in sorted(folder.rglob("*")) if folder.exists() else []:
            found[str(path)] = path.read_bytes() if path.is_file() else None
    return found


def _exec_server(env, *command: str, timeout: float = 120, code: str | None = None, **extra: str):
    given = ["--code", code] if code else []
    return env.aacli(
        "exec",
        "--server",
        "dev/DEVELOPER",
        *given,
        "--",
        *command,
        timeout=timeout,
        **NO_TERMINAL,
        **extra,
    )


def _assert_no_session_written(env, before: dict[str, bytes | None]) -> None:
    assert _aws_files(env) == before
    assert not env.credentials.exists()
    status = env.aacli("status", "--json")
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert (data["sessions"] if isinstance(data, dict) else data) == []  # no session in the ledger


def test_boto3_gets_the_role_through_exec_server_and_no_keys(seeded):
    """Issue 16 must-show 1 and 2: boto3 calls GetCallerIdentity through `exec --server` and
    gets the assumed role; its env has the two variables and the region, no AWS key variables,
    no AWS_PROFILE, no aacli secret; nothing is written to ~/.aws, the ledger has no session."""
    before = _aws_files(seeded)
    result = _exec_server(
        seeded,
        sys.executable,
        "-c",
        BOTO3_CALLER,
        AWS_ACCESS_KEY_ID="AKIAPARENTKEY0000000",
        AWS_SECRET_ACCESS_KEY="parent-secret",
        AWS_SESSION_TOKEN="parent-token",
        AWS_PROFILE="someone-else",
        AACLI_NEW_PASSPHRASE="another-secret",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert ":assumed-role/DEVELOPER/" in data["arn"]
    assert ":111111111111:" in data["arn"]
    env = data["env"]
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        assert name not in env
    assert not [k for k in env if k.startswith("AACLI_") and "PASSPHRASE" in k]
    assert PASSPHRASE not in json.dumps(env) and "another-secret" not in json.dumps(env)
    assert env["AWS_CONTAINER_CREDENTIALS_FULL_URI"].startswith("http://127.0.0.1:")
    assert env["AWS_CONTAINER_CREDENTIALS_FULL_URI"].endswith("/role/" + TARGET)
    assert len(env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]) >= 43  # 256 bits, url-safe base64
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    _assert_no_session_written(seeded, before)


@pytest.mark.awscli
def test_aws_cli_gets_the_role_through_exec_server(seeded):
    """Issue 16 must-show 1: the AWS CLI v2 calls GetCallerIdentity through `exec --server`."""
    aws = aws_cli_v2()
    before = _aws_files(seeded)
    result = _exec_server(
        seeded,
        aws,
        "sts",
        "get-caller-identity",
        "--output",
        "json",
        "--endpoint-url",
        seeded.sandbox.endpoint_url,
    )
    assert result.returncode == 0, result.stderr
    assert ":assumed-role/DEVELOPER/" in json.loads(result.stdout)["Arn"]
    _assert_no_session_written(seeded, before)


def _node_with_sdk() -> str:
    node = subprocess.run(["sh", "-c", "command -v node"], capture_output=True, text=True)
    if node.returncode != 0:
        need_tool("node is not installed")
    if not (JS_DIR / "node_modules" / "@aws-sdk" / "client-sts").is_dir():
        need_tool("the JS SDK is not installed: run 'make js-deps' (npm ci in tests/js)")
    return node.stdout.strip()


def test_js_sdk_v3_gets_the_role_through_exec_server(seeded):
    """Issue 16 must-show 1: the JavaScript SDK v3 (@aws-sdk/client-sts, run with node) calls
    GetCallerIdentity through `exec --server` and gets the assumed role."""
    node = _node_with_sdk()
    before = _aws_files(seeded)
    result = _exec_server(seeded, node, str(JS_DIR / "caller.mjs"))
    assert result.returncode == 0, result.stderr
    assert ":assumed-role/DEVELOPER/" in result.stdout.strip()
    _assert_no_session_written(seeded, before)


@pytest.mark.slow
def test_a_long_running_boto3_client_keeps_working_across_renewals(seeded):
    """Issue 16 must-show 1: with credentials that expire after 2 minutes, one boto3 client
    keeps calling through `exec --server` for 85 s, past the renewal at half-life: the server
    renewed before expiry (new keys, every call answered), and nothing was written to ~/.aws
    nor to the ledger."""
    sandbox = seeded.sandbox
    sandbox.credential_lifetime = 120
    try:
        before = _aws_files(seeded)
        assumed_before = _assume_role_calls(seeded)
        result = _exec_server(seeded, sys.executable, "-c", BOTO3_LONG_RUNNING, "85", timeout=180)
    finally:
        sandbox.credential_lifetime = None
    assert result.returncode == 0, result.stderr
    calls = json.loads(result.stdout)
    assert len(calls) >= 14
    assert all(":assumed-role/DEVELOPER/" in arn for arn, _ in calls)
    keys = list(dict.fromkeys(key for _, key in calls))
    assert len(keys) >= 2, "the client never got renewed credentials"
    # Renewed at half-life (60 s of 120 s) in the background: 85 s need one (or two).
    assert 2 <= _assume_role_calls(seeded) - assumed_before <= 3  # the first, then renewals
    _assert_no_session_written(seeded, before)


def _assume_role_calls(env) -> int:
    return sum(
        1
        for r in env.sandbox.sts_requests
        if r.action == "AssumeRole" and r.serial == env.hub.mfa_serial
    )


def test_exec_server_passes_the_exit_code_and_signals_through(seeded):
    """Issue 16: `exec --server` returns the command's exit code; a SIGTERM sent to aacli
    reaches the command (which says so and exits 3) and the server stops with it."""
    assert _exec_server(seeded, "sh", "-c", "exit 7").returncode == 7
    next_code = seeded.next_code()  # the seed's code of this window is spent
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "trayapp.cli.main",
            "exec",
            "--server",
            "dev/DEVELOPER",
            "--code",
            next_code,
            "--",
            "sh",
            "-c",
            "trap 'echo got-term; exit 3' TERM; echo ready; while :; do sleep 0.1; done",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=seeded.environ(**NO_TERMINAL),
        cwd=seeded.root,
        start_new_session=True,
    )
    try:
        out = Lines(child.stdout)
        assert out.next(60) == "ready"
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=30) == 3
        assert out.next(10) == "got-term"
    finally:
        with contextlib.suppress(OSError):  # the command too, whatever happened
            os.killpg(child.pid, signal.SIGKILL)


def test_exec_server_warns_when_a_default_profile_would_shadow_the_server(seeded):
    """Issue 16: SDKs read the shared files before the container endpoint, so a [default]
    profile with keys would be used instead of the server: `exec --server` says so (and runs)."""
    seeded.credentials.parent.mkdir(mode=0o700, exist_ok=True)
    seeded.credentials.write_text(
        "[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = x\n"
    )
    result = _exec_server(seeded, "true")
    assert result.returncode == 0, result.stderr
    assert f"warning: {seeded.credentials} has a [default] profile" in result.stderr
    seeded.credentials.write_text("[other]\naws_access_key_id = AKIAEXAMPLE\n")
    result = _exec_server(seeded, "true", code=seeded.next_code())  # no wait for a window
    assert result.returncode == 0 and "warning" not in result.stderr, result.stderr


def test_exec_server_errors_are_one_line(seeded):
    """Issue 16: `exec --server` with an unknown command or target says so in one line."""
    assert_one_line_error(_exec_server(seeded, "no-such-program-xyz"), "command not found")
    result = seeded.aacli("exec", "--server", "nope/NONE", "--", "true", **NO_TERMINAL)
    assert_one_line_error(result)


# `aacli serve` as a real process: its output, its socket, and what it refuses.


class Lines:
    """The lines a child writes to one pipe, read on a thread (a timeout per line)."""

    def __init__(self, stream) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))

    def next(self, seconds: float) -> str:
        try:
            return self._queue.get(timeout=seconds)
        except queue.Empty:
            raise AssertionError(f"no line in {seconds} s") from None

    def rest(self) -> str:
        lines = []
        while not self._queue.empty():
            lines.append(self._queue.get())
        return "\n".join(lines)


@pytest.fixture
def serving(configured):
    """`aacli serve dev/DEVELOPER --code …` running, with the variables it printed (read
    back through sh, as a user's eval would)."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "trayapp.cli.main",
            "serve",
            "dev/DEVELOPER",
            "--code",
            configured.code(),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=configured.environ(**NO_TERMINAL),
        cwd=configured.root,
    )
    try:
        out, err = Lines(child.stdout), Lines(child.stderr)
        printed = "\n".join(out.next(60) for _ in range(3))
        assert "Serving acme/dev/DEVELOPER on 127.0.0.1:" in err.next(10)
        shell = subprocess.run(
            [
                "sh",
                "-c",
                printed + '\nprintf "%s\\n%s\\n" "$AWS_CONTAINER_CREDENTIALS_FULL_URI"'
                ' "$AWS_CONTAINER_AUTHORIZATION_TOKEN"',
            ],
            capture_output=True,
            text=True,
            timeout=10,
            env={"PATH": "/usr/bin:/bin"},
        )
        assert shell.returncode == 0, shell.stderr
        url, token = shell.stdout.splitlines()
        yield child, url, token, err
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


def _get(url: str, headers: dict[str, str], path: str | None = None):
    rest = url.removeprefix("http://")
    host_port, _, url_path = rest.partition("/")
    host, _, port = host_port.partition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("GET", path or "/" + url_path, skip_host=True)
    for name, value in {"Host": host_port, **headers}.items():
        if value is not None:
            connection.putheader(name, value)
    connection.endheaders()
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()
    return response.status, body


def test_serve_prints_sh_variables_and_refuses_what_it_must(serving):
    """Issue 16 must-show 2: `aacli serve` output parses in sh; no token -> 401, a wrong token
    -> 403, a foreign Host -> refused, an Origin header -> refused, an unknown role -> 404, each
    with the one error JSON {code, message} and no secret (an oversized request too); the
    right token -> credentials."""
    _, url, token, _ = serving
    assert url.startswith("http://127.0.0.1:") and url.endswith("/role/" + TARGET)
    status, body = _get(url, {"Authorization": token})
    assert status == 200, body
    assert set(body) == {"AccessKeyId", "SecretAccessKey", "Token", "Expiration", "RoleArn"}
    assert body["AccessKeyId"].startswith("ASIA")
    assert body["RoleArn"] == "arn:aws:iam::111111111111:role/DEVELOPER"
    secrets = (token, body["SecretAccessKey"], body["Token"], body["AccessKeyId"])
    port = url.split(":")[2].split("/")[0]
    refused = [
        (401, {}),
        (403, {"Authorization": token[:-1] + ("A" if token[-1] != "A" else "B")}),
        (403, {"Authorization": token, "Host": "evil.example:" + port}),
        (403, {"Authorization": token, "Host": "127.0.0.1.nip.io:" + port}),
        (403, {"Authorization": token, "Origin": "http://127.0.0.1:" + port}),
        (403, {"Authorization": token, "Origin": "null"}),
        (403, {"Authorization": token, "Sec-Fetch-Site": "cross-site"}),  # any browser
        (431, {"Authorization": token, "X-Padding": "a" * 20_000}),  # bounded request
    ]
    for expected, headers in refused:
        status, body = _get(url, headers)
        assert status == expected, (headers, body)
        assert set(body) == {"code", "message"}
        assert not any(secret in json.dumps(body) for secret in secrets)
    status, body = _get(url, {"Authorization": token}, path="/role/acme/prod/ReadOnly")
    assert status == 403 and set(body) == {"code", "message"}  # the token gets its role only
    # And the role is still served: a refusal changes nothing.
    assert _get(url, {"Authorization": token})[0] == 200


def test_serve_listens_on_127_0_0_1_only_and_stops_cleanly_on_ctrl_c(serving):
    """Issue 16 must-show 2: the listening socket is 127.0.0.1 only (read from /proc/net/tcp
    and tcp6), and Ctrl-C stops `aacli serve` cleanly (exit 0, port closed, no traceback)."""
    child, url, _, err = serving
    port = int(url.split(":")[2].split("/")[0])
    assert _listeners(port) == ["127.0.0.1"]
    child.send_signal(signal.SIGINT)
    assert child.wait(timeout=15) == 0
    said = err.next(5) + "\n" + err.rest()
    assert "Traceback" not in said and "Stopped serving acme/dev/DEVELOPER" in said
    assert _listeners(port) == []


def _listeners(port: int) -> list[str]:
    """The local addresses listening on ``port`` (TCP state 0A), IPv4 and IPv6."""
    import ipaddress

    found = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, _, hex_port = fields[1].partition(":")
            if int(hex_port, 16) != port or fields[3] != "0A":
                continue
            raw = bytes.fromhex(address)
            # The kernel prints each 32-bit word in host (little-endian) order.
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, width // 2, 4))
            found.append(str(ipaddress.ip_address(raw)))
    return found


@pytest.mark.slow
def test_serve_asks_for_the_code_on_its_terminal_when_a_renewal_needs_one(configured):
    """Issue 16: `aacli serve` on a terminal, without a stored seed, asks there for the MFA
    code of a renewal (credentials of 20 s: renewed at half-life, before any client waits),
    and then serves the renewed credentials."""
    import pty

    sandbox = configured.sandbox
    sandbox.credential_lifetime = 20
    main, secondary = pty.openpty()
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "trayapp.cli.main",
            "serve",
            "dev/DEVELOPER",
            "--format",
            "json",
            "--code",
            configured.code(),
        ],
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=secondary,
        text=True,
        env=configured.environ(**NO_TERMINAL),
        cwd=configured.root,
    )
    os.close(secondary)
    try:
        out = Lines(child.stdout)
        variables = json.loads("\n".join(out.next(60) for _ in range(4)))
        url, token = variables.values()
        first = _get(url, {"Authorization": token})[1]["AccessKeyId"]
        said = _read_until(main, "MFA code for acme/dev/DEVELOPER", 40)
        assert "Serving acme/dev/DEVELOPER on 127.0.0.1:" in said
        typed = configured.next_code()
        os.write(main, (typed + "\n").encode())
        deadline = time.monotonic() + 20
        while (renewed := _get(url, {"Authorization": token})[1]["AccessKeyId"]) == first:
            assert time.monotonic() < deadline, "the typed code did not renew the role"
            time.sleep(0.5)
        assert renewed.startswith("ASIA")
        assert [
            r.token_code
            for r in sandbox.sts_requests
            if r.serial == configured.hub.mfa_serial and r.action == "AssumeRole"
        ][-1] == typed
    finally:
        sandbox.credential_lifetime = None
        child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
        os.close(main)


def _read_until(fd: int, text: str, seconds: float) -> str:
    """What the child wrote to its terminal until ``text`` appeared."""
    import select

    seen = b""
    deadline = time.monotonic() + seconds
    while text.encode() not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"{text!r} not asked in {seconds} s; got {seen!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            seen += os.read(fd, 4096)
    return seen.decode(errors="replace")


def test_serve_refuses_a_busy_port_in_one_line(serving, configured):
    """Issue 16: `aacli serve --port N` on a port in use says so in one line."""
    _, url, _, _ = serving
    port = url.split(":")[2].split("/")[0]
    result = configured.aacli("serve", "dev/DEVELOPER", "--port", port, **NO_TERMINAL)
    assert_one_line_error(result, f"cannot listen on 127.0.0.1:{port}")


# The Renewer and the server in this process, against the sandbox through a real Service.


def _service(env):
    from trayapp.core.service import service_from_env

    return service_from_env(lambda app: PASSPHRASE, env=env.environ())


def test_one_renewal_per_role_at_a_time_and_errors_become_503(seeded):
    """Issue 16: many clients asking at once cause one AssumeRole; credentials are then served
    from memory; a failed renewal is a 503 error JSON with the sentence, and the server stays
    up and serves once STS answers again."""
    from trayapp.core.codes import LazyCode
    from trayapp.core.server import CredentialServer, Renewer

    service = _service(seeded)
    source = service.stored_code_source(service.resolve(TARGET).profile)
    renewer = Renewer(service, lambda target: LazyCode(lambda: source))
    seeded.sandbox.faults.next("503", count=3, action="AssumeRole")  # every retry of the first
    with CredentialServer(renewer.fetch) as server:
        url, token = server.url(TARGET), server.token
        status, body = _get(url, {"Authorization": token})
        assert status == 503, body
        assert set(body) == {"code", "message"} and "unavailable" in body["message"].lower()
        seeded.sandbox.faults.clear()
        before = _assume_role_calls(seeded)
        answers: list[tuple[int, dict]] = []
        threads = [
            threading.Thread(target=lambda: answers.append(_get(url, {"Authorization": token})))
            for _ in range(6)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert [status for status, _ in answers] == [200] * 6
        assert len({body["AccessKeyId"] for _, body in answers}) == 1
        assert _assume_role_calls(seeded) - before == 1


class SlowTypist:
    """A code source like a dialog the user takes a while to answer: it waits for ``typed``."""

    name = "slow typist"
    can_retry = True

    def __init__(self, code: str) -> None:
        self.code, self.typed, self.asked = code, threading.Event(), []

    def get_code(self, request) -> str:
        self.asked.append(request.target)
        assert self.typed.wait(60)
        return self.code


def test_a_client_waits_a_bounded_time_behind_one_prompt_per_role(seeded):
    """Issue 16: while a renewal waits for its code (a dialog), clients wait at most the
    server's wait_seconds and get the RenewalPending error JSON; however many ask, the code is
    asked for once; once it is typed, they get the credentials."""
    from trayapp.core.server import CredentialServer, Renewer

    typist = SlowTypist(seeded.code())
    renewer = Renewer(_service(seeded), lambda target: typist)
    with CredentialServer(renewer.fetch, wait_seconds=1.0) as server:
        url, token = server.url(TARGET), server.token
        started = time.monotonic()
        answers: list[tuple[int, dict]] = []
        threads = [
            threading.Thread(target=lambda: answers.append(_get(url, {"Authorization": token})))
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert time.monotonic() - started < 10
        assert [(status, body["code"]) for status, body in answers] == [(503, "RenewalPending")] * 4
        assert typist.asked == [TARGET]  # one prompt, not one per client
        typist.typed.set()
        deadline = time.monotonic() + 30
        while (answer := _get(url, {"Authorization": token}))[0] != 200:
            assert time.monotonic() < deadline, answer
            time.sleep(0.2)
        assert typist.asked == [TARGET]


def test_each_start_has_its_own_256_bit_token():
    """Issue 16: a token per server start, 256 bits (43 url-safe characters)."""
    from trayapp.core.server import CredentialServer

    tokens = set()
    for _ in range(3):
        with CredentialServer(lambda label: None) as server:  # type: ignore[arg-type, return-value]
            tokens.add(server.token)
    assert len(tokens) == 3
    assert all(len(token) == 43 and token.isascii() for token in tokens)


def test_credentials_with_15_minutes_left_or_less_are_renewed_before_handing_out(seeded):
    """Issue 16: the server hands out credentials with more than 15 minutes left where the
    role allows (a 2 h role: renewed once 15 min are left, not before); short-lived ones are
    renewed at half-life."""
    from datetime import timedelta

    from trayapp.core.codes import FixedCode
    from trayapp.core.model import Credentials
    from trayapp.core.server import RENEW_BEFORE, Renewer, renew_margin

    assert timedelta(minutes=15) == RENEW_BEFORE

    service = _service(seeded)
    codes = [seeded.code(), seeded.next_code()]
    offset = [timedelta(0)]
    renewer = Renewer(
        service,
        lambda target: FixedCode(codes.pop(0)),
        clock=lambda: service.deps.clock() + offset[0],
    )
    first = renewer.fetch(TARGET)
    left = first.expiration - service.deps.clock()
    assert timedelta(hours=1, minutes=59) < left <= timedelta(hours=2)
    offset[0] = left - timedelta(minutes=16)  # 16 min left: still handed out
    assert renewer.fetch(TARGET) == first
    offset[0] = left - timedelta(minutes=14)  # 14 min left: renewed first
    second = renewer.fetch(TARGET)
    assert second.access_key_id != first.access_key_id
    assert second.expiration - service.deps.clock() > timedelta(hours=1, minutes=59)
    assert codes == []

    start = service.deps.clock()
    two_minutes = Credentials("ASIA", "s", "t", start + timedelta(minutes=2))
    assert renew_margin(two_minutes, start) == timedelta(minutes=1)


def test_a_failed_renewal_keeps_the_held_credentials_and_is_not_retried_by_every_poll(seeded):
    """Issue 16: when a renewal fails (STS unavailable) while the held credentials still have
    time left, clients keep getting them and no client's poll retries the renewal for the next
    60 s (a cancelled prompt is not reopened by each SDK call); once they are too close to
    expiry the failure is the error; when STS answers again the role is renewed."""
    from datetime import timedelta

    from trayapp.core.codes import FixedCode
    from trayapp.core.errors import AacliError
    from trayapp.core.server import RETRY_AFTER, Renewer

    service = _service(seeded)
    codes = [seeded.code()]
    offset = [timedelta(0)]
    renewer = Renewer(
        service,
        lambda target: FixedCode(codes.pop(0) if codes else seeded.next_code()),
        clock=lambda: service.deps.clock() + offset[0],
        retry_after=RETRY_AFTER,
    )
    first = renewer.fetch(TARGET)
    left = first.expiration - service.deps.clock()
    faults = seeded.sandbox.faults
    faults.next("503", count=50, action="AssumeRole")
    offset[0] = left - timedelta(minutes=14)  # due: the renewal fails, the held ones go out
    assert renewer.fetch(TARGET) == first
    tried = len(faults.applied)
    assert tried >= 1
    offset[0] += timedelta(seconds=RETRY_AFTER - 5)  # cooling down: no new try
    assert renewer.fetch(TARGET) == first
    assert len(faults.applied) == tried
    offset[0] = left - timedelta(minutes=1)  # too close to expiry: the failure is the answer
    with pytest.raises(AacliError, match=r"(?i)unavailable"):
        renewer.fetch(TARGET)
    faults.clear()
    offset[0] += timedelta(seconds=RETRY_AFTER + 1)
    renewed = renewer.fetch(TARGET)
    assert renewed.access_key_id != first.access_key_id


def test_env_server_without_a_tray_is_one_clear_line(configured):
    """Issue 16: `aacli env --server` with no tray serving says what to do, in one line."""
    result = configured.aacli("env", "--server", "dev/DEVELOPER", **NO_TERMINAL)
    assert_one_line_error(result, "no tray is serving credentials", "aacli serve")


def test_env_server_gives_the_trays_server_variables_that_boto3_uses(seeded):
    """Issue 16: `aacli env --server` asks the tray over its socket (core/tray_socket) and
    prints the tray server's variables; eval'd in sh they give boto3 the role, with no keys.
    The tray's refusal (serving switched off) is its one-line sentence."""
    from trayapp.core.codes import LazyCode
    from trayapp.core.errors import UsageError
    from trayapp.core.paths import AppPaths
    from trayapp.core.server import CredentialServer, Renewer
    from trayapp.core.tray_socket import TraySocket

    service = _service(seeded)
    source = service.stored_code_source(service.resolve(TARGET).profile)
    server = CredentialServer(Renewer(service, lambda t: LazyCode(lambda: source)).fetch)
    serving = [True]

    def handler(request: dict[str, str]) -> dict[str, str]:
        assert request == {"op": "server-env", "target": TARGET}
        if not serving[0]:
            raise UsageError("The tray does not serve credentials: turn it on in Settings.")
        return server.env(request["target"])

    tray = TraySocket(AppPaths.from_env(seeded.vars).tray_socket_file, handler).serve()
    try:
        with server:
            result = seeded.aacli("env", "--server", "dev/DEVELOPER", **NO_TERMINAL)
            assert result.returncode == 0, result.stderr
            assert "AWS_SECRET_ACCESS_KEY" not in result.stdout
            assert server.token_for(TARGET) in result.stdout
            env = seeded.environ()
            env.pop("AWS_SHARED_CREDENTIALS_FILE")
            shell = subprocess.run(
                ["sh", "-c", result.stdout + '\nexec "$0" -c "$1"', sys.executable, BOTO3_CALLER],
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
            )
            assert shell.returncode == 0, shell.stderr
            assert ":assumed-role/DEVELOPER/" in json.loads(shell.stdout)["arn"]
            serving[0] = False
            result = seeded.aacli("env", "--server", "dev/DEVELOPER", **NO_TERMINAL)
            assert_one_line_error(result, "The tray does not serve credentials")
    finally:
        tray.stop()


def test_help_teaches_serve_and_the_server_options(env):
    """Issue 16: `serve`, `exec --server` and `env --server` are in --help with examples."""
    assert "serve" in env.aacli("--help").stdout
    serve = env.aacli("serve", "--help").stdout
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" in serve and "aacli serve dev/DEVELOPER" in serve
    assert "--server" in env.aacli("exec", "--help").stdout
    assert "--server" in env.aacli("env", "--help").stdout
