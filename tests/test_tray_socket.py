"""The tray's Unix socket (core/tray_socket) and credential-process --server over it (issue 16)."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
import pytest
from conftest import PASSPHRASE, as_attacker, aws_cli_v2

from trayapp.core.codes import FixedCode
from trayapp.core.model import Settings
from trayapp.core.paths import AppPaths, AwsPaths
from trayapp.core.service import Deps, Service
from trayapp.core.tray_client import ask_tray
from trayapp.core.tray_socket import MAX_REQUEST_BYTES, TraySocket
from trayapp.tray.serving import TrayServing

TARGET = "acme/dev/DEVELOPER"


def _raw(path: Path, data: bytes, *, shut: bool = True, timeout: float = 10) -> dict:
    """Send ``data`` as-is (no client-side checks) and read the tray's JSON answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall(data)
        if shut:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return json.loads(b"".join(chunks))


@pytest.fixture
def short_folder():
    """A folder with a short path (sockaddr_un: ~104 bytes), removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="aacli-ts-", dir="/tmp"))
    yield folder
    subprocess.run(["rm", "-rf", str(folder)], check=False)


@pytest.fixture
def echo(short_folder):
    seen: list[dict] = []

    def handler(request):
        seen.append(request)
        return {"echo": request}

    paths = AppPaths(short_folder / "aacli", short_folder / "aacli" / "state")
    tray = TraySocket(paths.tray_socket_file, handler, request_seconds=0.5).serve()
    yield paths, tray, seen
    tray.stop()


def _service(configured) -> Service:
    home = configured.home
    return Service(
        Deps(
            app=AppPaths(config_dir=home, state_dir=home / "state"),
            aws=AwsPaths(configured.credentials, configured.aws_config),
            endpoint_url=configured.sandbox.endpoint_url,
            passphrase=lambda: PASSPHRASE,
        )
    )


@pytest.fixture
def tray_serving(configured):
    """The tray's serving part (tray/serving.py), as the tray runs it, without the icon: its
    socket in the configured home, codes from the sandbox (as the stored seed gives them)."""
    notices: list[str] = []
    serving = TrayServing(
        _service(configured),
        source_for=lambda _target: FixedCode(configured.code()),
        to_sign_in_worker=lambda: None,
        notify=notices.append,
    )
    serving.start(Settings())
    yield serving
    serving.stop()


def test_socket_is_private_and_removed_at_stop(echo):
    """Issue 16 tray socket: the socket is 0600 and the tray's own, in a 0700 folder; it
    answers one JSON request per connection; stop removes the file."""
    paths, tray, _seen = echo
    sock_file = paths.tray_socket_file
    st = sock_file.lstat()
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    assert st.st_uid == os.getuid()
    assert stat.S_IMODE(sock_file.parent.stat().st_mode) == 0o700
    assert ask_tray(paths.tray_socket_file, {"op": "credentials", "target": "dev"}) == {
        "echo": {"op": "credentials", "target": "dev"}
    }
    tray.stop()
    assert not sock_file.exists()
    assert ask_tray(paths.tray_socket_file, {"op": "credentials", "target": "dev"}) is None


def test_a_long_state_path_still_works(tmp_path):
    """Issue 16 tray socket: a state folder deeper than sockaddr_un's ~104 bytes still binds
    (through the folder's handle) and answers."""
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    paths = AppPaths(deep, deep / "state")
    assert len(str(paths.tray_socket_file)) > 110
    tray = TraySocket(paths.tray_socket_file, lambda request: {"ok": "yes"}).serve()
    try:
        assert ask_tray(paths.tray_socket_file, {"op": "x"}) == {"ok": "yes"}
    finally:
        tray.stop()
    assert not paths.tray_socket_file.exists()


def test_oversized_and_garbage_requests_get_an_error(echo):
    """Issue 16 tray socket: an oversized request, garbage, JSON of the wrong shape and a
    client that never finishes each get a one-line error; the handler never sees them, and
    the socket answers the next client."""
    paths, _tray, seen = echo
    path = paths.tray_socket_file
    big = json.dumps({"op": "credentials", "target": "x" * MAX_REQUEST_BYTES}).encode()
    assert "larger than" in _raw(path, big)["error"]
    assert "larger than" in _raw(path, os.urandom(64 * 1024))["error"]
    for garbage in (b"not json", b"\xff\xfe", b"[1, 2]", b'{"op": 1}', b'{"target": "x"}'):
        assert "Not a request" in _raw(path, garbage)["error"], garbage
    started = time.monotonic()
    answer = _raw(path, b'{"op": "credentials"', shut=False)  # never shuts its side down
    assert "No request arrived" in answer["error"]
    assert time.monotonic() - started < 5
    assert seen == []
    assert ask_tray(paths.tray_socket_file, {"op": "ping"}) == {"echo": {"op": "ping"}}


def test_no_tray_means_none_at_once(short_folder):
    """Issue 16 tray socket: without a tray, ask_tray is None quickly: no socket, a stale
    socket a killed tray left, a regular file in its place."""
    paths = AppPaths(short_folder, short_folder / "state")
    (short_folder / "state").mkdir(mode=0o700)
    started = time.monotonic()
    assert ask_tray(paths.tray_socket_file, {"op": "credentials", "target": "dev"}) is None
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(paths.tray_socket_file))
    stale.close()  # the file stays, nobody listens
    assert ask_tray(paths.tray_socket_file, {"op": "credentials", "target": "dev"}) is None
    paths.tray_socket_file.unlink()
    paths.tray_socket_file.write_text("{}")
    assert ask_tray(paths.tray_socket_file, {"op": "credentials", "target": "dev"}) is None
    assert time.monotonic() - started < 0.5


