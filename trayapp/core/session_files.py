"""Where most credentials go: the AWS shared files, with the ledger of what aacli wrote.

Every edit is written ahead in the ledger (its ``pending`` list), done under the AWS-files lock,
and given back at sign-out, expiry or after a crash: keys only where their key id is still
aacli's, and each value aacli changed in a section it did not create put back as it was.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from trayapp.core.clock import Clock, parse_iso
from trayapp.core.errors import CredFileError, UsageError
from trayapp.core.model import Credentials, Session, Target
from trayapp.core.paths import AppPaths, AwsPaths
from trayapp.core.sessions import is_expired, load_ledger, read_ledger, save_ledger

log = logging.getLogger(__name__)

DEFAULT_AWS_PROFILE = "default"


@dataclass(frozen=True)
class Removal:
    """What signing out of one session did."""

    session: Session
    removed: tuple[str, ...]  # AWS profiles whose keys were removed
    left_alone: tuple[str, ...]  # AWS profiles the user changed since: not touched


@dataclass(frozen=True)
class SessionFiles:
    """The credentials file + ledger output: record, read back, remove, sweep, recover."""

    app: AppPaths
    aws: AwsPaths
    clock: Clock

    @contextmanager
    def locked(self) -> Iterator[None]:
        from trayapp.core.credfile import aws_files_lock

        # aws_files_lock makes the state folder private (0700 whatever the umask) or refuses it.
        with aws_files_lock(self.app.lock_file):
            self._finish_interrupted()
            yield

    def _finish_interrupted(self) -> None:
        """Undo the file edit of an aacli that was killed halfway. Caller holds the lock.

        ``record`` and ``_remove`` put the session they are about to write or remove in the
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

        state = read_ledger(self.app.ledger_file, set_aside=True)
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
        save_ledger(self.app.ledger_file, kept, unfinished=aside)

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
        return load_ledger(self.app.ledger_file)

    def status(self) -> list[Session]:
        """Live sessions, soonest expiry first (expired ones are swept first)."""
        self.sweep()
        return sorted(self.sessions(), key=lambda s: s.expiration)

    def ledger_problems(self) -> list[str]:
        """One line each for what aacli could not finish or had to set aside, with what to do
        (status and sweep show them; nothing here blocks a command)."""
        from trayapp.core.sessions import damaged_copies

        ledger = self.app.ledger_file
        lines = [
            f"{u.session.target}: aacli could not finish removing its credentials "
            f"({u.problem.removesuffix('Nothing was changed.').strip().rstrip('.;')}); it is "
            f"kept in {ledger} and retried. Fix that, then run 'aacli sweep'."
            for u in read_ledger(ledger).unfinished
        ]
        lines.extend(
            f"aacli set aside a damaged session ledger as {copy}: the sessions it listed are "
            f"no longer removed by aacli. Remove their sections from "
            f"{self.aws.credentials_file} yourself if they are still there, then delete "
            f"{copy}."
            for copy in damaged_copies(ledger)
        )
        return lines

    def session_for(self, label: str) -> Session | None:
        now = self.clock()
        return next(
            (s for s in self.sessions() if s.target == label and not is_expired(s, now)),
            None,
        )

    def record(self, target: Target, creds: Credentials, also_default: bool) -> Session:
        """Write the files and the ledger. Caller holds the lock (:meth:`locked`)."""
        from trayapp.core.credfile import (
            origin_of,
            read_profile,
            set_profile_region,
            write_profile_credentials,
        )
        from trayapp.core.sessions import only_profiles

        aws = self.aws
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
            issued_at=self.clock(),
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
        save_ledger(self.app.ledger_file, ledger, pending=[plan])
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
        save_ledger(self.app.ledger_file, [s for s in kept if s.aws_profiles] + [plan])
        return plan

    def live(self, label: str, min_left: timedelta) -> Session | None:
        """The target's session if it has at least ``min_left`` to go."""
        session = self.session_for(label)
        if session is None or session.expiration - self.clock() <= min_left:
            return None
        return session

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

    def unauth(self, label: str) -> Removal | None:
        """Remove a target's credentials; None when it had no session."""
        with self.locked():
            ledger = self.sessions()
            session = next((s for s in ledger if s.target == label), None)
            if session is None:
                return None
            return self._remove(session, ledger)

    def unauth_all(self) -> list[Removal]:
        with self.locked():
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

        now = now or self.clock()
        state = read_ledger(self.app.ledger_file)
        quiet = not (state.pending or state.unfinished or state.damaged)
        if quiet and not any(is_expired(s, now) for s in state.sessions):
            return []  # the common case takes no lock
        with self.locked():
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

        state = read_ledger(self.app.ledger_file)
        save_ledger(
            self.app.ledger_file,
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
        save_ledger(self.app.ledger_file, ledger, pending=[session])
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
                save_ledger(self.app.ledger_file, ledger)
            raise
        save_ledger(self.app.ledger_file, [s for s in ledger if s.target != session.target])
        log.debug("%s: removed AWS profile %s (left alone: %s)", session.target,
                  ", ".join(removed) or "none", ", ".join(left) or "none")  # fmt: skip
        return Removal(session=session, removed=tuple(removed), left_alone=tuple(left))
