"""The Tk dialogs as the user meets them: child processes on an Xvfb display, driven by xdotool."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import tkinter as tk
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import screenshot_dir
from PIL import Image

from tests.xvfb import (
    close_window,
    display_env,
    require_tools,
    screenshot,
    screenshot_when,
    xdotool,
    xvfb_display,
)
from trayapp.core.errors import AacliError
from trayapp.dialogs import client
from trayapp.dialogs.mfa import digits_from_paste

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"
SCREENSHOTS = screenshot_dir()
TARGET = "acme/dev/DEVELOPER"
DEVICE = "arn:aws:iam::999999999999:mfa/alice"
MFA = ["mfa", "--target", TARGET, "--device", DEVICE]


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    require_tools("Xvfb", "xdpyinfo", "xdotool", "import")
    with xvfb_display() as name:
        yield name


class Dialog:
    """One ``python -m trayapp.dialogs`` child on the test display."""

    def __init__(self, display: str, *args: str) -> None:
        self.display = display
        self.child = subprocess.Popen(
            [sys.executable, "-m", "trayapp.dialogs", *args],
            env=display_env(display),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.window = wait_for_focused_dialog(display)

    def type(self, text: str) -> None:
        xdotool(self.display, "type", "--delay", "20", text)

    def key(self, *keys: str) -> None:
        xdotool(self.display, "key", "--delay", "20", *keys)

    def finish(self) -> tuple[int, str, str]:
        stdout, stderr = self.child.communicate(timeout=10)
        return self.child.returncode, stdout, stderr


def wait_for_focused_dialog(display: str, timeout: float = 30.0) -> str:
    """The dialog's window id, once it is shown and holds the keyboard focus.

    The pointer is parked in a corner first: on a server without a window
    manager the focus otherwise follows the pointer, which would hide a dialog
    that failed to take the focus itself.
    """
    xdotool(display, "mousemove", "0", "0")
    found = xdotool(
        display, "search", "--sync", "--onlyvisible", "--name", "aacli", timeout=timeout
    )
    window = found.split()[-1]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        focus = subprocess.run(
            ["xdotool", "getwindowfocus"], env=display_env(display), capture_output=True, text=True
        )
        if focus.stdout.strip() == window:
            return window
        time.sleep(0.05)
    raise AssertionError("the dialog did not take the keyboard focus")


def red_pixels(path: Path) -> int:
    image = Image.open(path).convert("RGB")
    data = image.tobytes()
    pixels = (data[i : i + 3] for i in range(0, len(data), 3))
    return sum(1 for r, g, b in pixels if r > 150 and g < 90 and b < 90)


@pytest.mark.parametrize(
    ("pasted", "expected"),
    [
        ("123456", "123456"),
        (" 123 456\n", "123456"),
        ("123-456", "123456"),
        ("\t12\n34 ", "1234"),
        ("12345a", None),
        ("\uff11\uff12\uff13\uff14\uff15\uff16", None),  # full-width digits: not for AWS
    ],
)
def test_pasted_text_keeps_only_a_plain_run_of_digits(pasted: str, expected: str | None) -> None:
    assert digits_from_paste(pasted) == expected


@pytest.mark.display
def test_typing_keeps_digits_only_and_at_most_six(display: str) -> None:
    dialog = Dialog(display, *MFA)
    dialog.type("12a3456789")
    dialog.key("Return")
    assert dialog.finish() == (0, "123456\n", "")


@pytest.mark.display
def test_five_digits_do_not_submit(display: str) -> None:
    """Issue 17 item 11: no sleep: the dialog handles keys in order, so Escape after Return
    cancels only if Return did not submit."""
    dialog = Dialog(display, *MFA)
    dialog.type("12345")
    dialog.key("Return", "Escape")
    assert dialog.finish() == (1, "", "")


@pytest.mark.display
def test_escape_cancels(display: str) -> None:
    dialog = Dialog(display, *MFA)
    dialog.type("123")
    dialog.key("Escape")
    assert dialog.finish() == (1, "", "")


@pytest.mark.display
def test_closing_the_window_cancels(display: str) -> None:
    dialog = Dialog(display, *MFA)
    dialog.type("123456")
    close_window(display, dialog.window)
    assert dialog.finish() == (1, "", "")


@pytest.mark.display
def test_a_pasted_code_with_spaces_is_accepted(display: str) -> None:
    owner = subprocess.Popen(  # Tk keeps the clipboard only while its owner runs
        [
            sys.executable,
            "-c",
            "import sys, tkinter\n"
            "root = tkinter.Tk(); root.withdraw()\n"
            "root.clipboard_clear(); root.clipboard_append(' 123 456\\n'); root.update()\n"
            "print('ready', flush=True); root.mainloop()\n",
        ],
        env=display_env(display),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None and owner.stdout.readline() == "ready\n"
        dialog = Dialog(display, *MFA)
        dialog.key("ctrl+v")
        dialog.key("Return")
        assert dialog.finish() == (0, "123456\n", "")
    finally:
        owner.kill()
        owner.wait()


@pytest.mark.display
def test_the_plain_dialog_looks_right(display: str) -> None:
    dialog = Dialog(display, *MFA)
    empty = screenshot(display, dialog.window, ARTIFACTS / "mfa-dialog-empty.png")
    dialog.type("123456")
    # Issue 17 item 11: wait for the typed code to be drawn (the picture changes, then holds).
    shots = [Image.open(empty).convert("RGB").tobytes()]

    def drawn_and_still(path: Path) -> bool:
        shots.append(Image.open(path).convert("RGB").tobytes())
        return len(shots) > 2 and shots[-1] == shots[-2] and shots[-1] != shots[0]

    shot = screenshot_when(
        display, dialog.window, SCREENSHOTS / "mfa-dialog.png", drawn_and_still, "the typed code"
    )
    dialog.key("Escape")
    assert dialog.finish()[0] == 1
    width, height = Image.open(shot).size
    assert 300 <= width <= 480 and 140 <= height <= 260, f"the dialog is {width}x{height}"
    assert red_pixels(shot) == 0


@pytest.mark.display
def test_the_previous_error_is_shown_in_red(display: str) -> None:
    dialog = Dialog(display, *MFA, "--error", "MFA code was wrong", "--hint", "654321")
    # Issue 17 item 11: wait for the red error text to be drawn, not a fixed time.
    shot = screenshot_when(
        display,
        dialog.window,
        ARTIFACTS / "dialog-error.png",
        lambda path: red_pixels(path) > 100,
        "red error text in the dialog",
    )
    dialog.key("Escape")
    assert dialog.finish()[0] == 1
    image = Image.open(shot).convert("RGB")
    assert len(image.getcolors(maxcolors=100_000) or []) > 20, "the screenshot is blank"
    assert red_pixels(shot) > 100, "no red error text in the dialog"


@pytest.mark.display
def test_the_window_names_target_device_error_and_hint(
    display: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same widgets, built in this process so their texts and states can be read."""
    from trayapp.dialogs.common import make_root
    from trayapp.dialogs.mfa import MfaDialog

    monkeypatch.setenv("DISPLAY", display)
    root = make_root("aacli test")
    try:
        dialog = MfaDialog(root, TARGET, DEVICE, error="MFA code was wrong", hint="654321")
        texts = [str(widget.cget("text")) for widget in _descendants(root) if _has_text(widget)]
        assert any(TARGET in text for text in texts)
        assert any(DEVICE in text for text in texts)
        assert dialog.error_label is not None and dialog.error_label.cget("text") == (
            "MFA code was wrong"
        )
        assert dialog.hint_label is not None and dialog.hint_label.cget("text") == (
            "Demo code: 654321"
        )
        for typed in "12x3456789":
            dialog.entry.insert("end", typed)
            if typed == "5":
                assert dialog.ok_button.instate(["disabled"])
        assert dialog.value.get() == "123456"
        assert not dialog.ok_button.instate(["disabled"])
    finally:
        if root.winfo_exists():
            root.destroy()


