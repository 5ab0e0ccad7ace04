"""Identity Center's portal (the ``sso`` API): what a signed-in hub may reach, and ``sync``.

ListAccounts and ListAccountRoles take the sign-in's bearer token (never a key). ``sync``
turns their answer into accounts and roles of the config: accounts matched by id (a name the
user gave one is kept), permission sets as roles marked ``synced``. Pruning removes only what a
sync added and the portal no longer lists, never a role added by hand.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from trayapp.core import validate
from trayapp.core.errors import (
    AccessDeniedError,
    NetworkError,
    SignInNeeded,
    StsError,
    ThrottledError,
    UsageError,
)
from trayapp.core.model import Account, Config, Profile, Role
from trayapp.core.untrusted import shown

if TYPE_CHECKING:
    from trayapp.core.sso.signin import SsoContext

PAGE_SIZE = 100
MAX_PAGES = 100  # 10 000 accounts: a portal that never stops paging is refused
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+", re.ASCII)

# What the portal listed: (account id, account name, its permission sets).
Assignments = Sequence[tuple[str, str, Sequence[str]]]


def portal_client(ctx: SsoContext, hub: Profile) -> Any:
    """A client of the portal API in the hub's Identity Center region (unsigned: the bearer
    token goes in each call)."""
    return ctx.client("sso", _sso(hub).region)


def list_accounts(ctx: SsoContext, hub: Profile, token: str) -> list[tuple[str, str]]:
    """(account id, account name) of every account the signed-in user is assigned to."""
    found: list[tuple[str, str]] = []
    for page in _pages(ctx, hub, "list_accounts", accessToken=token):
        for item in page.get("accountList", []):
            found.append((str(item.get("accountId", "")), str(item.get("accountName", ""))))
    return found


def list_account_roles(ctx: SsoContext, hub: Profile, token: str, account_id: str) -> list[str]:
    """The permission sets the signed-in user has in ``account_id``."""
    found: list[str] = []
    for page in _pages(ctx, hub, "list_account_roles", accessToken=token, accountId=account_id):
        found.extend(str(item.get("roleName", "")) for item in page.get("roleList", []))
    return found


def assignments(ctx: SsoContext, hub: Profile, token: str) -> list[tuple[str, str, list[str]]]:
    """Every account with its permission sets: what ``sync`` takes."""
    return [
        (account_id, name, list_account_roles(ctx, hub, token, account_id))
        for account_id, name in list_accounts(ctx, hub, token)
    ]


def _pages(ctx: SsoContext, hub: Profile, operation: str, **params: str) -> list[dict[str, Any]]:
    client = portal_client(ctx, hub)
    pages: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(MAX_PAGES):
        call = dict(params, maxResults=PAGE_SIZE, **({"nextToken": token} if token else {}))
        try:
            page = getattr(client, operation)(**call)
        except Exception as exc:
            raise portal_error(exc, hub) from None
        pages.append(page)
        token = page.get("nextToken")
        if not token:
            return pages
    raise StsError(f"Identity Center of {hub.name} listed more than {MAX_PAGES} pages; stopped.")


def portal_error(exc: BaseException, hub: Profile, what: str = "") -> Exception:
    """One sentence for a failed portal call (never with the token in it)."""
    import botocore.exceptions as bex

    if isinstance(exc, bex.ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code == "UnauthorizedException":
            return SignInNeeded(
                f"The sign-in to {hub.name} has expired or was revoked; "
                f"sign in again: aacli login {hub.name}"
            )
        if code in ("ForbiddenException", "ResourceNotFoundException", "AccessDeniedException"):
            return AccessDeniedError(
                f"Identity Center does not give you {what or 'this'}: it is not (or no longer) "
                f"assigned to you; 'aacli config sync {hub.name}' shows what is."
            )
        if code == "TooManyRequestsException":
            return ThrottledError("Identity Center is throttling requests; try again shortly.")
        return StsError(f"Identity Center refused the request ({shown(code) or 'no code'}).")
    if isinstance(exc, bex.BotoCoreError):
        return NetworkError(
            f"Identity Center of {hub.name} could not be reached ({type(exc).__name__}); "
            "check the network and try again."
        )
    return StsError(f"The call to Identity Center failed unexpectedly ({type(exc).__name__}).")


@dataclass(frozen=True)
class SyncReport:
    """What a sync changed, as ``account`` or ``account/role`` labels under the hub."""

    hub: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()  # not assigned (now), yet kept: each says why
    notes: tuple[str, ...] = ()  # what the portal listed that could not be used

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def sync(
    config: Config, hub_name: str, listed: Assignments, *, prune: bool
) -> tuple[Config, SyncReport]:
    """``config`` with the hub's accounts and permission sets as the portal ``listed`` them."""
    from trayapp.core.config import find_profile, replace_profile

    hub = find_profile(config, hub_name)
    if hub is None:
        raise UsageError(f"no profile named '{hub_name}'")
    _sso(hub)
    added: list[str] = []
    removed: list[str] = []
    kept: list[str] = []
    notes: list[str] = []
    taken = _aws_profiles(config)
    accounts = {a.account_id: a for a in hub.accounts}
    order = [a.account_id for a in hub.accounts]
    assigned: dict[str, set[str]] = {}
    for account_id, portal_name, roles in listed:
        try:
            account_id = validate.account_id(account_id)
        except UsageError:
            notes.append(f"skipped account {shown(account_id)}: not a 12-digit id")
            continue
        account = accounts.get(account_id)
        if account is None:
            name = _account_name(portal_name, account_id, {a.name for a in accounts.values()})
            account = Account(name=name, account_id=account_id, region=_sso(hub).region)
            order.append(account_id)
            added.append(name)
        names = assigned.setdefault(account_id, set())
        for role_name in roles:
            try:
                validate.role_name(role_name)
            except UsageError:
                notes.append(f"skipped permission set {shown(role_name)}: not a role name")
                continue
            names.add(role_name)
            if any(r.name == role_name for r in account.roles):
                continue
            aws_profile = _aws_profile(hub_name, account.name, role_name, taken)
            role = Role(name=role_name, synced=True, aws_profile=aws_profile)
            account = replace(account, roles=(*account.roles, role))
            added.append(f"{account.name}/{role_name}")
        accounts[account_id] = account
    for account_id in list(order):
        account = accounts[account_id]
        account, gone, stays = _unassigned(account, assigned.get(account_id, set()), prune)
        removed += gone
        kept += stays
        if prune and account_id not in assigned:
            if account.roles:
                kept.append(f"{account.name} (not assigned now; holds roles added by hand)")
            elif gone:  # its synced roles were all it had
                removed.append(account.name)
                order.remove(account_id)
            else:
                kept.append(f"{account.name} (not assigned now; added by hand, with no roles)")
        accounts[account_id] = account
    new_hub = replace(hub, accounts=tuple(accounts[i] for i in order))
    report = SyncReport(hub_name, tuple(added), tuple(removed), tuple(kept), tuple(notes))
    return replace_profile(config, new_hub), report


