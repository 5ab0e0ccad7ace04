"""aacli credential-process: credentials for a credential_process line in ~/.aws/config."""

from __future__ import annotations

# Nothing at import: SDKs start this command for every client, so a live session is
# answered by core/quick_session alone (no service, botocore, keyring or tomllib); the
# full path is imported only when that cannot answer.
TYPE_CHECKING = False  # typing's, without importing typing: start-up time
if TYPE_CHECKING:
    import argparse

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


def answer_quickly(target_text: str) -> bool:
    """Print the target's credentials when its live session can answer without the service
    (core/quick_session); False when the full command must run."""
    from trayapp.core import lean
    from trayapp.core.quick_session import live_credentials

    if target_text.startswith("-") or (found := live_credentials(target_text)) is None:
        return False
    print(lean.dumps({"Version": 1, **found}))
    return True


def run(args: argparse.Namespace) -> int:
    if args.server and (answer := from_tray(args.target)) is not None:
        import json

        print(json.dumps(answer))
        return 0
    if args.code is None and answer_quickly(args.target):
        return 0
    import json

    from trayapp.cli.codes import live_credentials
    from trayapp.core.clock import isoformat_z

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
