"""Identity Center's OIDC service (sso-oidc), as the AWS CLI speaks it: client registration,
the device-code flow, the authorization-code flow with PKCE on a loopback redirect, refresh.

Every call goes through botocore (``sts.make_client``, unsigned). Tokens, client secrets,
device codes and authorization codes never appear in a message: errors name the step only.
"""

from __future__ import annotations

import base64
import hashlib
import html
import http.server
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from trayapp.core.clock import Clock
from trayapp.core.errors import AacliError, CodeCancelled, NetworkError, SignInError

CLIENT_NAME = "aacli"
CLIENT_TYPE = "public"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CODE_FLOW_GRANTS = ("authorization_code", "refresh_token")
REDIRECT_PATH = "/oauth/callback"
REGISTERED_REDIRECT = f"http://127.0.0.1{REDIRECT_PATH}"  # any loopback port (RFC 8252)
DEVICE_FLOW = "device"
CODE_FLOW = "authorization_code"
SLOW_DOWN_SECONDS = 5  # RFC 8628: each slow_down adds 5 s to the polling interval
DEFAULT_INTERVAL = 5
BROWSER_WAIT_SECONDS = 600.0  # the loopback listener waits this long for the browser at most
POLL_STEP = 0.2  # how often a wait looks at ``cancelled``
CONNECTION_SECONDS = 5.0  # one connection to the loopback listener gets this long to ask


@dataclass(frozen=True)
class Registration:
    """A registered public client (RegisterClient), good until ``expires_at``."""

    client_id: str
    client_secret: str = field(repr=False)
    expires_at: datetime
    flow: str  # DEVICE_FLOW | CODE_FLOW: what it was registered for


@dataclass(frozen=True)
class IssuedToken:
    """What CreateToken answered."""

    access_token: str = field(repr=False)
    expires_at: datetime
    refresh_token: str | None = field(repr=False, default=None)


@dataclass(frozen=True)
class DeviceAuthorization:
    """StartDeviceAuthorization's answer; ``device_code`` is a secret, the user code is not."""

    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_at: datetime
    interval: int


class Cancelled(CodeCancelled):
    """The sign-in was cancelled (the tray's Cancel)."""


