"""GetSessionToken with the MFA code: an "MFA session" of the hub user, no role yet."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from trayapp.core.model import Credentials
from trayapp.core.providers.base import Hint, call_with_code
from trayapp.core.providers.hub_keys import HubKeys
from trayapp.core.sts import get_session_token

if TYPE_CHECKING:
    from trayapp.core.codes import CodeSource

DEFAULT_SECONDS = 43200


@dataclass(frozen=True)
class SessionToken:
    """Needs: the hub keys and a code source. Gives: temporary hub credentials from
    ``sts:GetSessionToken`` with MFA, whose role assumptions then need no code."""

    hub: HubKeys
    label: str  # the target that asked, shown in the code prompt

    def retrieve(self, source: CodeSource, hint: Hint = None) -> Credentials:
        profile = self.hub.profile
        client = self.hub.ctx.sts_factory(self.hub.caller())
        seconds = profile.mfa_session_seconds or DEFAULT_SECONDS

        def get_token(code: str) -> Credentials:
            return get_session_token(
                client, duration_seconds=seconds, mfa_serial=profile.mfa_serial, code=code
            )

        return call_with_code(
            self.hub.ctx,
            label=self.label,
            device=profile.mfa_serial,
            source=source,
            hint=hint,
            call=get_token,
        )
