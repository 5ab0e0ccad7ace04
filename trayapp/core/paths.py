"""Where aacli keeps its files, and where the AWS shared files are."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from trayapp.core.app_dirs import APP_NAME as APP_NAME  # re-exported
from trayapp.core.app_dirs import (
    CONFIG_FILE,
    LEDGER_FILE,
    MFA_SESSIONS_FILE,
    TRAY_SOCKET_FILE,
    app_dirs,
)


@dataclass(frozen=True)
class AppPaths:
    """The app's own files: config, state (ledger, code windows, lock) and vault."""

    config_dir: Path
    state_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / CONFIG_FILE

    @property
    def vault_file(self) -> Path:
        return self.config_dir / "vault.bin"

    @property
    def ledger_file(self) -> Path:
        return self.state_dir / LEDGER_FILE

    @property
    def code_windows_file(self) -> Path:
        return self.state_dir / "code-windows.json"

    @property
    def mfa_sessions_file(self) -> Path:
        return self.state_dir / MFA_SESSIONS_FILE

    @property
    def lock_file(self) -> Path:
        return self.state_dir / "aws-files.lock"

    @property
    def tray_lock_file(self) -> Path:
        """Held by the running tray (one per user); ``reset`` takes it too."""
        return self.state_dir / "tray.lock"

    @property
    def tray_socket_file(self) -> Path:
        """The running tray's Unix socket (core/tray_socket): credentials, server variables."""
        return self.state_dir / TRAY_SOCKET_FILE

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AppPaths:
        """``AACLI_HOME`` puts everything under one folder; else the platform dirs."""
        config_dir, state_dir = app_dirs(env)
        return cls(config_dir=Path(config_dir), state_dir=Path(state_dir))


@dataclass(frozen=True)
class AwsPaths:
    """The AWS shared credentials and config files, as every SDK finds them."""

    credentials_file: Path
    config_file: Path

    @property
    def sso_cache_dir(self) -> Path:
        """The AWS CLI's Identity Center token cache: always ~/.aws/sso/cache (no override)."""
        return Path("~/.aws/sso/cache").expanduser()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AwsPaths:
        env = os.environ if env is None else env
        aws_dir = Path("~/.aws").expanduser()
        creds = env.get("AWS_SHARED_CREDENTIALS_FILE")
        config = env.get("AWS_CONFIG_FILE")
        return cls(
            credentials_file=Path(creds).expanduser() if creds else aws_dir / "credentials",
            config_file=Path(config).expanduser() if config else aws_dir / "config",
        )
