"""The Identity Center part of the config: a hub that signs in at a start URL (no hub key, no
MFA device), and its roles' rules: a permission set takes no AssumeRole options; a role with
``via`` is chained from a permission set of its own account. Each fault names file and key."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trayapp.core import validate
from trayapp.core.config_parse import (
    _checked_str,
    _only_keys,
    _optional_str,
    _parse_accounts,
    _parse_partition,
)
from trayapp.core.errors import ConfigError, UsageError
from trayapp.core.model import DEFAULT_SSO_SCOPES, Account, IdentityCenter, Profile, Role

# What only an IAM-user hub has: its key, its MFA device and what hangs on them.
HUB_KEY_SETTINGS = (
    "access_key_id",
    "mfa_serial",
    "sts_region",
    "mfa_session",
    "rotate_after",
    "key_created",
    "key_created_for",
    "codes",
    "ykman_account",
    "ykman_serial",
    "mfa_process",
    "user_name",
    "user_name_for",
)
SSO_KEYS = ("sso_start_url", "sso_region", "sso_scopes", "partition", "session_name", "accounts")
# GetRoleCredentials takes only the account and the permission set: nothing else is sent.
PERMISSION_SET_REFUSES = ("duration", "external_id", "source_identity", "tags")


def parse_identity_center(name: str, data: Mapping[str, Any], key: str, path: Path) -> Profile:
    """An Identity Center hub: it signs in at its start URL; no hub key, no MFA device."""
    for setting in data:
        if setting in HUB_KEY_SETTINGS:
            raise ConfigError(
                f"{path}: {key}.{setting}: an Identity Center hub has no hub key or MFA device "
                f"(it signs in at sso_start_url); remove {setting}"
            )
    _only_keys(data, SSO_KEYS, key, path)
    start_url = _checked_str(data, "sso_start_url", key, path, validate.sso_start_url)
    region = _checked_str(data, "sso_region", key, path, validate.region)
    scopes = data.get("sso_scopes", list(DEFAULT_SSO_SCOPES))
    if (
        not isinstance(scopes, list)
        or not scopes
        or not all(isinstance(s, str) and s and s.isprintable() and " " not in s for s in scopes)
    ):
        raise ConfigError(f"{path}: {key}.sso_scopes: must be a list of OAuth scopes")
    session_name = _optional_str(data, "session_name", key, path)
    accounts = _parse_accounts(data, key, path)
    for account in accounts:
        check_chains(account, data, key, path)
    return Profile(
        name=name,
        access_key_id="",
        mfa_serial="",
        partition=_parse_partition(data, key, path),
        session_name=session_name,
        accounts=accounts,
        identity_center=IdentityCenter(start_url=start_url, region=region, scopes=tuple(scopes)),
        sts_region=region,  # a chained role's AssumeRole: STS in the instance's region
    )


def check_chains(account: Account, data: Mapping[str, Any], key: str, path: Path) -> None:
    """A permission set takes no AssumeRole options; a ``via`` names a permission set of the
    same account (a role without ``via``)."""
    where = f"{key}.accounts.{account.name}"
    permission_sets = [r.name for r in account.roles if r.via is None]
    for role in account.roles:
        role_key = f"{where}.roles.{role.name}"
        if role.via is None:
            body = data["accounts"][account.name]["roles"][role.name]
            for option in PERMISSION_SET_REFUSES:
                if option in body:
                    raise ConfigError(
                        f"{path}: {role_key}.{option}: a permission set takes no {option} "
                        "(Identity Center sets its session); only a role with via does"
                    )
        elif role.via not in permission_sets:
            known = ", ".join(permission_sets) or "none yet"
            raise ConfigError(
                f"{path}: {role_key}.via: {role.via!r} is no permission set of account "
                f"'{account.name}' (its permission sets: {known})"
            )
        elif role.synced:
            raise ConfigError(
                f"{path}: {role_key}.synced: a role with via is added by hand, never synced"
            )
        elif role.source_identity == "auto":
            raise ConfigError(
                f"{path}: {role_key}.source_identity: 'auto' is a hub IAM user's name and an "
                "Identity Center hub has none; give a fixed value"
            )


def check_no_sso_keys(account: Account, key: str, path: Path) -> None:
    """``via`` and ``synced`` belong to Identity Center hubs only."""
    for role in account.roles:
        role_key = f"{key}.accounts.{account.name}.roles.{role.name}"
        if role.via is not None:
            raise ConfigError(
                f"{path}: {role_key}.via: only a role of an Identity Center hub is chained "
                "from a permission set; this hub signs in with its IAM user's key"
            )
        if role.synced:
            raise ConfigError(
                f"{path}: {role_key}.synced: only an Identity Center hub's roles are synced"
            )


def check_new_chain(profile: Profile, account: Account, role: Role) -> None:
    """A role going ``via`` a permission set: an Identity Center hub's, and the permission set
    one of the same account (what the config file demands, said as the CLI's words)."""
    if role.via is None:
        return
    if not profile.is_identity_center:
        raise UsageError(
            f"'{profile.name}' is an IAM-user hub: its roles are assumed with the hub key and "
            "an MFA code, not --via a permission set (that is for Identity Center hubs)"
        )
    sets = [r.name for r in account.roles if r.via is None]
    if role.via not in sets:
        raise UsageError(
            f"{profile.name}/{account.name} has no permission set '{role.via}' (it has: "
            f"{', '.join(sets) or 'none yet'}); 'aacli config sync {profile.name}' adds them"
        )
