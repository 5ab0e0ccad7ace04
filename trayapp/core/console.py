"""AWS console sign-in through the federation endpoint (getSigninToken, then login)."""

from __future__ import annotations

import ipaddress
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

# AWS asks for the URL of the issuer's sign-in page (the "sign in again" link when the console
# session ends). aacli has no web page; a reserved .invalid name can never lead anywhere hostile.
ISSUER = "https://aacli.invalid/"
TIMEOUT = 15.0
MIN_SESSION_DURATION = 900
MAX_SESSION_DURATION = 43200

# partition -> (sign-in host, console host)
HOSTS: dict[str, tuple[str, str]] = {
    "aws": ("signin.aws.amazon.com", "console.aws.amazon.com"),
    "aws-us-gov": ("signin.amazonaws-us-gov.com", "console.amazonaws-us-gov.com"),
    "aws-cn": ("signin.amazonaws.cn", "console.amazonaws.cn"),
}

# (url, form body for a POST, timeout) -> answer body
Fetch = Callable[[str, bytes, float], bytes]
LOOPBACK_NAMES = ("localhost",)


@dataclass(frozen=True)
class SigninUrl:
    """A console sign-in URL. It holds a sign-in token: repr() never shows it."""

    url: str = field(repr=False)
    destination: str

    def __str__(self) -> str:
        return self.url


def federation_endpoint(partition: str, env: Mapping[str, str] | None = None) -> str:
    """The partition's https sign-in host, or ``AACLI_FEDERATION_URL`` when it points at this
    machine (the sandbox): anywhere else it would receive the session's keys, so it is refused."""
    env = os.environ if env is None else env
    override = env.get("AACLI_FEDERATION_URL")
    if override:
        if not _is_loopback_url(override):
            raise ConsoleError(
                "AACLI_FEDERATION_URL must point at this machine (127.0.0.1, ::1 or localhost: "
                "the sandbox); unset it to sign in through AWS."
            )
        return override
    signin, _ = HOSTS.get(partition, HOSTS["aws"])
    return f"https://{signin}/federation"


def _is_loopback_url(url: str) -> bool:
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018  # a malformed port raises here
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host or parts.username is not None:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_destination(partition: str, url: str) -> str:
    """``url`` if it is an https page of the partition's console, else a ConsoleError."""
    _, console = HOSTS.get(partition, HOSTS["aws"])
    refusal = ConsoleError(
        f"The destination must be an https page of the AWS console ({console} or a "
        f"region's *.{console}); {_shown(url)} is not."
    )
    # A browser reads "\\" as "/" and drops tabs and newlines: such a URL may name another host.
    if any(ch == "\\" or ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url):
        raise refusal
    try:
        parts = urllib.parse.urlsplit(url)
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        raise refusal from None
    if (
        parts.scheme != "https"
        or parts.username is not None
        or port not in (None, 443)
        or not (host == console or host.endswith("." + console))
    ):
        raise refusal
    return url


def _shown(url: str) -> str:
    text = url if len(url) <= 80 else url[:77] + "..."
    return repr(text)


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


def token_request_body(creds: Credentials, duration: int | None) -> bytes:
    """The getSigninToken form, sent as a POST body: the session's keys never go in a URL."""
    session = json.dumps(
        {
            "sessionId": creds.access_key_id,
            "sessionKey": creds.secret_access_key,
            "sessionToken": creds.session_token,
        }
    )
    params: dict[str, str] = {"Action": "getSigninToken"}
    if duration is not None:
        params["SessionDuration"] = str(duration)
    params["Session"] = session
    return urllib.parse.urlencode(params).encode("ascii")


def login_url(endpoint: str, token: str, destination: str) -> SigninUrl:
    params = {
        "Action": "login",
        "Issuer": ISSUER,
        "Destination": destination,
        "SigninToken": token,
    }
    return SigninUrl(url=f"{endpoint}?{urllib.parse.urlencode(params)}", destination=destination)


def _fetch(url: str, form: bytes, timeout: float) -> bytes:
    request = urllib.request.Request(  # noqa: S310  # the endpoint is https or loopback
        url,
        data=form,
        method="POST",
        headers={"User-Agent": "aacli", "Content-Type": "application/x-www-form-urlencoded"},
    )
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
    target = check_destination(partition, destination or default_destination(partition, region))
    form = token_request_body(creds, session_duration(creds, now))
    try:
        body = fetch(endpoint, form, timeout)
    except urllib.error.HTTPError as exc:
        # Never show the request: it carries the session's keys.
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
