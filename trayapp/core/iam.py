"""AWS IAM calls on the caller's own access keys (botocore, imported only when called), and
their errors: the IAM counterpart of sts.py, sharing its session, timeouts and retries."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from trayapp.core.errors import (
    AccessDeniedError,
    InvalidHubKeyError,
    NetworkError,
    StsError,
    ThrottledError,
)
from trayapp.core.sts import StsCaller


class IamError(StsError):
    """An AWS IAM call failed; the message says why in one sentence."""


class KeyLimitError(IamError):
    """The IAM user already has the two access keys AWS allows."""


class MfaRequiredError(AccessDeniedError):
    """The hub user's policy allows managing its own keys only with MFA."""


@dataclass(frozen=True)
class AccessKey:
    """One access key of an IAM user, as ListAccessKeys tells it (no secret)."""

    access_key_id: str
    status: str  # "Active" | "Inactive"
    created: datetime


@dataclass(frozen=True)
class NewAccessKey:
    """What CreateAccessKey returns: the only moment AWS ever shows the secret."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    created: datetime


def endpoint_from_env(env: Mapping[str, str] | None = None) -> str | None:
    """The IAM endpoint override, as the SDKs read it (``AWS_ENDPOINT_URL[_IAM]``)."""
    env = os.environ if env is None else env
    return env.get("AWS_ENDPOINT_URL_IAM") or env.get("AWS_ENDPOINT_URL") or None


def make_iam_client(caller: StsCaller) -> Any:
    """A botocore IAM client that reads nothing from the user's AWS files or AWS_PROFILE.

    IAM is global: the region only picks the partition's endpoint.
    """
    from trayapp.core.sts import make_client

    return make_client("iam", caller)


def list_access_keys(client: Any, user_name: str, *, with_mfa: bool = False) -> list[AccessKey]:
    try:
        answer = client.list_access_keys(UserName=user_name)
    except Exception as exc:
        raise map_error(exc, "ListAccessKeys", with_mfa=with_mfa) from None
    return [
        AccessKey(key["AccessKeyId"], key["Status"], _aware(key["CreateDate"]))
        for key in answer.get("AccessKeyMetadata", [])
    ]


def create_access_key(client: Any, user_name: str, *, with_mfa: bool = False) -> NewAccessKey:
    try:
        key = client.create_access_key(UserName=user_name)["AccessKey"]
    except Exception as exc:
        raise map_error(exc, "CreateAccessKey", with_mfa=with_mfa) from None
    return NewAccessKey(key["AccessKeyId"], key["SecretAccessKey"], _aware(key["CreateDate"]))


def set_key_status(
    client: Any, user_name: str, access_key_id: str, status: str, *, with_mfa: bool = False
) -> None:
    """UpdateAccessKey; a key that no longer exists counts as done when made Inactive."""
    try:
        client.update_access_key(UserName=user_name, AccessKeyId=access_key_id, Status=status)
    except Exception as exc:
        if status == "Inactive" and _code(exc) == "NoSuchEntity":
            return
        raise map_error(exc, "UpdateAccessKey", with_mfa=with_mfa) from None


def delete_access_key(
    client: Any, user_name: str, access_key_id: str, *, with_mfa: bool = False
) -> None:
    """DeleteAccessKey; a key already gone counts as deleted."""
    try:
        client.delete_access_key(UserName=user_name, AccessKeyId=access_key_id)
    except Exception as exc:
        if _code(exc) == "NoSuchEntity":
            return
        raise map_error(exc, "DeleteAccessKey", with_mfa=with_mfa) from None


def _aware(moment: datetime | str) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


_THROTTLING = {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests"}
_BAD_KEY = {"InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidAccessKeyId"}


def map_error(exc: BaseException, action: str, *, with_mfa: bool = False) -> StsError:
    """One clear sentence for every IAM failure a user can meet (never with a secret in it)."""
    import botocore.exceptions as bex

    if isinstance(exc, bex.ClientError):
        error = exc.response.get("Error", {})
        code = " ".join(str(error.get("Code", "")).split())
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        message = " ".join(str(error.get("Message", "")).split())
        return _client_error(code, message, status, action, with_mfa)
    if isinstance(exc, bex.ConnectTimeoutError | bex.ReadTimeoutError):
        return NetworkError("AWS IAM did not answer in time; check the network and try again.")
    if isinstance(exc, bex.EndpointConnectionError | bex.ConnectionError):
        endpoint = getattr(exc, "kwargs", {}).get("endpoint_url", "AWS IAM")
        return NetworkError(f"Could not connect to {endpoint}; check the network and try again.")
    if isinstance(exc, bex.BotoCoreError):
        return IamError(f"The call to AWS IAM failed: {type(exc).__name__}.")
    return IamError(f"The call to AWS IAM failed unexpectedly ({type(exc).__name__}).")


def _client_error(code: str, message: str, status: int, action: str, with_mfa: bool) -> StsError:
    if code in ("AccessDenied", "AccessDeniedException") and not with_mfa:
        return MfaRequiredError(
            f"AWS refused iam:{action} without MFA: the hub user's policy needs an MFA code "
            "to manage its own keys."
        )
    if code in ("AccessDenied", "AccessDeniedException"):
        return AccessDeniedError(
            f"The hub user is not allowed to call iam:{action} on its own keys: add the "
            "statement of the README's 'Rotating the hub key' to its IAM policy."
        )
    if code == "LimitExceeded":
        return KeyLimitError(
            "The hub user already has two access keys, the most AWS allows; delete the one "
            "aacli does not use, then rotate again."
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
    if status >= 500 or code in {"InternalFailure", "ServiceUnavailable", "ServiceFailure"}:
        return IamError(f"AWS IAM had an internal error ({code or status}); try again shortly.")
    detail = f"{code}: {message}" if message else code or f"HTTP {status}"
    if len(detail) > 200:
        detail = detail[:197] + "..."
    return IamError(f"AWS IAM refused iam:{action} ({detail}).")
