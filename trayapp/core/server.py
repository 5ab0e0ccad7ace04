"""The local credential server: the ECS container-credentials protocol on 127.0.0.1.

SDKs given ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` and ``AWS_CONTAINER_AUTHORIZATION_TOKEN``
(or ``…_TOKEN_FILE``: the header is the same either way) poll ``GET /role/<label>`` and refresh
by themselves, so no key is ever written to disk or put in a child's environment. The server
refuses what a browser or a DNS-rebinding page could send (a foreign ``Host``, any ``Origin``)
before it looks at the token. ``Renewer`` keeps each role's credentials in memory and renews
them through the providers ahead of the SDKs' own refresh windows. ``serve``, ``exec --server``
and the tray share this module; the tray only supplies the code source.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import os
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from trayapp.core.clock import Clock, isoformat_z
from trayapp.core.errors import AacliError
from trayapp.core.model import Credentials, Target

if TYPE_CHECKING:
    from trayapp.core.codes import CodeSource
    from trayapp.core.service import Service

log = logging.getLogger(__name__)

TOKEN_BYTES = 32  # 256-bit token per server start
RENEW_BEFORE = timedelta(minutes=15)  # botocore refreshes 15 min before expiry (must at 10)
HOST = "127.0.0.1"  # exactly: the JS v2 SDK accepts only localhost/127.0.0.1
PATH_PREFIX = "/role/"
REQUEST_TIMEOUT = 10.0  # seconds a client may take to send its request
MAX_HEADER_BYTES = 16 * 1024
MAX_CLIENTS = 32  # requests answered at once; more are told "busy" (503)
KEEP_FRESH_POLL = 30.0  # seconds between looks of keep_fresh, at most
STILL_USABLE = timedelta(minutes=2)  # held credentials given out after a failed renewal
RETRY_AFTER = 60.0  # seconds before keep_fresh tries a failed renewal again
FULL_URI = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
TOKEN_VARIABLE = "AWS_CONTAINER_AUTHORIZATION_TOKEN"

_ASSUMED_ROLE = re.compile(r"arn:([\w-]+):sts::(\d{12}):assumed-role/([^/]+)/.+")


class UnknownRole(AacliError):
    """The server was asked for a role it does not serve (404)."""


class Refused(Exception):
    """A request answered with an error status and the error JSON."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def role_arn(creds: Credentials) -> str:
    """The role's ARN (as ECS gives it) from the assumed-role ARN STS returned."""
    match = _ASSUMED_ROLE.fullmatch(creds.assumed_role_arn)
    if match is None:
        return creds.assumed_role_arn
    partition, account, name = match.groups()
    return f"arn:{partition}:iam::{account}:role/{name}"


def credentials_json(creds: Credentials) -> dict[str, str]:
    """The body the SDKs' container providers read."""
    return {
        "AccessKeyId": creds.access_key_id,
        "SecretAccessKey": creds.secret_access_key,
        "Token": creds.session_token,
        "Expiration": isoformat_z(creds.expiration),
        "RoleArn": role_arn(creds),
    }


