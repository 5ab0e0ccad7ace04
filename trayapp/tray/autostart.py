"""Start the tray at login: an XDG autostart entry, a macOS LaunchAgent, or the Windows Run key."""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from trayapp.core.errors import AacliError

APP_NAME = "aacli"
LAUNCH_AGENT_LABEL = "dev.aacli.tray"  # the Briefcase bundle id is dev.aacli
WINDOWS_RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
DESKTOP_COMMENT = "MFA-protected, short-lived AWS credentials from the system tray"
ICON_FILE = "aacli-256.png"
# Characters that make an Exec argument need quoting (the Desktop Entry spec's reserved set).
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


@dataclass(frozen=True)
class AutostartEntry:
    """Where the login entry goes and what it holds: a file, or a Windows registry value."""

    kind: str  # "xdg", "launchagent" or "run-key"
    location: str  # the file's path, or HKCU\...\Run\aacli
    content: str


def tray_command() -> list[str]:
    """How to start this installation's tray: its ``aacli-tray`` script, else ``python -m``."""
    scripts = Path(sysconfig.get_path("scripts"))
    names = ("aacli-tray.exe", "aacli-tray") if sys.platform == "win32" else ("aacli-tray",)
    for name in names:
        for folder in (scripts, Path(sys.executable).parent):
            if (folder / name).is_file():
                return [str(folder / name)]
    found = shutil.which("aacli-tray")
    if found:
        return [found]
    return [sys.executable, "-m", "trayapp.tray.main"]


def icon_path() -> Path | None:
    """The installed app icon (the wheel's data files), else the source tree's, else None."""
    candidates = [
        Path(sysconfig.get_path("data")) / "share" / "aacli" / "icons" / ICON_FILE,
        Path(__file__).resolve().parents[2] / "assets" / "icons" / ICON_FILE,
    ]
    return next((path for path in candidates if path.is_file()), None)


# Linux and other XDG desktops


def desktop_exec(argv: Sequence[str]) -> str:
    """``argv`` as a Desktop Entry ``Exec`` value (quoting, then string escaping, per the spec)."""
    parts = []
    for arg in argv:
        if arg and not (set(arg) & _RESERVED):
            parts.append(arg.replace("%", "%%"))
            continue
        quoted = "".join("\\" + c if c in '"`$\\' else c for c in arg).replace("%", "%%")
        parts.append(f'"{quoted}"')
    return " ".join(parts).replace("\\", "\\\\")


def desktop_entry(argv: Sequence[str], icon: str | None, *, autostart: bool) -> str:
    """A ``.desktop`` file: the menu entry, or (``autostart``) the login entry."""
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        f"Name={APP_NAME}",
        "GenericName=AWS credentials",
        f"Comment={DESKTOP_COMMENT}",
        f"Exec={desktop_exec(argv)}",
    ]
    if icon:
        lines.append(f"Icon={icon}")
    lines += ["Terminal=false", "Categories=Utility;", "Keywords=AWS;MFA;credentials;console;"]
    if autostart:
        lines += ["X-GNOME-Autostart-enabled=true", "X-GNOME-Autostart-Delay=5"]
    return "\n".join(lines) + "\n"


def xdg_entry(env: Mapping[str, str], home: Path, argv: Sequence[str]) -> AutostartEntry:
    config_home = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    icon = icon_path()
    return AutostartEntry(
        "xdg",
        str(config_home / "autostart" / f"{APP_NAME}.desktop"),
        desktop_entry(argv, str(icon) if icon else None, autostart=True),
    )


def launcher_entry(
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    argv: Sequence[str] | None = None,
) -> AutostartEntry:
    """The desktop's application-menu entry (Linux/XDG): a first start needs no terminal."""
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    data_home = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    icon = icon_path()
    return AutostartEntry(
        "xdg",
        str(data_home / "applications" / f"{APP_NAME}.desktop"),
        desktop_entry(
            tray_command() if argv is None else argv,
            str(icon) if icon else None,
            autostart=False,
        ),
    )


# macOS


def launch_agent(home: Path, argv: Sequence[str]) -> AutostartEntry:
    plist = {
        "Label": LAUNCH_AGENT_LABEL,
        "ProgramArguments": list(argv),
        "RunAtLoad": True,
        "KeepAlive": False,
        "ProcessType": "Interactive",
        "LimitLoadToSessionType": "Aqua",  # the logged-in GUI session, not ssh
    }
    path = home / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"
    return AutostartEntry("launchagent", str(path), plistlib.dumps(plist).decode("utf-8"))


# Windows


def run_key(argv: Sequence[str]) -> AutostartEntry:
    # The Run key's value is a command line: quoted the way CreateProcess parses it.
    return AutostartEntry(
        "run-key", f"HKCU\\{WINDOWS_RUN_KEY}\\{APP_NAME}", subprocess.list2cmdline(list(argv))
    )


def entry_for(
    platform: str = sys.platform,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    argv: Sequence[str] | None = None,
) -> AutostartEntry:
    """The login entry this platform uses, with the command that starts this tray."""
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    argv = tray_command() if argv is None else argv
    if platform == "darwin":
        return launch_agent(home, argv)
    if platform == "win32":
        return run_key(argv)
    return xdg_entry(env, home, argv)


# Installing, removing, reporting


def enable(entry: AutostartEntry) -> None:
    if entry.kind == "run-key":
        _set_run_value(entry.content)
        return
    from trayapp.core import files

    # Run at every login: nobody else may write it, whatever the umask.
    path = Path(entry.location)
    files.make_dirs(path.parent)
    files.atomic_write(path, entry.content, mode=0o644)


def disable(entry: AutostartEntry) -> bool:
    """Remove the entry; False when there was none."""
    if entry.kind == "run-key":
        return _delete_run_value()
    try:
        Path(entry.location).unlink()
    except FileNotFoundError:
        return False
    return True


def installed(entry: AutostartEntry) -> str | None:
    """What is installed at the entry's place now (None: nothing)."""
    if entry.kind == "run-key":
        return _get_run_value()
    try:
        return Path(entry.location).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AacliError(f"Cannot read {entry.location}: {exc.strerror}.") from None


def _winreg():  # type: ignore[no-untyped-def]
    import winreg  # type: ignore[import-not-found,unused-ignore]

    return winreg


def _set_run_value(command: str) -> None:
    reg = _winreg()
    with reg.CreateKey(reg.HKEY_CURRENT_USER, WINDOWS_RUN_KEY) as key:
        reg.SetValueEx(key, APP_NAME, 0, reg.REG_SZ, command)


def _get_run_value() -> str | None:
    reg = _winreg()
    try:
        with reg.OpenKey(reg.HKEY_CURRENT_USER, WINDOWS_RUN_KEY) as key:
            return str(reg.QueryValueEx(key, APP_NAME)[0])
    except FileNotFoundError:
        return None


def _delete_run_value() -> bool:
    reg = _winreg()
    try:
        with reg.OpenKey(reg.HKEY_CURRENT_USER, WINDOWS_RUN_KEY, 0, reg.KEY_SET_VALUE) as key:
            reg.DeleteValue(key, APP_NAME)
    except FileNotFoundError:
        return False
    return True
