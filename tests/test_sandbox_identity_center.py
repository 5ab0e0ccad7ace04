"""The sandbox's Identity Center over HTTP: sso-oidc sign-in (device code, authorization code +
PKCE), the portal, role credentials that moto's STS takes, chaining into spoke roles, the AWS CLI."""

from __future__ import annotations

import base64
import hashlib
import http.client
import http.server
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from conftest import aws_cli_v2

from trayapp.sandbox import Sandbox

REGION = "eu-west-1"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEV, PROD = "111111111111", "333333333333"
DEV_DEVELOPER = f"arn:aws:iam::{DEV}:role/DEVELOPER"


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as running:
        yield running


def oidc(sandbox: Sandbox):
    return boto3.client("sso-oidc", endpoint_url=sandbox.endpoint_url, region_name=REGION)


def portal(sandbox: Sandbox):
    return boto3.client("sso", endpoint_url=sandbox.endpoint_url, region_name=REGION)


def sts(sandbox: Sandbox, creds: dict):
    return boto3.client(
        "sts",
        endpoint_url=sandbox.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=creds["accessKeyId"],
        aws_secret_access_key=creds["secretAccessKey"],
        aws_session_token=creds["sessionToken"],
    )


def register(sandbox: Sandbox, **extra) -> dict:
    return oidc(sandbox).register_client(clientName="aacli-test", clientType="public", **extra)


def start_device(sandbox: Sandbox, client: dict) -> dict:
    return oidc(sandbox).start_device_authorization(
        clientId=client["clientId"],
        clientSecret=client["clientSecret"],
        startUrl=sandbox.identity_center.start_url,
    )


def poll(sandbox: Sandbox, client: dict, device: dict) -> dict:
    return oidc(sandbox).create_token(
        clientId=client["clientId"],
        clientSecret=client["clientSecret"],
        grantType=DEVICE_GRANT,
        deviceCode=device["deviceCode"],
    )


def device_token(sandbox: Sandbox) -> tuple[dict, dict]:
    """A client and a token of the default user, signed in by the device flow."""
    client = register(sandbox)
    device = start_device(sandbox, client)
    assert sandbox.identity_center.approve(device["userCode"])
    return client, poll(sandbox, client, device)


def role_credentials(sandbox: Sandbox, token: str, account=DEV, role="AdministratorAccess"):
    answer = portal(sandbox).get_role_credentials(
        accessToken=token, accountId=account, roleName=role
    )
    return answer["roleCredentials"]


def error_of(info: pytest.ExceptionInfo) -> tuple[str, int, str | None]:
    """The error code, HTTP status and OAuth ``error`` field botocore parsed."""
    response = info.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response.get("error"),
    )


def http_get(url: str, method: str = "GET", body: str | None = None):
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read().decode()


class Loopback:
    """A one-shot 127.0.0.1 redirect listener, as a CLI's authorization-code sign-in runs."""

    def __init__(self) -> None:
        self.query: dict[str, str] = {}
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                split = urllib.parse.urlsplit(self.path)
                outer.query = dict(urllib.parse.parse_qsl(split.query))
                outer.path = split.path
                body = b"signed in"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.path = ""
        self.uri = f"http://127.0.0.1:{self.server.server_address[1]}/oauth/callback"
        self.thread = threading.Thread(target=self.server.handle_request, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.server_close()


def browse(url: str, hops: int = 5) -> list[tuple[int, str]]:
    """Follow 302s as a browser does; the (status, url) of every hop."""
    seen = []
    for _ in range(hops):
        status, headers, _ = http_get(url)
        seen.append((status, url))
        if status != 302:
            break
        url = urllib.parse.urljoin(url, headers["Location"])
    return seen


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def code_client(sandbox: Sandbox) -> dict:
    return register(
        sandbox,
        grantTypes=["authorization_code", "refresh_token"],
        redirectUris=["http://127.0.0.1/oauth/callback"],
        issuerUrl=sandbox.identity_center.start_url,
        scopes=["sso:account:access"],
    )


def authorize_url(sandbox: Sandbox, client: dict, redirect: str, challenge: str, state: str):
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": client["clientId"],
            "redirect_uri": redirect,
            "state": state,
            "code_challenge_method": "S256",
            "code_challenge": challenge,
            "scopes": "sso:account:access",
        }
    )
    return f"{sandbox.endpoint_url}/authorize?{query}"


