"""Import hub profiles and roles from ~/.aws/config (role_arn + source_profile + mfa_serial).

Every profile of the AWS files is checked before anything is stored: one that aacli cannot
import is skipped with its reason, the rest is imported as one change (secrets, then one
config save; a failure puts the secret store back as it was). Names from these files are
the user's or another tool's, so messages show them escaped (:func:`untrusted.shown`).
"""

from __future__ import annotations

import configparser
import contextlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from trayapp.core import files, validate
from trayapp.core.config import config_to_data, find_profile
from trayapp.core.config_parse import parse_config
from trayapp.core.errors import AacliError, ConfigError, CredFileError, UsageError
from trayapp.core.model import DEFAULT_ROLE_DURATION, Account, Config, Profile, Role
from trayapp.core.paths import AwsPaths
from trayapp.core.secrets.base import SECRET_ACCESS_KEY, SecretStore, secret_key
from trayapp.core.targets import all_targets
from trayapp.core.untrusted import shown

_ROLE_ARN = re.compile(
    r"arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role/(?:[\w+=,.@/-]*/)?([\w+=,.@-]+)", re.ASCII
)
_CLEAN_NAME = re.compile(r"[^A-Za-z0-9_.-]", re.ASCII)
_CHECKED_AS = Path("config")  # parse_config's label while checking a planned config


@dataclass(frozen=True)
class ImportPlan:
    """What import would change: the new config, hub secrets to store, and notes for the user."""

    base: Config  # the config this plan was made from
    config: Config
    secrets: dict[str, str] = field(repr=False)
    added: tuple[str, ...]
    notes: tuple[str, ...]  # skipped profiles (one line each, with the reason) and hints


class _Skip(Exception):
    """This profile of the AWS files cannot be imported; the message says why."""


def _read(path: Path, label: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False)
    text = files.read_text(path, what=label)  # never blocks on a FIFO, size capped
    try:
        parser.read_string(text or "", source=str(path))
    except configparser.Error as exc:
        line = getattr(exc, "lineno", None) or next(iter(getattr(exc, "errors", [])), (None,))[0]
        where = f" line {line}" if line else ""
        raise CredFileError(
            f"Cannot read {label} {path}{where} ({type(exc).__name__}); nothing was imported."
        ) from None
    return parser


def _profile_section(name: str) -> str:
    return "default" if name == "default" else f"profile {name}"


def plan_import(config: Config, aws: AwsPaths) -> ImportPlan:
    """Read the AWS files (never writing them) and plan the merge into ``config``."""
    aws_config = _read(aws.config_file, "AWS config")
    creds = _read(aws.credentials_file, "AWS credentials")
    existing_names = {s.removeprefix("profile ").strip() for s in aws_config.sections()}
    existing_names |= set(creds.sections())
    base = config
    taken = {t.aws_profile for t in all_targets(config)}  # AWS profiles the config writes
    notes: list[str] = []
    added: list[str] = []
    secrets: dict[str, str] = {}
    for section in aws_config.sections():
        name = section.removeprefix("profile ").strip()
        values = aws_config[section]
        if "role_arn" not in values:
            continue
        try:
            new_config, line, hub_secret, note = _merge_one(
                config, name, section, values, aws_config, creds, existing_names, taken
            )
        except (_Skip, UsageError) as why:  # UsageError: a value that validate refused
            notes.append(f"skipped {shown(name)}: {why}")
            continue
        if note:
            notes.append(note)
        if new_config is config:
            continue
        config = new_config
        added.append(line)
        if hub_secret is not None:
            secrets[hub_secret[0]] = hub_secret[1]
    _check_whole(config)
    return ImportPlan(base, config, secrets, tuple(added), tuple(notes))


