"""The tray app: the pystray icon, one worker thread for every action, and the refresh loop."""

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
from trayapp.core.codes import CodeSource, LazyCode
from trayapp.core.errors import AacliError, CodeCancelled, ConfigError, UsageError
from trayapp.core.model import Config, Session, Target
from trayapp.core.service import Removal, Service
from trayapp.tray import notify
from trayapp.tray.menu import (
    Action,
    MenuEntry,
    build_menu,
    icon_state,
    short_label,
    time_left,
    tooltip,
)
from trayapp.tray.scheduler import Scheduler

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0
ICON_SIZE = 32  # drawn near the panel's size: GTK's downscaling blurs the badge
BUSY_KINDS = ("auth", "renew", "rotate")  # these ask for a code: one click at a time


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
        self.busy: set[str] = set()
        self.prompt: str | None = None  # "Touch your YubiKey (dev/DEVELOPER)" while ykman waits
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
        self._mtimes = self._file_stamps()
        self._load_config()
        self.sessions = service.sessions()
        self.scheduler = Scheduler(
            service,
            on_warning=self._warned,
            on_expired=self._expired,
            on_error=self._failed,
            warn_minutes=lambda: self.config.settings.warn_minutes,
            clock=clock,
            wake=self.wake,
        )

    # Running

    def run(self) -> int:
        """Show the icon and block in pystray's loop until Quit. Must run on the main thread."""
        import pystray

        from trayapp.tray.icon import draw_icon

        model, (state, count, due), title = self._snapshot()
        self.icon = pystray.Icon(
            "aacli",
            icon=draw_icon(state, ICON_SIZE, count, reminder=due),
            title=title,
            menu=to_pystray(model, self.enqueue),
        )
        self.notify.icon = self.icon
        self._shown = (model, (state, count, due), title)
        self._write_debug(model, state)
        try:
            self.icon.run(setup=self._setup)
        except Exception as exc:  # pystray closes its last notification on exit; no daemon: error
            log.debug("tray loop ended with %s", type(exc).__name__)
        self.stopping.set()
        self.scheduler.stop()
        self.clipboard.clear_if_ours()
        return 0

    def _setup(self, icon: Any) -> None:
        icon.visible = True
        threads = (
            ("aacli-worker", self._work),
            ("aacli-poll", self._poll),
            ("aacli-warm", self._warm),
        )
        for name, body in threads:
            threading.Thread(target=body, name=name, daemon=True).start()
        self.scheduler.start()
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
            if action.target and action.target in self.busy:
                return  # a second click while the first is still being handled
            if action.kind in BUSY_KINDS:
                self.busy.add(action.target)
        self.actions.put(action)
        if action.kind in BUSY_KINDS:
            self.refresh()

    def stop(self) -> None:
        self.stopping.set()
        self.clipboard.clear_if_ours()
        self.actions.put(None)
        self.scheduler.stop()
        if self.icon is not None:
            self.icon.stop()

    # The worker: every action runs here, one at a time

    def _work(self) -> None:
        self._finish_rotations()  # a rotation a killed aacli left: before any action
        self.remind_keys()
        self.refresh()
        while True:
            action = self.actions.get()
            if action is None:
                return
            try:
                self.perform(action)
            except CodeCancelled:
                pass  # the user closed the dialog: nothing to report
            except AacliError as exc:
                self._failed(exc)
            except Exception as exc:  # never a crash; the type only: a message might hold a secret
                log.warning("%s failed: %s", action.kind, type(exc).__name__)
                log.debug("details", exc_info=True)  # only with --debug
                self._failed(exc)
            else:
                self.action_error = None
            finally:
                with self._lock:
                    self.busy.discard(action.target)
                self.sessions = self.service.sessions()
                self.wake.set()
                self.refresh()
            if action.kind == "quit":
                self.stop()
                return

    def perform(self, action: Action) -> None:
        kind = action.kind
        if kind in ("auth", "renew"):
            target = self._target(action.target)
            if self._needs_secret(target):
                return
            session = self.service.authenticate(target, self._source_for(target))
            self.notify(notify.activated(short_label(target.label, self.config), session))
        elif kind == "renew_quiet":
            target = self._target(action.target)
            quiet = target.profile.codes == "process"  # a command: no one is asked
            source = (
                (self._source_for(target) if quiet else None)
                or self.service.stored_code_source(target.profile)
                or LazyCode(_no_prompt)
            )
            session = self.service.authenticate(target, source)
            self.notify(notify.renewed(short_label(target.label, self.config), session))
        elif kind == "console":
            self._open_console(self._target(action.target))
        elif kind == "copy_env":
            self._copy_env(self._target(action.target))
        elif kind == "unauth":
            removal = self.service.unauth(self._target(action.target))
            self.clipboard.clear_if_ours(action.target)
            if removal is not None:
                self._report([removal], "signed out; credentials removed")
        elif kind == "unauth_all":
            self._report(self.service.unauth_all(), "signed out; credentials removed")
            self.clipboard.clear_if_ours()
        elif kind == "settings":
            self._open_settings(action.target)
        elif kind == "rotate":
            self._rotate(action.target)
        elif kind == "quit" and self.config.settings.unauth_on_quit:
            self._report(self.service.unauth_all(), "signed out; credentials removed")

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
        if hub_secret_stored(self.service, name):
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
                    f"{label}: left profile {', '.join(removal.left_alone)} alone: "
                    "its keys were changed outside aacli"
                )
            else:
                self.notify(f"{label} {what}")

    # Scheduler callbacks (its own thread)

    def _warned(self, session: Session, now: datetime) -> None:
        if self._keep_fresh(session):
            self.enqueue(Action("renew_quiet", session.target))
            return
        label = short_label(session.target, self.config)
        self.notify(notify.expiring(label, time_left(session, now), session))
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
            self.notify(notify.expired(label, removal.removed, removal.left_alone))
        self.sessions = self.service.sessions()
        self.refresh()

    def _failed(self, exc: Exception) -> None:
        message = (
            str(exc)
            if isinstance(exc, AacliError)
            else (f"Unexpected error ({type(exc).__name__}); run 'aacli tray --debug' for details.")
        )
        self.action_error = message
        self.notify(message, "aacli: error")
        self.refresh()

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
        self._find_missing_secrets()
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
                self.check_prompts()
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
        if self.icon is not None and getattr(self.icon, "HAS_NOTIFICATION", False):
            try:
                self.icon.remove_notification()
            except Exception as exc:  # a missing notification daemon must not stop the tray
                log.debug("could not remove the notification: %s", type(exc).__name__)

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
        error = self.config_error or self.action_error
        with self._lock:
            busy = frozenset(self.busy)
            prompt = self.prompt or self.outside_prompt
        from trayapp.core.keys import due_keys

        due = due_keys(self.config, now)
        model = build_menu(
            self.config,
            self.sessions,
            now,
            busy=busy,
            error=error,
            due_keys=due,
            prompt=prompt,
            no_secret=self.no_secret,
        )
        state = icon_state(self.sessions, now, self.config.settings.warn_minutes, error)
        title = f"aacli: {prompt}\u2026" if prompt else tooltip(self.sessions, now)
        return model, (*state, bool(due)), title

    def refresh(self) -> None:
        """Push the menu, icon and title to pystray, only what changed (idle costs nothing)."""
        if self.icon is None:
            return
        with self._lock:
            model, state, title = self._snapshot()
            shown = self._shown
            if shown is not None and shown == (model, state, title):
                return
            if shown is None or shown[0] != model:
                self.icon.menu = to_pystray(model, self.enqueue)  # the setter updates pystray
            if shown is None or shown[1] != state:
                from trayapp.tray.icon import draw_icon

                self.icon.icon = draw_icon(state[0], ICON_SIZE, state[1], reminder=state[2])
            if shown is None or shown[2] != title:
                self.icon.title = title
            self._shown = (model, state, title)
            self._write_debug(model, state[0])

    def _write_debug(self, model: tuple[MenuEntry, ...], state: str) -> None:
        if self.debug_menu is None:
            return
        data = {
            "state": state,
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
