"""The sandbox Identity Center's OIDC half (the ``sso-oidc`` API as botocore's model defines it):
RegisterClient, StartDeviceAuthorization and CreateToken for the device-code, authorization-code
(PKCE S256) and rotating refresh-token grants, with the model's errors and HTTP statuses."""

from __future__ import annotations

import hmac
import json
import secrets
import threading
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from trayapp.core.clock import Clock
from trayapp.sandbox.checker import StartResponse
from trayapp.sandbox.identity_center_records import (
    ApiError,
    AuthCode,
    Client,
    DeviceAuth,
    Grant,
    IcRequest,
    Session,
    loopback_match,
    new_secret,
    new_user_code,
    s256,
)

DEFAULT_USER = "alice"
TOKEN_LIFETIME = 8 * 3600  # seconds: an access token of AWS's default session
CLIENT_LIFETIME = timedelta(days=90)
DEVICE_CODE_LIFETIME = 600
AUTH_CODE_LIFETIME = timedelta(minutes=5)

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CODE_GRANT = "authorization_code"
REFRESH_GRANT = "refresh_token"
GRANTS = (DEVICE_GRANT, CODE_GRANT, REFRESH_GRANT)

OIDC_ROUTES = {
    ("POST", "/client/register"): "RegisterClient",
    ("POST", "/device_authorization"): "StartDeviceAuthorization",
    ("POST", "/token"): "CreateToken",
}
# Each modeled error: its HTTP status and OAuth error code (sso-oidc service-2.json).
OIDC_ERRORS = {
    "AuthorizationPendingException": (400, "authorization_pending"),
    "SlowDownException": (400, "slow_down"),
    "ExpiredTokenException": (400, "expired_token"),
    "AccessDeniedException": (400, "access_denied"),
    "InvalidGrantException": (400, "invalid_grant"),
    "InvalidClientException": (401, "invalid_client"),
    "UnauthorizedClientException": (400, "unauthorized_client"),
    "UnsupportedGrantTypeException": (400, "unsupported_grant_type"),
    "InvalidRequestException": (400, "invalid_request"),
    "InvalidScopeException": (400, "invalid_scope"),
    "InvalidRedirectUriException": (400, "invalid_redirect_uri"),
    "InvalidClientMetadataException": (400, "invalid_client_metadata"),
}
_STATUS = {200: "200 OK", 400: "400 Bad Request", 401: "401 Unauthorized", 404: "404 Not Found"}


