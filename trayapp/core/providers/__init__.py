"""Where a role's credentials come from: one module per provider, picked from the config.

- ``assume_role``: AssumeRole with MFA straight from the hub keys (the default);
- ``session_token`` + ``cached_session``: an MFA session (GetSessionToken), cached;
- ``chained_role``: AssumeRole from another provider's temporary credentials;
- ``identity_center``: a permission set's credentials (GetRoleCredentials), or a role chained
  from one.
A new source of credentials is a new module here, not a new branch in the service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the modules themselves are imported by provider_for, as it picks them
    from trayapp.core.model import Target
    from trayapp.core.providers.base import CredentialProvider, ProviderContext


def provider_for(
    ctx: ProviderContext,
    target: Target,
    *,
    duration_seconds: int,
    session_name: str,
    source_identity: str | None = None,
) -> CredentialProvider:
    """The provider chain the target's profile asks for (only its modules are imported)."""
    if target.profile.is_identity_center:
        from trayapp.core.providers.identity_center import identity_center_provider

        return identity_center_provider(
            ctx,
            target,
            duration_seconds=duration_seconds,
            session_name=session_name,
            source_identity=source_identity,
        )
    from trayapp.core.providers.hub_keys import HubKeys

    hub = HubKeys(ctx, target.profile)
    if target.profile.mfa_session_seconds:
        from trayapp.core.providers.cached_session import CachedSession
        from trayapp.core.providers.chained_role import ChainedRole
        from trayapp.core.providers.session_token import SessionToken

        return ChainedRole(
            ctx,
            base=CachedSession(SessionToken(hub, label=target.label)),
            target=target,
            duration_seconds=duration_seconds,
            session_name=session_name,
            source_identity=source_identity,
        )
    from trayapp.core.providers.assume_role import AssumeRoleWithMfa

    return AssumeRoleWithMfa(
        hub,
        target,
        duration_seconds=duration_seconds,
        session_name=session_name,
        source_identity=source_identity,
    )
