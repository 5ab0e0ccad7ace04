"""aacli env: print a role's credentials as environment variables, for eval."""

from __future__ import annotations

import argparse

from trayapp.cli.codes import live_credentials
from trayapp.core.envvars import FORMATS, credential_variables, render

DESCRIPTION = """\
Print the role's temporary credentials as environment variables for the
current shell (they are secrets: eval them, do not paste them around)."""

EPILOG = """\
examples:
  eval "$(aacli env dev/DEVELOPER)"                  sh, bash, zsh
  aacli env dev --format fish | source               fish
  aacli env dev --format powershell | Invoke-Expression
  aacli env dev --format json
"""


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", help="PROFILE/ACCOUNT/ROLE or a shortening")
    parser.add_argument("--format", choices=FORMATS, default="sh", help="default: sh")
    parser.add_argument("--code", help="the 6-digit MFA code, if one is needed")


def run(args: argparse.Namespace) -> int:
    target, creds = live_credentials(args.target, args.code)
    print(render(credential_variables(creds, target.account.region), args.format))
    return 0
