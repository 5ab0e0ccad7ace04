"""For sources that read a code from a device or a program: never hand back a used code."""

from __future__ import annotations

from collections.abc import Callable

from trayapp.core.clock import Clock
from trayapp.core.codes.guard import CodeGuard
from trayapp.core.errors import CodeError

TRIES = 3


def unused_code(
    read: Callable[[], str],
    *,
    device: str,
    guard: CodeGuard,
    clock: Clock,
    sleep: Callable[[float], None],
    on_wait: Callable[[float], None] | None,
    what: str,
) -> str:
    """``read()`` a code; when it was already used, wait for the next 30 s window and read
    again (as StoredTotp does), instead of sending a code AWS would refuse."""
    for _ in range(TRIES):
        code = read()
        wait = guard.seconds_until_unused(device, code, clock())
        if not wait:
            return code
        if on_wait:
            on_wait(wait)
        sleep(wait + 0.5)
    raise CodeError(f"{what} keeps giving a code that was already used; check its clock.")
