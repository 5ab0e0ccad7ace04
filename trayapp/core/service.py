"""The facade the CLI and the tray call: orchestration only.

Where credentials come from is ``core/providers`` (one module per provider); where they go is
``core/session_files`` (the AWS files + ledger), ``core/envvars`` (env/exec/credential_process)
and ``core/console``; the secrets of each profile are ``core/profile_secrets``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from trayapp.core.audit import os_user_name
from trayapp.core.clock import Clock, system_clock
from trayapp.core.errors import CredFileError
from trayapp.core.model import Config, Credentials, Profile, Session, Target
from trayapp.core.paths import AppPaths, AwsPaths
from trayapp.core.profile_secrets import ProfileSecrets, no_passphrase
from trayapp.core.providers.base import ProviderContext
from trayapp.core.providers.cached_session import MfaSessionCache
from trayapp.core.session_files import Removal as Removal  # re-exported
from trayapp.core.session_files import SessionFiles
from trayapp.core.sso.hubs import IdentityCenterVerbs
from trayapp.core.sts import StsClientFactory, make_sts_client

# Imported where used (codes, config, targets, validate): `aacli status` needs none of them,
# and every millisecond of import is start-up time of every command.
if TYPE_CHECKING:
    from trayapp.core.codes import CodeSource
    from trayapp.core.console import SigninUrl
    from trayapp.core.secrets import Forgotten
    from trayapp.core.secrets.base import SecretStore

log = logging.getLogger(__name__)

MIN_LEFT = timedelta(minutes=2)  # a session closer to expiry than this is renewed before use


@dataclass(frozen=True)
class Deps:
    """Everything the service touches, passed in so tests can use real parts."""

    app: AppPaths
    aws: AwsPaths
    clock: Clock = system_clock
    sts_factory: StsClientFactory = make_sts_client
    endpoint_url: str | None = None
    sso_endpoint_url: str | None = None  # Identity Center's (sso-oidc and the portal)
    passphrase: Callable[[], str] = no_passphrase
    os_user: str = field(default_factory=os_user_name)


class Service(IdentityCenterVerbs):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._config: Config | None = None
        self.files = SessionFiles(deps.app, deps.aws, deps.clock)
        self.profile_secrets = ProfileSecrets(
            backend=lambda: self.config.settings.secret_backend,
            vault_file=deps.app.vault_file,
            code_windows_file=deps.app.code_windows_file,
            passphrase=deps.passphrase,
            clock=deps.clock,
        )
        # What the providers may touch (the secret store opens on first use).
        self.context = ProviderContext(
            clock=deps.clock,
            sts_factory=deps.sts_factory,
            endpoint_url=deps.endpoint_url,
            secrets=self.secrets,
            app=deps.app,
            sso=self.sso_context,
        )
        self.mfa_cache = MfaSessionCache(self.context)

    # Config and targets

    @property
    def config(self) -> Config:
        if self._config is None:
            from trayapp.core.config import load_config

            self._config = load_config(self.deps.app.config_file)
        return self._config

    def reload(self) -> Config:
        self._config = None
        return self.config

    def update_config(self, change: Callable[[Config], Config]) -> Config:
        """Change the config as it is on disk now, under the config lock (no lost updates)."""
        from trayapp.core.config import update_config

        self._config = update_config(self.deps.app.config_file, change)
        return self._config

    def targets(self) -> list[Target]:
        from trayapp.core.targets import all_targets

        return all_targets(self.config)

    def resolve(self, text: str) -> Target:
        from trayapp.core.targets import resolve_target

        return resolve_target(self.config, text)

    # Getting credentials: the provider the target's profile asks for, then the files.

    def authenticate(
        self,
        target: Target,
        source: CodeSource,
        *,
        duration_seconds: int | None = None,
        also_default: bool = False,
        hint: Callable[[], str] | None = None,
    ) -> Session:
        """Get the role's credentials from its provider (asking ``source`` for a code when
        one is needed), write them, record the session."""
        creds = self.fetch_credentials(target, source, duration_seconds=duration_seconds, hint=hint)
        with self.files.locked():
            session = self.files.record(target, creds, also_default)
        log.debug(
            "%s: wrote AWS profile %s in %s (until %s)",
            target.label,
            ", ".join(session.aws_profiles),
            session.credentials_file,
            session.expiration.isoformat(),
        )
        return session

    def fetch_credentials(
        self,
        target: Target,
        source: CodeSource,
        *,
        duration_seconds: int | None = None,
        hint: Callable[[], str] | None = None,
    ) -> Credentials:
        """The role's credentials from its provider chain, written nowhere (no AWS file, no
        ledger entry): what the local credential server (core/server) hands out."""
        from trayapp.core import validate
        from trayapp.core.audit import target_identity
        from trayapp.core.providers import provider_for

        duration = validate.duration(duration_seconds or target.role.duration_seconds)
        identity = target_identity(
            self.context, target, os_user=self.deps.os_user, save=self.update_config
        )
        provider = provider_for(
            self.context,
            target,
            duration_seconds=duration,
            session_name=identity.session_name,
            source_identity=identity.source_identity,
        )
        log.debug("%s: credentials from %s", target.label, type(provider).__name__)
        return provider.retrieve(source, hint)

    def can_renew_silently(self, target: Target) -> bool:
        """Whether a code can be had without asking anyone (keep-fresh renewal): a live MFA
        session, a command that prints codes (a YubiKey may want a touch), a stored seed; an
        Identity Center hub's live sign-in."""
        profile = target.profile
        if profile.is_identity_center:
            return self.signed_in(profile)
        if profile.mfa_session_seconds and profile.name in self.mfa_sessions():
            return True
        return profile.codes == "process" or self.profile_secrets.totp_seed(profile) is not None

    # Sessions: what aacli wrote into the AWS files (core/session_files).

    def sessions(self) -> list[Session]:
        return self.files.sessions()

    def status(self) -> list[Session]:
        """Live sessions, soonest expiry first (expired ones are swept first)."""
        return self.files.status()

    def ledger_problems(self) -> list[str]:
        return self.files.ledger_problems()

    def session_for(self, target: Target) -> Session | None:
        return self.files.session_for(target.label)

    def credentials_of(self, session: Session) -> Credentials:
        return self.files.credentials_of(session)

    def unauth(self, target: Target) -> Removal | None:
        """Remove a target's credentials; None when it had no session."""
        return self.files.unauth(target.label)

    def unauth_all(self) -> list[Removal]:
        return self.files.unauth_all()

    def sweep(self, now: datetime | None = None) -> list[Removal]:
        """Remove every session that has expired (every command calls this first)."""
        return self.files.sweep(now)

    def ensure_session(
        self,
        target: Target,
        source: Callable[[], CodeSource],
        *,
        min_left: timedelta = MIN_LEFT,
        hint: Callable[[], str] | None = None,
    ) -> tuple[Session, Credentials]:
        """A session live for at least ``min_left``, and its credentials.

        ``source`` is called only when a code is needed, so a live session never prompts.
        """
        session = self.files.live(target.label, min_left)
        if session is not None:
            try:
                return session, self.credentials_of(session)
            except CredFileError:
                pass  # the user removed the keys by hand: authenticate afresh
        from trayapp.core.codes import LazyCode

        session = self.authenticate(target, LazyCode(source), hint=hint)
        return session, self.credentials_of(session)

    def console_url(
        self,
        target: Target,
        source: Callable[[], CodeSource],
        *,
        destination: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> SigninUrl:
        """A console sign-in URL for ``target`` (authenticating first if needed)."""
        from trayapp.core.console import signin_url

        _, creds = self.ensure_session(target, source)
        return signin_url(
            creds,
            partition=target.profile.partition,
            region=target.account.region,
            now=self.deps.clock(),
            destination=destination,
            env=env,
        )

    # Secrets of the profiles (core/profile_secrets); the MFA session is the cache provider's.

    def secrets(self) -> SecretStore:
        return self.profile_secrets.store()

    def set_hub_secret(self, profile: str, secret_access_key: str) -> None:
        self.profile_secrets.set_hub_secret(profile, secret_access_key)
        self.drop_mfa_session(profile)  # a session of the old key must not outlive it

    def backend_in_use(self) -> str:
        return self.profile_secrets.backend_in_use()

    def switch_secret_backend(self, backend: str) -> int:
        """Move every secret in the store to ``backend``, pinned in the config; how many."""
        from trayapp.core.config import with_secret_backend

        return self.profile_secrets.switch_to(
            backend, lambda name: self.update_config(lambda c: with_secret_backend(c, name))
        )

    def forget_secrets(self) -> list[Forgotten]:
        """Delete every secret aacli ever stored, keyring and vault (for reset)."""
        return self.profile_secrets.forget_everything()

    def forget_profile_secrets(self, profile_name: str) -> int:
        """Delete every secret of one profile and its MFA-session entry; how many secrets."""
        forgotten = self.profile_secrets.forget_profile(profile_name)
        self.drop_mfa_session(profile_name)  # its index entry (the secret went just now)
        return forgotten

    def mfa_sessions(self) -> dict[str, datetime]:
        """Live MFA sessions' expiry per profile (no secrets: read from the state dir)."""
        return self.mfa_cache.live()

    def drop_mfa_session(self, profile_name: str) -> bool:
        """Forget a profile's MFA session; True when there was one."""
        return self.mfa_cache.drop(profile_name)

    def stored_code_source(
        self, profile: Profile, on_wait: Callable[[float], None] | None = None
    ) -> CodeSource | None:
        return self.profile_secrets.stored_code_source(profile, on_wait)


def service_from_env(
    passphrase_for: Callable[[AppPaths], str], env: Mapping[str, str] | None = None
) -> Service:
    """The service as the environment sets it up (AACLI_HOME, AWS_* files, endpoint)."""
    from trayapp.core.sts import endpoint_from_env, sso_endpoint_from_env

    app = AppPaths.from_env(env)
    return Service(
        Deps(
            app=app,
            aws=AwsPaths.from_env(env),
            endpoint_url=endpoint_from_env(env),
            sso_endpoint_url=sso_endpoint_from_env(env),
            passphrase=lambda: passphrase_for(app),
        )
    )
