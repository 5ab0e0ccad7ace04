"""core/children on its own, with real processes: what every child aacli starts gets and lacks.

Issue 17 item 12: the fast tests `make mutate` runs children.py against.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from trayapp.core import children

PROBE = (
    "import json, os, sys; "
    "print(json.dumps({'cwd': os.getcwd(), 'env': dict(os.environ), 'stdin': sys.stdin.read(),"
    " 'sid': os.getsid(0), 'pid': os.getpid()}))"
)


def probe(result: subprocess.CompletedProcess[bytes]) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("AACLI_PASSPHRASE", True),
        ("AACLI_NEW_PASSPHRASE", True),
        ("AACLI_SERVER_TOKEN", True),
        ("AACLI_VAULT_PASSWORD", True),
        ("AACLI_SOME_SECRET_KEY", True),
        ("AACLI_HOME", False),
        ("AACLI_FEDERATION_URL", False),
        ("PASSPHRASE", False),
        ("MY_AACLI_TOKEN", False),
        ("aacli_passphrase", False),
        ("AWS_SECRET_ACCESS_KEY", False),  # the exec command's own credentials: handed on
    ],
)
def test_which_variables_are_aacli_secrets(name: str, secret: bool) -> None:
    """Issue 17 item 12: the names that never reach a child."""
    assert children.is_secret_variable(name) is secret


def test_child_env_from_our_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 17 item 12: the default base is our environment; drop and extra apply."""
    monkeypatch.setenv("AACLI_PASSPHRASE", "hunter2-not-for-children")
    monkeypatch.setenv("AACLI_HOME", "/somewhere")
    monkeypatch.setenv("KEEP_ME", "1")
    monkeypatch.setenv("DROP_ME", "1")
    env = children.child_env({"EXTRA": "2", "KEEP_ME": "3"}, drop=("DROP_ME",))
    assert "AACLI_PASSPHRASE" not in env and "DROP_ME" not in env
    assert env["AACLI_HOME"] == "/somewhere" and env["EXTRA"] == "2" and env["KEEP_ME"] == "3"
    assert children.child_env() == {k: v for k, v in os.environ.items() if k != "AACLI_PASSPHRASE"}


