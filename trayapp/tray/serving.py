"""Credentials from the tray to programs: its Unix socket (always, while the tray runs) and the
local credential server (core/server) while "Serve credentials to programs" is on.

Both hand out the same credentials: a live session of the tray (one it wrote) while it has
enough time left, else a renewal in memory (core/server's Renewer, nothing written). A renewal
asks nobody when a code can be had without asking (a stored seed, an MFA session, a YubiKey or
an MFA command); else the MFA dialog opens on the tray's sign-in worker, one at a time, so no
role ever has two dialogs and a click's dialog never overlaps a server's.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from trayapp.core.codes import CodeRequest, CodeSource, LazyCode
from trayapp.core.errors import AacliError, CodeCancelled, UsageError
from trayapp.core.model import Credentials, Settings, Target
from trayapp.tray.menu import Action, MenuEntry

if TYPE_CHECKING:
    from trayapp.core.clipboard import SecretClipboard
    from trayapp.core.server import CredentialServer, Renewer
    from trayapp.core.service import Service

log = logging.getLogger(__name__)

COOL_DOWN_SECONDS = 30.0  # after a cancelled dialog, a polling client does not reopen it
QUEUE_SECONDS = 60.0  # a server's dialog waits this long behind another one, at most
DIALOG_SECONDS = 150.0  # and then this long for its answer (the dialog closes at 120 s)
COPY_SERVER_ENV = "Copy server env"
NOT_SERVING = (
    "The tray does not serve credentials: turn on 'Serve credentials to programs' in its "
    "Settings\u2026 (App settings)."
)


@dataclass
class _Ask:
    """A code the server needs, asked on the sign-in worker."""

    source: CodeSource
    request: CodeRequest
    started: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    dropped: bool = False  # gave up before the worker got to it
    code: str | None = None
    error: BaseException | None = None


class _OnSignInWorker:
    """A code source whose ``get_code`` runs on the tray's sign-in worker (the MFA dialog)."""

    def __init__(self, inner: CodeSource, serving: TrayServing) -> None:
        self.inner, self.serving = inner, serving
        self.name = inner.name

    @property
    def can_retry(self) -> bool:
        return self.inner.can_retry

    def get_code(self, request: CodeRequest) -> str:
        return self.serving.ask_on_worker(self.inner, request)


