"""aacli serve: a foreground local credential server for one role (core/server)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING

from trayapp.cli.context import say
from trayapp.core.envvars import FORMATS, render
from trayapp.core.errors import AacliError

if TYPE_CHECKING:
    from trayapp.core.codes import CodeSource
    from trayapp.core.model import Credentials, Target
    from trayapp.core.server import CredentialServer, Renewer
    from trayapp.core.service import Service

DESCRIPTION = """\
Serve a role's credentials to programs on 127.0.0.1, as an ECS container does:
AWS SDKs and the AWS CLI given the two printed variables
(AWS_CONTAINER_CREDENTIALS_FULL_URI, AWS_CONTAINER_AUTHORIZATION_TOKEN) ask
the server for credentials and refresh by themselves. Nothing is written to
~/.aws and no keys are put in any environment; the server renews the role
before the SDKs' refresh window (15 min before expiry), asking here for an MFA
code when a renewal needs one (none with a stored seed, a YubiKey or an MFA
session). The token is new at each start: only programs given it get
credentials. SDKs read ~/.aws first: a [default] profile with keys there would
be used instead (aacli warns). Runs until Ctrl-C."""

EPILOG = """\
examples:
  aacli serve dev/DEVELOPER                      then, in another shell, paste the two lines
  aacli serve dev --port 9911 --format fish
  aacli exec --server dev/DEVELOPER -- terraform apply   the same for one command
"""


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", help="PROFILE/ACCOUNT/ROLE or a shortening")
    parser.add_argument("--port", type=int, default=0, help="the port (default: a free one)")
    parser.add_argument("--format", choices=FORMATS, default="sh", help="default: sh")
    parser.add_argument("--code", help="the 6-digit MFA code for the first credentials")


# Keys of a [default] profile that SDKs use before they look at the container endpoint.
SHADOWING_KEYS = frozenset(
    {"aws_access_key_id", "credential_process", "role_arn", "sso_session", "sso_start_url"}
)


def renewer_for(service: Service, code: str | None) -> Renewer:
    """A Renewer whose first renewal uses ``code`` (--code) and later ones the profile's usual
    source (stored seed, YubiKey, MFA command, else the terminal or a dialog); a failed
    renewal is retried by the background renewal, not by each client's poll."""
    from trayapp.cli.codes import code_source
    from trayapp.core.codes import FixedCode, LazyCode
    from trayapp.core.server import RETRY_AFTER, Renewer

    given = [code] if code is not None else []

    def source_for(target: Target) -> CodeSource:
        if given:
            return FixedCode(given.pop())
        return LazyCode(lambda: code_source(None, service=service, target=target, use_tty=True))

    return Renewer(service, source_for, retry_after=RETRY_AFTER)


def one_role(renewer: Renewer, label: str) -> Callable[[str], Credentials]:
    """The server's fetch: this role only (the token grants nothing else)."""
    from trayapp.core.server import UnknownRole

    def fetch(asked: str) -> Credentials:
        if asked != label:
            raise UnknownRole(f"this server serves only {label}")
        return renewer.fetch(label)

    return fetch


def start_server(
    target_text: str, code: str | None, port: int
) -> tuple[Target, CredentialServer, threading.Event]:
    """Resolve the target, listen (a busy port fails before any code is asked for), get the
    first credentials (asking for a code here, before anything runs), start the background
    renewal; set the event to stop renewing."""
    from trayapp.cli.codes import code_source
    from trayapp.cli.context import start
    from trayapp.core.server import CredentialServer

    if code is not None:
        code_source(code)  # a malformed code fails before anything else happens
    service = start()
    target = service.resolve(target_text)
    renewer = renewer_for(service, code)
    server = CredentialServer(one_role(renewer, target.label), port=port).start()
    try:
        renewer.fetch(target.label)
    except BaseException:
        server.stop()
        raise
    shadow = default_profile_credentials()
    if shadow is not None:
        say(
            f"aacli: warning: {shadow} has a [default] profile with credentials; AWS tools "
            "will use those, not the server's (SDKs read it first)"
        )
    stop = threading.Event()
    renewer.keep_fresh(
        target.label,
        stop,
        on_error=lambda exc: say(f"aacli: renewing {target.label} failed: {exc} (trying again)"),
    )
    return target, server, stop


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        from trayapp.core.errors import UsageError

        raise UsageError("--port must be a number from 1 to 65535 (or 0: a free one)")
    target, server, stop = start_server(args.target, args.code, args.port)
    stopped = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(render(server.env(target.label), args.format), flush=True)
        say(f"Serving {target.label} on 127.0.0.1:{server.port} (Ctrl-C stops)")
        while not stopped.wait(1.0):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stop.set()
        server.stop()
    say(f"Stopped serving {target.label}.")
    sys.stdout.flush()
    return 0


def default_profile_credentials() -> str | None:
    """The AWS file whose [default] profile would shadow the server, if one does: SDKs look
    at the shared files before the container endpoint."""
    from trayapp.core.files import read_text
    from trayapp.core.inifile import get_section
    from trayapp.core.paths import AwsPaths

    aws = AwsPaths.from_env()
    for path, config_style in ((aws.credentials_file, False), (aws.config_file, True)):
        try:
            text = read_text(path, what="AWS file")
            section = get_section(text, "default", config_style=config_style) if text else None
        except AacliError:
            continue  # unreadable or malformed: the SDKs will say so themselves
        if section and SHADOWING_KEYS & set(section):
            return str(path)
    return None
