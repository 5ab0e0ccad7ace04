"""AWS STS calls (botocore, imported only here and only when called) and their errors."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from trayapp.core.errors import (
    AccessDeniedError,
    DurationTooLongError,
    InvalidHubKeyError,
    NetworkError,
    StsError,
    ThrottledError,
    WrongCodeError,
)
from trayapp.core.model import Credentials

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
MAX_ATTEMPTS = 3  # in all (botocore standard retry mode): throttling, 5xx, dropped connections
TIMEOUT_ENV = "AACLI_STS_TIMEOUT"  # seconds, for both timeouts: slow links, and the tests


@dataclass(frozen=True)
class StsCaller:
    """Who calls STS, and where."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    region: str
    session_token: str | None = field(default=None, repr=False)
    endpoint_url: str | None = None


StsClientFactory = Callable[[StsCaller], Any]
UNSIGNED_SERVICES = frozenset({"sso", "sso-oidc"})


def endpoint_from_env(env: Mapping[str, str] | None = None) -> str | None:
    """The STS endpoint override, as the SDKs read it (``AWS_ENDPOINT_URL[_STS]``)."""
    env = os.environ if env is None else env
    return env.get("AWS_ENDPOINT_URL_STS") or env.get("AWS_ENDPOINT_URL") or None


def sso_endpoint_from_env(env: Mapping[str, str] | None = None) -> str | None:
    """The Identity Center endpoint override (sso-oidc and the portal; tests: the sandbox)."""
    env = os.environ if env is None else env
    for name in ("AWS_ENDPOINT_URL_SSO_OIDC", "AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL"):
        if env.get(name):
            return env[name]
    return None


def timeouts(env: Mapping[str, str] | None = None) -> tuple[float, float]:
    """(connect, read) timeouts of one attempt; ``AACLI_STS_TIMEOUT`` sets both.

    A call gives up after at most MAX_ATTEMPTS * (connect + read) plus botocore's backoff.
    """
    env = os.environ if env is None else env
    raw = env.get(TIMEOUT_ENV, "").strip()
    try:
        seconds = float(raw) if raw else 0.0
    except ValueError:
        seconds = 0.0
    if 0 < seconds <= 300:
        return seconds, seconds
    return CONNECT_TIMEOUT, READ_TIMEOUT


_SESSION_LOCK = threading.Lock()  # botocore sessions are not thread-safe; clients are


@functools.cache
def _botocore_session() -> Any:
    """One botocore session per process: building one loads the service models (~50 ms)."""
    import botocore.session

    # Our calls must not depend on (or break on) the files we edit, nor on AWS_PROFILE.
    return botocore.session.Session(
        session_vars={
            "profile": (None, None, None, None),
            "config_file": (None, None, os.devnull, None),
            "credentials_file": (None, None, os.devnull, None),
        }
    )


def make_client(service: str, caller: StsCaller) -> Any:
    """A botocore client of ``service`` ("sts", "iam", …) that reads nothing from the user's
    AWS files or AWS_PROFILE, with aacli's timeouts and bounded retries."""
    import botocore
    import botocore.config

    connect_timeout, read_timeout = timeouts()
    # Identity Center's sso-oidc and portal ("sso") calls are not signed: a bearer token or
    # nothing at all authorizes them, so they get no keys (the caller's are empty).
    unsigned = service in UNSIGNED_SERVICES
    extra: dict[str, Any] = {"signature_version": botocore.UNSIGNED} if unsigned else {}
    with _SESSION_LOCK:
        return _botocore_session().create_client(
            service,
            region_name=caller.region,
            endpoint_url=caller.endpoint_url,
            aws_access_key_id=None if unsigned else caller.access_key_id,
            aws_secret_access_key=None if unsigned else caller.secret_access_key,
            aws_session_token=None if unsigned else caller.session_token,
            config=botocore.config.Config(
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
                **extra,
            ),
        )


def make_sts_client(caller: StsCaller) -> Any:
    """A botocore STS client that reads nothing from the user's AWS files or AWS_PROFILE."""
    return make_client("sts", caller)


