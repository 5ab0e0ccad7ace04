"""aacli demo: the whole flow against a local AWS sandbox, in temporary files."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from trayapp.core.errors import AacliError

DESCRIPTION = """\
Try aacli with no AWS account: start a local AWS sandbox (moto) with a hub user,
an MFA device and spoke accounts dev/stage/prod, point aacli at temporary files
(never your real ~/.aws or config), and walk through auth → a real AWS call
with the written profile → status → console sign-in → unauth."""


def register(parser: argparse.ArgumentParser) -> None:
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
    try:
        from trayapp.sandbox import Sandbox
    except ImportError as exc:
        raise AacliError(
            f"the demo needs the sandbox extra ({exc.name} is missing): pip install 'aacli[demo]'"
        ) from None
    workdir = Path(tempfile.mkdtemp(prefix="aacli-demo-"))
    print("Starting the local AWS sandbox …", flush=True)
    sandbox = Sandbox().start()
    try:
        return _walk(sandbox, workdir)
    finally:
        sandbox.stop()
        if args.keep:
            print(f"\nThe demo's files are in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _demo_environment(sandbox, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    os.environ.update(
        {
            "AACLI_HOME": str(workdir / "aacli"),
            "AWS_SHARED_CREDENTIALS_FILE": str(workdir / "aws" / "credentials"),
            "AWS_CONFIG_FILE": str(workdir / "aws" / "config"),
            "AWS_ENDPOINT_URL": sandbox.endpoint_url,
            "AACLI_FEDERATION_URL": sandbox.federation_url,
            # The demo's vault has a throwaway passphrase; real vaults ask for yours.
            "AACLI_PASSPHRASE": "demo-only-passphrase",
            "BROWSER": "true",
        }
    )
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)


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
        ),
        settings=Settings(secret_backend="vault"),
    )
    service = make_service()
    save_config(config, service.deps.app.config_file)
    service.reload()
    service.set_hub_secret("demo", hub.secret_access_key)


def _walk(sandbox, workdir: Path) -> int:  # type: ignore[no-untyped-def]
    _demo_environment(sandbox, workdir)
    _write_demo_config(sandbox)
    print(f"Sandbox at {sandbox.endpoint_url}; temporary files in {workdir}")
    print("Demo config: profile 'demo', accounts dev/stage/prod, roles DEVELOPER and ReadOnly.")
    _run_cli(["config", "show"])
    code = sandbox.current_code()
    print(f"(the sandbox's MFA device shows {code} right now)")
    if _run_cli(["auth", "dev/DEVELOPER", "--code", code]) != 0:
        return 1
    _show_identity(sandbox, "dev-DEVELOPER")
    _run_cli(["status"])
    _run_cli(["unauth", "dev/DEVELOPER"])
    _run_cli(["status"])
    creds = Path(os.environ["AWS_SHARED_CREDENTIALS_FILE"])
    left = creds.read_text() if creds.exists() else ""
    print(f"\nThe credentials file is now {len(left)} bytes: nothing of the session is left.")
    print("Done. With your own AWS accounts, start with: aacli config --help")
    return 0


def _show_identity(sandbox, profile: str) -> None:  # type: ignore[no-untyped-def]
    """A real AWS client reads the profile aacli wrote."""
    aws = _aws_cli_v2()
    if aws:
        argv = [aws, "sts", "get-caller-identity", "--profile", profile]
        _step(shlex.join(["aws", *argv[1:]]))
        argv += ["--endpoint-url", sandbox.endpoint_url, "--output", "json"]
        subprocess.run(argv, check=False)
        return
    _step(
        f"python -c \"boto3.Session(profile_name='{profile}').client('sts').get_caller_identity()\""
    )
    import boto3

    identity = boto3.Session(profile_name=profile).client("sts").get_caller_identity()
    print(f"Account {identity['Account']}  Arn {identity['Arn']}")


def _aws_cli_v2() -> str | None:
    for candidate in ("/usr/bin/aws", "/usr/local/bin/aws", shutil.which("aws")):
        if not candidate or not os.access(candidate, os.X_OK):
            continue
        try:
            out = subprocess.run(
                [candidate, "--version"], capture_output=True, text=True, timeout=20, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.stdout.startswith("aws-cli/2"):
            return candidate
    return None
