"""A live session's keys read straight from the ledger and the credentials file, for
``aacli credential-process``: AWS SDKs start it for every client they build, so it must cost
little more than Python itself (docs/PERFORMANCE.md; tests/test_startup_imports.py).

Only the plainest case is answered here: the target named by its full label (as ``config
link-aws`` writes it), its session in a quiet ledger (nothing pending, unfinished or expired,
no hub key rotation under way) with more than ``MIN_LEFT_SECONDS`` to go, the config not
changed since the session began, and its keys in a plain credentials file as aacli wrote
them. Anything else, or any doubt, gives None and the caller takes the full path (the
service: it finishes rotations, sweeps, resolves shortenings and renews), so the answer here
is always the one it would give. It loads none of the service, the model's dataclasses,
tomllib, botocore or keyring, nor json, re, datetime or pathlib (core/lean instead): paths
are strings and times Unix seconds here, the one place that leaves the house style for speed.
"""

from __future__ import annotations

import os
import time

from trayapp.core.app_dirs import CONFIG_FILE, LEDGER_FILE, ROTATION_JOURNAL, app_dirs

TYPE_CHECKING = False  # typing's, without importing typing: start-up time
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

MIN_LEFT_SECONDS = 120  # service.MIN_LEFT: a session closer to expiry is renewed
# The ledger's format (core/sessions): tests/test_startup_imports.py holds them equal.
LEDGER_VERSION = 1
DAMAGED = ".damaged"  # core/sessions: a damaged ledger set aside as sessions.json.damaged-…


def rotation_under_way(state_dir: str) -> bool:
    """Whether a hub key rotation left a journal (every command finishes it first): a folder
    listing, without importing the rotation code."""
    try:
        return _journals(os.listdir(state_dir))
    except OSError:  # no state folder yet (or not a folder: said where it is used)
        return False


def _journals(names: list[str]) -> bool:
    prefix, suffix = ROTATION_JOURNAL
    return any(name.startswith(prefix) and name.endswith(suffix) for name in names)


def quiet_sessions(state_dir: str, now: float) -> list[dict[str, Any]] | None:
    """The ledger's sessions, when it is quiet: nothing pending, unfinished, set aside as
    damaged or expired (the full path sweeps it first), no hub key rotation under way; else
    None. Raises what ``files.read_bytes`` raises, ValueError for what is not the ledger."""
    from trayapp.core import files, lean

    names = os.listdir(state_dir)
    if _journals(names) or any(n.startswith(LEDGER_FILE + DAMAGED) for n in names):
        return None  # a rotation to finish first; a damaged ledger status warns about
    raw = files.read_bytes(
        os.path.join(state_dir, LEDGER_FILE), trusted=True, what="The session ledger"
    )
    ledger = lean.loads(raw.decode("utf-8")) if raw is not None else None
    if not isinstance(ledger, dict) or set(ledger) != {"version", "sessions"}:
        return None  # none, pending or unfinished edits, or a format this does not know
    sessions = ledger["sessions"]
    if ledger["version"] != LEDGER_VERSION or not isinstance(sessions, list):
        return None
    if not all(isinstance(s, dict) for s in sessions):
        return None
    if any(lean.epoch_seconds(s["expiration"]) <= now for s in sessions):
        return None
    return sessions


def live_credentials(
    target_label: str, env: Mapping[str, str] | None = None, now: float | None = None
) -> dict[str, str] | None:
    """``AccessKeyId``, ``SecretAccessKey``, ``SessionToken`` and ``Expiration`` (ISO, Z) of the
    target's live session, or None when the full path must answer (see the module's doc).
    ``now``: Unix seconds."""
    from trayapp.core import files, lean
    from trayapp.core.errors import AacliError

    config_dir, state_dir = app_dirs(env)
    now = time.time() if now is None else now
    try:
        sessions = quiet_sessions(state_dir, now)
        if sessions is None:
            return None
        session = next((s for s in sessions if s["target"] == target_label), None)
        if session is None or lean.epoch_seconds(session["expiration"]) - now <= MIN_LEFT_SECONDS:
            return None
        # The config changed since (the ledger keeps whole seconds): the target may be gone.
        issued = lean.epoch_seconds(session["issued_at"]) + 1
        if os.stat(os.path.join(config_dir, CONFIG_FILE)).st_mtime >= issued:
            return None
        text = (files.read_bytes(str(session["credentials_file"])) or b"").decode("utf-8")
        values = lean.ini_section(text, str(session["aws_profiles"][0]))
        if values.get("aws_access_key_id") != session["access_key_id"]:
            return None
        expires = values.get("x_security_token_expires") or session["expiration"]
        lean.epoch_seconds(expires)  # as aacli writes it, so it is the answer as it stands
        return {
            "AccessKeyId": values["aws_access_key_id"],
            "SecretAccessKey": values.get("aws_secret_access_key", ""),
            "SessionToken": values.get("aws_session_token", ""),
            "Expiration": expires,
        }
    except (AacliError, OSError, ValueError, LookupError, TypeError, AttributeError):
        return None  # whatever it is, the full path knows what to say about it
