"""Reading the config's TOML data into the model: every fault names the file, the key and the
reason (the Identity Center hub's part is in config_sso)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from trayapp.core import validate
from trayapp.core.errors import ConfigError, UsageError
from trayapp.core.model import (
    DEFAULT_ROLE_DURATION,
    DEFAULT_ROTATE_AFTER,
    Account,
    Config,
    Profile,
    Role,
    Settings,
)

SCHEMA_VERSION = 1
SECRET_BACKENDS = ("auto", "keyring", "vault")
T = TypeVar("T")


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
    # Any string loads, as before: "auto", "os-user", or a name cleaned to AWS's charset at
    # sign-in (validate.session_name).
    session_name = _optional_str(data, "session_name", key, path)
    accounts = _parse_accounts(data, key, path)
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
        access_key_id=_checked_str(data, "access_key_id", key, path, validate.access_key_id),
        mfa_serial=_checked_str(data, "mfa_serial", key, path, validate.mfa_serial),
        sts_region=_check(
            lambda: validate.region(_typed(data, "sts_region", str, key, path, "us-east-1")),
            f"{key}.sts_region",
            path,
        ),
        partition=_parse_partition(data, key, path),
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
    command = _optional_str(
        data, "mfa_process", key, path, validate.mfa_process, "a command line (a string)"
    )
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
    user_name = _optional_str(data, "user_name", key, path)
    return {
        "user_name": None if user_name is None else validate.session_name(user_name),
        "user_name_for": _optional_str(data, "user_name_for", key, path),
    }


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
    created_for = _optional_str(data, "key_created_for", key, path, validate.access_key_id)
    return {
        "rotate_after": rotate_after,
        "key_created": created.astimezone(timezone.utc) if created else None,
        "key_created_for": created_for,
    }


def _parse_accounts(data: Mapping[str, Any], key: str, path: Path) -> tuple[Account, ...]:
    """A hub's ``accounts`` table (either kind of hub); no account id twice."""
    accounts = tuple(
        _parse_account(acc, _as_table(body, f"{key}.accounts.{acc}", path), key, path)
        for acc, body in _table(data, "accounts", f"{key}.accounts", path).items()
    )
    ids = [a.account_id for a in accounts]
    for dup in {i for i in ids if ids.count(i) > 1}:
        raise ConfigError(f"{path}: {key}.accounts: account id {dup} is listed twice")
    return accounts


def _parse_partition(data: Mapping[str, Any], key: str, path: Path) -> str:
    return _check(
        lambda: validate.partition(_typed(data, "partition", str, key, path, "aws")),
        f"{key}.partition",
        path,
    )


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
        account_id=_checked_str(data, "id", key, path, validate.account_id),
        region=_checked_str(data, "region", key, path, validate.region),
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
    aws_profile = _optional_str(data, "aws_profile", key, path, validate.aws_profile)
    return Role(
        name=name,
        duration_seconds=_check(lambda: validate.duration(raw_duration), f"{key}.duration", path),
        aws_profile=aws_profile,
        keep_fresh=_typed(data, "keep_fresh", bool, key, path, False),
        via=_optional_str(
            data, "via", key, path, validate.role_name, "the name of a permission set"
        ),
        synced=_typed(data, "synced", bool, key, path, False),
        **_parse_audit(data, key, path),
    )


AUDIT_KEYS = ("external_id", "source_identity", "tags", "transitive_tag_keys")


def _parse_audit(data: Mapping[str, Any], key: str, path: Path) -> dict[str, Any]:
    """A role's external id, source identity and session tags, checked against AWS's rules."""
    found: dict[str, Any] = {
        "external_id": _optional_str(data, "external_id", key, path, validate.external_id),
        "source_identity": _optional_str(
            data, "source_identity", key, path, validate.source_identity
        ),
    }
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


def _checked_str(
    data: Mapping[str, Any], name: str, key: str, path: Path, check: Callable[[str], str]
) -> str:
    """``data[name]``, which must be there: a string that ``check`` accepts (and cleans)."""
    return _check(lambda: check(_required(data, name, key, path)), f"{key}.{name}", path)


def _optional_str(
    data: Mapping[str, Any],
    name: str,
    key: str,
    path: Path,
    check: Callable[[str], object] | None = None,
    must: str = "a string",
) -> str | None:
    """``data[name]`` if it is there: a string (else "must be ``must``") that ``check`` accepts."""
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{path}: {key}.{name}: must be {must}")
    if check is not None:
        _check(lambda: check(value), f"{key}.{name}", path)
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