class CredentialServer:
    """The ECS container-credentials protocol on 127.0.0.1 (exactly), one path per role.

    ``fetch(label)`` gives credentials with more than RENEW_BEFORE left where the role allows
    (a ``Renewer``'s ``fetch``); it may block (a dialog), but a client waits at most
    ``wait_seconds`` and then gets an error JSON while the renewal goes on. Its AacliError
    becomes a 503 (404 for UnknownRole) with the error's sentence; the server stays up.
    """

    def __init__(
        self,
        fetch: Callable[[str], Credentials],
        *,
        port: int = 0,
        token: str | None = None,
        wait_seconds: float = 120.0,
    ) -> None:
        self.token = token or secrets.token_urlsafe(TOKEN_BYTES)
        self._fetch = fetch
        self._wait_seconds = wait_seconds
        self._requested_port = port
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise AacliError("the credential server is not running")
        return int(self._httpd.server_address[1])

    def url(self, target_label: str) -> str:
        return f"http://{HOST}:{self.port}{PATH_PREFIX}{quote(target_label, safe='/')}"

    def env(self, target_label: str) -> dict[str, str]:
        """The two variables that point an SDK at this server for ``target_label``."""
        return {FULL_URI: self.url(target_label), TOKEN_VARIABLE: self.token_for(target_label)}

    def token_for(self, target_label: str) -> str:
        """The token handed out for one role: it gets that role only (the tray serves every
        role on one server; a program given one role's variables must not get another's)."""
        digest = hmac.new(self.token.encode(), target_label.encode("utf-8"), "sha256").digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def start(self) -> CredentialServer:
        try:
            self._httpd = _HttpServer((HOST, self._requested_port), self)
        except OSError as exc:
            raise AacliError(
                f"cannot listen on {HOST}:{self._requested_port}: {exc.strerror or exc}"
            ) from None
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="credential-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> CredentialServer:
        return self.start() if self._httpd is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # One request: who may ask (Host, Origin, token), then which role, then its credentials.

    def answer(self, method: str, path: str, headers: Any) -> tuple[int, dict[str, str]]:
        """The status and JSON body for one request (``headers``: an email.message.Message)."""
        try:
            self._check_caller(headers)
            if method != "GET":
                raise Refused(405, "MethodNotAllowed", "only GET is served")
            label = self._label(path)
            self._check_token(headers, label)
            return 200, credentials_json(self._credentials(label))
        except Refused as refused:
            return refused.status, {"code": refused.code, "message": refused.message}

    def _check_caller(self, headers: Any) -> None:
        host = headers.get_all("Host") or []
        if len(host) != 1:
            raise Refused(400, "BadRequest", "one Host header is required")
        port = self._httpd.server_address[1] if self._httpd else self._requested_port
        allowed = {HOST, f"{HOST}:{port}", "localhost", f"localhost:{port}"}
        if host[0].strip().lower() not in allowed:
            raise Refused(403, "ForbiddenHost", f"only requests to {HOST}:{port} are served")
        # Browsers send Origin with every cross-site request and Sec-Fetch-* with every one.
        if headers.get("Origin") is not None or headers.get("Sec-Fetch-Site") is not None:
            raise Refused(403, "ForbiddenOrigin", "requests from web pages are refused")

    def _check_token(self, headers: Any, label: str) -> None:
        given = headers.get("Authorization")
        if not given:
            raise Refused(401, "Unauthorized", "the Authorization header (the token) is missing")
        given_bytes = given.strip().encode()
        role_token = hmac.compare_digest(given_bytes, self.token_for(label).encode())
        # The start's own token (never handed out: env() gives the role's) serves any role.
        if not (role_token | hmac.compare_digest(given_bytes, self.token.encode())):
            raise Refused(403, "Forbidden", "the token is wrong (a new one is made per start)")

    def _label(self, path: str) -> str:
        path = path.split("?", 1)[0]
        if not path.startswith(PATH_PREFIX) or len(path) == len(PATH_PREFIX):
            raise Refused(404, "NotFound", f"credentials are served under {PATH_PREFIX}ROLE")
        return unquote(path[len(PATH_PREFIX) :])

    def _credentials(self, label: str) -> Credentials:
        outcome = _Outcome()

        def work() -> None:
            try:
                outcome.creds = self._fetch(label)
            except BaseException as exc:  # carried to the waiting request
                outcome.error = exc
            finally:
                outcome.done.set()

        threading.Thread(target=work, name="credential-fetch", daemon=True).start()
        if not outcome.done.wait(self._wait_seconds):
            raise Refused(
                503, "RenewalPending", "the role's credentials are being renewed: try again soon"
            )
        if isinstance(outcome.error, UnknownRole):
            raise Refused(404, "UnknownRole", str(outcome.error))
        if isinstance(outcome.error, AacliError):
            raise Refused(503, "CredentialsUnavailable", str(outcome.error))
        if outcome.error is not None or outcome.creds is None:
            name = type(outcome.error).__name__
            raise Refused(500, "InternalError", f"unexpected error ({name})")
        return outcome.creds


