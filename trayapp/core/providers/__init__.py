"""Where a role's credentials come from: one module per provider, picked from the config.

- ``assume_role``: AssumeRole with MFA straight from the hub keys (the default);
- ``session_token`` + ``cached_session``: an MFA session (GetSessionToken), cached;
- ``chained_role``: AssumeRole from another provider's temporary credentials;
- ``identity_center``: a permission set's credentials (GetRoleCredentials), or a role chained
  from one.
A new source of credentials is a new module here, not a new branch in the service.
"""

from __future__ import annotations

from trayapp.core.model import Target
from trayapp.core.providers.assume_role import AssumeRoleWithMfa
from trayapp.core.providers.base import CredentialProvider, ProviderContext, call_with_code
from trayapp.core.providers.cached_session import CachedSession, MfaSessionCache
from trayapp.core.providers.chained_role import CHAINED_MAX, ChainedRole
from trayapp.core.providers.hub_keys import HubKeys, hub_secret_key
from trayapp.core.providers.identity_center import PermissionSet, identity_center_provider
from trayapp.core.providers.session_token import SessionToken

__all__ = [
    "CHAINED_MAX",
    "AssumeRoleWithMfa",
    "CachedSession",
    "ChainedRole",
    "CredentialProvider",
    "HubKeys",
    "MfaSessionCache",
    "PermissionSet",
    "ProviderContext",
    "SessionToken",
    "call_with_code",
    "hub_secret_key",
    "provider_for",
]


def provider_for(
    ctx: ProviderContext,
    target: Target,
    *,
    duration_seconds: int,
    session_name: str,
    source_identity: str | None = None,
) -> CredentialProvider:
    """The provider chain the target's profile asks for."""
    if target.profile.is_identity_center:
        return identity_center_provider(
            ctx,
            target,
            duration_seconds=duration_seconds,
            session_name=session_name,
            source_identity=source_identity,
        )
    hub = HubKeys(ctx, target.profile)
    if target.profile.mfa_session_seconds:
        return ChainedRole(
            ctx,
            base=CachedSession(SessionToken(hub, label=target.label)),
            target=target,
            duration_seconds=duration_seconds,
            session_name=session_name,
            source_identity=source_identity,
        )
    return AssumeRoleWithMfa(
        hub,
        target,
        duration_seconds=duration_seconds,
        session_name=session_name,
        source_identity=source_identity,
    )
