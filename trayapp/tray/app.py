"""The tray app: the pystray icon, two worker threads (sign-ins, which may wait for a dialog,
and everything else, which never does), and the refresh loop."""

from __future__ import annotations

import json
import logging
import os
import queue
import shutil
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from trayapp.core.clipboard import ClipboardError, SecretClipboard
from trayapp.core.clock import Clock, system_clock
from trayapp.core.codes import CodeRequest, CodeSource, LazyCode
from trayapp.core.errors import AacliError, CodeCancelled, ConfigError, UsageError
from trayapp.core.model import Config, Session, Target
from trayapp.core.service import Removal, Service
from trayapp.tray import identity_center, notify
from trayapp.tray.backend import left_click_opens_menu, on_logout, set_tooltip
from trayapp.tray.identity_center import HubSignIns
from trayapp.tray.menu import (
    Action,
    MenuEntry,
    build_menu,
    icon_state,
    live_sessions,
    short_label,
    time_left,
    tooltip,
)
from trayapp.tray.scheduler import Scheduler

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0
ICON_SIZE = 32  # drawn near the panel's size: GTK's downscaling blurs the badge
# These ask for a code or a sign-in: one click at a time.
BUSY_KINDS = ("auth", "renew", "rotate", *identity_center.SIGN_IN_KINDS)
# These may wait for an MFA dialog: they run on their own worker, so that Sign out, Open
# console, Quit and Dismiss never wait behind an open dialog.
SIGN_IN_KINDS = (*BUSY_KINDS, "renew_quiet")


def to_pystray(entries: Sequence[MenuEntry], on_action: Callable[[Action], None]) -> Any:
    """The pystray menu for ``entries``; every callback only hands its action to ``on_action``."""
    import pystray  # type: ignore[import-untyped]

    items = []
    for entry in entries:
        if entry.separator:
            items.append(pystray.Menu.SEPARATOR)
            continue
        checked = (lambda _item: True) if entry.checked else None
        if entry.children:
            # GTK toggles a check item whenever its submenu opens, so a submenu shows a tick
            # in its label instead.
            label = f"\u2713 {entry.label}" if entry.checked else entry.label
            items.append(
                pystray.MenuItem(
                    label, to_pystray(entry.children, on_action), enabled=entry.enabled
                )
            )
        else:
            items.append(
                pystray.MenuItem(
                    entry.label,
                    _callback(entry.action, on_action),
                    checked=checked,
                    enabled=entry.enabled and entry.action.kind != "none",
                )
            )
    return pystray.Menu(*items)


def _callback(action: Action, on_action: Callable[[Action], None]) -> Callable[[Any, Any], None]:
    def clicked(_icon: Any, _item: Any) -> None:
        on_action(action)

    return clicked


def menu_labels(entries: Sequence[MenuEntry]) -> list[Any]:
    """The menu as nested JSON-able data (what AACLI_TRAY_DEBUG_MENU writes)."""
    return [
        "---"
        if e.separator
        else {
            "label": e.label,
            "action": e.action.kind,
            "target": e.action.target,
            "checked": e.checked,
            "enabled": e.enabled,
            "children": menu_labels(e.children),
        }
        for e in entries
    ]


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


