"""A private Secret Service for tests: its own D-Bus session bus and gnome-keyring-daemon."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import need_tool

REQUIRED_TOOLS = ("dbus-daemon", "dbus-send", "gnome-keyring-daemon", "secret-tool")
TEST_KEYRING_PASSWORD = "test-login-keyring-password"  # a throwaway test keyring

# No <servicedir>: nothing can be D-Bus-activated on this bus, so a daemon that fails
# to start is noticed instead of a stray one being spawned that teardown cannot see.
_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@dataclass(frozen=True)
class SecretServiceEnv:
    """What a test needs to talk to the private Secret Service."""

    bus_address: str
    env: dict[str, str]  # full environment for child processes (secret-tool, aacli)


def require_tools(tools: tuple[str, ...] = REQUIRED_TOOLS) -> None:
    """Fail in CI (conftest.in_ci: CI=1, true or yes) or skip when a system tool is missing."""
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if not missing:
        return
    message = (
        f"keyring tests need {', '.join(missing)} "
        "(apt-get install gnome-keyring dbus-daemon dbus-bin libsecret-tools)"
    )
    need_tool(message)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _tail(log_path: Path) -> str:
    return log_path.read_text(encoding="utf-8", errors="replace")[-2000:]


def _secrets_name_owned(env: dict[str, str]) -> bool:
    result = subprocess.run(
        [
            "dbus-send",
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            "string:org.freedesktop.secrets",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return result.returncode == 0 and "boolean true" in result.stdout


@contextmanager
def running_secret_service(base_dir: Path, timeout: float = 20.0) -> Iterator[SecretServiceEnv]:
    """Start dbus-daemon and an unlocked gnome-keyring-daemon (HOME in ``base_dir``); stop both after."""
    require_tools()
    home = base_dir / "home"
    # A short path of its own: a unix socket path must stay under ~100 bytes.
    runtime = Path(tempfile.mkdtemp(prefix="aacli-ss-"))
    for folder in (home, home / ".local" / "share", home / ".config"):
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    socket = runtime / "bus"
    config = base_dir / "bus.conf"
    config.write_text(_BUS_CONFIG.format(socket=socket), encoding="utf-8")
    address = f"unix:path={socket}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_RUNTIME_DIR": str(runtime),
        "DBUS_SESSION_BUS_ADDRESS": address,
        "LANG": "C.UTF-8",
    }
    log_path = base_dir / "daemons.log"
    processes: list[subprocess.Popen[bytes]] = []
    with log_path.open("wb") as log:
        try:
            bus = subprocess.Popen(
                ["dbus-daemon", f"--config-file={config}", "--nofork", "--nopidfile"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            processes.append(bus)
            deadline = time.monotonic() + timeout
            while not socket.exists():
                if bus.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"dbus-daemon did not start: {_tail(log_path)}")
                time.sleep(0.05)
            daemon = subprocess.Popen(
                [
                    "gnome-keyring-daemon",
                    "--foreground",
                    "--unlock",
                    "--components=secrets",
                    f"--control-directory={runtime / 'keyring'}",
                ],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            processes.append(daemon)
            assert daemon.stdin is not None
            # --unlock reads the login keyring's password from stdin, up to EOF.
            daemon.stdin.write(TEST_KEYRING_PASSWORD.encode())
            daemon.stdin.close()
            while not _secrets_name_owned(env):
                if daemon.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"gnome-keyring-daemon did not take org.freedesktop.secrets: {_tail(log_path)}"
                    )
                time.sleep(0.1)
            yield SecretServiceEnv(bus_address=address, env=env)
        finally:
            for process in reversed(processes):
                with suppress(OSError):
                    _stop(process)
            shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture(scope="module")
def secret_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecretServiceEnv]:
    """A running private Secret Service for the tests of one module."""
    with running_secret_service(tmp_path_factory.mktemp("secret-service")) as service:
        yield service
