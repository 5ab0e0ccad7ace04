"""AWS console sign-in through the federation endpoint (getSigninToken, then login)."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from trayapp.core.errors import ConsoleError
from trayapp.core.model import Credentials

ISSUER = "aacli"
TIMEOUT = 15.0
MIN_SESSION_DURATION = 900
MAX_SESSION_DURATION = 43200

# partition -> (sign-in host, console host)
HOSTS: dict[str, tuple[str, str]] = {
    "aws": ("signin.aws.amazon.com", "console.aws.amazon.com"),
    "aws-us-gov": ("signin.amazonaws-us-gov.com", "console.amazonaws-us-gov.com"),
    "aws-cn": ("signin.amazonaws.cn", "console.amazonaws.cn"),
}

Fetch = Callable[[str, float], bytes]


@dataclass(frozen=True)
class SigninUrl:
    """A console sign-in URL. It holds a sign-in token: repr() never shows it."""

    url: str = field(repr=False)
    destination: str

    def __str__(self) -> str:
        return self.url


def federation_endpoint(partition: str, env: Mapping[str, str] | None = None) -> str:
    """``AACLI_FEDERATION_URL`` (the sandbox), else the partition's sign-in host."""
    env = os.environ if env is None else env
    override = env.get("AACLI_FEDERATION_URL")
    if override:
        return override
    signin, _ = HOSTS.get(partition, HOSTS["aws"])
    return f"https://{signin}/federation"


def default_destination(partition: str, region: str) -> str:
    """The console home of ``region``."""
    _, console = HOSTS.get(partition, HOSTS["aws"])
    query = urllib.parse.urlencode({"region": region})
    if partition == "aws":
        return f"https://{region}.{console}/console/home?{query}"
    return f"https://{console}/console/home?{query}"


def session_duration(creds: Credentials, now: datetime) -> int | None:
    """Console session length: the role session's remaining time, within AWS's bounds.

    AWS accepts SessionDuration only for roles assumed straight from long-term keys;
    for chained sessions (e.g. from an MFA session) it answers "Invalid credentials
    parameter", so none is sent and the console session lasts AWS's default.
    """
    if not creds.from_long_term_keys:
        return None
    left = int((creds.expiration - now).total_seconds())
    return max(MIN_SESSION_DURATION, min(MAX_SESSION_DURATION, left))


def token_request_url(endpoint: str, creds: Credentials, duration: int | None) -> str:
    session = json.dumps(
        {
            "sessionId": creds.access_key_id,
            "sessionKey": creds.secret_access_key,
            "sessionToken": creds.session_token,
        }
    )
    params: dict[str, str] = {"Action": "getSigninToken", "Session": session}
    if duration is not None:
        params["SessionDuration"] = str(duration)
    return f"{endpoint}?{urllib.parse.urlencode(params)}"


def login_url(endpoint: str, token: str, destination: str) -> SigninUrl:
    params = {
        "Action": "login",
        "Issuer": ISSUER,
        "Destination": destination,
        "SigninToken": token,
    }
    return SigninUrl(url=f"{endpoint}?{urllib.parse.urlencode(params)}", destination=destination)


def _fetch(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "aacli"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
        body: bytes = answer.read()
        return body


def signin_url(
    creds: Credentials,
    *,
    partition: str,
    region: str,
    now: datetime,
    destination: str | None = None,
    env: Mapping[str, str] | None = None,
    fetch: Fetch = _fetch,
    timeout: float = TIMEOUT,
) -> SigninUrl:
    """Exchange temporary credentials for a console sign-in URL."""
    endpoint = federation_endpoint(partition, env)
    host = urllib.parse.urlsplit(endpoint).netloc or endpoint
    target = destination or default_destination(partition, region)
    if not target.startswith(("https://", "http://")):
        raise ConsoleError("the destination must be an http(s) URL")
    url = token_request_url(endpoint, creds, session_duration(creds, now))
    try:
        body = fetch(url, timeout)
    except urllib.error.HTTPError as exc:
        # Never show the request URL: it carries the session's keys.
        raise ConsoleError(
            f"The AWS federation endpoint ({host}) refused the session (HTTP {exc.code}); "
            "the credentials may have expired: authenticate again."
        ) from None
    except TimeoutError:
        raise ConsoleError(
            f"The AWS federation endpoint ({host}) did not answer within {int(timeout)} s."
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConsoleError(
            f"Could not reach the AWS federation endpoint ({host}): {_reason(reason)}."
        ) from None
    try:
        data: Any = json.loads(body)
        token = data["SigninToken"]
        if not isinstance(token, str) or not token:
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise ConsoleError(
            f"The AWS federation endpoint ({host}) gave an answer without a sign-in token."
        ) from None
    return login_url(endpoint, token, target)


def _reason(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "timed out"
    text = getattr(reason, "strerror", None) or str(reason)
    return text[:120]
