"""`aacli config` with no action, on a terminal: a menu that stays until the user leaves,
checks each answer as it is typed (asking again, keeping the others), and confirms removals."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeVar

from trayapp.cli.context import ask_line, pick, say
from trayapp.core import validate
from trayapp.core.errors import AacliError, CodeCancelled, UsageError
from trayapp.core.service import Service

T = TypeVar("T")
DONE = "Done: leave the menu"


def ask(prompt: str, check: Callable[[str], T], default: str | None = None) -> str:
    """Ask until ``check`` accepts the answer (its one-line reason shown each time)."""
    suffix = f" [{default}]" if default else ""
    while True:
        try:
            answer = ask_line(f"{prompt}{suffix}: ").strip() or (default or "")
        except (EOFError, KeyboardInterrupt):
            raise CodeCancelled("Cancelled.") from None
        try:
            check(answer)
        except UsageError as exc:
            say(f"  {exc}; try again (Ctrl-D to go back to the menu).")
            continue
        return answer


def confirm(question: str) -> bool:
    try:
        return ask_line(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except (EOFError, KeyboardInterrupt):
        return False


def _add_profile(service: Service) -> None:
    from trayapp.cli import config as commands

    commands.add_profile(
        service,
        argparse.Namespace(
            name=ask("Profile name", lambda v: validate.name(v, "profile name"), "default"),
            access_key_id=ask("Access key id", validate.access_key_id),
            mfa_serial=ask("MFA device ARN or serial", validate.mfa_serial),
            sts_region=ask("STS region", validate.region, "us-east-1"),
            partition=ask("Partition", validate.partition, "aws"),
            session_name=None,
        ),
    )


def _add_sso(service: Service) -> None:
    from trayapp.cli import config_sso

    config_sso.add_sso(
        service,
        argparse.Namespace(
            name=ask("Hub name", lambda v: validate.name(v, "profile name"), "corp"),
            start_url=ask("Start URL (https://…/start)", validate.sso_start_url),
            region=ask("Identity Center region", validate.region, "us-east-1"),
        ),
    )


def _add_account(service: Service) -> None:
    from trayapp.cli import config as commands

    profiles = service.config.profiles
    profile = pick(profiles, [p.name for p in profiles], "Which profile?")
    commands.add_account(
        service,
        argparse.Namespace(
            profile=profile.name,
            name=ask("Account name", lambda v: validate.name(v, "account name")),
            account_id=ask("Account id (12 digits)", validate.account_id),
            region=ask("Region", validate.region, "us-east-1"),
        ),
    )


def _add_role(service: Service) -> None:
    from trayapp.cli import config as commands

    pairs = [(p, a.name) for p in service.config.profiles for a in p.accounts]
    profile, account_name = pick(pairs, [f"{p.name}/{a}" for p, a in pairs], "Which account?")
    role = ask("Role name", validate.role_name)
    commands.add_role(
        service,
        argparse.Namespace(
            account=f"{profile.name}/{account_name}",
            role=role,
            # An Identity Center permission set's session is Identity Center's: no duration.
            duration=None
            if profile.is_identity_center
            else ask("Duration", validate.duration, "1h"),
            aws_profile=None,
        ),
    )


def _remove(service: Service) -> None:
    from trayapp.cli import config as commands
    from trayapp.core import config as cfg
    from trayapp.core.config_ops import removal_question

    def exists(text: str) -> None:
        cfg.remove_path(service.config, text.strip("/").split("/"))

    path = ask("PROFILE, PROFILE/ACCOUNT or PROFILE/ACCOUNT/ROLE", exists)
    if not confirm(removal_question(service.config, path.strip("/").split("/"))):
        say("Nothing was removed.")
        return
    commands.remove(service, argparse.Namespace(path=path))


def _set_key(service: Service) -> None:
    from trayapp.cli import config as commands

    profiles = [p for p in service.config.profiles if not p.is_identity_center]  # no hub key
    profile = pick(profiles, [p.name for p in profiles], "Which profile?")
    commands.set_key(service, argparse.Namespace(name=profile.name, access_key_id=None))


def _import(service: Service) -> None:
    from trayapp.cli import config as commands

    commands.import_aws(service, argparse.Namespace(dry_run=False))


def _show(service: Service) -> None:
    from trayapp.cli import config as commands

    commands.show(service, argparse.Namespace(json=False))


CHOICES: list[tuple[str, Callable[[Service], None]]] = [
    ("Add a profile (hub user)", _add_profile),
    ("Add an Identity Center hub", _add_sso),
    ("Add an account", _add_account),
    ("Add a role", _add_role),
    ("Import from ~/.aws/config", _import),
    ("Show the configuration", _show),
    ("Remove a profile, account or role", _remove),
    ("Store a new secret key", _set_key),
]


def menu(service: Service) -> int:
    """Until the user picks Done (or presses Ctrl-D): an action's error is shown and the menu
    comes back; nothing typed before a bad answer is lost."""
    labels = [label for label, _ in CHOICES] + [DONE]
    while True:
        try:
            choice = pick(list(range(len(labels))), labels, "What would you like to do?")
        except CodeCancelled:
            return 0
        if choice == len(CHOICES):
            return 0
        try:
            CHOICES[choice][1](service)
        except CodeCancelled:
            say("Back to the menu; nothing more was changed.")
        except AacliError as exc:
            say(f"aacli: {exc}")
        service.reload()
