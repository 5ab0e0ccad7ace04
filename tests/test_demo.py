"""`aacli demo`: the tray under Xvfb + trayer (the README's main job), and the walk-through."""

from __future__ import annotations

import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, aws_cli_v2, need_tool, screenshot_dir
from signin_page import signin_url_in_page
from tray_harness import ARTIFACTS, Tray, desktop, wait_for
from xvfb import screenshot

SCREENSHOTS = screenshot_dir()
DEMO = [sys.executable, "-m", "trayapp.cli.main", "demo"]
FOREIGN = ("AACLI_HOME", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
           "AWS_ENDPOINT_URL", "AACLI_FEDERATION_URL", "AACLI_PASSPHRASE", "AWS_ACCESS_KEY_ID",
           "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")  # fmt: skip


def _base_env(tmpdir: Path) -> dict[str, str]:
    """This environment without anything aacli or AWS, and a private temp dir to check."""
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN}
    env["TMPDIR"] = str(tmpdir)
    runtime = tmpdir / "xdg-runtime"  # where the running demo records itself: this test's own
    runtime.mkdir(mode=0o700, exist_ok=True)
    env["XDG_RUNTIME_DIR"] = str(runtime)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def _port_closed(endpoint: str) -> bool:
    host, port = endpoint.removeprefix("http://").split(":")
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex((host, int(port))) != 0


def _printed(pattern: str, text: str) -> str:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in the demo's output:\n{text}"
    return found.group(1)


def _has_pygobject() -> bool:
    try:
        import gi

        gi.require_version("Gtk", "3.0")
    except (ImportError, ValueError):
        return False
    return True


def _dialog_hint(tray: Tray) -> tuple[str, str]:
    """The MFA dialog's window and the hint it was given (its --hint= argument)."""

    def shown() -> tuple[str, str] | None:
        tray.alive()
        for proc in Path("/proc").iterdir():
            try:
                argv = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"trayapp.dialogs" in argv and b"mfa" in argv:
                hints = [a[7:].decode() for a in argv if a.startswith(b"--hint=")]
                windows = subprocess.run(
                    ["xdotool", "search", "--onlyvisible", "--name", "MFA code"],
                    env=tray.desk.env({}), capture_output=True, text=True, timeout=10,
                ).stdout.split()  # fmt: skip
                if windows:
                    return windows[-1], hints[0] if hints else ""
        return None

    return wait_for(f"the MFA dialog (demo log: {tray.log()!r})", shown, timeout=30)


def _crop_to_content(path: Path, out: Path) -> None:
    """The screenshot without the empty black screen around the panel and the menu."""
    from PIL import Image

    image = Image.open(path).convert("RGB")
    box = image.point(lambda v: 255 if v > 12 else 0).getbbox()
    assert box, f"{path} is all black"
    left, top, right, bottom = box
    image.crop(
        (max(0, left - 8), top, min(image.width, right + 8), min(image.height, bottom + 8))
    ).save(out)


