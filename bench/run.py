"""Run every benchmark of docs/PERFORMANCE.md and rewrite that file: `make bench`.

python bench/run.py [--quick] [--only startup,auth,tray,scale] [--out docs/PERFORMANCE.md]

One sandbox (127.0.0.1, MFA checks off) serves every item. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import signal
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import auth
import scale
import startup
import tray
from common import ROOT, machine, make_home, wheel_install

from trayapp.sandbox import Sandbox

ITEMS = ("startup", "auth", "tray", "scale")
NOTES = ROOT / "bench" / "NOTES.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs, 10 s idle (a smoke run)")
    parser.add_argument("--only", default=",".join(ITEMS), help="comma-separated items")
    parser.add_argument("--out", default=str(ROOT / "docs" / "PERFORMANCE.md"))
    args = parser.parse_args()
    only = [item.strip() for item in args.only.split(",") if item.strip()]
    quick = args.quick
    # A stopped run still stops its sandbox, Xvfb and Secret Service (the with-blocks' exits).
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    started = time.monotonic()
    # What pip does at install time: the modules' bytecode exists (PYTHONDONTWRITEBYTECODE
    # would otherwise make every timed run compile aacli from source, which no user's does).
    compileall.compile_dir(ROOT / "trayapp", quiet=1)
    # The timed aacli is the wheel's (make bench installs it in build/bench-venv).
    install = wheel_install()
    sections: list[str] = []
    with contextlib.ExitStack() as stack:
        sandbox = stack.enter_context(Sandbox(mfa_check=False))
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="aacli-bench-")))

        def section(title: str, body: str) -> None:
            sections.append(f"## {title}\n\n{body}\n")
            print(f"## {title}\n\n{body}\n", flush=True)

        if "startup" in only:
            home = make_home(tmp / "startup", sandbox)
            body, _ = startup.run(home, install, runs=8 if quick else 30)
            served, _ = startup.exec_server(
                make_home(tmp / "exec-server", sandbox), install, runs=3 if quick else 10
            )
            section("1. CLI start-up", body + "\n\n### `exec --server` start-up\n\n" + served)
        if "auth" in only:
            home = make_home(tmp / "auth", sandbox)
            keyring_home = None
            try:
                from secret_service import running_secret_service

                service_env = stack.enter_context(running_secret_service(tmp / "secret-service"))
                keyring_home = auth.keyring_bench_home(
                    tmp / "auth-keyring", sandbox, service_env.env
                )
            except BaseException as exc:  # no gnome-keyring here: the vault row still runs
                print(f"(no Secret Service, keyring row left out: {exc})", file=sys.stderr)
            body, _ = auth.run(home, keyring_home, install, runs=3 if quick else 16)
            section("2. Authenticate end to end", body)
        if "tray" in only:
            home = make_home(tmp / "tray", sandbox)
            body, _ = tray.run(home, idle_seconds=10 if quick else 60, runs=3 if quick else 10)
            submit, _ = scale.tray_submit_to_file(
                make_home(tmp / "submit", sandbox), 5 if quick else 15
            )
            section(
                "3. Tray", body + "\n\n### Code submitted → credentials file written\n\n" + submit
            )
        if "scale" in only:
            home = make_home(tmp / "scale", sandbox)
            files, _ = scale.auth_unauth_scale(home, runs=2 if quick else 5)
            whole, _ = scale.whole_process_scale(
                make_home(tmp / "whole-0", sandbox),
                make_home(tmp / "whole-10000", sandbox),
                install,
                runs=2 if quick else 5,
            )
            menu, _ = scale.menu_scale(runs=5 if quick else 20)
            status, _ = scale.status_scale(
                make_home(tmp / "status", sandbox), install, runs=5 if quick else 20
            )
            section(
                "4. Scale",
                "### auth + unauth beside foreign profiles\n\n"
                + files
                + "\n\n### auth + unauth beside 10,000 foreign profiles, whole processes\n\n"
                + whole
                + "\n\n### Tray menu model\n\n"
                + menu
                + "\n\n### `aacli status` with 100 sessions\n\n"
                + status,
            )
    minutes = (time.monotonic() - started) / 60
    head = [
        "# Performance",
        "",
        "Written by `make bench` (`python bench/run.py`); do not edit the tables by hand: rerun it.",
        "",
        f"- Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC{' (quick run)' if quick else ''}",
        f"- Machine: {machine()}",
        f"- Took {minutes:.1f} min. Medians of repeated whole-process runs, interleaved round-robin "
        "so that a noisy moment hits every command alike; ratios are taken within one run.",
        "- Everything talks to one local sandbox (`trayapp.sandbox`, moto on 127.0.0.1, MFA checks "
        "off so that every run can send a new code); the STS round trip is therefore ~ms, not "
        "the 50-300 ms of real AWS: local costs show up at their full share.",
        "",
    ]
    notes = NOTES.read_text(encoding="utf-8") if NOTES.exists() else ""
    Path(args.out).write_text(
        "\n".join(head) + "\n" + "\n".join(sections) + ("\n" + notes if notes else ""),
        encoding="utf-8",
    )
    print(f"wrote {args.out} in {minutes:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
