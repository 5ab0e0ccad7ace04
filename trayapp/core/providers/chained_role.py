"""AssumeRole with another provider's temporary credentials (no MFA code of its own)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from trayapp.core.errors import InvalidHubKeyError
from trayapp.core.model import Credentials, Target
from trayapp.core.providers.base import CredentialProvider, Hint, ProviderContext
from trayapp.core.sts import StsCaller, assume_role

if TYPE_CHECKING:
    from trayapp.core.codes import CodeSource

CHAINED_MAX = 3600  # AWS caps role sessions assumed from temporary credentials at 1 h


class Forgettable(CredentialProvider, Protocol):
    def forget(self) -> None:
        """Drop whatever the provider cached (its credentials were refused)."""


@dataclass(frozen=True)
class ChainedRole:
    """Needs: a base provider of temporary credentials (e.g. the cached MFA session). Gives:
    the role's credentials from ``sts:AssumeRole`` signed with them, at most 1 h (AWS's rule
    for chained sessions), with no console ``SessionDuration``. When the base credentials are
    refused (revoked, lapsed early), the base is told to forget them and asked once more.
    Sends the role's external id, session tags and ``source_identity`` as the direct path does."""

    ctx: ProviderContext
    base: Forgettable
    target: Target
    duration_seconds: int
    session_name: str
    source_identity: str | None = None  # resolved ("auto" is the user name by now)

    def retrieve(self, source: CodeSource, hint: Hint = None) -> Credentials:
        for attempt in range(2):
            base = self.base.retrieve(source, hint)
            client = self.ctx.sts_factory(
                StsCaller(
                    access_key_id=base.access_key_id,
                    secret_access_key=base.secret_access_key,
                    session_token=base.session_token,
                    region=self.target.profile.sts_region,
                    endpoint_url=self.ctx.endpoint_url,
                )
            )
            try:
                return assume_role(
                    client,
                    role_arn=self.target.role_arn,
                    session_name=self.session_name,
                    duration_seconds=min(self.duration_seconds, CHAINED_MAX),
                    mfa_serial=None,
                    code=None,
                    from_long_term_keys=False,
                    external_id=self.target.role.external_id,
                    source_identity=self.source_identity,
                    tags=self.target.role.tags,
                    transitive_tag_keys=self.target.role.transitive_tag_keys,
                )
            except InvalidHubKeyError:
                self.base.forget()
                if attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover
