"""Keeps an MFA session in the secret store and reuses it until it nears its end.

Wraps the session-token provider (caching is a provider, not a flag inside one). The secret
part lives in the secret store only; a small index in the state folder (no secrets) tells
``status`` and the tray which profiles have a live session without unlocking anything.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from trayapp.core.clock import isoformat_z, parse_iso
from trayapp.core.model import Credentials, Profile
from trayapp.core.providers.base import Hint, ProviderContext
from trayapp.core.providers.session_token import SessionToken

if TYPE_CHECKING:
    from trayapp.core.codes import CodeSource

MIN_LEFT = timedelta(minutes=2)  # a cached session closer to its end than this is not used


@dataclass(frozen=True)
class MfaSessionCache:
    """The cached MFA sessions of all profiles: read, store, drop, list (no secrets listed)."""

    ctx: ProviderContext

    def live(self) -> dict[str, datetime]:
        """Live MFA sessions' expiry per profile, from the index (no secret store needed)."""
        now = self.ctx.clock()
        found: dict[str, datetime] = {}
        for name, entry in self._index().items():
            try:
                expiry = parse_iso(str(entry["expiration"]))
            except (ValueError, KeyError, TypeError):
                continue
            if expiry > now:
                found[name] = expiry
        return found

    def get(self, profile: Profile) -> Credentials | None:
        """The profile's cached session if it is usable (same hub key, not about to end)."""
        from trayapp.core.secrets.base import MFA_SESSION, secret_key

        raw = self.ctx.secrets().get(secret_key(profile.name, MFA_SESSION))
        if not raw:
            return None
        try:
            data = json.loads(raw)
            creds = Credentials(
                access_key_id=data["access_key_id"],
                secret_access_key=data["secret_access_key"],
                session_token=data["session_token"],
                expiration=parse_iso(data["expiration"]),
                from_long_term_keys=False,
            )
            hub_key_id = data["hub_key_id"]
        except (ValueError, KeyError, TypeError):
            self.drop(profile.name)
            return None
        stale = creds.expiration - self.ctx.clock() <= MIN_LEFT
        if hub_key_id != profile.access_key_id or stale:
            self.drop(profile.name)
            return None
        return creds

    def store(self, profile: Profile, creds: Credentials) -> None:
        from trayapp.core.secrets.base import MFA_SESSION, secret_key

        self.ctx.secrets().set(
            secret_key(profile.name, MFA_SESSION),
            json.dumps(
                {
                    "hub_key_id": profile.access_key_id,
                    "access_key_id": creds.access_key_id,
                    "secret_access_key": creds.secret_access_key,
                    "session_token": creds.session_token,
                    "expiration": isoformat_z(creds.expiration),
                }
            ),
        )
        with self._locked():
            index = self._index()
            index[profile.name] = {
                "hub_key_id": profile.access_key_id,
                "expiration": isoformat_z(creds.expiration),
            }
            self._save(index)

    def drop(self, profile_name: str) -> bool:
        """Forget a profile's MFA session; True when there was one."""
        from trayapp.core.secrets.base import MFA_SESSION, secret_key

        # The secret first, outside the index lock: a vault may ask for its passphrase.
        self.ctx.secrets().delete(secret_key(profile_name, MFA_SESSION))
        with self._locked():
            index = self._index()
            had = index.pop(profile_name, None) is not None
            if had:
                self._save(index)
        return had

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Every read-modify-write of the index is serialised (tray and CLI at once)."""
        from trayapp.core.files import file_lock

        with file_lock(
            self.ctx.app.state_dir / "mfa-sessions.lock",
            timeout=30.0,
            busy="Another aacli is changing the MFA sessions; try again.",
        ):
            yield

    def _index(self) -> dict[str, dict[str, object]]:
        from trayapp.core.files import read_text

        try:
            text = read_text(self.ctx.app.mfa_sessions_file, trusted=True)
            data = json.loads(text) if text else {}
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def _save(self, index: dict[str, dict[str, object]]) -> None:
        from trayapp.core.files import atomic_write

        atomic_write(self.ctx.app.mfa_sessions_file, json.dumps(index, indent=1))


@dataclass(frozen=True)
class CachedSession:
    """Needs: a session-token provider. Gives: its credentials, from the cache while they
    last; a code is asked for only when there is no usable cached session."""

    inner: SessionToken

    @property
    def cache(self) -> MfaSessionCache:
        return MfaSessionCache(self.inner.hub.ctx)

    def retrieve(self, source: CodeSource, hint: Hint = None) -> Credentials:
        profile = self.inner.hub.profile
        cached = self.cache.get(profile)
        if cached is not None:
            return cached
        creds = self.inner.retrieve(source, hint)
        self.cache.store(profile, creds)
        return creds

    def forget(self) -> None:
        self.cache.drop(self.inner.hub.profile.name)
