"""Rotate a profile's hub access key: create, verify, store, deactivate, delete.

Each step is written to the journal before it is taken, and the new key goes to the secret
store as *pending* before the old one is touched. Whatever moment a process dies at, the next
aacli (:func:`finish_all_interrupted`, run by every command and the tray) undoes a rotation
that had not switched to the new key yet, or finishes one that had. aacli always holds one
working key: the old key is deactivated only after the new one worked and is in use.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from trayapp.core import iam
from trayapp.core.clock import isoformat_z, parse_iso
from trayapp.core.errors import AacliError, InvalidHubKeyError, UsageError
from trayapp.core.keys import journal as jr
from trayapp.core.keys.access import (
    Access,
    KeyDeps,
    first_access,
    hub_caller,
    hub_secret_name,
    once,
    user_name,
    with_iam,
)
from trayapp.core.keys.age import KeyAge, key_age, with_key
from trayapp.core.model import Config, Profile
from trayapp.core.sts import StsCaller

if TYPE_CHECKING:
    from trayapp.core.codes import CodeSource

SLACK = timedelta(minutes=5)  # clock skew between this machine and IAM's CreateDate

ROTATED, FINISHED, ROLLED_BACK, DELETED_OLD = "rotated", "finished", "rolled back", "deleted old"


class RotationError(AacliError):
    """A rotation could not be done, or an interrupted one not finished; says what to do."""


@dataclass(frozen=True)
class Outcome:
    """What a rotation (or the recovery of an interrupted one) did."""

    profile: str
    what: str  # ROTATED | FINISHED | ROLLED_BACK | DELETED_OLD
    old_key_id: str
    new_key_id: str | None = None
    old_key_kept: bool = False

    def describe(self) -> str:
        name, old, new = self.profile, self.old_key_id, self.new_key_id
        if self.what == ROLLED_BACK:
            return f"{name}: an interrupted hub key rotation was undone; aacli still uses {old}."
        if self.what == DELETED_OLD:
            return f"{name}: the old hub key {old} was deleted."
        done = "rotated" if self.what == ROTATED else "interrupted rotation finished"
        fate = (
            f"{old} is Inactive (delete it with 'aacli rotate {name} --delete-old')"
            if self.old_key_kept
            else f"{old} was deleted"
        )
        return f"{name}: hub key {done}: aacli now uses {new}; {fate}."


# Entry points: each holds the profile's rotation lock.


def rotate(
    deps: KeyDeps,
    name: str,
    source: CodeSource | None = None,
    *,
    keep_old: bool = False,
    mfa_first: bool = False,
) -> Outcome:
    """Rotate ``name``'s hub key. ``source`` gives an MFA code when the policy needs one for
    IAM (asked up front with ``mfa_first``, e.g. when a code was given); an interrupted
    rotation is finished first, and then counts as the rotation asked for."""
    source = once(source)
    with jr.rotation_lock(deps.state_dir, name):
        recovered = _recover(deps, name, source)
        if recovered is not None and recovered.what != ROLLED_BACK:
            return recovered
        journal = jr.read_journal(deps.state_dir, name)
        if journal is not None and journal.step == jr.KEPT_OLD:
            raise RotationError(
                f"The old hub key {journal.old_key_id} of '{name}' is still kept Inactive and "
                f"AWS allows two keys; delete it first with 'aacli rotate {name} --delete-old'."
            )
        return _rotate(deps, name, source, keep_old=keep_old, mfa_first=mfa_first)


def delete_old(
    deps: KeyDeps, name: str, source: CodeSource | None = None, *, mfa_first: bool = False
) -> Outcome:
    """Delete the old key a ``keep_old`` rotation left Inactive."""
    source = once(source)
    with jr.rotation_lock(deps.state_dir, name):
        _recover(deps, name, source)
        journal = jr.read_journal(deps.state_dir, name)
        if journal is None or journal.step != jr.KEPT_OLD:
            raise UsageError(f"profile '{name}' has no old hub key kept; nothing to delete")
        profile = _profile(deps, name)
        access = first_access(deps, profile, source, mfa_first)
        user, old = journal.user_name, journal.old_key_id
        with_iam(
            deps,
            profile,
            access,
            source,
            lambda c, m: iam.delete_access_key(c, user, old, with_mfa=m),
        )
        jr.clear_journal(deps.state_dir, name)
        return Outcome(name, DELETED_OLD, old, profile.access_key_id)


def finish_interrupted(
    deps: KeyDeps, name: str, source: CodeSource | None = None
) -> Outcome | None:
    """Finish or undo ``name``'s interrupted rotation; None when there was none."""
    with jr.rotation_lock(deps.state_dir, name):
        return _recover(deps, name, source)


