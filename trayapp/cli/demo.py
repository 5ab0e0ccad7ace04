"""aacli demo: the whole flow against a local AWS sandbox, in temporary files."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import io
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable
from pathlib import Path

from trayapp.cli import demo_shell, demo_sso
from trayapp.core import children
from trayapp.core.errors import AacliError
from trayapp.core.paths import AwsPaths

DESCRIPTION = """\
Try aacli with no AWS account. Starts a local AWS sandbox (moto) with a hub user,
a virtual MFA device and spoke accounts dev/stage/prod (roles DEVELOPER and
ReadOnly), and an IAM Identity Center stand-in (hub 'corp': sign in, sync its
permission sets, chain into the spoke roles), points aacli at temporary files
(never your real ~/.aws or config),
and opens the tray: click a role, type the code the dialog shows as a hint,
then "Open console" shows the sandbox's console page. Quit (in the tray menu, or
Ctrl-C here) stops the sandbox and deletes the temporary files.

With no display or no tray backend, or with --terminal, it walks through the
same steps in the terminal instead: auth, a real AWS CLI call with the written
profile, status, console sign-in, unauth, a rotation of the hub key; then the
Identity Center hub: a device-code sign-in, sync, a permission set and a role
chained from it."""

EPILOG = """\
a second terminal, while the demo runs:
  eval "$(aacli demo --shell)"       point this shell at the demo's AWS files
  aws sts get-caller-identity --profile dev-DEVELOPER    (after a tray sign-in)
  aacli status                       the tray and the CLI share the same state
"""

# A throwaway passphrase for the demo's own vault; a real vault asks for yours.
DEMO_PASSPHRASE = "demo-only-passphrase"
# aacli's own variables that name files, endpoints or secrets: the user's never reach the demo.
AACLI_VARIABLES = ("AACLI_HOME", "AACLI_FEDERATION_URL", "AACLI_PASSPHRASE", "AACLI_NEW_PASSPHRASE")


def register(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--terminal",
        action="store_true",
        help="the terminal walk-through, even where the tray could run",
    )
    mode.add_argument(
        "--shell",
        action="store_true",
        help="print the running demo's export lines for another shell, then exit",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary files (their path is printed)"
    )


def _step(text: str) -> None:
    print(f"\n\033[1m$ {text}\033[0m" if sys.stdout.isatty() else f"\n$ {text}", flush=True)


def _run_cli(argv: list[str]) -> int:
    from trayapp.cli.main import main

    _step("aacli " + shlex.join(argv))
    sys.stdout.flush()
    code = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def run(args: argparse.Namespace) -> int:
    if args.shell:
        return _print_shell()
    try:
        from trayapp.sandbox import Sandbox
    except ImportError as exc:
        raise AacliError(
            f"the demo needs the sandbox extra ({exc.name} is missing): pip install 'aacli[demo]'"
        ) from None
    no_tray = None if args.terminal else _tray_unavailable()
    if no_tray:
        reason = no_tray.rstrip(".")
        print(f"The terminal walk-through instead of the tray: {reason}.", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="aacli-demo-"))  # 0700, a random name
    # Before anything makes an AWS session: the user's AWS settings never reach the demo.
    _isolate_environment(workdir)
    try:
        print("Starting the local AWS sandbox …", flush=True)
        sandbox = Sandbox().start()
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    try:
        _point_at_sandbox(sandbox)
        _write_demo_config(sandbox)
        if args.terminal or no_tray:
            return _walk(sandbox, workdir)
        return _tray(sandbox, workdir)
    finally:
        sandbox.stop()
        if args.keep:
            print(f"\nSandbox stopped. The demo's files are in {workdir}", flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
            print("\nSandbox stopped; temporary files removed.", flush=True)


# The tray


def _tray_unavailable() -> str | None:
    """Why the tray cannot run here (one clause), or None when it can."""
    from trayapp.tray.backend import TrayUnavailable, choose_backend

    try:
        choose_backend()  # sets PYSTRAY_BACKEND before pystray is imported
        import pystray  # type: ignore[import-untyped]  # noqa: F401
        from PIL import Image  # noqa: F401
    except TrayUnavailable as exc:
        return str(exc)
    except ImportError as exc:
        return f"{exc.name} is missing: pip install 'aacli[tray]'"
    except Exception as exc:  # pystray's backend failing to load (no X server reachable…)
        return f"the tray backend failed to start: {type(exc).__name__}"
    return None


class DemoHintCode:
    """Wraps a code source so that its prompt shows the sandbox's current code (demo only)."""

    def __init__(self, inner, hint: Callable[[], str]) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner
        self.hint = hint
        self.name = inner.name
        self.can_retry = inner.can_retry

    def get_code(self, request):  # type: ignore[no-untyped-def]
        return self.inner.get_code(dataclasses.replace(request, hint=self.hint()))


