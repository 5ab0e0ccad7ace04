"""Load, validate and save the aacli config (TOML); import roles from ~/.aws/config."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from trayapp.core import files, validate
from trayapp.core.errors import ConfigError, UnsafeFileError, UsageError
from trayapp.core.model import (
    DEFAULT_ROLE_DURATION,
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

SCHEMA_VERSION = 1
SECRET_BACKENDS = ("auto", "keyring", "vault")
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


def parse_config(data: Mapping[str, Any], path: Path) -> Config:
    """Build a Config from TOML data; every fault names the file, the key and the reason."""
    version = data.get("version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise ConfigError(
            f"{path}: version: this aacli reads config version {SCHEMA_VERSION}, "
            f"the file says {version!r}"
        )
    _only_keys(data, ("version", "settings", "profiles"), "", path)
    settings = _parse_settings(_table(data, "settings", "settings", path), path)
    profiles = tuple(
        _parse_profile(name, _as_table(body, f"profiles.{name}", path), path)
        for name, body in _table(data, "profiles", "profiles", path).items()
    )
    config = Config(profiles=profiles, settings=settings)
    check_unique_aws_profiles(config, path)
    return config


def _parse_settings(data: Mapping[str, Any], path: Path) -> Settings:
    _only_keys(
        data,
        ("secret_backend", "unauth_on_quit", "warn_minutes", "serve_credentials", "server_port"),
        "settings",
        path,
    )
    backend = _typed(data, "secret_backend", str, "settings", path, "auto")
    if backend not in SECRET_BACKENDS:
        raise ConfigError(
            f"{path}: settings.secret_backend: must be one of {', '.join(SECRET_BACKENDS)}"
        )
    warn = _typed(data, "warn_minutes", int, "settings", path, 5)
    if not 0 <= warn <= 60:
        raise ConfigError(f"{path}: settings.warn_minutes: must be 0 to 60")
    port = _typed(data, "server_port", int, "settings", path, 0)
    if not 0 <= port <= 65535:
        raise ConfigError(f"{path}: settings.server_port: must be 0 (any free port) to 65535")
    return Settings(
        secret_backend=backend,
        unauth_on_quit=_typed(data, "unauth_on_quit", bool, "settings", path, True),
        warn_minutes=warn,
        serve_credentials=_typed(data, "serve_credentials", bool, "settings", path, False),
        server_port=port,
    )


def _parse_profile(name: str, data: Mapping[str, Any], path: Path) -> Profile:
    key = f"profiles.{name}"
    _check(lambda: validate.name(name, "profile name"), key, path)
    if "sso_start_url" in data or "sso_region" in data:
        from trayapp.core.config_sso import parse_identity_center

        return parse_identity_center(name, data, key, path)
    _only_keys(
        data,
        (
            "access_key_id",
            "mfa_serial",
            "sts_region",
            "partition",
            "session_name",
            "mfa_session",
            "accounts",
            "rotate_after",
            "key_created",
            "key_created_for",
            *CODE_KEYS,
            "user_name",
            "user_name_for",
        ),
        key,
        path,
    )
    session_name = data.get("session_name")
    if session_name is not None and not isinstance(session_name, str):
        raise ConfigError(f"{path}: {key}.session_name: must be a string")
    # Any string loads, as before: "auto", "os-user", or a name cleaned to AWS's charset at
    # sign-in (validate.session_name).
    accounts = tuple(
        _parse_account(acc, _as_table(body, f"{key}.accounts.{acc}", path), key, path)
        for acc, body in _table(data, "accounts", f"{key}.accounts", path).items()
    )
    ids = [a.account_id for a in accounts]
    for dup in {i for i in ids if ids.count(i) > 1}:
        raise ConfigError(f"{path}: {key}.accounts: account id {dup} is listed twice")
    from trayapp.core.config_sso import check_no_sso_keys

    for account in accounts:
        check_no_sso_keys(account, key, path)
    mfa_session = data.get("mfa_session")
    if mfa_session is not None:
        if not isinstance(mfa_session, int | str) or isinstance(mfa_session, bool):
            raise ConfigError(f"{path}: {key}.mfa_session: must be seconds or a string like '12h'")
        mfa_session = _check(
            lambda: validate.mfa_session_duration(mfa_session), f"{key}.mfa_session", path
        )
    return Profile(
        name=name,
        mfa_session_seconds=mfa_session,
        access_key_id=_check(
            lambda: validate.access_key_id(_required(data, "access_key_id", key, path)),
            f"{key}.access_key_id",
            path,
        ),
        mfa_serial=_check(
            lambda: validate.mfa_serial(_required(data, "mfa_serial", key, path)),
            f"{key}.mfa_serial",
            path,
        ),
        sts_region=_check(
            lambda: validate.region(_typed(data, "sts_region", str, key, path, "us-east-1")),
            f"{key}.sts_region",
            path,
        ),
        partition=_check(
            lambda: validate.partition(_typed(data, "partition", str, key, path, "aws")),
            f"{key}.partition",
            path,
        ),
        session_name=session_name,
        accounts=accounts,
        **_parse_key_age(data, key, path),
        **_parse_codes(data, key, path),
        **_parse_user_name(data, key, path),
    )


CODE_SOURCES = ("ask", "ykman", "process")
CODE_KEYS = ("codes", "ykman_account", "ykman_serial", "mfa_process")


def _parse_codes(data: Mapping[str, Any], key: str, path: Path) -> dict[str, Any]:
    """Where the profile's MFA codes come from: asked for, a YubiKey (ykman), a command."""
    codes = _typed(data, "codes", str, key, path, "ask")
    if codes not in CODE_SOURCES:
        raise ConfigError(f"{path}: {key}.codes: must be one of {', '.join(CODE_SOURCES)}")
    serial = data.get("ykman_serial")
    if isinstance(serial, int) and not isinstance(serial, bool):
        serial = str(serial)
    if serial is not None:
        if not isinstance(serial, str):
            raise ConfigError(f"{path}: {key}.ykman_serial: must be the YubiKey's serial number")
        _check(lambda: validate.yubikey_serial(serial), f"{key}.ykman_serial", path)
    account = data.get("ykman_account")
    if account is not None and (not isinstance(account, str) or not account.strip()):
        raise ConfigError(f"{path}: {key}.ykman_account: must be a non-empty string")
    command = data.get("mfa_process")
    if command is not None:
        if not isinstance(command, str):
            raise ConfigError(f"{path}: {key}.mfa_process: must be a command line (a string)")
        _check(lambda: validate.mfa_process(command), f"{key}.mfa_process", path)
    if codes == "process" and command is None:
        raise ConfigError(f"{path}: {key}.codes: 'process' needs mfa_process (the command line)")
    return {
        "codes": codes,
        "ykman_account": account,
        "ykman_serial": serial,
        "mfa_process": command,
    }


