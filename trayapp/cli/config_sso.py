"""aacli config add-sso / sync, and link-aws of a permission set: Identity Center hubs."""

from __future__ import annotations

import argparse
from typing import Any

from trayapp.cli.context import say
from trayapp.core import validate
from trayapp.core.model import Target
from trayapp.core.service import Service

ADD_SSO_HELP = """\
An Identity Center hub: instead of an IAM user's key and MFA device, you sign
in at your organisation's start URL (a browser, or a code for ssh sessions);
its accounts and permission sets then come from 'aacli config sync'. The hub's
name is also its AWS CLI sso-session name, so 'aws sso login --sso-session NAME'
and 'aacli login NAME' share one sign-in.

examples:
  aacli config add-sso corp --start-url https://corp.awsapps.com/start --region eu-west-1
  aacli login corp                  sign in (add --device-code on an ssh session)
  aacli config sync corp            its accounts and permission sets
  aacli auth corp/dev/AdministratorAccess"""

SYNC_HELP = """\
Reads the accounts and permission sets you are assigned to (ListAccounts,
ListAccountRoles) and adds those missing: accounts by id (a name you gave one
is kept), permission sets as roles marked 'synced'. With --prune, synced roles
no longer assigned are removed (their sessions signed out), and accounts left
empty; a role you added by hand (a --via role, or any role not synced) and an
account that still holds one are never removed.

examples:
  aacli config sync corp
  aacli config sync corp --prune"""

VIA_HELP = (
    "Identity Center hubs: the permission set (same account) whose credentials assume this "
    "role, e.g. an existing spoke role; AWS caps such chained sessions at 1 h (renewed)"
)


def register(sub: Any) -> None:
    """add-sso and sync, on ``aacli config``'s sub-command parser."""
    p = sub.add_parser(
        "add-sso",
        help="add an Identity Center hub (sign-in at a start URL; no key)",
        description=ADD_SSO_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", help="a short name, e.g. corp (also its AWS CLI sso-session name)")
    p.add_argument("--start-url", required=True, help="the AWS access portal URL, https://…")
    p.add_argument("--region", required=True, help="the Identity Center instance's region")

    p = sub.add_parser(
        "sync",
        help="accounts and permission sets of an Identity Center hub, from its portal",
        description=SYNC_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", help="the Identity Center hub")
    p.add_argument("--prune", action="store_true", help="remove synced roles no longer assigned")


def add_sso(service: Service, args: argparse.Namespace) -> int:
    from trayapp.core import config_ops

    hub = config_ops.add_identity_center_hub(service, args.name, args.start_url, args.region)
    say(
        f"Added Identity Center hub '{hub.name}'. Next: 'aacli login {hub.name}', then "
        f"'aacli config sync {hub.name}' for its accounts and permission sets."
    )
    return 0


def sync(service: Service, args: argparse.Namespace) -> int:
    report = service.sync(args.name, prune=args.prune)
    for label in report.added:
        say(f"added {args.name}/{label}")
    for label in report.removed:
        say(f"removed {args.name}/{label}")
    for label in report.kept:
        say(f"kept {args.name}/{label}")
    for note in report.notes:
        say(note)
    hub = service.identity_center_hub(args.name)
    sets = sum(1 for a in hub.accounts for r in a.roles if r.via is None)
    say(
        f"{args.name}: {len(report.added)} added, {len(report.removed)} removed; now "
        f"{len(hub.accounts)} account(s), {sets} permission set(s)."
    )
    return 0


def is_permission_set(target: Target) -> bool:
    return target.profile.is_identity_center and target.role.via is None


def link_permission_set(service: Service, target: Target, aws_profile: str | None) -> int:
    """``link-aws`` of a permission set: the AWS CLI's own sso profile, which signs in through
    ``[sso-session HUB]`` (the sign-in aacli shares), no aacli in between."""
    from trayapp.core.linking import link_sso_role
    from trayapp.core.sso.signin import write_sso_session

    name = validate.aws_profile(aws_profile or f"{target.aws_profile}-sso")
    config_file = service.deps.aws.config_file
    write_sso_session(service.sso_context(), target.profile)
    created = link_sso_role(
        config_file,
        service.deps.app.lock_file,
        name,
        sso_session=target.profile.name,
        account_id=target.account.account_id,
        role_name=target.role.name,
        region=target.account.region,
    )
    verb = "Added" if created else "Updated"
    say(
        f"{verb} [profile {name}] in {config_file}: AWS tools using --profile {name} sign in "
        f"as {target.label} through [sso-session {target.profile.name}] "
        f"(after 'aacli login {target.profile.name}' or 'aws sso login')."
    )
    return 0


ACTIONS = {"add-sso": add_sso, "sync": sync}
