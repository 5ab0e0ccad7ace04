"""Fewer prompts: stored TOTP seeds, MFA sessions and keep-fresh renewal, against the sandbox."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.request

import pyotp
import pytest
from conftest import assert_one_line_error, aws_cli_v2

NO_TERMINAL = {"DISPLAY": "", "WAYLAND_DISPLAY": ""}  # no terminal either: stdin is a pipe


def _status(env):
    return json.loads(env.aacli("status", "--json").stdout)


def _key_id(env, profile):
    import configparser

    parser = configparser.RawConfigParser()
    parser.read(env.credentials)
    return parser[profile]["aws_access_key_id"] if parser.has_section(profile) else None


@pytest.mark.slow
def test_stored_seed_needs_no_prompt_and_waits_for_a_fresh_code(configured):
    seed = configured.hub.mfa_seed
    result = configured.aacli("config", "totp", "acme", "--seed-from-stdin", input=seed + "\n")
    assert result.returncode == 0, result.stderr
    assert "same machine" in result.stderr  # the trade-off is said at setup
    assert seed not in result.stdout + result.stderr
    assert seed.encode() not in (configured.home / "vault.bin").read_bytes()

    # Issue 17 item 8: both runs start in one 30 s window, so the second must wait: start
    # early in a window (the wait below is at most 20 s; the test is slow anyway).
    if time.time() % 30 > 10:
        time.sleep(30 - time.time() % 30 + 0.2)
    window = int(time.time()) // 30
    first = configured.aacli("auth", "dev/DEVELOPER", **NO_TERMINAL)
    assert first.returncode == 0, first.stderr
    started = time.monotonic()
    second_started_in = int(time.time()) // 30
    second = configured.aacli("auth", "prod/ReadOnly", **NO_TERMINAL)
    assert second.returncode == 0, second.stderr
    assert second_started_in == window, "the first auth took over 20 s: the machine is too slow"
    # One window would need one code twice: the second waited for the next window's code.
    assert "waiting" in second.stderr, second.stderr
    assert time.monotonic() - started >= 1
    sent = [
        r.token_code
        for r in configured.sandbox.sts_requests
        if r.serial == configured.hub.mfa_serial and r.token_code
    ]
    totp = pyotp.TOTP(seed)
    assert sent == [totp.at(window * 30), totp.at((window + 1) * 30)]
    assert {s["target"] for s in _status(configured)["sessions"]} == {
        "acme/dev/DEVELOPER",
        "acme/prod/ReadOnly",
    }


def test_seed_check_reports_drift_and_catches_a_wrong_seed(configured):
    otpauth = f"otpauth://totp/AWS:user?secret={configured.hub.mfa_seed}&issuer=AWS"
    assert (
        configured.aacli(
            "config", "totp", "acme", "--seed-from-stdin", input=otpauth + "\n"
        ).returncode
        == 0
    )
    same = configured.aacli("config", "totp", "acme", "--check", input=configured.code() + "\n")
    assert same.returncode == 0 and "same code" in same.stderr, same.stderr
    drift = configured.aacli(
        "config", "totp", "acme", "--check", input=configured.next_code() + "\n"
    )
    assert drift.returncode == 0 and "1 window" in drift.stderr, drift.stderr

    wrong = pyotp.random_base32()
    assert (
        configured.aacli(
            "config", "totp", "acme", "--seed-from-stdin", input=wrong + "\n"
        ).returncode
        == 0
    )
    result = configured.aacli("config", "totp", "acme", "--check", input=configured.code() + "\n")
    assert_one_line_error(result, "does not match")

    assert configured.aacli("config", "totp", "acme", "--remove").returncode == 0
    result = configured.aacli("auth", "dev/DEVELOPER", **NO_TERMINAL)
    assert_one_line_error(result, "--code")  # back to asking


@pytest.mark.parametrize(
    "bad", ["not base32 !!", "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP", "AAAA"]
)
def test_bad_seeds_are_refused(configured, bad):
    before = (configured.home / "vault.bin").read_bytes()
    result = configured.aacli("config", "totp", "acme", "--seed-from-stdin", input=bad + "\n")
    assert_one_line_error(result)
    assert (configured.home / "vault.bin").read_bytes() == before


def test_mfa_session_one_code_three_roles(configured):
    result = configured.aacli("config", "mfa-session", "acme", "12h")
    assert result.returncode == 0, result.stderr
    result = configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code())
    assert result.returncode == 0, result.stderr
    assert "at most 1 h" in result.stderr  # the role asks for 2 h: capped, and said so
    for target in ("prod/ReadOnly", "dev/ReadOnly"):
        result = configured.aacli("auth", target, **NO_TERMINAL)
        assert result.returncode == 0, result.stderr
    status = _status(configured)
    assert len(status["sessions"]) == 3
    assert all(s["seconds_left"] <= 3600 for s in status["sessions"])
    assert [m["profile"] for m in status["mfa_sessions"]] == ["acme"]
    assert status["mfa_sessions"][0]["seconds_left"] > 11 * 3600
    assert "MFA session of profile acme" in configured.aacli("status").stdout

    # The console gets no SessionDuration for such a session (the sandbox, like AWS, refuses it).
    web = configured.aacli("web", "dev/DEVELOPER", "--print")
    assert web.returncode == 0, web.stderr
    with urllib.request.urlopen(web.stdout.strip(), timeout=10) as page:
        assert page.status == 200

    result = configured.aacli("unauth", "--all", "--mfa-session")
    assert result.returncode == 0 and "Dropped the MFA session" in result.stderr
    after = _status(configured)
    assert (after["sessions"], after["mfa_sessions"], after["problems"]) == ([], [], [])
    assert_one_line_error(configured.aacli("auth", "dev/ReadOnly", **NO_TERMINAL), "--code")


def test_a_new_hub_key_drops_the_mfa_session(configured):
    configured.aacli("config", "mfa-session", "acme", "1h")
    assert configured.aacli("auth", "dev/ReadOnly", "--code", configured.code()).returncode == 0
    assert _status(configured)["mfa_sessions"]
    result = configured.aacli(
        "config", "set-key", "acme", input=configured.hub.secret_access_key + "\n"
    )
    assert result.returncode == 0, result.stderr
    assert _status(configured)["mfa_sessions"] == []


def test_mfa_session_setting_is_validated(configured):
    before = (configured.home / "config.toml").read_bytes()
    assert_one_line_error(configured.aacli("config", "mfa-session", "acme", "37h"), "36 h")
    assert_one_line_error(configured.aacli("config", "mfa-session", "acme", "5m"), "15 min")
    assert (configured.home / "config.toml").read_bytes() == before


@pytest.mark.awscli
def test_keep_fresh_renews_before_expiry_and_the_aws_cli_keeps_working(configured, sandbox):
    from trayapp.tray.app import TrayApp

    aws = aws_cli_v2()
    assert configured.aacli("config", "mfa-session", "acme", "1h").returncode == 0
    assert configured.aacli("config", "keep-fresh", "dev/ReadOnly", "on").returncode == 0
    sandbox.credential_lifetime = 305  # 5 min 5 s: inside the 5-minute warning at once
    try:
        assert configured.aacli("auth", "dev/ReadOnly", "--code", configured.code()).returncode == 0
        first_key = _key_id(configured, "dev-ReadOnly")

        def identity() -> str:
            out = subprocess.run(
                [
                    aws,
                    "sts",
                    "get-caller-identity",
                    "--profile",
                    "dev-ReadOnly",
                    "--output",
                    "json",
                    "--endpoint-url",
                    sandbox.endpoint_url,
                ],
                capture_output=True,
                text=True,
                env=configured.environ(),
                timeout=60,
            )
            assert out.returncode == 0, out.stderr
            return json.loads(out.stdout)["Arn"]

        assert ":assumed-role/ReadOnly/" in identity()
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
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and _key_id(configured, "dev-ReadOnly") == first_key:
                assert ":assumed-role/ReadOnly/" in identity()  # working all along
                time.sleep(0.5)
        finally:
            app.scheduler.stop()
            app.actions.put(None)
            app.sign_ins.put(None)
            worker.join(timeout=10)
            signer.join(timeout=10)
        renewed = _key_id(configured, "dev-ReadOnly")
        assert renewed and renewed != first_key
        assert ":assumed-role/ReadOnly/" in identity()
        assert any("renewed" in message for _, message in app.notify.sent)
    finally:
        sandbox.credential_lifetime = None
