"""aacli exec: run a command with a role's credentials in its environment."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

from trayapp.cli.codes import live_credentials
from trayapp.core.children import child_env
from trayapp.core.envvars import credential_variables
from trayapp.core.errors import AacliError, UsageError

DESCRIPTION = """\
Run a command with the role's temporary credentials in its environment
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION,
AWS_DEFAULT_REGION, AWS_CREDENTIAL_EXPIRATION; AWS_PROFILE is unset). The
command runs directly, without a shell; its exit code is aacli's."""

EPILOG = """\
examples:
  aacli exec dev/DEVELOPER -- aws s3 ls
  aacli exec prod --code 123456 -- terraform plan
  aacli exec dev -- sh -c 'echo $AWS_REGION'
"""


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", help="PROFILE/ACCOUNT/ROLE or a shortening")
    parser.add_argument("--code", help="the 6-digit MFA code, if one is needed")
    parser.add_argument("command", nargs="*", help="after --: the command and its arguments")


def run(args: argparse.Namespace) -> int:
    command = list(args.command)
    if not command:
        raise UsageError("say what to run: aacli exec TARGET -- COMMAND [ARGS…]")
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
