"""One load-test worker: random `aacli auth` / `unauth` on its own targets, in one process.

Runs the real CLI entry point (``trayapp.cli.main.main``) in a loop, so each operation is
exactly what `aacli auth TARGET --code C` does minus the interpreter start-up.
Usage: load_worker.py PROFILE OPS SEED DEADLINE_EPOCH; prints a JSON summary on stdout.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import sys
import time


def main() -> None:
    profile, ops, seed, deadline = (
        sys.argv[1],
        int(sys.argv[2]),
        int(sys.argv[3]),
        float(sys.argv[4]),
    )
    from trayapp.cli.main import main as aacli

    rng = random.Random(seed)
    targets = [f"{profile}/dev/DEVELOPER", f"{profile}/dev/ReadOnly", f"{profile}/prod/ReadOnly"]
    done = {"auth": 0, "unauth": 0}
    failures: list[str] = []
    last_code = ""
    for _ in range(ops):
        if time.time() > deadline:
            break
        target = rng.choice(targets)
        if rng.random() < 0.6:
            code = last_code
            while code == last_code:  # the sandbox runs with mfa_check off: any fresh code
                code = f"{rng.randrange(10**6):06d}"
            last_code = code
            argv, kind = ["auth", target, "--code", code], "auth"
        else:
            argv, kind = ["unauth", target], "unauth"
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                rc = aacli(argv)
            except SystemExit as exc:
                rc = int(exc.code or 0)
        done[kind] += 1
        if rc != 0:
            failures.append(f"{' '.join(argv[:2])}: rc {rc}: {err.getvalue().strip()}")
    print(json.dumps({"profile": profile, "done": done, "failures": failures}))


if __name__ == "__main__":
    main()
