"""The tray, headless: its scheduler's sweep, its file poller and its menu model, in a loop.

Runs until SIGTERM, then prints a JSON summary. The pystray icon itself is not started (the
display tests cover it); everything the tray does to files goes through these calls.
Usage: tray_sweeper.py INTERVAL_SECONDS
"""

from __future__ import annotations

import json
import signal
import sys
import time


def main() -> None:
    interval = float(sys.argv[1])
    import os

    from trayapp.core.codes import FixedCode
    from trayapp.core.paths import AppPaths, AwsPaths
    from trayapp.core.service import Deps, Service
    from trayapp.tray.app import TrayApp

    service = Service(
        Deps(
            app=AppPaths.from_env(),
            aws=AwsPaths.from_env(),
            endpoint_url=os.environ.get("AWS_ENDPOINT_URL"),
            passphrase=lambda: os.environ["AACLI_PASSPHRASE"],
        )
    )
    tray = TrayApp(service, code_source=lambda: FixedCode("000000"))
    stop = False

    def stopping(*_args: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, stopping)
    ticks = 0
    removed: list[int] = []
    shown = tray.scheduler.on_expired

    def expired(removals: list) -> None:  # type: ignore[type-arg]
        removed.append(len(removals))
        shown(removals)

    tray.scheduler.on_expired = expired
    errors: list[str] = []
    while not stop:
        try:
            tray.scheduler.tick()
            tray.check_files()
            tray.sessions = service.sessions()
            tray._snapshot()
        except Exception as exc:  # report, keep sweeping: the tray never dies of one error
            errors.append(f"{type(exc).__name__}: {exc}")
        ticks += 1
        time.sleep(interval)
    print(json.dumps({"ticks": ticks, "removed": sum(removed), "errors": errors[:20]}))


if __name__ == "__main__":
    main()
