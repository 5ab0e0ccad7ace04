"""Where aacli's own folders are (config, state), from the environment alone.

Light to import (no dataclasses, no platformdirs unless needed): ``credential-process`` finds
its files through it without loading the rest of core. ``AppPaths.from_env`` uses it too, so
the rule lives here once.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

APP_NAME = "aacli"


def app_dirs(env: Mapping[str, str] | None = None) -> tuple[Path, Path]:
    """The config and state folders: ``AACLI_HOME`` (state in its ``state`` folder) puts
    everything under one folder; else the platform's folders (platformdirs)."""
    env = os.environ if env is None else env
    home = env.get("AACLI_HOME")
    if home:
        base = Path(home).expanduser()
        return base, base / "state"
    import platformdirs

    return (
        Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_state_dir(APP_NAME, appauthor=False)),
    )
