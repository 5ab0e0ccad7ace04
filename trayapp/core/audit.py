"""Who a role session says it is: its RoleSessionName and SourceIdentity, for CloudTrail.

By default both name the person: the hub IAM user's name, read once from
``sts:GetCallerIdentity`` and kept in the config (read again when the hub key changes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from trayapp.core import validate
from trayapp.core.model import Config, Profile, Role

if TYPE_CHECKING:
    from trayapp.core.model import Target
    from trayapp.core.providers.base import ProviderContext


@dataclass(frozen=True)
class SessionIdentity:
    """What an AssumeRole says about who asked."""

    session_name: str
    source_identity: str | None


def os_user_name() -> str:
    """The operating system's user name (the "os-user" session name)."""
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "aacli"


def wants_user_name(profile: Profile, role: Role) -> bool:
    """Whether the session name or the source identity is the hub user's name ("auto").

    An Identity Center hub has no IAM user: its "auto" session name is the OS user's."""
    if profile.is_identity_center:
        return False
    return profile.session_name in (None, "auto") or role.source_identity == "auto"


def known_user_name(profile: Profile) -> str | None:
    """The stored user name, if it was read with the profile's current key."""
    if profile.user_name and profile.user_name_for == profile.access_key_id:
        return profile.user_name
    return None


def session_identity(
    profile: Profile, role: Role, *, os_user: str, user_name: Callable[[], str]
) -> SessionIdentity:
    """The session name and source identity; ``user_name()`` is called only when needed."""
    user = user_name() if wants_user_name(profile, role) else None
    setting = profile.session_name or "auto"
    if setting == "auto":
        name = user or os_user
    elif setting == "os-user":
        name = os_user
    else:
        name = setting
    source = user if role.source_identity == "auto" else role.source_identity
    return SessionIdentity(validate.session_name(name), source)


def target_identity(
    ctx: ProviderContext,
    target: Target,
    *,
    os_user: str,
    save: Callable[[Callable[[Config], Config]], Config],
) -> SessionIdentity:
    """The session name and source identity of ``target``'s sessions; the hub user's name is
    read (and kept in the config through ``save``) only when needed and not known yet."""
    profile = target.profile
    return session_identity(
        profile,
        target.role,
        os_user=os_user,
        user_name=lambda: known_user_name(profile) or read_user_name(ctx, profile, save),
    )


def with_user_name(config: Config, profile: Profile, user_name: str) -> Config:
    """``config`` with the hub user's name stored for ``profile``'s current key."""
    from trayapp.core.config import find_profile, replace_profile

    current = find_profile(config, profile.name)
    if current is None or current.access_key_id != profile.access_key_id:
        return config  # removed or re-keyed meanwhile: the next auth reads it again
    return replace_profile(
        config, replace(current, user_name=user_name, user_name_for=profile.access_key_id)
    )


def read_user_name(
    ctx: ProviderContext, profile: Profile, save: Callable[[Callable[[Config], Config]], Config]
) -> str:
    """The hub IAM user's name from GetCallerIdentity, kept in the config (``save``) for the
    key it was read with: a rotated key reads it again."""
    from trayapp.core.providers.hub_keys import HubKeys
    from trayapp.core.sts import caller_user_name

    client = ctx.sts_factory(HubKeys(ctx, profile).caller())
    name = validate.session_name(caller_user_name(client))
    save(lambda config: with_user_name(config, profile, name))
    return name
