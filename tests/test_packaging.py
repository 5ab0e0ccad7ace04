"""Packaging: the icons, the staged Briefcase configuration, the wheel, the desktop entry."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest
import tomllib
from conftest import ROOT, need_tool

sys.path.insert(0, str(ROOT / "packaging"))
import briefcase_stage

ICONS = ROOT / "assets" / "icons"
PNG_SIZES = (16, 32, 48, 64, 128, 256, 512)
ICON_FILES = [f"aacli-{s}.png" for s in PNG_SIZES] + ["aacli.ico", "aacli.icns"]


def test_icons_exist_in_every_size_and_format():
    from PIL import Image

    for size in PNG_SIZES:
        image = Image.open(ICONS / f"aacli-{size}.png")
        assert image.size == (size, size) and image.mode == "RGBA"
        assert image.getpixel((0, 0))[3] == 0  # transparent corners: the shield shape
        assert image.getpixel((size // 2, size // 3))[3] == 255
    ico = Image.open(ICONS / "aacli.ico")
    assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= set(ico.info["sizes"])
    icns = Image.open(ICONS / "aacli.icns")
    assert {(16, 16, 2), (128, 128, 1), (512, 512, 1), (512, 512, 2)} <= set(icns.info["sizes"])


def test_icon_script_regenerates_the_same_images(tmp_path):
    from PIL import Image, ImageChops

    done = subprocess.run(
        [sys.executable, str(ROOT / "assets" / "make_icons.py"), str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(ICON_FILES)
    for size in (16, 256, 512):
        made = Image.open(tmp_path / f"aacli-{size}.png").convert("RGBA")
        kept = Image.open(ICONS / f"aacli-{size}.png").convert("RGBA")
        # Allow a Pillow version's resampling to differ by a few levels, not the drawing.
        assert max(b[1] for b in ImageChops.difference(made, kept).getextrema()) <= 24, (
            f"assets/icons/aacli-{size}.png is stale: run 'make icons'"
        )


def _parse_with_briefcase(pyproject: Path, platform: str, output_format: str):
    from briefcase.commands.base import create_config
    from briefcase.config import DraftAppConfig, GlobalConfig, parse_config
    from briefcase.console import Console

    global_config, apps = parse_config(
        pyproject, platform=platform, output_format=output_format, console=Console()
    )
    create_config(klass=GlobalConfig, config=global_config, msg="Global configuration")
    assert list(apps) == ["aacli"]
    return create_config(klass=DraftAppConfig, config=apps["aacli"], msg="Configuration for aacli")


def test_staged_briefcase_configuration_passes_briefcases_own_parser(tmp_path):
    tree = briefcase_stage.stage(tmp_path / "stage")
    pyproject = tree / "pyproject.toml"
    with pyproject.open("rb") as f:
        staged = tomllib.load(f)
    with (ROOT / "pyproject.toml").open("rb") as f:
        ours = tomllib.load(f)
    assert staged["project"] == ours["project"]  # the project table passes through untouched
    assert staged["tool"]["briefcase"]["app"]["aacli"]["macOS"]["info"] == {"LSUIElement": True}

    for platform, output_format in (("linux", "system"), ("macOS", "app"), ("windows", "app")):
        app = _parse_with_briefcase(pyproject, platform, output_format)
        assert app.bundle_identifier == "dev.aacli"
        assert app.formal_name == "aacli"
        assert str(app.version) == ours["project"]["version"]
        assert not app.console_app
        # Base dependencies come from [project]; the tray's from briefcase.toml.
        assert "boto3>=1.28" in app.requires and "pystray>=0.19" in app.requires
        assert ("PyGObject<3.51" in app.requires) == (platform == "linux")
        if platform == "macOS":
            assert app.info == {"LSUIElement": True}
        for source in app.sources:
            assert (tree / source / "__init__.py").is_file(), source
    # Every icon Briefcase looks for is in the tree (icon = "assets/icons/aacli").
    for name in ICON_FILES:
        assert (tree / "assets" / "icons" / name).is_file(), name
    # The launcher Briefcase runs (python -m aacli) starts the tray.
    assert (
        "from trayapp.tray.main import main"
        in (tree / "packaging/briefcase/aacli/__main__.py").read_text()
    )


def _minimal_tree(dest: Path) -> Path:
    """What a build needs, copied: building in the checkout would leave build/ and egg-info."""
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "trayapp", dest / "trayapp", ignore=ignore)
    shutil.copytree(ICONS, dest / "assets" / "icons")
    return dest


@pytest.mark.slow
def test_built_wheel_and_sdist_hold_the_icons_and_the_installed_wheel_runs(tmp_path):
    (tmp_path / "src").mkdir()
    src = _minimal_tree(tmp_path / "src")
    dist = tmp_path / "dist"
    # pip fetches setuptools into an isolated build env (cached after the first time).
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-w", str(dist), "-q"],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = dist.glob("aacli-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for name in ICON_FILES:
        assert f"aacli-0.1.0.data/data/share/aacli/icons/{name}" in names
    assert "trayapp/cli/demo.py" in names and "trayapp/tray/autostart.py" in names
    entry_points = zipfile.ZipFile(wheel).read("aacli-0.1.0.dist-info/entry_points.txt").decode()
    assert "aacli = trayapp.cli.main:script" in entry_points  # main(), then gc.freeze()
    assert "aacli-tray = trayapp.tray.main:main" in entry_points

    sdist = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--outdir", str(dist), str(src)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert sdist.returncode == 0, sdist.stdout + sdist.stderr
    (archive,) = dist.glob("aacli-*.tar.gz")
    with tarfile.open(archive) as tar:
        members = tar.getnames()
    for name in ICON_FILES:
        assert f"aacli-0.1.0/assets/icons/{name}" in members

    # A fresh venv that borrows this interpreter's installed dependencies through a .pth
    # file (the test needs no download; .pth entries come after the venv's own packages),
    # while aacli itself comes from the wheel alone.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    (site,) = venv.glob("lib/python*/site-packages")
    borrowed = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "borrowed-deps.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    bin_dir = venv / "bin"
    install = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = {"capture_output": True, "text": True, "timeout": 60, "env": env, "cwd": tmp_path}
    where = subprocess.run(
        [str(bin_dir / "python"), "-c", "import trayapp; print(trayapp.__file__)"], **run
    )
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr
    version = subprocess.run([str(bin_dir / "aacli"), "--version"], **run)
    assert version.returncode == 0 and version.stdout == "aacli 0.1.0\n", version.stderr
    demo_help = subprocess.run([str(bin_dir / "aacli"), "demo", "--help"], **run)
    assert demo_help.returncode == 0, demo_help.stderr
    assert "usage: aacli demo" in demo_help.stdout and "--terminal" in demo_help.stdout
    assert (bin_dir / "aacli-tray").is_file()
    assert (venv / "share" / "aacli" / "icons" / "aacli-256.png").is_file()
    # The installed autostart entry points at this installation's tray and icon.
    probe = (
        "from trayapp.tray import autostart as a; print(a.tray_command()[0]); print(a.icon_path())"
    )
    found = subprocess.run([str(bin_dir / "python"), "-c", probe], **run).stdout.splitlines()
    assert found == [str(bin_dir / "aacli-tray"), str(venv / "share/aacli/icons/aacli-256.png")]


def test_menu_desktop_entry_is_valid_and_generated_from_the_autostart_code():
    from trayapp.tray.autostart import desktop_entry

    path = ROOT / "packaging" / "linux" / "aacli.desktop"
    assert path.read_text() == desktop_entry(["aacli-tray"], "aacli", autostart=False)
    if shutil.which("desktop-file-validate") is None:
        need_tool("desktop-file-validate is not installed (desktop-file-utils)")
    done = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == "", done.stdout + done.stderr