def finish_all_interrupted(deps: KeyDeps) -> tuple[list[Outcome], list[str]]:
    """What every command and the tray run first: finish or undo each interrupted rotation
    without asking for anything. Returns what was done, and one line per rotation that
    cannot be finished now (it needs an MFA code, or AWS is unreachable); a rotation still
    running in another process is left to it. Locally aacli always has a working key."""
    done: list[Outcome] = []
    problems: list[str] = []
    for name in jr.journaled_profiles(deps.state_dir):
        try:
            journal = jr.read_journal(deps.state_dir, name)
            if journal is None or journal.step == jr.KEPT_OLD:
                continue
            with jr.rotation_lock(deps.state_dir, name, timeout=0.0):
                outcome = _recover(deps, name, None)
        except jr.RotationBusy:
            continue  # another aacli is rotating this key right now
        except AacliError as exc:
            problems.append(
                f"{name}: an interrupted hub key rotation could not be finished now "
                f"({str(exc).rstrip('.')}); run 'aacli rotate {name}' to finish it."
            )
            continue
        if outcome is not None:
            done.append(outcome)
    return done, problems


def refresh_age(
    deps: KeyDeps, name: str, source: CodeSource | None = None, *, mfa_first: bool = False
) -> KeyAge | None:
    """Cache the hub key's CreateDate from iam:ListAccessKeys in the config."""
    profile = _profile(deps, name)
    access = first_access(deps, profile, source, mfa_first)
    user = user_name(deps, access.caller)
    keys, _ = with_iam(
        deps, profile, access, source, lambda c, m: iam.list_access_keys(c, user, with_mfa=m)
    )
    mine = next((k for k in keys if k.access_key_id == profile.access_key_id), None)
    if mine is None:
        raise InvalidHubKeyError(
            f"IAM lists no key {profile.access_key_id} for user {user}; store the current key "
            f"with 'aacli config set-key {name}'."
        )

    def dated(p: Profile) -> Profile:
        # Only the date, and only while the config still uses that key: a rotation that
        # finished meanwhile must not be undone by a refresh that read the old key.
        if p.access_key_id != mine.access_key_id:
            return p
        return with_key(p, mine.access_key_id, mine.created)

    config = deps.update_config(_changing(name, dated))
    return key_age(_find(config, name), deps.clock())


# The rotation itself. Caller holds the lock.


