"""After a full flow with --debug, no secret is anywhere it should not be; nor in argv/environ."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from conftest import PASSPHRASE, aws_cli_v2

from reliability.conftest import record


def _files(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def _hits(data: bytes, secrets: dict[str, str]) -> list[str]:
    return [name for name, value in secrets.items() if value.encode() in data]


def _descendants(root_pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    found, frontier = [], [root_pid]
    while frontier:
        pid = frontier.pop()
        kids = [child for child, parent in parents.items() if parent == pid]
        found += kids
        frontier += kids
    return found


class ProcSampler(threading.Thread):
    """Reads argv and environment of every descendant of one process, until stopped."""

    def __init__(self, root_pid: int, secrets: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.root_pid, self.secrets = root_pid, secrets
        self.stop = threading.Event()
        self.samples = 0
        self.seen: set[int] = set()
        self.hits: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            for pid in [self.root_pid, *_descendants(self.root_pid)]:
                for part in ("cmdline", "environ"):
                    try:
                        data = Path(f"/proc/{pid}/{part}").read_bytes()
                    except OSError:
                        continue
                    self.samples += 1
                    self.seen.add(pid)
                    # The test itself gives the vault passphrase in AACLI_PASSPHRASE.
                    allowed = {"passphrase"} if part == "environ" else set()
                    for name in _hits(data, self.secrets):
                        if name not in allowed:
                            self.hits.append(f"{pid} {part}: {name}")
            time.sleep(0.01)


@pytest.mark.awscli
@pytest.mark.slow
def test_a_full_flow_leaves_no_secret_where_it_does_not_belong(env, sandbox) -> None:
    aws = aws_cli_v2()
    hub = sandbox.add_hub_user(f"scan-{os.getpid()}")
    env.vars["AWS_ENDPOINT_URL"] = sandbox.endpoint_url
    env.vars["AACLI_FEDERATION_URL"] = sandbox.federation_url
    env.vars["BROWSER"] = "true"
    secrets = {
        "hub secret": hub.secret_access_key,
        "totp seed": hub.mfa_seed,
        "passphrase": PASSPHRASE,
    }
    outputs: dict[str, str] = {}  # step -> stdout, each accounted for below
    errors: list[str] = []

    def run(step: str, *args: str, input: str | None = None) -> str:
        result = env.aacli("--debug", *args, input=input)
        assert result.returncode == 0, f"{step}: {result.stderr}"
        outputs[step] = result.stdout
        errors.append(result.stderr)
        return result.stdout

    env.home.mkdir(mode=0o700)
    (env.home / "config.toml").write_text('version = 1\n\n[settings]\nsecret_backend = "vault"\n')
    (env.home / "config.toml").chmod(0o600)
    run("add-profile", "config", "add-profile", "acme", "--access-key-id", hub.access_key_id,
        "--mfa-serial", hub.mfa_serial, "--session-name", "scanner",
        input=hub.secret_access_key + "\n")  # fmt: skip
    run("set-key", "config", "set-key", "acme", input=hub.secret_access_key + "\n")
    run(
        "add-account",
        "config",
        "add-account",
        "acme",
        "dev",
        "--id",
        "111111111111",
        "--region",
        "eu-west-1",
    )
    run("add-role", "config", "add-role", "acme/dev", "DEVELOPER", "--duration", "1h")
    run("totp", "config", "totp", "acme", "--seed-from-stdin", input=hub.mfa_seed + "\n")
    run("auth", "auth", "dev/DEVELOPER")  # the code comes from the stored seed
    creds = env.credentials.read_text()
    session = {
        line.split("=", 1)[0].strip(): line.split("=", 1)[1].strip()
        for line in creds.splitlines()
        if "=" in line
    }
    secrets["session secret key"] = session["aws_secret_access_key"]
    secrets["session token"] = session["aws_session_token"]
    run("status", "status", "--json")
    url = run("web --print", "web", "dev/DEVELOPER", "--print").strip()
    secrets["sign-in token"] = parse_qs(urlparse(url).query)["SigninToken"][0]
    run("web", "web", "dev/DEVELOPER")  # through BROWSER=true
    probe = "import os; print(os.environ['AWS_SECRET_ACCESS_KEY'], os.environ['AWS_SESSION_TOKEN'])"
    run("exec", "exec", "dev/DEVELOPER", "--", sys.executable, "-c", probe)
    run("env", "env", "dev/DEVELOPER")
    run("credential-process", "credential-process", "dev/DEVELOPER")
    run("link-aws", "config", "link-aws", "dev/DEVELOPER", "--aws-profile", "linked")

    # The AWS CLI runs `aacli credential-process`: sample argv and environ meanwhile.
    cli = subprocess.Popen(
        [aws, "sts", "get-caller-identity", "--profile", "linked", "--endpoint-url", sandbox.endpoint_url],
        env=env.environ(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    sampler = ProcSampler(cli.pid, {k: v for k, v in secrets.items()})
    sampler.start()
    cli_out, cli_err = cli.communicate(timeout=60)
    sampler.stop.set()
    sampler.join()
    assert cli.returncode == 0, cli_err
    assert len(sampler.seen) >= 2, "the sampler never saw aacli under the AWS CLI"
    errors.append(cli_err)
    outputs["aws cli"] = cli_out

    # While the session is live, the credentials file holds exactly its keys.
    assert _hits(env.credentials.read_bytes(), secrets) == ["session secret key", "session token"]
    run("unauth", "unauth", "--all")

    # Stdout carries what each command was asked for, and nothing more.
    expected = {
        "web --print": {"sign-in token"},
        "exec": {"session secret key", "session token"},
        "env": {"session secret key", "session token"},
        "credential-process": {"session secret key", "session token"},
    }
    stdout_hits = {step: set(_hits(out.encode(), secrets)) for step, out in outputs.items()}
    assert {k: v for k, v in stdout_hits.items() if v} == expected
    stderr_hits = [_hits(err.encode(), secrets) for err in errors]
    assert not any(stderr_hits), stderr_hits
    assert any("DEBUG" in err or "aacli:" in err for err in errors), "--debug logged nothing"

    # Every file under HOME, AACLI_HOME and the AWS folder: zero plain hits (the vault is
    # encrypted, the credentials file no longer holds the session).
    file_hits = {
        str(p): _hits(p.read_bytes(), secrets)
        for p in _files(env.home, Path(env.vars["HOME"]), env.credentials.parent)
    }
    file_hits = {p: h for p, h in file_hits.items() if h}
    assert file_hits == {}
    assert sampler.hits == []
    scanned = _files(env.home, Path(env.vars["HOME"]), env.credentials.parent)
    record("secrets", "secrets_tracked", sorted(secrets))
    record("secrets", "files_scanned", len(scanned))
    record("secrets", "commands_run", len(outputs))
    record("secrets", "file_hits", 0)
    record("secrets", "stderr_hits", 0)
    record("secrets", "unexpected_stdout_hits", 0)
    record("secrets", "proc_samples", sampler.samples)
    record("secrets", "proc_processes_seen", len(sampler.seen))
    record("secrets", "proc_hits", 0)
