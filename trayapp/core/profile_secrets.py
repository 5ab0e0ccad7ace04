"""The secrets aacli keeps per profile (hub key, TOTP seed, MFA session, …) in the store the
config names: the OS keyring or the encrypted vault, opened once, on first use."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from trayapp.core.clock import Clock
from trayapp.core.errors import SecretStoreError, UsageError
from trayapp.core.model import Profile
from trayapp.core.providers.hub_keys import hub_secret_key

if TYPE_CHECKING:
    from trayapp.core.codes import CodeSource
    from trayapp.core.secrets import Forgotten
    from trayapp.core.secrets.base import SecretStore


def no_passphrase() -> str:
    """The vault passphrase where nobody can be asked for it."""
    raise SecretStoreError(
        "The vault is locked and there is no way to ask for its passphrase here; "
        "set AACLI_PASSPHRASE or use a terminal."
    )


class ProfileSecrets:
    """Opens the store on first use (a vault asks for its passphrase then, not before)."""

    def __init__(
        self,
        *,
        backend: Callable[[], str],
        vault_file: Path,
        code_windows_file: Path,
        passphrase: Callable[[], str],
        clock: Clock,
    ) -> None:
        self._backend = backend
        self._vault_file = vault_file
        self._code_windows_file = code_windows_file
        self._passphrase = passphrase
        self._clock = clock
        self._store: SecretStore | None = None

    def store(self) -> SecretStore:
        if self._store is None:
            from trayapp.core.secrets import open_secret_store

            self._store = open_secret_store(
                self._backend(),
                self._vault_file,
                self._passphrase,
                state_dir=self._code_windows_file.parent,  # the state folder
            )
        return self._store

    def open_backend(self, backend: str) -> SecretStore:
        from trayapp.core.secrets import open_secret_store

        state_dir = self._code_windows_file.parent
        return open_secret_store(backend, self._vault_file, self._passphrase, state_dir=state_dir)

    def switch_to(self, backend: str, pin: Callable[[str], object]) -> int:
        """Move every secret in the store to ``backend`` and ``pin`` it in the config; how
        many. The store is walked, not the config: nothing aacli stored is left behind."""
        old = self.store()
        new = self.open_backend(backend)
        names = old.keys()
        moved = {name: value for name in names if (value := old.get(name)) is not None}
        same_store = old.name == new.name
        if not same_store:
            for name, value in moved.items():
                new.set(name, value)
        pin(backend)
        # Only once the new store and the config both say so is the old copy removed.
        if not same_store:
            for name in moved:
                old.delete(name)
        self._store = new
        return len(moved)

    def backend_in_use(self) -> str:
        """ "keyring" or "vault": what "auto" resolved to, so the config can pin it."""
        from trayapp.core.secrets.vault import Vault

        return "vault" if isinstance(self.store(), Vault) else "keyring"

    def set_hub_secret(self, profile: str, secret_access_key: str) -> None:
        from trayapp.core import validate

        self.store().set(hub_secret_key(profile), validate.secret_access_key(secret_access_key))

    def forget_profile(self, profile_name: str) -> int:
        """Delete every secret stored under the profile's name; how many."""
        store = self.store()
        stored = store.keys()
        names = [name for name in stored if name.startswith(f"{profile_name}/")]
        for name in names:
            store.delete(name)
        return len(names)

    def forget_everything(self) -> list[Forgotten]:
        """Delete every secret aacli ever stored, keyring and vault, walking each store rather
        than the config (for reset); what was removed from where."""
        from trayapp.core.errors import AacliError
        from trayapp.core.secrets import forget_everything

        try:
            in_use = self._backend() == "keyring"
        except AacliError:  # reset must work with a broken config too
            in_use = False
        self._store = None
        return forget_everything(self._vault_file, self._passphrase, keyring_in_use=in_use)

    # Stored TOTP seed (opt-in): the second factor then lives beside the hub keys.

    def totp_seed(self, profile: Profile) -> str | None:
        from trayapp.core.secrets.base import TOTP_SEED, secret_key

        return self.store().get(secret_key(profile.name, TOTP_SEED))

    def set_totp_seed(self, profile: Profile, seed_text: str) -> None:
        from trayapp.core.codes.totp import normalise_seed
        from trayapp.core.secrets.base import TOTP_SEED, secret_key

        self.store().set(secret_key(profile.name, TOTP_SEED), normalise_seed(seed_text))

    def remove_totp_seed(self, profile: Profile) -> None:
        from trayapp.core.secrets.base import TOTP_SEED, secret_key

        self.store().delete(secret_key(profile.name, TOTP_SEED))

    def check_totp_seed(self, profile: Profile, typed_code: str) -> int | None:
        """The offset in 30 s windows between the stored seed and the authenticator."""
        from trayapp.core import validate
        from trayapp.core.codes.totp import window_offset

        seed = self.totp_seed(profile)
        if seed is None:
            raise UsageError(f"profile '{profile.name}' has no stored TOTP seed")
        return window_offset(seed, validate.mfa_code(typed_code), self._clock().timestamp())

    def stored_code_source(
        self, profile: Profile, on_wait: Callable[[float], None] | None = None
    ) -> CodeSource | None:
        """The stored-seed code source for ``profile``, or None when it has no seed."""
        from trayapp.core.codes import CodeGuard
        from trayapp.core.codes.totp import StoredTotp

        seed = self.totp_seed(profile)
        if seed is None:
            return None
        guard = CodeGuard(self._code_windows_file)
        return StoredTotp(seed=seed, guard=guard, clock=self._clock, on_wait=on_wait)
