"""The ledger of every credential set the sandbox issued, for checks and the federation endpoint."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

ASSUME_ROLE = "AssumeRole"
GET_SESSION_TOKEN = "GetSessionToken"


@dataclass(frozen=True)
class IssuedCredentials:
    """One credential set handed out by the sandbox's STS."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: datetime
    arn: str  # the assumed-role ARN, or the user's ARN for GetSessionToken
    account_id: str
    user_name: str  # the hub user at the start of the chain
    operation: str  # ASSUME_ROLE or GET_SESSION_TOKEN
    from_long_term_keys: bool  # called with the hub user's own access key
    mfa_authenticated: bool

    @property
    def is_role_session(self) -> bool:
        return self.operation == ASSUME_ROLE

    def expired(self, now: datetime) -> bool:
        return now >= self.expiration


class IssuedLedger:
    """Thread-safe store of issued credentials, looked up by access key id."""

    def __init__(self) -> None:
        self._by_key: dict[str, IssuedCredentials] = {}
        self._lock = threading.Lock()

    def add(self, record: IssuedCredentials) -> None:
        with self._lock:
            self._by_key[record.access_key_id] = record

    def get(self, access_key_id: str) -> IssuedCredentials | None:
        with self._lock:
            return self._by_key.get(access_key_id)

    def all(self) -> list[IssuedCredentials]:
        with self._lock:
            return list(self._by_key.values())
