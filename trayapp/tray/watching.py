"""How the tray notices what changed outside it: edits of the config and the ledger, hub
secrets stored meanwhile, another aacli waiting for a YubiKey touch; a mixin of the tray app."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trayapp.core.errors import AacliError, ConfigError
from trayapp.core.model import Config, Session
from trayapp.core.service import Service
from trayapp.tray.identity_center import HubSignIns
from trayapp.tray.menu import short_label
from trayapp.tray.notify import IconNotifier

if TYPE_CHECKING:
    from trayapp.tray.serving import TrayServing  # imported when the app starts serving

log = logging.getLogger(__name__)


def _mtime(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


class Watching:
    """The tray app's file poller; the app supplies the state, ``refresh`` and ``remind_keys``."""

    service: Service
    config: Config
    config_error: str | None
    action_error: str | None
    error_target: str
    no_secret: frozenset[str]
    outside_prompt: str | None
    sessions: list[Session]
    poll_seconds: float
    notify: IconNotifier
    serving: TrayServing
    hubs: HubSignIns
    wake: threading.Event
    stopping: threading.Event
    _mtimes: tuple[object, object]
    _lock: Any  # threading.RLock
    refresh: Callable[[], None]
    remind_keys: Callable[[], None]

    def _forget_stale_error(self) -> None:
        """An error about a role or profile that has since been removed goes away with it."""
        if self.error_target and not any(
            t.label == self.error_target for t in self.service.targets()
        ):
            self.action_error = None
            self.error_target = ""

    def _file_stamps(self) -> tuple[object, object]:
        app = self.service.deps.app
        return _mtime(app.config_file), _mtime(app.ledger_file)

    def _load_config(self) -> bool:
        try:
            config = self.service.reload()
        except ConfigError as exc:
            self.config_error = str(exc)
            return False
        self.config = config
        self.config_error = None
        self.serving.apply(config.settings)  # "Serve credentials to programs" on or off
        self._find_missing_secrets()
        self._forget_stale_error()
        return True

    def _find_missing_secrets(self) -> None:
        from trayapp.core.config_ops import profiles_without_secret

        try:
            self.no_secret = profiles_without_secret(self.service)
        except AacliError as exc:  # an unreadable store: the click will say what is wrong
            log.debug("secret store not checked: %s", type(exc).__name__)
            self.no_secret = frozenset()

    def _poll(self) -> None:
        """Every ``poll_seconds``: notice edits of the config and the ledger, keep minutes fresh."""
        while not self.stopping.wait(self.poll_seconds):
            try:
                self.check_files()
                if self.hubs.read_expiries():  # an `aacli login` or `logout` meanwhile
                    self.wake.set()
                self.check_prompts()
                if self.no_secret:  # until the settings window stored the missing keys
                    self._find_missing_secrets()
                self.remind_keys()
                self.refresh()
            except Exception as exc:  # keep polling whatever happens
                log.warning("refresh failed: %s", type(exc).__name__)

    def check_prompts(self) -> None:
        """Another aacli (credential_process for an SDK) waits for a YubiKey touch: show it
        like the tray's own prompt, until it is done (core/prompts)."""
        from trayapp.core.prompts import waiting

        found = waiting(self.service.deps.app.state_dir)
        shown = f"{found[0][0]} ({short_label(found[0][1], self.config)})" if found else None
        if shown == self.outside_prompt:
            return
        with self._lock:
            self.outside_prompt = shown
        if shown:
            self.notify(f"{shown}: an AWS tool is signing in.")
        else:
            self._drop_notification()

    def _drop_notification(self) -> None:
        self.notify.close_last()  # a missing notification daemon must not stop the tray

    def check_files(self) -> None:
        stamps = self._file_stamps()
        if stamps == self._mtimes:
            return
        config_changed = stamps[0] != self._mtimes[0]
        self._mtimes = stamps
        if config_changed:
            had_error = self.config_error
            if self._load_config():
                if had_error:
                    self.notify("Settings are valid again; the menu is up to date.")
            elif self.config_error != had_error:
                self.notify(
                    f"Settings not applied, the last good ones stay: {self.config_error}",
                    "aacli: error",
                )
        self.sessions = self.service.sessions()
        self.wake.set()
