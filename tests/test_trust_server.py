"""Issue 16 held to issue 11's standard: the credential server and the tray's Unix socket
attacked as a second local user (uid 4242, through setpriv) and by what a web page can send."""

from __future__ import annotations

import json
import os
import queue
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from conftest import ATTACKER_UID, as_attacker

from trayapp.core.paths import AppPaths

TOKEN_VARIABLE = "AWS_CONTAINER_AUTHORIZATION_TOKEN"
URI_VARIABLE = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
NO_TERMINAL = {"DISPLAY": "", "WAYLAND_DISPLAY": ""}

# Run as the attacker: GET the URL once per header set, print [[status, body], ...].
PROBE = """
import http.client, json, sys
url, cases = sys.argv[1], json.loads(sys.argv[2])
host_port, _, path = url.removeprefix("http://").partition("/")
host, _, port = host_port.partition(":")
out = []
for headers in cases:
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    c.putrequest("GET", "/" + path, skip_host=True)
    for name, value in {"Host": host_port, **headers}.items():
        c.putheader(name, value)
    c.endheaders()
    r = c.getresponse()
    out.append([r.status, r.read().decode()])
    c.close()
print(json.dumps(out))
"""


class Lines:
    """A child's output, line by line, with a bounded wait."""

    def __init__(self, stream) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put(None)

    def next(self, timeout: float = 60) -> str:
        line = self._queue.get(timeout=timeout)
        assert line is not None, "the child ended: " + "".join(self.seen) + self.other()
        self.seen.append(line)
        return line.rstrip("\n")

    other = staticmethod(lambda: "")

    def rest(self, timeout: float = 15) -> str:
        while (line := self._queue.get(timeout=timeout)) is not None:
            self.seen.append(line)
        return "".join(self.seen)


