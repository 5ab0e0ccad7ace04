"""The facade the CLI and the tray call: authenticate, sign out, sweep, status."""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from trayapp.core.clock import Clock, parse_iso, system_clock
from trayapp.core.errors import (
    CredFileError,
    SecretStoreError,
    UsageError,
)
from trayapp.core.model import Config, Credentials, Profile, Session, Target
from trayapp.core.paths import AppPaths, AwsPaths
from trayapp.core.providers.hub_keys import hub_secret_key
from trayapp.core.sessions import is_expired, load_ledger, read_ledger, save_ledger
from trayapp.core.sts import (
    StsClientFactory,
    make_sts_client,
)

# Imported where used (codes, config, targets, validate): `aacli status` needs none of them,
# and every millisecond of import is start-up time of every command.
if TYPE_CHECKING:
    from trayapp.core.audit import SessionIdentity
    from trayapp.core.codes import CodeSource
    from trayapp.core.console import SigninUrl
    from trayapp.core.providers import ProviderContext
    from trayapp.core.secrets import Forgotten
    from trayapp.core.secrets.base import SecretStore

DEFAULT_AWS_PROFILE = "default"
MIN_LEFT = timedelta(minutes=2)  # a session closer to expiry than this is renewed before use


def _no_passphrase() -> str:
    raise SecretStoreError(
        "The vault is locked and there is no way to ask for its passphrase here; "
        "set AACLI_PASSPHRASE or use a terminal."
    )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "aacli"


@dataclass(frozen=True)
class Deps:
    """Everything the service touches, passed in so tests can use real parts."""

    app: AppPaths
    aws: AwsPaths
    clock: Clock = system_clock
    sts_factory: StsClientFactory = make_sts_client
    endpoint_url: str | None = None
    passphrase: Callable[[], str] = _no_passphrase
    os_user: str = field(default_factory=_os_user)


@dataclass(frozen=True)
class Removal:
    """What signing out of one session did."""

    session: Session
    removed: tuple[str, ...]  # AWS profiles whose keys were removed
    left_alone: tuple[str, ...]  # AWS profiles the user changed since: not touched