def test_another_user_cannot_get_credentials(echo, attacker_uid):
    """Issue 16 tray socket: another local user cannot connect (the folder is 0700, the
    socket 0600); and even with both opened up by mistake, the tray checks the peer's uid
    (SO_PEERCRED) and refuses without calling the handler."""
    paths, _tray, seen = echo
    path = paths.tray_socket_file
    top = path.parent.parent.parent  # the test's /tmp folder: let the attacker walk in
    top.chmod(0o711)
    path.parent.parent.chmod(0o711)
    probe = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "try:\n"
        "    s.connect(sys.argv[1])\n"
        "except OSError as e:\n"
        "    print('refused', e.errno); sys.exit()\n"
        's.sendall(b\'{"op": "credentials", "target": "dev"}\')\n'
        "s.shutdown(socket.SHUT_WR)\n"
        "print(s.recv(65536).decode())\n"
    )
    argv = ["/usr/bin/python3", "-I", "-c", probe, str(path)]
    assert as_attacker(argv, cwd="/").stdout.strip() == "refused 13"  # EACCES
    path.parent.chmod(0o711)
    path.chmod(0o666)
    answer = json.loads(as_attacker(argv, cwd="/").stdout)
    assert answer == {"error": "This aacli tray answers only its own user."}
    assert seen == []


