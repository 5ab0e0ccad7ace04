"""Stages a Briefcase build tree and runs Briefcase in it: ``python packaging/briefcase_stage.py ARGS``.

Briefcase reads its configuration only from ``[tool.briefcase]`` in a pyproject.toml;
aacli keeps it in ``briefcase.toml`` so that the project's own pyproject.toml stays about
the Python package. This script copies what a bundle needs (pyproject.toml with
briefcase.toml merged in as ``[tool.briefcase]``, the sources, the icons) into
``build/briefcase/`` and runs ``briefcase ARGS`` there, so any Briefcase command passes
through:

    python packaging/briefcase_stage.py create      # then build, run, package …
    python packaging/briefcase_stage.py --stage-only   # only stage; print the tree's path

Briefcase downloads its app templates and support packages from the internet when it
creates a bundle.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import tomli_w

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STAGE = ROOT / "build" / "briefcase"
# What the staged tree holds, relative to the repository (and to the tree: same layout).
COPIED = ("trayapp", "packaging/briefcase/aacli", "assets/icons", "README.md", "LICENSE")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache")


def staged_pyproject(root: Path = ROOT) -> dict[str, object]:
    """The project's pyproject.toml with briefcase.toml as its ``[tool.briefcase]`` table."""
    with (root / "pyproject.toml").open("rb") as f:
        project = tomllib.load(f)
    with (root / "briefcase.toml").open("rb") as f:
        briefcase = tomllib.load(f)
    project.setdefault("tool", {})["briefcase"] = briefcase
    return project


def stage(target: Path = DEFAULT_STAGE, root: Path = ROOT) -> Path:
    """Build the tree at ``target`` (replacing what was staged before, keeping Briefcase's
    own build/ and dist/ output there); returns ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        source, dest = root / name, target / name
        if dest.is_dir():
            shutil.rmtree(dest)
        if source.is_dir():
            shutil.copytree(source, dest, ignore=IGNORED)
        elif source.is_file():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest)
    (target / "pyproject.toml").write_text(tomli_w.dumps(staged_pyproject(root)), "utf-8")
    return target


def main(argv: list[str]) -> int:
    tree = stage()
    if not argv or argv == ["--stage-only"]:
        print(tree)
        return 0
    return subprocess.call([sys.executable, "-m", "briefcase", *argv], cwd=tree)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