class Service:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._config: Config | None = None
        self._secrets: SecretStore | None = None

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

    # Secrets

    def secrets(self) -> SecretStore:
        if self._secrets is None:
            from trayapp.core.secrets import open_secret_store

            self._secrets = open_secret_store(
                self.config.settings.secret_backend,
                self.deps.app.vault_file,
                self.deps.passphrase,
            )
        return self._secrets

    def set_hub_secret(self, profile: str, secret_access_key: str) -> None:
        from trayapp.core import validate

        secret = validate.secret_access_key(secret_access_key)
        self.secrets().set(hub_secret_key(profile), secret)
        self.drop_mfa_session(profile)  # a session of the old key must not outlive it

    def backend_in_use(self) -> str:
        """ "keyring" or "vault": what "auto" resolved to, so the config can pin it."""
        from trayapp.core.secrets.vault import Vault

        return "vault" if isinstance(self.secrets(), Vault) else "keyring"

    def switch_secret_backend(self, backend: str) -> int:
        """Move every secret in the store to ``backend``; returns how many."""
        from trayapp.core.secrets import open_secret_store

        old = self.secrets()
        new = open_secret_store(backend, self.deps.app.vault_file, self.deps.passphrase)
        # The store is walked, not the config: nothing aacli stored is left behind.
        names = old.keys()
        moved = {name: value for name in names if (value := old.get(name)) is not None}
        same_store = old.name == new.name
        if not same_store:
            for name, value in moved.items():
                new.set(name, value)
        self.update_config(
            lambda config: replace(
                config, settings=replace(config.settings, secret_backend=backend)
            )
        )
        # Only once the new store and the config both say so is the old copy removed.
        if not same_store:
            for name in moved:
                old.delete(name)
        self._config, self._secrets = None, new
        return len(moved)

    def forget_secrets(self) -> list[Forgotten]:
        """Delete every secret aacli ever stored, keyring and vault, walking each store rather
        than the config (for reset); what was removed from where."""
        from trayapp.core.errors import AacliError
        from trayapp.core.secrets import forget_everything

        try:
            in_use = self.config.settings.secret_backend == "keyring"
        except AacliError:  # reset must work with a broken config too
            in_use = False
        self._secrets = None
        return forget_everything(
            self.deps.app.vault_file, self.deps.passphrase, keyring_in_use=in_use
        )

    def forget_profile_secrets(self, profile_name: str) -> int:
        """Delete every secret of one profile (hub key, TOTP seed, MFA session and anything
        else stored under its name) and its MFA-session entry; how many secrets."""
        store = self.secrets()
        prefix = f"{profile_name}/"
        stored = store.keys()
        names = [name for name in stored if name.startswith(prefix)]
        self.drop_mfa_session(profile_name)
        for name in names:
            store.delete(name)
        return len(names)

    def _hub_secret(self, profile: Profile) -> str:
        secret = self.secrets().get(hub_secret_key(profile.name))
        if not secret:
            raise SecretStoreError(
                f"No secret key is stored for profile '{profile.name}'; "
                f"store it with 'aacli config set-key {profile.name}'."
            )
        return secret

    # Sessions

    @contextmanager
    def _locked(self) -> Iterator[None]:
        from trayapp.core.credfile import aws_files_lock

        # aws_files_lock makes the state folder private (0700 whatever the umask) or refuses it.
        with aws_files_lock(self.deps.app.lock_file):
            self._finish_interrupted()
            yield

    def _finish_interrupted(self) -> None:
        """Undo the file edit of an aacli that was killed halfway. Caller holds the lock.

        ``_record`` and ``_remove`` put the session they are about to write or remove in the
        ledger's pending list before touching a file, and clear it when done. One still there
        means that process died in between: its keys are removed wherever they still are (only
        where the key id is still that session's), every session keeps only the profiles that
        still hold its key, and a profile nobody holds any more gets its config back as it was
        before aacli. An edit that cannot be done now (a file aacli cannot read) is kept aside
        as unfinished, retried each time, and reported (:meth:`ledger_problems`); it never
        blocks a command. A damaged ledger is set aside here, under the lock.
        """
        from pathlib import Path

        from trayapp.core.credfile import give_back_config, read_profile
        from trayapp.core.errors import AacliError
        from trayapp.core.sessions import Unfinished, only_profiles

        state = read_ledger(self.deps.app.ledger_file, set_aside=True)
        plans = [*state.pending, *(u.session for u in state.unfinished)]
        if not plans:
            return
        unfinished: dict[Session, str] = {}
        for plan in plans:
            try:
                self._remove_keys(plan)
            except AacliError as exc:
                unfinished[plan] = str(exc)
        kept: list[Session] = []
        claims = [p for p in plans if p not in unfinished]  # profiles to give back
        for session in state.sessions:
            if any(p.access_key_id == session.access_key_id for p in unfinished):
                continue  # its removal was cut short and cannot be finished now: kept aside
            try:
                holding = [
                    name
                    for name in session.aws_profiles
                    if read_profile(Path(session.credentials_file), name).get("aws_access_key_id")
                    == session.access_key_id
                ]
            except AacliError:
                holding = list(session.aws_profiles)  # cannot look now: leave it as it is
            lost = [name for name in session.aws_profiles if name not in holding]
            if holding:
                kept.append(only_profiles(session, holding))
            if lost:
                claims.append(only_profiles(session, lost))
        in_use = {name for s in kept for name in s.aws_profiles}
        for claim in claims:
            try:
                for name in claim.aws_profiles:
                    if name not in in_use:
                        give_back_config(Path(claim.config_file), claim, name)
            except AacliError as exc:
                unfinished[claim] = str(exc)
        aside = [Unfinished(session, problem) for session, problem in unfinished.items()]
        if not state.pending and kept == state.sessions and aside == state.unfinished:
            return  # a retry that changed nothing: no need to write the ledger again
        save_ledger(self.deps.app.ledger_file, kept, unfinished=aside)

    def _remove_keys(self, session: Session) -> None:
        """Remove a session's keys wherever its key id still is (for _finish_interrupted)."""
        from pathlib import Path

        from trayapp.core.credfile import remove_profile_credentials

        for name in session.aws_profiles:
            remove_profile_credentials(
                Path(session.credentials_file),
                name,
                session.access_key_id,
                keep_section=name in session.credentials_sections_found,
            )

    def sessions(self) -> list[Session]:
        return load_ledger(self.deps.app.ledger_file)

    def status(self) -> list[Session]:
        """Live sessions, soonest expiry first (expired ones are swept first)."""
        self.sweep()
        return sorted(self.sessions(), key=lambda s: s.expiration)

    def ledger_problems(self) -> list[str]:
        """One line each for what aacli could not finish or had to set aside, with what to do
        (status and sweep show them; nothing here blocks a command)."""
        from trayapp.core.sessions import damaged_copies

        ledger = self.deps.app.ledger_file
        lines = [
            f"{u.session.target}: aacli could not finish removing its credentials "
            f"({u.problem.removesuffix('Nothing was changed.').strip().rstrip('.;')}); it is "
            f"kept in {ledger} and retried. Fix that, then run 'aacli sweep'."
            for u in read_ledger(ledger).unfinished
        ]
        lines.extend(
            f"aacli set aside a damaged session ledger as {copy}: the sessions it listed are "
            f"no longer removed by aacli. Remove their sections from "
            f"{self.deps.aws.credentials_file} yourself if they are still there, then delete "
            f"{copy}."
            for copy in damaged_copies(ledger)
        )
        return lines

    def session_for(self, target: Target) -> Session | None:
        now = self.deps.clock()
        return next(
            (s for s in self.sessions() if s.target == target.label and not is_expired(s, now)),
            None,
        )

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
        from trayapp.core import validate
        from trayapp.core.providers import provider_for

        duration = validate.duration(duration_seconds or target.role.duration_seconds)
        identity = self.session_identity(target)
        provider = provider_for(
            self.provider_context(),
            target,
            duration_seconds=duration,
            session_name=identity.session_name,
            source_identity=identity.source_identity,
        )
        creds = provider.retrieve(source, hint)
        with self._locked():
            return self._record(target, creds, also_default)

    def session_identity(self, target: Target) -> SessionIdentity:
        """The RoleSessionName and SourceIdentity of ``target``'s sessions (core/audit)."""
        from trayapp.core.audit import known_user_name, session_identity

        return session_identity(
            target.profile,
            target.role,
            os_user=self.deps.os_user,
            user_name=lambda: known_user_name(target.profile) or self.read_user_name(target.profile),
        )

    def read_user_name(self, profile: Profile) -> str:
        """The hub IAM user's name from GetCallerIdentity, kept in the config for its key."""
        from trayapp.core import validate
        from trayapp.core.audit import with_user_name
        from trayapp.core.providers import HubKeys
        from trayapp.core.sts import caller_user_name

        client = self.deps.sts_factory(HubKeys(self.provider_context(), profile).caller())
        name = validate.session_name(caller_user_name(client))
        self.update_config(lambda config: with_user_name(config, profile, name))
        return name

    def provider_context(self) -> ProviderContext:
        from trayapp.core.providers import ProviderContext

        return ProviderContext(
            clock=self.deps.clock,
            sts_factory=self.deps.sts_factory,
            endpoint_url=self.deps.endpoint_url,
            secrets=self.secrets,
            state_dir=self.deps.app.state_dir,
        )

    # MFA session: one code buys a GetSessionToken session; roles then need no code.

    def mfa_sessions(self) -> dict[str, datetime]:
        """Live MFA sessions' expiry per profile (no secrets: read from the state dir)."""
        from trayapp.core.providers import MfaSessionCache

        return MfaSessionCache(self.provider_context()).live()

    def drop_mfa_session(self, profile_name: str) -> bool:
        """Forget a profile's MFA session; True when there was one."""
        from trayapp.core.providers import MfaSessionCache

        return MfaSessionCache(self.provider_context()).drop(profile_name)

    # Stored TOTP seed (opt-in): the second factor then lives beside the hub keys.

    def totp_seed(self, profile: Profile) -> str | None:
        from trayapp.core.secrets.base import TOTP_SEED, secret_key

        return self.secrets().get(secret_key(profile.name, TOTP_SEED))

    def set_totp_seed(self, profile: Profile, seed_text: str) -> None:
        from trayapp.core.codes.totp import normalise_seed
        from trayapp.core.secrets.base import TOTP_SEED, secret_key

        self.secrets().set(secret_key(profile.name, TOTP_SEED), normalise_seed(seed_text))

    def remove_totp_seed(self, profile: Profile) -> None:
        from trayapp.core.secrets.base import TOTP_SEED, secret_key

        self.secrets().delete(secret_key(profile.name, TOTP_SEED))

    def check_totp_seed(self, profile: Profile, typed_code: str) -> int | None:
        """The offset in 30 s windows between the stored seed and the authenticator."""
        from trayapp.core import validate
        from trayapp.core.codes.totp import window_offset

        seed = self.totp_seed(profile)
        if seed is None:
            raise UsageError(f"profile '{profile.name}' has no stored TOTP seed")
        return window_offset(seed, validate.mfa_code(typed_code), self.deps.clock().timestamp())

    def stored_code_source(
        self, profile: Profile, on_wait: Callable[[float], None] | None = None
    ) -> CodeSource | None:
        """The stored-seed code source for ``profile``, or None when it has no seed."""
        from trayapp.core.codes import CodeGuard
        from trayapp.core.codes.totp import StoredTotp

        seed = self.totp_seed(profile)
        if seed is None:
            return None
        guard = CodeGuard(self.deps.app.code_windows_file)
        return StoredTotp(seed=seed, guard=guard, clock=self.deps.clock, on_wait=on_wait)

    def can_renew_silently(self, target: Target) -> bool:
        """Whether a code can be had without asking anyone (keep-fresh renewal)."""
        if target.profile.mfa_session_seconds and target.profile.name in self.mfa_sessions():
            return True
        if target.profile.codes == "process":
            return True  # a command gives the code (a YubiKey may want a touch: not silent)
        return self.totp_seed(target.profile) is not None

    def _record(self, target: Target, creds: Credentials, also_default: bool) -> Session:
        """Write the files and the ledger. Caller holds the lock."""
        from trayapp.core.credfile import (
            origin_of,
            read_profile,
            set_profile_region,
            write_profile_credentials,
        )
        from trayapp.core.sessions import only_profiles

        aws = self.deps.aws
        ledger = self.sessions()
        previous = next((s for s in ledger if s.target == target.label), None)
        # A renewal (the tray's Renew asks for no [default]) keeps writing where the session
        # did; dropping [default] would leave its keys behind with no ledger entry.
        keeps_default = previous is not None and DEFAULT_AWS_PROFILE in previous.aws_profiles
        names: tuple[str, ...] = (target.aws_profile,)
        if also_default or keeps_default:
            names += (DEFAULT_AWS_PROFILE,)
        others = [s for s in ledger if s.target != target.label]
        for name in names:
            # A profile another target wrote stays owned by it; we refuse to take it over.
            holders = [s for s in others if name in s.aws_profiles]
            if holders and name != DEFAULT_AWS_PROFILE:
                raise UsageError(f"AWS profile '{name}' is in use by {holders[0].target}")
        owned = {s.access_key_id for s in ledger if set(s.aws_profiles) & set(names)}
        for name in names:  # refuse before writing anything, so a refusal changes nothing
            read_profile(aws.config_file, name, config_style=True)  # raises if not editable
            existing = read_profile(aws.credentials_file, name)
            key_id = existing.get("aws_access_key_id") if existing else None
            if existing and key_id not in owned:
                raise CredFileError(
                    f"{aws.credentials_file} already has a [{name}] section that aacli did not "
                    "write; nothing was changed (remove it, or pick another AWS profile name)."
                )
        # What each profile held before aacli (handed on from the session writing there now),
        # so that the session's end gives it back.
        origins = {
            name: origin_of(
                aws.credentials_file,
                aws.config_file,
                name,
                target.account.region,
                next((s for s in ledger if name in s.aws_profiles), None),
            )
            for name in names
        }
        plan = Session(
            target=target.label,
            aws_profiles=names,
            access_key_id=creds.access_key_id,
            expiration=creds.expiration,
            issued_at=self.deps.clock(),
            # Absolute: a later unauth or sweep may run in another working directory.
            credentials_file=os.path.abspath(aws.credentials_file),
            config_file=os.path.abspath(aws.config_file),
            region=target.account.region,
            from_long_term_keys=creds.from_long_term_keys,
            config_sections_created=tuple(n for n in names if origins[n].config_created),
            credentials_sections_found=tuple(n for n in names if origins[n].credentials_found),
            config_found=tuple(k for n in names for k in origins[n].config_found),
        )
        # Written ahead: if this process dies before the ledger is saved below, the next
        # aacli to take the lock removes these keys again (_finish_interrupted).
        save_ledger(self.deps.app.ledger_file, ledger, pending=[plan])
        try:
            for name in names:
                write_profile_credentials(aws.credentials_file, name, creds, owned)
                set_profile_region(aws.config_file, name, target.account.region)
        except BaseException:
            with suppress(Exception):  # what cannot be undone now, the next aacli undoes
                self._finish_interrupted()
            raise
        # [default] moves to the newest session that asked for it, with what it found there.
        kept = [only_profiles(s, [p for p in s.aws_profiles if p not in names]) for s in others]
        save_ledger(self.deps.app.ledger_file, [s for s in kept if s.aws_profiles] + [plan])
        return plan

    def credentials_of(self, session: Session) -> Credentials:
        """The live keys of a session, read back from the credentials file it wrote."""
        from pathlib import Path

        from trayapp.core.credfile import read_profile

        values = read_profile(Path(session.credentials_file), session.aws_profiles[0])
        if not values or values.get("aws_access_key_id") != session.access_key_id:
            raise CredFileError(
                f"The credentials of {session.target} are no longer in "
                f"{session.credentials_file}; authenticate again."
            )
        return Credentials(
            access_key_id=values["aws_access_key_id"],
            secret_access_key=values.get("aws_secret_access_key", ""),
            session_token=values.get("aws_session_token", ""),
            expiration=parse_iso(values.get("x_security_token_expires", ""))
            if values.get("x_security_token_expires")
            else session.expiration,
            from_long_term_keys=session.from_long_term_keys,
        )

    def unauth(self, target: Target) -> Removal | None:
        """Remove a target's credentials; None when it had no session."""
        with self._locked():
            ledger = self.sessions()
            session = next((s for s in ledger if s.target == target.label), None)
            if session is None:
                return None
            return self._remove(session, ledger)

    def unauth_all(self) -> list[Removal]:
        with self._locked():
            removals = []
            for session in self.sessions():
                removals.append(self._remove(session, self.sessions()))
            return removals

    def sweep(self, now: datetime | None = None) -> list[Removal]:
        """Remove every session that has expired (every command calls this first).

        A session whose file cannot be edited now is kept aside as unfinished (retried on
        every sweep, reported by :meth:`ledger_problems`) instead of failing every command.
        """
        from trayapp.core.errors import AacliError

        now = now or self.deps.clock()
        state = read_ledger(self.deps.app.ledger_file)
        quiet = not (state.pending or state.unfinished or state.damaged)
        if quiet and not any(is_expired(s, now) for s in state.sessions):
            return []  # the common case takes no lock
        with self._locked():
            removals = []
            for session in [s for s in self.sessions() if is_expired(s, now)]:
                try:
                    removals.append(self._remove(session, self.sessions()))
                except AacliError as exc:
                    self._keep_aside(session, str(exc))
            return removals

    def _keep_aside(self, session: Session, problem: str) -> None:
        """Move a session whose removal failed to the ledger's unfinished list. Caller holds
        the lock."""
        from trayapp.core.sessions import Unfinished

        state = read_ledger(self.deps.app.ledger_file)
        save_ledger(
            self.deps.app.ledger_file,
            [s for s in state.sessions if s != session],
            unfinished=[*state.unfinished, Unfinished(session, problem)],
        )

    def _remove(self, session: Session, ledger: list[Session]) -> Removal:
        """Caller holds the lock."""
        from pathlib import Path

        from trayapp.core.credfile import (
            RemoveOutcome,
            give_back_config,
            remove_profile_credentials,
        )

        removed: list[str] = []
        left: list[str] = []
        # Written ahead: a removal cut short is finished by the next aacli (_finish_interrupted).
        save_ledger(self.deps.app.ledger_file, ledger, pending=[session])
        try:
            for name in session.aws_profiles:
                outcome = remove_profile_credentials(
                    Path(session.credentials_file),
                    name,
                    session.access_key_id,
                    keep_section=name in session.credentials_sections_found,
                )
                changed = outcome is RemoveOutcome.CHANGED
                (left if changed else removed).append(name)
                give_back_config(Path(session.config_file), session, name, taken_over=changed)
        except BaseException:
            # The failed write changed nothing: the session stays, to be removed another time.
            with suppress(Exception):
                save_ledger(self.deps.app.ledger_file, ledger)
            raise
        save_ledger(self.deps.app.ledger_file, [s for s in ledger if s.target != session.target])
        return Removal(session=session, removed=tuple(removed), left_alone=tuple(left))

    def expires_soon(self, session: Session, within: timedelta) -> bool:
        return session.expiration - self.deps.clock() <= within

    # Sessions for other programs: reuse a live one, else authenticate first.

    def live_session(self, target: Target, min_left: timedelta = MIN_LEFT) -> Session | None:
        session = self.session_for(target)
        if session is None or self.expires_soon(session, min_left):
            return None
        return session

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
        session = self.live_session(target, min_left)
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


def service_from_env(
    passphrase_for: Callable[[AppPaths], str], env: Mapping[str, str] | None = None
) -> Service:
    """The service as the environment sets it up (AACLI_HOME, AWS_* files, endpoint)."""
    from trayapp.core.sts import endpoint_from_env

    app = AppPaths.from_env(env)
    return Service(
        Deps(
            app=app,
            aws=AwsPaths.from_env(env),
            endpoint_url=endpoint_from_env(env),
            passphrase=lambda: passphrase_for(app),
        )
    )
