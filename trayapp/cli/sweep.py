"""aacli sweep: remove expired credentials now (every command also does this first)."""

from __future__ import annotations

import argparse

from trayapp.cli.context import make_service, report_removals, say

DESCRIPTION = """\
Remove the credentials of every session that has expired, and finish any edit of
the AWS files that aacli could not finish before (it says what is in the way)."""


def register(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    service = make_service()
    removals = service.sweep()
    report_removals(removals, expired=True)
    problems = service.ledger_problems()
    for line in problems:
        say(f"warning: {line}")
    if not removals and not problems:
        say("Nothing has expired.")
    return 0
