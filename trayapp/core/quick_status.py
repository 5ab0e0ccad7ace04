"""``aacli status`` in its plain case without the service, the model's dataclasses or tomllib
(they cost ~60 ms; Python itself starts in ~11): the lines it prints, or None when the full
path must answer.

The plain case: a quiet ledger (core/quick_session: nothing to sweep, finish or warn about),
MFA sessions whose times are as aacli writes them, and what status shows of the config (each
hub key's age) remembered by an earlier full ``status`` for exactly this config file (same
inode, size, mtime and ctime: any edit, by aacli or by hand, forgets it). A config with an
Identity Center hub is never remembered: its sign-ins are read by the full path. Anything else
gives None, so the answer here is always the one the full path would print.
"""

from __future__ import annotations

import os
import time

from trayapp.core import status_lines
from trayapp.core.app_dirs import CONFIG_FILE, MFA_SESSIONS_FILE, app_dirs
from trayapp.core.quick_session import quiet_sessions

TYPE_CHECKING = False  # typing's, without importing typing: start-up time
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from trayapp.core.model import Config
    from trayapp.core.paths import AppPaths

FACTS_FILE = "status-facts.json"  # in the state folder
FACTS_VERSION = 1


def config_identity(config_file: str) -> list[int] | None:
    """What changes with every edit of the config file (None: there is none)."""
    try:
        st = os.stat(config_file)
    except OSError:
        return None
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def remember(app: AppPaths, identity: Sequence[int] | None, config: Config) -> None:
    """Keep what status shows of ``config`` for the quick path, when the config file is still
    the one ``identity`` (taken before it was read) names; forget it otherwise. Best effort:
    a failure only means that the next status takes the full path."""
    import json

    from trayapp.core import files
    from trayapp.core.clock import isoformat_z
    from trayapp.core.errors import AacliError
    from trayapp.core.keys.age import key_age

    path = app.state_dir / FACTS_FILE
    keys = []
    for p in config.profiles:
        # key_age's rule for a date of the key in use (its days are counted at each status)
        age = key_age(p, p.key_created) if p.key_created else None
        if p.is_identity_center or (age and age.created.microsecond):
            identity = None  # the full path reads these each time
        elif age is not None:
            created = isoformat_z(age.created)
            keys.append({"profile": p.name, "created": created, "rotate_after": p.rotate_after})
    try:
        if identity is None or list(identity) != config_identity(str(app.config_file)):
            path.unlink(missing_ok=True)
            return
        facts = {"version": FACTS_VERSION, "config": list(identity), "hub_keys": keys}
        files.atomic_write(path, json.dumps(facts, indent=1))
    except (AacliError, OSError):
        pass


def printed_lines(
    env: Mapping[str, str] | None = None, now: float | None = None
) -> list[str] | None:
    """What ``aacli status`` prints (stdout), or None when the full path must answer."""
    from trayapp.core import files, lean
    from trayapp.core.errors import AacliError

    config_dir, state_dir = app_dirs(env)
    now = time.time() if now is None else now
    try:
        sessions = quiet_sessions(state_dir, now)
        raw = files.read_bytes(os.path.join(state_dir, FACTS_FILE), trusted=True)
        if sessions is None or raw is None:
            return None
        facts = lean.loads(raw.decode("utf-8"))
        if not isinstance(facts, dict) or facts.get("version") != FACTS_VERSION:
            return None
        if facts["config"] != config_identity(os.path.join(config_dir, CONFIG_FILE)):
            return None
        lines = _mfa_sessions(state_dir, now)
        if lines is None:
            return None
        for key in facts["hub_keys"]:
            days = status_lines.key_days(lean.epoch_seconds(key["created"]), now)
            due = key["rotate_after"] > 0 and days >= key["rotate_after"]
            lines.append(status_lines.key_age(str(key["profile"]), days, due))
        live = sorted(
            (
                (
                    str(s["target"]),
                    [str(p) for p in s["aws_profiles"]],
                    lean.epoch_seconds(s["expiration"]),
                )
                for s in sessions
            ),
            key=lambda row: row[2],
        )
        return lines + status_lines.sessions_table(live, now)
    except (AacliError, OSError, ValueError, LookupError, TypeError, AttributeError):
        return None  # whatever it is, the full path knows what to say about it


def _mfa_sessions(state_dir: str, now: float) -> list[str] | None:
    """A line per live MFA session (the full path skips an entry without a time, and reads
    times in forms aacli does not write: those go to it)."""
    from trayapp.core import files, lean

    raw = files.read_bytes(os.path.join(state_dir, MFA_SESSIONS_FILE), trusted=True)
    index = lean.loads(raw.decode("utf-8")) if raw else {}
    if not isinstance(index, dict):
        return []
    lines = []
    for name, entry in index.items():
        if not isinstance(entry, dict) or "expiration" not in entry:
            continue
        if not isinstance(entry["expiration"], str):
            return None
        until = lean.epoch_seconds(entry["expiration"])
        if until > now:
            lines.append(status_lines.mfa_session(name, until, now))
    return lines
