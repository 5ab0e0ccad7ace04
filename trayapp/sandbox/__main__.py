"""Runs the sandbox in the foreground: ``python -m trayapp.sandbox [--port N] ...``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from trayapp.sandbox.provision import SPOKE_ROLES
from trayapp.sandbox.server import Sandbox


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m trayapp.sandbox",
        description="A local AWS (moto + MFA checks + federation sign-in) on 127.0.0.1.",
    )
    parser.add_argument(
        "--port", type=int, default=0, help="port to listen on (default: a free one)"
    )
    parser.add_argument("--no-mfa-check", action="store_true", help="accept any 6-digit MFA code")
    parser.add_argument(
        "--credential-lifetime",
        type=int,
        metavar="S",
        help="issued credentials expire after S seconds, whatever was asked",
    )
    parser.add_argument(
        "--show-secrets",
        action="store_true",
        help="also print the hub secret access key and the MFA seed (for manual demos)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.credential_lifetime is not None and args.credential_lifetime <= 0:
        print("error: --credential-lifetime must be positive", file=sys.stderr)
        return 2
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    sandbox = Sandbox(
        mfa_check=not args.no_mfa_check,
        credential_lifetime=args.credential_lifetime,
        port=args.port,
    )
    try:
        sandbox.start()
    except OSError as exc:
        print(f"error: cannot serve on port {args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        hub, ic = sandbox.hub, sandbox.identity_center
        lines = [
            f"endpoint:       {sandbox.endpoint_url}",
            f"federation URL: {sandbox.federation_url}",
            f"IC start URL:   {ic.start_url}",
            f"IC region/user: {ic.region}, {ic.default_user}",
            f"hub user:       {hub.user_arn}",
            f"access key id:  {hub.access_key_id}",
            f"MFA serial:     {hub.mfa_serial}",
        ]
        if args.show_secrets:
            lines += [
                f"secret key:     {hub.secret_access_key}",
                f"MFA seed:       {hub.mfa_seed}",
            ]
        lines += [
            f"account {name:<8} {account_id}" for name, account_id in sandbox.accounts.items()
        ]
        roles = SPOKE_ROLES.items()
        lines.append("roles:          " + ", ".join(f"{r} (max {d} s)" for r, d in roles))
        lines.append("Press Ctrl-C to stop.")
        print("\n".join(lines), flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()
    print("sandbox stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
