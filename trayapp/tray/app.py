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
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from trayapp.core.clipboard import SecretClipboard
from trayapp.core.clock import Clock, system_clock
from trayapp.core.codes import CodeSource
from trayapp.core.errors import AacliError, CodeCancelled, UsageError
from trayapp.core.model import Config, Session
from trayapp.core.service import Removal, Service
from trayapp.tray import identity_center, notify
from trayapp.tray.backend import left_click_opens_menu, on_logout, set_tooltip
from trayapp.tray.identity_center import HubSignIns
from trayapp.tray.key_actions import KeyActions
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
from trayapp.tray.pystray_menu import menu_labels, to_pystray
from trayapp.tray.role_actions import RoleActions
from trayapp.tray.scheduler import Scheduler
from trayapp.tray.watching import Watching

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0
ICON_SIZE = 32  # drawn near the panel's size: GTK's downscaling blurs the badge
# These ask for a code or a sign-in: one click at a time.
BUSY_KINDS = ("auth", "renew", "rotate", *identity_center.SIGN_IN_KINDS)
# These may wait for an MFA dialog: they run on their own worker, so that Sign out, Open
# console, Quit and Dismiss never wait behind an open dialog.
SIGN_IN_KINDS = (*BUSY_KINDS, "renew_quiet")


class TrayApp(RoleActions, KeyActions, Watching):
    """Owns the icon, the workers, the expiry scheduler and the file poller (the role actions,
    the key rotation and the file watching are the mixins' modules)."""

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
            session = self._sign_in(target, self._quiet_source(target))
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

    # Scheduler callbacks (its own thread)

    def _warned(self, session: Session, now: datetime) -> None:
        if self._keep_fresh(session):
            self.enqueue(Action("renew_quiet", session.target))
            return
        label = short_label(session.target, self.config)
        self.notify(notify.expiring(label, time_left(session, now), session), important=True)
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

    # Keeping the menu current

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
