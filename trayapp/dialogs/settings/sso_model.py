"""An Identity Center hub in the settings window, without Tk: save its form, its sign-in state,
and Sign in / Refresh accounts / Sign out (each run off the Tk loop by the view, as Check is).

The words are the tray's (``tray/identity_center``): "Signed in until 18:40", "Not signed in",
"Sign in to corp…", "Refresh accounts"; the calls are the Service's, as the tray's are.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from trayapp.core import config_ops
from trayapp.core.errors import AacliError, CodeCancelled, SignInNeeded
from trayapp.dialogs.settings.forms import HubForm

if TYPE_CHECKING:
    from trayapp.core.sso.portal import SyncReport
    from trayapp.core.sso.signin import DeviceCode
    from trayapp.dialogs.settings.model import SettingsModel

SIGN_IN, REFRESH, SIGN_OUT = "sign_in", "refresh", "sign_out"
BUSY_TEXT = {
    SIGN_IN: "Signing in to {name}\u2026 (finish it in the browser)",
    REFRESH: "Refreshing the accounts of {name}\u2026",
    SIGN_OUT: "Signing out of {name}\u2026",
}
SHOWN_ADDED = 8  # a refresh that added more lists the first ones and "…"


class HubActions:
    """The model's part for Identity Center hubs (``model.hubs``)."""

    def __init__(self, model: SettingsModel) -> None:
        self.model = model
        self.busy = ""  # SIGN_IN, REFRESH or SIGN_OUT while one runs (one at a time)
        self.busy_hub = ""

    def is_hub(self, name: str) -> bool:
        return any(p.name == name and p.is_identity_center for p in self.model.config.profiles)

    # Saving the hub form

    def save(self, form: HubForm) -> str:
        """Add the hub, or change its start URL and region; then open its page (Sign in)."""
        model = self.model
        values = form.values
        if model.editing is None:
            hub = config_ops.add_identity_center_hub(
                model.service, values["name"], values["start_url"], values["region"]
            )
            model.edit((hub.name,))
            return (
                f"Added Identity Center hub {hub.name}. Next: Sign in to {hub.name}\u2026, "
                "then Refresh accounts brings its accounts and permission sets."
            )
        name = model.editing[0]
        ended = config_ops.edit_identity_center_hub(
            model.service, name, values["start_url"], values["region"]
        )
        model.edit((name,))
        again = f" Its sign-in ended with the change: sign in to {name} again." if ended else ""
        return f"Saved Identity Center hub {name}.{again}"

    # What the hub's page shows

    def hub_name(self) -> str | None:
        """The saved hub whose page is open (None: none, or a new one not saved yet)."""
        model = self.model
        if isinstance(model.form, HubForm) and model.editing is not None:
            return model.editing[0]
        return None

    def expiry(self, name: str) -> datetime | None:
        try:
            return self.model.service.sso_expiry(name)
        except AacliError:  # an unsafe cache file: not signed in, as the tray shows it
            return None

    def sign_in_state(self) -> str:
        """``Signed in until 18:40`` / ``Not signed in`` (the tray's words), or ""."""
        from trayapp.tray.identity_center import status_line

        name = self.hub_name()
        if name is None:
            return ""
        return status_line(self.expiry(name), self.model.service.deps.clock())

    def sign_in_label(self) -> str:
        from trayapp.tray.identity_center import sign_in_label

        name = self.hub_name()
        return sign_in_label(name, self.expiry(name)) if name else "Sign in\u2026"

    def device_code(self) -> DeviceCode | None:
        """The code a sign-in of the hub on show waits for (no browser), or None."""
        code = self.model.device_code
        return code if self.busy == SIGN_IN and self.busy_hub == self.hub_name() else None

    def busy_text(self) -> str:
        if self.busy == SIGN_IN and self.model.device_code is not None:
            return f"Signing in to {self.busy_hub}\u2026: enter this code on the sign-in page."
        return BUSY_TEXT[self.busy].format(name=self.busy_hub) if self.busy else ""

    def can(self, action: str) -> bool:
        """Whether the page's button for ``action`` is enabled now."""
        name = self.hub_name()
        if name is None or self.busy:
            return False
        if action == SIGN_IN:
            return True
        return self.expiry(name) is not None  # refresh and sign-out need a sign-in

    # The actions: begin (Tk loop) → run (a thread) → done (Tk loop)

    def begin(self, action: str) -> str | None:
        """The hub to run ``action`` for, marked busy; None when it cannot run now."""
        name = self.hub_name()
        if name is None or not self.can(action):
            return None
        self.busy, self.busy_hub, self._cancelled = action, name, False
        self.model.problem = ""
        self.model.device_code = None
        return name

    def run_sign_in(
        self,
        name: str,
        *,
        open_browser: Callable[[str], bool],
        show_device_code: Callable[[DeviceCode], None],
        cancelled: Callable[[], bool],
    ) -> datetime | AacliError:
        """The sign-in itself (blocking; any thread): its expiry, or the error to show."""
        try:
            return self.model.service.sign_in(
                name,
                open_browser=open_browser,
                show_device_code=show_device_code,
                cancelled=cancelled,
            )
        except AacliError as exc:
            return exc

    def run_refresh(self, name: str) -> SyncReport | AacliError:
        """Refresh accounts (never pruned: that is ``aacli config sync --prune``)."""
        try:
            return self.model.service.sync(name, prune=False)
        except AacliError as exc:
            return exc

    def run_sign_out(self, name: str) -> bool | AacliError:
        try:
            return self.model.service.sign_out(name)
        except AacliError as exc:
            return exc

    def done(self, result: Any) -> None:
        """Show what the action running gave (on the Tk loop)."""
        from trayapp.tray.identity_center import refreshed, status_line

        model, action, name = self.model, self.busy, self.busy_hub
        self.busy, self.busy_hub = "", ""
        model.device_code = None
        if isinstance(result, CodeCancelled) or (
            isinstance(result, AacliError) and action == SIGN_IN and self._cancelled
        ):
            model.status, model.problem = f"Sign-in to {name} cancelled.", ""
        elif isinstance(result, SignInNeeded):  # the core's words name the CLI's way
            model.problem = f"Sign in to {name} first (Sign in to {name}\u2026 on this page)."
        elif isinstance(result, AacliError):
            model.problem = str(result)
        elif action == SIGN_IN:
            model.status = f"{status_line(result, model.service.deps.clock())} ({name})."
            hub = next((p for p in model.config.profiles if p.name == name), None)
            if hub is not None and not hub.accounts:
                model.status += " Next: Refresh accounts brings its accounts and permission sets."
        elif action == REFRESH:
            model.service.reload()
            model.status = refreshed(result) + _added(result.added)
        else:
            model.status = f"Signed out of {name}." if result else f"{name} was not signed in."
        self._cancelled = False

    _cancelled = False

    def cancel(self) -> None:
        """Cancel the sign-in that waits (the worker sees it at its next poll)."""
        if self.busy == SIGN_IN:
            self._cancelled = True

    def cancelled(self) -> bool:
        return self._cancelled

    def snapshot(self) -> dict[str, Any]:
        code = self.device_code()
        return {
            "name": self.hub_name(),
            "state": self.sign_in_state(),
            "busy": self.busy_text(),
            "device_code": (
                {"user_code": code.user_code, "url": code.verification_uri_complete}
                if code
                else None
            ),
        }


def _added(labels: tuple[str, ...] | list[str]) -> str:
    if not labels:
        return ""
    shown = ", ".join(labels[:SHOWN_ADDED]) + (", \u2026" if len(labels) > SHOWN_ADDED else "")
    return f" Added: {shown}."
