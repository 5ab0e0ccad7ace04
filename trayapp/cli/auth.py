"""aacli auth: assume a role with an MFA code and write its credentials."""

from __future__ import annotations

import argparse

from trayapp.cli.codes import code_source
from trayapp.cli.context import local_time, pick, remaining, say, start
from trayapp.core import validate
from trayapp.core.codes import LazyCode
from trayapp.core.errors import UsageError
from trayapp.core.providers.chained_role import CHAINED_MAX

DESCRIPTION = """\
Assume a role in a spoke account with your MFA code, and write the temporary
credentials into ~/.aws/credentials (or AWS_SHARED_CREDENTIALS_FILE) under the
role's AWS profile, with the account's region in ~/.aws/config. Any AWS tool can
then use them: aws s3 ls --profile dev-DEVELOPER. A role of an Identity Center
hub needs no code: its sign-in (aacli login HUB) gets it (GetRoleCredentials),
and a role added --via a permission set is assumed from that one (at most 1 h)."""

EPILOG = """\
examples:
  aacli auth                          pick a role from a list (on a terminal)
  aacli auth dev/DEVELOPER            ask for the code on the terminal
  aacli auth dev --code 123456        give the code (for scripts)
  aacli auth dev --default            also write the [default] profile
  aacli auth prod/ReadOnly --duration 30m
  aacli auth corp/dev/AdministratorAccess   an Identity Center permission set (no code)
"""


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="?", help="PROFILE/ACCOUNT/ROLE or a shortening")
    parser.add_argument("--code", metavar="CODE", help="the 6-digit MFA code (else asked for)")
    parser.add_argument(
        "--duration", metavar="D", help="session length, e.g. 1h, 90m, 3600 (default: the role's)"
    )
    parser.add_argument(
        "--default", action="store_true", help="also write the credentials as [default]"
    )


def run(args: argparse.Namespace) -> int:
    duration = validate.duration(args.duration) if args.duration else None
    if args.code is not None:
        code_source(args.code)  # a malformed --code fails before anything else
    service = start()
    if args.target:
        target = service.resolve(args.target)
    else:
        targets = service.targets()
        if not targets:
            raise UsageError("no roles are configured yet; add one with 'aacli config add-role'")
        target = pick(targets, [t.label for t in targets], "Which role?")
    source = LazyCode(lambda: code_source(args.code, service=service, target=target))
    session = service.authenticate(
        target, source, duration_seconds=duration, also_default=args.default
    )
    asked = duration or target.role.duration_seconds
    if (target.profile.mfa_session_seconds or target.role.via) and asked > CHAINED_MAX:
        through = f"from {target.role.via}" if target.role.via else "through an MFA session"
        say(
            f"note: roles assumed {through} last at most 1 h (AWS's rule), "
            f"not the {asked // 60} min asked for."
        )
    left = int((session.expiration - service.deps.clock()).total_seconds())
    profiles = " and ".join(f"'{p}'" for p in session.aws_profiles)
    say(
        f"{target.label}: credentials written to AWS profile {profiles} in "
        f"{session.credentials_file}; valid until {local_time(session.expiration)} "
        f"({remaining(left)})."
    )
    from pathlib import Path

    from trayapp.core.files import warn_if_shared

    # Others who may write that folder could swap the file for one of theirs.
    warning = warn_if_shared(Path(session.credentials_file).parent)
    if warning:
        say(warning)
    return 0
