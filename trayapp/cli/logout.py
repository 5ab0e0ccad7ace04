"""aacli logout: sign out of an Identity Center hub."""

from __future__ import annotations

import argparse

from trayapp.cli.context import say, start
from trayapp.core.errors import UsageError

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
    from trayapp.core.config import find_profile
    from trayapp.core.sso.signin import SsoContext, sign_out

    service = start()
    hub = find_profile(service.config, args.profile)
    if hub is None:
        raise UsageError(f"no profile named '{args.profile}' (see 'aacli config show')")
    if sign_out(SsoContext.from_env(), hub):
        say(f"Signed out of {hub.name}.")
    else:
        say(f"{hub.name} was not signed in.")
    return 0
