"""The Sandbox: moto, the STS checker and the federation endpoint on one local HTTP server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from trayapp.core.clock import system_clock
from trayapp.sandbox.checker import CheckerSettings, StartResponse, StsChecker, StsRequest
from trayapp.sandbox.faults import Faults, action_of
from trayapp.sandbox.federation import ConsoleSignin, FederationApp
from trayapp.sandbox.identity_center import BEARER_TOKEN, BEARER_TOKEN_HEADER, IdentityCenter
from trayapp.sandbox.isolated import moto_ignores_user_service_models
from trayapp.sandbox.issued import IssuedCredentials, IssuedLedger
from trayapp.sandbox.provision import (
    DEFAULT_HUB_ACCOUNT,
    SPOKE_ACCOUNTS,
    SPOKE_ROLES,
    AlreadyProvisioned,
    HubUser,
    create_hub_user,
    create_spoke_roles,
    random_account_id,
)
from trayapp.sandbox.totp import STEP, MfaDevices
from trayapp.sandbox.trust import RoleSessionAudit

FEDERATION_PATH = "/federation"
HUB_USER_NAME = "alice"


def _listen(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1; OSError when the port is taken."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
    except OSError:
        listener.close()
        raise
    return listener


class _QuietHandler(WSGIRequestHandler):
    """No request log: the sandbox runs inside tests and a demo that own the terminal."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def make_environ(self) -> dict[str, Any]:
        # werkzeug drops headers whose name has "_"; the portal's bearer token is one of them.
        environ: dict[str, Any] = super().make_environ()
        token = self.headers.get(BEARER_TOKEN_HEADER)
        if token is not None:
            environ[BEARER_TOKEN] = token
        return environ