@pytest.mark.display
@pytest.mark.slow
def test_demo_brings_up_the_tray_with_hinted_dialog_console_and_cleans_up_on_quit(tmp_path):
    if not _has_pygobject():
        need_tool("PyGObject is not installed (pip install 'PyGObject<3.51')")
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    opened = tmp_path / "browser-url.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\ncat "$1" > "{opened}"\n')  # $1: the private page
    browser.chmod(browser.stat().st_mode | stat.S_IXUSR)
    ARTIFACTS.mkdir(exist_ok=True)

    with desktop(tmp_path) as desk:
        menu_file, log_file = tmp_path / "demo-menu.json", tmp_path / "demo.log"
        env = desk.env(_base_env(tmpdir))
        env.update(
            AACLI_TRAY_DEBUG_MENU=str(menu_file), AACLI_TRAY_BACKEND="gtk", BROWSER=str(browser)
        )
        with log_file.open("w") as out:
            process = desk.spawn(
                DEMO, env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        tray = Tray(desk, process, menu_file, log_file)
        wait_for(
            "the demo tray's menu", lambda: process.poll() is not None or tray.model(), timeout=60
        )
        tray.alive()
        tray.icon_centre()  # the icon is inside trayer's window
        output = tray.log()
        endpoint = _printed(r"Sandbox at (http://127\.0\.0\.1:\d+)", output)
        workdir = Path(_printed(r"temporary files in (\S+)", output))
        assert workdir.is_dir() and workdir.parent == tmpdir
        assert "No tray" not in output and "walk-through" not in output

        model = tray.model()
        assert model["state"] == "idle"
        hubs = [e for e in model["menu"] if e != "---" and e["children"]]
        assert [e["label"] for e in hubs] == ["demo", "corp"]  # the Identity Center hub beside
        accounts = [e["label"] for e in hubs[0]["children"] if e != "---" and e["children"]]
        assert accounts == ["dev (111111111111)", "stage (222222222222)", "prod (333333333333)"]
        dev = next(e for e in hubs[0]["children"] if e != "---" and e["label"].startswith("dev ("))
        assert [c["label"] for c in dev["children"]] == ["DEVELOPER", "ReadOnly"]

        # A second terminal: `aacli demo --shell` prints the running demo's exports.
        shell = subprocess.run(
            [*DEMO, "--shell"], env=_base_env(tmpdir), capture_output=True, text=True, timeout=60
        )
        assert shell.returncode == 0, shell.stderr
        assert f"export AWS_ENDPOINT_URL={endpoint}" in shell.stdout
        assert f"export AWS_SHARED_CREDENTIALS_FILE={workdir}/aws/credentials" in shell.stdout
        assert f"export AACLI_HOME={workdir}/aacli" in shell.stdout

        # Click dev -> DEVELOPER: the dialog shows the sandbox's current code as a hint.
        tray.open_menu()
        tray.walk("demo", "dev (111111111111)", "DEVELOPER")
        time.sleep(0.3)
        desk.screenshot("demo-tray-full.png")
        _crop_to_content(ARTIFACTS / "demo-tray-full.png", ARTIFACTS / "demo-tray.png")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ARTIFACTS / "demo-tray.png", SCREENSHOTS / "demo-tray.png")
        tray.activate()
        window, hint = _dialog_hint(tray)
        assert re.fullmatch(r"\d{6}", hint), hint
        time.sleep(0.8)
        screenshot(desk.display, window, ARTIFACTS / "demo-dialog.png")
        shutil.copyfile(ARTIFACTS / "demo-dialog.png", SCREENSHOTS / "demo-dialog.png")
        desk.xdotool("mousemove", "--window", window, "20", "20")
        desk.xdotool("windowfocus", "--sync", window)
        time.sleep(0.2)
        desk.xdotool("type", "--delay", "60", hint)
        desk.xdotool("key", "Return")
        credentials = workdir / "aws" / "credentials"
        wait_for(
            "[dev-DEVELOPER] written by the demo tray",
            lambda: credentials.exists() and "[dev-DEVELOPER]" in credentials.read_text(),
            timeout=30,
        )
        wait_for("the tray to show a session", lambda: tray.model().get("state") == "active")

        # Open console: the browser gets the sandbox's sign-in URL, which opens its console page.
        tray.open_menu()
        tray.walk("Open console")
        tray.activate()
        page = wait_for("the browser to be called", lambda: opened.exists() and opened.read_text())
        url = signin_url_in_page(page)
        assert url.startswith(endpoint + "/federation?Action=login")
        with urllib.request.urlopen(url, timeout=10) as answer:
            assert "Signed in as assumed-role/DEVELOPER/demo-user" in answer.read().decode()

        # Quit from the menu: the demo ends by itself and leaves nothing behind.
        tray.open_menu()
        tray.walk("Quit")
        tray.activate()
        process.wait(timeout=30)
        output = tray.log()
        assert process.returncode == 0, output
        assert "Traceback" not in output, output
        assert "temporary files removed" in output
        assert not workdir.exists()
        assert not [p.name for p in tmpdir.iterdir() if p.name.startswith("aacli-demo")]
        assert _port_closed(endpoint)


@pytest.mark.awscli
def test_demo_without_a_display_walks_through_in_the_terminal(tmp_path):
    aws_cli_v2()  # the walk-through shows a real AWS CLI call
    env = _base_env(tmp_path)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    done = subprocess.run(DEMO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    first = out.splitlines()[0]
    assert first.startswith("The terminal walk-through instead of the tray: ")
    assert "DISPLAY" in first
    assert "$ aacli auth dev/DEVELOPER --code" in out
    assert '"Arn": "arn:aws:sts::111111111111:assumed-role/DEVELOPER/demo-user"' in out
    assert "$ aacli web dev/DEVELOPER --print" in out
    assert "Signed in as assumed-role/DEVELOPER/demo-user in account 111111111111" in out
    assert "nothing of the session is left" in out
    assert "$ aacli rotate demo" in out  # issue 15: the demo shows a rotation
    assert "hub key of demo: 0 days old" in out
    assert "&SigninToken=…  (" in out  # the sign-in token itself is never printed
    endpoint = _printed(r"Sandbox at (http://127\.0\.0\.1:\d+)", out)
    workdir = Path(_printed(r"temporary files in (\S+)", out))
    assert not workdir.exists()
    assert _port_closed(endpoint)
    assert "Traceback" not in done.stderr and "aacli:" not in done.stderr, done.stderr


def test_demo_shell_without_a_running_demo_says_so(tmp_path):
    done = subprocess.run(
        [*DEMO, "--shell"], env=_base_env(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == "aacli: no demo is running; start one with 'aacli demo' first\n"


def test_demo_help_describes_the_tray_and_the_fallback():
    done = subprocess.run([*DEMO, "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0
    for words in ("--terminal", "--shell", "--keep", "Quit", "no display"):
        assert words in done.stdout
