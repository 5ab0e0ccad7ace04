"""aacli exec: run a command with a role's credentials in its environment."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping
from types import FrameType

from trayapp.cli.codes import live_credentials
from trayapp.core.children import child_env
from trayapp.core.envvars import credential_variables
from trayapp.core.errors import AacliError, UsageError

DESCRIPTION = """\
Run a command with the role's temporary credentials in its environment
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION,
AWS_DEFAULT_REGION, AWS_CREDENTIAL_EXPIRATION; AWS_PROFILE is unset). The
command runs directly, without a shell; its exit code is aacli's.

With --server, the command gets no keys at all: aacli serves the role's
credentials on 127.0.0.1 while the command runs (as 'aacli serve' does) and
gives it AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN
(+ AWS_REGION, AWS_DEFAULT_REGION). Its AWS SDKs and the AWS CLI fetch and
refresh credentials from there, and aacli renews the role before it expires:
a long 'terraform apply' outlives the role's session. Nothing is written to
~/.aws. Signals sent to aacli are passed on to the command."""

# What would make the command's SDKs use other credentials than the server's.
SHADOWING_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",  # botocore prefers it to the token we give
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)
FORWARDED_SIGNALS = ("SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2")

EPILOG = """\
examples:
  aacli exec dev/DEVELOPER -- aws s3 ls
  aacli exec prod --code 123456 -- terraform plan
  aacli exec dev -- sh -c 'echo $AWS_REGION'
  aacli exec --server dev/DEVELOPER -- terraform apply   keys renewed, never in its env
"""


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", help="PROFILE/ACCOUNT/ROLE or a shortening")
    parser.add_argument("--code", help="the 6-digit MFA code, if one is needed")
    parser.add_argument(
        "--server",
        action="store_true",
        help="serve the credentials on 127.0.0.1 to the command, renewed; no keys in its env",
    )
    parser.add_argument("command", nargs="*", help="after --: the command and its arguments")


def run(args: argparse.Namespace) -> int:
    command = list(args.command)
    if not command:
        raise UsageError("say what to run: aacli exec TARGET -- COMMAND [ARGS…]")
    if args.server:
        return run_with_server(args.target, args.code, command)
    target, creds = live_credentials(args.target, args.code)
    # The command gets the role's keys, never aacli's own secrets (the vault passphrase).
    env = child_env(
        credential_variables(creds, target.account.region),
        drop=("AWS_PROFILE", "AWS_DEFAULT_PROFILE"),
    )
    program = shutil.which(command[0], path=env.get("PATH"))
    if program is None:
        raise AacliError(f"command not found: {command[0]}")
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        # Become the command: signals reach it directly and its exit code is ours.
        try:
            os.execve(program, command, env)  # noqa: S606
        except OSError as exc:
            raise AacliError(f"cannot run {command[0]}: {exc.strerror}") from None
    completed = subprocess.run([program, *command[1:]], env=env, check=False)
    return completed.returncode


def run_with_server(target_text: str, code: str | None, command: list[str]) -> int:
    """Serve the role on 127.0.0.1 for as long as ``command`` runs; its exit code is ours."""
    from trayapp.cli.serve import start_server

    target, server, stop = start_server(target_text, code, 0)
    try:
        env = child_env(
            {
                **server.env(target.label),
                "AWS_REGION": target.account.region,
                "AWS_DEFAULT_REGION": target.account.region,
            },
            drop=SHADOWING_VARIABLES,
        )
        program = shutil.which(command[0], path=env.get("PATH"))
        if program is None:
            raise AacliError(f"command not found: {command[0]}")
        return run_in_foreground([program, *command[1:]], env)
    finally:
        stop.set()
        server.stop()


def run_in_foreground(argv: list[str], env: Mapping[str, str]) -> int:
    """Run ``argv`` on our terminal, in our folder, until it ends; its exit status (128+N when
    signal N ended it). Ctrl-C reaches it from the terminal (same process group), so aacli only
    ignores it; the other signals sent to aacli are passed on to it.

    Not core/children.run: that one captures the output and runs in "/"; an exec'd command
    is the user's own, in their folder. Its environment is built with child_env all the same.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    started: list[subprocess.Popen[bytes]] = []
    pending: list[int] = []  # a signal that came before the command started

    def forward(signum: int, frame: FrameType | None) -> None:
        if not started:
            pending.append(signum)
            return
        with contextlib.suppress(OSError):  # it has just ended
            started[0].send_signal(signum)

    def ignore(signum: int, frame: FrameType | None) -> None:
        pass  # a Python handler, not SIG_IGN: the command must not inherit "ignored"

    # Handlers first, then the command: no moment where a signal would end aacli alone.
    handlers = {getattr(signal, n): forward for n in FORWARDED_SIGNALS if hasattr(signal, n)}
    handlers[signal.SIGINT] = ignore
    previous = {signum: signal.signal(signum, handler) for signum, handler in handlers.items()}
    try:
        try:
            started.append(subprocess.Popen(argv, env=dict(env)))
        except OSError as exc:
            raise AacliError(f"cannot run {argv[0]}: {exc.strerror}") from None
        for signum in pending:
            forward(signum, None)
        status = started[0].wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 128 - status if status < 0 else status