def _unassigned(
    account: Account, assigned: set[str], prune: bool
) -> tuple[Account, list[str], list[str]]:
    """``account`` without the synced permission sets no longer ``assigned`` (when pruning),
    what went and what stayed (and why)."""
    vias = {r.via for r in account.roles if r.via}
    keep: list[Role] = []
    gone: list[str] = []
    stays: list[str] = []
    for role in account.roles:
        label = f"{account.name}/{role.name}"
        if role.name in assigned or role.via is not None:  # a via role is never the portal's
            keep.append(role)
            continue
        if not role.synced:
            stays.append(f"{label} (not assigned now; added by hand, so never pruned)")
        elif role.name in vias:
            stays.append(f"{label} (not assigned now; a role added by hand goes via it)")
        elif not prune:
            stays.append(f"{label} (not assigned now; --prune removes it)")
        else:
            gone.append(label)
            continue
        keep.append(role)
    return replace(account, roles=tuple(keep)), gone, stays


def _account_name(portal_name: str, account_id: str, taken: set[str]) -> str:
    """An aacli name for a new account: the portal's name made safe, else its id."""
    name = _UNSAFE.sub("-", portal_name.strip()).strip("-._")[:64].rstrip("-._")
    try:
        validate.name(name, "account name")
    except UsageError:
        name = account_id
    if name in taken:
        name = f"{name[:51]}-{account_id}"
    return name


def _aws_profiles(config: Config) -> set[str]:
    """The AWS profiles every role of the config writes."""
    from trayapp.core.targets import all_targets

    return {t.aws_profile for t in all_targets(config)}


def _aws_profile(hub: str, account: str, role: str, taken: set[str]) -> str | None:
    """None (the default ``account-role``) when that is free; else one named after the hub."""
    default = f"{account}-{role}"
    name = default if default not in taken else f"{hub}-{account}-{role}"[:64]
    taken.add(name)
    return None if name == default else name


def _sso(hub: Profile) -> Any:
    if hub.identity_center is None:
        raise UsageError(
            f"'{hub.name}' is an IAM-user hub; only an Identity Center hub is synced "
            "(add one with 'aacli config add-sso')"
        )
    return hub.identity_center
