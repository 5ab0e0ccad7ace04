"""Load, save and edit the aacli config (TOML); reading its data is config_parse's."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from trayapp.core import files
from trayapp.core.config_parse import (
    SCHEMA_VERSION,
    check_unique_aws_profiles,
    parse_config,
)
from trayapp.core.errors import ConfigError, UnsafeFileError, UsageError
from trayapp.core.model import (
    DEFAULT_ROTATE_AFTER,
    DEFAULT_SSO_SCOPES,
    Account,
    Config,
    Profile,
    Role,
    Settings,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

T = TypeVar("T")


# Config edits are quick; a writer still holding the lock after this is stuck.
CONFIG_LOCK_TIMEOUT = 30.0


def load_config(path: Path) -> Config:
    """The config at ``path``; an empty one when the file does not exist yet.

    The file and its folder must be the user's and writable by nobody else: whoever can write
    the config decides which roles aacli assumes and where it writes keys.
    """
    try:
        raw = files.read_bytes(path, trusted=True, what="the config")
    except UnsafeFileError as exc:
        raise ConfigError(str(exc)) from None
    if raw is None:
        return Config()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text; the file was left unchanged.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}; the file was left unchanged.") from None
    return parse_config(data, path)


def config_to_data(config: Config) -> dict[str, Any]:
    """The TOML document for ``config`` (defaults left out, so the file stays short)."""
    data: dict[str, Any] = {"version": SCHEMA_VERSION}
    if config.settings != Settings():
        data["settings"] = {
            "secret_backend": config.settings.secret_backend,
            "unauth_on_quit": config.settings.unauth_on_quit,
            "warn_minutes": config.settings.warn_minutes,
        }
        if config.settings.serve_credentials:
            data["settings"]["serve_credentials"] = True
        if config.settings.server_port:
            data["settings"]["server_port"] = config.settings.server_port
    profiles: dict[str, Any] = {}
    for profile in config.profiles:
        body = _hub_data(profile)
        body["accounts"] = {
            account.name: _account_data(account, profile.is_identity_center)
            for account in profile.accounts
        }
        profiles[profile.name] = body
    data["profiles"] = profiles
    return data


def _hub_data(profile: Profile) -> dict[str, Any]:
    """A profile's own settings: its Identity Center sign-in, or its IAM user's key and MFA."""
    sso = profile.identity_center
    if sso is not None:
        body: dict[str, Any] = {"sso_start_url": sso.start_url, "sso_region": sso.region}
        if sso.scopes != DEFAULT_SSO_SCOPES:
            body["sso_scopes"] = list(sso.scopes)
        if profile.partition != "aws":
            body["partition"] = profile.partition
        if profile.session_name:
            body["session_name"] = profile.session_name
        return body
    body = {"access_key_id": profile.access_key_id, "mfa_serial": profile.mfa_serial}
    if profile.sts_region != "us-east-1":
        body["sts_region"] = profile.sts_region
    if profile.partition != "aws":
        body["partition"] = profile.partition
    if profile.session_name:
        body["session_name"] = profile.session_name
    if profile.mfa_session_seconds:
        body["mfa_session"] = profile.mfa_session_seconds
    if profile.rotate_after != DEFAULT_ROTATE_AFTER:
        body["rotate_after"] = profile.rotate_after
    if profile.key_created and profile.key_created_for:
        body["key_created"] = profile.key_created
        body["key_created_for"] = profile.key_created_for
    if profile.user_name and profile.user_name_for:
        body["user_name"] = profile.user_name
        body["user_name_for"] = profile.user_name_for
    if profile.codes != "ask":
        body["codes"] = profile.codes
    for name in ("ykman_account", "ykman_serial", "mfa_process"):
        if getattr(profile, name) is not None:
            body[name] = getattr(profile, name)
    return body


def _account_data(account: Account, identity_center: bool) -> dict[str, Any]:
    roles: dict[str, Any] = {}
    for role in account.roles:
        role_body: dict[str, Any] = {"duration": role.duration_seconds}
        if identity_center and role.via is None:
            role_body = {"synced": True} if role.synced else {}  # a permission set: no duration
        elif role.via:
            role_body["via"] = role.via
        if role.aws_profile:
            role_body["aws_profile"] = role.aws_profile
        if role.keep_fresh:
            role_body["keep_fresh"] = True
        if role.external_id:
            role_body["external_id"] = role.external_id
        if role.source_identity:
            role_body["source_identity"] = role.source_identity
        if role.tags:
            role_body["tags"] = dict(role.tags)
        if role.transitive_tag_keys:
            role_body["transitive_tag_keys"] = list(role.transitive_tag_keys)
        roles[role.name] = role_body
    return {"id": account.account_id, "region": account.region, "roles": roles}


def save_config(config: Config, path: Path) -> None:
    """Write atomically, mode 0600, after re-validating what would be written."""
    import tomli_w

    from trayapp.core.credfile import atomic_write

    data = config_to_data(config)
    parse_config(data, path)  # never write what we could not read back
    atomic_write(path, tomli_w.dumps(data))


def with_secret_backend(config: Config, backend: str) -> Config:
    """``config`` with ``backend`` as the secret store it names."""
    return replace(config, settings=replace(config.settings, secret_backend=backend))


@contextmanager
def config_lock(path: Path) -> Iterator[None]:
    """Serialise every read-modify-write of the config (CLI, tray, settings window)."""
    with files.file_lock(
        path.with_name(path.name + ".lock"),
        timeout=CONFIG_LOCK_TIMEOUT,
        busy=f"Another aacli is changing {path}; try again in a moment.",
    ):
        yield


def update_config(path: Path, change: Callable[[Config], Config]) -> Config:
    """Apply ``change`` to the config as it is on disk now, under the config lock, and save.

    ``change`` gets the freshest config (never a copy read before another writer saved), so
    concurrent edits never lose one another's updates. It may raise to change nothing.
    """
    with config_lock(path):
        current = load_config(path)
        new = change(current)
        if new != current:
            save_config(new, path)
        return new


# Editing: each returns a new Config; callers save it.


def add_profile(config: Config, profile: Profile) -> Config:
    if find_profile(config, profile.name):
        raise UsageError(f"profile '{profile.name}' already exists")
    return replace(config, profiles=(*config.profiles, profile))


def replace_profile(config: Config, profile: Profile) -> Config:
    return replace(
        config,
        profiles=tuple(profile if p.name == profile.name else p for p in config.profiles),
    )


def add_account(config: Config, profile_name: str, account: Account) -> Config:
    profile = _must(find_profile(config, profile_name), f"no profile named '{profile_name}'")
    for existing in profile.accounts:
        if existing.name == account.name:
            raise UsageError(f"profile '{profile_name}' already has an account '{account.name}'")
        if existing.account_id == account.account_id:
            raise UsageError(
                f"account {account.account_id} is already in profile '{profile_name}' "
                f"as '{existing.name}'"
            )
    return replace_profile(config, replace(profile, accounts=(*profile.accounts, account)))


def add_role(config: Config, profile_name: str, account_name: str, role: Role) -> Config:
    profile = _must(find_profile(config, profile_name), f"no profile named '{profile_name}'")
    account = _must(
        next((a for a in profile.accounts if a.name == account_name), None),
        f"profile '{profile_name}' has no account '{account_name}'",
    )
    if any(r.name == role.name for r in account.roles):
        raise UsageError(f"account '{account_name}' already has a role '{role.name}'")
    from trayapp.core.config_sso import check_new_chain

    check_new_chain(profile, account, role)
    new_account = replace(account, roles=(*account.roles, role))
    new_profile = replace(
        profile,
        accounts=tuple(new_account if a.name == account_name else a for a in profile.accounts),
    )
    new_config = replace_profile(config, new_profile)
    try:
        check_unique_aws_profiles(new_config, Path("config"))
    except ConfigError as exc:
        raise UsageError(str(exc).removeprefix("config: ")) from None
    return new_config


def replace_role(config: Config, profile_name: str, account_name: str, role: Role) -> Config:
    """``config`` with one role replaced (matched by name)."""
    profile = _must(find_profile(config, profile_name), f"no profile named '{profile_name}'")
    accounts = tuple(
        replace(a, roles=tuple(role if r.name == role.name else r for r in a.roles))
        if a.name == account_name
        else a
        for a in profile.accounts
    )
    return replace_profile(config, replace(profile, accounts=accounts))


def remove_path(config: Config, parts: list[str]) -> Config:
    """Remove ``profile``, ``profile/account`` or ``profile/account/role``."""
    if not 1 <= len(parts) <= 3:
        raise UsageError("give PROFILE, PROFILE/ACCOUNT or PROFILE/ACCOUNT/ROLE to remove")
    profile = _must(find_profile(config, parts[0]), f"no profile named '{parts[0]}'")
    if len(parts) == 1:
        return replace(config, profiles=tuple(p for p in config.profiles if p.name != parts[0]))
    account = _must(
        next((a for a in profile.accounts if a.name == parts[1]), None),
        f"profile '{parts[0]}' has no account '{parts[1]}'",
    )
    if len(parts) == 2:
        accounts = tuple(a for a in profile.accounts if a.name != parts[1])
    else:
        _must(
            next((r for r in account.roles if r.name == parts[2]), None),
            f"account '{parts[1]}' has no role '{parts[2]}'",
        )
        chained = [r.name for r in account.roles if r.via == parts[2]]
        if chained:
            raise UsageError(
                f"{'/'.join(parts)} is the permission set {', '.join(chained)} "
                f"{'goes' if len(chained) == 1 else 'go'} via; remove "
                f"{'that' if len(chained) == 1 else 'those'} first"
            )
        roles = tuple(r for r in account.roles if r.name != parts[2])
        accounts = tuple(
            replace(a, roles=roles) if a.name == parts[1] else a for a in profile.accounts
        )
    return replace_profile(config, replace(profile, accounts=accounts))


def find_profile(config: Config, name: str) -> Profile | None:
    return next((p for p in config.profiles if p.name == name), None)


def iam_user_hub(config: Config, name: str, then: str = "") -> Profile:
    """Profile ``name``, which must be an IAM-user hub (``then``: what that means here)."""
    profile = _must(find_profile(config, name), f"no profile named '{name}'")
    if profile.is_identity_center:
        raise UsageError(
            f"'{name}' is an Identity Center hub: an Identity Center hub has no hub key"
            f"{', ' + then if then else ''} (it signs in with 'aacli login {name}')"
        )
    return profile


def identity_center_hub(config: Config, name: str) -> Profile:
    """Profile ``name``, which must be an Identity Center hub."""
    profile = _must(find_profile(config, name), f"no profile named '{name}'")
    if not profile.is_identity_center:
        raise UsageError(
            f"'{name}' is an IAM-user hub: it needs no sign-in (its roles ask for an MFA "
            "code); only an Identity Center hub signs in and syncs"
        )
    return profile


def _must(value: T | None, message: str) -> T:
    if value is None:
        raise UsageError(message)
    return value