# -- device flow -------------------------------------------------------------------------------
def test_device_flow_is_pending_until_approved_on_the_device_page(sandbox: Sandbox) -> None:
    """Issue 13, sandbox stand-in: the device flow answers authorization_pending until the user approves
    on the device page (GET shows the code, POST approves), then CreateToken gives a token."""
    client = register(sandbox)
    assert client["clientSecretExpiresAt"] > client["clientIdIssuedAt"] > 0
    device = start_device(sandbox, client)
    assert device["verificationUriComplete"].endswith(f"/device?user_code={device['userCode']}")
    assert device["interval"] >= 1 and device["expiresIn"] > 0
    with pytest.raises(ClientError) as pending:
        poll(sandbox, client, device)
    assert error_of(pending) == ("AuthorizationPendingException", 400, "authorization_pending")

    status, _, page = http_get(device["verificationUriComplete"])
    assert status == 200 and device["userCode"] in page and "alice" in page
    form = urllib.parse.urlencode({"user_code": device["userCode"], "decision": "allow"})
    status, _, page = http_get(f"{sandbox.endpoint_url}/device", "POST", form)
    assert status == 200 and "approved" in page

    time.sleep(device["interval"])
    token = poll(sandbox, client, device)
    assert token["tokenType"] == "Bearer" and token["expiresIn"] == 8 * 3600
    assert token["accessToken"] and token["refreshToken"]
    accounts = portal(sandbox).list_accounts(accessToken=token["accessToken"], maxResults=100)
    assert accounts["accountList"][0]["accountId"] == DEV
    with pytest.raises(ClientError) as used:
        poll(sandbox, client, device)  # a device code gives one token
    assert error_of(used)[0] == "InvalidGrantException"


def test_device_flow_polled_too_fast_is_told_to_slow_down(sandbox: Sandbox) -> None:
    """Issue 13, sandbox stand-in: polling CreateToken faster than the interval answers slow_down."""
    client = register(sandbox)
    device = start_device(sandbox, client)
    with pytest.raises(ClientError) as pending:
        poll(sandbox, client, device)
    assert error_of(pending)[0] == "AuthorizationPendingException"
    with pytest.raises(ClientError) as fast:
        poll(sandbox, client, device)
    assert error_of(fast) == ("SlowDownException", 400, "slow_down")
    sandbox.identity_center.approve(device["userCode"])
    time.sleep(device["interval"])
    assert poll(sandbox, client, device)["accessToken"]


def test_device_code_expires(sandbox: Sandbox) -> None:
    """Issue 13, sandbox stand-in: an expired device code answers expired_token, and its page says so."""
    client = register(sandbox)
    device = start_device(sandbox, client)
    sandbox.identity_center.expire_device_codes()
    with pytest.raises(ClientError) as expired:
        poll(sandbox, client, device)
    assert error_of(expired) == ("ExpiredTokenException", 400, "expired_token")
    assert not sandbox.identity_center.approve(device["userCode"])
    _, _, page = http_get(device["verificationUriComplete"])
    assert "unknown or has expired" in page


def test_device_flow_denied(sandbox: Sandbox) -> None:
    """Issue 13, sandbox stand-in: after deny_next() the device approval is a refusal: access_denied."""
    client = register(sandbox)
    device = start_device(sandbox, client)
    sandbox.identity_center.deny_next()
    assert sandbox.identity_center.approve(device["userCode"])
    with pytest.raises(ClientError) as denied:
        poll(sandbox, client, device)
    assert error_of(denied) == ("AccessDeniedException", 400, "access_denied")


