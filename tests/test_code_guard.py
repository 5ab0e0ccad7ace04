"""The reuse guard on its own, with a fixed clock: which windows a used code stays blocked in."""

from __future__ import annotations

import json
import stat
from datetime import datetime, timedelta, timezone

import pytest

from trayapp.core.codes import CodeGuard
from trayapp.core.errors import AacliError, CodeReusedError

# The start of a 30 s window: 2026-01-01 00:00:00 UTC is a multiple of 30 s since the epoch.
W0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
DEVICE = "arn:aws:iam::111122223333:mfa/alice"
OTHER_DEVICE = "arn:aws:iam::111122223333:mfa/bob"


def at(window: int, second: int = 0) -> datetime:
    """A moment ``second`` s into the ``window``-th 30 s window after W0."""
    return W0 + timedelta(seconds=30 * window + second)


@pytest.fixture
def guard(tmp_path):
    return CodeGuard(tmp_path / "state" / "code-windows.json")


def test_a_used_code_stays_blocked_while_aws_could_still_accept_it(guard):
    """Issue 17 item 2: a code used in window w is blocked in w, w+1 and w+2, free from w+3.

    AWS accepts a code one window either side of its own, so the code shown in w is still
    good at the end of w+1; the guard keeps one window more for clock drift.
    """
    guard.path.parent.mkdir()
    guard.remember(DEVICE, "123456", at(0, 5))
    for window in (0, 1, 2):
        for second in (0, 29):
            assert guard.seconds_until_unused(DEVICE, "123456", at(window, second)) > 0, (
                window,
                second,
            )
            with pytest.raises(CodeReusedError):
                guard.check(DEVICE, "123456", at(window, second))
    for window in (3, 4, 100):
        assert guard.seconds_until_unused(DEVICE, "123456", at(window)) == 0
        guard.check(DEVICE, "123456", at(window))  # does not raise


def test_the_wait_is_until_the_device_shows_its_next_code(guard):
    """Issue 17 item 2: the wait told to the user ends at the next 30 s boundary."""
    guard.path.parent.mkdir()
    guard.remember(DEVICE, "123456", at(0, 1))
    assert guard.seconds_until_unused(DEVICE, "123456", at(0, 1)) == 29
    assert guard.seconds_until_unused(DEVICE, "123456", at(0, 20)) == 10
    assert guard.seconds_until_unused(DEVICE, "123456", at(1, 29)) == 1
    with pytest.raises(CodeReusedError) as caught:
        guard.check(DEVICE, "123456", at(0, 7))
    assert caught.value.wait_seconds == 23
    assert "already used" in str(caught.value) and "23 s" in str(caught.value)


def test_only_the_used_code_of_that_device_is_blocked(guard):
    """Issue 17 item 2: another code, or the same code on another device, goes through."""
    guard.path.parent.mkdir()
    guard.remember(DEVICE, "123456", at(0))
    assert guard.seconds_until_unused(DEVICE, "654321", at(0)) == 0
    assert guard.seconds_until_unused(OTHER_DEVICE, "123456", at(0)) == 0

    # Remembering a code for a second device keeps the first device's entry.
    guard.remember(OTHER_DEVICE, "111111", at(1))
    assert guard.seconds_until_unused(DEVICE, "123456", at(1)) > 0
    assert guard.seconds_until_unused(OTHER_DEVICE, "111111", at(1)) > 0
    assert guard.seconds_until_unused(OTHER_DEVICE, "123456", at(1)) == 0

    # A device's next code replaces its last one: the old one is then only AWS's business.
    guard.remember(DEVICE, "222222", at(1))
    assert guard.seconds_until_unused(DEVICE, "222222", at(1)) > 0
    assert guard.seconds_until_unused(OTHER_DEVICE, "111111", at(1)) > 0


def test_the_state_file_is_private_and_holds_no_code(guard):
    """Issue 17 item 2: the state file is 0600 and does not show the code in clear."""
    guard.path.parent.mkdir()
    guard.remember(DEVICE, "123456", at(0))
    assert stat.S_IMODE(guard.path.stat().st_mode) == 0o600
    assert "123456" not in guard.path.read_text()
    # A fresh guard over the same file (another process) sees the same state.
    assert CodeGuard(guard.path).seconds_until_unused(DEVICE, "123456", at(1)) > 0


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x00\xff\xfe not json",
        b"{ half a json",
        b"[1, 2, 3]",
        b'"a string"',
        json.dumps({DEVICE: "not a dict"}).encode(),
        json.dumps({DEVICE: {"code": 12, "window": "soon"}}).encode(),
        json.dumps({DEVICE: {"window": 1}}).encode(),
        json.dumps({"someone-else": {"what": "ever"}, "version": 7}).encode(),
    ],
)
def test_a_corrupt_or_foreign_state_file_blocks_nothing_and_is_replaced(guard, content):
    """Issue 17 item 2: a state file that is not the guard's blocks no code and never raises;
    the next remember writes a good one that blocks the used code."""
    guard.path.parent.mkdir()
    guard.path.write_bytes(content)
    assert guard.seconds_until_unused(DEVICE, "123456", at(0)) == 0
    guard.check(DEVICE, "123456", at(0))
    guard.remember(DEVICE, "123456", at(0))
    assert guard.seconds_until_unused(DEVICE, "123456", at(0)) > 0
    assert isinstance(json.loads(guard.path.read_text()), dict)


def test_a_missing_state_file_blocks_nothing(guard):
    """Issue 17 item 2: no state yet (first run): every code may be sent."""
    assert guard.seconds_until_unused(DEVICE, "123456", at(0)) == 0
    guard.check(DEVICE, "123456", at(0))


def test_the_refusal_is_one_clear_sentence(guard):
    """Issue 17 item 2: what the user reads when a code was used (mutation testing found the
    wording untested)."""
    guard.path.parent.mkdir()
    guard.remember(DEVICE, "123456", at(0))
    with pytest.raises(CodeReusedError) as caught:
        guard.check(DEVICE, "123456", at(0, 10))
    assert str(caught.value) == (
        "This MFA code was already used; wait for the next code (about 20 s) and try again."
    )


def test_a_used_code_with_a_damaged_window_blocks_nothing(guard):
    """Issue 17 item 2: the entry names the code but its window is not a number: not used."""
    guard.path.parent.mkdir()
    guard.remember(DEVICE, "123456", at(0))
    data = json.loads(guard.path.read_text())
    for bad in ("soon", None, 1.5, [1]):
        data[DEVICE]["window"] = bad
        guard.path.write_text(json.dumps(data))
        assert guard.seconds_until_unused(DEVICE, "123456", at(0)) == 0, bad


@pytest.mark.parametrize("mode", [0o620, 0o602])
def test_a_state_file_others_can_write_is_refused(guard, mode):
    """Issue 17 item 2 (and the trust issue): another user could unblock a used code, or
    block every code, by writing the state file: it is refused with the fix, not read."""
    guard.path.parent.mkdir(mode=0o700)
    guard.remember(DEVICE, "123456", at(0))
    guard.path.chmod(mode)
    before = guard.path.read_bytes()
    for attempt in (
        lambda: guard.check(DEVICE, "123456", at(0)),
        lambda: guard.remember(DEVICE, "654321", at(1)),
    ):
        with pytest.raises(AacliError, match=f"chmod 600 {guard.path}"):
            attempt()
    assert guard.path.read_bytes() == before