class Oidc:
    """The sso-oidc calls of one region, on a botocore client."""

    def __init__(self, client: Any, clock: Clock) -> None:
        self.client = client
        self.clock = clock

    @property
    def endpoint(self) -> str:
        """Where the service is (the sandbox in tests): the authorize URL is under it."""
        return str(self.client.meta.endpoint_url).rstrip("/")

    def register(self, *, flow: str, scopes: Sequence[str], issuer_url: str) -> Registration:
        """RegisterClient: a public client named "aacli" for ``flow``."""
        params: dict[str, Any] = {
            "clientName": CLIENT_NAME,
            "clientType": CLIENT_TYPE,
            "scopes": list(scopes),
        }
        if flow == CODE_FLOW:
            params.update(
                grantTypes=list(CODE_FLOW_GRANTS),
                redirectUris=[REGISTERED_REDIRECT],
                issuerUrl=issuer_url,
            )
        answer = self._call("register aacli with Identity Center", "register_client", params)
        expires = answer.get("clientSecretExpiresAt")
        return Registration(
            client_id=str(answer["clientId"]),
            client_secret=str(answer["clientSecret"]),
            expires_at=(
                datetime.fromtimestamp(int(expires), timezone.utc)
                if expires
                else self.clock() + timedelta(days=90)
            ),
            flow=flow,
        )

    def start_device_authorization(self, reg: Registration, start_url: str) -> DeviceAuthorization:
        answer = self._call(
            "start the device sign-in",
            "start_device_authorization",
            {"clientId": reg.client_id, "clientSecret": reg.client_secret, "startUrl": start_url},
        )
        uri = str(answer.get("verificationUri", ""))
        return DeviceAuthorization(
            device_code=str(answer["deviceCode"]),
            user_code=str(answer["userCode"]),
            verification_uri=uri,
            verification_uri_complete=str(answer.get("verificationUriComplete") or uri),
            expires_at=self.clock() + timedelta(seconds=int(answer.get("expiresIn") or 600)),
            interval=max(1, int(answer.get("interval") or DEFAULT_INTERVAL)),
        )

    def poll_device_token(
        self,
        reg: Registration,
        auth: DeviceAuthorization,
        *,
        cancelled: Callable[[], bool],
        sleep: Callable[[float], None] = time.sleep,
    ) -> IssuedToken:
        """CreateToken (device_code) every ``interval`` s until approved, refused or expired."""
        interval = auth.interval
        while True:
            _wait(interval, cancelled, sleep)
            if self.clock() >= auth.expires_at:
                raise SignInError(_EXPIRED)
            try:
                return self.create_token(
                    reg, {"grantType": DEVICE_GRANT, "deviceCode": auth.device_code}
                )
            except _Pending:
                continue
            except _SlowDown:
                interval += SLOW_DOWN_SECONDS

    def exchange_code(
        self, reg: Registration, *, code: str, redirect_uri: str, verifier: str
    ) -> IssuedToken:
        """CreateToken (authorization_code) with the PKCE verifier."""
        return self.create_token(
            reg,
            {
                "grantType": "authorization_code",
                "code": code,
                "redirectUri": redirect_uri,
                "codeVerifier": verifier,
            },
        )

    def refresh(self, reg: Registration, refresh_token: str) -> IssuedToken:
        """CreateToken (refresh_token): a new access token without a new sign-in."""
        return self.create_token(reg, {"grantType": "refresh_token", "refreshToken": refresh_token})

    def create_token(self, reg: Registration, grant: dict[str, str]) -> IssuedToken:
        params = {"clientId": reg.client_id, "clientSecret": reg.client_secret, **grant}
        answer = self._call("get a token", "create_token", params)
        return IssuedToken(
            access_token=str(answer["accessToken"]),
            expires_at=self.clock() + timedelta(seconds=int(answer.get("expiresIn") or 3600)),
            refresh_token=str(answer["refreshToken"]) if answer.get("refreshToken") else None,
        )

    def _call(self, step: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = getattr(self.client, operation)(**params)
        except Exception as exc:
            raise map_error(exc, step) from None
        return answer


# -- the authorization code + PKCE flow ----------------------------------------------------------


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier (secret) and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(64)  # 86 characters of [A-Za-z0-9_-]: RFC 7636 asks 43-128
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(
    endpoint: str,
    *,
    client_id: str,
    redirect_uri: str,
    state: str,
    challenge: str,
    scopes: Sequence[str],
) -> str:
    """Where the browser starts the authorization-code sign-in."""
    query = urllib.parse.urlencode(
        [
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("state", state),
            ("code_challenge_method", "S256"),
            ("scopes", " ".join(scopes)),
            ("code_challenge", challenge),
        ],
        quote_via=urllib.parse.quote,
    )
    return f"{endpoint}/authorize?{query}"


DONE_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>aacli</title></head>"
    "<body><h1>{title}</h1><p>{text}</p></body></html>"
)


class CallbackListener:
    """A one-shot HTTP listener on 127.0.0.1 (a free port) for the browser's redirect.

    Answers ``GET /oauth/callback?code=…&state=…`` with the expected ``state`` once, with a
    short page for the browser; anything else gets a 400/404 and the wait goes on.
    """

    def __init__(self) -> None:
        self.state = secrets.token_urlsafe(32)
        self._result: tuple[str, str] | None = None  # ("code", value) | ("error", value)
        self._lock = threading.Lock()
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            timeout = CONNECTION_SECONDS  # a local client that sends nothing holds no wait

            def do_GET(self) -> None:
                status, title, text = listener._answer(self.path)
                body = DONE_PAGE.format(title=html.escape(title), text=html.escape(text))
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return  # the query holds the authorization code: never logged

        self._server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self._server.timeout = POLL_STEP
        self.port = int(self._server.server_address[1])
        self.redirect_uri = f"http://127.0.0.1:{self.port}{REDIRECT_PATH}"

    def _answer(self, path: str) -> tuple[int, str, str]:
        url = urllib.parse.urlsplit(path)
        if url.path != REDIRECT_PATH:
            return 404, "Not found", "This address is aacli's sign-in redirect only."
        query = urllib.parse.parse_qs(url.query)
        state = query.get("state", [""])[0]
        if not secrets.compare_digest(state, self.state):
            return 400, "Sign-in not accepted", "This answer is not for the sign-in aacli started."
        with self._lock:
            if self._result is not None:
                return 400, "Already done", "aacli has this sign-in already; close this tab."
            if "code" in query and query["code"][0]:
                self._result = ("code", query["code"][0])
                return 200, "Signed in", "aacli has the sign-in. You can close this tab."
            self._result = ("error", query.get("error", ["unknown_error"])[0])
        return 200, "Sign-in refused", "The sign-in did not succeed; see aacli. Close this tab."

    def wait(self, cancelled: Callable[[], bool], timeout: float = BROWSER_WAIT_SECONDS) -> str:
        """The authorization code the browser brought back; raises on refusal or timeout."""
        deadline = time.monotonic() + timeout
        while self._result is None:
            if cancelled():
                raise Cancelled("The sign-in was cancelled.")
            if time.monotonic() >= deadline:
                raise SignInError(
                    f"The browser did not finish the sign-in within {int(timeout // 60)} "
                    "minutes; try again, or use --device-code."
                )
            self._server.handle_request()
        kind, value = self._result
        if kind == "code":
            return value
        raise SignInError(_refusal(value))

    def close(self) -> None:
        self._server.server_close()

    def __enter__(self) -> CallbackListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- errors ---------------------------------------------------------------------------------------

