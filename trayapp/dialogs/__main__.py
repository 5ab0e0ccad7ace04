"""Command line of the dialog child processes: ``python -m trayapp.dialogs DIALOG …``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

# What the exit status means; ``client`` reads it.
EXIT_OK = 0
EXIT_CANCELLED = 1
EXIT_NO_DISPLAY = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m trayapp.dialogs",
        description=(
            "Show one aacli dialog and print the answer on stdout. "
            f"Exit {EXIT_OK}: answered; {EXIT_CANCELLED}: cancelled (Esc, Cancel or the "
            f"window closed); {EXIT_NO_DISPLAY}: no window could be shown."
        ),
    )
    commands = parser.add_subparsers(dest="dialog", required=True, metavar="DIALOG")

    mfa = commands.add_parser("mfa", help="ask for a 6-digit MFA code")
    mfa.add_argument("--target", required=True, help="the target, e.g. acme/dev/DEVELOPER")
    mfa.add_argument("--device", required=True, help="the MFA device serial or ARN")
    mfa.add_argument("--error", help="why the previous code failed, shown in red")
    mfa.add_argument("--hint", help="demo only: the sandbox's current code, shown as a hint")

    passphrase = commands.add_parser("passphrase", help="ask for a passphrase (masked)")
    passphrase.add_argument("--purpose", required=True, help="what the passphrase is for")
    passphrase.add_argument("--confirm", action="store_true", help="ask twice; both must match")
    passphrase.add_argument("--error", help="why the previous passphrase failed, shown in red")

    commands.add_parser(
        "device-code",
        help="show an Identity Center sign-in code (its details as JSON on stdin) until closed",
    )

    settings = commands.add_parser(
        "settings", help="the settings and first-run window (raises the open one if any)"
    )
    settings.add_argument("--profile", help="open on this profile")
    settings.add_argument("--first-run", action="store_true", help="open on the welcome page")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from trayapp.core.hardening import harden_process

    harden_process()  # a passphrase is typed here: no core file may hold it
    args = build_parser().parse_args(argv)
    try:
        import tkinter
    except ImportError:  # a Python built without Tk
        print(f"aacli: cannot show the {args.dialog} dialog: Tk is not installed", file=sys.stderr)
        return EXIT_NO_DISPLAY
    try:
        if args.dialog == "settings":
            from trayapp.dialogs.settings.window import run_window

            return run_window(args.profile, first_run=args.first_run)
        if args.dialog == "device-code":
            from trayapp.dialogs import device_code

            try:
                details = device_code.CodeDetails.read(sys.stdin)
            except ValueError as exc:
                print(f"aacli: cannot show the device-code dialog: {exc}", file=sys.stderr)
                return EXIT_NO_DISPLAY
            return EXIT_CANCELLED if device_code.show(details) else EXIT_OK
        if args.dialog == "mfa":
            from trayapp.dialogs import mfa

            answer = mfa.ask(args.target, args.device, error=args.error, hint=args.hint)
        else:
            from trayapp.dialogs import passphrase

            answer = passphrase.ask(args.purpose, confirm=args.confirm, error=args.error)
    except tkinter.TclError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "Tk failed"
        print(f"aacli: cannot show the {args.dialog} dialog: {reason}", file=sys.stderr)
        return EXIT_NO_DISPLAY
    if answer is None:
        return EXIT_CANCELLED
    # UTF-8 whatever the locale, so the parent can decode any passphrase.
    sys.stdout.buffer.write(answer.encode("utf-8") + b"\n")
    sys.stdout.flush()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
