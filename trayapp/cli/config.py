"""aacli config: set up hub profiles, spoke accounts and roles (menu or sub-commands)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from trayapp.cli import config_codes, config_sso
from trayapp.cli.context import ask_hidden, interactive, make_service, say
from trayapp.core import config as cfg
from trayapp.core import config_ops, validate
from trayapp.core.errors import UsageError
from trayapp.core.model import Account, Profile, Role
from trayapp.core.service import Service

DESCRIPTION = """\
Set up what aacli can reach: a profile is your hub, either an IAM user (access
key id, MFA device) or an Identity Center sign-in (start URL); an account is a
spoke account under it; a role is a role in that account (for Identity Center,
a permission set, or a role chained --via one). The secret access key goes to
the OS keyring or the encrypted vault, never into the config file or the
command line."""

EPILOG = """\
examples:
  aacli config                                    a menu (on a terminal)
  aacli config add-profile acme --access-key-id AKIA... \\
        --mfa-serial arn:aws:iam::999999999999:mfa/alice   (secret key asked for)
  aacli config add-account acme dev --id 111111111111 --region eu-west-1
  aacli config add-role acme/dev DEVELOPER --duration 2h
  aacli config import-aws                         from role_arn profiles in ~/.aws/config
  aacli config add-sso corp --start-url https://corp.awsapps.com/start --region eu-west-1
  aacli config sync corp [--prune]                its accounts and permission sets
  aacli config add-role corp/dev DEVELOPER --via AdministratorAccess   (chained, 1 h)
  aacli config link-aws corp/dev/AdministratorAccess   an AWS CLI sso profile
  aacli config show
  aacli config remove acme/dev/DEVELOPER
