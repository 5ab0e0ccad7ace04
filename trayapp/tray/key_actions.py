"""Hub key rotation from the tray: a click's rotation, finishing one a killed aacli left, and
the once-a-day reminder of keys due; a mixin of the tray app."""

from __future__ import annotations

import logging
from collections.abc import Callable

from trayapp.core.clock import Clock
from trayapp.core.codes import CodeSource
from trayapp.core.errors import AacliError
from trayapp.core.model import Config
from trayapp.core.service import Service
from trayapp.tray.notify import IconNotifier

log = logging.getLogger(__name__)


class KeyActions:
    """The tray app's key rotation; the app supplies the state, ``_load_config`` and ``_failed``."""

    service: Service
    config: Config
    clock: Clock
    code_source: Callable[[], CodeSource]
    notify: IconNotifier
    _load_config: Callable[[], bool]
    _failed: Callable[..., None]

    def _rotate(self, profile: str) -> None:
        """Rotate a profile's hub key; typing the code in the dialog is the confirmation."""
        from trayapp.core import keys

        deps = keys.KeyDeps.from_service(self.service)
        outcome = keys.rotate(deps, profile, self.code_source(), mfa_first=True)
        self._load_config()
        self.notify(outcome.describe())

    def _finish_rotations(self) -> None:
        from trayapp.core import keys
        from trayapp.core.keys.journal import journaled_profiles

        if not journaled_profiles(self.service.deps.app.state_dir):
            return
        try:
            done, problems = keys.finish_all_interrupted(keys.KeyDeps.from_service(self.service))
        except AacliError as exc:
            self._failed(exc)
            return
        for outcome in done:
            self.notify(outcome.describe())
        for line in problems:
            self.notify(line, "aacli: error")
        if done:
            self._load_config()

    def remind_keys(self) -> None:
        """Notify about hub keys due for rotation, at most once a day each (cached ages)."""
        from trayapp.core.keys import due_keys
        from trayapp.core.keys.age import to_remind

        now = self.clock()
        try:
            ages = to_remind(self.service.deps.app.state_dir, due_keys(self.config, now), now)
        except AacliError as exc:  # an unsafe state folder: the menu line still reminds
            log.warning("key reminder not recorded: %s", exc)
            return
        for age in ages:
            self.notify(
                f"The hub key of {age.profile} is {age.days} days old; rotate it from the "
                "menu (Rotate hub key\u2026)."
            )
