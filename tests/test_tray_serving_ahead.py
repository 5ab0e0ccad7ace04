"""The tray's server renews a role that needs nobody's code before any program asks for it."""

from __future__ import annotations

import time

from conftest import PASSPHRASE

from trayapp.core.service import service_from_env
from trayapp.tray.serving import TrayServing

LABEL = "acme/dev/DEVELOPER"


def _assume_roles(sandbox) -> int:
    return sum(1 for r in sandbox.sts_requests if r.action == "AssumeRole")


def test_a_silently_renewable_role_is_renewed_before_any_program_asks(configured):
    """Issue 16 (the tray renews silently): with a stored seed, the credentials the tray's
    server handed out are renewed in the background when due, so the next program's request
    is answered at once from memory (SDKs give up after 1-2 s; a renewal may have to wait for
    the next 30 s code window), and nothing is written to ~/.aws."""
    sandbox = configured.sandbox
    seed = configured.hub.mfa_seed
    done = configured.aacli("config", "totp", "acme", "--seed-from-stdin", input=seed + "\n")
    assert done.returncode == 0, done.stderr
    service = service_from_env(lambda _app: PASSPHRASE, configured.environ())
    serving = TrayServing(
        service,
        source_for=lambda target: service.stored_code_source(target.profile),
        to_sign_in_worker=lambda: None,
        notify=lambda _line: None,
    )
    sandbox.credential_lifetime = 40  # due at half-life: 20 s after issue
    try:
        first = serving.fetch(LABEL)
        issued = _assume_roles(sandbox)
        deadline = time.monotonic() + 90
        while _assume_roles(sandbox) == issued and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _assume_roles(sandbox) == issued + 1, "not renewed before anyone asked"
        started = time.monotonic()
        renewed = serving.fetch(LABEL)
        assert time.monotonic() - started < 1.0  # from memory, no STS call, no code wait
        assert renewed.access_key_id != first.access_key_id
        assert _assume_roles(sandbox) == issued + 1
        assert not configured.credentials.exists()
    finally:
        serving.stop()
        sandbox.credential_lifetime = None