@dataclasses.dataclass(frozen=True)
class DemoAwsPaths(AwsPaths):
    """The demo's AWS files, with the Identity Center token cache under its own folder (where
    the AWS CLI it runs, HOME=the folder, finds it too)."""

    home: Path = Path("/nonexistent")

    @property
    def sso_cache_dir(self) -> Path:
        return self.home / ".aws" / "sso" / "cache"


def _tray(sandbox, workdir: Path) -> int:  # type: ignore[no-untyped-def]
    from trayapp.core.service import Service
    from trayapp.dialogs.source import DialogCode
    from trayapp.tray.app import TrayApp
    from trayapp.tray.main import make_tray_service

    debug = os.environ.get("AACLI_TRAY_DEBUG_MENU")
    service = make_tray_service()
    # The tray opens the user's browser (HOME stays theirs); its Identity Center sign-in is
    # kept in the demo's folder all the same, never in the user's ~/.aws/sso/cache.
    aws = DemoAwsPaths(service.deps.aws.credentials_file, service.deps.aws.config_file, workdir)
    tray = TrayApp(
        Service(dataclasses.replace(service.deps, aws=aws)),
        code_source=lambda: DemoHintCode(DialogCode(), sandbox.current_code),
        debug_menu=Path(debug) if debug else None,
    )

    def stop(signum: int, frame: object) -> None:
        tray.stop()  # run() returns and the finally of run() cleans up

    def catch_signals() -> bool:
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        return False  # as a GLib idle callback: once

    catch_signals()
    if os.environ.get("PYSTRAY_BACKEND") in ("gtk", "appindicator"):
        # pystray's GTK loop resets Ctrl-C to "kill at once" when it starts: catch it again
        # from inside the loop, so that Ctrl-C cleans up like Quit does.
        from gi.repository import GLib  # type: ignore[import-untyped]

        GLib.idle_add(catch_signals)
    state = demo_shell.write_state(workdir, dict(os.environ))
    try:
        print(f"Sandbox at {sandbox.endpoint_url}; temporary files in {workdir}")
        print(
            "The aacli tray is running: click its icon, pick dev (111111111111) → DEVELOPER and\n"
            "type the code the dialog shows. In a second terminal, use the demo's files with:\n"
            '  eval "$(aacli demo --shell)"\n'
            "Quit from the tray menu (or press Ctrl-C here) to stop and clean up.",
            flush=True,
        )
        return tray.run()
    finally:
        demo_shell.remove_state(state)


# The second shell: `aacli demo --shell` (the state file's rules are in demo_shell)


def _print_shell() -> int:
    print("\n".join(demo_shell.shell_lines(demo_shell.read_state(), DEMO_PASSPHRASE)))
    return 0


# The demo's environment


def _isolate_environment(workdir: Path) -> None:
    """Only the demo's own files: no AWS_* variable of the user's, no aacli file or secret."""
    from trayapp.sandbox.isolated import ignore_user_service_models

    ignore_user_service_models()
    for name in [n for n in os.environ if n.startswith("AWS_") or n in AACLI_VARIABLES]:
        del os.environ[name]
    os.environ.update(
        {
            "AACLI_HOME": str(workdir / "aacli"),
            "AWS_SHARED_CREDENTIALS_FILE": str(workdir / "aws" / "credentials"),
            "AWS_CONFIG_FILE": str(workdir / "aws" / "config"),
            "AWS_EC2_METADATA_DISABLED": "true",  # no credential lookup off this machine
            "AACLI_PASSPHRASE": DEMO_PASSPHRASE,
        }
    )


def _point_at_sandbox(sandbox) -> None:  # type: ignore[no-untyped-def]
    os.environ["AWS_ENDPOINT_URL"] = sandbox.endpoint_url
    os.environ["AACLI_FEDERATION_URL"] = sandbox.federation_url


def _write_demo_config(sandbox) -> None:  # type: ignore[no-untyped-def]
    from trayapp.cli.context import make_service
    from trayapp.core.config import save_config
    from trayapp.core.model import Account, Config, Profile, Role, Settings

    hub = sandbox.hub
    accounts = tuple(
        Account(
            name=name,
            account_id=account_id,
            region="eu-west-1",
            roles=(Role("DEVELOPER", 7200), Role("ReadOnly", 3600)),
        )
        for name, account_id in sandbox.accounts.items()
    )
    config = Config(
        profiles=(
            Profile(
                name="demo",
                access_key_id=hub.access_key_id,
                mfa_serial=hub.mfa_serial,
                session_name="demo-user",
                accounts=accounts,
            ),
            demo_sso.corp_hub(sandbox),
        ),
        settings=Settings(secret_backend="vault"),
    )
    service = make_service()
    save_config(config, service.deps.app.config_file)
    service.reload()
    service.set_hub_secret("demo", hub.secret_access_key)


