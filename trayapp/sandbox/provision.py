"""Creates the sandbox's IAM world in moto: hub users with keys and MFA devices, spoke roles."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pyotp

from trayapp.sandbox.isolated import isolated_client

PARTITION = "aws"
DEFAULT_HUB_ACCOUNT = "123456789012"  # moto's default account: unknown keys act there too
SPOKE_ACCOUNTS: dict[str, str] = {
    "dev": "111111111111",
    "stage": "222222222222",
    "prod": "333333333333",
}
SPOKE_ROLES: dict[str, int] = {"DEVELOPER": 43200, "ReadOnly": 3600}
# Identity Center's roles in each account: AWSReservedSSO_<permission set>_<16 hex>, on this path.
PERMISSION_SET_ROLE_PREFIX = "AWSReservedSSO_"
PERMISSION_SET_ROLE_PATH = "/aws-reserved/sso.amazonaws.com/"
# The ledger's user_name of sessions that began at Identity Center (IAM user names have no ":").
PERMISSION_SET_ORIGIN = "identity-center:"


@dataclass(frozen=True)
class HubUser:
    """An IAM user of the hub account, with its long-term key and virtual MFA device."""

    user_name: str
    user_arn: str
    account_id: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    mfa_serial: str
    mfa_seed: str = field(repr=False)


class AlreadyProvisioned(Exception):
    """The user already exists in that account (another sandbox in this process made it)."""


def random_account_id() -> str:
    return f"9{secrets.randbelow(10**11):011d}"


def _iam(endpoint_url: str, account_id: str) -> Any:
    return isolated_client("iam", endpoint_url, account_id=account_id)


def trust_policy(hub_account_id: str) -> str:
    """Trust the hub account, but only for callers that signed in with MFA."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{PARTITION}:iam::{hub_account_id}:root"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
                }
            ],
        }
    )


def permission_set_statement(account_id: str) -> dict[str, Any]:
    """Trust the account's own Identity Center roles (any permission set), with no MFA
    condition: the sign-in at Identity Center was the user's authentication."""
    return {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{PARTITION}:iam::{account_id}:root"},
        "Action": ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"],
        "Condition": {
            "ArnLike": {
                "aws:PrincipalArn": f"arn:{PARTITION}:iam::{account_id}:role"
                f"{PERMISSION_SET_ROLE_PATH}*/{PERMISSION_SET_ROLE_PREFIX}*"
            }
        },
    }


def spoke_trust_policy(hub_account_id: str, account_id: str) -> str:
    """A spoke role's trust: the hub's users with MFA, and the account's permission sets."""
    policy = json.loads(trust_policy(hub_account_id))
    policy["Statement"].append(permission_set_statement(account_id))
    return json.dumps(policy)


def audited_trust_policy(
    hub_account_id: str,
    *,
    external_id: str | None = None,
    session_name_is_user: bool = False,
    source_identity_is_user: bool = False,
    tag_session: bool = False,
) -> str:
    """The MFA trust policy plus the audit conditions a careful team adds: an external id,
    ``sts:RoleSessionName`` and ``sts:SourceIdentity`` equal to the caller's IAM user name,
    and the permissions to set a source identity and session tags."""
    policy = json.loads(trust_policy(hub_account_id))
    statement = policy["Statement"][0]
    actions = ["sts:AssumeRole", "sts:SetSourceIdentity"]
    if tag_session:
        actions.append("sts:TagSession")
    statement["Action"] = actions
    equals: dict[str, str] = {}
    if external_id:
        equals["sts:ExternalId"] = external_id
    if session_name_is_user:
        equals["sts:RoleSessionName"] = "${aws:username}"
    if source_identity_is_user:
        equals["sts:SourceIdentity"] = "${aws:username}"
    if equals:
        statement["Condition"]["StringEquals"] = equals
    return json.dumps(policy)


def create_role(
    endpoint_url: str, account_id: str, role_name: str, policy: str, max_duration: int
) -> None:
    """One role with the given trust policy (replaced when the role exists already)."""
    iam = _iam(endpoint_url, account_id)
    try:
        iam.create_role(
            RoleName=role_name, AssumeRolePolicyDocument=policy, MaxSessionDuration=max_duration
        )
    except iam.exceptions.EntityAlreadyExistsException:
        iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=policy)
        iam.update_role(RoleName=role_name, MaxSessionDuration=max_duration)


