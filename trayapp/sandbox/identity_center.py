"""The sandbox's IAM Identity Center: users with permission-set assignments, the portal API
(``sso``: ListAccounts, ListAccountRoles, GetRoleCredentials, Logout) as botocore's model defines
it, and role credentials moto's STS accepts (an ``AWSReservedSSO_...`` role assumed in moto).

The OIDC half (sso-oidc) is identity_center_oidc.py, its records identity_center_records.py;
the sign-in pages (``/authorize``, ``/start``, ``/device``) are identity_center_pages.py.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from trayapp.core.clock import Clock
from trayapp.sandbox.checker import CheckerSettings, StartResponse
from trayapp.sandbox.identity_center_oidc import OIDC_ROUTES, OidcService, answer
from trayapp.sandbox.identity_center_pages import SignInPages
from trayapp.sandbox.identity_center_records import ApiError, IcRequest, Session
from trayapp.sandbox.issued import ASSUME_ROLE, IssuedCredentials, IssuedLedger
from trayapp.sandbox.provision import (
    PARTITION,
    PERMISSION_SET_ORIGIN,
    SPOKE_ACCOUNTS,
    create_permission_set_role,
)

REGION = "eu-west-1"
PERMISSION_SET_SESSION = 3600  # the permission sets' session duration (AWS's default: 1 h)
PAGE_SIZE = 1  # portal pages this small make every client paginate
CLI_SERVICES = (("sso", "2019-06-10"), ("sso-oidc", "2019-06-10"), ("sts", "2011-06-15"))

PORTAL_ROUTES = {
    ("GET", "/assignment/accounts"): "ListAccounts",
    ("GET", "/assignment/roles"): "ListAccountRoles",
    ("GET", "/federation/credentials"): "GetRoleCredentials",
    ("POST", "/logout"): "Logout",
}
PORTAL_ERRORS = {
    "InvalidRequestException": 400,
    "UnauthorizedException": 401,
    "ResourceNotFoundException": 404,
}
# The portal's token header has an "_", which werkzeug leaves out of the environ: the sandbox's
# request handler puts it under this key.
BEARER_TOKEN_HEADER = "x-amz-sso_bearer_token"
BEARER_TOKEN = "aacli.sandbox.sso_bearer_token"
PAGE_PATHS = frozenset({"/authorize", "/start", "/device"})


class IdentityCenter(OidcService):
    """WSGI app for Identity Center's endpoints, and the knobs tests turn (see idc-interfaces)."""

    def __init__(
        self,
        *,
        ledger: IssuedLedger,
        settings: CheckerSettings,
        clock: Clock,
        endpoint_url: Callable[[], str],
    ) -> None:
        super().__init__(clock=clock, endpoint_url=endpoint_url)
        self._ledger = ledger
        self._settings = settings
        self.region = REGION
        self.page_size = PAGE_SIZE
        self._users: set[str] = set()
        self._assignments: dict[str, dict[str, dict[str, str]]] = {}  # user -> account -> ps
        self._roles: dict[tuple[str, str], str] = {}  # (account, permission set) -> role arn
        self.pages = SignInPages(self)

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

    def handles(self, environ: dict[str, Any]) -> bool:
        """Unsigned requests for Identity Center's paths (moto's calls are all signed)."""
        if "HTTP_AUTHORIZATION" in environ:
            return False
        key = (environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", ""))
        return key in OIDC_ROUTES or key in PORTAL_ROUTES or key[1] in PAGE_PATHS

    def operation_of(self, environ: dict[str, Any]) -> str | None:
        """The sso-oidc or portal operation a request calls, if it is one of them."""
        if not self.handles(environ):
            return None
        key = (environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", ""))
        return OIDC_ROUTES.get(key) or PORTAL_ROUTES.get(key)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        key = (environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", ""))
        if key[1] in PAGE_PATHS:
            return self.pages(environ, start_response)
        if key in OIDC_ROUTES:
            return self._oidc(OIDC_ROUTES[key], environ, start_response)
        return self._portal(PORTAL_ROUTES[key], environ, start_response)

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
            return answer(start_response, 200, body)
        except ApiError as exc:
            self._record(IcRequest(operation, account_id=query.get("account_id"), outcome=exc.code))
            body = {"message": exc.message}
            return answer(start_response, PORTAL_ERRORS[exc.code], body, exc.code)

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
        self._end_session(access_token)
        self._record(IcRequest("Logout", user=session.user))
        return {}
