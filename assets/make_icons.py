"""Generates the app icon files in assets/icons/ from the tray icon's drawing code.

The source of the icon is ``trayapp/tray/icon.py`` (Pillow drawing code: a shield with a
keyhole); the app icon is its "active" state. Run ``make icons`` (or ``python
assets/make_icons.py``) after changing the drawing; the generated files are committed so
that neither a wheel build nor Briefcase needs Pillow.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "assets" / "icons"
NAME = "aacli"
PNG_SIZES = (16, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
STATE = "active"
CANVAS = 1024


def render(size: int):  # type: ignore[no-untyped-def]
    """The app icon at ``size`` pixels."""
    sys.path.insert(0, str(ROOT))
    from trayapp.tray import icon

    # The tray draws on a 256 px canvas (enough for a panel); app icons go up to 512 px, so
    # they are drawn on a larger one and scaled down, never up. The shape is cached: clear it.
    if icon.CANVAS != CANVAS:
        icon.CANVAS = CANVAS
        icon._shield.cache_clear()
        icon._font.cache_clear()
    return icon.draw_icon(STATE, size)


def main(out: Path = OUT) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for size in PNG_SIZES:
        path = out / f"{NAME}-{size}.png"
        render(size).save(path, optimize=True)
        written.append(path)
    large = render(256)
    ico = out / f"{NAME}.ico"
    large.save(ico, sizes=[(s, s) for s in ICO_SIZES])
    icns = out / f"{NAME}.icns"
    render(512).save(icns)  # Pillow writes the 16…512 px (and @2x) members itself
    written += [ico, icns]
    return written


if __name__ == "__main__":
    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
