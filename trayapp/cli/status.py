"""aacli status: the active sessions and their time left."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import TYPE_CHECKING

from trayapp.cli.context import local_time, remaining, say, start
from trayapp.core.clock import isoformat_z

if TYPE_CHECKING:
    from trayapp.core.service import Service

DESCRIPTION = "Show the sessions aacli wrote that are still valid, soonest expiry first."


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    service = start()
    now = service.deps.clock()
    sessions = service.status()
    mfa = service.mfa_sessions()
    problems = service.ledger_problems()
    for line in problems:
        say(f"warning: {line}")
    from trayapp.cli.rotate import key_age_lines

    key_ages = key_age_lines(service)
    sign_ins = _sign_ins(service)
    if args.json:
        print(
            json.dumps(
                {
                    "sessions": [
                        {
                            "target": s.target,
                            "aws_profiles": list(s.aws_profiles),
                            "expires": isoformat_z(s.expiration),
                            "seconds_left": max(0, int((s.expiration - now).total_seconds())),
                            "region": s.region,
                            "credentials_file": s.credentials_file,
                        }
                        for s in sessions
                    ],
                    "mfa_sessions": [
                        {
                            "profile": name,
                            "expires": isoformat_z(expiry),
                            "seconds_left": max(0, int((expiry - now).total_seconds())),
                        }
                        for name, expiry in mfa.items()
                    ],
                    "problems": problems,
                    "hub_keys": [
                        {"profile": a.profile, "days_old": a.days, "rotate_now": a.due}
                        for a in key_ages
                    ],
                    "identity_center": [
                        {
                            "profile": name,
                            "signed_in_until": isoformat_z(until) if until else None,
                            "seconds_left": max(0, int((until - now).total_seconds()))
                            if until
                            else 0,
                        }
                        for name, until in sign_ins.items()
                    ],
                },
                indent=2,
            )
        )
        return 0
    for name, expiry in mfa.items():
        left = remaining(max(0, int((expiry - now).total_seconds())))
        print(f"MFA session of profile {name}: until {local_time(expiry)} ({left} left)")
    from trayapp.core.keys.age import describe

    for age in key_ages:
        print(describe(age))
    for name, until in sign_ins.items():
        if until is not None and until > now:
            left = remaining(int((until - now).total_seconds()))
            print(f"Identity Center hub {name}: signed in until {local_time(until)} ({left} left)")
        else:
            print(f"Identity Center hub {name}: not signed in (aacli login {name})")
    if not sessions:
        print("No active sessions.")
        return 0
    rows = [
        (
            s.target,
            ", ".join(s.aws_profiles),
            local_time(s.expiration),
            remaining(max(0, int((s.expiration - now).total_seconds()))),
        )
        for s in sessions
    ]
    header = ("TARGET", "AWS PROFILE", "UNTIL", "LEFT")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    return 0


def _sign_ins(service: Service) -> dict[str, datetime | None]:
    """Each Identity Center hub's sign-in expiry, from the token cache (no network)."""
    from trayapp.core.errors import AacliError

    try:
        hubs = [p.name for p in service.config.profiles if p.is_identity_center]
    except AacliError:
        return {}  # status still shows the sessions when the config is broken
    found: dict[str, datetime | None] = {}
    for name in hubs:
        try:
            found[name] = service.sso_expiry(name)
        except AacliError as exc:  # an unsafe cache file: said, and the hub is not signed in
            say(f"warning: {exc}")
            found[name] = None
    return found
