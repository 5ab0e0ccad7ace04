"""Process hardening for every entry point that handles secrets: no core dumps, no ptrace."""

from __future__ import annotations

import sys

_PR_SET_DUMPABLE = 4


def harden_process(*, debuggers: bool = True) -> None:
    """Keep secrets in memory out of core files and away from other processes' debuggers.

    The soft core-size limit goes to 0 (a crash writes no core file; children inherit it);
    on Linux the process is also made non-dumpable, which stops same-user ptrace and makes
    ``/proc/PID/mem`` and ``environ`` unreadable to others. ``debuggers=False`` leaves that
    second step out: for ``credential-process``'s quick path, which holds only keys that the
    user's credentials file holds in plain text already, and would pay ~3 ms (ctypes) of a
    start-up that SDKs pay for every client.
    """
    try:
        import resource
    except ImportError:  # Windows: no core files of this kind
        return
    try:
        _soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    except (ValueError, OSError):
        pass
    if debuggers and sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
        except (OSError, AttributeError):
            pass