def _parse_user_name(data: Mapping[str, Any], key: str, path: Path) -> dict[str, Any]:
    """The hub IAM user's name as GetCallerIdentity said, and for which key id."""
    found: dict[str, Any] = {}
    for name in ("user_name", "user_name_for"):
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{path}: {key}.{name}: must be a string")
        found[name] = value
    if found["user_name"] is not None:
        found["user_name"] = validate.session_name(found["user_name"])
    return found


def _parse_key_age(data: Mapping[str, Any], key: str, path: Path) -> dict[str, Any]:
    """The hub key's rotation settings: ``rotate_after`` days, and when the key was made."""
    rotate_after = _typed(data, "rotate_after", int, key, path, DEFAULT_ROTATE_AFTER)
    if not 0 <= rotate_after <= 3650:
        raise ConfigError(f"{path}: {key}.rotate_after: must be 0 (never remind) to 3650 days")
    created = data.get("key_created")
    if isinstance(created, str):
        try:
            created = datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError:
            created = None
    if created is not None and (not isinstance(created, datetime) or created.tzinfo is None):
        raise ConfigError(f"{path}: {key}.key_created: must be a date and time with a time zone")
    created_for = data.get("key_created_for")
    if created_for is not None:
        if not isinstance(created_for, str):
            raise ConfigError(f"{path}: {key}.key_created_for: must be a string")
        _check(lambda: validate.access_key_id(created_for), f"{key}.key_created_for", path)
    return {
        "rotate_after": rotate_after,
        "key_created": created.astimezone(timezone.utc) if created else None,
        "key_created_for": created_for,
    }


def _parse_account(name: str, data: Mapping[str, Any], parent: str, path: Path) -> Account:
    key = f"{parent}.accounts.{name}"
    _check(lambda: validate.name(name, "account name"), key, path)
    _only_keys(data, ("id", "region", "roles"), key, path)
    roles = tuple(
        _parse_role(role, _as_table(body, f"{key}.roles.{role}", path), key, path)
        for role, body in _table(data, "roles", f"{key}.roles", path).items()
    )
    return Account(
        name=name,
        account_id=_check(
            lambda: validate.account_id(_required(data, "id", key, path)), f"{key}.id", path
        ),
        region=_check(
            lambda: validate.region(_required(data, "region", key, path)), f"{key}.region", path
        ),
        roles=roles,
    )