def test_clients_are_checked(sandbox: Sandbox) -> None:
    """Issue 13, sandbox stand-in: a wrong client secret is invalid_client (401), a grant the client did
    not register is unauthorized_client, an authorization-code client needs loopback redirect
    URIs and an issuer URL, an expired registration must register again."""
    client = register(sandbox)
    with pytest.raises(ClientError) as wrong:
        oidc(sandbox).start_device_authorization(
            clientId=client["clientId"], clientSecret="wrong", startUrl="x"
        )
    assert error_of(wrong) == ("InvalidClientException", 401, "invalid_client")
    device_only = register(sandbox, grantTypes=[DEVICE_GRANT])
    with pytest.raises(ClientError) as unauthorized:
        oidc(sandbox).create_token(
            clientId=device_only["clientId"],
            clientSecret=device_only["clientSecret"],
            grantType="authorization_code",
            code="x",
            redirectUri="http://127.0.0.1/oauth/callback",
            codeVerifier="x" * 43,
        )
    assert error_of(unauthorized)[0] == "UnauthorizedClientException"
    with pytest.raises(ClientError) as outside:
        register(sandbox, grantTypes=["authorization_code"], redirectUris=["https://evil.test/"])
    assert error_of(outside)[0] == "InvalidRedirectUriException"
    with pytest.raises(ClientError) as no_issuer:
        register(sandbox, grantTypes=["authorization_code"], redirectUris=["http://127.0.0.1/"])
    assert error_of(no_issuer)[0] == "InvalidRequestException"
    sandbox.identity_center.expire_clients()
    with pytest.raises(ClientError) as stale:
        start_device(sandbox, client)
    assert error_of(stale)[0] == "InvalidClientException"
    assert start_device(sandbox, register(sandbox))["userCode"]


def test_faults_can_target_identity_center_operations(sandbox: Sandbox) -> None:
    """Issue 13, sandbox stand-in: sandbox.faults takes Identity Center operation names as actions."""
    no_retries = Config(retries={"total_max_attempts": 1, "mode": "standard"})
    client_api = boto3.client(
        "sso-oidc", endpoint_url=sandbox.endpoint_url, region_name=REGION, config=no_retries
    )
    sandbox.faults.next("503", action="StartDeviceAuthorization")
    client = register(sandbox)  # another operation: not affected
    with pytest.raises(ClientError) as failed:
        client_api.start_device_authorization(
            clientId=client["clientId"], clientSecret=client["clientSecret"], startUrl="x"
        )
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert start_device(sandbox, client)["userCode"]


# -- authorization code + PKCE -----------------------------------------------------------------
def test_authorization_code_with_pkce_followed_as_a_browser(sandbox: Sandbox) -> None:
    """Issue 13, sandbox stand-in: /authorize 302s to the start page, which signs the user in and 302s to
    the client's 127.0.0.1 redirect (any port) with code and state; the code + verifier give a
    token that works on the portal."""
    client = code_client(sandbox)
    assert client["authorizationEndpoint"] == f"{sandbox.endpoint_url}/authorize"
    verifier, challenge = pkce()
    state = secrets.token_urlsafe(12)
    loopback = Loopback()
    try:
        hops = browse(authorize_url(sandbox, client, loopback.uri, challenge, state))
        loopback.thread.join(5)
    finally:
        loopback.close()
    assert [status for status, _ in hops] == [302, 302, 200]
    assert urllib.parse.urlsplit(hops[1][1]).path == "/start"
    assert loopback.path == "/oauth/callback"
    assert loopback.query["state"] == state and loopback.query["code"]
    token = oidc(sandbox).create_token(
        clientId=client["clientId"],
        clientSecret=client["clientSecret"],
        grantType="authorization_code",
        code=loopback.query["code"],
        redirectUri=loopback.uri,
        codeVerifier=verifier,
    )
    assert token["refreshToken"]
    roles = portal(sandbox).list_account_roles(accessToken=token["accessToken"], accountId=PROD)
    assert [r["roleName"] for r in roles["roleList"]] == ["ReadOnlyAccess"]
    grants = [
        r.grant_type for r in sandbox.identity_center.requests if r.operation == "CreateToken"
    ]
    assert "authorization_code" in grants