def start_serve(
    env, *options: str, code: str | None = None
) -> tuple[subprocess.Popen[str], dict[str, str], Lines]:
    """`aacli [options] serve dev/DEVELOPER --code …`; its printed variables and its stderr."""
    argv = ["serve", "dev/DEVELOPER", "--code", code or env.code()]
    child = subprocess.Popen(
        [sys.executable, "-m", "trayapp.cli.main", *options, *argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env.environ(**NO_TERMINAL),
        cwd=env.root,
    )
    out, err = Lines(child.stdout), Lines(child.stderr)
    out.other = lambda: err.rest()  # type: ignore[method-assign]
    variables: dict[str, str] = {}
    for _ in range(3):
        words = shlex.split(out.next())
        if words[0] == "export":
            name, _, value = words[1].partition("=")
            variables[name] = value
    assert set(variables) == {URI_VARIABLE, TOKEN_VARIABLE}
    return child, variables, err


def stop(child: subprocess.Popen[str]) -> None:
    if child.poll() is None:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def processes_holding(secret: str) -> dict[str, list[str]]:
    """Every process whose argv or environment holds ``secret`` (we are root: we see all)."""
    needle = secret.encode()
    found: dict[str, list[str]] = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        for part in ("cmdline", "environ"):
            try:
                data = Path(f"/proc/{pid}/{part}").read_bytes()
            except OSError:
                continue
            if needle in data:
                found.setdefault(pid, []).append(part)
    return found


def probe_as_attacker(url: str, cases: list[dict[str, str]]) -> list[tuple[int, str]]:
    argv = ["/usr/bin/python3", "-I", "-c", PROBE, url, json.dumps(cases)]
    return [tuple(item) for item in json.loads(as_attacker(argv, cwd="/", timeout=60).stdout)]


# The credential server


def test_another_user_on_loopback_gets_nothing_without_this_starts_token(configured, attacker_uid):
    """Issue 16 trust (credential server): another local user on 127.0.0.1 gets no credentials
    without the token, with a guessed one, a prefix of it, or the token of an earlier start
    (401/403); with the right token a browser-like request (Origin, Sec-Fetch-Site, a foreign
    Host) is refused too. No answer, and nothing aacli logs (--debug), shows a token or a key;
    no process has the token in its argv or environment."""
    first, old, _ = start_serve(configured)
    stop(first)
    try:
        child, variables, err = start_serve(configured, "--debug", code=configured.next_code())
    except AssertionError as exc:  # the 30 s window turned meanwhile: the next one is fresh
        assert "already used" in str(exc), exc
        time.sleep(31 - time.time() % 30)
        child, variables, err = start_serve(configured, "--debug")
    try:
        url, token = variables[URI_VARIABLE], variables[TOKEN_VARIABLE]
        assert token != old[TOKEN_VARIABLE] and len(token) >= 43  # 256 bits, new per start
        guessed = secrets.token_urlsafe(32)
        port = url.split(":")[2].split("/")[0]
        refused = [
            {},
            {"Authorization": ""},
            {"Authorization": guessed},
            {"Authorization": token[:20]},
            {"Authorization": old[TOKEN_VARIABLE]},
            {"Authorization": "Bearer " + token},
            {"Authorization": token, "Origin": "http://127.0.0.1:" + port},
            {"Authorization": token, "Sec-Fetch-Site": "same-origin"},
            {"Authorization": token, "Host": "attacker.example:" + port},
            {"Authorization": token, "Host": "localhost.attacker.example"},
        ]
        answers = probe_as_attacker(url, refused)
        for headers, (status, body) in zip(refused, answers, strict=True):
            assert status in (401, 403), (headers, status, body)
            assert set(json.loads(body)) == {"code", "message"}
            for secret in (token, old[TOKEN_VARIABLE], guessed, token[:20]):
                assert secret not in body
        granted = probe_as_attacker(url, [{"Authorization": token}])  # only with the token
        assert granted[0][0] == 200
        key = json.loads(granted[0][1])
        assert processes_holding(token) == {}
    finally:
        stop(child)
    said = err.rest()
    assert "Traceback" not in said
    for secret in (token, old[TOKEN_VARIABLE], guessed, key["SecretAccessKey"], key["Token"]):
        assert secret not in said


EXEC_CHILD = """
import json, os
token = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
holders = {}
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    for part in ("cmdline", "environ"):
        try:
            data = open(f"/proc/{pid}/{part}", "rb").read()
        except OSError:
            continue
        if token.encode() in data:
            holders.setdefault(pid, []).append(part)
parent = open(f"/proc/{os.getppid()}/environ", "rb").read().decode(errors="replace")
print(json.dumps({"me": str(os.getpid()), "holders": holders, "parent_env": parent}))
"""


def test_exec_server_gives_the_token_to_the_command_only(configured):
    """Issue 16 trust (credential server): under `aacli exec --server`, the token is in the
    command's environment (its SDKs need it) and in no other process's argv or environment,
    aacli's own included (/proc/<pid>/environ), and never on a command line."""
    result = configured.aacli(
        "exec",
        "--server",
        "dev/DEVELOPER",
        "--code",
        configured.code(),
        "--",
        sys.executable,
        "-c",
        EXEC_CHILD,
        timeout=120,
        **NO_TERMINAL,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["holders"] == {seen["me"]: ["environ"]}
    assert "AWS_CONTAINER" not in seen["parent_env"]


# The tray's Unix socket

ATTACKER_TRAY = """
import json, os, socket, sys
path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX)
s.bind(path)
os.chmod(path, 0o777)
s.listen(8)
print("listening", flush=True)
while True:
    conn, _ = s.accept()
    with open(log, "a") as f:
        f.write("connected\\n")
    conn.sendall(json.dumps({"Version": 1, "AccessKeyId": "ASIAATTACKERSFAKEKEY",
        "SecretAccessKey": "x", "SessionToken": "y",
        "Expiration": "2099-01-01T00:00:00Z",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/role/x",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "attacker"}).encode())
    conn.close()
"""


@pytest.fixture
def attacker_tray(attacker_uid):
    """Another user's socket, listening in their own folder in /tmp; (socket, its log)."""
    folder = Path(tempfile.mkdtemp(prefix="aacli-attacker-", dir="/tmp"))
    try:
        os.chown(folder, attacker_uid, -1)
    except BaseException:
        folder.rmdir()
        raise
    folder.chmod(0o755)
    path, log = folder / "tray.sock", folder / "log"
    setpriv = ["setpriv", f"--reuid={ATTACKER_UID}", "--regid=65534", "--clear-groups"]
    child = subprocess.Popen(
        [*setpriv, "/usr/bin/python3", "-I", "-c", ATTACKER_TRAY, str(path), str(log)],
        stdout=subprocess.PIPE,
        text=True,
        cwd="/",
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "listening"
        yield path, log
    finally:
        child.kill()
        child.wait()
        subprocess.run(["rm", "-rf", str(folder)], check=False)


def plant(planted: str, socket_file: Path, theirs: Path) -> None:
    """Put another user's socket where the tray's goes: a symlink to it, or the socket itself
    (moved in; it keeps its owner and still listens)."""
    socket_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if planted == "symlink":
        socket_file.symlink_to(theirs)
    elif planted == "fifo":
        os.mkfifo(socket_file, 0o600)
    elif planted == "regular-file":
        socket_file.write_text('{"Version": 1, "AccessKeyId": "ASIAATTACKERSFAKEKEY"}')
    else:
        os.rename(theirs, socket_file)


@pytest.mark.parametrize("planted", ["symlink", "their-socket", "fifo", "regular-file"])
def test_a_socket_another_user_planted_is_never_asked(configured, attacker_tray, planted):
    """Issue 16 trust (tray socket): a symlink to another user's socket, their socket itself,
    a FIFO or a plain file where the tray's socket goes: `credential-process --server` does
    not connect to it or wait on it and falls back to the usual path (real credentials), and
    `env --server` says no tray runs; the other user's socket never sees a connection."""
    theirs, log = attacker_tray
    socket_file = AppPaths.from_env(configured.environ()).tray_socket_file
    plant(planted, socket_file, theirs)
    started = time.monotonic()
    done = configured.aacli(
        "credential-process", "--server", "dev/DEVELOPER", "--code", configured.code()
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["AccessKeyId"].startswith("ASIA")
    assert "ATTACKER" not in done.stdout
    env = configured.aacli("env", "--server", "dev/DEVELOPER")
    assert env.returncode != 0 and "attacker" not in env.stdout
    assert "tray" in env.stderr.lower() and "Traceback" not in env.stderr
    assert not log.exists()
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("planted", ["symlink", "their-socket", "regular-file", "their-folder"])
def test_the_tray_listens_only_on_a_socket_of_its_own(configured, attacker_tray, planted):
    """Issue 16 trust (tray socket): when the tray starts, a symlink (to another user's
    socket) or a plain file at its socket's path is refused in one line and left as it is;
    a state folder another user owns is refused; another user's socket there is replaced by
    the tray's own (0600, the user's), which answers; the other socket sees no connection."""
    from trayapp.core.errors import UnsafeFileError
    from trayapp.core.tray_client import ask_tray
    from trayapp.core.tray_socket import TraySocket

    theirs, log = attacker_tray
    paths = AppPaths.from_env(configured.environ())
    socket_file = paths.tray_socket_file
    if planted == "regular-file":
        socket_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        socket_file.write_text("not a socket")
    elif planted == "their-folder":
        socket_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chown(socket_file.parent, ATTACKER_UID, -1)
    else:
        plant(planted, socket_file, theirs)
    tray = TraySocket(socket_file, lambda request: {"ours": request["target"]})
    if planted == "their-socket":
        tray.serve()
        try:
            st = os.lstat(socket_file)
            assert st.st_uid == os.getuid() and st.st_mode & 0o777 == 0o600
            assert ask_tray(socket_file, {"op": "credentials", "target": "t"}) == {"ours": "t"}
        finally:
            tray.stop()
    else:
        before = os.lstat(socket_file.parent if planted == "their-folder" else socket_file)
        with pytest.raises(UnsafeFileError) as refused:
            tray.serve()
        assert "\n" not in str(refused.value)
        assert ("another user" if planted == "their-folder" else "not a socket") in str(
            refused.value
        )
        after = os.lstat(socket_file.parent if planted == "their-folder" else socket_file)
        assert (after.st_ino, after.st_uid, after.st_mode) == (
            before.st_ino,
            before.st_uid,
            before.st_mode,
        )
    assert not log.exists()


# Holds connections open as the attacker: N connections that send half a request and wait.
HOLDER = """
import socket, sys, time
host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
held = []
for _ in range(count):
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(b"GET /role/x HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n")  # never finished
    held.append(s)
print("holding", flush=True)
time.sleep(30)
"""


def test_another_user_holding_connections_open_does_not_lock_the_sdks_out(configured, attacker_uid):
    """Issue 16 trust (credential server): another local user opens 40 connections that never
    finish their request (more than the server answers at once): an SDK with the token still
    gets its credentials at once, not "busy"."""
    import http.client

    child, variables, _ = start_serve(configured)
    holder = None
    try:
        url, token = variables[URI_VARIABLE], variables[TOKEN_VARIABLE]
        port = url.split(":")[2].split("/")[0]
        setpriv = ["setpriv", f"--reuid={ATTACKER_UID}", "--regid=65534", "--clear-groups"]
        holder = subprocess.Popen(
            [*setpriv, "/usr/bin/python3", "-I", "-c", HOLDER, "127.0.0.1", port, "40"],
            stdout=subprocess.PIPE,
            text=True,
            cwd="/",
        )
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
        connection.request("GET", "/" + url.split("/", 3)[3], headers={"Authorization": token})
        response = connection.getresponse()
        body = json.loads(response.read())
        connection.close()
        assert response.status == 200, body
        assert body["AccessKeyId"].startswith("ASIA")
        assert time.monotonic() - started < 5
    finally:
        if holder is not None:
            holder.kill()
            holder.wait()
        stop(child)


def test_the_tray_says_in_one_line_why_programs_cannot_ask_it(configured, attacker_tray):
    """Issue 16 trust (tray socket): the real tray's serving part starting with a symlink to
    another user's socket at its socket's path: the tray works on, says why in one line (no
    traceback), and leaves the symlink and the other socket alone; no connection reaches it."""
    from trayapp.core.codes import FixedCode
    from trayapp.core.model import Settings
    from trayapp.core.paths import AwsPaths
    from trayapp.core.service import Deps, Service
    from trayapp.tray.serving import TrayServing

    theirs, log = attacker_tray
    paths = AppPaths.from_env(configured.environ())
    plant("symlink", paths.tray_socket_file, theirs)
    service = Service(
        Deps(
            app=paths,
            aws=AwsPaths(configured.credentials, configured.aws_config),
            endpoint_url=configured.sandbox.endpoint_url,
            passphrase=lambda: "unused",
        )
    )
    notices: list[str] = []
    serving = TrayServing(
        service,
        source_for=lambda _target: FixedCode(configured.code()),
        to_sign_in_worker=lambda: None,
        notify=notices.append,
    )
    serving.start(Settings())
    try:
        assert len(notices) == 1 and "\n" not in notices[0], notices
        assert notices[0].startswith("Programs cannot ask the tray for credentials: ")
        assert "not a socket" in notices[0] and "Traceback" not in notices[0]
    finally:
        serving.stop()
    assert paths.tray_socket_file.is_symlink() and os.readlink(paths.tray_socket_file) == str(
        theirs
    )
    assert theirs.exists() and not log.exists()


def test_a_roles_server_variables_get_that_role_only():
    """Issue 16 trust (credential server): the tray serves every role on one server; the
    variables it hands out for one role (Copy server env, `env --server`) carry a token that
    gets that role only: a program given dev's variables asking for prod (which a stored seed
    would renew silently) gets a 403, and nothing is fetched for prod."""
    import http.client
    from datetime import datetime, timedelta, timezone

    from trayapp.core.model import Credentials
    from trayapp.core.server import CredentialServer

    fetched: list[str] = []

    def fetch(label: str) -> Credentials:
        fetched.append(label)
        later = datetime.now(timezone.utc) + timedelta(hours=1)
        return Credentials("ASIA" + "X" * 16, "secret", "session", later)

    def get(url: str, token: str) -> int:
        host_port, _, path = url.removeprefix("http://").partition("/")
        connection = http.client.HTTPConnection(*host_port.split(":"), timeout=10)
        connection.request("GET", "/" + path, headers={"Authorization": token})
        status = connection.getresponse().status
        connection.close()
        return status

    with CredentialServer(fetch) as server:
        dev, prod = "acme/dev/DEVELOPER", "acme/prod/Admin"
        given = server.env(dev)[TOKEN_VARIABLE]
        assert len(given) >= 43 and given != server.env(prod)[TOKEN_VARIABLE]
        assert get(server.url(dev), given) == 200
        assert get(server.url(prod), given) == 403
        assert get(server.url(prod), server.env(prod)[TOKEN_VARIABLE]) == 200
    assert fetched == [dev, prod]
