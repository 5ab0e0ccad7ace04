"""aacli env: print a role's credentials as environment variables, for eval."""

from __future__ import annotations

import argparse
import json

from trayapp.cli.codes import code_source
from trayapp.cli.context import start
from trayapp.core.clock import isoformat_z
from trayapp.core.model import Credentials

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

FORMATS = ("sh", "fish", "powershell", "json")


def credential_variables(creds: Credentials, region: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": creds.access_key_id,
        "AWS_SECRET_ACCESS_KEY": creds.secret_access_key,
        "AWS_SESSION_TOKEN": creds.session_token,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_CREDENTIAL_EXPIRATION": isoformat_z(creds.expiration),
    }


def _sh(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def _fish(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _powershell(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def render(variables: dict[str, str], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(variables, indent=2)
    if fmt == "sh":
        lines = [f"export {k}={_sh(v)}" for k, v in variables.items()]
        lines.append("unset AWS_PROFILE")
    elif fmt == "fish":
        lines = [f"set -gx {k} {_fish(v)};" for k, v in variables.items()]
        lines.append("set -e AWS_PROFILE;")
    else:
        lines = [f"$Env:{k} = {_powershell(v)}" for k, v in variables.items()]
        lines.append("Remove-Item Env:AWS_PROFILE -ErrorAction SilentlyContinue")
    return "\n".join(lines)


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", help="PROFILE/ACCOUNT/ROLE or a shortening")
    parser.add_argument("--format", choices=FORMATS, default="sh", help="default: sh")
    parser.add_argument("--code", help="the 6-digit MFA code, if one is needed")


def run(args: argparse.Namespace) -> int:
    if args.code is not None:
        code_source(args.code)
    service = start()
    target = service.resolve(args.target)
    _, creds = service.ensure_session(target, lambda: code_source(args.code))
    print(render(credential_variables(creds, target.account.region), args.format))
    return 0