def _code(sandbox: Sandbox, client: dict, redirect: str, challenge: str) -> str:
    _, headers, _ = http_get(authorize_url(sandbox, client, redirect, challenge, "s"))
    _, headers, _ = http_get(headers["Location"])
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(headers["Location"]).query))["code"]


def test_authorization_code_refused_for_a_wrong_verifier_or_redirect(sandbox: Sandbox) -> None:
    """Issue 13, sandbox stand-in: CreateToken checks the PKCE verifier against the challenge, the
    redirect URI and the client (invalid_grant); a code works once."""
    client = code_client(sandbox)
    verifier, challenge = pkce()
    redirect = "http://127.0.0.1:51234/oauth/callback"

    def exchange(code: str, **changes) -> dict:
        args = {
            "clientId": client["clientId"],
            "clientSecret": client["clientSecret"],
            "grantType": "authorization_code",
            "code": code,
            "redirectUri": redirect,
            "codeVerifier": verifier,
            **changes,
        }
        return oidc(sandbox).create_token(**args)

    for changes in (
        {"codeVerifier": pkce()[0]},
        {"redirectUri": "http://127.0.0.1:51235/oauth/callback"},
    ):
        with pytest.raises(ClientError) as refused:
            exchange(_code(sandbox, client, redirect, challenge), **changes)
        assert error_of(refused) == ("InvalidGrantException", 400, "invalid_grant")
    other = code_client(sandbox)
    with pytest.raises(ClientError) as foreign:
        exchange(
            _code(sandbox, client, redirect, challenge),
            clientId=other["clientId"],
            clientSecret=other["clientSecret"],
        )
    assert error_of(foreign)[0] == "InvalidGrantException"
    code = _code(sandbox, client, redirect, challenge)
    assert exchange(code)["accessToken"]
    with pytest.raises(ClientError) as again:
        exchange(code)
    assert error_of(again)[0] == "InvalidGrantException"


def test_authorize_refuses_foreign_redirects_and_reports_denial(sandbox: Sandbox) -> None:
    """Issue 13, sandbox stand-in: /authorize never redirects to a URI the client did not register (other
    host, other path); after deny_next() the browser comes back with error=access_denied and the
    state, and the sign-in after that works again."""
    client = code_client(sandbox)
    _, challenge = pkce()
    for foreign in ("http://evil.test/oauth/callback", "http://127.0.0.1:50999/elsewhere"):
        status, headers, page = http_get(authorize_url(sandbox, client, foreign, challenge, "s"))
        assert status == 400 and "Location" not in headers and "redirect URI" in page
    redirect = "http://127.0.0.1:50999/oauth/callback"
    sandbox.identity_center.deny_next()
    _, headers, _ = http_get(authorize_url(sandbox, client, redirect, challenge, "st8"))
    _, headers, _ = http_get(headers["Location"])
    assert headers["Location"].startswith(redirect + "?")
    answer = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(headers["Location"]).query))
    assert answer["error"] == "access_denied" and answer["state"] == "st8"
    assert "code" not in answer
    assert _code(sandbox, client, redirect, challenge)


def test_device_page_escapes_what_it_shows(sandbox: Sandbox) -> None:
    """Issue 13, sandbox stand-in: the pages are plain HTML with every value escaped."""
    ic = sandbox.identity_center
    status, _, page = http_get(f"{sandbox.endpoint_url}/device?user_code=%3Cscript%3E")
    assert status == 200 and "unknown or has expired" in page and "<script>" not in page
    device = start_device(sandbox, register(sandbox))
    ic.default_user = "<img src=x>"
    try:
        _, _, page = http_get(device["verificationUriComplete"])
    finally:
        ic.default_user = "alice"
    assert "Signed in as &lt;img src=x&gt;" in page and "<img" not in page


