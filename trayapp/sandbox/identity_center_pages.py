"""The sandbox Identity Center's browser pages: ``/authorize`` (the authorization-code start,
as on oidc.<region>.amazonaws.com), ``/start`` (the access portal, which signs the default user
in and sends the browser back to the client's loopback redirect URI with code and state) and
``/device`` (the device-code verification page). Plain HTML, every value escaped.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

from trayapp.sandbox.checker import StartResponse
from trayapp.sandbox.identity_center_oidc import CODE_GRANT
from trayapp.sandbox.identity_center_records import ApiError, Client, loopback_match

if TYPE_CHECKING:
    from trayapp.sandbox.identity_center import IdentityCenter


@dataclass(frozen=True)
class _Authorization:
    """An /authorize request waiting for the start page's sign-in."""

    client: Client
    redirect_uri: str
    state: str
    challenge: str
    scopes: tuple[str, ...]


def _with_query(uri: str, params: dict[str, str]) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


class SignInPages:
    """WSGI app for the pages; the state they change lives in the IdentityCenter."""

    def __init__(self, ic: IdentityCenter) -> None:
        self._ic = ic
        self._pending: dict[str, _Authorization] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        params = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if environ.get("REQUEST_METHOD") == "POST":
            params.update(_form(environ))
        if path == "/authorize":
            return self._authorize(params, start_response)
        if path == "/start":
            return self._start(params, start_response)
        if environ.get("REQUEST_METHOD") == "POST":
            return self._device_decision(params, start_response)
        return self._device_page(params, start_response)

    def _authorize(self, params: dict[str, str], start_response: StartResponse) -> list[bytes]:
        try:
            client = self._ic.client(params.get("client_id", ""))
        except ApiError:
            return _page(start_response, "400 Bad Request", "Sign-in failed", "Unknown client.")
        redirect_uri = params.get("redirect_uri", "")
        if CODE_GRANT not in client.grant_types or not any(
            loopback_match(registered, redirect_uri) for registered in client.redirect_uris
        ):
            # Never send a browser to a URI the client did not register.
            return _page(
                start_response, "400 Bad Request", "Sign-in failed", "Invalid redirect URI."
            )
        state = params.get("state", "")
        if params.get("response_type") != "code":
            error = {"error": "unsupported_response_type", "state": state}
            return _redirect(start_response, _with_query(redirect_uri, error))
        challenge = params.get("code_challenge", "")
        if not challenge or params.get("code_challenge_method") != "S256":
            error = {"error": "invalid_request", "state": state}
            return _redirect(start_response, _with_query(redirect_uri, error))
        scopes = tuple((params.get("scopes") or params.get("scope") or "").split())
        request_id = secrets.token_urlsafe(24)
        with self._lock:
            self._pending[request_id] = _Authorization(
                client, redirect_uri, state, challenge, scopes
            )
        start = _with_query(self._ic.start_url, {"authorization": request_id})
        return _redirect(start_response, start)

    def _start(self, params: dict[str, str], start_response: StartResponse) -> list[bytes]:
        request_id = params.get("authorization")
        if request_id is None:
            who = f"Signed in as {self._ic.default_user}."
            return _page(start_response, "200 OK", "AWS access portal (sandbox)", who)
        with self._lock:
            pending = self._pending.pop(request_id, None)
        if pending is None:
            return _page(
                start_response, "400 Bad Request", "Sign-in failed", "This sign-in has expired."
            )
        if self._ic.take_denial():
            answer = {
                "error": "access_denied",
                "error_description": "The user denied the request",
                "state": pending.state,
            }
        else:
            code = self._ic.issue_code(
                pending.client, pending.redirect_uri, pending.challenge, pending.scopes
            )
            answer = {"code": code, "state": pending.state}
        return _redirect(start_response, _with_query(pending.redirect_uri, answer))

    def _device_page(self, params: dict[str, str], start_response: StartResponse) -> list[bytes]:
        user_code = params.get("user_code", "")
        if user_code and self._ic.device_pending(user_code):
            code = escape(user_code.upper())
            user = escape(self._ic.default_user)
            body = (
                f"<p>Signed in as {user}. Allow access for the request with code "
                f"<strong>{code}</strong>?</p>"
                '<form method="post" action="/device">'
                f'<input type="hidden" name="user_code" value="{code}">'
                '<button name="decision" value="allow">Allow</button> '
                '<button name="decision" value="deny">Deny</button></form>'
            )
            return _page(start_response, "200 OK", "Authorize request", body, raw=True)
        note = "<p>That code is unknown or has expired.</p>" if user_code else ""
        body = (
            f'{note}<form method="get" action="/device">'
            '<label>Code <input name="user_code"></label> <button>Next</button></form>'
        )
        return _page(start_response, "200 OK", "Enter the code", body, raw=True)

    def _device_decision(
        self, params: dict[str, str], start_response: StartResponse
    ) -> list[bytes]:
        allow = params.get("decision", "allow") != "deny"
        if not self._ic.approve(params.get("user_code", ""), allow=allow):
            return _page(
                start_response, "400 Bad Request", "Request failed", "Unknown or expired code."
            )
        message = "Request approved." if allow else "Request denied."
        return _page(start_response, "200 OK", message, "You can close this window.")


def _form(environ: dict[str, Any]) -> dict[str, str]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(min(length, 65536)) if length > 0 else b""
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}


def _redirect(start_response: StartResponse, location: str) -> list[bytes]:
    start_response("302 Found", [("Location", location), ("Content-Length", "0")])
    return [b""]


def _page(
    start_response: StartResponse, status: str, title: str, body: str, *, raw: bool = False
) -> list[bytes]:
    content = body if raw else f"<p>{escape(body)}</p>"
    page = (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>"
        f"{content}</body></html>"
    ).encode()
    start_response(
        status,
        [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(page)))],
    )
    return [page]
