"""The sandbox's virtual MFA devices: TOTP seeds, code checks, and the codes already spent."""

from __future__ import annotations

import hmac
import threading
from datetime import datetime, timedelta

import pyotp

STEP = timedelta(seconds=30)
# AWS accepts the code of the previous and of the next 30 s window too (clock drift).
VALID_WINDOW = 1


class MfaDevices:
    """Seeds by device serial, and per device the time steps whose code was already used."""

    def __init__(self) -> None:
        self._seeds: dict[str, str] = {}
        self._spent: dict[str, set[int]] = {}
        self._lock = threading.Lock()

    def add(self, serial: str, seed: str) -> None:
        with self._lock:
            self._seeds[serial] = seed
            self._spent[serial] = set()

    def __contains__(self, serial: object) -> bool:
        return serial in self._seeds

    def code_at(self, serial: str, moment: datetime) -> str:
        """The code the device shows at ``moment``."""
        return pyotp.TOTP(self._seeds[serial]).at(moment)

    def accept(self, serial: str, code: str, now: datetime) -> bool:
        """Whether ``code`` is valid now and unused for the device; a valid code becomes spent."""
        seed = self._seeds.get(serial)
        if seed is None:
            return False
        totp = pyotp.TOTP(seed)
        step = totp.timecode(now)
        with self._lock:
            spent = self._spent[serial]
            for counter in range(step - VALID_WINDOW, step + VALID_WINDOW + 1):
                if hmac.compare_digest(totp.generate_otp(counter), code):
                    if counter in spent:
                        return False  # AWS refuses a code already used, with the same error
                    spent.add(counter)
                    # Steps older than the window can never match again: forget them.
                    spent.difference_update({c for c in spent if c < step - VALID_WINDOW})
                    return True
        return False