# -- tokens ------------------------------------------------------------------------------------
def test_refresh_tokens_rotate(sandbox: Sandbox) -> None:
    """Issue 13, sandbox stand-in: a refresh token gives a new access token and a new refresh token, and
    works once; another client cannot use it."""
    client, token = device_token(sandbox)

    def refresh(refresh_token: str, who: dict = client) -> dict:
        return oidc(sandbox).create_token(
            clientId=who["clientId"],
            clientSecret=who["clientSecret"],
            grantType="refresh_token",
            refreshToken=refresh_token,
        )

    with pytest.raises(ClientError) as foreign:
        refresh(token["refreshToken"], register(sandbox))
    assert error_of(foreign)[0] == "InvalidGrantException"
    renewed = refresh(token["refreshToken"])
    assert renewed["accessToken"] != token["accessToken"]
    assert renewed["refreshToken"] != token["refreshToken"]
    with pytest.raises(ClientError) as reused:
        refresh(token["refreshToken"])
    assert error_of(reused) == ("InvalidGrantException", 400, "invalid_grant")
    assert portal(sandbox).list_accounts(accessToken=renewed["accessToken"])["accountList"]
    assert refresh(renewed["refreshToken"])["accessToken"]


def test_expired_and_logged_out_tokens_are_unauthorized(sandbox: Sandbox) -> None:
    """Issue 13, sandbox stand-in: an expired access token, or one signed out with Logout, is refused by
    the portal (UnauthorizedException, 401); Logout ends the sign-in: its tokens, the ones
    refreshed from it and its refresh token, not another sign-in's."""
    client, token = device_token(sandbox)
    sso = portal(sandbox)
    sandbox.identity_center.expire_tokens()
    with pytest.raises(ClientError) as expired:
        role_credentials(sandbox, token["accessToken"])
    assert error_of(expired)[:2] == ("UnauthorizedException", 401)

    def refresh(refresh_token: str) -> dict:
        return oidc(sandbox).create_token(
            clientId=client["clientId"],
            clientSecret=client["clientSecret"],
            grantType="refresh_token",
            refreshToken=refresh_token,
        )

    renewed = refresh(token["refreshToken"])
    assert sso.list_accounts(accessToken=renewed["accessToken"])["accountList"]
    latest = refresh(renewed["refreshToken"])
    _, other = device_token(sandbox)  # another sign-in of the same user
    sso.logout(accessToken=latest["accessToken"])
    for ended in (latest, renewed):  # the whole sign-in ends, whichever token signs out
        with pytest.raises(ClientError) as signed_out:
            sso.list_accounts(accessToken=ended["accessToken"])
        assert error_of(signed_out)[:2] == ("UnauthorizedException", 401)
    assert sso.list_accounts(accessToken=other["accessToken"])["accountList"]
    with pytest.raises(ClientError) as dead:
        refresh(latest["refreshToken"])
    assert error_of(dead)[0] == "InvalidGrantException"
    with pytest.raises(ClientError) as missing:
        sso.list_accounts(accessToken="not-a-token")
    assert error_of(missing)[0] == "UnauthorizedException"


# -- portal ------------------------------------------------------------------------------------
def test_portal_lists_are_paginated(sandbox: Sandbox) -> None:
    """Issue 13, sandbox stand-in: ListAccounts and ListAccountRoles answer small pages with nextToken
    (whatever maxResults asks), so clients must paginate; botocore's paginators get them all."""
    _, token = device_token(sandbox)
    sso = portal(sandbox)
    first = sso.list_accounts(accessToken=token["accessToken"], maxResults=100)
    assert len(first["accountList"]) == 1 and first["nextToken"]
    second = sso.list_accounts(accessToken=token["accessToken"], nextToken=first["nextToken"])
    assert "nextToken" not in second
    pages = sso.get_paginator("list_accounts").paginate(accessToken=token["accessToken"])
    accounts = [(a["accountId"], a["accountName"]) for p in pages for a in p["accountList"]]
    assert accounts == [(DEV, "dev"), (PROD, "prod")]
    pages = sso.get_paginator("list_account_roles").paginate(
        accessToken=token["accessToken"], accountId=DEV
    )
    assert [r["roleName"] for p in pages for r in p["roleList"]] == [
        "AdministratorAccess",
        "ReadOnlyAccess",
    ]
    with pytest.raises(ClientError) as bad:
        sso.list_accounts(accessToken=token["accessToken"], nextToken="!!")
    assert error_of(bad)[0] == "InvalidRequestException"


