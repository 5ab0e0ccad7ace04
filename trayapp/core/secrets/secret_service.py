"""Read one secret from the Secret Service the way keyring's SecretService backend does,
without importing keyring's package (its dependencies cost ~11 ms of every `aacli auth`).

Only reading is done here, and only when keyring's own discovery chose the Secret Service
before and nothing it depends on has changed since (``keyring_store.lean_secret_service``).
Writing, deleting and listing always go through keyring itself. The items are keyring's:
the default scheme's attributes (``service`` and ``username``) in the default collection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from secretstorage.collection import Collection


class _Unreachable:
    def __repr__(self) -> str:
        return "UNREACHABLE"


UNREACHABLE = _Unreachable()
"""What a read returns when no Secret Service answers here (no bus, no daemon, or no
secretstorage): the caller asks keyring instead, which says why in its own words."""


class SecretServiceReader:
    """Reads what keyring's SecretService backend stored, on one D-Bus connection per read."""

    def get_password(self, service: str, username: str) -> str | _Unreachable | None:
        """The secret of ``username`` for ``service``, None when there is none, or
        :data:`UNREACHABLE`.

        A locked collection or item is unlocked as keyring does (the daemon may show its
        prompt); still locked afterwards, secretstorage's LockedException is raised.
        """
        try:
            import secretstorage
            from secretstorage.exceptions import LockedException, SecretServiceNotAvailableException
        except ImportError:
            return UNREACHABLE
        try:
            connection = secretstorage.dbus_init()
        except (SecretServiceNotAvailableException, OSError):  # no bus at that address
            return UNREACHABLE
        try:
            try:
                collection = _unlocked(secretstorage.get_default_collection(connection))
                items = collection.search_items({"username": username, "service": service})
                item = next(iter(items), None)
            except SecretServiceNotAvailableException:  # a bus, but no daemon on it
                return UNREACHABLE
            if item is None:
                return None
            if item.is_locked():
                item.unlock()
                if item.is_locked():  # the user dismissed the daemon's prompt
                    raise LockedException("The item is locked.")
            return item.get_secret().decode("utf-8")
        finally:
            connection.close()


def _unlocked(collection: Collection) -> Collection:
    from secretstorage.exceptions import LockedException

    if collection.is_locked():
        collection.unlock()
        if collection.is_locked():  # the user dismissed the daemon's prompt
            raise LockedException("The collection is locked.")
    return collection
