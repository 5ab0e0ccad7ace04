"""aacli credential-process: credentials for a credential_process line in ~/.aws/config."""

from __future__ import annotations

import argparse
import json

from trayapp.cli.codes import live_credentials
from trayapp.core.clock import isoformat_z

DESCRIPTION = """\
Print a role's credentials in the JSON that AWS SDKs expect from a
credential_process. Reuses the role's live session; otherwise asks for the MFA
code on the terminal, or in a dialog when there is no terminal. Set it up with
'aacli config link-aws TARGET', which writes:

  [profile dev-DEVELOPER-process]
  credential_process = aacli credential-process acme/dev/DEVELOPER"""


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", help="PROFILE/ACCOUNT/ROLE or a shortening")
    parser.add_argument("--code", help="the 6-digit MFA code, if one is needed")


def run(args: argparse.Namespace) -> int:
    _, creds = live_credentials(args.target, args.code, use_tty=True)
    print(
        json.dumps(
            {
                "Version": 1,
                "AccessKeyId": creds.access_key_id,
                "SecretAccessKey": creds.secret_access_key,
                "SessionToken": creds.session_token,
                "Expiration": isoformat_z(creds.expiration),
            }
        )
    )
    return 0
