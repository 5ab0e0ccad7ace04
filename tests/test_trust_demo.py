"""Issue 11 items 12 and 19: the demo trusts no file another user planted, and no AWS setting."""

from __future__ import annotations

import getpass
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT

DEMO = [sys.executable, "-m", "trayapp.cli.main", "demo"]
ATTACKER_UID = 4242
AS_ATTACKER = ("setpriv", f"--reuid={ATTACKER_UID}", f"--regid={ATTACKER_UID}", "--clear-groups")
HOSTILE_NAME = "X=1; id > {pwned}; export Y"


def _attacker_uid() -> int:
    """A second local user for the cross-user tests (created when missing; needs root)."""
    if os.geteuid() != 0:
        pytest.skip("planting files as a second user needs root")
    try:
        import pwd

        pwd.getpwuid(ATTACKER_UID)
    except KeyError:
        subprocess.run(
            ["useradd", "-M", "-u", str(ATTACKER_UID), "aacli-attacker"], check=True, timeout=30
        )
    return ATTACKER_UID


def _write_as_attacker(path: Path, text: str) -> None:
    """The second uid writes ``path`` itself (it must be able to reach the folder)."""
    subprocess.run(
        [*AS_ATTACKER, "sh", "-c", 'cat > "$1"', "sh", str(path)],
        input=text,
        text=True,
        check=True,
        timeout=30,
    )


class Victim:
    """The victim's environment: a private runtime folder, a HOME, and a shell that evals."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.runtime = root / "run"
        self.shared_tmp = root / "tmp"  # stands in for /tmp: everybody may write there
        for folder, mode in ((self.home, 0o700), (self.runtime, 0o700), (self.shared_tmp, 0o1777)):
            folder.mkdir()
            folder.chmod(mode)
        self.pwned = root / "pwned"

    @property
    def state_file(self) -> Path:
        return self.runtime / "aacli" / "demo.json"

    def environ(self, **extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AWS_", "AACLI_", "XDG_")) and k != "TMPDIR"
        }
        env.update(
            HOME=str(self.home),
            XDG_RUNTIME_DIR=str(self.runtime),
            TMPDIR=str(self.shared_tmp),
            PYTHONPATH=str(ROOT),
        )
        env.update(extra)
        return env

    def eval_shell(self) -> subprocess.CompletedProcess[str]:
        """What the README tells the user to type, then what the shell was pointed at."""
        script = (
            'eval "$("$@")"; '
            'printf "endpoint=%s\\nfederation=%s\\nhome=%s\\n" '
            '"$AWS_ENDPOINT_URL" "$AACLI_FEDERATION_URL" "$AACLI_HOME"'
        )
        return subprocess.run(
            ["sh", "-c", script, "sh", *DEMO, "--shell"],
            env=self.environ(),
            capture_output=True,
            text=True,
            timeout=60,
            cwd=self.root,
        )

    def hostile_state(self, pid: int) -> str:
        return json.dumps(
            {
                "pid": pid,
                "env": {
                    HOSTILE_NAME.format(pwned=self.pwned): "z",
                    "AWS_ENDPOINT_URL": "http://evil.example",
                    "AACLI_FEDERATION_URL": "http://evil.example/federation",
                },
            }
        )

    def assert_nothing_ran(self, done: subprocess.CompletedProcess[str]) -> None:
        assert not self.pwned.exists(), "the planted command ran in the victim's shell"
        assert "evil.example" not in done.stdout, done.stdout
        assert "endpoint=\n" in done.stdout, done.stdout
        assert "Traceback" not in done.stderr, done.stderr


@pytest.fixture
def victim() -> Iterator[Victim]:
    # Not under pytest's 0700 tmp_path: the attacker's processes must reach the shared folder.
    root = Path(tempfile.mkdtemp(prefix="aacli-trust-demo-"))
    root.chmod(0o755)
    yield Victim(root)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def live_process():
    """A live process of the victim's that is not a demo (any pid an attacker can see)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield child.pid
    child.kill()
    child.wait()


