"""aacli unauth: remove a role's credentials, or all of them."""

from __future__ import annotations

import argparse

from trayapp.cli.context import pick, report_removals, say, start
from trayapp.core.errors import UsageError

DESCRIPTION = """\
Sign out: remove the credentials aacli wrote for a role (or for all roles with
--all). This is what the tray's "Sign out" and "Sign out of all" do. Only
sections whose keys are still the ones aacli wrote are removed; every other
line of your AWS files stays as it was."""


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="?", help="PROFILE/ACCOUNT/ROLE or a shortening")
    parser.add_argument("--all", action="store_true", help="sign out of every session")
    parser.add_argument(
        "--mfa-session", action="store_true", help="with --all: also drop the MFA sessions"
    )


def run(args: argparse.Namespace) -> int:
    if args.all and args.target:
        raise UsageError("give a target or --all, not both")
    if args.mfa_session and not args.all:
        raise UsageError("--mfa-session goes with --all")
    service = start()
    if args.all:
        removals = service.unauth_all()
        report_removals(removals)
        problems = service.ledger_problems()  # what is still in the way, and what to do
        for line in problems:
            say(f"warning: {line}")
        if not removals and not problems:
            say("No active sessions.")
        if args.mfa_session:
            for name in list(service.mfa_sessions()):
                service.drop_mfa_session(name)
                say(f"Dropped the MFA session of profile '{name}'.")
        return 0
    if args.target:
        target = service.resolve(args.target)
    else:
        active = service.status()
        if not active:
            say("No active sessions.")
            return 0
        session = pick(active, [s.target for s in active], "Sign out of which session?")
        target = service.resolve(session.target)
    removal = service.unauth(target)
    if removal is None:
        say(f"{target.label}: no active session.")
        return 0
    report_removals([removal])
    return 0
