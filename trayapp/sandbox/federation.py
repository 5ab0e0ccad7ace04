"""The sandbox's federation sign-in endpoint: getSigninToken (GET or POST) and login, for issued
credentials; a sign-in token works once, within 15 minutes, as at AWS."""

from __future__ import annotations

import hmac
import json
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from typing import Any
from urllib.parse import parse_qs

from trayapp.core.clock import Clock
from trayapp.sandbox.checker import StartResponse
from trayapp.sandbox.issued import IssuedCredentials, IssuedLedger

TOKEN_LIFETIME = timedelta(minutes=15)
MIN_SESSION_DURATION = 900
MAX_SESSION_DURATION = 43200
INVALID_CREDENTIALS = "Invalid credentials parameter"


@dataclass(frozen=True)
class ConsoleSignin:
    """One sign-in the federation endpoint granted (no token kept here)."""

    arn: str
    account_id: str
    destination: str
    issuer: str
    console_expires: datetime


@dataclass(frozen=True)
class _Grant:
    credentials: IssuedCredentials
    issued_at: datetime
    console_expires: datetime


class FederationApp:
    """WSGI app for ``/federation``: turns issued role credentials into a console sign-in."""

    def __init__(self, ledger: IssuedLedger, clock: Clock) -> None:
        self._ledger = ledger
        self._clock = clock
        self._grants: dict[str, _Grant] = {}
        self._signins: list[ConsoleSignin] = []
        self._lock = threading.Lock()

    @property
    def signins(self) -> list[ConsoleSignin]:
        with self._lock:
            return list(self._signins)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        params = _params(environ)
        action = params.get("Action", "")
        if action == "getSigninToken":
            status, content_type, body = self._get_signin_token(params)
        elif action == "login":
            status, content_type, body = self._login(params)
        else:
            status, content_type, body = _error("Unknown or missing Action parameter")
        payload = body.encode()
        start_response(
            status,
            [("Content-Type", content_type), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    def _get_signin_token(self, params: dict[str, str]) -> tuple[str, str, str]:
        try:
            session = json.loads(params.get("Session", ""))
            key_id, secret, token = (
                session["sessionId"],
                session["sessionKey"],
                session["sessionToken"],
            )
        except (ValueError, KeyError, TypeError):
            return _error(INVALID_CREDENTIALS)
        record = self._ledger.get(str(key_id))
        now = self._clock()
        if (
            record is None
            or not record.is_role_session  # AWS refuses GetSessionToken credentials here
            or not hmac.compare_digest(str(secret), record.secret_access_key)
            or not hmac.compare_digest(str(token), record.session_token)
            or record.expired(now)
        ):
            return _error(INVALID_CREDENTIALS)
        console_expires = record.expiration
        if "SessionDuration" in params:
            # Only sessions assumed straight from long-term keys may set a console duration.
            try:
                seconds = int(params["SessionDuration"])
            except ValueError:
                return _error(INVALID_CREDENTIALS)
            if not record.from_long_term_keys or not (
                MIN_SESSION_DURATION <= seconds <= MAX_SESSION_DURATION
            ):
                return _error(INVALID_CREDENTIALS)
            console_expires = now + timedelta(seconds=seconds)
        signin_token = secrets.token_urlsafe(96)
        with self._lock:
            self._forget_old_grants(now)
            self._grants[signin_token] = _Grant(record, now, console_expires)
        return "200 OK", "application/json", json.dumps({"SigninToken": signin_token})

    def _login(self, params: dict[str, str]) -> tuple[str, str, str]:
        destination = params.get("Destination", "")
        issuer = params.get("Issuer", "")
        now = self._clock()
        with self._lock:
            self._forget_old_grants(now)
            # As AWS: a sign-in token signs in once, within 15 minutes of its issue.
            grant = self._grants.pop(params.get("SigninToken", ""), None)
        if grant is None:
            return _error("Invalid or expired sign-in token")
        if not destination.startswith(("https://", "http://")):
            return _error("Invalid Destination parameter")
        record = grant.credentials
        who = record.arn.split(":", 5)[5]  # assumed-role/ROLE/SESSION
        with self._lock:
            self._signins.append(
                ConsoleSignin(
                    record.arn, record.account_id, destination, issuer, grant.console_expires
                )
            )
        page = (
            "<!doctype html><html><head><title>AWS sandbox console</title></head><body>"
            f"<h1>Signed in as {escape(who)} in account {escape(record.account_id)}"
            " (sandbox console)</h1>"
            f'<p>Destination: <a href="{escape(destination)}">{escape(destination)}</a></p>'
            f"<p>Issuer: {escape(issuer)}</p>"
            f"<p>Console session ends at {grant.console_expires:%Y-%m-%d %H:%M:%S} UTC</p>"
            "</body></html>"
        )
        return "200 OK", "text/html; charset=utf-8", page

    def _forget_old_grants(self, now: datetime) -> None:
        for token in [t for t, g in self._grants.items() if now - g.issued_at >= TOKEN_LIFETIME]:
            del self._grants[token]


def _error(message: str) -> tuple[str, str, str]:
    page = (
        "<!doctype html><html><head><title>Error</title></head><body>"
        f"<h1>400 Bad Request</h1><p>{escape(message)}</p></body></html>"
    )
    return "400 Bad Request", "text/html; charset=utf-8", page


def _params(environ: dict[str, Any]) -> dict[str, str]:
    params = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    if environ.get("REQUEST_METHOD") == "POST":
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length).decode("utf-8", "replace") if length else ""
        params.update({k: v[0] for k, v in parse_qs(body).items()})
    return params
