"""aacli rotate: replace a profile's hub access key with a new one (and how old keys are)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from trayapp.cli.context import pick, say, start
from trayapp.core.errors import AacliError, UsageError

if TYPE_CHECKING:
    from trayapp.core.codes import CodeSource
    from trayapp.core.keys import KeyAge
    from trayapp.core.model import Profile
    from trayapp.core.service import Service

DESCRIPTION = """\
Create a new access key for the profile's hub IAM user, check that AWS accepts it,
store it (aacli uses it from then on), then deactivate and delete the old key.
When the hub user's policy allows managing its own keys only with MFA, aacli asks
for a code. A rotation cut short (a crash, a lost network) is finished or undone
by the next aacli command."""

EPILOG = """\
examples:
  aacli rotate acme                 new key in, old key out
  aacli rotate acme --code 123456   with an MFA code (for scripts)
  aacli rotate acme --keep-old      leave the old key Inactive instead of deleting it
  aacli rotate acme --delete-old    later: delete the old key kept by --keep-old
  aacli rotate acme --refresh-age   read the key's creation date from IAM
"""


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("profile", nargs="?", help="the profile whose hub key to rotate")
    parser.add_argument("--code", metavar="CODE", help="the 6-digit MFA code (asked if needed)")
    what = parser.add_mutually_exclusive_group()
    what.add_argument(
        "--keep-old", action="store_true", help="make the old key Inactive, do not delete it"
    )
    what.add_argument(
        "--delete-old", action="store_true", help="delete the old key a --keep-old left"
    )
    what.add_argument(
        "--refresh-age", action="store_true", help="cache the key's CreateDate from IAM"
    )


def run(args: argparse.Namespace) -> int:
    from trayapp.core import keys
    from trayapp.core.keys.age import describe

    if args.code is not None:
        from trayapp.core import validate

        validate.mfa_code(args.code)  # a malformed --code fails before anything else
    service = start()
    profile = _profile(service, args.profile)
    source, mfa_first = _code_source(service, profile, args.code)
    deps = keys.KeyDeps.from_service(service)
    if args.refresh_age:
        age = keys.refresh_age(deps, profile.name, source, mfa_first=mfa_first)
        say(describe(age) if age else f"{profile.name}: the hub key's age is not known.")
        return 0
    if args.delete_old:
        outcome = keys.delete_old(deps, profile.name, source, mfa_first=mfa_first)
    else:
        outcome = keys.rotate(
            deps, profile.name, source, keep_old=args.keep_old, mfa_first=mfa_first
        )
    say(outcome.describe())
    return 0


def _profile(service: Service, name: str | None) -> Profile:
    from trayapp.core.config import iam_user_hub

    config = service.config
    if name is None:
        profiles = [p for p in config.profiles if not p.is_identity_center]
        return pick(profiles, [p.name for p in profiles], "Which profile's hub key?")
    return iam_user_hub(config, name, "so nothing to rotate")


def _code_source(service: Service, profile: Profile, code: str | None) -> tuple[CodeSource, bool]:
    """--code, the profile's YubiKey or MFA command, or a stored seed (used up front), else the
    terminal or the dialog (only when AWS says the policy needs MFA)."""
    from trayapp.cli.codes import say_waiting, touch_prompt
    from trayapp.core.codes import FixedCode, LazyCode
    from trayapp.core.codes.configured import configured_source

    if code is not None:
        return FixedCode(code), True
    configured = configured_source(
        profile,
        code_windows_file=service.deps.app.code_windows_file,
        clock=service.deps.clock,
        on_prompt=touch_prompt(service.deps.app.state_dir, profile.name),
        on_wait=say_waiting,
    )
    if configured is not None:
        return configured, True
    stored = service.stored_code_source(profile)
    if stored is not None:
        return stored, True
    return LazyCode(_asked_source), False


def _asked_source() -> CodeSource:
    from trayapp.cli.codes import code_source

    try:
        return code_source(None)
    except UsageError:
        raise UsageError(
            "the hub user's policy needs an MFA code to manage its own keys, and there is no "
            "terminal or display to ask on; pass --code CODE"
        ) from None


def key_age_lines(service: Service) -> list[KeyAge]:
    """The cached age of each profile's hub key (no AWS call), for ``aacli status``."""
    from trayapp.core.keys import key_age

    try:
        profiles = service.config.profiles
    except AacliError:
        return []  # status still shows the sessions when the config is broken
    now = service.deps.clock()
    return [age for p in profiles if (age := key_age(p, now)) is not None]


def finish_rotations(service: Service) -> None:
    """Finish or undo a hub key rotation a killed aacli left (every command runs this)."""
    from trayapp.core.quick_session import rotation_under_way

    if not rotation_under_way(str(service.deps.app.state_dir)):
        return  # the common case: a folder listing, no secret store or rotation code loaded
    from trayapp.core import keys

    try:
        done, problems = keys.finish_all_interrupted(keys.KeyDeps.from_service(service))
    except AacliError as exc:
        say(f"warning: {exc}")
        return
    for outcome in done:
        say(outcome.describe())
    for line in problems:
        say(f"warning: {line}")
