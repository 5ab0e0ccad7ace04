"""aacli status: the active sessions and their time left."""

from __future__ import annotations

import argparse
import json

from trayapp.cli.context import local_time, remaining, say, start
from trayapp.core.clock import isoformat_z

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