"""


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")

    p = sub.add_parser("add-profile", help="add a hub identity (asks for the secret key)")
    p.add_argument("name", help="a short name, e.g. acme")
    p.add_argument("--access-key-id", required=True, help="the hub IAM user's access key id")
    p.add_argument("--mfa-serial", required=True, help="MFA device ARN or hardware serial")
    p.add_argument("--sts-region", default="us-east-1", help="region of the STS endpoint")
    p.add_argument("--partition", default="aws", choices=validate.PARTITIONS)
    p.add_argument(
        "--session-name",
        help="RoleSessionName: auto (default: the hub IAM user's name), os-user, or a fixed name",
    )

    config_sso.register(sub)

    p = sub.add_parser("set-key", help="store a new secret key for a profile (after rotation)")
    p.add_argument("name", help="the profile")
    p.add_argument("--access-key-id", help="the new access key id, if it changed")

    p = sub.add_parser("add-account", help="add a spoke account to a profile")
    p.add_argument("profile")
    p.add_argument("name", help="a short name, e.g. dev")
    p.add_argument("--id", required=True, dest="account_id", help="the 12-digit account id")
    p.add_argument("--region", required=True, help="the account's default region")

    p = sub.add_parser("add-role", help="add a role to an account")
    p.add_argument("account", help="PROFILE/ACCOUNT (or ACCOUNT when unambiguous)")
    p.add_argument("role", help="the IAM role name")
    p.add_argument("--duration", help="session length, 15m to 12h (default 1h)")
    p.add_argument("--aws-profile", help="AWS profile to write (default ACCOUNT-ROLE)")
    p.add_argument("--via", metavar="PERMSET", help=config_sso.VIA_HELP)
    p.add_argument("--external-id", help="sts:ExternalId the role's trust policy asks for")
    p.add_argument(
        "--source-identity",
        help="SourceIdentity: auto (the hub IAM user's name) or a fixed value",
    )
    p.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE", help="a session tag")
    p.add_argument(
        "--transitive-tag",
        action="append",
        default=[],
        metavar="KEY",
        help="a tag kept through role chaining",
    )

    config_codes.register(sub)

    p = sub.add_parser("import-aws", help="import role profiles from ~/.aws/config")
    p.add_argument("--dry-run", action="store_true", help="show what would be imported")

    p = sub.add_parser("show", help="print the configuration")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("remove", help="remove a profile, account or role")
    p.add_argument("path", help="PROFILE, PROFILE/ACCOUNT or PROFILE/ACCOUNT/ROLE")

    p = sub.add_parser(
        "link-aws",
        help="add a profile to ~/.aws/config: credential_process (or, for a permission set, "
        "the AWS CLI's own sso profile)",
    )
    p.add_argument("target", help="PROFILE/ACCOUNT/ROLE or a shortening")
    p.add_argument(
        "--aws-profile",
        help="profile name to write (default ACCOUNT-ROLE-process; ACCOUNT-ROLE-sso for a "
        "permission set)",
    )
    p.add_argument(
        "--server",
        action="store_true",
        help="the line asks the running tray first (its socket: fast, no files), else as usual",
    )

    sub.add_parser("path", help="print where the config file is")


def run(args: argparse.Namespace) -> int:
    service = make_service()
    if not args.action:
        if not interactive():
            raise UsageError("say what to do: aacli config ACTION (see aacli config --help)")
        from trayapp.cli.config_menu import menu

        return menu(service)
    handler: Callable[[Service, argparse.Namespace], int] = ACTIONS[args.action]
    return handler(service, args)


def _pin_backend(service: Service, config: cfg.Config) -> cfg.Config:
    """Record what "auto" chose, so a keyring that appears later does not hide the vault."""
    from trayapp.core.config_ops import pin_backend

    return pin_backend(service, config)


def add_profile(service: Service, args: argparse.Namespace) -> int:
    profile = Profile(
        name=validate.name(args.name, "profile name"),
        access_key_id=validate.access_key_id(args.access_key_id),
        mfa_serial=validate.mfa_serial(args.mfa_serial),
        sts_region=validate.region(args.sts_region),
        partition=validate.partition(args.partition),
        session_name=validate.session_name_setting(args.session_name)
        if args.session_name and args.session_name != "auto"
        else None,
    )
    cfg.add_profile(service.config, profile)  # refuses a taken name before asking anything
    secret = ask_hidden(f"Secret access key for {profile.access_key_id}: ")
    config_ops.add_profile(service, profile, secret)
    say(f"Added profile '{profile.name}'; its secret key is in {service.secrets().name}.")
    return 0


def set_key(service: Service, args: argparse.Namespace) -> int:
    profile = cfg.iam_user_hub(service.config, args.name, "so no secret key to store")
    if args.access_key_id:
        from dataclasses import replace

        profile = replace(profile, access_key_id=validate.access_key_id(args.access_key_id))
    secret = ask_hidden(f"Secret access key for {profile.access_key_id}: ")
    new_key = profile.access_key_id if args.access_key_id else None
    config_ops.set_hub_key(service, profile.name, secret, access_key_id=new_key)
    say(f"Stored the secret key of profile '{profile.name}' in {service.secrets().name}.")
    return 0


def add_account(service: Service, args: argparse.Namespace) -> int:
    account = Account(
        name=validate.name(args.name, "account name"),
        account_id=validate.account_id(args.account_id),
        region=validate.region(args.region),
    )
    config_ops.add_account(service, args.profile, account)
    say(f"Added account '{account.name}' ({account.account_id}) to profile '{args.profile}'.")
    return 0


def _account_path(service: Service, text: str) -> tuple[str, str]:
    parts = text.strip("/").split("/")
    if len(parts) == 2:
        return parts[0], parts[1]
    if len(parts) == 1:
        owners = [
            p.name for p in service.config.profiles if any(a.name == parts[0] for a in p.accounts)
        ]
        if len(owners) == 1:
            return owners[0], parts[0]
        if not owners:
            raise UsageError(f"no account named '{parts[0]}'")
        raise UsageError(f"account '{parts[0]}' is in several profiles; write PROFILE/{parts[0]}")
    raise UsageError(f"'{text}' is not PROFILE/ACCOUNT")


def add_role(service: Service, args: argparse.Namespace) -> int:
    profile_name, account_name = _account_path(service, args.account)
    via = validate.role_name(args.via) if getattr(args, "via", None) else None
    role = Role(
        name=validate.role_name(args.role),
        duration_seconds=validate.duration(args.duration or "1h"),
        aws_profile=validate.aws_profile(args.aws_profile) if args.aws_profile else None,
        via=via,
        **_audit_options(args),
    )
    hub = cfg.find_profile(service.config, profile_name)
    if hub is not None and hub.is_identity_center:
        if via is None:
            _refuse_permission_set_options(args, role)
        taken = {t.aws_profile for t in service.targets()}
        if role.aws_profile is None and f"{account_name}-{role.name}" in taken:
            # The IAM-user hub beside it has the same account/role (the migration path): the
            # new one is named after its hub, as sync names them.
            aws_profile = validate.aws_profile(f"{profile_name}-{account_name}-{role.name}"[:64])
            role = replace(role, aws_profile=aws_profile)
    config_ops.add_role(service, profile_name, account_name, role)
    aws_name = role.aws_profile or f"{account_name}-{role.name}"
    chained = f" (chained from {via}: at most 1 h, renewed)" if via else ""
    label = f"{profile_name}/{account_name}/{role.name}"
    short = f"{account_name}/{role.name}"
    if sum(1 for t in service.targets() if t.label.endswith("/" + short)) > 1:
        short = label  # another hub has the same account/role: the short form is ambiguous
    say(f"Added role {label}{chained}; 'aacli auth {short}' writes AWS profile '{aws_name}'.")
    return 0


def _refuse_permission_set_options(args: argparse.Namespace, role: Role) -> None:
    """A permission set's session is Identity Center's: GetRoleCredentials takes no options."""
    given = [
        flag
        for flag, value in (
            ("--duration", args.duration),
            ("--external-id", role.external_id),
            ("--source-identity", role.source_identity),
            ("--tag", role.tags),
        )
        if value
    ]
    if given:
        raise UsageError(
            f"{' and '.join(given)}: a permission set takes none (Identity Center sets its "
            "session); they go with a role chained --via a permission set"
        )


def _audit_options(args: argparse.Namespace) -> dict[str, Any]:
    """add-role's --external-id, --source-identity, --tag and --transitive-tag, checked."""
    external_id = getattr(args, "external_id", None)
    source = getattr(args, "source_identity", None)
    tags = validate.session_tags([validate.tag_pair(t) for t in getattr(args, "tag", [])])
    return {
        "external_id": validate.external_id(external_id) if external_id else None,
        "source_identity": validate.source_identity(source) if source else None,
        "tags": tags,
        "transitive_tag_keys": validate.transitive_tag_keys(
            getattr(args, "transitive_tag", []), tags
        ),
    }