class TrayServing:
    """The tray socket, the credential server when switched on, and the Renewers they share.

    ``source_for``: the tray's code source for a target; ``to_sign_in_worker``: queues one
    ``serve_code`` action on the tray's sign-in worker (which calls ``run_asked``);
    ``notify``: a notification line."""

    def __init__(
        self,
        service: Service,
        *,
        source_for: Callable[[Target], CodeSource],
        to_sign_in_worker: Callable[[], None],
        notify: Callable[[str], None],
    ) -> None:
        from trayapp.core.tray_socket import TraySocket

        self.service = service
        self.source_for = source_for
        self.to_sign_in_worker = to_sign_in_worker
        self.notify = notify
        self._renewers: dict[str, Renewer] = {}  # one per role: Sign out drops its own
        self._keep_fresh: dict[str, threading.Event] = {}  # role -> stops its background renewal
        self.server: CredentialServer | None = None
        self.port = 0  # the port of this run, kept when the switch goes off and on again
        self.socket = TraySocket(service.deps.app.tray_socket_file, self.answer)
        self._asks: queue.Queue[_Ask] = queue.Queue()
        self._cancelled: dict[str, float] = {}  # target -> when its server dialog was cancelled
        self._lock = threading.Lock()
        self._started = False

    # Starting and stopping

    def start(self, settings: Settings) -> None:
        """Listen on the tray socket, and serve if the settings say so."""
        try:
            self.socket.serve()
        except (AacliError, OSError) as exc:  # the tray works on without it
            self.notify(f"Programs cannot ask the tray for credentials: {_reason(exc)}")
        with self._lock:
            self._started = True
        self.apply(settings)

    def apply(self, settings: Settings) -> None:
        """Start or stop the credential server as ``settings.serve_credentials`` says."""
        with self._lock:
            if not self._started:
                return
            moved = settings.server_port not in (0, self.port)
            if settings.serve_credentials and self.server is not None and moved:
                self.server.stop()  # another port in the settings: serve there instead
                self.server = None
            if settings.serve_credentials and self.server is None:
                self._start_server(settings.server_port or self.port)
            elif not settings.serve_credentials and self.server is not None:
                self.server.stop()
                self.server = None
                self.notify("Stopped serving credentials to programs.")

    def _start_server(self, port: int) -> None:
        from trayapp.core.server import CredentialServer

        try:
            server = CredentialServer(self.fetch, port=port).start()
        except AacliError as exc:
            if port == self.port and port:  # the remembered port is taken now: any free one
                self._start_server(0)
                return
            self.notify(f"Not serving credentials: {exc}")
            return
        self.server, self.port = server, server.port
        self.notify(
            f"Serving credentials to programs on 127.0.0.1:{server.port}; "
            f"an active role's menu has {COPY_SERVER_ENV}."
        )

    def stop(self) -> None:
        """Quit: the server stops and the socket file goes."""
        self.forget()  # background renewals end with the tray
        with self._lock:
            self._started = False
            server, self.server = self.server, None
        if server is not None:
            server.stop()
        self.socket.stop()

    @property
    def serving(self) -> bool:
        return self.server is not None

    # What the server and the socket hand out

    def fetch(self, label: str) -> Credentials:
        """Credentials for ``label`` with more than the server's margin left: the tray's live
        session when it has that long, else the Renewer's (renewing when due)."""
        from trayapp.core.errors import TargetError
        from trayapp.core.server import UnknownRole

        try:
            target = self.service.resolve(label)
        except TargetError as exc:  # the server answers 404
            raise UnknownRole(str(exc)) from None
        session = self.service.session_for(target)
        if session is not None:
            from trayapp.core.server import margin_for

            margin = margin_for(session.expiration - session.issued_at)
            if session.expiration - self.service.deps.clock() > margin:
                try:
                    creds = self.service.credentials_of(session)
                except AacliError:
                    pass  # its keys were removed by hand: renew in memory
                else:  # the file holds no ARN; the ECS answer carries the role's
                    return replace(creds, assumed_role_arn=target.role_arn)
        return self._renewer(target.label).fetch(target.label)

    def _renewer(self, label: str) -> Renewer:
        from trayapp.core.server import Renewer

        with self._lock:
            renewer = self._renewers.get(label)
            if renewer is not None:
                return renewer
            renewer = self._renewers[label] = Renewer(self.service, self._renewal_source)
            self._renew_ahead(label, renewer)
            return renewer

    def _renew_ahead(self, label: str, renewer: Renewer) -> None:
        """A role that renews without asking anyone is renewed in the background when due, so
        no program waits behind a renewal (SDKs give up after 1-2 s; a stored seed may have to
        wait for the next 30 s window). One that needs the dialog is renewed when asked."""
        try:
            silent = self.service.can_renew_silently(self.service.resolve(label))
        except AacliError:
            return
        if silent:
            stop = self._keep_fresh[label] = threading.Event()
            renewer.keep_fresh(label, stop, lambda exc: log.info("renewal of %s: %s", label, exc))

    def forget(self, label: str | None = None) -> None:
        """Sign out: the credentials held for ``label`` (None: every role) are dropped, so
        the next program that asks gets a renewal (a dialog, when one is needed)."""
        with self._lock:
            labels = list(self._renewers) if label is None else [label]
            for name in labels:
                self._renewers.pop(name, None)
                stop = self._keep_fresh.pop(name, None)
                if stop is not None:
                    stop.set()

    def answer(self, request: dict[str, str]) -> dict[str, Any]:
        """The tray socket's handler (core/tray_socket)."""
        op, text = request.get("op"), request.get("target", "")
        if op == "credentials":
            from trayapp.core.clock import isoformat_z

            creds = self.fetch(text)
            return {
                "Version": 1,
                "AccessKeyId": creds.access_key_id,
                "SecretAccessKey": creds.secret_access_key,
                "SessionToken": creds.session_token,
                "Expiration": isoformat_z(creds.expiration),
            }
        if op == "server-env":
            return self.server_env(self.service.resolve(text))
        raise UsageError(f"unknown request {op!r} (expected credentials or server-env)")

    def server_env(self, target: Target) -> dict[str, str]:
        server = self.server
        if server is None:
            raise UsageError(NOT_SERVING)
        return server.env(target.label)

    def copy_env(self, target: Target, clipboard: SecretClipboard) -> str:
        """Put the two variables (the token, never keys) on the clipboard; what to notify."""
        from trayapp.core.envvars import render

        text = render(self.server_env(target), "sh") + "\n"
        copied = clipboard.copy(text, target.label)  # ClipboardError: the caller says so
        marked = " (marked sensitive)" if copied.sensitive else ""
        return (
            f"Server variables for {target.label} copied{marked}; paste them into a terminal: "
            f"programs started there get fresh credentials from the tray. The clipboard is "
            f"cleared in {copied.clear_after:.0f} s."
        )

    # Codes: silent ones where they are asked, the dialog on the sign-in worker

    def _renewal_source(self, target: Target) -> CodeSource:
        source = self.source_for(target)
        if isinstance(source, LazyCode):  # the dialog (the tray's last resort)
            return _OnSignInWorker(source, self)
        return source

    def ask_on_worker(self, source: CodeSource, request: CodeRequest) -> str:
        """``source.get_code`` on the sign-in worker, waited for (bounded). A dialog the user
        cancelled is not opened again for that role for COOL_DOWN_SECONDS: SDKs poll."""
        since = time.monotonic() - self._cancelled.get(request.target, -COOL_DOWN_SECONDS)
        if since < COOL_DOWN_SECONDS:
            raise CodeCancelled(
                f"The MFA dialog for {request.target} was cancelled; it opens again in "
                f"{COOL_DOWN_SECONDS - since:.0f} s, or sign in from the tray's menu."
            )
        ask = _Ask(source, request)
        self._asks.put(ask)
        self.to_sign_in_worker()
        if not ask.started.wait(QUEUE_SECONDS):
            ask.dropped = True
            if not ask.started.is_set():
                raise AacliError(
                    f"The tray is busy asking for another code; {request.target} was not "
                    "renewed (try again when that is done)."
                )
        if not ask.done.wait(DIALOG_SECONDS):
            raise AacliError(f"No MFA code was typed for {request.target} in time.")
        if isinstance(ask.error, CodeCancelled):
            self._cancelled[request.target] = time.monotonic()
        if ask.error is not None:
            raise ask.error
        assert ask.code is not None
        return ask.code

    def run_asked(self) -> None:
        """On the sign-in worker: ask the next waiting code (the dialog), hand it over."""
        try:
            ask = self._asks.get_nowait()
        except queue.Empty:
            return
        ask.started.set()
        if ask.dropped:
            return
        try:
            ask.code = ask.source.get_code(ask.request)
        except BaseException as exc:  # carried to the waiting renewal (CodeCancelled too)
            ask.error = exc
        finally:
            ask.done.set()

    # The menu

    def decorate(self, entries: Sequence[MenuEntry]) -> tuple[MenuEntry, ...]:
        """While serving, each active role's submenu gains "Copy server env" after "Copy env
        for shell", and a line above Settings… says where it listens (menu.py builds the menu;
        this only adds to it)."""
        server = self.server
        if server is None:
            return tuple(entries)
        decorated = [_with_copy_server_env(e) for e in entries]
        # Above Settings…: a listening server is never a secret from its user.
        settings = [i for i, e in enumerate(decorated) if e.action == Action("settings")]
        where = settings[-1] if settings else len(decorated)
        decorated.insert(
            where, MenuEntry(f"Serving credentials on 127.0.0.1:{server.port}", enabled=False)
        )
        return tuple(decorated)


def _with_copy_server_env(entry: MenuEntry) -> MenuEntry:
    if not entry.children:
        return entry
    children = []
    for child in entry.children:
        children.append(_with_copy_server_env(child))
        if child.action.kind == "copy_env":
            children.append(
                MenuEntry(COPY_SERVER_ENV, Action("copy_server_env", child.action.target))
            )
    return replace(entry, children=tuple(children))


def _reason(exc: BaseException) -> str:
    return (
        str(exc)
        if isinstance(exc, AacliError)
        else (getattr(exc, "strerror", "") or type(exc).__name__)
    )