def _descendants(widget: tk.Misc) -> Iterator[tk.Misc]:
    for child in widget.winfo_children():
        yield child
        yield from _descendants(child)


def _has_text(widget: tk.Misc) -> bool:
    return "text" in widget.keys()  # noqa: SIM118 - Tk options, not a dict


@pytest.mark.display
def test_passphrase_is_printed_after_return(display: str) -> None:
    dialog = Dialog(display, "passphrase", "--purpose", "Unlock the aacli vault")
    dialog.type("correct horse")
    dialog.key("Return")
    assert dialog.finish() == (0, "correct horse\n", "")


@pytest.mark.display
def test_passphrases_that_differ_are_not_accepted(display: str) -> None:
    """Issue 17 item 11: no sleep: had the mismatch been accepted, "first-try" would be the
    answer; keys are handled in order, so what follows goes to the cleared fields."""
    dialog = Dialog(display, "passphrase", "--purpose", "Create the vault", "--confirm")
    dialog.type("first-try")
    dialog.key("Tab")
    dialog.type("first-trY")
    dialog.key("Return")
    # Both fields are cleared and the first has the focus again; Return moves to the second.
    dialog.type("s3cret-phrase")  # issue 12: a new vault's passphrase has 8 characters or more
    dialog.key("Return")
    dialog.type("s3cret-phrase")
    dialog.key("Return")
    assert dialog.finish() == (0, "s3cret-phrase\n", "")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="DISPLAY matters on X11 only")
