"""The code source a profile's config names (``codes = "ykman" | "process"``), if any."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from trayapp.core.clock import Clock
from trayapp.core.codes.base import CodeSource
from trayapp.core.codes.guard import CodeGuard
from trayapp.core.model import Profile


def configured_source(
    profile: Profile,
    *,
    code_windows_file: Path,
    clock: Clock,
    on_prompt: Callable[[str | None], None] | None = None,
    on_wait: Callable[[float], None] | None = None,
) -> CodeSource | None:
    """A YubiKey or command source for ``profile``; None when codes are asked for ("ask")."""
    guard = CodeGuard(code_windows_file)
    if profile.codes == "ykman":
        from trayapp.core.codes.ykman import YkmanCode

        return YkmanCode(
            guard=guard,
            clock=clock,
            account=profile.ykman_account,
            serial=profile.ykman_serial,
            on_prompt=on_prompt,
            on_wait=on_wait,
        )
    if profile.codes == "process" and profile.mfa_process:
        from trayapp.core.codes.process import ProcessCode

        return ProcessCode(command=profile.mfa_process, guard=guard, clock=clock, on_wait=on_wait)
    return None
