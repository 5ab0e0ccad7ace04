"""aacli's folders without platformdirs (core/app_dirs): the same folders platformdirs names,
for every environment the hand-written rule answers; the others still go to platformdirs."""

from __future__ import annotations

import os
import sys

import platformdirs
import pytest

from trayapp.core.app_dirs import app_dirs
from trayapp.core.paths import AppPaths

CASES = [
    {"HOME": "/home/alice"},
    {"HOME": "/home/alice/"},
    {"HOME": "/"},
    {"HOME": "/home/alice", "XDG_CONFIG_HOME": "/srv/cfg", "XDG_STATE_HOME": "/srv/state/"},
    {"HOME": "/home/alice", "XDG_CONFIG_HOME": "relative/cfg", "XDG_STATE_HOME": " "},
    {"HOME": "/home/alice", "XDG_CONFIG_HOME": "", "XDG_STATE_HOME": "~/state"},
    {"HOME": "/home/al ice", "XDG_STATE_HOME": "/tmp/x y"},
    {"HOME": "relative-home"},
    {},
]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG rule is Linux's")
@pytest.mark.parametrize("variables", CASES, ids=lambda v: ",".join(f"{k}={v[k]}" for k in v))
def test_the_folders_are_platformdirs_own(monkeypatch, variables):
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "AACLI_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    try:
        expected = (
            platformdirs.user_config_dir("aacli", appauthor=False),
            platformdirs.user_state_dir("aacli", appauthor=False),
        )
    except RuntimeError:  # platformdirs finds no home: neither may app_dirs
        with pytest.raises(RuntimeError):
            app_dirs()
        return
    assert app_dirs() == expected
    assert app_dirs(dict(os.environ)) == expected


def test_aacli_home_holds_both_and_paths_are_paths(tmp_path):
    assert app_dirs({"AACLI_HOME": str(tmp_path)}) == (str(tmp_path), str(tmp_path / "state"))
    paths = AppPaths.from_env({"AACLI_HOME": "~/x", "HOME": "/home/a"})
    assert paths.config_dir.name == "x" and paths.state_dir == paths.config_dir / "state"
