"""A code source chosen only when a code is actually needed."""

from __future__ import annotations

from collections.abc import Callable

from trayapp.core.codes.base import CodeRequest, CodeSource


class LazyCode:
    """Builds the real source on the first ``get_code``.

    With a live MFA session no code is asked for, so a source that cannot exist here
    (no terminal, no display) is then no error.
    """

    name = "lazy"

    def __init__(self, make: Callable[[], CodeSource]) -> None:
        self._make = make
        self._source: CodeSource | None = None

    def _real(self) -> CodeSource:
        if self._source is None:
            self._source = self._make()
        return self._source

    @property
    def can_retry(self) -> bool:
        return self._real().can_retry

    def get_code(self, request: CodeRequest) -> str:
        return self._real().get_code(request)
