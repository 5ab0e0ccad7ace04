"""aacli status: the active sessions and their time left."""

from __future__ import annotations

# Nothing at import: `aacli status` in its plain case is answered by core/quick_status
# (no service, model or tomllib); the full path imports what it needs in run().
TYPE_CHECKING = False  # typing's, without importing typing: start-up time
if TYPE_CHECKING:
    import argparse
    from datetime import datetime

    from trayapp.core.service import Service

DESCRIPTION = "Show the sessions aacli wrote that are still valid, soonest expiry first."


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def answer_quickly() -> bool:
    """Print what `aacli status` prints when core/quick_status can say it; False when the
    full command must run."""
    from trayapp.core.quick_status import printed_lines

    lines = printed_lines()
    if lines is None:
        return False
    print("\n".join(lines))
    return True


def run(args: argparse.Namespace) -> int:
    import json

    from trayapp.cli.context import local_time, remaining, say, start
    from trayapp.core import quick_status, status_lines
    from trayapp.core.clock import isoformat_z

    config_identity = None if args.json else quick_status.config_identity(_config_file())
    service = start()
    now = service.deps.clock()
    sessions = service.status()
    mfa = service.mfa_sessions()
    problems = service.ledger_problems()
    for line in problems:
        say(f"warning: {line}")
    from trayapp.cli.rotate import key_age_lines

    key_ages = key_age_lines(service)
    sign_ins = _sign_ins(service)
    if args.json:
        print(
            json.dumps(
                {
                    "sessions": [
                        {
                            "target": s.target,
                            "aws_profiles": list(s.aws_profiles),
                            "expires": isoformat_z(s.expiration),
                            "seconds_left": max(0, int((s.expiration - now).total_seconds())),
                            "region": s.region,
                            "credentials_file": s.credentials_file,
                        }
                        for s in sessions
                    ],
                    "mfa_sessions": [
                        {
                            "profile": name,
                            "expires": isoformat_z(expiry),
                            "seconds_left": max(0, int((expiry - now).total_seconds())),
                        }
                        for name, expiry in mfa.items()
                    ],
                    "problems": problems,
                    "hub_keys": [
                        {"profile": a.profile, "days_old": a.days, "rotate_now": a.due}
                        for a in key_ages
                    ],
                    "identity_center": [
                        {
                            "profile": name,
                            "signed_in_until": isoformat_z(until) if until else None,
                            "seconds_left": max(0, int((until - now).total_seconds()))
                            if until
                            else 0,
                        }
                        for name, until in sign_ins.items()
                    ],
                },
                indent=2,
            )
        )
        return 0
    for name, expiry in mfa.items():
        print(status_lines.mfa_session(name, expiry.timestamp(), now.timestamp()))
    for age in key_ages:
        print(status_lines.key_age(age.profile, age.days, age.due))
    for name, until in sign_ins.items():
        if until is not None and until > now:
            left = remaining(int((until - now).total_seconds()))
            print(f"Identity Center hub {name}: signed in until {local_time(until)} ({left} left)")
        else:
            print(f"Identity Center hub {name}: not signed in (aacli login {name})")
    rows = [(s.target, s.aws_profiles, s.expiration.timestamp()) for s in sessions]
    print("\n".join(status_lines.sessions_table(rows, now.timestamp())))
    if not problems:  # the next status may answer from what this one read
        _remember(service, config_identity)
    return 0


def _config_file() -> str:
    from trayapp.core.paths import AppPaths

    return str(AppPaths.from_env().config_file)


def _remember(service: Service, identity: list[int] | None) -> None:
    from trayapp.core import quick_status
    from trayapp.core.errors import AacliError

    try:
        config = service.config
    except AacliError:
        return
    quick_status.remember(service.deps.app, identity, config)


def _sign_ins(service: Service) -> dict[str, datetime | None]:
    """Each Identity Center hub's sign-in expiry, from the token cache (no network)."""
    from trayapp.cli.context import say
    from trayapp.core.errors import AacliError

    try:
        hubs = [p.name for p in service.config.profiles if p.is_identity_center]
    except AacliError:
        return {}  # status still shows the sessions when the config is broken
    found: dict[str, datetime | None] = {}
    for name in hubs:
        try:
            found[name] = service.sso_expiry(name)
        except AacliError as exc:  # an unsafe cache file: said, and the hub is not signed in
            say(f"warning: {exc}")
            found[name] = None
    return found
