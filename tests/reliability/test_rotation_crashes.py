"""SIGKILL during a hub key rotation, at each step: the next command finishes or undoes it."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

from conftest import PASSPHRASE

from reliability.conftest import add, record
from trayapp.core.config import load_config
from trayapp.core.secrets.vault import Vault
from trayapp.core.sts import StsCaller, make_sts_client

# Every step the rotation announces (KeyDeps.on_step), in order.
STEPS = ("creating", "store", "created", "switching", "deactivate", "delete", "done")
# How each kill lands: at the step's start exactly, or a moment into it.
LANDINGS = ("block", "0.002", "0.02")

# The killed process: the real core rotation, in a process of its own, telling the parent
# when it reaches the step (and waiting there when asked to, so the kill lands exactly).
WORKER = """
import os, sys, time
from trayapp.core import keys
from trayapp.core.codes import FixedCode
from trayapp.core.paths import AppPaths, AwsPaths
from trayapp.core.service import Deps, Service
from trayapp.core.sts import endpoint_from_env

target, landing, code = sys.argv[1:4]
app = AppPaths.from_env()
service = Service(Deps(app=app, aws=AwsPaths.from_env(), endpoint_url=endpoint_from_env(),
                       passphrase=lambda: os.environ["AACLI_PASSPHRASE"]))

def on_step(step):
    if step == target:
        print("at", step, flush=True)
        if landing == "block":
            time.sleep(120)

source = FixedCode(code) if code != "-" else None
keys.rotate(keys.KeyDeps.from_service(service, on_step=on_step), "acme", source,
            mfa_first=source is not None)
print("done", flush=True)
"""


def _vault(env) -> dict[str, str]:
    store = Vault(env.home / "vault.bin", lambda: PASSPHRASE)
    names = store.keys()  # the SecretStore protocol, not a dict
    return {name: value for name in names if (value := store.get(name)) is not None}


def _accepted(sandbox, key_id: str, secret: str) -> bool:
    caller = StsCaller(key_id, secret, "us-east-1", endpoint_url=sandbox.endpoint_url)
    try:
        make_sts_client(caller).get_caller_identity()
    except Exception:
        return False
    return True


def _working_keys(env) -> list[str]:
    """Active IAM keys whose secret aacli holds (as its key, or as the pending one) and STS
    accepts: never zero."""
    import json

    stored = _vault(env)
    held = {
        load_config(env.home / "config.toml").profiles[0].access_key_id: stored.get(
            "acme/secret_access_key", ""
        )
    }
    pending = stored.get("acme/pending_secret_access_key")
    if pending:
        data = json.loads(pending)
        held[data["access_key_id"]] = data["secret_access_key"]
    active = [k for k, status in env.sandbox.access_keys(env.hub).items() if status == "Active"]
    return [k for k in active if k in held and _accepted(env.sandbox, k, held[k])]


def _secrets_of_user(env) -> list[str]:
    return [u.secret_access_key for u in env.sandbox.users if u.user_name == env.hub.user_name] + [
        v for v in _vault(env).values()
    ]


def _journal_text(env) -> str:
    path = env.home / "state" / "key-rotation-acme.json"
    return path.read_text() if path.exists() else ""


def _kill_at(env, step: str, landing: str, code: str = "-") -> str:
    """Run the rotation until ``step``, SIGKILL it there; what the worker said last."""
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, step, landing, code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env.environ(),
        cwd=env.root,
    )
    said = ""
    try:
        ready, _, _ = select.select([worker.stdout], [], [], 60)
        assert ready, "the rotation never reached " + step
        said = worker.stdout.readline().strip()
        assert said, worker.stderr.read()
        if landing != "block":
            time.sleep(float(landing))
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    return said


def _trial(env, step: str, landing: str, code: str = "-") -> str:
    _kill_at(env, step, landing, code)
    journal = _journal_text(env)
    assert not [s for s in _secrets_of_user(env) if s and s in journal], "a secret in the journal"
    assert _working_keys(env), "no working key after the kill"
    after = env.aacli("status")
    assert after.returncode == 0, after.stderr
    assert "Traceback" not in after.stderr
    return after.stderr


def _settled(env) -> None:
    """One active key in IAM: the one aacli uses, with the secret it holds; no journal."""
    profile = load_config(env.home / "config.toml").profiles[0]
    assert env.sandbox.access_keys(env.hub) == {profile.access_key_id: "Active"}
    assert _accepted(env.sandbox, profile.access_key_id, _vault(env)["acme/secret_access_key"])
    assert "acme/pending_secret_access_key" not in _vault(env)
    assert _journal_text(env) == ""


def test_a_rotation_killed_at_each_step_is_finished_or_undone(configured) -> None:
    """Issue 15 item 2: SIGKILL at each step (7 steps x 3 landings = 21 trials): the next
    command (`aacli status`) finishes or undoes the rotation, never zero working keys, never
    a secret in the journal; then a rotation works again."""
    env = configured
    started, trials = time.monotonic(), 0
    for step in STEPS:
        for landing in LANDINGS:
            before = load_config(env.home / "config.toml").profiles[0].access_key_id
            _trial(env, step, landing)
            _settled(env)
            now = load_config(env.home / "config.toml").profiles[0].access_key_id
            trials += 1
            add("rotation crashes", "trials")
            add("rotation crashes", "rolled back" if now == before else "finished")
    record("rotation crashes", "seconds", round(time.monotonic() - started, 1))
    assert trials >= 21
    result = env.aacli("rotate", "acme")
    assert result.returncode == 0, result.stderr
    _settled(env)


def test_with_the_mfa_condition_the_next_rotate_finishes_it(configured, sandbox) -> None:
    """Issue 15 item 2: with the MFA condition, a killed rotation leaves a working key; the next
    command that cannot reach IAM without a code says what to run, and `aacli rotate --code`
    finishes it (killed before the switch: undone, then rotated; after it: finished)."""
    env = configured
    sandbox.iam_mfa, sandbox.mfa_check = True, False  # any well-formed code proves MFA here
    try:
        codes = iter(f"{n:06d}" for n in range(100001, 100020))
        for step in ("created", "deactivate"):
            old = load_config(env.home / "config.toml").profiles[0].access_key_id
            stderr = _trial(env, step, "block", next(codes))
            assert "run 'aacli rotate acme' to finish it" in stderr
            assert _working_keys(env)
            result = env.aacli("rotate", "acme", "--code", next(codes))
            assert result.returncode == 0, result.stderr
            _settled(env)
            assert load_config(env.home / "config.toml").profiles[0].access_key_id != old
            add("rotation crashes", "trials")
            add("rotation crashes", "mfa trials")
    finally:
        sandbox.iam_mfa, sandbox.mfa_check = False, True