_EXPIRED = "The sign-in code expired before it was approved; sign in again."


class ClientRejected(SignInError):
    """Identity Center no longer accepts the client registration: register again."""


class _Pending(SignInError):
    """authorization_pending: the person has not approved the code yet."""


class _SlowDown(SignInError):
    """slow_down: poll less often."""


def _refusal(error: str) -> str:
    if error in ("access_denied", "AccessDeniedException"):
        return "The sign-in was refused (access denied); nothing was changed."
    safe = "".join(c for c in error if c.isalnum() or c in "_-")[:60] or "unknown"
    return f"The sign-in did not succeed ({safe}); nothing was changed."


def _wait(seconds: float, cancelled: Callable[[], bool], sleep: Callable[[float], None]) -> None:
    end = time.monotonic() + seconds
    while True:
        if cancelled():
            raise Cancelled("The sign-in was cancelled.")
        left = end - time.monotonic()
        if left <= 0:
            return
        sleep(min(POLL_STEP, left))


_BY_ERROR = {
    "authorization_pending": "AuthorizationPendingException",
    "slow_down": "SlowDownException",
    "expired_token": "ExpiredTokenException",
    "access_denied": "AccessDeniedException",
    "invalid_grant": "InvalidGrantException",
    "invalid_client": "InvalidClientException",
    "unauthorized_client": "UnauthorizedClientException",
    "invalid_scope": "InvalidScopeException",
    "invalid_request": "InvalidRequestException",
}


def error_code(exc: BaseException) -> str | None:
    """The OIDC error of a botocore ClientError, as an exception name (None: not one)."""
    import botocore.exceptions as bex

    if not isinstance(exc, bex.ClientError):
        return None
    code = str(exc.response.get("Error", {}).get("Code", ""))
    oauth = str(exc.response.get("error", "") or "")
    return _BY_ERROR.get(oauth) or _BY_ERROR.get(code) or code


def map_error(exc: BaseException, step: str) -> AacliError:
    """One sentence for a failed sso-oidc call, never with a token or secret in it."""
    import botocore.exceptions as bex

    code = error_code(exc)
    if code == "AuthorizationPendingException":
        return _Pending("authorization pending")
    if code == "SlowDownException":
        return _SlowDown("slow down")
    if code == "ExpiredTokenException":
        return SignInError(_EXPIRED)
    if code == "AccessDeniedException":
        return SignInError(_refusal("access_denied"))
    if code == "InvalidGrantException":
        return SignInError("Identity Center no longer accepts this sign-in; sign in again.")
    if code in ("InvalidClientException", "UnauthorizedClientException"):
        return ClientRejected(
            "Identity Center does not accept aacli's client registration; sign in again."
        )
    if code == "InvalidScopeException":
        return SignInError("Identity Center refused the requested scopes (sso:account:access).")
    if code is not None:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)  # type: ignore[attr-defined]
        if status >= 500 or code in ("InternalServerException", "InternalFailure"):
            return SignInError(
                f"Identity Center had an internal error; try again shortly ({step})."
            )
        safe = "".join(c for c in code if c.isalnum())[:60]
        return SignInError(f"Identity Center refused to {step} ({safe or status}).")
    if isinstance(exc, bex.ConnectTimeoutError | bex.ReadTimeoutError):
        return NetworkError(f"Identity Center did not answer in time ({step}); try again.")
    if isinstance(exc, bex.EndpointConnectionError | bex.ConnectionError | bex.HTTPClientError):
        return NetworkError(
            f"Could not reach Identity Center ({step}); check the network and try again."
        )
    return SignInError(f"Could not {step} with Identity Center ({type(exc).__name__}).")