def import_aws(service: Service, args: argparse.Namespace) -> int:
    from trayapp.core.awsimport import plan_import

    plan = plan_import(service.config, service.deps.aws)  # every profile checked; none stored
    for note in plan.notes:
        say(note)
    if not plan.added:
        say(f"Nothing to import from {service.deps.aws.config_file}.")
        return 0
    if args.dry_run:
        for line in plan.added:
            say("would add " + line)
        return 0

    config_ops.apply_import(service, plan)  # all or nothing
    for line in plan.added:
        say("added " + line)
    if plan.secrets:
        say(
            f"The hub secret keys are now in {service.secrets().name}. Your AWS files were not "
            "changed: once aacli works for you, you may remove the static keys from them."
        )
    return 0


def show(service: Service, args: argparse.Namespace) -> int:
    config = service.config
    if args.json:
        # Dates (a hub key's) as ISO 8601 text, the way TOML has them.
        print(json.dumps(cfg.config_to_data(config), indent=2, default=_iso))
        return 0
    print(f"# {service.deps.app.config_file}")
    if not config.profiles:
        print("No profiles yet: aacli config add-profile NAME --access-key-id … --mfa-serial …")
    for profile in config.profiles:
        sso = profile.identity_center
        if sso is not None:
            print(f"{profile.name}  Identity Center {sso.start_url} ({sso.region})")
            print(f"  no hub key: signs in with 'aacli login {profile.name}'")
        else:
            print(f"{profile.name}  key {profile.access_key_id}  MFA {profile.mfa_serial}")
            print(f"  {_profile_audit(profile)}")
        for account in profile.accounts:
            print(f"  {account.name}  {account.account_id}  {account.region}")
            for role in account.roles:
                aws_name = role.aws_profile or f"{account.name}-{role.name}"
                audit = _role_audit(role)
                if sso is not None and role.via is None:
                    kind = "permission set" + (", synced" if role.synced else "")
                elif role.via:
                    kind = f"via {role.via}, {min(role.duration_seconds, 3600) // 60} min"
                else:
                    kind = f"{role.duration_seconds // 60} min"
                print(f"    {role.name}  {kind}  → AWS profile {aws_name}{audit}")
    return 0


