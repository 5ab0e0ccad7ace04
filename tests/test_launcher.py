"""Issue 12 must-show 6: `aacli tray --install-launcher` puts aacli in the desktop's menu."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from conftest import need_tool


def test_install_launcher_writes_a_valid_menu_entry_under_xdg_data_home(env):
    """Issue 12 must-show 6: the launcher is a valid desktop entry (desktop-file-validate)
    in $XDG_DATA_HOME/applications that starts this installation's tray, with its icon,
    not an autostart entry; installing again gives the same file."""
    env.vars["XDG_DATA_HOME"] = str(env.root / "data")
    entry = env.root / "data" / "applications" / "aacli.desktop"
    result = env.aacli("tray", "--install-launcher")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"aacli is in the application menu: {entry}\n"
    if shutil.which("desktop-file-validate") is None:
        need_tool("desktop-file-validate is not installed (desktop-file-utils)")
    done = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == "" and done.stderr == "", done.stdout
    text = entry.read_text()
    assert "\nType=Application\n" in text and "Autostart" not in text
    exec_line = next(line for line in text.splitlines() if line.startswith("Exec="))
    assert exec_line.endswith(("aacli-tray", "-m trayapp.tray.main")), exec_line
    icon = next(line for line in text.splitlines() if line.startswith("Icon="))[5:]
    assert Path(icon).is_file()
    assert env.aacli("tray", "--install-launcher").returncode == 0
    assert entry.read_text() == text


def test_install_launcher_defaults_to_the_home_data_folder(env):
    """Issue 12 must-show 6: without XDG_DATA_HOME the entry goes to ~/.local/share."""
    result = env.aacli("tray", "--install-launcher")
    assert result.returncode == 0, result.stderr
    assert (Path(env.vars["HOME"]) / ".local/share/applications/aacli.desktop").is_file()