def _cli(configured, *args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """The real CLI in a child; also the top-level packages it had imported at exit."""
    code = (
        "import json, sys\n"
        "from trayapp.cli.main import main\n"
        "rc = main(sys.argv[1:])\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)\n"
        "sys.exit(rc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True, text=True, env=configured.environ(), timeout=60, cwd=configured.root,
    )  # fmt: skip
    *errors, modules = done.stderr.strip().splitlines() or [""]
    done.stderr = "\n".join(errors)
    return done, json.loads(modules) if modules.startswith("[") else []


def test_credential_process_server_answers_from_the_tray_socket(configured, tray_serving):
    """Issue 16 credential-process --server: with the tray running, the answer comes from its
    socket (the credential_process JSON that works with boto3), nothing is written to ~/.aws,
    and that path imports neither botocore, boto3, keyring nor filelock."""
    done, modules = _cli(configured, "credential-process", "--server", "dev/DEVELOPER")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["Version"] == 1 and answer["AccessKeyId"].startswith("ASIA")
    assert not {"botocore", "boto3", "keyring", "filelock"} & set(modules), modules
    assert not configured.credentials.exists()  # the tray's renewal is in memory only
    sts = boto3.client(
        "sts",
        aws_access_key_id=answer["AccessKeyId"],
        aws_secret_access_key=answer["SecretAccessKey"],
        aws_session_token=answer["SessionToken"],
        region_name="eu-west-1",
        endpoint_url=configured.sandbox.endpoint_url,
    )
    assert ":assumed-role/DEVELOPER/" in sts.get_caller_identity()["Arn"]
    again, _ = _cli(configured, "credential-process", "--server", "dev/DEVELOPER")
    assert json.loads(again.stdout)["AccessKeyId"] == answer["AccessKeyId"]  # held, not renewed


def test_credential_process_server_falls_back_without_a_tray(configured):
    """Issue 16 credential-process --server: with no tray, it does what it did before (the
    role's credentials with the given code)."""
    code = configured.code()
    done, _ = _cli(configured, "credential-process", "--server", "dev/DEVELOPER", "--code", code)
    assert done.returncode == 0, done.stderr
    key_id = json.loads(done.stdout)["AccessKeyId"]
    assert key_id.startswith("ASIA") and key_id in configured.credentials.read_text()


def test_tray_errors_are_one_line(configured, tray_serving):
    """Issue 16 tray socket: what the tray cannot do comes back as one line: an unknown role,
    and the server's variables while the tray does not serve."""
    done, _ = _cli(configured, "credential-process", "--server", "nosuch/ROLE")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.startswith("aacli: the tray: ") and len(done.stderr.splitlines()) == 1
    answer = ask_tray(
        tray_serving.service.deps.app.tray_socket_file,
        {"op": "server-env", "target": "dev/DEVELOPER"},
    )
    assert "Serve credentials to programs" in answer["error"]


def test_link_aws_server_profile_asks_the_tray(configured, tray_serving):
    """Issue 16 link-aws --server: the profile's credential_process asks the tray first; the
    AWS CLI v2 gets the role through it with nothing written to the credentials file."""
    aws = aws_cli_v2()
    done = configured.aacli("config", "link-aws", "dev/DEVELOPER", "--server")
    assert done.returncode == 0, done.stderr
    line = next(
        x for x in configured.aws_config.read_text().splitlines() if "credential_process" in x
    )
    assert line.endswith(f"credential-process --server {TARGET}"), line
    identity = subprocess.run(
        [aws, "sts", "get-caller-identity", "--profile", "dev-DEVELOPER-process", "--output",
         "json", "--endpoint-url", configured.sandbox.endpoint_url],
        capture_output=True, text=True, env=configured.environ(), timeout=60,
    )  # fmt: skip
    assert identity.returncode == 0, identity.stderr
    assert ":assumed-role/DEVELOPER/" in json.loads(identity.stdout)["Arn"]
    assert not configured.credentials.exists()


def test_config_serve_switches_the_setting(configured):
    """Issue 16 settings: 'aacli config serve on --port N' and 'off' set serve_credentials
    (and server_port) in the config; a bad port changes nothing."""
    import tomllib

    def settings():
        data = tomllib.loads((configured.home / "config.toml").read_text())
        return data.get("settings", {})

    assert configured.aacli("config", "serve", "on", "--port", "47001").returncode == 0
    assert settings()["serve_credentials"] is True and settings()["server_port"] == 47001
    bad = configured.aacli("config", "serve", "on", "--port", "70000")
    assert bad.returncode != 0 and settings()["server_port"] == 47001
    assert configured.aacli("config", "serve", "off").returncode == 0
    assert "serve_credentials" not in settings() and settings()["server_port"] == 47001


def test_a_bad_server_setting_is_one_line_naming_the_key(configured):
    """Issue 16 settings: serve_credentials = true and a server_port are read; a port out of
    range or a serve_credentials that is not a boolean is refused with one line naming the
    key; the file is left as it was."""
    from conftest import assert_one_line_error

    path = configured.home / "config.toml"
    good = path.read_text()
    serving = good.replace(
        'secret_backend = "vault"',
        'secret_backend = "vault"\nserve_credentials = true\nserver_port = 47001',
    )
    path.write_text(serving)
    shown = configured.aacli("config", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    for line, key in (
        ("server_port = 70000", "settings.server_port"),
        ('serve_credentials = "yes"', "settings.serve_credentials"),
    ):
        bad = good.replace('secret_backend = "vault"', f'secret_backend = "vault"\n{line}')
        path.write_text(bad)
        assert_one_line_error(configured.aacli("config", "show"), key)
        assert path.read_text() == bad
    path.write_text(good)