def test_run_gives_a_fixed_folder_no_secret_and_no_terminal_input(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Issue 17 item 12: run() defaults: cwd "/", our environment minus secrets, stdin empty."""
    monkeypatch.setenv("AACLI_PASSPHRASE", "hunter2-not-for-children")
    monkeypatch.chdir(tmp_path)
    seen = probe(children.run([sys.executable, "-c", PROBE], timeout=30))
    assert seen["cwd"] == children.fixed_cwd() == "/"
    assert "AACLI_PASSPHRASE" not in seen["env"]
    assert seen["stdin"] == ""
    given = probe(
        children.run(
            [sys.executable, "-c", PROBE],
            timeout=30,
            input=b"typed",
            env={"PATH": os.environ["PATH"], "ONLY": "this"},
            cwd=tmp_path,
        )
    )
    assert given["stdin"] == "typed" and given["cwd"] == str(tmp_path)
    assert given["env"].get("ONLY") == "this" and "HOME" not in given["env"]


def test_run_reports_failure_and_stops_at_its_timeout() -> None:
    """Issue 17 item 12: a failing child is a result, not an exception; a hanging one is
    killed at the timeout."""
    failed = children.run([sys.executable, "-c", "import sys; sys.exit(3)"], timeout=30)
    assert failed.returncode == 3 and failed.stdout == b""
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        children.run([sys.executable, "-c", "import time; time.sleep(60)"], timeout=0.5)
    assert time.monotonic() - started < 30


def test_start_detaches_and_reaps_the_child(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Issue 17 item 12: start(): own session, no secret, fixed folder, reaped unwaited."""
    monkeypatch.setenv("AACLI_PASSPHRASE", "hunter2-not-for-children")
    out = tmp_path / "seen.json"
    script = PROBE.replace("print(", f"open({str(out)!r}, 'w').write(")
    script = script.replace("sys.stdin.read()", "sys.stdin.read() if sys.stdin else ''")
    child = children.start([sys.executable, "-c", script])
    deadline = time.monotonic() + 30
    while child.returncode is None:  # set by the background reaper, not by us
        assert time.monotonic() < deadline, "the started child was never reaped"
        time.sleep(0.05)
    assert child.returncode == 0
    seen = json.loads(out.read_text())
    assert seen["sid"] == seen["pid"], "the child must lead a session of its own"
    assert seen["cwd"] == "/" and seen["stdin"] == ""
    assert "AACLI_PASSPHRASE" not in seen["env"]


def test_wait_briefly() -> None:
    """Issue 17 item 12: the status of a quick child, None for one still running."""
    quick = children.start([sys.executable, "-c", "import sys; sys.exit(4)"])
    assert children.wait_briefly(quick, 30) == 4
    slow = children.start([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert children.wait_briefly(slow, 0.2) is None
    finally:
        slow.kill()


def test_a_python_child_never_imports_from_the_working_folder(tmp_path: Path) -> None:
    """Issue 17 item 12: a planted trayapp in the working folder or on PYTHONPATH is ignored."""
    planted = tmp_path / "trayapp" / "core"
    planted.mkdir(parents=True)
    (tmp_path / "trayapp" / "__init__.py").write_text("print('HIJACKED')\n")
    (planted / "__init__.py").write_text("print('HIJACKED')\n")
    (planted / "probe.py").write_text("print('HIJACKED')\n")
    argv = children.python_command("trayapp.core.clock")
    assert argv[:3] == [sys.executable, "-E", "-c"]
    env = children.child_env({"PYTHONPATH": str(tmp_path)})
    result = children.run(argv, timeout=60, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert b"HIJACKED" not in result.stdout + result.stderr
    shown = children.run(children.python_command("site"), timeout=60, cwd=tmp_path, env=env)
    lines = shown.stdout.decode().splitlines()
    first = lines[lines.index("sys.path = [") + 1].strip().strip("',")
    assert first == str(children.PACKAGE_ROOT)
    assert str(tmp_path) not in shown.stdout.decode()


def test_child_env_from_a_given_base() -> None:
    """Issue 17 item 12: a given base replaces our environment entirely."""
    assert children.child_env(base={"ONLY": "1", "AACLI_PASSPHRASE": "x"}) == {"ONLY": "1"}


@pytest.fixture
def our_stdin_has_data():
    """Our fd 0 is a pipe holding text, as a terminal the user types into would: a child that
    inherited it would read it."""
    saved = os.dup(0)
    read_end, write_end = os.pipe()
    os.write(write_end, b"typed-at-our-terminal")
    os.close(write_end)
    os.dup2(read_end, 0)
    os.close(read_end)
    try:
        yield
    finally:
        os.dup2(saved, 0)
        os.close(saved)


def test_children_never_read_our_terminal(our_stdin_has_data, tmp_path: Path) -> None:
    """Issue 17 item 12: run() without input, and start(), give the child an empty stdin."""
    seen = probe(children.run([sys.executable, "-c", PROBE], timeout=30))
    assert seen["stdin"] == ""
    out = tmp_path / "seen.json"
    child = children.start(
        [sys.executable, "-c", PROBE.replace("print(", f"open({str(out)!r}, 'w').write(")]
    )
    assert children.wait_briefly(child, 30) == 0
    assert json.loads(out.read_text())["stdin"] == ""


def test_a_started_child_writes_nothing_to_our_output(capfd: pytest.CaptureFixture[str]) -> None:
    """Issue 17 item 12: a browser or clipboard tool may not scribble on the CLI's output."""
    child = children.start(
        [
            sys.executable,
            "-c",
            "import sys; print('LEAKED-OUT'); print('LEAKED-ERR', file=sys.stderr)",
        ]
    )
    assert children.wait_briefly(child, 30) == 0
    captured = capfd.readouterr()
    assert "LEAKED" not in captured.out + captured.err


def test_start_uses_the_given_env_and_folder(tmp_path: Path) -> None:
    """Issue 17 item 12: start(env=…, cwd=…) gives the child exactly those."""
    out = tmp_path / "seen.json"
    script = PROBE.replace("print(", f"open({str(out)!r}, 'w').write(")
    env = {"PATH": os.environ["PATH"], "ONLY": "this"}
    child = children.start([sys.executable, "-c", script], env=env, cwd=tmp_path)
    assert children.wait_briefly(child, 30) == 0
    seen = json.loads(out.read_text())
    assert seen["cwd"] == str(tmp_path)
    assert seen["env"].get("ONLY") == "this" and "HOME" not in seen["env"]


def test_a_started_child_never_keeps_aacli_running() -> None:
    """Issue 17 item 12: aacli exits at once even while a child it started (a browser) runs:
    the reaper never holds the interpreter."""
    parent = (
        "import sys; from trayapp.core import children; "
        "c = children.start([sys.executable, '-c', 'import time; time.sleep(40)']); "
        "print(c.pid, flush=True)"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", parent],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(children.PACKAGE_ROOT)},
    )
    grandchild = int(done.stdout.split()[0])
    try:
        assert done.returncode == 0, done.stderr
        assert time.monotonic() - started < 30, "aacli waited for the child it started"
    finally:
        os.kill(grandchild, 9)
