"""Where aacli's own folders are (config, state), from the environment alone, and the names
of the files in them that the start-up paths read.

Light to import (no pathlib, no platformdirs unless needed): ``credential-process`` and
``status`` find their files through it without loading the rest of core, so the folders are
plain strings here; ``AppPaths.from_env`` makes Paths of them, so the rule lives here once.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing's, without importing typing: start-up time
if TYPE_CHECKING:
    from collections.abc import Mapping

APP_NAME = "aacli"
# In the config folder:
CONFIG_FILE = "config.toml"
# In the state folder:
LEDGER_FILE = "sessions.json"
MFA_SESSIONS_FILE = "mfa-sessions.json"
TRAY_SOCKET_FILE = "tray.sock"
ROTATION_JOURNAL = ("key-rotation-", ".json")  # key-rotation-PROFILE.json (core/keys/journal)


def app_dirs(env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The config and state folders: ``AACLI_HOME`` (state in its ``state`` folder) puts
    everything under one folder; else the platform's folders, as platformdirs names them."""
    env = os.environ if env is None else env
    home = env.get("AACLI_HOME")
    if home:
        base = os.path.expanduser(home)
        return base, os.path.join(base, "state")
    found = _xdg_dirs(env)
    if found is not None:
        return found
    import platformdirs

    return (
        platformdirs.user_config_dir(APP_NAME, appauthor=False),
        platformdirs.user_state_dir(APP_NAME, appauthor=False),
    )


def _xdg_dirs(env: Mapping[str, str]) -> tuple[str, str] | None:
    """platformdirs' rule on Linux in its plain case (an absolute HOME; each XDG variable
    absolute or ignored), without importing it (~10 ms with pathlib and re); None otherwise.
    tests/test_app_dirs.py holds it equal to platformdirs itself."""
    user_home = env.get("HOME", "")
    if not sys.platform.startswith("linux") or not user_home.startswith("/"):
        return None
    user_home = user_home.rstrip("/")

    def folder(variable: str, default: str) -> str:
        value = env.get(variable, "")
        return os.path.join(value if value.startswith("/") else user_home + default, APP_NAME)

    return folder("XDG_CONFIG_HOME", "/.config"), folder("XDG_STATE_HOME", "/.local/state")
