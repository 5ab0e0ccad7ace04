"""The hub IAM user's long-term keys: the base every IAM-user provider starts from."""

from __future__ import annotations

from dataclasses import dataclass

from trayapp.core.errors import SecretStoreError
from trayapp.core.model import Profile
from trayapp.core.providers.base import ProviderContext
from trayapp.core.sts import StsCaller


def hub_secret_key(profile: str) -> str:
    """The name under which a profile's hub secret access key is stored."""
    from trayapp.core.secrets.base import SECRET_ACCESS_KEY, secret_key

    return secret_key(profile, SECRET_ACCESS_KEY)


@dataclass(frozen=True)
class HubKeys:
    """Needs: the profile (access key id, STS region) and its secret in the secret store.
    Gives: an ``StsCaller`` signing as the hub user (no credentials of its own to hand out)."""

    ctx: ProviderContext
    profile: Profile

    def caller(self) -> StsCaller:
        secret = self.ctx.secrets().get(hub_secret_key(self.profile.name))
        if not secret:
            raise SecretStoreError(
                f"No secret key is stored for profile '{self.profile.name}'; "
                f"store it with 'aacli config set-key {self.profile.name}'."
            )
        return StsCaller(
            access_key_id=self.profile.access_key_id,
            secret_access_key=secret,
            region=self.profile.sts_region,
            endpoint_url=self.ctx.endpoint_url,
        )
