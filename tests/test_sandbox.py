"""The local AWS sandbox over HTTP: MFA, durations, keys, issued credentials, federation."""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone

import boto3
import pyotp
import pytest
from botocore.exceptions import ClientError

from trayapp.sandbox import HubUser, Sandbox

REGION = "us-east-1"
DEV_DEVELOPER = "arn:aws:iam::111111111111:role/DEVELOPER"
DEV_READONLY = "arn:aws:iam::111111111111:role/ReadOnly"
MFA_MESSAGE = "MultiFactorAuthentication failed with invalid MFA one time pass code. "
_names = itertools.count()


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as running:
        yield running


@pytest.fixture
def user(sandbox: Sandbox) -> HubUser:
    """A hub user with a device of its own, so no test spends another test's codes."""
    return sandbox.add_hub_user(f"tester{next(_names)}")


def sts(sandbox: Sandbox, key: str, secret: str, token: str | None = None):
    return boto3.client(
        "sts",
        endpoint_url=sandbox.endpoint_url,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
    )


def hub_sts(sandbox: Sandbox, user: HubUser):
    return sts(sandbox, user.access_key_id, user.secret_access_key)


def creds_sts(sandbox: Sandbox, creds: dict):
    return sts(sandbox, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def assume(client, role_arn: str = DEV_DEVELOPER, **kwargs) -> dict:
    return client.assume_role(RoleArn=role_arn, RoleSessionName="tester", **kwargs)["Credentials"]


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    response = excinfo.value.response
    return (
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Code"],
        response["Error"]["Message"],
    )


def wrong_code(user: HubUser) -> str:
    totp = pyotp.TOTP(user.mfa_seed)
    now = datetime.now(timezone.utc)
    valid = {totp.at(now, counter_offset=offset) for offset in (-1, 0, 1, 2)}
    return next(
        code for code in ("000000", "111111", "222222", "333333", "444444") if code not in valid
    )


def federation(sandbox: Sandbox, **params: str) -> tuple[int, str]:
    url = sandbox.federation_url + "?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def session_json(creds: dict) -> str:
    return json.dumps(
        {
            "sessionId": creds["AccessKeyId"],
            "sessionKey": creds["SecretAccessKey"],
            "sessionToken": creds["SessionToken"],
        }
    )


def test_provisioned_world(sandbox: Sandbox) -> None:
    assert sandbox.endpoint_url.startswith("http://127.0.0.1:")
    assert sandbox.federation_url == sandbox.endpoint_url + "/federation"
    assert sandbox.accounts == {
        "dev": "111111111111",
        "stage": "222222222222",
        "prod": "333333333333",
    }
    assert sandbox.roles["prod"] == {"DEVELOPER": 43200, "ReadOnly": 3600}
    hub = sandbox.hub
    assert hub.user_arn == f"arn:aws:iam::{hub.account_id}:user/alice"
    assert hub.mfa_serial == f"arn:aws:iam::{hub.account_id}:mfa/alice"
    identity = hub_sts(sandbox, hub).get_caller_identity()
    assert identity["Arn"] == hub.user_arn
    iam = boto3.client(
        "iam",
        endpoint_url=sandbox.endpoint_url,
        region_name=REGION,
        aws_access_key_id=hub.access_key_id,
        aws_secret_access_key=hub.secret_access_key,
    )
    devices = iam.list_mfa_devices(UserName="alice")["MFADevices"]
    assert [d["SerialNumber"] for d in devices] == [hub.mfa_serial]


def test_secrets_stay_out_of_repr(sandbox: Sandbox, user: HubUser) -> None:
    text = repr(user)
    assert user.secret_access_key not in text
    assert user.mfa_seed not in text
    assert user.access_key_id in text
    assume(
        hub_sts(sandbox, user), SerialNumber=user.mfa_serial, TokenCode=sandbox.current_code(user)
    )
    record = next(r for r in sandbox.issued if r.user_name == user.user_name)
    assert record.secret_access_key not in repr(record)
    assert record.session_token not in repr(record)


def test_assume_role_with_mfa(sandbox: Sandbox) -> None:
    hub = sandbox.hub
    creds = assume(
        hub_sts(sandbox, hub),
        SerialNumber=hub.mfa_serial,
        TokenCode=sandbox.current_code(),
        DurationSeconds=43200,
    )
    remaining = creds["Expiration"] - datetime.now(timezone.utc)
    assert timedelta(hours=11, minutes=58) < remaining <= timedelta(hours=12)
    identity = creds_sts(sandbox, creds).get_caller_identity()
    assert identity["Account"] == "111111111111"
    assert identity["Arn"] == "arn:aws:sts::111111111111:assumed-role/DEVELOPER/tester"
    record = next(r for r in sandbox.issued if r.access_key_id == creds["AccessKeyId"])
    assert record.account_id == "111111111111"
    assert record.arn == identity["Arn"]
    assert record.from_long_term_keys
    assert record.session_token == creds["SessionToken"]


def test_wrong_code_is_refused(sandbox: Sandbox, user: HubUser) -> None:
    with pytest.raises(ClientError) as excinfo:
        assume(hub_sts(sandbox, user), SerialNumber=user.mfa_serial, TokenCode=wrong_code(user))
    assert error_of(excinfo) == (403, "AccessDenied", MFA_MESSAGE)


def test_reused_code_is_refused(sandbox: Sandbox, user: HubUser) -> None:
    client = hub_sts(sandbox, user)
    code = sandbox.current_code(user)
    assume(client, SerialNumber=user.mfa_serial, TokenCode=code)
    with pytest.raises(ClientError) as excinfo:
        assume(client, DEV_READONLY, SerialNumber=user.mfa_serial, TokenCode=code)
    assert error_of(excinfo) == (403, "AccessDenied", MFA_MESSAGE)
    # The next window's code is still good: only the spent one is refused.
    assume(client, DEV_READONLY, SerialNumber=user.mfa_serial, TokenCode=sandbox.next_code(user))


@pytest.mark.parametrize(("role_arn", "duration"), [(DEV_DEVELOPER, 43201), (DEV_READONLY, 3601)])
def test_duration_above_role_max(
    sandbox: Sandbox, user: HubUser, role_arn: str, duration: int
) -> None:
    with pytest.raises(ClientError) as excinfo:
        assume(
            hub_sts(sandbox, user),
            role_arn,
            SerialNumber=user.mfa_serial,
            TokenCode=sandbox.current_code(user),
            DurationSeconds=duration,
        )
    assert error_of(excinfo) == (
        400,
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    )
    # A refused request does not spend the code.
    assume(
        hub_sts(sandbox, user),
        role_arn,
        SerialNumber=user.mfa_serial,
        TokenCode=sandbox.current_code(user),
    )


def test_no_mfa_is_not_authorized(sandbox: Sandbox) -> None:
    hub = sandbox.hub
    with pytest.raises(ClientError) as excinfo:
        assume(hub_sts(sandbox, hub))
    assert error_of(excinfo) == (
        403,
        "AccessDenied",
        f"User: arn:aws:iam::{hub.account_id}:user/alice is not authorized to perform: "
        "sts:AssumeRole on resource: arn:aws:iam::111111111111:role/DEVELOPER",
    )


def test_unknown_role_is_not_authorized(sandbox: Sandbox, user: HubUser) -> None:
    with pytest.raises(ClientError) as excinfo:
        assume(
            hub_sts(sandbox, user),
            "arn:aws:iam::111111111111:role/Admin",
            SerialNumber=user.mfa_serial,
            TokenCode=sandbox.current_code(user),
        )
    status, code, message = error_of(excinfo)
    assert (status, code) == (403, "AccessDenied")
    assert message.endswith("on resource: arn:aws:iam::111111111111:role/Admin")


def test_unknown_key_is_invalid(sandbox: Sandbox) -> None:
    client = sts(sandbox, "AKIAUNKNOWNUNKNOWN00", "not-a-secret")
    for call in (client.get_caller_identity, lambda: assume(client)):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo) == (
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        )