def test_role_credentials_work_against_moto_sts(sandbox: Sandbox) -> None:
    """Issue 13, sandbox stand-in: GetRoleCredentials gives credentials whose GetCallerIdentity is the
    AWSReservedSSO_<permission set>_<hex> assumed role; an unassigned role is not found."""
    _, token = device_token(sandbox)
    creds = role_credentials(sandbox, token["accessToken"])
    expires = datetime.fromtimestamp(creds["expiration"] / 1000, timezone.utc)
    assert timedelta(minutes=55) < expires - datetime.now(timezone.utc) <= timedelta(hours=1)
    arn = sts(sandbox, creds).get_caller_identity()["Arn"]
    assert arn.startswith(f"arn:aws:sts::{DEV}:assumed-role/AWSReservedSSO_AdministratorAccess_")
    assert len(arn.split("/")[1].rsplit("_", 1)[1]) == 16 and arn.endswith("/alice")
    with pytest.raises(ClientError) as unassigned:
        role_credentials(sandbox, token["accessToken"], account=PROD, role="AdministratorAccess")
    assert error_of(unassigned)[:2] == ("ResourceNotFoundException", 404)
    assert any(i.arn == arn for i in sandbox.issued)  # in the ledger: console sign-in works


def test_role_credentials_expire_with_the_sandbox_lifetime_and_the_token(
    sandbox: Sandbox,
) -> None:
    """Issue 13, sandbox stand-in: the role credentials honour the sandbox's credential_lifetime (then STS
    refuses them) and never outlive the access token (ic.token_lifetime)."""
    ic = sandbox.identity_center
    ic.token_lifetime = 600
    try:
        _, token = device_token(sandbox)
        assert token["expiresIn"] == 600
        creds = role_credentials(sandbox, token["accessToken"])
        left = creds["expiration"] / 1000 - time.time()
        assert 590 < left <= 600
    finally:
        ic.token_lifetime = 8 * 3600
    sandbox.credential_lifetime = 1
    try:
        creds = role_credentials(sandbox, token["accessToken"])
    finally:
        sandbox.credential_lifetime = None
    time.sleep(1.5)
    with pytest.raises(ClientError) as expired:
        sts(sandbox, creds).get_caller_identity()
    assert expired.value.response["Error"]["Code"] == "ExpiredToken"


def test_federation_console_signin_with_role_credentials(sandbox: Sandbox) -> None:
    """Issue 13, sandbox stand-in: the federation endpoint signs permission-set credentials in."""
    _, token = device_token(sandbox)
    creds = role_credentials(sandbox, token["accessToken"], account=PROD, role="ReadOnlyAccess")
    session = json.dumps(
        {
            "sessionId": creds["accessKeyId"],
            "sessionKey": creds["secretAccessKey"],
            "sessionToken": creds["sessionToken"],
        }
    )
    query = urllib.parse.urlencode({"Action": "getSigninToken", "Session": session})
    status, _, body = http_get(f"{sandbox.federation_url}?{query}")
    assert status == 200 and json.loads(body)["SigninToken"]


