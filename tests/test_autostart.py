"""`aacli tray --autostart`: the XDG entry for real (desktop-file-validate), the others by content."""

from __future__ import annotations

import plistlib
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import need_tool

from trayapp.tray import autostart


def _validate(path: Path) -> None:
    if shutil.which("desktop-file-validate") is None:
        need_tool("desktop-file-validate is not installed (desktop-file-utils)")
    done = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == "" and done.stderr == "", done.stdout


def test_linux_autostart_on_writes_a_valid_xdg_entry_and_off_removes_it(env):
    env.vars["XDG_CONFIG_HOME"] = str(env.root / "xdg")
    entry = env.root / "xdg" / "autostart" / "aacli.desktop"

    status = env.aacli("tray", "--autostart", "status")
    assert status.returncode == 0 and status.stdout.startswith("off (")
    on = env.aacli("tray", "--autostart", "on")
    assert on.returncode == 0, on.stderr
    assert on.stdout == f"The tray starts at login: {entry}\n"
    _validate(entry)
    text = entry.read_text()
    assert "\nType=Application\n" in text and "\nX-GNOME-Autostart-enabled=true\n" in text
    exec_line = next(line for line in text.splitlines() if line.startswith("Exec="))
    assert exec_line.endswith(("aacli-tray", "-m trayapp.tray.main")), exec_line
    icon = next(line for line in text.splitlines() if line.startswith("Icon="))[5:]
    assert Path(icon).is_file() and icon.endswith("aacli-256.png")
    assert env.aacli("tray", "--autostart", "status").stdout == f"on: {entry}\n"

    entry.write_text(text.replace("Exec=", "Exec=/old/"))
    assert (
        "different from what this aacli would write"
        in env.aacli("tray", "--autostart", "status").stdout
    )

    off = env.aacli("tray", "--autostart", "off")
    assert off.returncode == 0 and off.stdout == f"Removed {entry}\n"
    assert not entry.exists()
    again = env.aacli("tray", "--autostart", "off")
    assert again.stdout == "The tray was not set to start at login.\n"


def test_xdg_entry_without_xdg_config_home_goes_under_home_config(tmp_path):
    made = autostart.entry_for("linux", env={}, home=tmp_path, argv=["aacli-tray"])
    assert made.location == str(tmp_path / ".config" / "autostart" / "aacli.desktop")


def test_exec_line_quotes_awkward_paths_the_way_the_spec_says(tmp_path):
    argv = ["/opt/my apps/bin/python3", "-m", "trayapp.tray.main", "100%", 'say "$HOME"']
    assert autostart.desktop_exec(argv) == (
        '"/opt/my apps/bin/python3" -m trayapp.tray.main 100%% "say \\\\"\\\\$HOME\\\\""'
    )
    made = autostart.entry_for(
        "linux", env={"XDG_CONFIG_HOME": str(tmp_path)}, home=tmp_path, argv=argv
    )
    autostart.enable(made)
    _validate(Path(made.location))


def test_macos_launch_agent_plist(tmp_path):
    argv = ["/Applications/aacli.app/Contents/MacOS/aacli"]
    made = autostart.entry_for("darwin", env={}, home=tmp_path, argv=argv)
    assert made.kind == "launchagent"
    assert made.location == str(tmp_path / "Library/LaunchAgents/dev.aacli.tray.plist")
    plist = plistlib.loads(made.content.encode())
    assert plist == {
        "Label": "dev.aacli.tray",
        "ProgramArguments": argv,
        "RunAtLoad": True,
        "KeepAlive": False,
        "ProcessType": "Interactive",
        "LimitLoadToSessionType": "Aqua",
    }
    autostart.enable(made)
    assert autostart.installed(made) == made.content
    assert autostart.disable(made) and autostart.installed(made) is None


def test_windows_run_key_value():
    made = autostart.entry_for("win32", env={}, home=Path("C:/Users/alice"),
                               argv=[r"C:\Program Files\aacli\aacli-tray.exe"])  # fmt: skip
    assert made.kind == "run-key"
    assert made.location == r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run\aacli"
    assert made.content == r'"C:\Program Files\aacli\aacli-tray.exe"'


@pytest.mark.parametrize("platform", ["linux", "darwin", "win32"])
def test_default_command_is_this_installations_tray(platform, tmp_path):
    made = autostart.entry_for(platform, env={}, home=tmp_path)
    command = autostart.tray_command()
    assert command[0].endswith(("aacli-tray", "aacli-tray.exe")) or command[1:] == [
        "-m",
        "trayapp.tray.main",
    ]
    assert Path(command[0]).name in made.content
