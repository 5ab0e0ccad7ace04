"""aacli env: print a role's credentials as environment variables, for eval."""

from __future__ import annotations

import argparse

from trayapp.cli.codes import live_credentials
from trayapp.core.envvars import FORMATS, credential_variables, render
from trayapp.core.errors import AacliError

DESCRIPTION = """\
Print the role's temporary credentials as environment variables for the
current shell (they are secrets: eval them, do not paste them around).

With --server, print instead the variables that point AWS SDKs at the running
tray's credential server (AWS_CONTAINER_CREDENTIALS_FULL_URI,
AWS_CONTAINER_AUTHORIZATION_TOKEN, + AWS_REGION, AWS_DEFAULT_REGION): no keys,
and the tray renews the role (asking for the code in a dialog when it must).
Turn on "Serve credentials to programs" in the tray's settings first."""

NO_TRAY = (
    "no tray is serving credentials: start the tray and turn on Serve credentials to "
    "programs, or use aacli serve"
)

EPILOG = """\
examples:
  eval "$(aacli env dev/DEVELOPER)"                  sh, bash, zsh
  aacli env dev --format fish | source               fish
  aacli env dev --format powershell | Invoke-Expression
  aacli env dev --format json
  eval "$(aacli env --server dev/DEVELOPER)"         the tray's server: no keys
"""


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", help="PROFILE/ACCOUNT/ROLE or a shortening")
    parser.add_argument("--format", choices=FORMATS, default="sh", help="default: sh")
    parser.add_argument("--code", help="the 6-digit MFA code, if one is needed")
    parser.add_argument(
        "--server", action="store_true", help="the tray's credential server for it: no keys"
    )


def run(args: argparse.Namespace) -> int:
    if args.server:
        print(render(server_variables(args.target), args.format))
        return 0
    target, creds = live_credentials(args.target, args.code)
    print(render(credential_variables(creds, target.account.region), args.format))
    return 0


def server_variables(target_text: str) -> dict[str, str]:
    """The running tray's server variables for the target, asked over the tray's socket."""
    from trayapp.cli.context import make_service
    from trayapp.core.server import FULL_URI, TOKEN_VARIABLE

    service = make_service()
    target = service.resolve(target_text)
    from trayapp.core.tray_client import ask_tray

    request = {"op": "server-env", "target": target.label}
    answer = ask_tray(service.deps.app.tray_socket_file, request)
    if answer is None:
        raise AacliError(NO_TRAY)
    if "error" in answer:
        raise AacliError(str(answer["error"]))  # the tray's own sentence
    variables = {
        name: str(answer.get(name, "")) for name in (FULL_URI, TOKEN_VARIABLE) if answer.get(name)
    }
    if len(variables) != 2:
        raise AacliError(NO_TRAY)
    region = target.account.region
    return {**variables, "AWS_REGION": region, "AWS_DEFAULT_REGION": region}
