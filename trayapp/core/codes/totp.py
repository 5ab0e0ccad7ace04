"""Codes generated from a stored TOTP seed (opt-in): no prompt, and never one code twice."""

from __future__ import annotations

import base64
import binascii
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

from trayapp.core.clock import Clock
from trayapp.core.codes.base import CodeRequest
from trayapp.core.codes.guard import CodeGuard
from trayapp.core.errors import CodeError, UsageError


def normalise_seed(text: str) -> str:
    """A base32 seed from the seed itself or an ``otpauth://totp/…?secret=…`` URI."""
    text = text.strip()
    if text.lower().startswith("otpauth://"):
        parts = urllib.parse.urlsplit(text)
        if parts.netloc.lower() != "totp":
            raise UsageError("only time-based (otpauth://totp/…) MFA devices are supported")
        secrets = urllib.parse.parse_qs(parts.query).get("secret")
        if not secrets:
            raise UsageError("the otpauth:// URI has no secret= parameter")
        text = secrets[0]
    seed = "".join(text.split()).upper().rstrip("=")
    try:
        raw = base64.b32decode(seed + "=" * (-len(seed) % 8))
    except (binascii.Error, ValueError):
        raise UsageError("the TOTP seed is not valid base32 (letters A-Z and digits 2-7)") from None
    if len(raw) < 10:
        raise UsageError("the TOTP seed is too short to be a real MFA device's seed")
    return seed


def code_at(seed: str, moment_timestamp: float) -> str:
    import pyotp

    return str(pyotp.TOTP(seed).at(int(moment_timestamp)))


def window_offset(seed: str, typed: str, now_timestamp: float, reach: int = 10) -> int | None:
    """Which 30 s window (relative to now) produced ``typed``; None when none near does."""
    for offset in sorted(range(-reach, reach + 1), key=abs):
        if code_at(seed, now_timestamp + offset * 30) == typed:
            return offset
    return None


@dataclass
class StoredTotp:
    """Generates the device's current code; waits for the next window if it was used."""

    seed: str = field(repr=False)
    guard: CodeGuard
    clock: Clock
    sleep: Callable[[float], None] = time.sleep
    on_wait: Callable[[float], None] | None = None
    name: str = "stored"
    can_retry: bool = False

    def get_code(self, request: CodeRequest) -> str:
        for _ in range(3):
            now = self.clock()
            code = code_at(self.seed, now.timestamp())
            wait = self.guard.seconds_until_unused(request.device, code, now)
            if not wait:
                return code
            if self.on_wait:
                self.on_wait(wait)
            self.sleep(wait + 0.5)
        raise CodeError("The stored TOTP seed keeps giving a used code; check the clock.")
