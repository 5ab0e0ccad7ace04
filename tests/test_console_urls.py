"""Console sign-in URLs for the three partitions, and when SessionDuration is sent."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.parse
from datetime import datetime, timedelta, timezone

import pytest

from trayapp.core import console
from trayapp.core.errors import ConsoleError
from trayapp.core.model import Credentials

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
CREDS = Credentials("ASIAEXAMPLE", "secret/key+value", "token==", NOW + timedelta(hours=2))


@pytest.mark.parametrize(
    ("partition", "region", "signin", "destination"),
    [
        (
            "aws",
            "eu-west-1",
            "https://signin.aws.amazon.com/federation",
            "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1",
        ),
        (
            "aws-us-gov",
            "us-gov-west-1",
            "https://signin.amazonaws-us-gov.com/federation",
            "https://console.amazonaws-us-gov.com/console/home?region=us-gov-west-1",
        ),
        (
            "aws-cn",
            "cn-north-1",
            "https://signin.amazonaws.cn/federation",
            "https://console.amazonaws.cn/console/home?region=cn-north-1",
        ),
    ],
)
def test_partition_url_shapes(partition, region, signin, destination):
    requested = []

    def fetch(url, body, timeout):
        requested.append((url, body))
        return json.dumps({"SigninToken": "tok-123"}).encode()

    url = console.signin_url(
        CREDS, partition=partition, region=region, now=NOW, env={}, fetch=fetch
    )
    assert requested[0][0] == signin  # the keys go in the POST body, never in the URL
    query = urllib.parse.parse_qs(requested[0][1].decode())
    assert query["Action"] == ["getSigninToken"]
    assert json.loads(query["Session"][0]) == {
        "sessionId": "ASIAEXAMPLE",
        "sessionKey": "secret/key+value",
        "sessionToken": "token==",
    }
    assert query["SessionDuration"] == ["7200"]
    login = urllib.parse.urlsplit(str(url))
    assert f"{login.scheme}://{login.netloc}{login.path}" == signin
    params = urllib.parse.parse_qs(login.query)
    assert params == {
        "Action": ["login"],
        "Issuer": [console.ISSUER],
        "Destination": [destination],
        "SigninToken": ["tok-123"],
    }
    assert "tok-123" not in repr(url)


def test_session_duration_only_from_long_term_keys_and_within_bounds():
    assert console.session_duration(CREDS, NOW) == 7200
    chained = Credentials("A", "b", "c", NOW + timedelta(hours=1), from_long_term_keys=False)
    assert console.session_duration(chained, NOW) is None
    soon = Credentials("A", "b", "c", NOW + timedelta(minutes=3))
    assert console.session_duration(soon, NOW) == 900
    long = Credentials("A", "b", "c", NOW + timedelta(hours=20))
    assert console.session_duration(long, NOW) == 43200


def test_federation_override_and_destination():
    assert (
        console.federation_endpoint(
            "aws", {"AACLI_FEDERATION_URL": "http://127.0.0.1:9/federation"}
        )
        == "http://127.0.0.1:9/federation"
    )


# What a failing request really carries (issue 17 item 7): the sign-in URL with its token,
# and the getSigninToken URL with the session's keys, as an older client sent them.
TOKEN = "VERYSECRETSIGNINTOKEN0123456789"
LOGIN_URL = (
    "https://signin.aws.amazon.com/federation?Action=login&Issuer=aacli"
    "&Destination=https%3A%2F%2Feu-west-1.console.aws.amazon.com%2F&SigninToken=" + TOKEN
)
SESSION_URL = "https://signin.aws.amazon.com/federation?Action=getSigninToken&Session=" + (
    urllib.parse.quote(json.dumps({"sessionId": "ASIAEXAMPLE", "sessionKey": "secret/key+value"}))
)


def _http_error(url: str, code: int) -> urllib.error.HTTPError:
    body = io.BytesIO(f"<html>bad request to {url}</html>".encode())
    return urllib.error.HTTPError(url, code, "Bad Request", {"Location": url}, body)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raised", "words"),
    [
        (_http_error(LOGIN_URL, 400), "HTTP 400"),
        (_http_error(SESSION_URL, 403), "HTTP 403"),
        (_http_error(SESSION_URL, 500), "HTTP 500"),
        (TimeoutError(), "did not answer"),
        (
            urllib.error.URLError(ConnectionRefusedError(111, "Connection refused")),
            "Could not reach",
        ),
    ],
)
def test_federation_failures_are_one_sentence_without_secrets(raised, words):
    """Issue 17 item 7: a failed request (with a real sign-in URL and token) gives one sentence
    that shows neither the URL nor any key or token."""

    def fetch(url, body, timeout):
        raise raised

    with pytest.raises(ConsoleError) as caught:
        console.signin_url(CREDS, partition="aws", region="eu-west-1", now=NOW, env={}, fetch=fetch)
    message = str(caught.value)
    assert words in message
    for secret in ("secret/key", "token==", "ASIAEXAMPLE", "Session=", TOKEN, "SigninToken"):
        assert secret not in message
    assert "federation?" not in message, "the request URL must never be shown"


def test_answer_without_token_is_an_error():
    with pytest.raises(ConsoleError, match="without a sign-in token"):
        console.signin_url(
            CREDS,
            partition="aws",
            region="eu-west-1",
            now=NOW,
            env={},
            fetch=lambda u, b, t: b"<html>",
        )