# -- chaining into spoke roles -----------------------------------------------------------------
def test_permission_set_chains_into_developer_without_mfa(sandbox: Sandbox) -> None:
    """Issue 13, sandbox stand-in: a permission-set session assumes the spoke role DEVELOPER of its own
    account without MFA (1 h at most, as any chain); not in another account, and a chained
    DEVELOPER session cannot chain on; a hub IAM user without MFA is still refused."""
    _, token = device_token(sandbox)
    creds = role_credentials(sandbox, token["accessToken"])
    client = sts(sandbox, creds)
    chained = client.assume_role(RoleArn=DEV_DEVELOPER, RoleSessionName="alice")["Credentials"]
    developer = boto3.client(
        "sts",
        endpoint_url=sandbox.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=chained["AccessKeyId"],
        aws_secret_access_key=chained["SecretAccessKey"],
        aws_session_token=chained["SessionToken"],
    )
    assert developer.get_caller_identity()["Arn"] == (
        f"arn:aws:sts::{DEV}:assumed-role/DEVELOPER/alice"
    )
    with pytest.raises(ClientError) as long:
        client.assume_role(RoleArn=DEV_DEVELOPER, RoleSessionName="alice", DurationSeconds=7200)
    assert long.value.response["Error"]["Code"] == "ValidationError"
    for caller, role in (
        (client, f"arn:aws:iam::{PROD}:role/DEVELOPER"),
        (developer, f"arn:aws:iam::{DEV}:role/ReadOnly"),
    ):
        with pytest.raises(ClientError) as refused:
            caller.assume_role(RoleArn=role, RoleSessionName="alice")
        assert refused.value.response["Error"]["Code"] == "AccessDenied"

    hub = sandbox.add_hub_user(f"nomfa{secrets.token_hex(3)}")
    hub_sts = boto3.client(
        "sts",
        endpoint_url=sandbox.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=hub.access_key_id,
        aws_secret_access_key=hub.secret_access_key,
    )
    with pytest.raises(ClientError) as no_mfa:
        hub_sts.assume_role(RoleArn=DEV_DEVELOPER, RoleSessionName="hub")
    assert no_mfa.value.response["Error"]["Code"] == "AccessDenied"
    with_mfa = hub_sts.assume_role(
        RoleArn=DEV_DEVELOPER,
        RoleSessionName="hub",
        SerialNumber=hub.mfa_serial,
        TokenCode=sandbox.current_code(hub),
    )
    assert with_mfa["AssumedRoleUser"]["Arn"].endswith("assumed-role/DEVELOPER/hub")


def test_assignments_make_roles_in_moto(sandbox: Sandbox) -> None:
    """Issue 13, sandbox stand-in: ic.add_user / ic.assign give another user a permission set, backed by
    an AWSReservedSSO_ role in the account."""
    ic = sandbox.identity_center
    ic.add_user("bob")
    arn = ic.assign("bob", "stage", "PowerUserAccess")
    assert arn.startswith(
        "arn:aws:iam::222222222222:role/aws-reserved/sso.amazonaws.com/eu-west-1/"
        "AWSReservedSSO_PowerUserAccess_"
    )
    client = register(sandbox)
    device = start_device(sandbox, client)
    assert ic.approve(device["userCode"], user="bob")
    token = poll(sandbox, client, device)["accessToken"]
    accounts = portal(sandbox).list_accounts(accessToken=token)["accountList"]
    assert [a["accountId"] for a in accounts] == ["222222222222"]
    creds = role_credentials(sandbox, token, account="222222222222", role="PowerUserAccess")
    assert sts(sandbox, creds).get_caller_identity()["Arn"].endswith("/bob")
    assert ("GetRoleCredentials", "bob") in {(r.operation, r.user) for r in ic.requests}