def _parse_role(name: str, data: Mapping[str, Any], parent: str, path: Path) -> Role:
    key = f"{parent}.roles.{name}"
    _check(lambda: validate.role_name(name), key, path)
    _only_keys(
        data, ("duration", "aws_profile", "keep_fresh", "via", "synced", *AUDIT_KEYS), key, path
    )
    raw_duration = data.get("duration", DEFAULT_ROLE_DURATION)
    if not isinstance(raw_duration, int | str) or isinstance(raw_duration, bool):
        raise ConfigError(f"{path}: {key}.duration: must be seconds or a string like '2h'")
    aws_profile = data.get("aws_profile")
    if aws_profile is not None:
        if not isinstance(aws_profile, str):
            raise ConfigError(f"{path}: {key}.aws_profile: must be a string")
        _check(lambda: validate.aws_profile(aws_profile), f"{key}.aws_profile", path)
    return Role(
        name=name,
        duration_seconds=_check(lambda: validate.duration(raw_duration), f"{key}.duration", path),
        aws_profile=aws_profile,
        keep_fresh=_typed(data, "keep_fresh", bool, key, path, False),
        via=_parse_via(data, key, path),
        synced=_typed(data, "synced", bool, key, path, False),
        **_parse_audit(data, key, path),
    )


def _parse_via(data: Mapping[str, Any], key: str, path: Path) -> str | None:
    via = data.get("via")
    if via is None:
        return None
    if not isinstance(via, str):
        raise ConfigError(f"{path}: {key}.via: must be the name of a permission set")
    return _check(lambda: validate.role_name(via), f"{key}.via", path)


AUDIT_KEYS = ("external_id", "source_identity", "tags", "transitive_tag_keys")


def _parse_audit(data: Mapping[str, Any], key: str, path: Path) -> dict[str, Any]:
    """A role's external id, source identity and session tags, checked against AWS's rules."""
    found: dict[str, Any] = {}
    for name, check in (
        ("external_id", validate.external_id),
        ("source_identity", validate.source_identity),
    ):
        value = data.get(name)
        if value is not None:
            if not isinstance(value, str):
                raise ConfigError(f"{path}: {key}.{name}: must be a string")
            _check(functools.partial(check, value), f"{key}.{name}", path)
        found[name] = value
    raw_tags = _as_table(data.get("tags", {}), f"{key}.tags", path)
    if not all(isinstance(v, str) for v in raw_tags.values()):
        raise ConfigError(f"{path}: {key}.tags: every tag value must be a string")
    tags = _check(lambda: validate.session_tags(list(raw_tags.items())), f"{key}.tags", path)
    transitive = data.get("transitive_tag_keys", [])
    if not isinstance(transitive, list) or not all(isinstance(k, str) for k in transitive):
        raise ConfigError(f"{path}: {key}.transitive_tag_keys: must be a list of tag keys")
    found["tags"] = tags
    found["transitive_tag_keys"] = _check(
        lambda: validate.transitive_tag_keys(transitive, tags),
        f"{key}.transitive_tag_keys",
        path,
    )
    return found


def check_unique_aws_profiles(config: Config, path: Path) -> None:
    """Two roles writing the same AWS profile would overwrite each other."""
    seen: dict[str, str] = {}
    for profile in config.profiles:
        for account in profile.accounts:
            for role in account.roles:
                aws_name = role.aws_profile or f"{account.name}-{role.name}"
                label = f"{profile.name}/{account.name}/{role.name}"
                if aws_name in seen:
                    raise ConfigError(
                        f"{path}: roles {seen[aws_name]} and {label} both write AWS profile "
                        f"'{aws_name}'; give one of them another aws_profile"
                    )
                seen[aws_name] = label


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


def _must(value: T | None, message: str) -> T:
    if value is None:
        raise UsageError(message)
    return value


# Small readers that turn a bad value into "file: key: reason".


def _check(fn: Callable[[], T], key: str, path: Path) -> T:
    try:
        return fn()
    except UsageError as exc:
        raise ConfigError(f"{path}: {key}: {exc}") from None


def _required(data: Mapping[str, Any], name: str, parent: str, path: Path) -> str:
    if name not in data:
        raise ConfigError(f"{path}: {parent}.{name}: missing")
    value = data[name]
    if not isinstance(value, str):
        raise ConfigError(f"{path}: {parent}.{name}: must be a string")
    return value


def _typed(
    data: Mapping[str, Any], name: str, kind: type[T], parent: str, path: Path, default: T
) -> T:
    value = data.get(name, default)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{path}: {parent}.{name}: must be a {kind.__name__}")
    return value


def _table(data: Mapping[str, Any], name: str, key: str, path: Path) -> Mapping[str, Any]:
    return _as_table(data.get(name, {}), key, path)


def _as_table(value: Any, key: str, path: Path) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: {key}: must be a table")
    return value


def _only_keys(data: Mapping[str, Any], allowed: tuple[str, ...], key: str, path: Path) -> None:
    for name in data:
        if name not in allowed:
            where = f"{key}.{name}" if key else name
            raise ConfigError(
                f"{path}: {where}: unknown setting (expected one of: {', '.join(allowed)})"
            )
