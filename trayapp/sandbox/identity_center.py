"""The sandbox's IAM Identity Center: the sso-oidc and portal (``sso``) APIs as botocore's
service models define them, users with permission-set assignments, and role credentials that
moto's STS accepts (GetRoleCredentials assumes an ``AWSReservedSSO_...`` role in moto).

The sign-in pages (``/authorize``, ``/start``, ``/device``) are in identity_center_pages.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import string
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from trayapp.core.clock import Clock
from trayapp.sandbox.checker import CheckerSettings, StartResponse
from trayapp.sandbox.identity_center_pages import SignInPages
from trayapp.sandbox.issued import ASSUME_ROLE, IssuedCredentials, IssuedLedger
from trayapp.sandbox.provision import (
    PARTITION,
    PERMISSION_SET_ORIGIN,
    SPOKE_ACCOUNTS,
    create_permission_set_role,
)

REGION = "eu-west-1"
DEFAULT_USER = "alice"
TOKEN_LIFETIME = 8 * 3600  # seconds: an access token of AWS's default session
CLIENT_LIFETIME = timedelta(days=90)
DEVICE_CODE_LIFETIME = 600
AUTH_CODE_LIFETIME = timedelta(minutes=5)
PERMISSION_SET_SESSION = 3600  # the permission sets' session duration (AWS's default: 1 h)
CLI_SERVICES = (("sso", "2019-06-10"), ("sso-oidc", "2019-06-10"), ("sts", "2011-06-15"))
PAGE_SIZE = 1  # portal pages this small make every client paginate

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CODE_GRANT = "authorization_code"
REFRESH_GRANT = "refresh_token"
GRANTS = (DEVICE_GRANT, CODE_GRANT, REFRESH_GRANT)

OIDC_ROUTES = {
    ("POST", "/client/register"): "RegisterClient",
    ("POST", "/device_authorization"): "StartDeviceAuthorization",
    ("POST", "/token"): "CreateToken",
}
PORTAL_ROUTES = {
    ("GET", "/assignment/accounts"): "ListAccounts",
    ("GET", "/assignment/roles"): "ListAccountRoles",
    ("GET", "/federation/credentials"): "GetRoleCredentials",
    ("POST", "/logout"): "Logout",
}
# The portal's token header has an "_", which werkzeug leaves out of the environ: the sandbox's
# request handler puts it under this key.
BEARER_TOKEN_HEADER = "x-amz-sso_bearer_token"
BEARER_TOKEN = "aacli.sandbox.sso_bearer_token"
PAGE_PATHS = frozenset({"/authorize", "/start", "/device"})

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
PORTAL_ERRORS = {
    "InvalidRequestException": 400,
    "UnauthorizedException": 401,
    "ResourceNotFoundException": 404,
}
_STATUS = {200: "200 OK", 400: "400 Bad Request", 401: "401 Unauthorized", 404: "404 Not Found"}


class ApiError(Exception):
    """An error answered as the service model defines it; the message is the description."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class IcRequest:
    """One call Identity Center received, without its secrets."""

    operation: str
    grant_type: str | None = None
    client_id: str | None = None
    user: str | None = None
    account_id: str | None = None
    role_name: str | None = None
    outcome: str = "ok"  # "ok" or the error code answered


@dataclass
class Client:
    client_id: str
    secret: str = field(repr=False)
    name: str
    grant_types: tuple[str, ...]
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime

    def allows(self, grant: str) -> bool:
        return not self.grant_types or grant in self.grant_types


@dataclass
class DeviceAuth:
    client_id: str
    user_code: str
    expires_at: datetime
    interval: int
    last_poll: datetime | None = None
    user: str | None = None  # set when approved
    denied: bool = False


@dataclass(frozen=True)
class AuthCode:
    client_id: str
    redirect_uri: str
    challenge: str
    user: str
    scopes: tuple[str, ...]
    expires_at: datetime


