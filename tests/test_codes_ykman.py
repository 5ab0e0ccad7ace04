"""Codes from a YubiKey's OATH applet through ykman (``aacli config codes PROFILE --ykman``):
a stand-in ykman 5 on PATH (tests/fakes/ykman) computes the codes from the hub user's MFA seed,
with a touch delay, several keys and a "no key" mode; the real CLI; the sandbox over HTTP."""

from __future__ import annotations

import configparser
import json
import os
import sys
from pathlib import Path

import pytest
from conftest import assert_one_line_error

FAKE = Path(__file__).resolve().parent / "fakes" / "ykman"


class FakeYkman:
    """The stand-in's state file: the keys plugged in, their accounts, the touch delay."""

    def __init__(self, folder: Path) -> None:
        self.bin = folder / "bin"
        self.bin.mkdir(parents=True)
        program = self.bin / "ykman"
        # This interpreter, not whatever python3 is on PATH.
        program.write_text(f"#!{sys.executable}\n" + FAKE.read_text(encoding="utf-8"))
        program.chmod(0o755)
        self.state_file = folder / "ykman-state.json"
        self.log = folder / "ykman-calls.log"
        self.state: dict = {"keys": [], "touch_delay": 1.0, "log": str(self.log)}
        self.write()

    def plug(self, serial: str, accounts: list[dict], password: bool = False) -> None:
        self.state["keys"].append({"serial": serial, "accounts": accounts, "password": password})
        self.write()

    def write(self) -> None:
        self.state_file.write_text(json.dumps(self.state), encoding="utf-8")

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def env(self) -> dict[str, str]:
        return {
            "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "FAKE_YKMAN_STATE": str(self.state_file),
        }


@pytest.fixture
def yubikey(configured, tmp_path) -> FakeYkman:
    fake = FakeYkman(tmp_path)
    configured.vars.update(fake.env())
    return fake


def _profiles(path):
    parser = configparser.RawConfigParser()
    parser.read(path)
    return parser.sections()


def _nothing_written(env):
    return not env.credentials.exists() or "dev-DEVELOPER" not in _profiles(env.credentials)


def test_cli_signs_in_with_a_touch_yubikey_without_typing(configured, yubikey):
    """Issue 14 item 1: auth from the CLI through ykman 5's `oath accounts code --single` (the
    account named like the MFA device, as aws-vault does), "Touch your YubiKey" said while it
    waits; a second sign-in in the same 30 s window waits for the next code."""
    seed = configured.hub.mfa_seed
    yubikey.plug("12345678", [{"name": configured.hub.mfa_serial, "seed": seed, "touch": True}])
    result = configured.aacli("config", "codes", "acme", "--ykman")
    assert result.returncode == 0, result.stderr
    assert "YubiKey (ykman)" in configured.aacli("config", "show").stdout

    result = configured.aacli("auth", "dev/DEVELOPER")
    assert result.returncode == 0, result.stderr
    assert "Touch your YubiKey" in result.stderr
    assert result.stderr.index("Touch your YubiKey") < result.stderr.index("credentials written")
    assert "dev-DEVELOPER" in _profiles(configured.credentials)
    assert yubikey.calls()[-1] == [
        "oath", "accounts", "code", "--single", configured.hub.mfa_serial
    ]  # fmt: skip

    again = configured.aacli("auth", "dev/ReadOnly", timeout=90)
    assert again.returncode == 0, again.stderr
    codes = [
        r.token_code
        for r in configured.sandbox.sts_requests
        if r.action == "AssumeRole" and r.serial == configured.hub.mfa_serial
    ]
    assert len(codes) == 2 and codes[0] != codes[1], codes  # never one code twice


