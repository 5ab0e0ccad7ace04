"""A WSGI middleware in front of moto's STS that checks what moto does not: keys, MFA, durations."""

from __future__ import annotations

import fnmatch
import hmac
import io
import logging
import re
import secrets
import string
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from trayapp.core.clock import Clock, parse_iso
from trayapp.sandbox.issued import (
    ASSUME_ROLE,
    GET_SESSION_TOKEN,
    IssuedCredentials,
    IssuedLedger,
)
from trayapp.sandbox.provision import PARTITION, PERMISSION_SET_ORIGIN, HubUser
from trayapp.sandbox.totp import MfaDevices
from trayapp.sandbox.trust import RoleSessionAudit, allows, trust_policy_of

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
CHAINED_MAX_DURATION = 3600
DEFAULT_ROLE_DURATION = 3600
DEFAULT_SESSION_TOKEN_DURATION = 43200
MAX_SESSION_TOKEN_DURATION = 129600

MFA_FAILED = "MultiFactorAuthentication failed with invalid MFA one time pass code. "
ROLE_MAX_EXCEEDED = (
    "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
)
CHAIN_MAX_EXCEEDED = (
    "The requested DurationSeconds exceeds the 1 hour session limit "
    "for roles assumed by role chaining."
)
INVALID_TOKEN = "The security token included in the request is invalid."
IAM_SELF_MANAGEMENT = frozenset(
    {"CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey", "ListAccessKeys", "GetUser"}
)
EXPIRED_TOKEN = "The security token included in the request is expired"

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request", re.ASCII)
_ROLE_ARN = re.compile(r"^arn:[\w-]+:iam::(\d{12}):role/(?:[\w+=,.@/-]*/)?([\w+=,.@-]+)$", re.ASCII)
_EXPIRATION = re.compile(rb"<Expiration>[^<]*</Expiration>")
_SIX_DIGITS = re.compile(r"\d{6}", re.ASCII)  # AWS takes ASCII digits only


@dataclass
class CheckerSettings:
    """The knobs tests and benchmarks turn while the sandbox runs."""

    mfa_check: bool = True
    credential_lifetime: int | None = None
    # IAM self-management (the caller's own keys) only with MFA: the hub policy's
    # aws:MultiFactorAuthPresent condition, which moto does not evaluate.
    iam_mfa: bool = False
    key_propagation: float = 0.0  # seconds a new access key is refused by STS, as AWS does


@dataclass(frozen=True)
class StsRequest:
    """One STS call the checker received, as tests need it to prove what reached AWS."""

    action: str
    key_id: str | None
    serial: str | None
    token_code: str | None
    session_name: str | None = None  # AssumeRole's RoleSessionName, SourceIdentity, ExternalId
    source_identity: str | None = None
    external_id: str | None = None
    tags: tuple[tuple[str, str], ...] = ()


class StsError(Exception):
    """An error answered the way AWS STS answers it."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def access_denied(message: str) -> StsError:
    return StsError(403, "AccessDenied", message)


def validation_error(message: str) -> StsError:
    return StsError(400, "ValidationError", message)


@dataclass(frozen=True)
class Caller:
    """Who signed a request: a hub user's long-term key, or credentials the sandbox issued."""

    user: HubUser
    issued: IssuedCredentials | None

    @property
    def arn(self) -> str:
        return self.issued.arn if self.issued else self.user.user_arn

    @property
    def temporary(self) -> bool:
        return self.issued is not None

    @property
    def permission_set(self) -> bool:
        """A session that began at Identity Center (GetRoleCredentials, maybe chained on)."""
        return self.user.user_name.startswith(PERMISSION_SET_ORIGIN)

    @property
    def mfa_session(self) -> bool:
        """Credentials from GetSessionToken with MFA carry the MFA context into AssumeRole."""
        return (
            self.issued is not None
            and self.issued.operation == GET_SESSION_TOKEN
            and self.issued.mfa_authenticated
        )


