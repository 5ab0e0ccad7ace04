"""Whose keys these are: the Check of the settings window asks STS (GetCallerIdentity) and, if
the user may, IAM (ListMFADevices) before a hub's key is stored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from trayapp.core.errors import StsError
from trayapp.core.sts import StsCaller, get_caller_identity

IamFactory = Callable[[StsCaller], Any]

MFA_ARN_HINT = (
    "Find your MFA device's ARN in the AWS console: IAM → Users → your user → Security "
    "credentials → Multi-factor authentication (MFA), the 'Identifier' column."
)


@dataclass(frozen=True)
class KeyCheck:
    """What ``sts:GetCallerIdentity`` (and ``iam:ListMFADevices`` if allowed) told."""

    arn: str
    account: str
    user_name: str
    mfa_devices: tuple[str, ...]
    note: str  # how to find the MFA device when it could not be listed; "" otherwise


def check_hub_keys(
    access_key_id: str,
    secret_access_key: str,
    sts_region: str,
    *,
    sts_factory: Callable[[StsCaller], Any],
    endpoint_url: str | None,
    iam_factory: IamFactory | None = None,
    iam_endpoint_url: str | None = None,
) -> KeyCheck:
    """Whose keys these are (an IAM user, or an error saying what they are), and its MFA
    devices when the user may list them."""
    from trayapp.core import iam

    caller = StsCaller(
        access_key_id=access_key_id,
        secret_access_key=secret_access_key,
        region=sts_region,
        endpoint_url=endpoint_url,
    )
    identity = get_caller_identity(sts_factory(caller))
    kind, _, path = identity.arn.partition(":user/")
    if not kind.startswith("arn:") or not path:
        raise StsError(
            f"These keys are not an IAM user's ({identity.arn}); aacli needs the hub IAM "
            "user's own access key."
        )
    user_name = path.rsplit("/", 1)[-1]
    make_iam = iam_factory or iam.make_iam_client
    iam_caller = replace(caller, endpoint_url=iam_endpoint_url or endpoint_url)
    try:
        answer = make_iam(iam_caller).list_mfa_devices(UserName=user_name)
        devices = tuple(str(d["SerialNumber"]) for d in answer.get("MFADevices", []))
    except Exception:  # not allowed, or IAM unreachable: the user can still type the ARN
        return KeyCheck(identity.arn, identity.account, user_name, (), MFA_ARN_HINT)
    note = "" if devices else "This user has no MFA device yet. " + MFA_ARN_HINT
    return KeyCheck(identity.arn, identity.account, user_name, devices, note)