@dataclass
class Session:
    """An access token (and the refresh token that may renew it) of a signed-in user."""

    user: str
    client_id: str
    scopes: tuple[str, ...]
    expires_at: datetime
    refresh_token: str | None = field(default=None, repr=False)


def _new_secret(prefix: str, length: int = 48) -> str:
    return prefix + secrets.token_urlsafe(length)


def _user_code() -> str:
    alphabet = string.ascii_uppercase.replace("O", "").replace("I", "")
    half = ["".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(2)]
    return "-".join(half)


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a code verifier."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def loopback_match(registered: str, asked: str) -> bool:
    """RFC 8252: a loopback redirect URI matches its registration on any port."""
    a, b = urlsplit(registered), urlsplit(asked)
    if b.scheme != "http" or b.hostname not in ("127.0.0.1", "localhost"):
        return False
    return (a.scheme, a.hostname, a.path) == (b.scheme, b.hostname, b.path)


class IdentityCenter:
    """WSGI app for Identity Center's endpoints, and the knobs tests turn (see idc-interfaces)."""

    def __init__(
        self,
        *,
        ledger: IssuedLedger,
        settings: CheckerSettings,
        clock: Clock,
        endpoint_url: Callable[[], str],
    ) -> None:
        self._ledger = ledger
        self._settings = settings
        self._clock = clock
        self._endpoint_url = endpoint_url
        self.region = REGION
        self.default_user = DEFAULT_USER
        self.token_lifetime = TOKEN_LIFETIME
        self.device_code_lifetime = DEVICE_CODE_LIFETIME
        self.poll_interval = 1
        self.page_size = PAGE_SIZE
        self.requests: list[IcRequest] = []
        self._lock = threading.RLock()
        self._users: set[str] = set()
        self._assignments: dict[str, dict[str, dict[str, str]]] = {}  # user -> account -> ps
        self._roles: dict[tuple[str, str], str] = {}  # (account, permission set) -> role arn
        self._clients: dict[str, Client] = {}
        self._devices: dict[str, DeviceAuth] = {}  # by device code
        self._codes: dict[str, AuthCode] = {}
        self._sessions: dict[str, Session] = {}  # by access token
        self._refresh: dict[str, str] = {}  # refresh token -> its session's access token
        self._deny_next = False
        self.pages = SignInPages(self)

    # -- what tests and the demo use -------------------------------------------------------
    @property
    def start_url(self) -> str:
        return f"{self._endpoint_url()}/start"

    def provision(self) -> None:
        """The default user and assignments (the sandbox calls this once it serves)."""
        self.add_user(self.default_user)
        self.assign(self.default_user, "dev", "AdministratorAccess")
        self.assign(self.default_user, "dev", "ReadOnlyAccess")
        self.assign(self.default_user, "prod", "ReadOnlyAccess")

    def add_user(self, name: str) -> None:
        with self._lock:
            self._users.add(name)
            self._assignments.setdefault(name, {})

    def assign(self, user: str, account: str, permission_set: str) -> str:
        """Give ``user`` the permission set in the account (name or id); returns the role ARN."""
        account_id = SPOKE_ACCOUNTS.get(account, account)
        with self._lock:
            if user not in self._users:
                raise KeyError(f"no Identity Center user named {user!r}")
            arn = self._roles.get((account_id, permission_set))
            if arn is None:
                arn = create_permission_set_role(
                    self._endpoint_url(), account_id, permission_set, self.region
                )
                self._roles[(account_id, permission_set)] = arn
            self._assignments[user].setdefault(account_id, {})[permission_set] = arn
        return arn

    def aws_cli_environment(self, folder: Path) -> dict[str, str]:
        """Variables that send an AWS CLI v2 child's sso, sso-oidc and sts calls here:
        ``AWS_ENDPOINT_URL`` (read by CLIs from 2.13) and ``AWS_DATA_PATH``, a folder of
        endpoint rule sets that resolve to the sandbox (for older CLIs such as Debian's 2.9)."""
        url = self._endpoint_url()
        rules = {
            "version": "1.0",
            "parameters": {
                "Region": {"builtIn": "AWS::Region", "required": False, "type": "String"},
                "Endpoint": {"builtIn": "SDK::Endpoint", "required": False, "type": "String"},
            },
            "rules": [
                {
                    "conditions": [{"fn": "isSet", "argv": [{"ref": "Endpoint"}]}],
                    "endpoint": {"url": {"ref": "Endpoint"}, "properties": {}, "headers": {}},
                    "type": "endpoint",
                },
                {
                    "conditions": [],
                    "endpoint": {"url": url, "properties": {}, "headers": {}},
                    "type": "endpoint",
                },
            ],
        }
        for service, version in CLI_SERVICES:
            target = folder / service / version
            target.mkdir(parents=True, exist_ok=True)
            (target / "endpoint-rule-set-1.json").write_text(json.dumps(rules))
        return {"AWS_ENDPOINT_URL": url, "AWS_DATA_PATH": str(folder)}

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

    # -- WSGI ------------------------------------------------------------------------------
    def handles(self, environ: dict[str, Any]) -> bool:
        """Unsigned requests for Identity Center's paths (moto's calls are all signed)."""
        if "HTTP_AUTHORIZATION" in environ:
            return False
        key = (environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", ""))
        return key in OIDC_ROUTES or key in PORTAL_ROUTES or key[1] in PAGE_PATHS

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        key = (environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", ""))
        if key[1] in PAGE_PATHS:
            return self.pages(environ, start_response)
        if key in OIDC_ROUTES:
            return self._oidc(OIDC_ROUTES[key], environ, start_response)
        return self._portal(PORTAL_ROUTES[key], environ, start_response)

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
            return _answer(start_response, 200, handler(params))
        except ApiError as exc:
            grant, client_id = _string(params, "grantType"), _string(params, "clientId")
            self._record(IcRequest(operation, grant or None, client_id or None, outcome=exc.code))
            status, error = OIDC_ERRORS[exc.code]
            body = {"error": error, "error_description": exc.message}
            return _answer(start_response, status, body, exc.code)

    def _portal(
        self, operation: str, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        try:
            session = self._session(environ.get(BEARER_TOKEN, ""))
            if operation == "ListAccounts":
                body = self._list_accounts(session, query)
            elif operation == "ListAccountRoles":
                body = self._list_account_roles(session, query)
            elif operation == "GetRoleCredentials":
                body = self._get_role_credentials(session, query)
            else:
                body = self._logout(environ.get(BEARER_TOKEN, ""), session)
            return _answer(start_response, 200, body)
        except ApiError as exc:
            self._record(IcRequest(operation, account_id=query.get("account_id"), outcome=exc.code))
            body = {"message": exc.message}
            return _answer(start_response, PORTAL_ERRORS[exc.code], body, exc.code)

    def _record(self, request: IcRequest) -> None:
        with self._lock:
            self.requests.append(request)

    # -- sso-oidc --------------------------------------------------------------------------
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
        if CODE_GRANT in grants and not redirects:
            raise ApiError("InvalidRequestException", "authorization_code needs redirectUris")
        now = self._clock().replace(microsecond=0)
        client = Client(
            client_id=_new_secret("", 16),
            secret=_new_secret("sandbox-client-secret-", 64),
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
        client = self.client(_string(params, "clientId"), _string(params, "clientSecret"))
        if not client.allows(DEVICE_GRANT):
            raise ApiError("UnauthorizedClientException", "Client may not use the device flow")
        if not _string(params, "startUrl"):
            raise ApiError("InvalidRequestException", "startUrl is required")
        device_code = _new_secret("sandbox-device-")
        device = DeviceAuth(
            client_id=client.client_id,
            user_code=_user_code(),
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
        grant = _string(params, "grantType")
        client = self.client(_string(params, "clientId"), _string(params, "clientSecret"))
        if grant not in GRANTS:
            raise ApiError("UnsupportedGrantTypeException", f"Unsupported grant type {grant!r}")
        if not client.allows(grant):
            raise ApiError("UnauthorizedClientException", "Client may not use this grant type")
        with self._lock:
            if grant == DEVICE_GRANT:
                user, scopes = self._device_grant(client, _string(params, "deviceCode"))
            elif grant == CODE_GRANT:
                user, scopes = self._code_grant(client, params)
            else:
                user, scopes = self._refresh_grant(client, _string(params, "refreshToken"))
            access_token, session = self._new_session(user, client, scopes)
        self._record(
            IcRequest("CreateToken", grant_type=grant, client_id=client.client_id, user=user)
        )
        return {
            "accessToken": access_token,
            "tokenType": "Bearer",
            "expiresIn": int(self.token_lifetime),
            "refreshToken": session.refresh_token,
        }

    def _device_grant(self, client: Client, device_code: str) -> tuple[str, tuple[str, ...]]:
        device = self._devices.get(device_code)
        if device is None or device.client_id != client.client_id:
            raise ApiError("InvalidGrantException", "Invalid device code provided")
        now = self._clock()
        if now >= device.expires_at:
            raise ApiError("ExpiredTokenException", "Device code has expired")
        if device.last_poll is not None and now - device.last_poll < timedelta(
            seconds=device.interval * 0.8
        ):
            device.last_poll = now
            raise ApiError("SlowDownException", "Client is polling too fast")
        device.last_poll = now
        if device.denied:
            del self._devices[device_code]
            raise ApiError("AccessDeniedException", "The user denied the authorization")
        if device.user is None:
            raise ApiError("AuthorizationPendingException", "Authorization is still pending")
        del self._devices[device_code]
        return device.user, client.scopes

    def _code_grant(self, client: Client, params: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
        code = self._codes.pop(_string(params, "code"), None)
        if code is None or code.client_id != client.client_id or self._clock() >= code.expires_at:
            raise ApiError("InvalidGrantException", "Invalid authorization code provided")
        if _string(params, "redirectUri") != code.redirect_uri:
            raise ApiError("InvalidGrantException", "The redirect URI does not match")
        if not hmac.compare_digest(s256(_string(params, "codeVerifier")), code.challenge):
            raise ApiError("InvalidGrantException", "Invalid code verifier provided")
        return code.user, code.scopes

    def _refresh_grant(self, client: Client, refresh_token: str) -> tuple[str, tuple[str, ...]]:
        access_token = self._refresh.pop(refresh_token, None)  # a refresh token works once
        session = self._sessions.get(access_token or "")
        if session is None or session.client_id != client.client_id:
            raise ApiError("InvalidGrantException", "Invalid refresh token provided")
        session.refresh_token = None
        return session.user, session.scopes

    def _new_session(
        self, user: str, client: Client, scopes: tuple[str, ...]
    ) -> tuple[str, Session]:
        access_token = _new_secret("aoa")
        session = Session(
            user=user,
            client_id=client.client_id,
            scopes=scopes,
            expires_at=self._clock() + timedelta(seconds=self.token_lifetime),
            refresh_token=_new_secret("aor"),
        )
        self._sessions[access_token] = session
        assert session.refresh_token is not None
        self._refresh[session.refresh_token] = access_token
        return access_token, session

    def issue_code(
        self, client: Client, redirect_uri: str, challenge: str, scopes: tuple[str, ...]
    ) -> str:
        """An authorization code for the default user (the start page's sign-in)."""
        code = _new_secret("sandbox-code-", 32)
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

    # -- portal ----------------------------------------------------------------------------
    def _session(self, access_token: str) -> Session:
        with self._lock:
            session = self._sessions.get(access_token) if access_token else None
        if session is None or self._clock() >= session.expires_at:
            raise ApiError("UnauthorizedException", "Session token not found or invalid")
        return session

    def _list_accounts(self, session: Session, query: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            account_ids = sorted(self._assignments.get(session.user, {}))
        names = {account_id: name for name, account_id in SPOKE_ACCOUNTS.items()}
        accounts = [
            {
                "accountId": account_id,
                "accountName": names.get(account_id, account_id),
                "emailAddress": f"aws+{names.get(account_id, account_id)}@example.com",
            }
            for account_id in account_ids
        ]
        self._record(IcRequest("ListAccounts", user=session.user))
        return self._page(accounts, "accountList", query)

    def _list_account_roles(self, session: Session, query: dict[str, str]) -> dict[str, Any]:
        account_id = query.get("account_id", "")
        if not account_id:
            raise ApiError("InvalidRequestException", "account_id is required")
        with self._lock:
            names = sorted(self._assignments.get(session.user, {}).get(account_id, {}))
        roles = [{"roleName": name, "accountId": account_id} for name in names]
        self._record(IcRequest("ListAccountRoles", user=session.user, account_id=account_id))
        return self._page(roles, "roleList", query)

    def _page(self, items: list[dict[str, str]], key: str, query: dict[str, str]) -> dict[str, Any]:
        try:
            start = int(base64.urlsafe_b64decode(query.get("next_token", "") or "MA==").decode())
            size = min(int(query.get("max_result", self.page_size)), self.page_size)
        except ValueError:
            raise ApiError("InvalidRequestException", "Invalid nextToken or maxResults") from None
        if start < 0 or size < 1:
            raise ApiError("InvalidRequestException", "Invalid nextToken or maxResults")
        body: dict[str, Any] = {key: items[start : start + size]}
        if start + size < len(items):
            body["nextToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        return body

    def _get_role_credentials(self, session: Session, query: dict[str, str]) -> dict[str, Any]:
        account_id, role_name = query.get("account_id", ""), query.get("role_name", "")
        with self._lock:
            role_arn = self._assignments.get(session.user, {}).get(account_id, {}).get(role_name)
        if role_arn is None:
            raise ApiError("ResourceNotFoundException", "No access")
        record = self._assume(session, account_id, role_arn)
        self._record(
            IcRequest(
                "GetRoleCredentials", user=session.user, account_id=account_id, role_name=role_name
            )
        )
        return {
            "roleCredentials": {
                "accessKeyId": record.access_key_id,
                "secretAccessKey": record.secret_access_key,
                "sessionToken": record.session_token,
                "expiration": int(record.expiration.timestamp() * 1000),
            }
        }

    def _assume(self, session: Session, account_id: str, role_arn: str) -> IssuedCredentials:
        """moto's AssumeRole on the permission set's role, recorded in the sandbox's ledger."""
        from moto.sts.models import sts_backends

        lifetime = self._settings.credential_lifetime or PERMISSION_SET_SESSION
        expiration = min(self._clock() + timedelta(seconds=lifetime), session.expires_at)
        seconds = max(1, int((expiration - self._clock()).total_seconds()))
        role = sts_backends[account_id][PARTITION].assume_role(
            region_name="us-east-1",
            role_session_name=session.user,
            role_arn=role_arn,
            policy="",
            duration=seconds,
            external_id="",
        )
        record = IssuedCredentials(
            access_key_id=role.access_key_id,
            secret_access_key=role.secret_access_key,
            session_token=role.session_token,
            expiration=expiration.replace(microsecond=0),
            arn=role.arn,
            account_id=account_id,
            user_name=PERMISSION_SET_ORIGIN + session.user,
            operation=ASSUME_ROLE,
            # Not a chained session: the console may set its own SessionDuration for it.
            from_long_term_keys=True,
            mfa_authenticated=False,
        )
        self._ledger.add(record)
        return record

    def _logout(self, access_token: str, session: Session) -> dict[str, Any]:
        with self._lock:
            self._sessions.pop(access_token, None)
            if session.refresh_token:
                self._refresh.pop(session.refresh_token, None)
        self._record(IcRequest("Logout", user=session.user))
        return {}


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


def _string(params: dict[str, Any], name: str) -> str:
    value = params.get(name, "")
    return value if isinstance(value, str) else ""


def _strings(params: dict[str, Any], name: str) -> list[str]:
    value = params.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError("InvalidRequestException", f"{name} must be a list of strings")
    return value


def _answer(
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
