"""aacli sweep: remove expired credentials now (every command also does this first)."""

from __future__ import annotations

import argparse

from trayapp.cli.context import make_service, report_removals, say

DESCRIPTION = "Remove the credentials of every session that has expired."


def register(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    removals = make_service().sweep()
    report_removals(removals, expired=True)
    if not removals:
        say("Nothing has expired.")
    return 0