def test_without_a_display_the_child_exits_2_with_one_line() -> None:
    env = display_env(":0")
    del env["DISPLAY"]
    done = subprocess.run(
        [sys.executable, "-m", "trayapp.dialogs", *MFA],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("aacli: cannot show the mfa dialog: ")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="DISPLAY matters on X11 only")
def test_client_turns_a_failed_child_into_a_domain_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(
        AacliError, match=r"^Could not show the MFA dialog: (no display|couldn't connect)"
    ):
        client.ask_mfa_code(TARGET, DEVICE, lock_dir=tmp_path)


class Asking(threading.Thread):
    """A client call running in the background, as the tray makes it."""

    def __init__(self, call: object) -> None:
        super().__init__(daemon=True)
        self.call = call
        self.answer: str | None = "not answered"

    def run(self) -> None:
        self.answer = self.call()  # type: ignore[operator]


@pytest.mark.display
def test_client_returns_the_code_and_none_on_cancel(
    display: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DISPLAY", display)
    for keys, expected in [(("Return",), "246810"), (("Escape",), None)]:
        asking = Asking(lambda: client.ask_mfa_code(TARGET, DEVICE, lock_dir=tmp_path))
        asking.start()
        wait_for_focused_dialog(display)
        xdotool(display, "type", "--delay", "20", "246810")
        xdotool(display, "key", *keys)
        asking.join(timeout=10)
        assert asking.answer == expected


@pytest.mark.display
def test_client_returns_the_passphrase(
    display: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DISPLAY", display)
    asking = Asking(lambda: client.ask_passphrase("Unlock the aacli vault", lock_dir=tmp_path))
    asking.start()
    wait_for_focused_dialog(display)
    xdotool(display, "type", "--delay", "20", "open sesame ")
    xdotool(display, "key", "Return")
    asking.join(timeout=10)
    assert asking.answer == "open sesame ", "spaces are part of a passphrase"


@pytest.mark.display
def test_client_gives_up_after_the_timeout(
    display: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DISPLAY", display)
    started = time.monotonic()
    assert client.ask_mfa_code(TARGET, DEVICE, timeout=3, lock_dir=tmp_path) is None
    # Issue 17 item 11: it waited the timeout and then gave up (the upper bound only says it
    # did not hang; timings belong in `make bench`).
    assert 3 <= time.monotonic() - started < 30

    def dialogs_shown() -> str:
        return subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", "aacli"],
            env=display_env(display),
            capture_output=True,
            text=True,
        ).stdout.strip()

    deadline = time.monotonic() + 10
    while dialogs_shown():
        assert time.monotonic() < deadline, "the unanswered dialog should be gone"
        time.sleep(0.05)


@pytest.mark.display
def test_one_dialog_per_device_at_a_time(
    display: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DISPLAY", display)
    first = Asking(lambda: client.ask_mfa_code(TARGET, DEVICE, lock_dir=tmp_path))
    second = Asking(lambda: client.ask_mfa_code("acme/prod/ADMIN", DEVICE, lock_dir=tmp_path))
    first.start()
    wait_for_focused_dialog(display)
    second.start()
    # Issue 17 item 11: not a sleep to synchronise on: an observation that, while the first is
    # open, a second dialog never shows (1.5 s, sampled), whatever the machine's speed.
    watch_until = time.monotonic() + 1.5
    while time.monotonic() < watch_until:
        shown = xdotool(display, "search", "--onlyvisible", "--name", "aacli").split()
        assert len(shown) == 1, "the second dialog for the same device must wait"
        time.sleep(0.1)
    xdotool(display, "type", "--delay", "20", "111111")
    xdotool(display, "key", "Return")
    wait_for_focused_dialog(display)
    xdotool(display, "type", "--delay", "20", "222222")
    xdotool(display, "key", "Return")
    first.join(timeout=10)
    second.join(timeout=10)
    assert {first.answer, second.answer} == {"111111", "222222"}
    assert not os.listdir(tmp_path) or all(name.endswith(".lock") for name in os.listdir(tmp_path))
