# ruff: noqa: RUF001 - the tables print multiplication signs and dashes on purpose
"""Item 2, authenticate end to end (process start → credentials file written), same sandbox for all.

aacli auth (vault and keyring backends) vs awsume (-o writes a credentials profile) vs the AWS
CLI by hand (assume-role + three `aws configure set`) vs the floor: one boto3 AssumeRole call.
Every run sends a code never sent before (the sandbox runs with MFA checks off; aacli's own
reuse guard is still on), and a 2 h DurationSeconds, so all do one MFA AssumeRole.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from common import (
    AWS_CLI,
    ROOT,
    BenchHome,
    Case,
    Install,
    make_home,
    ratio,
    run_interleaved,
    table,
)

VENV = ROOT / "bench" / ".venv-peers"
TARGET = "dev/DEVELOPER"
ROLE_ARN = "arn:aws:iam::111111111111:role/DEVELOPER"
DURATION = 7200

FLOOR = (
    "import boto3,os,sys; boto3.client('sts', endpoint_url=os.environ['AWS_ENDPOINT_URL'], "
    "region_name='us-east-1').assume_role(RoleArn=sys.argv[1], RoleSessionName='bench', "
    "DurationSeconds=7200, SerialNumber=sys.argv[2], TokenCode=sys.argv[3])"
)
# The check beside it: the same process with what the aacli program does before it exits
# (cli/main.script: gc.freeze(), so the interpreter's collections at exit skip botocore's
# objects). Ours against this one is the ratio without that difference.
FLOOR_FROZEN = FLOOR + "; import gc; gc.freeze()"
FLOOR_FROZEN_NAME = "check: the floor, gc.freeze() before exit"

# The AWS CLI by hand: what a user without a helper types (the keys pass through argv).
BY_HAND = """set -e
set -- $({aws} sts assume-role --profile hub --role-arn {role} --role-session-name bench \
  --duration-seconds 7200 --serial-number {mfa} --token-code "$1" \
  --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
{aws} configure set aws_access_key_id "$1" --profile by-hand
{aws} configure set aws_secret_access_key "$2" --profile by-hand
{aws} configure set aws_session_token "$3" --profile by-hand
"""


def awsume() -> str | None:
    """awsumepy from bench/.venv-peers (created on first use), or None when pip cannot get it."""
    script = VENV / "bin" / "awsumepy"
    if not script.exists():
        os.system(f"{sys.executable} -m venv {VENV} && {VENV}/bin/pip install -q awsume")  # noqa: S605
    return str(script) if script.exists() else None


def peer_home(root: Path, home: BenchHome) -> dict[str, str]:
    """A HOME whose ~/.aws holds the hub keys and a role profile, as awsume and aws read them."""
    hub = home.hub
    aws = root / "home" / ".aws"
    aws.mkdir(parents=True)
    (aws / "credentials").write_text(
        f"[hub]\naws_access_key_id = {hub.access_key_id}\n"  # type: ignore[attr-defined]
        f"aws_secret_access_key = {hub.secret_access_key}\n"  # type: ignore[attr-defined]
    )
    (aws / "config").write_text(
        f"[profile hub]\nregion = us-east-1\n\n[profile role]\nrole_arn = {ROLE_ARN}\n"
        f"source_profile = hub\nmfa_serial = {hub.mfa_serial}\nregion = eu-west-1\n"  # type: ignore[attr-defined]
        f"duration_seconds = {DURATION}\n"
    )
    env = {
        k: v
        for k, v in home.env.items()
        if not k.startswith(("AWS_SHARED", "AWS_CONFIG", "AACLI_"))
    }
    env["HOME"] = str(root / "home")
    return env


def run(
    home: BenchHome, keyring_home: BenchHome | None, install: Install, runs: int
) -> tuple[str, dict[str, float]]:
    """The aacli rows and the boto3 floor run in the wheel install (build/bench-venv)."""
    py = install.python
    hub = home.hub
    with tempfile.TemporaryDirectory(prefix="aacli-bench-peers-") as tmp:
        peers = peer_home(Path(tmp), home)
        floor_env = dict(peers)
        floor_env.update(
            AWS_ACCESS_KEY_ID=hub.access_key_id,  # type: ignore[attr-defined]
            AWS_SECRET_ACCESS_KEY=hub.secret_access_key,  # type: ignore[attr-defined]
        )
        mfa = hub.mfa_serial  # type: ignore[attr-defined]
        cases = [
            Case(
                "floor: boto3 assume_role",
                lambda _n: [py, "-c", FLOOR, ROLE_ARN, mfa, home.next_code()],
                floor_env,
                shown="python -c \"import boto3; boto3.client('sts', endpoint_url=…).assume_role(…)\"",
            ),
            Case(
                FLOOR_FROZEN_NAME,
                lambda _n: [py, "-c", FLOOR_FROZEN, ROLE_ARN, mfa, home.next_code()],
                floor_env,
                shown='the floor\'s python -c "…; import gc; gc.freeze()"',
            ),
            Case(
                "aacli auth (vault backend)",
                lambda _n: [install.aacli, "auth", TARGET, "--code", home.next_code()],
                install.env(home.env),
                shown=f"aacli auth {TARGET} --code C",
            ),
        ]
        if keyring_home is not None:
            # The first run discovers keyring's backend and remembers it (state folder);
            # the second row forgets it before each run, as every run did before.
            memory = keyring_home.home / "state" / "keyring-backend.json"
            cases += [
                Case(
                    "aacli auth (keyring backend)",
                    lambda _n: [install.aacli, "auth", TARGET, "--code", keyring_home.next_code()],
                    install.env(keyring_home.env),
                    shown=f"aacli auth {TARGET} --code C (Secret Service)",
                ),
                Case(
                    "aacli auth (keyring, discovery each run)",
                    lambda _n: [install.aacli, "auth", TARGET, "--code", keyring_home.next_code()],
                    install.env(keyring_home.env),
                    before=lambda _n: memory.unlink(missing_ok=True),
                    shown=f"rm {memory.name}; aacli auth {TARGET} --code C (Secret Service)",
                ),
            ]
        script = awsume()
        if script:
            cases.append(
                Case(
                    "peer: awsume -o (writes a profile)",
                    lambda _n: [
                        script,
                        "role",
                        "--mfa-token",
                        home.next_code(),
                        "--role-duration",
                        str(DURATION),
                        "-o",
                        "awsumed",
                    ],
                    peers,
                    shown=f"awsumepy role --mfa-token C --role-duration {DURATION} -o awsumed",
                )
            )
        if os.access(AWS_CLI, os.X_OK):
            by_hand = BY_HAND.format(aws=AWS_CLI, role=ROLE_ARN, mfa=mfa)
            cases.append(
                Case(
                    "peer: AWS CLI by hand",
                    lambda _n: ["sh", "-c", by_hand, "sh", home.next_code()],
                    peers,
                    shown="aws sts assume-role … ; aws configure set … ×3",
                )
            )
        run_interleaved(cases, runs, warmup=1)
        written = (Path(peers["HOME"]) / ".aws" / "credentials").read_text()
        assert "[awsumed]" in written or not script, "awsume wrote no profile"
        assert "[by-hand]" in written
    by_name = {c.name: c.median_ms for c in cases}
    floor = by_name["floor: boto3 assume_role"]
    awsume_ms = by_name.get("peer: awsume -o (writes a profile)", 0.0)
    cli_ms = by_name.get("peer: AWS CLI by hand", 0.0)
    rows = [
        (
            c.name,
            f"{c.median_ms:.0f}",
            ratio(c.median_ms, floor),
            ratio(c.median_ms, awsume_ms) if awsume_ms else "–",
            ratio(c.median_ms, cli_ms) if cli_ms else "–",
            f"`{c.shown}`",
        )
        for c in cases
    ]
    figures = {name: ms for name, ms in by_name.items()}
    lines = [
        f"Median of {runs} interleaved whole-process runs (after 1 warm-up round); every run sends a "
        "fresh code; sandbox on 127.0.0.1 with MFA checks off.",
        "",
        table(
            ("command", "median ms", "× boto3 floor", "× awsume", "× AWS CLI by hand", "reproduce"),
            rows,
        ),
        "",
    ]
    for name in [c.name for c in cases if c.name.startswith("aacli") and "discovery" not in c.name]:
        ours = by_name[name]
        verdicts = [
            f"≤ 1.3× floor: {ratio(ours, floor)} ({'met' if ours <= 1.3 * floor else 'NOT met'})",
            f"against the check row: {ratio(ours, by_name[FLOOR_FROZEN_NAME])}",
        ]
        if awsume_ms:
            verdicts.append(
                f"≤ 0.6× awsume: {ratio(ours, awsume_ms)} ({'met' if ours <= 0.6 * awsume_ms else 'NOT met'})"
            )
        if cli_ms:
            verdicts.append(
                f"≤ 0.3× AWS CLI: {ratio(ours, cli_ms)} ({'met' if ours <= 0.3 * cli_ms else 'NOT met'})"
            )
        lines.append(f"**{name}**: " + "; ".join(verdicts) + ".")
        lines.append("")
    return "\n".join(lines), figures


def keyring_bench_home(root: Path, sandbox: object, ss_env: dict[str, str]) -> BenchHome:
    """A home whose hub key lives in the (private) Secret Service instead of the vault."""
    from common import config_text

    text = config_text("@KEY@", "@MFA@").replace(
        'secret_backend = "vault"', 'secret_backend = "keyring"'
    )
    home = make_home(root, sandbox, text, name="keyring", extra_env=ss_env)
    return home
