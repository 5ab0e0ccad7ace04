"""Codes from a command (``aacli config codes PROFILE --process CMD``, aws-vault's mfa_process):
real processes, the real CLI, the sandbox over HTTP."""

from __future__ import annotations

import configparser
import shlex
import sys
import time

import pytest
from conftest import assert_one_line_error

# Prints the device's current code from the seed in argv[1]'s file; refuses to if aacli's
# vault passphrase reached its environment.
CODE_SCRIPT = """\
import os, sys, pyotp
if "AACLI_PASSPHRASE" in os.environ:
    sys.exit("AACLI_PASSPHRASE leaked into the MFA command")
print(pyotp.TOTP(open(sys.argv[1]).read().strip()).now())
"""


def _profiles(path):
    parser = configparser.RawConfigParser()
    parser.read(path)
    return parser.sections()


def _code_command(env, tmp_path):
    seed = tmp_path / "seed.txt"
    seed.write_text(env.hub.mfa_seed)
    script = tmp_path / "print code.py"  # a space: the command line is split as a shell would
    script.write_text(CODE_SCRIPT)
    return shlex.join([sys.executable, str(script), str(seed)])


def _set_process(env, command):
    result = env.aacli("config", "codes", "acme", "--process", command)
    assert result.returncode == 0, result.stderr
    return result


def test_a_command_that_prints_the_code_signs_in_without_typing(configured, tmp_path):
    """Issue 14 item 2: --process source, success: the command's code reaches AWS, no typing;
    a second sign-in in the same window waits for the next code instead of reusing it."""
    _set_process(configured, _code_command(configured, tmp_path))
    shown = configured.aacli("config", "show")
    assert "codes: command:" in shown.stdout, shown.stdout

    result = configured.aacli("auth", "dev/DEVELOPER")
    assert result.returncode == 0, result.stderr
    assert "dev-DEVELOPER" in _profiles(configured.credentials)
    sent = [r for r in configured.sandbox.sts_requests if r.serial == configured.hub.mfa_serial]
    assert sent[-1].token_code is not None

    # The reuse guard applies: the same window's code is not sent twice.
    started = time.monotonic()
    again = configured.aacli("auth", "dev/ReadOnly", timeout=90)
    assert again.returncode == 0, again.stderr
    sent = [r for r in configured.sandbox.sts_requests if r.serial == configured.hub.mfa_serial]
    codes = [r.token_code for r in sent if r.action == "AssumeRole"]
    assert len(codes) == 2 and codes[0] != codes[1], codes
    if "already used" in again.stderr:  # the command gave the used code: aacli waited
        assert time.monotonic() - started < 40


def test_a_command_that_prints_garbage_is_refused_without_showing_it(configured):
    """Issue 14 item 2: --process source, garbage on stdout: one clear line, nothing written,
    and what it printed is not echoed (it might be a secret)."""
    _set_process(configured, f"{shlex.quote(sys.executable)} -c \"print('hunter2 not a code')\"")
    result = configured.aacli("auth", "dev/DEVELOPER")
    assert_one_line_error(result, "printed something other than a 6-digit code")
    assert "hunter2" not in result.stderr
    assert not configured.credentials.exists() or "dev-DEVELOPER" not in _profiles(
        configured.credentials
    )


def test_a_command_that_fails_shows_its_stderr(configured):
    """Issue 14 item 2: --process source, a failing command: its stderr and exit status are in
    the one-line error."""
    _set_process(
        configured,
        f"{shlex.quote(sys.executable)} -c "
        "\"import sys; sys.stderr.write('vault is locked: run op signin\\n'); sys.exit(3)\"",
    )
    result = configured.aacli("auth", "dev/DEVELOPER")
    assert_one_line_error(result, "vault is locked: run op signin", "exit 3")


def test_the_command_runs_without_a_shell(configured, tmp_path):
    """Issue 14 item 2: the command line is split as a shell would, but no shell runs it: a ';'
    is just an argument, so nothing after it is executed."""
    planted = tmp_path / "planted"
    _set_process(configured, f"echo 123456; touch {planted}")
    result = configured.aacli("auth", "dev/DEVELOPER")
    assert_one_line_error(result, "other than a 6-digit code")
    assert not planted.exists()