def test_several_keys_are_told_apart_by_serial(configured, yubikey):
    """Issue 14 item 1: with two YubiKeys plugged in, --serial picks one (ykman --device);
    --account names the OATH account; without a serial, one clear sentence."""
    seed = configured.hub.mfa_seed
    yubikey.plug("11111111", [{"name": "GitHub:alice", "seed": "JBSWY3DPEHPK3PXPJBSWY3DP"}])
    yubikey.plug("22222222", [{"name": "AWS:alice", "seed": seed}])
    configured.aacli("config", "codes", "acme", "--ykman", "--account", "AWS:alice")
    result = configured.aacli("auth", "dev/DEVELOPER")
    assert_one_line_error(result, "Several YubiKeys are plugged in", "--serial")

    result = configured.aacli(
        "config", "codes", "acme", "--ykman", "--account", "AWS:alice", "--serial", "22222222"
    )
    assert result.returncode == 0, result.stderr
    shown = configured.aacli("config", "show").stdout
    assert "account AWS:alice on key 22222222" in shown, shown
    result = configured.aacli("auth", "dev/DEVELOPER")
    assert result.returncode == 0, result.stderr
    assert "Touch" not in result.stderr  # this account needs no touch: no prompt
    assert yubikey.calls()[-1][:2] == ["--device", "22222222"]


@pytest.mark.parametrize(
    ("setup", "sentence"),
    [
        ("no key", "No YubiKey is plugged in"),
        ("wrong account", "No OATH account matching 'AWS:bob'"),
        ("password", "password-protected"),
        ("serial absent", "YubiKey with serial 99999999 is not plugged in"),
        ("no ykman", "ykman (YubiKey Manager) is not installed"),
    ],
)
def test_each_ykman_failure_is_one_clear_sentence(configured, yubikey, setup, sentence):
    """Issue 14 item 1: ykman missing, no key inserted, wrong account, a password-protected
    key, the named key absent: one line each, nothing written."""
    seed = configured.hub.mfa_seed
    args = ["config", "codes", "acme", "--ykman", "--account", "AWS:alice"]
    if setup != "no key":
        yubikey.plug(
            "12345678", [{"name": "AWS:alice", "seed": seed}], password=setup == "password"
        )
    if setup == "wrong account":
        args[-1] = "AWS:bob"
    if setup == "serial absent":
        args += ["--serial", "99999999"]
    if setup == "no ykman":
        configured.vars["PATH"] = "/nonexistent-bin"
    assert configured.aacli(*args).returncode == 0
    result = configured.aacli("auth", "dev/DEVELOPER")
    assert_one_line_error(result, sentence)
    assert _nothing_written(configured)


def test_the_touch_prompt_comes_and_goes_and_a_wait_is_bounded(tmp_path, monkeypatch):
    """Issue 14 item 1: the code source tells on_prompt "Touch your YubiKey" only once ykman
    asks for the touch, and None when the wait is over: with the code, and when nobody touches
    it (ykman is stopped after the source's time limit)."""
    import time

    from trayapp.core.clock import system_clock
    from trayapp.core.codes import CodeGuard, CodeRequest
    from trayapp.core.codes.ykman import YkmanCode
    from trayapp.core.errors import CodeError

    fake = FakeYkman(tmp_path)
    fake.plug("12345678", [{"name": "AWS:alice", "seed": "JBSWY3DPEHPK3PXP", "touch": True}])
    monkeypatch.setenv("FAKE_YKMAN_STATE", str(fake.state_file))
    said: list[str | None] = []
    source = YkmanCode(
        guard=CodeGuard(tmp_path / "state" / "code-windows.json"),
        clock=system_clock,
        account="AWS:alice",
        program=str(fake.bin / "ykman"),
        on_prompt=said.append,
    )
    request = CodeRequest(target="acme/dev/DEVELOPER", device="arn:aws:iam::1:mfa/alice")
    code = source.get_code(request)
    assert len(code) == 6 and code.isdigit()
    assert said == ["Touch your YubiKey", None]

    fake.state["touch_delay"] = 60
    fake.write()
    source.timeout = 2
    said.clear()
    started = time.monotonic()
    with pytest.raises(CodeError, match="gave no code within 2 s"):
        source.get_code(request)
    assert time.monotonic() - started < 10
    assert said == ["Touch your YubiKey", None]
