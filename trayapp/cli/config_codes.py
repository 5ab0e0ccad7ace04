"""aacli config codes / totp / mfa-session / keep-fresh / serve / rotate-after: how a hub's
codes come and how long what they buy lasts, and what the tray does by itself."""

from __future__ import annotations

import argparse
from typing import Any

from trayapp.cli.context import ask_hidden, interactive, say
from trayapp.core import config as cfg
from trayapp.core import config_ops, validate
from trayapp.core.errors import UsageError
from trayapp.core.service import Service


def register(sub: Any) -> None:
    """codes, totp, mfa-session, keep-fresh, serve and rotate-after, on ``aacli config``'s
    sub-command parser."""
    p = sub.add_parser(
        "codes",
        help="where a profile's MFA codes come from: typed, a YubiKey (ykman), or a command",
        description=CODES_HELP,
    )
    p.add_argument("name", help="the profile")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--ykman", action="store_true", help="a YubiKey's OATH account, via ykman")
    how.add_argument("--process", metavar="COMMAND", help="a command that prints the code")
    how.add_argument("--ask", action="store_true", help="type the code (terminal or dialog)")
    p.add_argument("--account", help="with --ykman: the OATH account (default: the MFA serial)")
    p.add_argument("--serial", help="with --ykman: which YubiKey, by serial number")

    p = sub.add_parser(
        "totp",
        help="store (or check, or forget) a virtual MFA device's seed: no more typing codes",
        description=TOTP_TRADE_OFF,
    )
    p.add_argument("name", help="the profile")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument(
        "--seed-from-stdin",
        action="store_true",
        help="read the base32 seed or an otpauth://totp/… URI from standard input",
    )
    how.add_argument("--remove", action="store_true", help="forget the stored seed")
    how.add_argument(
        "--check", action="store_true", help="compare with a code from your authenticator"
    )

    p = sub.add_parser(
        "mfa-session",
        help="one code buys a session of this length; roles then need no code",
        description=MFA_SESSION_HELP,
    )
    p.add_argument("name", help="the profile")
    p.add_argument("length", help="15m to 36h, e.g. 12h; or 'off'")

    p = sub.add_parser("keep-fresh", help="let the tray renew a role before it expires")
    p.add_argument("target", help="PROFILE/ACCOUNT/ROLE or a shortening")
    p.add_argument("state", choices=("on", "off"))

    p = sub.add_parser("serve", help="let the tray serve credentials to programs (or stop)")
    p.add_argument("state", choices=("on", "off"))
    p.add_argument("--port", type=int, help="its port on 127.0.0.1 (default: any free one)")

    p = sub.add_parser("rotate-after", help="days before the tray reminds to rotate the hub key")
    p.add_argument("name", help="the profile")
    p.add_argument("days", help="whole days, 0 to 3650; 0 = never remind (default 90)")


NO_CODES = "and no MFA device: its roles need no code"

CODES_HELP = """\
Where the profile's MFA codes come from. --ykman reads them from a YubiKey's
OATH applet with the ykman CLI (touch it when asked: the tray and the terminal
say so); --process runs a command that prints the code (e.g. a password
manager's 'op item get aws-mfa --otp'), without a shell, for at most 30 s;
--ask types them again. A code is never sent twice: aacli waits for the next."""


def codes(service: Service, args: argparse.Namespace) -> int:
    cfg.iam_user_hub(service.config, args.name, NO_CODES)
    if (args.account or args.serial) and not args.ykman:
        raise UsageError("--account and --serial go with --ykman")
    if args.ykman:
        account = args.account.strip() if args.account else None
        if args.account is not None and not account:
            raise UsageError("--account must name the OATH account")
        serial = validate.yubikey_serial(args.serial) if args.serial else None
        changes: dict[str, Any] = {
            "codes": "ykman", "ykman_account": account, "ykman_serial": serial
        }  # fmt: skip
        said = f"codes from the YubiKey's OATH account {account or '(the MFA device serial)'}"
    elif args.process is not None:
        validate.mfa_process(args.process)
        changes = {"codes": "process", "mfa_process": args.process}
        said = f"codes from the command: {args.process}"
    else:
        changes = {"codes": "ask"}
        said = "codes typed in (terminal or dialog)"
    config_ops.set_codes(service, args.name, **changes)
    say(f"Profile '{args.name}': {said}.")
    return 0


