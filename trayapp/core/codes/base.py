"""The protocol every MFA code source follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class CodeRequest:
    """What a source is asked for: a code for ``device``, to reach ``target``."""

    target: str
    device: str
    error: str | None = None  # why the previous code failed, shown when asking again
    hint: str | None = None  # the demo shows the sandbox's current code


class CodeSource(Protocol):
    """Gives a 6-digit code, or raises CodeCancelled when the user gives up."""

    @property
    def name(self) -> str: ...

    @property
    def can_retry(self) -> bool:
        """Whether asking again after a wrong code makes sense (a person is on the other end)."""
        ...

    def get_code(self, request: CodeRequest) -> str: ...