@dataclass
class _Outcome:
    done: threading.Event = field(default_factory=threading.Event)
    creds: Credentials | None = None
    error: BaseException | None = None


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True  # a stuck client never keeps aacli alive
    # A fixed --port can be used again at once after a stop (sockets in TIME_WAIT). Not on
    # Windows, where SO_REUSEADDR would let another program take over a port in use.
    allow_reuse_address = os.name != "nt"

    def __init__(self, address: tuple[str, int], owner: CredentialServer) -> None:
        self.owner = owner
        self.slots = threading.BoundedSemaphore(MAX_CLIENTS)
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away mid-answer: logged (--debug), never printed (core prints
        # nothing; socketserver's default prints a traceback on stderr).
        log.debug("credential server: request from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer
    timeout = REQUEST_TIMEOUT  # the socket's timeout: a slow client is dropped

    def version_string(self) -> str:
        return "aacli"

    def setup(self) -> None:
        super().setup()
        # Bounded request: a request line and headers over MAX_HEADER_BYTES are refused.
        self.rfile = _Bounded(self.rfile, MAX_HEADER_BYTES)  # type: ignore[assignment]
        self.command, self.request_version = "", "HTTP/1.0"  # for a reply before parsing

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except _TooLarge:
            self.close_connection = True
            self._reply(431, {"code": "TooLarge", "message": "the request is too large"})

    def _serve(self) -> None:
        # A slot is taken once the whole request is read: a client (another local user) that
        # connects and never finishes its request holds none, so it cannot lock SDKs out.
        if not self.server.slots.acquire(blocking=False):
            self.close_connection = True
            self._reply(503, {"code": "Busy", "message": "too many requests at once"})
            return
        try:
            status, body = self.server.owner.answer(self.command, self.path, self.headers)
        finally:
            self.server.slots.release()
        self._reply(status, body)

    do_GET = _serve
    do_POST = _serve
    do_PUT = _serve
    do_DELETE = _serve
    do_HEAD = _serve
    do_PATCH = _serve
    do_OPTIONS = _serve

    def _reply(self, status: int, body: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # The stdlib's own errors (malformed request line, bad version) in our JSON shape.
        self.close_connection = True
        self.request_version = "HTTP/1.0"  # a status line even for a request without a version
        self._reply(code, {"code": "BadRequest", "message": message or "malformed request"})

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: core prints nothing, and a request line is nobody's business


class _TooLarge(Exception):
    pass


class _Bounded:
    """A reader that refuses to give more than ``limit`` bytes of lines in all."""

    def __init__(self, raw: Any, limit: int) -> None:
        self._raw, self._left = raw, limit

    def readline(self, size: int = -1) -> bytes:
        cap = self._left + 1 if size < 0 else min(size, self._left + 1)
        line: bytes = self._raw.readline(cap)
        self._left -= len(line)
        if self._left < 0:
            raise _TooLarge
        return line

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


@dataclass
class _Entry:
    """One target's credentials in memory, and who is renewing them."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    creds: Credentials | None = None
    fetched_at: datetime | None = None
    error: AacliError | None = None  # of the last renewal, None when it worked
    failed_at: datetime | None = None
    generation: int = 0  # bumped by every renewal, so a waiter knows one ended meanwhile


def renew_margin(creds: Credentials, fetched_at: datetime) -> timedelta:
    """How long before expiry to renew credentials fetched at ``fetched_at``."""
    return margin_for(creds.expiration - fetched_at)


def margin_for(lifetime: timedelta) -> timedelta:
    """RENEW_BEFORE, or half the lifetime when credentials live 30 min or less (a role of
    15 min, a short-lived sandbox)."""
    return min(RENEW_BEFORE, lifetime / 2)


class Renewer:
    """In-memory credentials per target, renewed through the providers (nothing on disk);
    one renewal per target at a time (a second caller waits for the first and shares its
    outcome, so a cancelled dialog is not asked again at once by each waiting client).

    With ``retry_after`` (seconds), a failed renewal is not tried again by clients for that
    long (a cancelled prompt is not reopened by every poll of an SDK); meanwhile, and after
    the failure itself, clients get the held credentials while they have more than
    STILL_USABLE left (an SDK takes them), else the failure's error.
    """

    def __init__(
        self,
        service: Service,
        code_source: Callable[[Target], CodeSource],
        *,
        clock: Clock | None = None,
        retry_after: float = 0.0,
    ) -> None:
        self._service = service
        self._code_source = code_source
        self._clock = clock or service.deps.clock
        self._retry_after = retry_after
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def fetch(self, target_label: str) -> Credentials:
        return self._fetch(target_label, background=False)

    def _fetch(self, label: str, *, background: bool) -> Credentials:
        target = self._target(label)
        entry = self._entry(target.label)
        seen = entry.generation
        with entry.lock:
            if entry.generation != seen and entry.error is not None:
                return self._after_failure(entry, background)  # the renewal waited for failed
            if entry.creds is not None and not self._due(entry):
                return entry.creds
            if not background and self._cooling_down(entry):
                return self._after_failure(entry, background)
            entry.generation += 1
            try:
                creds = self._service.fetch_credentials(target, self._code_source(target))
            except AacliError as exc:
                entry.error, entry.failed_at = exc, self._now()
                return self._after_failure(entry, background)
            entry.creds, entry.fetched_at, entry.error = creds, self._now(), None
            return creds

    def _cooling_down(self, entry: _Entry) -> bool:
        if entry.error is None or entry.failed_at is None:
            return False
        return (self._now() - entry.failed_at).total_seconds() < self._retry_after

    def _after_failure(self, entry: _Entry, background: bool) -> Credentials:
        assert entry.error is not None
        held = entry.creds
        usable = held is not None and held.expiration - self._now() > STILL_USABLE
        if self._retry_after and not background and held is not None and usable:
            return held
        raise entry.error

    def keep_fresh(
        self,
        target_label: str,
        stop: threading.Event,
        on_error: Callable[[AacliError], None] | None = None,
    ) -> threading.Thread:
        """Renew ``target_label`` in the background as soon as it is due, so no client waits
        behind a renewal (the SDKs give up after 1-2 s). It looks at least every
        KEEP_FRESH_POLL seconds by the wall clock (a suspend is noticed); a failed renewal
        goes to ``on_error`` and is tried again RETRY_AFTER seconds later."""

        def loop() -> None:
            while not stop.is_set():
                due = self.next_renewal(target_label)
                wait = 0.0 if due is None else (due - self._now()).total_seconds()
                if wait > 0:
                    stop.wait(min(wait, KEEP_FRESH_POLL))
                    continue
                try:
                    self._fetch(target_label, background=True)
                except AacliError as exc:
                    if on_error is not None:
                        on_error(exc)
                    stop.wait(RETRY_AFTER)
                else:
                    stop.wait(1.0)  # never a busy loop, whatever the credentials say

        thread = threading.Thread(target=loop, name="credential-keep-fresh", daemon=True)
        thread.start()
        return thread

    def next_renewal(self, target_label: str) -> datetime | None:
        """When the held credentials become due for renewal (None: none held yet)."""
        entry = self._entries.get(target_label)
        if entry is None or entry.creds is None or entry.fetched_at is None:
            return None
        return entry.creds.expiration - renew_margin(entry.creds, entry.fetched_at)

    def _due(self, entry: _Entry) -> bool:
        assert entry.creds is not None and entry.fetched_at is not None
        left = entry.creds.expiration - self._now()
        return left <= renew_margin(entry.creds, entry.fetched_at)

    def _target(self, label: str) -> Target:
        with self._lock:  # the config loads once; the service is not made for parallel use
            for target in self._service.targets():
                if target.label == label:
                    return target
        raise UnknownRole(f"no role '{label}' is configured (use PROFILE/ACCOUNT/ROLE)")

    def _entry(self, label: str) -> _Entry:
        with self._lock:
            return self._entries.setdefault(label, _Entry())

    def _now(self) -> datetime:
        return self._clock()
