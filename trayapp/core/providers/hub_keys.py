"""The hub IAM user's long-term keys: the base every IAM-user provider starts from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from trayapp.core.errors import SecretStoreError
from trayapp.core.model import Profile
from trayapp.core.providers.base import ProviderContext
from trayapp.core.sts import StsCaller

if TYPE_CHECKING:
    from trayapp.core.secrets.base import SecretStore


def hub_secret_key(profile: str) -> str:
    """The name under which a profile's hub secret access key is stored."""
    from trayapp.core.secrets.base import SECRET_ACCESS_KEY, secret_key

    return secret_key(profile, SECRET_ACCESS_KEY)


def hub_caller(profile: Profile, store: SecretStore, endpoint_url: str | None) -> StsCaller:
    """An ``StsCaller`` signing as the profile's hub user, with the secret from ``store``."""
    secret = store.get(hub_secret_key(profile.name))
    if not secret:
        raise SecretStoreError(
            f"No secret key is stored for profile '{profile.name}'; "
            f"store it with 'aacli config set-key {profile.name}'."
        )
    return StsCaller(
        access_key_id=profile.access_key_id,
        secret_access_key=secret,
        region=profile.sts_region,
        endpoint_url=endpoint_url,
    )


@dataclass(frozen=True)
class HubKeys:
    """Needs: the profile (access key id, STS region) and its secret in the secret store.
    Gives: an ``StsCaller`` signing as the hub user (no credentials of its own to hand out)."""

    ctx: ProviderContext
    profile: Profile

    def caller(self) -> StsCaller:
        return hub_caller(self.profile, self.ctx.secrets(), self.ctx.endpoint_url)
