"""Identity Center role credentials: a permission set's (GetRoleCredentials), or a spoke role
chained from one. No MFA code: the hub's sign-in (its cached bearer token) stands for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from trayapp.core.errors import AccessDeniedError, StsError
from trayapp.core.model import Credentials, Target
from trayapp.core.providers.base import CredentialProvider, Hint, ProviderContext
from trayapp.core.providers.chained_role import ChainedRole

if TYPE_CHECKING:
    from trayapp.core.codes import CodeSource
    from trayapp.core.sso.signin import SsoContext


@dataclass(frozen=True)
class PermissionSet:
    """Needs: an ``SsoContext`` and a signed-in Identity Center hub (its token is refreshed
    when near its end; none cached raises ``SignInNeeded``). Gives: the permission set's
    credentials from the portal's ``GetRoleCredentials`` (as long as the permission set's
    session duration allows), never asking ``source`` for a code."""

    sso: SsoContext
    target: Target  # the hub, the account and the permission set (a role without ``via``)

    def retrieve(self, source: CodeSource, hint: Hint = None) -> Credentials:
        from trayapp.core.sso.portal import portal_client, portal_error
        from trayapp.core.sso.signin import access_token

        hub, account, role = self.target.profile, self.target.account, self.target.role
        token = access_token(self.sso, hub)
        try:
            answer = portal_client(self.sso, hub).get_role_credentials(
                roleName=role.name, accountId=account.account_id, accessToken=token
            )
        except Exception as exc:
            what = f"permission set {role.name} in account {account.name}"
            raise portal_error(exc, hub, what) from None
        try:
            raw = answer["roleCredentials"]
            return Credentials(
                access_key_id=str(raw["accessKeyId"]),
                secret_access_key=str(raw["secretAccessKey"]),
                session_token=str(raw["sessionToken"]),
                expiration=datetime.fromtimestamp(int(raw["expiration"]) / 1000, timezone.utc),
                # Not a chained session (Identity Center assumed the role): the console may
                # be given a SessionDuration, as for a role assumed from long-term keys.
                from_long_term_keys=True,
            )
        except (KeyError, TypeError, ValueError, OverflowError):
            raise StsError(
                f"Identity Center sent credentials for {self.target.label} that cannot be read."
            ) from None

    def forget(self) -> None:
        """Nothing is cached here (the sign-in's token is the token cache's)."""


def identity_center_provider(
    ctx: ProviderContext,
    target: Target,
    *,
    duration_seconds: int,
    session_name: str,
    source_identity: str | None = None,
) -> CredentialProvider:
    """A permission set's provider, or for a role with ``via`` the role chained from the
    permission set it names (AWS caps such a session at 1 h: ``ChainedRole`` asks for no more)."""
    if ctx.sso is None:
        raise StsError("Identity Center is not set up in this aacli process.")
    sso = ctx.sso()
    if target.role.via is None:
        return PermissionSet(sso, target)
    via = next((r for r in target.account.roles if r.name == target.role.via), None)
    if via is None or via.via is not None:  # the config refuses this; a hand-made Config may not
        raise StsError(f"{target.label} goes via {target.role.via!r}, no permission set of it.")
    chained = ChainedRole(
        ctx,
        base=PermissionSet(sso, Target(target.profile, target.account, via)),
        target=target,
        duration_seconds=duration_seconds,
        session_name=session_name,
        source_identity=source_identity,
    )
    return ChainedFromPermissionSet(chained, via.name)


@dataclass(frozen=True)
class ChainedFromPermissionSet:
    """Needs and gives what ``ChainedRole`` does; says a refusal in Identity Center's words
    (no hub user, no MFA: the role must trust the permission set's role)."""

    chained: ChainedRole
    permission_set: str

    def retrieve(self, source: CodeSource, hint: Hint = None) -> Credentials:
        try:
            return self.chained.retrieve(source, hint)
        except AccessDeniedError:
            target = self.chained.target
            raise AccessDeniedError(
                f"Permission set {self.permission_set} may not assume {target.role_arn}: the "
                "role's trust policy must trust the permission set's role (arn:"
                f"{target.profile.partition}:iam::{target.account.account_id}:role/aws-reserved/"
                f"sso.amazonaws.com/AWSReservedSSO_{self.permission_set}_…), and the permission "
                "set must allow sts:AssumeRole on the role."
            ) from None