def _rotate(
    deps: KeyDeps, name: str, source: CodeSource | None, *, keep_old: bool, mfa_first: bool
) -> Outcome:
    profile = _profile(deps, name)
    old_id = profile.access_key_id
    access = first_access(deps, profile, source, mfa_first)
    user = user_name(deps, hub_caller(deps, profile))  # also proves the stored key works
    keys, access = with_iam(
        deps, profile, access, source, lambda c, m: iam.list_access_keys(c, user, with_mfa=m)
    )
    other = next((k for k in keys if k.access_key_id != old_id), None)
    if other is not None and len(keys) >= 2:
        raise iam.KeyLimitError(
            f"The IAM user {user} already has two access keys: {other.access_key_id} "
            f"({other.status}, made {other.created:%Y-%m-%d}) besides {old_id}, which aacli "
            f"uses. Delete {other.access_key_id} if nothing uses it (aws iam "
            f"delete-access-key --user-name {user} --access-key-id {other.access_key_id}), "
            "then rotate again; nothing was changed."
        )
    journal = jr.Journal(name, user, old_id, jr.CREATING, deps.clock(), keep_old=keep_old)
    jr.write_journal(deps.state_dir, journal)
    try:
        deps.on_step(jr.CREATING)
        new, access = with_iam(
            deps, profile, access, source, lambda c, m: iam.create_access_key(c, user, with_mfa=m)
        )
        deps.on_step("store")
        _store_pending(deps, name, new)
        journal = journal.at(jr.CREATED, new_key_id=new.access_key_id)
        jr.write_journal(deps.state_dir, journal)
        deps.on_step(jr.CREATED)
        _verify(deps, profile, new)
    except BaseException:
        # Nothing uses the new key yet: take it away again (else the journal stays, and the
        # next aacli undoes it).
        with suppress(AacliError):
            _roll_back(
                deps, profile, jr.read_journal(deps.state_dir, name) or journal, access, None
            )
        raise
    deps.on_step(jr.SWITCHING)
    journal = journal.at(jr.SWITCHING)
    jr.write_journal(deps.state_dir, journal)
    _switch(deps, name, new.access_key_id, new.secret_access_key, new.created)
    journal = journal.at(jr.SWITCHED)
    jr.write_journal(deps.state_dir, journal)
    if not access.with_mfa:  # the old key is about to go: IAM calls from now on use the new one
        access = Access(hub_caller(deps, _profile(deps, name)), False)
    return _retire(deps, journal, access, source, ROTATED)


def _recover(deps: KeyDeps, name: str, source: CodeSource | None) -> Outcome | None:
    """Undo (before the switch) or finish (from it on) ``name``'s journaled rotation."""
    journal = jr.read_journal(deps.state_dir, name)
    if journal is None or journal.step == jr.KEPT_OLD:
        return None
    try:
        profile = _profile(deps, name)
    except UsageError:  # the profile was removed since, its secrets with it
        jr.clear_journal(deps.state_dir, name)
        return None
    if journal.step in (jr.CREATING, jr.CREATED):
        access = Access(hub_caller(deps, profile), False)
        new_id = _roll_back(deps, profile, journal, access, source)
        return Outcome(name, ROLLED_BACK, journal.old_key_id, new_id)
    if journal.step == jr.SWITCHING:
        pending = _pending(deps, name)
        if pending is not None:  # else the switch had finished: the pending key goes last
            _switch(deps, name, *pending)
        journal = journal.at(jr.SWITCHED)
        jr.write_journal(deps.state_dir, journal)
    access = Access(hub_caller(deps, _profile(deps, name)), False)
    return _retire(deps, journal, access, source, FINISHED)


def _roll_back(
    deps: KeyDeps,
    profile: Profile,
    journal: jr.Journal,
    access: Access,
    source: CodeSource | None,
) -> str | None:
    """Delete the new key (found by id, else as the one IAM made since the journal began),
    forget the pending secret, drop the journal. Never the key aacli uses."""
    pending = _pending(deps, profile.name)
    new_id = journal.new_key_id or (pending[0] if pending else None)
    keep = {journal.old_key_id, profile.access_key_id}
    user = journal.user_name

    def undo(client: Any, with_mfa: bool) -> None:
        if new_id is not None:
            doomed = [new_id]
        else:
            since = journal.started - SLACK
            listed = iam.list_access_keys(client, user, with_mfa=with_mfa)
            doomed = [k.access_key_id for k in listed if k.created >= since]
        for key_id in doomed:
            if key_id not in keep:
                iam.delete_access_key(client, user, key_id, with_mfa=with_mfa)

    with_iam(deps, profile, access, source, undo)
    deps.secrets().delete(_pending_name(profile.name))
    jr.clear_journal(deps.state_dir, profile.name)
    return new_id