def test_mfa_session_then_assume_without_code(sandbox: Sandbox, user: HubUser) -> None:
    session = hub_sts(sandbox, user).get_session_token(
        SerialNumber=user.mfa_serial, TokenCode=sandbox.current_code(user), DurationSeconds=3600
    )["Credentials"]
    client = creds_sts(sandbox, session)
    assert client.get_caller_identity()["Arn"] == user.user_arn
    with pytest.raises(ClientError) as excinfo:
        assume(client, DurationSeconds=3601)
    assert error_of(excinfo) == (
        400,
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit "
        "for roles assumed by role chaining.",
    )
    creds = assume(client, DurationSeconds=3600)
    assert creds_sts(sandbox, creds).get_caller_identity()["Account"] == "111111111111"
    record = next(r for r in sandbox.issued if r.access_key_id == creds["AccessKeyId"])
    assert not record.from_long_term_keys


def test_session_without_mfa_cannot_assume(sandbox: Sandbox, user: HubUser) -> None:
    session = hub_sts(sandbox, user).get_session_token()["Credentials"]
    with pytest.raises(ClientError) as excinfo:
        assume(creds_sts(sandbox, session))
    assert error_of(excinfo)[:2] == (403, "AccessDenied")
    assert f"User: {user.user_arn} is not authorized" in error_of(excinfo)[2]