def _mtime(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


class TrayApp:
    """Owns the icon, the worker, the expiry scheduler and the file poller."""

    def __init__(
        self,
        service: Service,
        *,
        code_source: Callable[[], CodeSource],
        clock: Clock = system_clock,
        poll_seconds: float = POLL_SECONDS,
        debug_menu: Path | None = None,
    ) -> None:
        self.service = service
        self.code_source = code_source
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.debug_menu = debug_menu
        self.notify = notify.IconNotifier()
        self.clipboard = SecretClipboard()  # what "Copy env for shell" put there, cleared later
        self.icon: Any = None
        self.actions: queue.Queue[Action | None] = queue.Queue()
        self.sign_ins: queue.Queue[Action | None] = queue.Queue()  # may wait for a dialog
        from trayapp.tray.serving import TrayServing

        self.serving = TrayServing(  # the tray socket, and the credential server when on
            service,
            source_for=self._source_for,
            to_sign_in_worker=lambda: self.sign_ins.put(Action("serve_code")),
            notify=self.notify,
        )
        self.busy: set[str] = set()
        self.signing: str | None = None  # the target STS is working on (after the code)
        self.cancelled: set[str] = set()  # sign-ins the user cancelled while STS worked
        self.error_target = ""  # the target the last error was about ("" for none)
        self.prompt: str | None = None  # "Touch your YubiKey (acme/dev/DEVELOPER)" meanwhile
        self.outside_prompt: str | None = None  # the same, of another aacli (credential_process)
        self.action_error: str | None = None
        self.config_error: str | None = None
        self.config = Config()
        self.no_secret: frozenset[str] = frozenset()  # profiles without a hub secret key
        self.sessions: list[Session] = []
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self._lock = threading.RLock()
        self._shown: tuple[tuple[MenuEntry, ...], tuple[str, int, bool], str] | None = None
        self._mark = False  # the icon's small error mark as last drawn
        self._mtimes = self._file_stamps()
        self._load_config()
        self.sessions = service.sessions()
        self.hubs = HubSignIns(  # Identity Center hubs: sign-in, its expiry, their accounts
            service,
            config=lambda: self.config,
            notify=self.notify,
            enqueue=self.actions.put,  # a refresh it queues is no click: never taken for a second
            changed=self.refresh,
            clock=clock,
            state_dir=service.deps.app.state_dir,
        )
        self.hubs.read_expiries()
        self.scheduler = Scheduler(
            service,
            on_warning=self._warned,
            on_expired=self._expired,
            on_error=self._failed,
            warn_minutes=lambda: self.config.settings.warn_minutes,
            clock=clock,
            wake=self.wake,
            watchers=(self.hubs.tick,),
        )

    # Running

    def run(self) -> int:
        """Show the icon and block in pystray's loop until Quit. Must run on the main thread."""
        import pystray

        from trayapp.tray.icon import draw_icon

        model, (state, count, due), title = self._snapshot()
        self._mark = self.error_mark()
        self.icon = pystray.Icon(
            "aacli",
            icon=draw_icon(state, ICON_SIZE, count, reminder=due, error=self._mark),
            title=title,
            menu=to_pystray(model, self.enqueue),
        )
        left_click_opens_menu(self.icon)
        set_tooltip(self.icon, title)
        on_logout(lambda: self.enqueue(Action("quit")))
        self.notify.icon = self.icon
        self._shown = (model, (state, count, due), title)
        self._write_debug(model, state)
        try:
            self.icon.run(setup=self._setup)
        except Exception as exc:  # pystray closes its last notification on exit; no daemon: error
            log.debug("tray loop ended with %s", type(exc).__name__)
        self.stopping.set()
        self.scheduler.stop()
        self.serving.stop()
        self.clipboard.clear_if_ours()
        return 0

    def _setup(self, icon: Any) -> None:
        icon.visible = True
        threads = (
            ("aacli-worker", self._work),
            ("aacli-sign-in", self._work_sign_ins),
            ("aacli-poll", self._poll),
            ("aacli-warm", self._warm),
        )
        for name, body in threads:
            threading.Thread(target=body, name=name, daemon=True).start()
        self.scheduler.start()
        self.serving.start(self.config.settings)
        self._welcome()

    def _warm(self) -> None:
        """Import botocore and build one STS client now, off the UI thread, so the first sign-in
        after a click pays only for the call (no network: building a client sends nothing)."""
        from trayapp.core.sts import StsCaller

        try:
            self.service.deps.sts_factory(
                StsCaller(
                    access_key_id="AKIAWARMUPNOTAKEY000",
                    secret_access_key="warm-up-only-never-sent",
                    region="us-east-1",
                    endpoint_url=self.service.deps.endpoint_url,
                )
            )
        except Exception as exc:  # a failed warm-up only means a slower first sign-in
            log.debug("STS warm-up failed: %s", type(exc).__name__)

    def enqueue(self, action: Action) -> None:
        """Called on pystray's loop: never blocks, never touches AWS."""
        with self._lock:
            if action.target and action.target in self.busy and action.kind != "cancel":
                return  # a second click while the first is still being handled
            if action.kind in BUSY_KINDS:
                self.busy.add(action.target)
        (self.sign_ins if action.kind in SIGN_IN_KINDS else self.actions).put(action)
        if action.kind in BUSY_KINDS:
            self.refresh()

    def stop(self) -> None:
        self.stopping.set()
        self.serving.stop()
        self.clipboard.clear_if_ours()
        self.actions.put(None)
        self.sign_ins.put(None)
        self.hubs.close_window()
        self.scheduler.stop()
        if self.icon is not None:
            self.icon.stop()

    # The workers: sign-ins (which may wait for a dialog) on one, every other action on the
    # other, each one at a time

    def _work(self) -> None:
        self._finish_rotations()  # a rotation a killed aacli left: before any action
        self.remind_keys()
        self.refresh()
        while True:
            action = self.actions.get()
            if action is None:
                return
            self._handle(action)
            if action.kind == "quit":
                self.stop()
                return

    def _work_sign_ins(self) -> None:
        while (action := self.sign_ins.get()) is not None:
            self._handle(action)

    def _handle(self, action: Action) -> None:
        try:
            self.perform(action)
        except CodeCancelled:
            pass  # the user closed the dialog: nothing to report
        except AacliError as exc:
            self._failed(exc, action.target)
        except Exception as exc:  # never a crash; the type only: a message might hold a secret
            log.warning("%s failed: %s", action.kind, type(exc).__name__)
            log.debug("details", exc_info=True)  # only with --debug
            self._failed(exc, action.target)
        else:
            if action.kind not in ("dismiss", "cancel", "serve_code"):
                self.action_error = None
        finally:
            with self._lock:
                if action.kind != "cancel":
                    self.busy.discard(action.target)
                if action.kind in SIGN_IN_KINDS:
                    self.signing = None
                    self.cancelled.discard(action.target)
            self.sessions = self.service.sessions()
            self.wake.set()
            self.refresh()

    def perform(self, action: Action) -> None:
        kind = action.kind
        if kind in ("auth", "renew"):
            target = self._target(action.target)
            if self._needs_secret(target):
                return
            if target.profile.is_identity_center:  # its hub signs in first when it must
                stopped = self._signing_in(target.label)
                session = self.hubs.signed_in_first(
                    target.profile.name,
                    lambda: self._sign_in(target, self._source_for(target)),
                    stopped,
                )
            else:
                session = self._sign_in(target, self._source_for(target))
            if session is not None:
                self.notify(notify.activated(short_label(target.label, self.config), session))
        elif kind == "renew_quiet":
            target = self._target(action.target)
            quiet = target.profile.codes == "process"  # a command: no one is asked
            hub = target.profile.is_identity_center  # no code, no secret store to open
            source = (
                (self._source_for(target) if quiet else None)
                or (None if hub else self.service.stored_code_source(target.profile))
                or LazyCode(_no_prompt)
            )
            session = self._sign_in(target, source)
            if session is not None:
                self.notify(notify.renewed(short_label(target.label, self.config), session))
        elif kind in identity_center.SIGN_IN_KINDS:
            code = kind == identity_center.SIGN_IN_CODE
            stopped = self._signing_in(action.target)
            self.hubs.sign_in(action.target, device_code=code, cancelled=stopped)
        elif kind == identity_center.SYNC:
            self.hubs.sync(action.target)
            self._load_config()
        elif kind == identity_center.SIGN_OUT:
            self.hubs.sign_out(action.target)
        elif kind == "cancel":
            with self._lock:
                self.cancelled.add(action.target)
                self.signing = None
        elif kind == "dismiss":
            self.action_error = None
            self.error_target = ""
        elif kind == "console":
            self._open_console(self._target(action.target))
        elif kind == "copy_env":
            self._copy_env(self._target(action.target))
        elif kind == "copy_server_env":
            self.notify(self.serving.copy_env(self._target(action.target), self.clipboard))
        elif kind == "serve_code":  # the credential server needs a code: the dialog, here
            self.serving.run_asked()
        elif kind == "unauth":
            removal = self.service.unauth(self._target(action.target))
            self.serving.forget(action.target)  # and what the credential server held for it
            self.clipboard.clear_if_ours(action.target)
            if removal is not None:
                self._report([removal], "signed out; credentials removed")
        elif kind == "unauth_all":
            self._report(self.service.unauth_all(), "signed out; credentials removed")
            self.serving.forget()
            self.clipboard.clear_if_ours()
        elif kind == "settings":
            self._open_settings(action.target)
        elif kind == "rotate":
            self._rotate(action.target)
        elif kind == "quit" and self.config.settings.unauth_on_quit:
            self._report(self.service.unauth_all(), "signed out; credentials removed")

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

    def _open_settings(self, profile: str = "") -> None:
        """The settings window (a child process; a second click raises the open one)."""
        from trayapp.dialogs.settings.launch import open_settings

        open_settings(profile or None, first_run=not self.config.profiles)

    def _welcome(self) -> None:
        """At the very first start (no config): the settings window opens once by itself."""
        from trayapp.dialogs.settings.launch import open_welcome_once

        try:
            open_welcome_once(self.service.deps.app)
        except (AacliError, OSError) as exc:  # the menu's "Set up aacli…" still leads there
            log.warning("could not open the welcome window: %s", exc)

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

    # Scheduler callbacks (its own thread)

    def _warned(self, session: Session, now: datetime) -> None:
        if self._keep_fresh(session):
            self.enqueue(Action("renew_quiet", session.target))
            return
        label = short_label(session.target, self.config)
        self.notify(notify.expiring(label, time_left(session, now), session), important=True)
        self.refresh()

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

    def _expired(self, removals: list[Removal]) -> None:
        for removal in removals:
            self.clipboard.clear_if_ours(removal.session.target)
            label = short_label(removal.session.target, self.config)
            self.notify(notify.expired(label, removal.removed, removal.left_alone), important=True)
        self.sessions = self.service.sessions()
        self.refresh()

    def _failed(self, exc: Exception, target: str = "") -> None:
        message = (
            str(exc)
            if isinstance(exc, AacliError)
            else (f"Unexpected error ({type(exc).__name__}); run 'aacli tray --debug' for details.")
        )
        self.action_error = message
        self.error_target = target
        self.notify(message, "aacli: error", important=True)
        self.refresh()

    def _forget_stale_error(self) -> None:
        """An error about a role or profile that has since been removed goes away with it."""
        if self.error_target and not any(
            t.label == self.error_target for t in self.service.targets()
        ):
            self.action_error = None
            self.error_target = ""

    # Keeping the menu current

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

    def _snapshot(self) -> tuple[tuple[MenuEntry, ...], tuple[str, int, bool], str]:
        now = self.clock()
        with self._lock:
            busy = frozenset(self.busy)
            prompt = self.prompt or self.outside_prompt
            signing = self.signing
        from trayapp.core.keys import due_keys

        due = due_keys(self.config, now)
        model = build_menu(
            self.config,
            self.sessions,
            now,
            busy=busy,
            error=self.config_error,
            due_keys=due,
            prompt=prompt,
            no_secret=self.no_secret,
            signing=signing,
            last_error=self.action_error,
            quit_signs_out=self.quit_signs_out(now),
            sign_ins=self.hubs.expiries,
        )
        model = self.serving.decorate(model)  # "Copy server env" while serving
        state = icon_state(self.sessions, now, self.config.settings.warn_minutes)
        if signing:
            state = ("busy", state[1])
        title = tooltip(self.sessions, now)
        if signing:
            title = f"aacli: Signing in to {signing}\u2026\n{title}"
        if prompt:
            title = f"aacli: {prompt}\u2026"
        return model, (*state, bool(due)), title

    def quit_signs_out(self, now: datetime) -> int:
        """How many sessions Quit (and a logout) signs out of: every live one the ledger holds,
        from the tray or the CLI, when the setting says so; else none."""
        if not self.config.settings.unauth_on_quit:
            return 0
        return len(live_sessions(self.sessions, now))

    def error_mark(self) -> bool:
        return bool(self.config_error or self.action_error)

    def refresh(self) -> None:
        """Push the menu, icon and title to pystray, only what changed (idle costs nothing)."""
        if self.icon is None:
            return
        with self._lock:
            model, state, title = self._snapshot()
            shown = self._shown
            mark = self.error_mark()
            if shown is not None and shown == (model, state, title) and mark == self._mark:
                return
            if shown is None or shown[0] != model:
                self.icon.menu = to_pystray(model, self.enqueue)  # the setter updates pystray
            if shown is None or shown[1] != state or mark != self._mark:
                from trayapp.tray.icon import draw_icon

                self.icon.icon = draw_icon(
                    state[0], ICON_SIZE, state[1], reminder=state[2], error=mark
                )
            if shown is None or shown[2] != title:
                self.icon.title = title
                set_tooltip(self.icon, title)
            self._shown = (model, state, title)
            self._mark = mark
            self._write_debug(model, state[0])

    def _write_debug(self, model: tuple[MenuEntry, ...], state: str) -> None:
        if self.debug_menu is None:
            return
        data = {
            "state": state,
            "error_mark": self._mark,
            "title": self._shown[2] if self._shown else "",
            "key_reminder": bool(self._shown and self._shown[1][2]),
            "menu": menu_labels(model),
            "notifications": self.notify.sent,
        }
        temp = self.debug_menu.with_name(self.debug_menu.name + ".tmp")
        temp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        temp.replace(self.debug_menu)


def open_in_editor(path: Path) -> None:
    """Open ``path`` with the desktop's default editor, without waiting for it."""
    if sys.platform == "win32":
        os.startfile(path)  # type: ignore[attr-defined]  # noqa: S606
        return
    opener = "open" if sys.platform == "darwin" else "xdg-open"
    args = [opener, "-t", str(path)] if opener == "open" else [opener, str(path)]
    if shutil.which(opener) is None:
        raise UsageError(f"No program to open files was found ({opener}); edit {path} by hand.")
    from trayapp.core import children

    children.start(args)  # no aacli secret in its environment; never waited for
