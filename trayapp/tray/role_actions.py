"""What a click on a role does: sign in (with "Signing in to …" and Cancel), open the console,
copy its shell variables, and which code source it asks; a mixin of the tray app."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from trayapp.core.clipboard import ClipboardError, SecretClipboard
from trayapp.core.codes import CodeRequest, CodeSource, LazyCode
from trayapp.core.errors import AacliError, CodeCancelled, UsageError
from trayapp.core.model import Config, Session, Target
from trayapp.core.service import Removal, Service
from trayapp.tray.menu import short_label
from trayapp.tray.notify import IconNotifier


def _no_prompt() -> CodeSource:
    raise CodeCancelled("A code would be needed to renew; renew from the menu.")


class _Watched:
    """A code source that says when it starts and stops asking (the busy state hides while a
    dialog is open: then the user, not STS, is who the tray waits for)."""

    def __init__(self, inner: CodeSource, on_ask: Callable[[str, bool], None], label: str) -> None:
        self.inner, self.on_ask, self.label = inner, on_ask, label
        self.name = inner.name

    @property
    def can_retry(self) -> bool:
        return self.inner.can_retry

    def get_code(self, request: CodeRequest) -> str:
        self.on_ask(self.label, True)
        try:
            return self.inner.get_code(request)
        finally:
            self.on_ask(self.label, False)


class RoleActions:
    """The tray app's role actions; the app supplies the state and ``refresh``/``_open_settings``."""

    service: Service
    config: Config
    code_source: Callable[[], CodeSource]
    notify: IconNotifier
    clipboard: SecretClipboard
    signing: str | None
    cancelled: set[str]
    prompt: str | None
    no_secret: frozenset[str]
    stopping: threading.Event
    _lock: Any  # threading.RLock
    refresh: Callable[[], None]
    _open_settings: Callable[[str], None]
    _drop_notification: Callable[[], None]

    def _sign_in(self, target: Target, source: CodeSource) -> Session | None:
        """Authenticate, showing "Signing in to …" while STS works (not while a dialog asks).
        None when the user pressed Cancel meanwhile: what STS gave is removed again."""
        with self._lock:
            self.signing = target.label
        session = self.service.authenticate(target, _Watched(source, self._asking, target.label))
        with self._lock:
            cancelled = target.label in self.cancelled
        if not cancelled:
            return session
        self.service.unauth(target)
        self.notify(f"Sign-in to {target.label} cancelled; its credentials were removed.")
        return None

    def _signing_in(self, label: str) -> Callable[[], bool]:
        """Show "Signing in to …" with Cancel; whether Cancel (or Quit) was chosen since."""
        with self._lock:
            self.signing = label
        self.refresh()
        return lambda: label in self.cancelled or self.stopping.is_set()

    def _asking(self, label: str, asking: bool) -> None:
        with self._lock:
            self.signing = None if asking or label in self.cancelled else label
        self.refresh()

    def _target(self, label: str) -> Target:
        for target in self.service.targets():
            if target.label == label:
                return target
        raise UsageError(f"{label} is no longer in the config")

    def _open_console(self, target: Target) -> None:
        from trayapp.core.browser import open_signin_page

        url = self.service.console_url(target, lambda: self._source_for(target))
        open_signin_page(str(url), self.service.deps.app.state_dir)  # honours BROWSER

    def _copy_env(self, target: Target) -> None:
        from trayapp.core.envvars import credential_variables, render

        session = self.service.session_for(target)
        if session is None:
            raise UsageError(f"{target.label} is not active; authenticate first")
        creds = self.service.credentials_of(session)
        text = render(credential_variables(creds, target.account.region), "sh") + "\n"
        label = short_label(target.label, self.config)
        try:
            copied = self.clipboard.copy(text, target.label)
        except ClipboardError as exc:
            self.notify(f'{exc} Use: eval "$(aacli env {target.label})"', "aacli: error")
            return
        marked = " (marked sensitive)" if copied.sensitive else ""
        done = (
            f"handed to {copied.tool}, but the clipboard did not show them"
            if copied.confirmed is False
            else f"copied{marked}; paste them into a terminal"
        )
        self.notify(
            f"Shell variables for {label} {done}. "
            f"The clipboard is cleared in {copied.clear_after:.0f} s."
        )

    def _needs_secret(self, target: Target) -> bool:
        """No hub secret key stored for the profile: say so and open its settings instead."""
        from trayapp.core.config_ops import hub_secret_stored

        name = target.profile.name
        if target.profile.is_identity_center or hub_secret_stored(self.service, name):
            return False
        self.no_secret = self.no_secret | {name}
        self.notify(f"No secret key is stored for {name}; type it in the settings window.")
        self._open_settings(name)
        return True

    def _report(self, removals: Sequence[Removal], what: str) -> None:
        for removal in removals:
            label = short_label(removal.session.target, self.config)
            if removal.left_alone:
                self.notify(
                    f"{label}: left AWS profile {', '.join(removal.left_alone)} alone: "
                    "its keys were changed outside aacli"
                )
            else:
                self.notify(f"{label} {what}", important=True)

    def _keep_fresh(self, session: Session) -> bool:
        """Whether this session is renewed silently: keep_fresh and no prompt needed."""
        try:
            target = self._target(session.target)
            return target.role.keep_fresh and self.service.can_renew_silently(target)
        except AacliError:
            return False

    def _source_for(self, target: Target) -> CodeSource:
        """The profile's YubiKey or MFA command, else the stored seed when there is one, else
        the dialog (shown only if a code is needed)."""
        from trayapp.core.codes.configured import configured_source

        if target.profile.is_identity_center:
            return LazyCode(self.code_source)  # its roles never ask for a code
        label = short_label(target.label, self.config)
        configured = configured_source(
            target.profile,
            code_windows_file=self.service.deps.app.code_windows_file,
            clock=self.service.deps.clock,
            on_prompt=lambda text: self._prompting(text, label),
        )
        if configured is not None:
            return configured
        stored = self.service.stored_code_source(target.profile)
        return stored if stored is not None else LazyCode(self.code_source)

    def _prompting(self, text: str | None, label: str) -> None:
        """ykman waits for a touch (``text``) or is done (None): say so on top of the menu, in
        the tooltip and in a notification that goes away with the prompt."""
        with self._lock:
            self.prompt = f"{text} ({label})" if text else None
        if text:
            self.notify(f"{text} to sign in to {label}.")
        else:
            self._drop_notification()
        self.refresh()

    def _quiet_source(self, target: Target) -> CodeSource:
        """For a renewal no one clicked: a command or the stored seed; never a dialog."""
        quiet = target.profile.codes == "process"  # a command: no one is asked
        hub = target.profile.is_identity_center  # no code, no secret store to open
        return (
            (self._source_for(target) if quiet else None)
            or (None if hub else self.service.stored_code_source(target.profile))
            or LazyCode(_no_prompt)
        )