def _fake_demo(victim: Victim, workdir: Path, *, umask: int = 0o022) -> subprocess.Popen[str]:
    """A process whose argv says `demo`, that records itself the way the running demo does."""
    code = textwrap.dedent(
        f"""
        import os, sys
        os.umask({umask})
        from trayapp.cli import demo_shell
        workdir = {str(workdir)!r}
        demo_shell.write_state(__import__("pathlib").Path(workdir), {{
            "AACLI_HOME": workdir + "/aacli",
            "AWS_SHARED_CREDENTIALS_FILE": workdir + "/aws/credentials",
            "AWS_CONFIG_FILE": workdir + "/aws/config",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
            "AACLI_FEDERATION_URL": "http://127.0.0.1:4566/federation",
        }})
        print("ready", flush=True)
        sys.stdin.read()
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, "demo"],
        env=victim.environ(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline() == "ready\n"
    return child


def test_shell_never_reads_a_state_file_planted_in_the_shared_tmp(victim, live_process):
    """Issue 11 item 12: the old /tmp/aacli-demo-$USER.json, planted by another user, is ignored."""
    uid = _attacker_uid()
    planted = victim.shared_tmp / f"aacli-demo-{getpass.getuser()}.json"
    _write_as_attacker(planted, victim.hostile_state(live_process))
    done = victim.eval_shell()
    victim.assert_nothing_ran(done)
    assert planted.stat().st_uid == uid
    assert done.stderr == "aacli: no demo is running; start one with 'aacli demo' first\n"


def test_shell_refuses_a_state_file_that_another_user_owns(victim, live_process):
    """Issue 11 item 12: a hostile state file in the new place, owned by a second uid, runs nothing."""
    uid = _attacker_uid()
    victim.state_file.parent.mkdir(mode=0o700)
    victim.state_file.write_text(victim.hostile_state(live_process))
    victim.state_file.chmod(0o600)
    os.chown(victim.state_file, uid, uid)
    done = victim.eval_shell()
    victim.assert_nothing_ran(done)
    assert "belongs to another user (uid 4242)" in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr


def test_shell_refuses_a_state_folder_that_another_user_made(victim, live_process):
    """Issue 11 item 12: a state folder made (and written) by a second uid is not trusted."""
    uid = _attacker_uid()
    folder = victim.state_file.parent
    folder.mkdir(mode=0o700)
    os.chown(folder, uid, uid)
    victim.runtime.chmod(0o711)  # let the attacker reach its folder (the runtime dir is then
    # not private, so aacli falls back to its state folder under HOME: plant there too)
    _write_as_attacker(victim.state_file, victim.hostile_state(live_process))
    state_home = victim.home / ".local" / "state" / "aacli"
    state_home.mkdir(parents=True)
    os.chown(state_home, uid, uid)
    (state_home / "demo.json").write_text(victim.hostile_state(live_process))
    os.chown(state_home / "demo.json", uid, uid)
    done = victim.eval_shell()
    victim.assert_nothing_ran(done)
    assert "belongs to another user (uid 4242)" in done.stderr, done.stderr


def test_shell_refuses_a_state_file_others_may_write(victim, live_process):
    """Issue 11 item 12: the victim's own state file, but world-writable: not trusted."""
    victim.state_file.parent.mkdir(mode=0o700)
    victim.state_file.write_text(victim.hostile_state(live_process))
    victim.state_file.chmod(0o666)
    done = victim.eval_shell()
    victim.assert_nothing_ran(done)
    assert "writable by other users" in done.stderr, done.stderr


def test_shell_prints_only_known_names_and_never_a_remote_endpoint(victim, tmp_path):
    """Issue 11 item 12: even the victim's own file: unknown names dropped, no remote endpoint."""
    workdir = tmp_path / "demo-files"
    workdir.mkdir(mode=0o700)
    demo = _fake_demo(victim, workdir)
    try:
        good = json.loads(victim.state_file.read_text())
        good["env"][HOSTILE_NAME.format(pwned=victim.pwned)] = "z"
        victim.state_file.write_text(json.dumps(good))
        done = victim.eval_shell()
        assert done.returncode == 0, done.stderr
        assert not victim.pwned.exists()
        assert "endpoint=http://127.0.0.1:4566\n" in done.stdout
        assert f"home={workdir}/aacli\n" in done.stdout

        for name, value, why in (
            ("AWS_ENDPOINT_URL", "http://evil.example", "not a loopback address"),
            ("AWS_ENDPOINT_URL", "http://localhost:4566", "not a loopback address"),  # a name
            ("AWS_ENDPOINT_URL", "file:///etc/passwd", "not a loopback address"),
            ("AACLI_FEDERATION_URL", "https://127.0.0.1.evil.example/f", "not a loopback"),
            ("AACLI_HOME", "/etc", "outside the demo's folder"),
            ("AWS_CONFIG_FILE", f"{workdir}/../../x", "outside the demo's folder"),
            ("AWS_SHARED_CREDENTIALS_FILE", "$(id>/tmp/x)", "not an absolute path"),
            ("AWS_CONFIG_FILE", f"{workdir}/a\nid > {victim.pwned}", "not printable"),
        ):
            bad = json.loads(json.dumps(good))
            bad["env"][name] = value
            victim.state_file.write_text(json.dumps(bad))
            done = victim.eval_shell()
            victim.assert_nothing_ran(done)
            assert why in done.stderr, (name, done.stderr)
    finally:
        demo.kill()
        demo.wait()


def test_shell_round_trip_with_a_live_demo_and_a_private_state_file(victim, tmp_path):
    """Issue 11 item 12: the running demo's state is 0600 in a 0700 folder even under umask 000,
    `eval` points the shell at it, and once the demo is gone (pid reused or not) nothing is."""
    workdir = tmp_path / "demo files"  # a space: the values are quoted for the shell
    workdir.mkdir(mode=0o700)
    demo = _fake_demo(victim, workdir, umask=0)
    try:
        assert victim.state_file.stat().st_mode & 0o777 == 0o600
        assert victim.state_file.parent.stat().st_mode & 0o777 == 0o700
        done = victim.eval_shell()
        assert done.returncode == 0, done.stderr
        assert f"home={workdir}/aacli\n" in done.stdout
        assert "federation=http://127.0.0.1:4566/federation\n" in done.stdout
    finally:
        demo.kill()
        demo.wait()
    done = victim.eval_shell()
    victim.assert_nothing_ran(done)
    assert done.stderr == "aacli: no demo is running; start one with 'aacli demo' first\n"


def test_shell_refuses_a_live_pid_that_is_not_the_demo(victim, tmp_path, live_process):
    """Issue 11 item 12: a state file naming a live process of ours that is not the demo."""
    workdir = tmp_path / "demo-files"
    workdir.mkdir(mode=0o700)
    demo = _fake_demo(victim, workdir)
    demo.stdin.close()
    demo.wait(timeout=30)  # gone, and its state file left behind (killed demo)
    state = json.loads(victim.state_file.read_text())
    state["pid"] = live_process  # a pid reused by another process of the victim's
    victim.state_file.write_text(json.dumps(state))
    done = victim.eval_shell()
    victim.assert_nothing_ran(done)
    assert done.stderr == "aacli: no demo is running; start one with 'aacli demo' first\n"


# Item 19: the user's AWS settings never reach the demo or its sandbox.

_WATCH_OPENS = """
import os, sys
aws_dir = os.path.join(os.environ["HOME"], ".aws")
opened = []
def hook(event, args):
    if event in ("open", "os.listdir", "os.scandir") and isinstance(args[0], (str, bytes)):
        path = os.fsdecode(args[0])
        if path.startswith(aws_dir):
            opened.append(path)
sys.addaudithook(hook)
"""


def _hostile_aws_home(victim: Victim) -> dict[str, str]:
    """~/.aws with a broken config, a FIFO for credentials, and every AWS_* pointing at them."""
    aws = victim.home / ".aws"
    aws.mkdir()
    (aws / "config").write_text("this is not an ini file\n[profile broken\n")
    os.mkfifo(aws / "credentials")
    for model in ("iam/2010-05-08", "sts/2011-06-15"):  # service models botocore would load
        (aws / "models" / model).mkdir(parents=True)
        (aws / "models" / model / "service-2.json").write_text("{not json")
    return {
        "AWS_PROFILE": "missing",
        "AWS_DEFAULT_PROFILE": "missing",
        "AWS_CONFIG_FILE": str(aws / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(aws / "credentials"),
        "AWS_REGION": "nowhere-1",
        "AWS_DEFAULT_REGION": "nowhere-1",
        "AWS_ENDPOINT_URL_IAM": "http://127.0.0.1:9",
        "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:9",
        "AWS_CA_BUNDLE": str(aws / "no-such-bundle.pem"),
        "AWS_MAX_ATTEMPTS": "not-a-number",
    }


def test_sandbox_starts_without_reading_the_users_aws_settings(victim):
    """Issue 11 item 19: the sandbox provisions with AWS_PROFILE=missing, a broken ~/.aws and
    broken service models there, and opens or lists nothing under ~/.aws."""
    env = victim.environ(**_hostile_aws_home(victim))
    code = (
        "SANDBOX_ONLY = True"
        + _WATCH_OPENS
        + textwrap.dedent(
            """
        from trayapp.sandbox import Sandbox
        box = Sandbox().start()
        box.stop()
        print("opened:", opened)
        """
        )
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "opened: []", done.stdout


@pytest.mark.slow
def test_demo_walks_through_with_a_missing_profile_and_a_broken_aws_home(victim):
    """Issue 11 item 19: `aacli demo` works with AWS_PROFILE=missing, a broken ~/.aws/config, a
    FIFO for credentials and broken service models, and neither it nor its sandbox opens or
    lists anything under ~/.aws."""
    env = victim.environ(**_hostile_aws_home(victim))
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    code = (
        "SANDBOX_ONLY = False"
        + _WATCH_OPENS
        + textwrap.dedent(
            """
        from trayapp.cli.main import main
        code = main(["demo", "--terminal"])
        print("opened:", opened)
        sys.exit(code)
        """
        )
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=180
    )
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr
    assert "assumed-role/DEVELOPER/demo-user" in out
    assert "nothing of the session is left" in out
    assert out.rstrip().endswith("opened: []"), out[-500:]
