"""The service's Identity Center verbs: sign in, sign out, the sign-in's expiry, sync.

Mixed into ``core/service.Service`` (so the CLI and the tray call them on the one facade);
each is a thin call into ``core/sso`` (``signin``, ``portal``) with the service's context.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from trayapp.core.model import Profile

if TYPE_CHECKING:
    from trayapp.core.model import Config
    from trayapp.core.service import Deps
    from trayapp.core.session_files import SessionFiles
    from trayapp.core.sso.portal import SyncReport
    from trayapp.core.sso.signin import DeviceCode, SsoContext


class ServiceParts(Protocol):
    """What the verbs use of the service they are mixed into."""

    deps: Deps
    files: SessionFiles
    _sso_context: SsoContext | None

    @property
    def config(self) -> Config: ...
    def update_config(self, change: Callable[[Config], Config]) -> Config: ...
    def sso_context(self) -> SsoContext: ...
    def identity_center_hub(self, name: str) -> Profile: ...
    def sso_expiry(self, name: str) -> datetime | None: ...


class IdentityCenterVerbs:
    """What the service does for Identity Center hubs."""

    _sso_context: SsoContext | None = None

    def sso_context(self: ServiceParts) -> SsoContext:
        """Identity Center's files, clock and endpoint for this service (made on first use)."""
        if self._sso_context is None:
            from trayapp.core.sso.signin import SsoContext

            self._sso_context = SsoContext(
                aws=self.deps.aws,
                app=self.deps.app,
                clock=self.deps.clock,
                endpoint_url=self.deps.sso_endpoint_url,
            )
        return self._sso_context

    def identity_center_hub(self: ServiceParts, name: str) -> Profile:
        """Profile ``name``, which must be an Identity Center hub."""
        from trayapp.core.config import identity_center_hub

        return identity_center_hub(self.config, name)

    def sign_in(
        self: ServiceParts,
        name: str,
        *,
        open_browser: Callable[[str], bool],
        show_device_code: Callable[[DeviceCode], None],
        device_code: bool = False,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> datetime:
        """Sign in to hub ``name`` (browser + PKCE, or the device flow); the token's expiry."""
        from trayapp.core.sso import signin

        token = signin.sign_in(
            self.sso_context(),
            self.identity_center_hub(name),
            open_browser=open_browser,
            show_device_code=show_device_code,
            device_code=device_code,
            cancelled=cancelled,
        )
        return token.expires_at

    def sign_out(self: ServiceParts, name: str) -> bool:
        """End hub ``name``'s sign-in; True when there was one. Written credentials stay
        until they expire (AWS cannot revoke them either), as with ``aws sso logout``."""
        from trayapp.core.sso import signin

        return signin.sign_out(self.sso_context(), self.identity_center_hub(name))

    def sso_expiry(self: ServiceParts, name: str) -> datetime | None:
        """When hub ``name``'s sign-in ends (None: not signed in); no network."""
        from trayapp.core.sso import signin

        return signin.token_expiry(self.sso_context(), self.identity_center_hub(name))

    def signed_in(self: ServiceParts, hub: Profile) -> bool:
        """Whether ``hub`` has a live sign-in (a role of it is then had without asking)."""
        expiry = self.sso_expiry(hub.name)
        return expiry is not None and expiry > self.deps.clock()

    def sync(self: ServiceParts, name: str, prune: bool = False) -> SyncReport:
        """Accounts and permission sets of hub ``name`` from the portal into the config; with
        ``prune``, synced ones no longer assigned go (their sessions signed out)."""
        from trayapp.core.sso import portal, signin

        hub = self.identity_center_hub(name)
        ctx = self.sso_context()
        listed = portal.assignments(ctx, hub, signin.access_token(ctx, hub))
        reports: list[SyncReport] = []

        def change(config: Config) -> Config:
            new, report = portal.sync(config, name, listed, prune=prune)
            reports[:] = [report]
            return new

        self.update_config(change)
        for label in reports[0].removed:
            if "/" in label:
                self.files.unauth(f"{name}/{label}")
        return reports[0]