KEY_SELF_MANAGEMENT = [
    "iam:CreateAccessKey",
    "iam:UpdateAccessKey",
    "iam:DeleteAccessKey",
    "iam:ListAccessKeys",
    "iam:GetUser",
]


def hub_user_policy(iam_mfa: bool = False) -> str:
    """Assume roles; manage the user's own keys (only with MFA when ``iam_mfa``, as the
    sandbox's checker then enforces: moto evaluates no policy)."""
    own_keys: dict[str, Any] = {
        "Effect": "Allow",
        "Action": KEY_SELF_MANAGEMENT,
        "Resource": "arn:aws:iam::*:user/${aws:username}",
    }
    if iam_mfa:
        own_keys["Condition"] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Resource": "arn:aws:iam::*:role/*",
                },
                {"Effect": "Allow", "Action": "sts:GetSessionToken", "Resource": "*"},
                own_keys,
            ],
        }
    )


HUB_USER_POLICY = hub_user_policy()


def create_hub_user(
    endpoint_url: str, account_id: str, user_name: str, *, iam_mfa: bool = False
) -> HubUser:
    """A user who may assume roles and manage its own keys, with an access key and an enabled
    MFA device."""
    iam = _iam(endpoint_url, account_id)
    try:
        user = iam.create_user(UserName=user_name)["User"]
    except iam.exceptions.EntityAlreadyExistsException as exc:
        raise AlreadyProvisioned(f"user {user_name} exists in {account_id}") from exc
    policy = hub_user_policy(iam_mfa)
    iam.put_user_policy(UserName=user_name, PolicyName="aacli-hub", PolicyDocument=policy)
    key = iam.create_access_key(UserName=user_name)["AccessKey"]
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=user_name)["VirtualMFADevice"]
    seed = device["Base32StringSeed"]
    seed = seed.decode("ascii") if isinstance(seed, bytes) else seed
    totp = pyotp.TOTP(seed)
    now = datetime.now(timezone.utc)
    iam.enable_mfa_device(
        UserName=user_name,
        SerialNumber=device["SerialNumber"],
        AuthenticationCode1=totp.at(now, counter_offset=-1),
        AuthenticationCode2=totp.at(now),
    )
    return HubUser(
        user_name=user_name,
        user_arn=user["Arn"],
        account_id=account_id,
        access_key_id=key["AccessKeyId"],
        secret_access_key=key["SecretAccessKey"],
        mfa_serial=device["SerialNumber"],
        mfa_seed=seed,
    )


def create_spoke_roles(endpoint_url: str, hub_account_id: str) -> None:
    """Every spoke role, trusting the hub (and the account's permission sets); roles an earlier
    sandbox left are brought up to date."""
    for account_id in SPOKE_ACCOUNTS.values():
        policy = spoke_trust_policy(hub_account_id, account_id)
        iam = _iam(endpoint_url, account_id)
        for role_name, max_duration in SPOKE_ROLES.items():
            try:
                iam.create_role(
                    RoleName=role_name,
                    AssumeRolePolicyDocument=policy,
                    MaxSessionDuration=max_duration,
                )
            except iam.exceptions.EntityAlreadyExistsException:
                iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=policy)
                iam.update_role(RoleName=role_name, MaxSessionDuration=max_duration)


def create_permission_set_role(
    endpoint_url: str, account_id: str, permission_set: str, region: str
) -> str:
    """The role Identity Center makes in an account for a permission set; returns its ARN."""
    iam = _iam(endpoint_url, account_id)
    provider = f"arn:{PARTITION}:iam::{account_id}:saml-provider/AWSSSO_{secrets.token_hex(8)}"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider + "_DO_NOT_DELETE"},
                "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
                "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
            }
        ],
    }
    role = iam.create_role(
        RoleName=f"{PERMISSION_SET_ROLE_PREFIX}{permission_set}_{secrets.token_hex(8)}",
        Path=f"{PERMISSION_SET_ROLE_PATH}{region}/",
        AssumeRolePolicyDocument=json.dumps(policy),
        MaxSessionDuration=43200,
    )["Role"]
    return str(role["Arn"])