def test_role_chaining_without_code_is_not_authorized(sandbox: Sandbox, user: HubUser) -> None:
    creds = assume(
        hub_sts(sandbox, user), SerialNumber=user.mfa_serial, TokenCode=sandbox.current_code(user)
    )
    with pytest.raises(ClientError) as excinfo:
        assume(creds_sts(sandbox, creds), DEV_READONLY)
    status, code, message = error_of(excinfo)
    assert (status, code) == (403, "AccessDenied")
    assert message.startswith("User: arn:aws:sts::111111111111:assumed-role/DEVELOPER/tester ")


def test_credential_lifetime_rewrites_expiration(sandbox: Sandbox, user: HubUser) -> None:
    """Issue 17 item 11: bounded by the clock around the call, not by how fast it was."""
    sandbox.credential_lifetime = 3
    try:
        before = datetime.now(timezone.utc)
        creds = assume(
            hub_sts(sandbox, user),
            SerialNumber=user.mfa_serial,
            TokenCode=sandbox.current_code(user),
        )
        after = datetime.now(timezone.utc)
    finally:
        sandbox.credential_lifetime = None
    # Issued between before and after, 3 s lifetime, whole seconds (truncated).
    lifetime = timedelta(seconds=3)
    assert before + lifetime - timedelta(seconds=1) <= creds["Expiration"] <= after + lifetime


def test_expired_credentials_are_refused(sandbox: Sandbox, user: HubUser) -> None:
    sandbox.credential_lifetime = 1
    try:
        creds = assume(
            hub_sts(sandbox, user),
            SerialNumber=user.mfa_serial,
            TokenCode=sandbox.current_code(user),
        )
    finally:
        sandbox.credential_lifetime = None
    # Issue 17 item 11: wait for the expiry itself (bounded), whatever the machine's speed.
    deadline = time.monotonic() + 15
    while True:
        sent = datetime.now(timezone.utc)
        try:
            creds_sts(sandbox, creds).get_caller_identity()
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "ExpiredToken", exc
            break
        assert sent < creds["Expiration"], "expired credentials were accepted"
        assert time.monotonic() < deadline, "credentials of a 1 s lifetime never expired"
        time.sleep(0.1)
    status, _ = federation(sandbox, Action="getSigninToken", Session=session_json(creds))
    assert status == 400


def test_mfa_check_off_accepts_any_code(sandbox: Sandbox, user: HubUser) -> None:
    sandbox.mfa_check = False
    try:
        assume(hub_sts(sandbox, user), SerialNumber=user.mfa_serial, TokenCode=wrong_code(user))
    finally:
        sandbox.mfa_check = True
    with pytest.raises(ClientError) as excinfo:
        assume(hub_sts(sandbox, user), SerialNumber=user.mfa_serial, TokenCode=wrong_code(user))
    assert error_of(excinfo)[1] == "AccessDenied"


def test_second_user_has_own_device(sandbox: Sandbox, user: HubUser) -> None:
    hub = sandbox.hub
    assert user.account_id == hub.account_id
    assert user.mfa_serial != hub.mfa_serial
    assert user.mfa_seed != hub.mfa_seed
    assert user.access_key_id != hub.access_key_id
    # A code of someone else's device does not count.
    with pytest.raises(ClientError) as excinfo:
        assume(
            hub_sts(sandbox, user), SerialNumber=hub.mfa_serial, TokenCode=sandbox.next_code(hub)
        )
    assert error_of(excinfo) == (403, "AccessDenied", MFA_MESSAGE)
    creds = assume(
        hub_sts(sandbox, user),
        SerialNumber=user.mfa_serial,
        TokenCode=sandbox.next_code(user.user_name),
    )
    assert creds_sts(sandbox, creds).get_caller_identity()["Account"] == "111111111111"


