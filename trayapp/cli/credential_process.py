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
    parser.add_argument(
        "--server",
        action="store_true",
        help="ask the running tray first (over its socket); without a tray, as usual",
    )


def from_tray(target_text: str) -> dict[str, object] | None:
    """The running tray's credential_process JSON for the target (core/tray_socket); None
    when no tray listens. Standard library only: this is the fast path."""
    from trayapp.core.errors import AacliError
    from trayapp.core.paths import AppPaths
    from trayapp.core.tray_socket import ask_tray

    answer = ask_tray(AppPaths.from_env(), {"op": "credentials", "target": target_text})
    if answer is None:
        return None
    if "error" in answer or "AccessKeyId" not in answer:
        raise AacliError(f"the tray: {answer.get('error', 'no credentials in its answer')}")
    return answer


def run(args: argparse.Namespace) -> int:
    if args.server and (answer := from_tray(args.target)) is not None:
        print(json.dumps(answer))
        return 0
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