class Sandbox:
    """A local AWS on 127.0.0.1: hub user with MFA, spoke accounts and roles, federation sign-in."""

    def __init__(
        self,
        *,
        mfa_check: bool = True,
        credential_lifetime: int | None = None,
        port: int = 0,
    ) -> None:
        self._settings = CheckerSettings(mfa_check, credential_lifetime)
        self._port = port
        self._devices = MfaDevices()
        self._ledger = IssuedLedger()
        self._users: dict[str, HubUser] = {}  # by access key id, read by the checker
        self._hub: HubUser | None = None
        self._hub_account = DEFAULT_HUB_ACCOUNT
        self._federation = FederationApp(self._ledger, system_clock)
        self.faults = Faults()  # tests queue failures here: sandbox.faults.next("503")
        self._roles_by_account: dict[str, dict[str, int]] = {
            account_id: dict(SPOKE_ROLES) for account_id in SPOKE_ACCOUNTS.values()
        }  # max session duration per role; add_role adds more
        self._checker = StsChecker(
            DomainDispatcherApplication(create_backend_app),
            users_by_key=self._users,
            roles_by_account=self._roles_by_account,
            devices=self._devices,
            ledger=self._ledger,
            settings=self._settings,
            clock=system_clock,
        )
        self._identity_center = IdentityCenter(
            ledger=self._ledger,
            settings=self._settings,
            clock=system_clock,
            endpoint_url=lambda: self.endpoint_url,
        )
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- settings, changeable while running --------------------------------------------------
    @property
    def mfa_check(self) -> bool:
        return self._settings.mfa_check

    @mfa_check.setter
    def mfa_check(self, value: bool) -> None:
        self._settings.mfa_check = value

    @property
    def credential_lifetime(self) -> int | None:
        return self._settings.credential_lifetime

    @credential_lifetime.setter
    def credential_lifetime(self, value: int | None) -> None:
        self._settings.credential_lifetime = value

    @property
    def iam_mfa(self) -> bool:
        """Whether IAM calls on the caller's own keys need MFA (aws:MultiFactorAuthPresent)."""
        return self._settings.iam_mfa

    @iam_mfa.setter
    def iam_mfa(self, value: bool) -> None:
        self._settings.iam_mfa = value

    @property
    def key_propagation(self) -> float:
        """Seconds a new access key is refused by STS after CreateAccessKey."""
        return self._settings.key_propagation

    @key_propagation.setter
    def key_propagation(self, value: float) -> None:
        self._settings.key_propagation = value

    def access_keys(self, user: HubUser | str | None = None) -> dict[str, str]:
        """The user's access keys in IAM now: key id -> "Active" or "Inactive"."""
        from trayapp.sandbox.isolated import isolated_client

        hub = self._user(user)
        iam = isolated_client("iam", self.endpoint_url, account_id=hub.account_id)
        listed = iam.list_access_keys(UserName=hub.user_name)["AccessKeyMetadata"]
        return {key["AccessKeyId"]: key["Status"] for key in listed}

    # -- life cycle ----------------------------------------------------------------------------
    def start(self) -> Sandbox:
        """Serve on a free port (or the one given) and provision the accounts; returns self."""
        if self._server is not None:
            raise RuntimeError("the sandbox is already running")
        moto_ignores_user_service_models()
        listener = _listen(self._port)
        try:
            # Our own socket: werkzeug would print and sys.exit() when the port is taken.
            self._server = make_server(
                "127.0.0.1",
                self._port,
                self._dispatch,
                threaded=True,
                request_handler=_QuietHandler,
                fd=listener.fileno(),
            )
        finally:
            listener.close()  # the server holds its own duplicate of the socket
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="aacli-sandbox", daemon=True
        )
        self._thread.start()
        try:
            self._hub = self._provision_hub()
            create_spoke_roles(self.endpoint_url, self._hub_account)
            self._identity_center.provision()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self.faults.clear()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _dispatch(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if self.faults.pending:
            # Faults may name an STS action or an Identity Center operation ("CreateToken").
            action = self._identity_center.operation_of(environ) or action_of(environ)
            fault = self.faults.take(action)
            if fault is not None:
                return self.faults.serve(fault, environ, start_response, self._route)
        return self._route(environ, start_response)

    def _route(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").rstrip("/") == FEDERATION_PATH:
            return self._federation(environ, start_response)
        if self._identity_center.handles(environ):
            return self._identity_center(environ, start_response)
        return self._checker(environ, start_response)

    def _provision_hub(self) -> HubUser:
        # moto's state is per process: a sandbox started earlier in this process may own the
        # default hub account already, so this one moves to a fresh account of its own.
        for _ in range(5):
            try:
                return self.add_hub_user(HUB_USER_NAME)
            except AlreadyProvisioned:
                self._hub_account = random_account_id()
        raise RuntimeError("could not find a free hub account id")

    # -- what tests and the demo read ------------------------------------------------------
    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not running: call start() first")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def federation_url(self) -> str:
        return self.endpoint_url + FEDERATION_PATH

    @property
    def identity_center(self) -> IdentityCenter:
        """The IAM Identity Center stand-in (sso-oidc and portal APIs, sign-in pages)."""
        return self._identity_center

    @property
    def hub(self) -> HubUser:
        if self._hub is None:
            raise RuntimeError("the sandbox is not running: call start() first")
        return self._hub

    @property
    def hub_account_id(self) -> str:
        return self._hub_account

    @property
    def users(self) -> list[HubUser]:
        return list(self._users.values())

    @property
    def accounts(self) -> dict[str, str]:
        return dict(SPOKE_ACCOUNTS)

    @property
    def roles(self) -> dict[str, dict[str, int]]:
        return {name: dict(SPOKE_ROLES) for name in SPOKE_ACCOUNTS}

    @property
    def issued(self) -> list[IssuedCredentials]:
        return self._ledger.all()

    @property
    def sts_requests(self) -> list[StsRequest]:
        """Every STS call the sandbox received (action, signing key, MFA serial and code)."""
        return list(self._checker.requests)

    @property
    def console_signins(self) -> list[ConsoleSignin]:
        return self._federation.signins

    @property
    def role_sessions(self) -> dict[str, RoleSessionAudit]:
        """Per issued role session (by access key id): its session name, source identity,
        external id and session tags, as the AssumeRole sent them."""
        return dict(self._checker.role_sessions)

    def add_role(
        self,
        account: str,
        role_name: str,
        *,
        external_id: str | None = None,
        session_name_is_user: bool = False,
        source_identity_is_user: bool = False,
        tag_session: bool = False,
        max_duration: int = 3600,
    ) -> str:
        """A spoke role whose trust policy adds audit conditions (provision.audited_trust_policy)
        that the checker enforces as AWS does; returns its ARN."""
        from trayapp.sandbox.provision import audited_trust_policy, create_role

        account_id = SPOKE_ACCOUNTS.get(account, account)
        policy = audited_trust_policy(
            self._hub_account,
            external_id=external_id,
            session_name_is_user=session_name_is_user,
            source_identity_is_user=source_identity_is_user,
            tag_session=tag_session,
        )
        create_role(self.endpoint_url, account_id, role_name, policy, max_duration)
        self._roles_by_account.setdefault(account_id, {})[role_name] = max_duration
        return f"arn:aws:iam::{account_id}:role/{role_name}"

    def add_hub_user(self, name: str) -> HubUser:
        """Another hub user with its own access key and MFA device."""
        with self._lock:
            user = create_hub_user(
                self.endpoint_url, self._hub_account, name, iam_mfa=self._settings.iam_mfa
            )
            self._devices.add(user.mfa_serial, user.mfa_seed)
            self._users[user.access_key_id] = user
        return user

    def current_code(self, user: HubUser | str | None = None) -> str:
        """The code the user's MFA device shows now."""
        return self._devices.code_at(self._user(user).mfa_serial, system_clock())

    def next_code(self, user: HubUser | str | None = None) -> str:
        """The code of the next 30 s window (accepted now, as AWS allows for clock drift)."""
        return self._devices.code_at(self._user(user).mfa_serial, system_clock() + STEP)

    def _user(self, user: HubUser | str | None) -> HubUser:
        if user is None:
            return self.hub
        if isinstance(user, HubUser):
            return user
        for candidate in self._users.values():
            if candidate.user_name == user:
                return candidate
        raise KeyError(f"no hub user named {user!r}")