# -- the AWS CLI -------------------------------------------------------------------------------
def cli_home(sandbox: Sandbox, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AACLI_"))}
    env.update(
        HOME=str(tmp_path),
        AWS_CONFIG_FILE=str(tmp_path / ".aws" / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / ".aws" / "credentials"),
    )
    env.update(sandbox.identity_center.aws_cli_environment(tmp_path / "aws-models"))
    return env


@pytest.mark.awscli
def test_aws_cli_uses_a_hand_written_sso_cache(sandbox: Sandbox, tmp_path: Path) -> None:
    """Issue 13, sandbox stand-in: the AWS CLI v2 reaches the sandbox's Identity Center (register-client)
    and, from ~/.aws/sso/cache/<sha1("corp")>.json and an sso-session profile, calls
    GetRoleCredentials: get-caller-identity shows the permission-set role."""
    aws = aws_cli_v2()
    env = cli_home(sandbox, tmp_path)
    ic = sandbox.identity_center
    registered = subprocess.run(
        [
            aws,
            "sso-oidc",
            "register-client",
            "--client-name",
            "cli",
            "--client-type",
            "public",
            "--region",
            REGION,
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert registered.returncode == 0, registered.stderr
    assert json.loads(registered.stdout)["clientId"]

    _, token = device_token(sandbox)
    cache = tmp_path / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True)
    expires = datetime.now(timezone.utc) + timedelta(hours=1)
    (cache / f"{hashlib.sha1(b'corp').hexdigest()}.json").write_text(
        json.dumps(
            {
                "startUrl": ic.start_url,
                "region": REGION,
                "accessToken": token["accessToken"],
                "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
    )
    (tmp_path / ".aws" / "config").write_text(
        "[profile corp-dev]\nsso_session = corp\nsso_account_id = 111111111111\n"
        "sso_role_name = AdministratorAccess\nregion = eu-west-1\n\n"
        f"[sso-session corp]\nsso_start_url = {ic.start_url}\nsso_region = {REGION}\n"
        "sso_registration_scopes = sso:account:access\n"
    )
    before = len(ic.requests)
    identity = subprocess.run(
        [aws, "sts", "get-caller-identity", "--profile", "corp-dev", "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert identity.returncode == 0, identity.stderr
    assert ":assumed-role/AWSReservedSSO_AdministratorAccess_" in json.loads(identity.stdout)["Arn"]
    assert "GetRoleCredentials" in [r.operation for r in ic.requests[before:]]


@pytest.mark.awscli
def test_aws_cli_signs_in_with_the_device_flow(sandbox: Sandbox, tmp_path: Path) -> None:
    """Issue 13, sandbox stand-in: ``aws sso login --sso-session corp --no-browser`` signs in with the
    device code the test approves, and its token then gives role credentials."""
    aws = aws_cli_v2()
    env = cli_home(sandbox, tmp_path)
    ic = sandbox.identity_center
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "config").write_text(
        "[profile corp-dev]\nsso_session = corp\nsso_account_id = 333333333333\n"
        "sso_role_name = ReadOnlyAccess\nregion = eu-west-1\n\n"
        f"[sso-session corp]\nsso_start_url = {ic.start_url}\nsso_region = {REGION}\n"
        "sso_registration_scopes = sso:account:access\n"
    )
    login = subprocess.Popen(
        [aws, "sso", "login", "--sso-session", "corp", "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**env, "BROWSER": "/bin/false"},
    )
    try:
        shown = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not re.search(r"[A-Z]{4}-[A-Z]{4}", shown):
            shown += login.stdout.readline()
        assert ic.approve(re.search(r"[A-Z]{4}-[A-Z]{4}", shown).group(0)), shown
        rest, _ = login.communicate(timeout=60)
    finally:
        if login.poll() is None:
            login.kill()
            login.wait()
    assert login.returncode == 0 and "Successfully logged into" in rest
    cached = tmp_path / ".aws" / "sso" / "cache" / f"{hashlib.sha1(b'corp').hexdigest()}.json"
    assert json.loads(cached.read_text())["startUrl"] == ic.start_url
    identity = subprocess.run(
        [aws, "sts", "get-caller-identity", "--profile", "corp-dev", "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert identity.returncode == 0, identity.stderr
    arn = json.loads(identity.stdout)["Arn"]
    assert arn.startswith("arn:aws:sts::333333333333:assumed-role/AWSReservedSSO_ReadOnlyAccess_")


def test_command_line_prints_the_start_url() -> None:
    """Issue 13, sandbox stand-in: ``python -m trayapp.sandbox`` prints the Identity Center start URL,
    where RegisterClient answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "trayapp.sandbox"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line or line.startswith("Press Ctrl-C"):
                break
            lines.append(line)
        start_url = next(ln.split()[-1] for ln in lines if ln.startswith("IC start URL:"))
        assert any(ln.startswith("IC region/user: eu-west-1, alice") for ln in lines)
        endpoint = start_url.removesuffix("/start")
        client = boto3.client("sso-oidc", endpoint_url=endpoint, region_name=REGION)
        assert client.register_client(clientName="x", clientType="public")["clientId"]
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