def assume_role(
    client: Any,
    *,
    role_arn: str,
    session_name: str,
    duration_seconds: int,
    mfa_serial: str | None,
    code: str | None,
    from_long_term_keys: bool = True,
    external_id: str | None = None,
    source_identity: str | None = None,
    tags: Sequence[tuple[str, str]] = (),
    transitive_tag_keys: Sequence[str] = (),
) -> Credentials:
    """AssumeRole; with ``mfa_serial`` and ``code`` when the caller is the hub user itself.

    ``external_id``, ``source_identity`` and session ``tags`` are sent when given: the role's
    trust policy may demand them (and must allow ``sts:TagSession``/``sts:SetSourceIdentity``).
    """
    params: dict[str, Any] = {
        "RoleArn": role_arn,
        "RoleSessionName": session_name,
        "DurationSeconds": duration_seconds,
    }
    if mfa_serial and code:
        params["SerialNumber"] = mfa_serial
        params["TokenCode"] = code
    if external_id:
        params["ExternalId"] = external_id
    if source_identity:
        params["SourceIdentity"] = source_identity
    if tags:
        params["Tags"] = [{"Key": key, "Value": value} for key, value in tags]
    if transitive_tag_keys:
        params["TransitiveTagKeys"] = list(transitive_tag_keys)
    sent = [
        f"session name '{session_name}'",
        f"source identity '{source_identity}'" if source_identity else "no source identity",
        "the role's external id" if external_id else "no external id",
    ]
    if tags:
        sent.append(f"{len(tags)} session tag{'s' if len(tags) != 1 else ''}")
    try:
        answer = client.assume_role(**params)
    except Exception as exc:
        raise map_error(
            exc,
            role_arn=role_arn,
            duration_seconds=duration_seconds,
            sent=", ".join(sent),
        ) from None
    return _credentials(answer, from_long_term_keys=from_long_term_keys)


@dataclass(frozen=True)
class CallerIdentity:
    """Who the keys belong to, as ``sts:GetCallerIdentity`` says (needs no permission)."""

    account: str
    arn: str
    user_id: str


def get_caller_identity(client: Any) -> CallerIdentity:
    """``sts:GetCallerIdentity``: the account and ARN of whoever signs with the client's keys."""
    try:
        answer = client.get_caller_identity()
    except Exception as exc:
        raise map_error(exc) from None
    return CallerIdentity(
        account=str(answer.get("Account", "")),
        arn=str(answer.get("Arn", "")),
        user_id=str(answer.get("UserId", "")),
    )


def caller_user_name(client: Any) -> str:
    """The hub IAM user's name, from the user ARN that ``sts:GetCallerIdentity`` returns."""
    try:
        arn = str(client.get_caller_identity()["Arn"])
    except Exception as exc:
        raise map_error(exc) from None
    kind, _, path = arn.partition(":user/")
    if not kind.startswith("arn:") or not path:
        raise StsError(f"The hub keys do not belong to an IAM user (GetCallerIdentity: {arn}).")
    return path.rsplit("/", 1)[-1]  # a user path (/team/alice) is not part of the name


def get_session_token(
    client: Any, *, duration_seconds: int, mfa_serial: str, code: str
) -> Credentials:
    """GetSessionToken with MFA: a session whose role assumptions need no further code."""
    try:
        answer = client.get_session_token(
            DurationSeconds=duration_seconds, SerialNumber=mfa_serial, TokenCode=code
        )
    except Exception as exc:
        raise map_error(exc, duration_seconds=duration_seconds) from None
    return _credentials(answer, from_long_term_keys=False)


def _credentials(answer: Mapping[str, Any], *, from_long_term_keys: bool) -> Credentials:
    raw = answer["Credentials"]
    expiration = raw["Expiration"]
    if isinstance(expiration, str):
        expiration = datetime.fromisoformat(expiration.replace("Z", "+00:00"))
    if expiration.tzinfo is None:
        expiration = expiration.replace(tzinfo=timezone.utc)
    return Credentials(
        access_key_id=raw["AccessKeyId"],
        secret_access_key=raw["SecretAccessKey"],
        session_token=raw["SessionToken"],
        expiration=expiration.astimezone(timezone.utc),
        assumed_role_arn=answer.get("AssumedRoleUser", {}).get("Arn", ""),
        from_long_term_keys=from_long_term_keys,
    )