def _switch(deps: KeyDeps, name: str, key_id: str, secret: str, created: datetime) -> None:
    """From here on aacli uses the new key: secret, then config, then the pending copy goes.
    Repeating it is harmless (recovery repeats it while the pending copy is there)."""
    deps.secrets().set(hub_secret_name(name), secret)
    deps.update_config(_changing(name, lambda p: with_key(p, key_id, created)))
    deps.drop_mfa_session(name)  # a session of the old key must not outlive it
    deps.secrets().delete(_pending_name(name))


def _retire(
    deps: KeyDeps, journal: jr.Journal, access: Access, source: CodeSource | None, what: str
) -> Outcome:
    """Deactivate the old key, then delete it unless it is kept."""
    profile = _profile(deps, journal.profile)
    user, old = journal.user_name, journal.old_key_id
    deps.on_step("deactivate")
    _, access = with_iam(
        deps,
        profile,
        access,
        source,
        lambda c, m: iam.set_key_status(c, user, old, "Inactive", with_mfa=m),
    )
    if journal.keep_old:
        jr.write_journal(deps.state_dir, journal.at(jr.KEPT_OLD))
    else:
        deps.on_step("delete")
        with_iam(
            deps,
            profile,
            access,
            source,
            lambda c, m: iam.delete_access_key(c, user, old, with_mfa=m),
        )
        jr.clear_journal(deps.state_dir, journal.profile)
    deps.on_step("done")
    return Outcome(journal.profile, what, old, profile.access_key_id, journal.keep_old)


def _verify(deps: KeyDeps, profile: Profile, new: iam.NewAccessKey) -> None:
    """Wait until STS accepts the new key (AWS propagates new keys within seconds)."""
    caller = StsCaller(
        access_key_id=new.access_key_id,
        secret_access_key=new.secret_access_key,
        region=profile.sts_region,
        endpoint_url=deps.endpoint_url,
    )
    deadline = time.monotonic() + deps.verify_seconds
    pause = 0.5
    while True:
        try:
            user_name(deps, caller)
            return
        except InvalidHubKeyError:
            if time.monotonic() + pause > deadline:
                raise RotationError(
                    f"AWS did not accept the new key within {deps.verify_seconds:.0f} s; it "
                    f"was deleted again and aacli still uses {profile.access_key_id}. Try "
                    "again in a few minutes."
                ) from None
            deps.sleep(pause)
            pause = min(pause * 2, 4.0)


# The pending key in the secret store, and the config.


def _pending_name(name: str) -> str:
    from trayapp.core.secrets.base import PENDING_SECRET_ACCESS_KEY, secret_key

    return secret_key(name, PENDING_SECRET_ACCESS_KEY)


def _store_pending(deps: KeyDeps, name: str, new: iam.NewAccessKey) -> None:
    value = {
        "access_key_id": new.access_key_id,
        "secret_access_key": new.secret_access_key,
        "created": isoformat_z(new.created),
    }
    deps.secrets().set(_pending_name(name), json.dumps(value))


def _pending(deps: KeyDeps, name: str) -> tuple[str, str, datetime] | None:
    raw = deps.secrets().get(_pending_name(name))
    if not raw:
        return None
    try:
        data = json.loads(raw)
        return data["access_key_id"], data["secret_access_key"], parse_iso(data["created"])
    except (ValueError, KeyError, TypeError):
        return None


def _find(config: Config, name: str) -> Profile:
    from trayapp.core.config import iam_user_hub

    return iam_user_hub(config, name, "so nothing to rotate")


def _profile(deps: KeyDeps, name: str) -> Profile:
    return _find(deps.config(), name)


def _changing(name: str, change: Callable[[Profile], Profile]) -> Callable[[Config], Config]:
    from trayapp.core.config import replace_profile

    return lambda config: replace_profile(config, change(_find(config, name)))
