"""Import hub profiles and roles from ~/.aws/config (role_arn + source_profile + mfa_serial)."""

from __future__ import annotations

import configparser
import re
from dataclasses import dataclass, field, replace

from trayapp.core import validate
from trayapp.core.config import find_profile
from trayapp.core.errors import CredFileError, UsageError
from trayapp.core.model import DEFAULT_ROLE_DURATION, Account, Config, Profile, Role
from trayapp.core.paths import AwsPaths

_ROLE_ARN = re.compile(
    r"^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role/(?:[\w+=,.@/-]*/)?([\w+=,.@-]+)$"
)
_CLEAN_NAME = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class ImportPlan:
    """What import would change: the new config, hub secrets to store, and notes for the user."""

    config: Config
    secrets: dict[str, str] = field(repr=False)
    added: tuple[str, ...]
    notes: tuple[str, ...]


def _read(path_text: str, label: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read(path_text, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise CredFileError(f"Cannot read {label} {path_text}: {type(exc).__name__}") from None
    return parser


def _profile_section(name: str) -> str:
    return "default" if name == "default" else f"profile {name}"


def plan_import(config: Config, aws: AwsPaths) -> ImportPlan:
    """Read the AWS files (never writing them) and plan the merge into ``config``."""
    aws_config = _read(str(aws.config_file), "AWS config")
    creds = _read(str(aws.credentials_file), "AWS credentials")
    existing_names = {s.removeprefix("profile ").strip() for s in aws_config.sections()}
    existing_names |= set(creds.sections())
    notes: list[str] = []
    added: list[str] = []
    secrets: dict[str, str] = {}
    for section in aws_config.sections():
        name = section.removeprefix("profile ").strip()
        values = aws_config[section]
        if "role_arn" not in values:
            continue
        match = _ROLE_ARN.match(values["role_arn"].strip())
        if not match:
            notes.append(f"skipped {name}: role_arn is not a role ARN")
            continue
        partition, account_id, role_name = match.groups()
        source = values.get("source_profile", "").strip()
        if not source:
            notes.append(f"skipped {name}: no source_profile (only hub keys can be imported)")
            continue
        source_values = (
            aws_config[_profile_section(source)]
            if aws_config.has_section(_profile_section(source))
            else {}
        )
        mfa = values.get("mfa_serial") or source_values.get("mfa_serial")
        if not mfa:
            notes.append(f"skipped {name}: no mfa_serial (aacli is for MFA-protected roles)")
            continue
        key_id = (
            creds[source].get("aws_access_key_id") if creds.has_section(source) else None
        ) or source_values.get("aws_access_key_id")
        secret = (
            creds[source].get("aws_secret_access_key") if creds.has_section(source) else None
        ) or source_values.get("aws_secret_access_key")
        if not key_id:
            notes.append(f"skipped {name}: source profile '{source}' has no aws_access_key_id")
            continue
        region = (values.get("region") or source_values.get("region") or "us-east-1").strip()
        try:
            duration = validate.duration(int(values.get("duration_seconds", DEFAULT_ROLE_DURATION)))
            hub = Profile(
                name=validate.name(_CLEAN_NAME.sub("-", source), "profile name"),
                access_key_id=validate.access_key_id(key_id),
                mfa_serial=validate.mfa_serial(mfa),
                sts_region=validate.region(
                    source_values.get("region", "us-east-1").strip() or "us-east-1"
                ),
                partition=partition,
            )
            validate.region(region)
        except (UsageError, ValueError) as exc:
            notes.append(f"skipped {name}: {exc}")
            continue
        current = find_profile(config, hub.name)
        if current is None:
            config = replace(config, profiles=(*config.profiles, hub))
            current = hub
            if secret:
                secrets[hub.name] = secret.strip()
            else:
                notes.append(
                    f"profile {hub.name}: no secret key found; set it with 'aacli config set-key {hub.name}'"
                )
        account = next((a for a in current.accounts if a.account_id == account_id), None)
        if account is None:
            base = (
                name[: -len(role_name) - 1]
                if name.lower().endswith("-" + role_name.lower())
                else name
            )
            account_name = _CLEAN_NAME.sub("-", base) or account_id
            if any(a.name == account_name for a in current.accounts):
                account_name = f"{account_name}-{account_id}"
            account = Account(name=account_name, account_id=account_id, region=region)
        if any(r.name == role_name for r in account.roles):
            notes.append(f"{name}: {current.name}/{account.name}/{role_name} is already configured")
            continue
        aws_profile = f"{account.name}-{role_name}"
        role = Role(
            name=role_name,
            duration_seconds=duration,
            aws_profile=f"{aws_profile}-aacli" if aws_profile in existing_names else None,
        )
        account = replace(account, roles=(*account.roles, role))
        if any(a.account_id == account_id for a in current.accounts):
            accounts = tuple(account if a.account_id == account_id else a for a in current.accounts)
        else:
            accounts = (*current.accounts, account)
        current = replace(current, accounts=accounts)
        config = replace(
            config,
            profiles=tuple(current if p.name == current.name else p for p in config.profiles),
        )
        added.append(f"{current.name}/{account.name}/{role_name} (from [{section}])")
    return ImportPlan(config=config, secrets=secrets, added=tuple(added), notes=tuple(notes))
