"""aacli logout: sign out of an Identity Center hub."""

from __future__ import annotations

import argparse

from trayapp.cli.context import say, start

DESCRIPTION = """\
Sign out of an IAM Identity Center hub: Identity Center is told to end the
sign-in (Logout) and its token is removed from ~/.aws/sso/cache, the cache the
AWS CLI shares, so `aws` is signed out of that sso-session too. The
[sso-session PROFILE] section in ~/.aws/config stays for the next sign-in.
Role credentials already written stay until they expire (see 'aacli unauth')."""

EPILOG = """\
examples:
  aacli logout corp
  aacli login corp                   sign in again
"""


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("profile", metavar="PROFILE", help="the Identity Center hub")


def run(args: argparse.Namespace) -> int:
    service = start()
    name = service.identity_center_hub(args.profile).name
    if service.sign_out(name):
        say(f"Signed out of {name}.")
    else:
        say(f"{name} was not signed in.")
    return 0