TOTP_TRADE_OFF = config_ops.TOTP_TRADE_OFF  # the settings window says the same

MFA_SESSION_HELP = """\
With an MFA session, one code buys a GetSessionToken session (kept in the
secret store) and every role within it is assumed without a code. AWS's rules:
role sessions from it last at most 1 h, and the console cannot be given a
longer session for them. The session is dropped when the hub key changes, and
by 'aacli unauth --all --mfa-session'."""


def totp(service: Service, args: argparse.Namespace) -> int:
    profile = cfg.iam_user_hub(service.config, args.name, NO_CODES)
    if args.remove:
        service.profile_secrets.remove_totp_seed(profile)
        say(f"Forgot the TOTP seed of profile '{profile.name}'; codes will be asked for again.")
        return 0
    if args.check:
        typed = ask_hidden("A code from your authenticator app: ")
        offset = service.profile_secrets.check_totp_seed(profile, typed)
        if offset is None:
            raise UsageError(
                "that code does not match the stored seed (nor a clock off by up to 5 min); "
                "store the right seed again"
            )
        if offset == 0:
            say("The stored seed gives the same code as your authenticator.")
        else:
            say(
                f"The seed is right, but the clocks differ by {abs(offset)} window(s) of 30 s "
                f"(this machine is {'behind' if offset > 0 else 'ahead'}): check the time."
            )
        return 0
    if interactive():
        say(TOTP_TRADE_OFF)
    seed_text = ask_hidden("Seed (base32) or otpauth:// URI: ")
    service.profile_secrets.set_totp_seed(profile, seed_text)
    say(f"Stored the TOTP seed of profile '{profile.name}' in {service.secrets().name}.")
    if not interactive():
        say(TOTP_TRADE_OFF)
    return 0


def mfa_session(service: Service, args: argparse.Namespace) -> int:
    profile = cfg.iam_user_hub(service.config, args.name, NO_CODES)
    seconds = None if args.length == "off" else validate.mfa_session_duration(args.length)
    config_ops.set_mfa_session(service, profile.name, seconds)
    if seconds is None:
        say(f"Profile '{profile.name}' asks for a code for each role again.")
    else:
        say(
            f"Profile '{profile.name}': one code now buys a {seconds // 3600} h "
            f"{seconds % 3600 // 60:02d} min MFA session; its roles then last at most 1 h."
        )
    return 0


def keep_fresh(service: Service, args: argparse.Namespace) -> int:
    from dataclasses import replace

    target = service.resolve(args.target)
    role = replace(target.role, keep_fresh=args.state == "on")
    service.update_config(
        lambda config: cfg.replace_role(config, target.profile.name, target.account.name, role)
    )
    if role.keep_fresh:
        say(
            f"{target.label}: the tray renews it before expiry when no code has to be typed "
            "(a stored TOTP seed or a live MFA session); otherwise it reminds you."
        )
    else:
        say(f"{target.label}: no automatic renewal.")
    return 0


def serve(service: Service, args: argparse.Namespace) -> int:
    """The tray's "Serve credentials to programs" switch (the running tray follows it)."""
    from dataclasses import replace

    on = args.state == "on"
    if args.port is not None and not 0 <= args.port <= 65535:
        raise UsageError("the port must be 0 (any free one) to 65535")

    def change(config: cfg.Config) -> cfg.Config:
        port = config.settings.server_port if args.port is None else args.port
        settings = replace(config.settings, serve_credentials=on, server_port=port)
        return replace(config, settings=settings)

    settings = service.update_config(change).settings
    if on:
        port = settings.server_port or "a free port"
        say(
            f"The tray serves credentials to programs on 127.0.0.1 ({port}): "
            'eval "$(aacli env --server TARGET)", or Copy server env in a role\'s menu.'
        )
    else:
        say("The tray no longer serves credentials to programs.")
    return 0


def rotate_after(service: Service, args: argparse.Namespace) -> int:
    from trayapp.core.keys.age import rotate_after_days, with_rotate_after

    days = rotate_after_days(args.days)
    service.update_config(lambda config: with_rotate_after(config, args.name, days))
    if days:
        say(f"{args.name}: reminded to rotate the hub key when it is {days} days old.")
    else:
        say(f"{args.name}: no reminder to rotate the hub key.")
    return 0