def test_federation_sign_in(sandbox: Sandbox, user: HubUser) -> None:
    creds = assume(
        hub_sts(sandbox, user), SerialNumber=user.mfa_serial, TokenCode=sandbox.current_code(user)
    )
    status, body = federation(
        sandbox, Action="getSigninToken", SessionDuration="43200", Session=session_json(creds)
    )
    assert status == 200
    token = json.loads(body)["SigninToken"]
    destination = "https://us-east-1.console.aws.amazon.com/"
    status, page = federation(
        sandbox, Action="login", Issuer="aacli", Destination=destination, SigninToken=token
    )
    assert status == 200
    assert (
        "Signed in as assumed-role/DEVELOPER/tester in account 111111111111 (sandbox console)"
        in page
    )
    assert destination in page
    assert token not in page
    assert sandbox.console_signins[-1].destination == destination
    status, _ = federation(
        sandbox, Action="login", Destination=destination, SigninToken=token + "x"
    )
    assert status == 400


def test_federation_refuses_unknown_and_wrong_credentials(sandbox: Sandbox, user: HubUser) -> None:
    unknown = {"AccessKeyId": "ASIAUNKNOWN", "SecretAccessKey": "x", "SessionToken": "y"}
    assert federation(sandbox, Action="getSigninToken", Session=session_json(unknown))[0] == 400
    creds = assume(
        hub_sts(sandbox, user), SerialNumber=user.mfa_serial, TokenCode=sandbox.current_code(user)
    )
    forged = {**creds, "SecretAccessKey": "forged"}
    assert federation(sandbox, Action="getSigninToken", Session=session_json(forged))[0] == 400
    assert federation(sandbox, Action="getSigninToken", Session="not json")[0] == 400
    status, _ = federation(
        sandbox, Action="getSigninToken", SessionDuration="899", Session=session_json(creds)
    )
    assert status == 400
    # GetSessionToken credentials cannot sign in to the console, as on AWS.
    session = hub_sts(sandbox, user).get_session_token()["Credentials"]
    assert federation(sandbox, Action="getSigninToken", Session=session_json(session))[0] == 400


def test_federation_session_duration_needs_long_term_keys(sandbox: Sandbox, user: HubUser) -> None:
    session = hub_sts(sandbox, user).get_session_token(
        SerialNumber=user.mfa_serial, TokenCode=sandbox.current_code(user)
    )["Credentials"]
    chained = assume(creds_sts(sandbox, session))
    status, body = federation(
        sandbox, Action="getSigninToken", SessionDuration="3600", Session=session_json(chained)
    )
    assert status == 400
    assert "Invalid credentials parameter" in body
    status, body = federation(sandbox, Action="getSigninToken", Session=session_json(chained))
    assert status == 200
    assert json.loads(body)["SigninToken"]


def test_second_sandbox_in_same_process(sandbox: Sandbox) -> None:
    # Issue 17 item 11: how fast it starts is measured by `make bench`, not asserted here.
    with Sandbox(mfa_check=False) as other:
        assert other.endpoint_url != sandbox.endpoint_url
        assert other.hub.account_id != sandbox.hub.account_id
        assert other.hub.user_name == "alice"
        creds = assume(
            hub_sts(other, other.hub), SerialNumber=other.hub.mfa_serial, TokenCode="123456"
        )
        assert creds_sts(other, creds).get_caller_identity()["Account"] == "111111111111"
        # Each sandbox knows only its own users.
        with pytest.raises(ClientError) as excinfo:
            hub_sts(sandbox, other.hub).get_caller_identity()
        assert error_of(excinfo)[1] == "InvalidClientTokenId"
    # The first sandbox's roles still work after the second one re-provisioned them.
    hub = sandbox.hub
    creds = assume(
        hub_sts(sandbox, hub),
        DEV_READONLY,
        SerialNumber=hub.mfa_serial,
        TokenCode=sandbox.next_code(),
    )
    assert (
        creds_sts(sandbox, creds)
        .get_caller_identity()["Arn"]
        .endswith("assumed-role/ReadOnly/tester")
    )


def test_command_line_runs_quietly_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "trayapp.sandbox", "--no-mfa-check"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        banner = "".join(lines)
        endpoint = next(ln.split()[-1] for ln in lines if ln.startswith("endpoint:"))
        key_id = next(ln.split()[-1] for ln in lines if ln.startswith("access key id:"))
        assert "federation URL:" in banner
        assert "MFA serial:     arn:aws:iam::" in banner
        assert "secret key" not in banner
        assert "seed" not in banner
        client = boto3.client(
            "sts",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id=key_id,
            aws_secret_access_key="unchecked",
        )
        assert client.get_caller_identity()["Arn"].endswith(":user/alice")
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert "sandbox stopped" in out
    assert "POST" not in out + err


def test_taken_port_raises_oserror() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            Sandbox(port=port).start()