def _merge_one(
    config: Config,
    name: str,
    section: str,
    values: Mapping[str, str],
    aws_config: configparser.RawConfigParser,
    creds: configparser.RawConfigParser,
    existing_names: set[str],
    taken: set[str],
) -> tuple[Config, str, tuple[str, str] | None, str | None]:
    """``config`` with this AWS profile's role added (every value checked), the "added" line,
    the hub secret to store, and a note; raises _Skip or UsageError with the reason. The AWS
    profile the role will write is added to ``taken``."""
    original = config
    match = _ROLE_ARN.fullmatch(values["role_arn"].strip())
    if not match:
        raise _Skip("role_arn is not an IAM role ARN like arn:aws:iam::123456789012:role/NAME")
    partition, account_id, role_name = match.groups()
    validate.role_name(role_name)
    source = values.get("source_profile", "").strip()
    if not source:
        raise _Skip("no source_profile (only hub keys can be imported)")
    source_values: Mapping[str, str] = (
        aws_config[_profile_section(source)]
        if aws_config.has_section(_profile_section(source))
        else {}
    )
    source_creds: Mapping[str, str] = creds[source] if creds.has_section(source) else {}
    if "sso_session" in source_values or "sso_start_url" in source_values:
        raise _Skip(
            f"source profile '{shown(source)}' signs in with Identity Center, which has no hub "
            "key: add it with 'aacli config add-sso' and this role with 'config add-role --via'"
        )
    mfa = values.get("mfa_serial") or source_values.get("mfa_serial")
    if not mfa:
        raise _Skip("no mfa_serial (aacli is for MFA-protected roles)")
    key_id = source_creds.get("aws_access_key_id") or source_values.get("aws_access_key_id")
    secret = source_creds.get("aws_secret_access_key") or source_values.get("aws_secret_access_key")
    if not key_id:
        raise _Skip(f"source profile '{shown(source)}' has no aws_access_key_id")
    region = validate.region(
        (values.get("region") or source_values.get("region") or "").strip() or "us-east-1"
    )
    duration = validate.duration(
        values.get("duration_seconds", "").strip() or DEFAULT_ROLE_DURATION
    )
    hub = Profile(
        name=validate.name(_CLEAN_NAME.sub("-", source), "profile name"),
        access_key_id=validate.access_key_id(key_id),
        mfa_serial=validate.mfa_serial(mfa),
        sts_region=validate.region(source_values.get("region", "").strip() or "us-east-1"),
        partition=partition,
        session_name=_session_name(values),
    )
    note = None
    hub_secret = None
    current = find_profile(config, hub.name)
    if current is not None and current.is_identity_center:
        raise _Skip(
            f"profile {hub.name} is an Identity Center hub, which has no hub key; "
            "rename one of the two"
        )
    if current is None:
        if secret:
            hub_secret = (
                hub.name,
                validate.secret_access_key(secret, f"source profile '{shown(source)}'"),
            )
        else:
            note = (
                f"profile {hub.name}: no secret key found; "
                f"set it with 'aacli config set-key {hub.name}'"
            )
        config = replace(config, profiles=(*config.profiles, hub))
        current = hub
    account = next((a for a in current.accounts if a.account_id == account_id), None)
    if account is None:
        suffix = "-" + role_name.lower()
        base = name[: -len(suffix)] if name.lower().endswith(suffix) else name
        account_name = _CLEAN_NAME.sub("-", base) or account_id
        if any(a.name == account_name for a in current.accounts):
            account_name = f"{account_name}-{account_id}"
        account = Account(
            name=validate.name(account_name, "account name"),
            account_id=validate.account_id(account_id),
            region=region,
        )
    if any(r.name == role_name for r in account.roles):
        return (
            original,
            "",
            None,
            f"{shown(name)}: {current.name}/{account.name}/{role_name} is already configured",
        )
    aws_profile = f"{account.name}-{role_name}"
    renamed = aws_profile in existing_names  # the user's own [profile NAME] stays theirs
    if renamed:
        aws_profile = validate.aws_profile(f"{aws_profile}-aacli")
    if aws_profile in taken:
        raise _Skip(f"another role of the config already writes AWS profile '{aws_profile}'")
    role = Role(
        name=role_name,
        duration_seconds=duration,
        aws_profile=aws_profile if renamed else None,
        external_id=_checked(values, "external_id", validate.external_id),
        source_identity=_checked(values, "source_identity", validate.source_identity),
    )
    if hub.session_name and current.session_name != hub.session_name:
        note = (
            f"{shown(name)}: role_session_name '{hub.session_name}' not imported: profile "
            f"{current.name} names its sessions '{current.session_name or 'auto'}'"
        )
    account = replace(account, roles=(*account.roles, role))
    if any(a.account_id == account_id for a in current.accounts):
        accounts = tuple(account if a.account_id == account_id else a for a in current.accounts)
    else:
        accounts = (*current.accounts, account)
    current = replace(current, accounts=accounts)
    new_config = replace(
        config, profiles=tuple(current if p.name == current.name else p for p in config.profiles)
    )
    taken.add(aws_profile)
    line = f"{current.name}/{account.name}/{role_name} (from [{shown(section)}])"
    return new_config, line, hub_secret, note


def _session_name(values: Mapping[str, str]) -> str | None:
    """The AWS CLI's ``role_session_name``: the hub profile's session name when new."""
    raw = values.get("role_session_name", "").strip()
    return validate.session_name_setting(raw) if raw else None


def _checked(values: Mapping[str, str], key: str, check: Callable[[str], str]) -> str | None:
    """An optional value of a role profile (the AWS CLI's ``external_id``, aws-vault's
    ``source_identity``), checked."""
    raw = values.get(key, "").strip()
    return check(raw) if raw else None


def _check_whole(config: Config) -> None:
    """The planned config must be one aacli can save and read back; each value was checked
    already, so this only guards against a rule missed above (and then imports nothing)."""
    try:
        parse_config(config_to_data(config), _CHECKED_AS)
    except ConfigError as exc:
        reason = str(exc).removeprefix(f"{_CHECKED_AS}: ")
        raise ConfigError(
            f"The import would make an invalid config ({reason}); nothing was imported."
        ) from None


def apply_import(
    plan: ImportPlan,
    secret_store: Callable[[], SecretStore],
    save: Callable[[Callable[[Config], Config]], object],
) -> None:
    """Store the plan's hub secrets, then save its config (``save`` applies a change under the
    config lock); all or nothing: on any failure every secret is put back as it was."""

    def change(current: Config) -> Config:
        return _still_planned(plan, current)

    if not plan.secrets:
        save(change)
        return
    store = secret_store()
    before: dict[str, str | None] = {}
    try:
        for profile_name, secret in plan.secrets.items():
            key = secret_key(profile_name, SECRET_ACCESS_KEY)
            before[key] = store.get(key)
            store.set(key, secret)
        save(change)
    except BaseException:
        for key, old in before.items():
            with contextlib.suppress(AacliError, OSError):
                if old is None:
                    store.delete(key)
                else:
                    store.set(key, old)
        raise


def _still_planned(plan: ImportPlan, current: Config) -> Config:
    if current != plan.base:
        raise ConfigError(
            "the aacli config changed while importing; nothing was imported, run the import again"
        )
    return plan.config