def _profile_audit(profile: Profile) -> str:
    """How the profile gets codes and names its sessions, for ``config show``."""
    if profile.codes == "ykman":
        where = f"YubiKey (ykman) account {profile.ykman_account or profile.mfa_serial}"
        if profile.ykman_serial:
            where += f" on key {profile.ykman_serial}"
    elif profile.codes == "process":
        where = f"command: {profile.mfa_process}"
    else:
        where = "typed"
    setting = profile.session_name or "auto"
    if setting == "auto":
        known = f" = {profile.user_name}" if profile.user_name else " (read at first auth)"
        name = f"auto (hub IAM user name{known})"
    else:
        name = setting
    return f"codes: {where}; session name: {name}"


def _role_audit(role: Role) -> str:
    parts = []
    if role.external_id:
        parts.append(f"external id {role.external_id}")
    if role.source_identity:
        parts.append(f"source identity {role.source_identity}")
    if role.tags:
        tags = ", ".join(
            f"{k}={v}{' (transitive)' if k in role.transitive_tag_keys else ''}"
            for k, v in role.tags
        )
        parts.append(f"tags {tags}")
    return f"  [{'; '.join(parts)}]" if parts else ""


def remove(service: Service, args: argparse.Namespace) -> int:
    from trayapp.cli.context import report_removals

    parts = args.path.strip("/").split("/")
    hub = cfg.find_profile(service.config, parts[0])
    removed = config_ops.remove(service, parts)  # sessions signed out, secrets, then config
    report_removals(list(removed.signed_out))
    prefix, forgotten = removed.path, removed.secrets_forgotten
    if len(parts) == 1 and hub is not None and hub.is_identity_center:
        say(
            f"Removed {prefix}. Its sign-in, shared with the AWS CLI ([sso-session {prefix}]), "
            f"is left as it is: 'aws sso logout' ends it."
        )
    elif len(parts) == 1:
        plural = "" if forgotten == 1 else "s"
        say(f"Removed {prefix} and its {forgotten} secret{plural} from {service.secrets().name}.")
    else:
        say(f"Removed {prefix}.")
    return 0


def link_aws(service: Service, args: argparse.Namespace) -> int:
    from trayapp.core.linking import (
        aacli_program,
        credential_process_command,
        link_credential_process,
    )

    target = service.resolve(args.target)
    if config_sso.is_permission_set(target) and not args.server:
        return config_sso.link_permission_set(service, target, args.aws_profile)
    name = validate.aws_profile(args.aws_profile or f"{target.aws_profile}-process")
    command = credential_process_command(aacli_program(), target.label, server=args.server)
    config_file = service.deps.aws.config_file
    created = link_credential_process(
        config_file, service.deps.app.lock_file, name, command, target.account.region
    )
    verb = "Added" if created else "Updated"
    say(
        f"{verb} [profile {name}] in {config_file}: AWS tools using --profile {name} "
        f"get {target.label}'s credentials from aacli."
    )
    return 0


def path(service: Service, args: argparse.Namespace) -> int:
    print(service.deps.app.config_file)
    return 0


ACTIONS: dict[str, Callable[[Service, argparse.Namespace], int]] = {
    "add-profile": add_profile,
    "set-key": set_key,
    "add-account": add_account,
    "add-role": add_role,
    "import-aws": import_aws,
    "show": show,
    "remove": remove,
    "link-aws": link_aws,
    "codes": config_codes.codes,
    "totp": config_codes.totp,
    "mfa-session": config_codes.mfa_session,
    "keep-fresh": config_codes.keep_fresh,
    "serve": config_codes.serve,
    "rotate-after": config_codes.rotate_after,
    "path": path,
}
ACTIONS.update(config_sso.ACTIONS)  # add-sso, sync


def _iso(value: object) -> str:
    from datetime import datetime

    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
