"""Every AWS failure a user can meet becomes one clear sentence, never a secret."""

from __future__ import annotations

import botocore.exceptions as bex
import pytest

from trayapp.core import errors
from trayapp.core.sts import map_error

ROLE = "arn:aws:iam::111111111111:role/DEVELOPER"


def client_error(code: str, message: str, status: int = 400) -> bex.ClientError:
    return bex.ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "AssumeRole",
    )


@pytest.mark.parametrize(
    ("exc", "kind", "words"),
    [
        (
            client_error(
                "AccessDenied",
                "MultiFactorAuthentication failed with invalid MFA one time pass code. ",
                403,
            ),
            errors.WrongCodeError,
            "MFA code",
        ),
        (
            client_error(
                "AccessDenied",
                "User: arn:aws:iam::9:user/a is not authorized to perform: sts:AssumeRole",
                403,
            ),
            errors.AccessDeniedError,
            "not allowed to assume " + ROLE,
        ),
        (
            client_error(
                "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            ),
            errors.DurationTooLongError,
            "longer than",
        ),
        (
            client_error(
                "ValidationError",
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
            ),
            errors.DurationTooLongError,
            "1 h",
        ),
        (
            client_error(
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
                403,
            ),
            errors.InvalidHubKeyError,
            "hub access key",
        ),
        (client_error("SignatureDoesNotMatch", "sig", 403), errors.InvalidHubKeyError, "set-key"),
        (client_error("ExpiredToken", "expired", 403), errors.InvalidHubKeyError, "hub access key"),
        (client_error("Throttling", "Rate exceeded"), errors.ThrottledError, "throttling"),
        (client_error("InternalFailure", "oops", 500), errors.StsError, "internal error"),
        (client_error("ServiceUnavailable", "busy", 503), errors.StsError, "try again"),
        (client_error("Weird", "x" * 500), errors.StsError, "Weird"),
        (
            bex.EndpointConnectionError(endpoint_url="https://sts.amazonaws.com"),
            errors.NetworkError,
            "Could not connect",
        ),
        (
            bex.ConnectTimeoutError(endpoint_url="https://sts.amazonaws.com"),
            errors.NetworkError,
            "in time",
        ),
        (
            bex.ReadTimeoutError(endpoint_url="https://sts.amazonaws.com"),
            errors.NetworkError,
            "in time",
        ),
        (ValueError("boom"), errors.StsError, "unexpectedly"),
    ],
)
def test_error_mapping(exc, kind, words):
    mapped = map_error(exc, role_arn=ROLE, duration_seconds=7200)
    assert type(mapped) is kind
    message = str(mapped)
    assert words.lower() in message.lower()
    assert "\n" not in message and len(message) < 300