_THROTTLING = {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests"}
_BAD_KEY = {
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
}


def map_error(
    exc: BaseException,
    *,
    role_arn: str | None = None,
    duration_seconds: int | None = None,
    sent: str = "",
) -> StsError:
    """One clear sentence for every failure a user can meet (never with a secret in it).

    ``sent``: the audit values of an AssumeRole (session name, source identity, …), named
    when the role refuses, since its trust policy may have conditions on them."""
    import botocore.exceptions as bex
    import botocore.parsers as bparsers

    if isinstance(exc, bex.ClientError):
        error = exc.response.get("Error", {})
        code = " ".join(str(error.get("Code", "")).split())
        message = str(error.get("Message", "")).strip()
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code == "AccessDenied" and role_arn and sent:
            return _audit_denied(message, role_arn, sent)
        return _map_client_error(code, message, status, role_arn, duration_seconds)
    if isinstance(exc, bex.ConnectTimeoutError | bex.ReadTimeoutError):
        return NetworkError("AWS STS did not answer in time; check the network and try again.")
    if isinstance(exc, bex.EndpointConnectionError | bex.ConnectionError):
        endpoint = getattr(exc, "kwargs", {}).get("endpoint_url", "AWS STS")
        return NetworkError(f"Could not connect to {endpoint}; check the network and try again.")
    if isinstance(exc, bex.ConnectionClosedError | bex.HTTPClientError):
        return NetworkError(
            "The connection to AWS STS broke before it answered; check the network and try again."
        )
    if isinstance(exc, bparsers.ResponseParserError):
        return StsError("AWS STS sent an answer that cannot be read; try again shortly.")
    if isinstance(exc, bex.NoCredentialsError | bex.PartialCredentialsError):
        return InvalidHubKeyError("The hub access key is incomplete; set it again.")
    if isinstance(exc, bex.BotoCoreError):
        return StsError(f"The call to AWS STS failed: {type(exc).__name__}.")
    return StsError(f"The call to AWS STS failed unexpectedly ({type(exc).__name__}).")


def _audit_denied(message: str, role: str, sent: str) -> StsError:
    """AssumeRole refused when aacli sent audit values: which permission or condition."""
    if "multifactorauthentication" in message.lower().replace(" ", ""):
        return _map_client_error("AccessDenied", message, 403, role, None)
    for action, what in (
        ("sts:TagSession", "session tags"),
        ("sts:SetSourceIdentity", "a source identity"),
    ):
        if action in message:
            return AccessDeniedError(
                f"The trust policy of {role} does not allow {what}: it must allow {action} "
                f"for the hub account, or remove them from the role in aacli's config."
            )
    return AccessDeniedError(
        f"The hub user is not allowed to assume {role}: check the role's trust policy (it must "
        f"trust the hub account, require MFA and accept what aacli sent: {sent}) and the hub "
        "user's sts:AssumeRole permission; 'aacli config show' lists the role's external id, "
        "session name and source identity."
    )


def _map_client_error(
    code: str, message: str, status: int, role_arn: str | None, duration: int | None
) -> StsError:
    lowered = message.lower()
    role = role_arn or "the role"
    if code == "AccessDenied" and "multifactorauthentication" in lowered.replace(" ", ""):
        return WrongCodeError(
            "AWS rejected the MFA code: it is wrong, expired or was already used. "
            "Wait for the next code and try again."
        )
    if code == "AccessDenied":
        return AccessDeniedError(
            f"The hub user is not allowed to assume {role}: check the role's trust policy "
            "(it must trust the hub account and require MFA) and the hub user's "
            "sts:AssumeRole permission."
        )
    if code == "ValidationError" and "durationseconds" in lowered.replace(" ", ""):
        if "role chaining" in lowered or "1 hour" in lowered:
            return DurationTooLongError(
                f"AWS allows at most 1 h for {role} when it is assumed from temporary "
                "credentials; lower the role's duration to 1h."
            )
        asked = f"{duration} s" if duration else "The requested duration"
        return DurationTooLongError(
            f"{asked} is longer than {role} allows (its MaxSessionDuration); lower the "
            "role's duration or raise the role's maximum in IAM."
        )
    if code in _BAD_KEY:
        return InvalidHubKeyError(
            "AWS does not accept the hub access key: it is wrong, inactive or deleted. "
            "Store the current key with 'aacli config set-key PROFILE'."
        )
    if code in _THROTTLING:
        return ThrottledError(
            "AWS is throttling requests (even after retries); try again in a minute."
        )
    if code == "RegionDisabledException":
        return StsError(
            "STS is not activated in this region for the account; use another sts_region."
        )
    if status >= 500 or code in {"InternalFailure", "ServiceUnavailable", "InternalError"}:
        return StsError(f"AWS STS had an internal error ({code or status}); try again shortly.")
    detail = f"{code}: {message}" if message else code or f"HTTP {status}"
    detail = " ".join(detail.split())  # the user sees one line, whatever AWS sent
    if len(detail) > 200:
        detail = detail[:197] + "..."
    return StsError(f"AWS STS refused the request ({detail}).")
