"""A live session's keys read straight from the ledger and the credentials file, for
``aacli credential-process``: AWS SDKs start it for every client they build, so it must cost
little more than Python itself (docs/PERFORMANCE.md; tests/test_startup_imports.py).

Only the plainest case is answered here: the target named by its full label (as ``config
link-aws`` writes it), its session in a quiet ledger (nothing pending, unfinished or expired,
no hub key rotation under way) with more than ``MIN_LEFT`` to go, the config not changed since
the session began, and its keys in the credentials file as aacli wrote them. Anything else, or
any doubt, gives None and the caller takes the full path (the service: it finishes rotations,
sweeps, resolves shortenings and renews), so the answer here is always the one it would give.
It loads none of the service, the model's dataclasses, tomllib, botocore or keyring.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path

from trayapp.core.app_dirs import app_dirs

MIN_LEFT = timedelta(minutes=2)  # service.MIN_LEFT: a session closer to expiry is renewed
# The names AppPaths gives these files (core/paths.py), and the ledger's format (core/sessions).
LEDGER_FILE = "sessions.json"
LEDGER_VERSION = 1
CONFIG_FILE = "config.toml"
ROTATION_JOURNAL = ("key-rotation-", ".json")  # core/keys/journal.py


def live_credentials(
    target_label: str, env: Mapping[str, str] | None = None, now: datetime | None = None
) -> dict[str, str] | None:
    """``AccessKeyId``, ``SecretAccessKey``, ``SessionToken`` and ``Expiration`` (ISO, Z) of the
    target's live session, or None when the full path must answer (see the module's doc)."""
    from trayapp.core import files, inifile
    from trayapp.core.clock import isoformat_z, parse_iso
    from trayapp.core.errors import AacliError

    config_dir, state_dir = app_dirs(env)
    now = now or datetime.now(timezone.utc)
    try:
        raw = files.read_bytes(state_dir / LEDGER_FILE, trusted=True, what="The session ledger")
        ledger = json.loads(raw) if raw is not None else None
        if not isinstance(ledger, dict) or set(ledger) != {"version", "sessions"}:
            return None  # none, pending or unfinished edits, or a format this does not know
        sessions = ledger["sessions"]
        if ledger["version"] != LEDGER_VERSION or not isinstance(sessions, list):
            return None
        if any(parse_iso(s["expiration"]) <= now for s in sessions):
            return None  # the full path sweeps it first
        session = next((s for s in sessions if s["target"] == target_label), None)
        if session is None or parse_iso(session["expiration"]) - now <= MIN_LEFT:
            return None
        if _rotation_journals(state_dir):
            return None
        # The config changed since (the ledger keeps whole seconds): the target may be gone.
        issued = parse_iso(session["issued_at"]).timestamp() + 1
        if os.stat(config_dir / CONFIG_FILE).st_mtime >= issued:
            return None
        path = Path(session["credentials_file"])
        text = (files.read_bytes(path) or b"").decode("utf-8")
        values = inifile.get_section(text, str(session["aws_profiles"][0])) or {}
        if values.get("aws_access_key_id") != session["access_key_id"]:
            return None
        expires = values.get("x_security_token_expires") or session["expiration"]
        return {
            "AccessKeyId": values["aws_access_key_id"],
            "SecretAccessKey": values.get("aws_secret_access_key", ""),
            "SessionToken": values.get("aws_session_token", ""),
            "Expiration": isoformat_z(parse_iso(expires)),
        }
    except (AacliError, OSError, ValueError, LookupError, TypeError, AttributeError):
        return None  # whatever it is, the full path knows what to say about it


def _rotation_journals(state_dir: Path) -> bool:
    prefix, suffix = ROTATION_JOURNAL
    return any(name.startswith(prefix) and name.endswith(suffix) for name in os.listdir(state_dir))