class OidcService:
    """Registered clients, pending device and code grants, and the signed-in sessions."""

    def __init__(self, *, clock: Clock, endpoint_url: Callable[[], str]) -> None:
        self._clock = clock
        self._endpoint_url = endpoint_url
        self.default_user = DEFAULT_USER
        self.token_lifetime = TOKEN_LIFETIME
        self.device_code_lifetime = DEVICE_CODE_LIFETIME
        self.poll_interval = 1
        self.requests: list[IcRequest] = []
        self._lock = threading.RLock()
        self._clients: dict[str, Client] = {}
        self._devices: dict[str, DeviceAuth] = {}  # by device code
        self._codes: dict[str, AuthCode] = {}
        self._sessions: dict[str, Session] = {}  # by access token
        self._refresh: dict[str, str] = {}  # refresh token -> its session's access token
        self._deny_next = False

    def deny_next(self) -> None:
        """The next sign-in (start page or device page) is refused: access_denied."""
        self._deny_next = True

    def take_denial(self) -> bool:
        with self._lock:
            denied, self._deny_next = self._deny_next, False
        return denied

    def expire_tokens(self) -> None:
        """Every access token issued so far is expired (refresh tokens still work)."""
        past = self._clock() - timedelta(seconds=1)
        with self._lock:
            for session in self._sessions.values():
                session.expires_at = min(session.expires_at, past)

    def expire_device_codes(self) -> None:
        """Every pending device code is expired (expired_token; its page says so)."""
        past = self._clock() - timedelta(seconds=1)
        with self._lock:
            for device in self._devices.values():
                device.expires_at = past

    def expire_clients(self) -> None:
        """Every registered client's secret is expired (RegisterClient again)."""
        past = self._clock() - timedelta(seconds=1)
        with self._lock:
            for client in self._clients.values():
                client.expires_at = past

    def approve(self, user_code: str, user: str | None = None, *, allow: bool = True) -> bool:
        """What a person does on the device page; False for an unknown or expired code.
        A ``deny_next()`` makes this a refusal."""
        with self._lock:
            device = self._device_by_user_code(user_code)
            if device is None:
                return False
            if self.take_denial() or not allow:
                device.denied = True
            else:
                device.user = user or self.default_user
            return True

    def device_pending(self, user_code: str) -> bool:
        with self._lock:
            device = self._device_by_user_code(user_code)
            return device is not None and device.user is None and not device.denied

    def _device_by_user_code(self, user_code: str) -> DeviceAuth | None:
        now = self._clock()
        wanted = user_code.strip().upper()
        for device in self._devices.values():
            if device.user_code == wanted and now < device.expires_at:
                return device
        return None

    def _record(self, request: IcRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _oidc(
        self, operation: str, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        params: dict[str, Any] = {}
        try:
            params = _json_body(environ)
            handler = {
                "RegisterClient": self._register_client,
                "StartDeviceAuthorization": self._start_device_authorization,
                "CreateToken": self._create_token,
            }[operation]
            return answer(start_response, 200, handler(params))
        except ApiError as exc:
            grant, client_id = string_param(params, "grantType"), string_param(params, "clientId")
            self._record(IcRequest(operation, grant or None, client_id or None, outcome=exc.code))
            status, error = OIDC_ERRORS[exc.code]
            body = {"error": error, "error_description": exc.message}
            return answer(start_response, status, body, exc.code)

    def _register_client(self, params: dict[str, Any]) -> dict[str, Any]:
        name, client_type = params.get("clientName"), params.get("clientType")
        if not isinstance(name, str) or not name or client_type != "public":
            raise ApiError("InvalidClientMetadataException", "Invalid client metadata")
        grants = tuple(_strings(params, "grantTypes"))
        if any(g not in GRANTS for g in grants):
            raise ApiError("UnsupportedGrantTypeException", "Unsupported grant type")
        redirects = tuple(_strings(params, "redirectUris"))
        if any(not loopback_match(uri, uri) for uri in redirects):
            raise ApiError("InvalidRedirectUriException", "Only loopback redirect URIs")
        if CODE_GRANT in grants and not (redirects and string_param(params, "issuerUrl")):
            raise ApiError(
                "InvalidRequestException", "authorization_code needs redirectUris and issuerUrl"
            )
        now = self._clock().replace(microsecond=0)
        client = Client(
            client_id=new_secret("", 16),
            secret=new_secret("sandbox-client-secret-", 64),
            name=name,
            grant_types=grants,
            redirect_uris=redirects,
            scopes=tuple(_strings(params, "scopes")),
            issued_at=now,
            expires_at=now + CLIENT_LIFETIME,
        )
        with self._lock:
            self._clients[client.client_id] = client
        self._record(IcRequest("RegisterClient", client_id=client.client_id))
        base = self._endpoint_url()
        return {
            "clientId": client.client_id,
            "clientSecret": client.secret,
            "clientIdIssuedAt": int(client.issued_at.timestamp()),
            "clientSecretExpiresAt": int(client.expires_at.timestamp()),
            "authorizationEndpoint": f"{base}/authorize",
            "tokenEndpoint": f"{base}/token",
        }

    def client(self, client_id: str, secret: str | None = None) -> Client:
        """A registered, unexpired client (its secret checked when given)."""
        with self._lock:
            client = self._clients.get(client_id)
        if client is None or (
            secret is not None and not hmac.compare_digest(secret, client.secret)
        ):
            raise ApiError("InvalidClientException", "Invalid client")
        if self._clock() >= client.expires_at:
            raise ApiError("InvalidClientException", "Client secret has expired")
        return client

    def _start_device_authorization(self, params: dict[str, Any]) -> dict[str, Any]:
        client = self.client(string_param(params, "clientId"), string_param(params, "clientSecret"))
        if not client.allows(DEVICE_GRANT):
            raise ApiError("UnauthorizedClientException", "Client may not use the device flow")
        if not string_param(params, "startUrl"):
            raise ApiError("InvalidRequestException", "startUrl is required")
        device_code = new_secret("sandbox-device-")
        device = DeviceAuth(
            client_id=client.client_id,
            user_code=new_user_code(),
            expires_at=self._clock() + timedelta(seconds=self.device_code_lifetime),
            interval=self.poll_interval,
        )
        with self._lock:
            self._devices[device_code] = device
        self._record(IcRequest("StartDeviceAuthorization", client_id=client.client_id))
        base = self._endpoint_url()
        return {
            "deviceCode": device_code,
            "userCode": device.user_code,
            "verificationUri": f"{base}/device",
            "verificationUriComplete": f"{base}/device?user_code={device.user_code}",
            "expiresIn": self.device_code_lifetime,
            "interval": device.interval,
        }

    def _create_token(self, params: dict[str, Any]) -> dict[str, Any]:
        grant = string_param(params, "grantType")
        client = self.client(string_param(params, "clientId"), string_param(params, "clientSecret"))
        if grant not in GRANTS:
            raise ApiError("UnsupportedGrantTypeException", f"Unsupported grant type {grant!r}")
        if not client.allows(grant):
            raise ApiError("UnauthorizedClientException", "Client may not use this grant type")
        with self._lock:
            if grant == DEVICE_GRANT:
                user, scopes, signin = self._device_grant(
                    client, string_param(params, "deviceCode")
                )
            elif grant == CODE_GRANT:
                user, scopes, signin = self._code_grant(client, params)
            else:
                user, scopes, signin = self._refresh_grant(
                    client, string_param(params, "refreshToken")
                )
            access_token, session = self._new_session(user, client, scopes, signin)
        self._record(
            IcRequest("CreateToken", grant_type=grant, client_id=client.client_id, user=user)
        )
        return {
            "accessToken": access_token,
            "tokenType": "Bearer",
            "expiresIn": int(self.token_lifetime),
            "refreshToken": session.refresh_token,
        }

    def _device_grant(self, client: Client, device_code: str) -> Grant:
        device = self._devices.get(device_code)
        if device is None or device.client_id != client.client_id:
            raise ApiError("InvalidGrantException", "Invalid device code provided")
        now = self._clock()
        if now >= device.expires_at:
            raise ApiError("ExpiredTokenException", "Device code has expired")
        too_fast = device.last_poll is not None and now - device.last_poll < timedelta(
            seconds=device.interval * 0.8
        )
        device.last_poll = now
        if too_fast:  # (the AWS CLI's poll right after it shows the code gets this too)
            raise ApiError("SlowDownException", "Client is polling too fast")
        if device.denied:
            del self._devices[device_code]
            raise ApiError("AccessDeniedException", "The user denied the authorization")
        if device.user is None:
            raise ApiError("AuthorizationPendingException", "Authorization is still pending")
        del self._devices[device_code]
        return device.user, client.scopes, secrets.token_hex(8)

    def _code_grant(self, client: Client, params: dict[str, Any]) -> Grant:
        code = self._codes.pop(string_param(params, "code"), None)
        if code is None or code.client_id != client.client_id or self._clock() >= code.expires_at:
            raise ApiError("InvalidGrantException", "Invalid authorization code provided")
        if string_param(params, "redirectUri") != code.redirect_uri:
            raise ApiError("InvalidGrantException", "The redirect URI does not match")
        if not hmac.compare_digest(s256(string_param(params, "codeVerifier")), code.challenge):
            raise ApiError("InvalidGrantException", "Invalid code verifier provided")
        return code.user, code.scopes, secrets.token_hex(8)

    def _refresh_grant(self, client: Client, refresh_token: str) -> Grant:
        session = self._sessions.get(self._refresh.get(refresh_token, ""))
        if session is None or session.client_id != client.client_id:
            raise ApiError("InvalidGrantException", "Invalid refresh token provided")
        del self._refresh[refresh_token]  # a refresh token works once
        session.refresh_token = None
        return session.user, session.scopes, session.signin

    def _new_session(
        self, user: str, client: Client, scopes: tuple[str, ...], signin: str
    ) -> tuple[str, Session]:
        access_token = new_secret("aoa")
        session = Session(
            user=user,
            client_id=client.client_id,
            scopes=scopes,
            expires_at=self._clock() + timedelta(seconds=self.token_lifetime),
            signin=signin,
            refresh_token=new_secret("aor"),
        )
        self._sessions[access_token] = session
        assert session.refresh_token is not None
        self._refresh[session.refresh_token] = access_token
        return access_token, session

    def issue_code(
        self, client: Client, redirect_uri: str, challenge: str, scopes: tuple[str, ...]
    ) -> str:
        """An authorization code for the default user (the start page's sign-in)."""
        code = new_secret("sandbox-code-", 32)
        with self._lock:
            self._codes[code] = AuthCode(
                client.client_id,
                redirect_uri,
                challenge,
                self.default_user,
                scopes or client.scopes,
                self._clock() + AUTH_CODE_LIFETIME,
            )
        return code

    def _session(self, access_token: str) -> Session:
        with self._lock:
            session = self._sessions.get(access_token) if access_token else None
        if session is None or self._clock() >= session.expires_at:
            raise ApiError("UnauthorizedException", "Session token not found or invalid")
        return session

    def _end_session(self, access_token: str) -> None:
        """Logout ends the whole sign-in: every access and refresh token it gave."""
        with self._lock:
            ended = self._sessions.get(access_token)
            if ended is None:
                return
            for token, session in list(self._sessions.items()):
                if session.signin == ended.signin:
                    del self._sessions[token]
                    if session.refresh_token:
                        self._refresh.pop(session.refresh_token, None)


def _json_body(environ: dict[str, Any]) -> dict[str, Any]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise ApiError("InvalidRequestException", "The request body is not JSON") from None
    if not isinstance(body, dict):
        raise ApiError("InvalidRequestException", "The request body is not a JSON object")
    return body


def string_param(params: dict[str, Any], name: str) -> str:
    value = params.get(name, "")
    return value if isinstance(value, str) else ""


def _strings(params: dict[str, Any], name: str) -> list[str]:
    value = params.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError("InvalidRequestException", f"{name} must be a list of strings")
    return value


def answer(
    start_response: StartResponse, status: int, body: dict[str, Any], error: str | None = None
) -> list[bytes]:
    payload = json.dumps(body).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(payload))),
        ("x-amzn-RequestId", secrets.token_hex(16)),
    ]
    if error:
        headers.append(("x-amzn-ErrorType", error))
    start_response(_STATUS[status], headers)
    return [payload]