def test_a_command_that_hangs_is_stopped_in_bounded_time(tmp_path):
    """Issue 14 item 2: --process source, a hanging command: stopped after its time limit,
    with one clear sentence."""
    from trayapp.core.clock import system_clock
    from trayapp.core.codes import CodeGuard, CodeRequest
    from trayapp.core.codes.process import ProcessCode
    from trayapp.core.errors import CodeError

    source = ProcessCode(
        command=f"{shlex.quote(sys.executable)} -c 'import time; time.sleep(60)'",
        guard=CodeGuard(tmp_path / "state" / "code-windows.json"),
        clock=system_clock,
        timeout=2,
    )
    started = time.monotonic()
    with pytest.raises(CodeError, match="gave no code within 2 s"):
        source.get_code(CodeRequest(target="acme/dev/DEVELOPER", device="GAHT12345678"))
    assert time.monotonic() - started < 10


def test_config_codes_checks_its_arguments(configured):
    """Issue 14 item 2: a command line that cannot be split is refused and changes nothing."""
    before = (configured.home / "config.toml").read_bytes()
    result = configured.aacli("config", "codes", "acme", "--process", "op 'unterminated")
    assert_one_line_error(result, "cannot be split")
    result = configured.aacli("config", "codes", "nobody", "--ask")
    assert_one_line_error(result, "no profile named 'nobody'")
    assert (configured.home / "config.toml").read_bytes() == before


def test_ask_goes_back_to_typing(configured):
    """Issue 14 item 2: `config codes PROFILE --ask` turns the command source off again: codes
    are asked for (here: no terminal, so the sign-in says to pass --code)."""
    _set_process(configured, f"{shlex.quote(sys.executable)} -c 'print(123456)'")
    result = configured.aacli("config", "codes", "acme", "--ask")
    assert result.returncode == 0, result.stderr
    assert "codes: typed" in configured.aacli("config", "show").stdout
    result = configured.aacli("auth", "dev/DEVELOPER", DISPLAY="")
    assert_one_line_error(result, "--code")


def test_keep_fresh_renews_through_the_command_without_asking(configured, sandbox, tmp_path):
    """Issue 14 item 2: a command needs nobody, so the tray's keep-fresh renewal uses it (as it
    uses a stored seed): the role is renewed before expiry without a dialog."""
    import threading

    from trayapp.tray.app import TrayApp

    _set_process(configured, _code_command(configured, tmp_path))
    assert configured.aacli("config", "keep-fresh", "dev/ReadOnly", "on").returncode == 0
    sandbox.credential_lifetime = 305  # inside the 5-minute warning at once
    try:
        assert configured.aacli("auth", "dev/ReadOnly").returncode == 0
        first_key = _key_id(configured)
        service = configured.service()

        def no_dialog():
            raise AssertionError("keep-fresh must not ask for a code")

        app = TrayApp(service, code_source=no_dialog, poll_seconds=0.5)
        worker = threading.Thread(target=app._work, daemon=True)
        worker.start()
        # Sign-ins (a keep-fresh renewal too) run on their own worker, as in the tray.
        signer = threading.Thread(target=app._work_sign_ins, daemon=True)
        signer.start()
        app.scheduler.start()
        try:
            deadline = time.monotonic() + 60  # the code of the first sign-in is not reused
            while time.monotonic() < deadline and _key_id(configured) == first_key:
                time.sleep(0.5)
        finally:
            app.scheduler.stop()
            app.actions.put(None)
            app.sign_ins.put(None)
            worker.join(timeout=10)
            signer.join(timeout=10)
    finally:
        sandbox.credential_lifetime = None
    assert _key_id(configured) not in (None, first_key)
    assert any("renewed (keep fresh)" in message for _, message in app.notify.sent)


def _key_id(env):
    parser = configparser.RawConfigParser()
    parser.read(env.credentials)
    return parser.get("dev-ReadOnly", "aws_access_key_id", fallback=None)
