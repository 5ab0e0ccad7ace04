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
    """The running tray's credential_process JSON for the target (over its socket); None
    when no tray listens. Light (core/tray_client): this is the fast path."""
    import os

    from trayapp.core.app_dirs import TRAY_SOCKET_FILE, app_dirs
    from trayapp.core.errors import AacliError
    from trayapp.core.tray_client import ask_tray

    socket_file = os.path.join(app_dirs()[1], TRAY_SOCKET_FILE)
    answer = ask_tray(socket_file, {"op": "credentials", "target": target_text})
    if answer is None:
        return None
    if "error" in answer or "AccessKeyId" not in answer:
        raise AacliError(f"the tray: {answer.get('error', 'no credentials in its answer')}")
    return answer


def print_answer(answer: dict[str, object]) -> None:
    """The credential_process JSON on stdout (json's own form, without json where it can)."""
    from trayapp.core import lean

    try:
        print(lean.dumps(answer))  # type: ignore[arg-type]  # refused when not flat
    except ValueError:
        import json

        print(json.dumps(answer))


def answer_quickly(target_text: str, *, server: bool = False) -> bool:
    """Print the target's credentials when the running tray (``server``) or its live session
    can answer without the service (core/quick_session); False when the full command must
    run. The tray's error is raised, as the full command would."""
    from trayapp.core.quick_session import live_credentials

    if target_text.startswith("-"):
        return False
    if server and (answer := from_tray(target_text)) is not None:
        print_answer(answer)
        return True
    if (found := live_credentials(target_text)) is None:
        return False
    print_answer({"Version": 1, **found})
    return True


def run(args: argparse.Namespace) -> int:
    if args.server and (answer := from_tray(args.target)) is not None:
        print_answer(answer)
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
