"""How quietly the tray idles: CPU seconds over 60 s and RSS, with 3 active sessions.

Run from the repository root: ``python bench/tray_idle.py [SECONDS]``. It starts the
sandbox, Xvfb + trayer + a session bus, signs in to three roles with the CLI, then
starts the tray (gtk backend) and measures it from /proc while nobody touches it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import pyotp  # noqa: E402
from common import config_text  # noqa: E402
from tray_harness import cpu_seconds, desktop, rss_kib, start_tray, wait_for  # noqa: E402

from trayapp.sandbox import Sandbox  # noqa: E402

PASSPHRASE = "bench-passphrase-not-secret"
ROLES = ("dev/DEVELOPER", "dev/ReadOnly", "prod/ReadOnly")


def main() -> int:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    with Sandbox() as sandbox, tempfile.TemporaryDirectory(prefix="aacli-bench-") as tmp_name:
        tmp = Path(tmp_name)
        hub = sandbox.add_hub_user("bench")
        home = tmp / "aacli"
        home.mkdir(mode=0o700)
        (tmp / "home").mkdir()
        (home / "config.toml").write_text(config_text(hub.access_key_id, hub.mfa_serial))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AACLI_"))} | {
            "HOME": str(tmp / "home"),
            "AACLI_HOME": str(home),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "aws" / "credentials"),
            "AWS_CONFIG_FILE": str(tmp / "aws" / "config"),
            "AACLI_PASSPHRASE": PASSPHRASE,
            "AWS_ENDPOINT_URL": sandbox.endpoint_url,
            "AACLI_FEDERATION_URL": sandbox.federation_url,
            "PYTHONPATH": str(ROOT),
        }

        def aacli(*args: str, stdin: str = "") -> None:
            done = subprocess.run(
                [sys.executable, "-m", "trayapp.cli.main", *args],
                input=stdin,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            if done.returncode != 0:
                raise SystemExit(f"aacli {args[0]} failed: {done.stderr.strip()}")

        aacli("config", "set-key", "acme", stdin=hub.secret_access_key + "\n")
        # One code per sign-in: the previous, current and next 30 s windows are all accepted.
        totp = pyotp.TOTP(hub.mfa_seed)
        now = datetime.now(timezone.utc)
        for role, step in zip(ROLES, (-1, 0, 1), strict=True):
            aacli("auth", role, "--code", totp.at(now + timedelta(seconds=30 * step)))

        with desktop(tmp) as desk:
            tray = start_tray(desk, env, tmp)
            wait_for("3 sessions in the menu", lambda: tray.model().get("state") == "active")
            time.sleep(5)  # let start-up work (imports, first sweep, icon) finish
            pid = tray.process.pid
            before = cpu_seconds(pid)
            time.sleep(seconds)
            used = cpu_seconds(pid) - before
            rss = rss_kib(pid)
            tray.alive()
            tray.stop()
    print(f"idle CPU time over {seconds:.0f} s with {len(ROLES)} active sessions: {used:.2f} s")
    print(f"RSS: {rss / 1024:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
