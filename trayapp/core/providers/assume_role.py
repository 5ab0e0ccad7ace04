"""AssumeRole straight from the hub keys, with the MFA code: the default way to a role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from trayapp.core.model import Credentials, Target
from trayapp.core.providers.base import Hint, call_with_code
from trayapp.core.providers.hub_keys import HubKeys
from trayapp.core.sts import assume_role

if TYPE_CHECKING:
    from trayapp.core.codes import CodeSource


@dataclass(frozen=True)
class AssumeRoleWithMfa:
    """Needs: the hub keys and a code source. Gives: the role's credentials from
    ``sts:AssumeRole`` with ``SerialNumber`` + ``TokenCode``, for up to the role's maximum
    duration (and a console session as long: they come from long-term keys)."""

    hub: HubKeys
    target: Target
    duration_seconds: int
    session_name: str
    source_identity: str | None = None  # resolved ("auto" is the user name by now)

    def retrieve(self, source: CodeSource, hint: Hint = None) -> Credentials:
        ctx = self.hub.ctx
        client = ctx.sts_factory(self.hub.caller())

        def assume(code: str) -> Credentials:
            return assume_role(
                client,
                role_arn=self.target.role_arn,
                session_name=self.session_name,
                duration_seconds=self.duration_seconds,
                mfa_serial=self.target.profile.mfa_serial,
                code=code,
                external_id=self.target.role.external_id,
                source_identity=self.source_identity,
                tags=self.target.role.tags,
                transitive_tag_keys=self.target.role.transitive_tag_keys,
            )

        return call_with_code(
            ctx,
            label=self.target.label,
            device=self.target.profile.mfa_serial,
            source=source,
            hint=hint,
            call=assume,
        )
