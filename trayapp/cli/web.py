"""aacli web: open the AWS console signed in as a role."""

from __future__ import annotations

import argparse

from trayapp.cli.codes import code_source
from trayapp.cli.context import pick, say, start

DESCRIPTION = """\
Open the AWS web console signed in as a role, through AWS's federation
endpoint. Uses the role's active session when it has at least 2 minutes left,
otherwise asks for an MFA code first. The browser is the system default (or
$BROWSER); it is handed a private local page that redirects to the sign-in URL,
never the URL itself, and is not waited for."""

EPILOG = """\
examples:
  aacli web dev/DEVELOPER
  aacli web dev --print              print the sign-in URL instead (it is a secret: a
                                     sign-in token valid for 15 minutes)
  aacli web dev --destination https://eu-west-1.console.aws.amazon.com/s3/home
"""


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="?", help="PROFILE/ACCOUNT/ROLE or a shortening")
    parser.add_argument("--print", action="store_true", help="print the URL, do not open it")
    parser.add_argument(
        "--destination", metavar="URL", help="console page to land on (an https console URL)"
    )
    parser.add_argument("--code", help="the 6-digit MFA code, if one is needed")


def run(args: argparse.Namespace) -> int:
    from trayapp.core.browser import open_signin_page
    from trayapp.core.console import check_destination

    if args.code is not None:
        code_source(args.code)  # a malformed code fails before anything else
    service = start()
    if args.target:
        target = service.resolve(args.target)
    else:
        targets = service.targets()
        target = pick(targets, [t.label for t in targets], "Open the console as which role?")
    if args.destination:
        # Before any code is asked for: only the partition's console may receive the session.
        check_destination(target.profile.partition, args.destination)
    url = service.console_url(
        target,
        lambda: code_source(args.code, service=service, target=target),
        destination=args.destination,
    )
    if args.print:
        print(url)
        return 0
    open_signin_page(str(url), service.deps.app.state_dir)
    say(f"Opened the AWS console as {target.label} ({url.destination}).")
    return 0