def _walk(sandbox, workdir: Path) -> int:  # type: ignore[no-untyped-def]
    # The Identity Center sign-in is kept in ~/.aws/sso/cache, under HOME: the demo's own
    # folder, as for the AWS CLI it runs (no browser is opened here, which wants the user's).
    os.environ["HOME"] = str(workdir)
    print(f"Sandbox at {sandbox.endpoint_url}; temporary files in {workdir}")
    print(
        "Demo config: profile 'demo', accounts dev/stage/prod, roles DEVELOPER and ReadOnly;\n"
        "and 'corp', an Identity Center hub (its accounts come from 'aacli config sync')."
    )
    _run_cli(["config", "show"])
    code = sandbox.current_code()
    print(f"(the sandbox's MFA device shows {code} right now)")
    if _run_cli(["auth", "dev/DEVELOPER", "--code", code]) != 0:
        return 1
    _show_identity(sandbox, workdir, "dev-DEVELOPER")
    _run_cli(["status"])
    _console_signin(sandbox)
    _run_cli(["unauth", "dev/DEVELOPER"])
    print("\nThe hub key is the one long-lived secret: rotate it (new key in, old key out).")
    _run_cli(["rotate", "demo"])
    _run_cli(["status"])
    show = functools.partial(_show_identity, sandbox, workdir)
    if demo_sso.walk(sandbox, _run_cli, _step, show) != 0:
        return 1
    creds = Path(os.environ["AWS_SHARED_CREDENTIALS_FILE"])
    left = creds.read_text() if creds.exists() else ""
    print(f"\nThe credentials file is now {len(left)} bytes: nothing of the session is left.")
    print("Done. With your own AWS accounts, start with: aacli config --help")
    return 0


def _console_signin(sandbox) -> None:  # type: ignore[no-untyped-def]
    """`aacli web --print`, then fetch the URL as a browser would: the sandbox's console page."""
    from trayapp.cli.main import main

    _step("aacli web dev/DEVELOPER --print")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["web", "dev/DEVELOPER", "--print"])
    url = out.getvalue().strip()
    if code != 0 or not url.startswith(sandbox.federation_url):
        print("(no sign-in URL was printed)")
        return
    # The URL holds a sign-in token: shown shortened, as a real one should never be shared.
    shown = url.partition("SigninToken=")[0] + "SigninToken=…"
    print(f"{shown}  ({len(url)} characters; the token is a secret, not shown)")
    _step("open that URL in a browser (here: fetched with urllib)")
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (the sandbox's own URL)
        page = answer.read().decode("utf-8", "replace")
    heading = re.search(r"<h1>(.*?)</h1>", page)
    print(heading.group(1) if heading else page[:200])


def _show_identity(sandbox, workdir: Path, profile: str) -> None:  # type: ignore[no-untyped-def]
    """A real AWS client reads the profile aacli wrote."""
    aws = _aws_cli_v2(workdir)
    if aws:
        argv = [aws, "sts", "get-caller-identity", "--profile", profile]
        _step(shlex.join(["aws", *argv[1:]]))
        argv += ["--endpoint-url", sandbox.endpoint_url, "--output", "json"]
        try:
            done = children.run(argv, timeout=60, env=_aws_cli_env(workdir))
        except (OSError, subprocess.TimeoutExpired) as exc:
            print(f"(the AWS CLI did not answer: {type(exc).__name__})")
            return
        sys.stdout.write(done.stdout.decode("utf-8", "replace"))
        sys.stderr.write(done.stderr.decode("utf-8", "replace"))
        return
    _step(
        f"python -c \"boto3.Session(profile_name='{profile}').client('sts').get_caller_identity()\""
    )
    import boto3

    identity = boto3.Session(profile_name=profile).client("sts").get_caller_identity()
    print(f"Account {identity['Account']}  Arn {identity['Arn']}")


def _aws_cli_env(workdir: Path) -> dict[str, str]:
    """The demo's environment, with a HOME of its own (the AWS CLI also reads ~/.aws/cli and
    ~/.aws/models) and no pager (the output is shown here)."""
    return children.child_env({"HOME": str(workdir), "AWS_PAGER": ""})


def _aws_cli_v2(workdir: Path) -> str | None:
    for candidate in ("/usr/bin/aws", "/usr/local/bin/aws", shutil.which("aws")):
        if not candidate or not os.access(candidate, os.X_OK):
            continue
        try:
            out = children.run([candidate, "--version"], timeout=20, env=_aws_cli_env(workdir))
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.stdout.startswith(b"aws-cli/2"):
            return candidate
    return None
