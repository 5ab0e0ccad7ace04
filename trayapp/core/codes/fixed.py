"""A code given up front (``--code``): checked before any network call, used once."""

from __future__ import annotations

from dataclasses import dataclass, field

from trayapp.core import validate
from trayapp.core.codes.base import CodeRequest


@dataclass
class FixedCode:
    code: str = field(repr=False)
    name: str = "fixed"
    can_retry: bool = False

    def __post_init__(self) -> None:
        self.code = validate.mfa_code(self.code)

    def get_code(self, request: CodeRequest) -> str:
        return self.code
