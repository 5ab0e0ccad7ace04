"""Install aacli as users get it, for `make bench`: a wheel of this tree in a venv of its own.

python bench/install.py  ->  build/wheels/aacli-*.whl, installed in build/bench-venv

The wheel is built by pip (``pip wheel --no-deps .``, in pip's isolated build environment) and
installed with ``--no-deps`` into a fresh venv of the dev venv's base interpreter, made without
pip (nothing of pip or setuptools in it: no ``distutils-precedence.pth`` runs at each start).
Its dependencies (boto3, keyring, ...) are the dev venv's: one line in a ``.pth`` file puts the
dev venv's site-packages on ``sys.path`` after the venv's own. Only the bench venv's site
folder is processed at start-up, so the dev venv's ``.pth`` files (the editable install's
finder among them) never run there, and ``python -c pass`` costs what the base interpreter's
does: bench/startup.py shows both.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WHEELS = ROOT / "build" / "wheels"
VENV = ROOT / "build" / "bench-venv"
PTH = "aacli-dev-deps.pth"


def run(*argv: str | Path) -> str:
    """Run a child in / (never this tree, which ``python -c`` would put first on sys.path)."""
    done = subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, check=False, cwd="/"
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, argv))} failed: {done.stderr[-2000:]}")
    return done.stdout.strip()


def main() -> int:
    shutil.rmtree(WHEELS, ignore_errors=True)
    shutil.rmtree(VENV, ignore_errors=True)
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", WHEELS, ROOT)
    (wheel,) = WHEELS.glob("aacli-*.whl")
    base = getattr(sys, "_base_executable", sys.executable)
    run(base, "-m", "venv", "--without-pip", VENV)
    python = VENV / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", wheel)
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"))
    (site / PTH).write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    found = run(python, "-c", "import trayapp, boto3; print(trayapp.__file__)")
    if not found.startswith(str(site)):
        raise SystemExit(f"the bench venv imports aacli from {found}, not from its wheel")
    print(f"installed {wheel.name} in {VENV} (dependencies from {sysconfig.get_path('purelib')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