def _iso_z(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _random_key_id() -> str:
    alphabet = string.ascii_uppercase + "234567"
    return "ASIA" + "".join(secrets.choice(alphabet) for _ in range(16))


def error_body(code: str, message: str, request_id: str) -> bytes:
    return (
        f'<ErrorResponse xmlns="{STS_NS}">'
        f"<Error><Type>Sender</Type><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()


def _respond(
    start_response: StartResponse, status: str, body: bytes, content_type: str = "text/xml"
) -> list[bytes]:
    request_id = str(uuid.uuid4())
    start_response(
        status,
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("x-amzn-RequestId", request_id),
        ],
    )
    return [body]


_REASONS = {400: "Bad Request", 403: "Forbidden"}


class StsChecker:
    """Wraps moto: checks STS callers, MFA codes and durations; records issued credentials."""

    def __init__(
        self,
        app: WsgiApp,
        *,
        users_by_key: MutableMapping[str, HubUser],
        roles_by_account: Mapping[str, Mapping[str, int]],
        devices: MfaDevices,
        ledger: IssuedLedger,
        settings: CheckerSettings,
        clock: Clock,
    ) -> None:
        self._app = app
        self._users_by_key = users_by_key
        self._roles_by_account = roles_by_account
        self._devices = devices
        self._ledger = ledger
        self._settings = settings
        self._clock = clock
        self.requests: list[StsRequest] = []  # every STS call received, in order
        # Hub keys made or changed through IAM: AWS refuses inactive and deleted keys, and
        # new ones until they have propagated.
        self._inactive: set[str] = set()
        self._deleted: set[str] = set()
        self._created_at: dict[str, datetime] = {}
        # What each role session said about who asked (tags, source identity), by key id.
        self.role_sessions: dict[str, RoleSessionAudit] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        key_id, service = _signer(environ, query)
        try:
            issued = self._ledger.get(key_id) if key_id else None
            if issued is not None:
                self._check_session(issued, environ, query)
            if service == "iam":
                return self._iam(key_id, issued, environ, start_response)
            if service != "sts":
                return self._app(environ, start_response)
            params = {name: values[0] for name, values in query.items()}
            params.update(_read_form(environ))
            return self._sts(params, key_id, issued, environ, start_response)
        except StsError as exc:
            body = error_body(exc.code, exc.message, str(uuid.uuid4()))
            return _respond(start_response, f"{exc.status} {_REASONS[exc.status]}", body)

    def _check_session(
        self, issued: IssuedCredentials, environ: dict[str, Any], query: dict[str, list[str]]
    ) -> None:
        token = (
            environ.get("HTTP_X_AMZ_SECURITY_TOKEN") or query.get("X-Amz-Security-Token", [""])[0]
        )
        if not hmac.compare_digest(token, issued.session_token):
            raise StsError(403, "InvalidClientTokenId", INVALID_TOKEN)
        if issued.expired(self._clock()):
            raise StsError(403, "ExpiredToken", EXPIRED_TOKEN)

    def _sts(
        self,
        params: dict[str, str],
        key_id: str | None,
        issued: IssuedCredentials | None,
        environ: dict[str, Any],
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        action = params.get("Action", "")
        self.requests.append(
            StsRequest(
                action,
                key_id,
                params.get("SerialNumber"),
                params.get("TokenCode"),
                params.get("RoleSessionName"),
                params.get("SourceIdentity"),
                params.get("ExternalId"),
                _session_tags(params),
            )
        )
        if action in ("AssumeRoleWithWebIdentity", "AssumeRoleWithSAML") and key_id is None:
            return self._app(environ, start_response)  # these calls are not signed
        if key_id is None:
            raise StsError(
                403, "MissingAuthenticationToken", "Request is missing Authentication Token"
            )
        caller = self._caller(key_id, issued)
        if action == "GetSessionToken":
            return self._get_session_token(params, caller, start_response)
        if action == "GetCallerIdentity" and caller.issued and not caller.issued.is_role_session:
            return self._session_identity(caller, start_response)
        if action == "AssumeRole":
            return self._assume_role(params, caller, environ, start_response)
        return self._app(environ, start_response)

    def _caller(self, key_id: str, issued: IssuedCredentials | None) -> Caller:
        if issued is not None and issued.user_name.startswith(PERMISSION_SET_ORIGIN):
            return _permission_set_caller(issued)
        if issued is not None:
            origin = next(
                (u for u in tuple(self._users_by_key.values()) if u.user_name == issued.user_name),
                None,
            )
            if origin is not None:
                return Caller(origin, issued)
        user = self._users_by_key.get(key_id)
        if user is None or key_id in self._inactive:
            raise StsError(403, "InvalidClientTokenId", INVALID_TOKEN)
        created = self._created_at.get(key_id)
        wait = timedelta(seconds=self._settings.key_propagation)
        if created is not None and self._clock() < created + wait:
            raise StsError(403, "InvalidClientTokenId", INVALID_TOKEN)
        return Caller(user, None)

    def _iam(
        self,
        key_id: str | None,
        issued: IssuedCredentials | None,
        environ: dict[str, Any],
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        """IAM calls of hub users: refused for retired keys, MFA enforced on the caller's own
        keys when ``iam_mfa`` is set; moto's answers tell which keys now exist and are active."""
        if key_id is None or (issued is None and key_id not in self._users_by_key):
            if key_id in self._deleted:
                raise StsError(403, "InvalidClientTokenId", INVALID_TOKEN)
            return self._app(environ, start_response)  # the sandbox's own provisioning
        params = _read_form(environ)
        action = params.get("Action", "")
        caller = self._caller(key_id, issued)
        if issued is not None:  # moto knows no session keys: it acts in the user's account
            environ["HTTP_X_MOTO_ACCOUNT_ID"] = caller.user.account_id
        if self._settings.iam_mfa and action in IAM_SELF_MANAGEMENT and not caller.mfa_session:
            raise access_denied(
                f"User: {caller.arn} is not authorized to perform: iam:{action} on resource: "
                f"user {caller.user.user_name} because no identity-based policy allows the "
                f"iam:{action} action"
            )
        status, headers, body = _call(self._app, environ)
        if status.startswith("200"):
            self._track_keys(action, params, body, caller)
        start_response(status, headers)
        return [body]

    def _track_keys(self, action: str, params: dict[str, str], body: bytes, caller: Caller) -> None:
        key = params.get("AccessKeyId", "")
        if action == "CreateAccessKey":
            root = ET.fromstring(body)  # noqa: S314 - moto's own response, from this process
            values = {el.tag.rpartition("}")[2]: (el.text or "") for el in root.iter()}
            if values.get("UserName", caller.user.user_name) == caller.user.user_name:
                new = values["AccessKeyId"]
                self._created_at[new] = self._clock()
                self._users_by_key[new] = replace(
                    caller.user, access_key_id=new, secret_access_key=values["SecretAccessKey"]
                )
        elif action == "UpdateAccessKey" and key:
            if params.get("Status") == "Inactive":
                self._inactive.add(key)
            else:
                self._inactive.discard(key)
        elif action == "DeleteAccessKey" and key:
            self._users_by_key.pop(key, None)
            self._inactive.discard(key)
            self._deleted.add(key)

    def _check_mfa(self, params: dict[str, str], caller: Caller) -> bool:
        """Whether the request proves MFA; a wrong, foreign or reused code raises."""
        serial, code = params.get("SerialNumber"), params.get("TokenCode")
        if not serial and not code:
            return False
        if not serial or not code or serial != caller.user.mfa_serial:
            raise access_denied(MFA_FAILED)
        if not self._settings.mfa_check:
            if not _SIX_DIGITS.fullmatch(code):
                raise access_denied(MFA_FAILED)
            return True
        if not self._devices.accept(serial, code, self._clock()):
            raise access_denied(MFA_FAILED)
        return True

    def _lifetime(self, duration: int) -> int:
        return self._settings.credential_lifetime or duration

    def _get_session_token(
        self, params: dict[str, str], caller: Caller, start_response: StartResponse
    ) -> Iterable[bytes]:
        if caller.temporary:
            raise access_denied("Cannot call GetSessionToken with session credentials")
        duration = _int_param(params, "DurationSeconds", DEFAULT_SESSION_TOKEN_DURATION)
        if not 900 <= duration <= MAX_SESSION_TOKEN_DURATION:
            raise validation_error(
                "The requested DurationSeconds is outside the allowed range of 900 to 129600."
            )
        mfa = self._check_mfa(params, caller)
        now = self._clock()
        record = IssuedCredentials(
            access_key_id=_random_key_id(),
            secret_access_key=secrets.token_urlsafe(30),
            session_token=secrets.token_urlsafe(120),
            expiration=(now + timedelta(seconds=self._lifetime(duration))).replace(microsecond=0),
            arn=caller.user.user_arn,
            account_id=caller.user.account_id,
            user_name=caller.user.user_name,
            operation=GET_SESSION_TOKEN,
            from_long_term_keys=True,
            mfa_authenticated=mfa,
        )
        self._ledger.add(record)
        body = (
            f'<GetSessionTokenResponse xmlns="{STS_NS}"><GetSessionTokenResult><Credentials>'
            f"<SessionToken>{record.session_token}</SessionToken>"
            f"<SecretAccessKey>{record.secret_access_key}</SecretAccessKey>"
            f"<Expiration>{_iso_z(record.expiration)}</Expiration>"
            f"<AccessKeyId>{record.access_key_id}</AccessKeyId>"
            f"</Credentials></GetSessionTokenResult>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            f"</GetSessionTokenResponse>"
        ).encode()
        return _respond(start_response, "200 OK", body)

    def _session_identity(self, caller: Caller, start_response: StartResponse) -> Iterable[bytes]:
        # moto does not know the keys of our GetSessionToken sessions: they act as the user.
        body = (
            f'<GetCallerIdentityResponse xmlns="{STS_NS}"><GetCallerIdentityResult>'
            f"<Arn>{caller.user.user_arn}</Arn><UserId>{caller.user.access_key_id}</UserId>"
            f"<Account>{caller.user.account_id}</Account></GetCallerIdentityResult>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            f"</GetCallerIdentityResponse>"
        ).encode()
        return _respond(start_response, "200 OK", body)

    def _assume_role(
        self,
        params: dict[str, str],
        caller: Caller,
        environ: dict[str, Any],
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        role_arn = params.get("RoleArn", "")
        not_authorized = access_denied(
            f"User: {caller.arn} is not authorized to perform: sts:AssumeRole "
            f"on resource: {role_arn}"
        )
        match = _ROLE_ARN.fullmatch(role_arn)
        max_duration = (
            self._roles_by_account.get(match.group(1), {}).get(match.group(2)) if match else None
        )
        if max_duration is None:
            raise not_authorized
        duration = _int_param(params, "DurationSeconds", DEFAULT_ROLE_DURATION)
        if caller.temporary:
            log.info("AssumeRole of %s with temporary credentials of %s", role_arn, caller.arn)
            if duration > CHAINED_MAX_DURATION:
                raise validation_error(CHAIN_MAX_EXCEEDED)
        if duration > max_duration:
            raise validation_error(ROLE_MAX_EXCEEDED)
        mfa = self._check_mfa(params, caller) or caller.mfa_session
        if not mfa and not caller.permission_set:  # hub users need MFA whatever the trust says
            raise not_authorized
        self._check_trust(params, caller, match.group(1), match.group(2), mfa)

        status, headers, body = _call(self._app, environ)
        if status.startswith("200"):
            body = self._record_role_session(body, caller, mfa)
            self._record_audit(body, params)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return [body]

    def _check_trust(
        self, params: dict[str, str], caller: Caller, account_id: str, role_name: str, mfa: bool
    ) -> None:
        """The role's trust policy, as AWS evaluates it: its conditions on the external id,
        session name and source identity, and sts:TagSession / sts:SetSourceIdentity."""
        policy = trust_policy_of(account_id, role_name)
        if policy is not None and caller.permission_set:
            policy = _trusting(policy, caller.issued)
        if policy is None:
            if caller.permission_set:
                raise access_denied(
                    f"User: {caller.arn} is not authorized to perform: sts:AssumeRole "
                    f"on resource: {params.get('RoleArn', '')}"
                )
            return
        context = {
            "sts:externalid": params.get("ExternalId"),
            "sts:rolesessionname": params.get("RoleSessionName"),
            "sts:sourceidentity": params.get("SourceIdentity"),
            "aws:multifactorauthpresent": "true" if mfa else "false",
            "aws:username": caller.user.user_name,
        }
        role_arn = params.get("RoleArn", "")
        actions = ["sts:AssumeRole"]
        if _session_tags(params):
            actions.append("sts:TagSession")
        if params.get("SourceIdentity"):
            actions.append("sts:SetSourceIdentity")
        for action in actions:
            if not allows(policy, action, context):
                raise access_denied(
                    f"User: {caller.arn} is not authorized to perform: {action} "
                    f"on resource: {role_arn}"
                )

    def _record_audit(self, body: bytes, params: dict[str, str]) -> None:
        key = re.search(rb"<AccessKeyId>([^<]+)</AccessKeyId>", body)
        if key is None:
            return
        self.role_sessions[key.group(1).decode()] = RoleSessionAudit(
            role_arn=params.get("RoleArn", ""),
            session_name=params.get("RoleSessionName", ""),
            source_identity=params.get("SourceIdentity"),
            external_id=params.get("ExternalId"),
            tags=_session_tags(params),
            transitive_tag_keys=tuple(
                v for k, v in sorted(params.items()) if k.startswith("TransitiveTagKeys.member.")
            ),
        )

    def _record_role_session(self, body: bytes, caller: Caller, mfa: bool) -> bytes:
        root = ET.fromstring(body)  # noqa: S314 - moto's own response, from this process
        values = {el.tag.rpartition("}")[2]: (el.text or "") for el in root.iter()}
        expiration = parse_iso(values["Expiration"])
        if self._settings.credential_lifetime:
            expiration = self._clock() + timedelta(seconds=self._settings.credential_lifetime)
            stamp = f"<Expiration>{_iso_z(expiration)}</Expiration>".encode()
            body = _EXPIRATION.sub(stamp, body)
        arn = values["Arn"]
        self._ledger.add(
            IssuedCredentials(
                access_key_id=values["AccessKeyId"],
                secret_access_key=values["SecretAccessKey"],
                session_token=values["SessionToken"],
                expiration=expiration.replace(microsecond=0),
                arn=arn,
                account_id=arn.split(":")[4],
                user_name=caller.user.user_name,
                operation=ASSUME_ROLE,
                from_long_term_keys=not caller.temporary,
                mfa_authenticated=mfa,
            )
        )
        return body


def _permission_set_caller(issued: IssuedCredentials) -> Caller:
    """Identity Center's sessions have no hub user: they act in their own account, with no MFA
    device (their user signed in at Identity Center)."""
    user = HubUser(
        user_name=issued.user_name,
        user_arn=issued.arn,
        account_id=issued.account_id,
        access_key_id="",
        secret_access_key="",
        mfa_serial="",
        mfa_seed="",
    )
    return Caller(user, issued)


def _trusting(policy: dict[str, Any], issued: IssuedCredentials | None) -> dict[str, Any]:
    """Only the statements of a trust policy whose principal is this session's role: its account
    (with an ``aws:PrincipalArn`` condition matching the role, if any) or the role itself."""
    arn = issued.arn if issued else ""
    account, _, rest = arn.removeprefix(f"arn:{PARTITION}:sts::").partition(":")
    role_arn = _role_arn(account, rest.split("/")[1] if rest.count("/") >= 2 else "")
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    kept = [
        statement
        for statement in statements
        if role_arn and _principal_is(statement, account, role_arn)
    ]
    return {**policy, "Statement": kept}


def _principal_is(statement: dict[str, Any], account: str, role_arn: str) -> bool:
    principal = statement.get("Principal", {})
    names = principal.get("AWS", []) if isinstance(principal, dict) else [principal]
    names = [names] if isinstance(names, str) else list(names)
    if not any(
        n in ("*", account, f"arn:{PARTITION}:iam::{account}:root", role_arn) for n in names
    ):
        return False
    for operator, tests in statement.get("Condition", {}).items():
        for key, expected in tests.items():
            if key.lower() != "aws:principalarn":
                continue
            wanted = [expected] if isinstance(expected, str) else list(expected)
            if operator in ("ArnEquals", "StringEquals") and role_arn not in wanted:
                return False
            if operator in ("ArnLike", "StringLike") and not any(
                fnmatch.fnmatchcase(role_arn, w) for w in wanted
            ):
                return False
    return True


def _role_arn(account_id: str, role_name: str) -> str:
    """The role's ARN with its path, from moto's IAM (in this process); "" when unknown."""
    from moto.iam.models import iam_backends

    try:
        return str(iam_backends[account_id][PARTITION].get_role(role_name).arn)
    except Exception:  # no such role
        return ""


def _session_tags(params: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """``Tags.member.N.Key`` / ``.Value`` of a form-encoded STS request, in order."""
    parts = [k.split(".") for k in params if k.startswith("Tags.member.")]
    numbers = sorted({int(p[2]) for p in parts if len(p) == 4 and p[2].isdigit()})
    return tuple(
        (params.get(f"Tags.member.{n}.Key", ""), params.get(f"Tags.member.{n}.Value", ""))
        for n in numbers
    )


def _signer(environ: dict[str, Any], query: dict[str, list[str]]) -> tuple[str | None, str | None]:
    """The access key id and the service named in the SigV4 credential scope."""
    scope = environ.get("HTTP_AUTHORIZATION", "")
    if not scope and "X-Amz-Credential" in query:
        scope = "Credential=" + query["X-Amz-Credential"][0]
    match = _CREDENTIAL.search(scope)
    return (match.group(1), match.group(3)) if match else (None, None)


def _read_form(environ: dict[str, Any]) -> dict[str, str]:
    """The url-encoded body, read once and put back for moto to read again."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    if "x-www-form-urlencoded" not in environ.get("CONTENT_TYPE", ""):
        return {}
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}


def _int_param(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise validation_error(f"Value '{raw}' at '{name}' is not a valid integer") from None


def _call(app: WsgiApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Run the wrapped app and collect its whole answer, to look at it before sending."""
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        answer["status"], answer["headers"] = status, headers
        return chunks.append

    chunks: list[bytes] = []
    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return answer["status"], answer["headers"], b"".join(chunks)
