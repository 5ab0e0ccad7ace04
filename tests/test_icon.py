"""The tray icon drawings: sizes, states that differ, contrast on dark and light panels."""

from __future__ import annotations

import itertools

import pytest
from conftest import screenshot_dir
from PIL import Image, ImageChops

from trayapp.tray.icon import FILLS, STATES, draw_icon

SIZES = (16, 22, 24, 32, 64)  # the panel sizes (issue 12) and a large one
PANELS = {"dark": (32, 32, 32), "light": (240, 240, 240)}
SHEET = screenshot_dir() / "icons.png"


def _pixels(image: Image.Image) -> list[tuple[int, ...]]:
    data, bands = image.tobytes(), len(image.getbands())
    return [tuple(data[i : i + bands]) for i in range(0, len(data), bands)]


def _distance(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    return sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5


def _on(panel: tuple[int, int, int], icon: Image.Image) -> Image.Image:
    background = Image.new("RGBA", icon.size, (*panel, 255))
    return Image.alpha_composite(background, icon).convert("RGB")


@pytest.mark.parametrize(("state", "size"), list(itertools.product(STATES, SIZES)))
def test_each_state_renders_an_rgba_square_of_the_asked_size(state: str, size: int) -> None:
    icon = draw_icon(state, size)
    assert icon.mode == "RGBA"
    assert icon.size == (size, size)
    alpha = icon.getchannel("A")
    opaque = sum(1 for (value,) in _pixels(alpha) if value > 200)
    assert opaque > size * size * 0.4, "the shape should fill a good part of the icon"
    assert alpha.getpixel((0, 0)) == 0, "corners stay transparent so the panel shows through"


@pytest.mark.parametrize("size", SIZES)
def test_states_differ_from_each_other(size: int) -> None:
    drawn = {state: draw_icon(state, size) for state in STATES}
    drawn["active with badge"] = draw_icon("active", size, count=2)
    for (name_a, a), (name_b, b) in itertools.combinations(drawn.items(), 2):
        changed = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v > 40 else 0)
        assert changed.getbbox() is not None, f"{name_a} and {name_b} look the same at {size}px"
        assert sum(1 for (value,) in _pixels(changed) if value) >= size, (
            f"{name_a} vs {name_b} barely differ"
        )


def test_the_badge_shows_the_count() -> None:
    assert draw_icon("active", 64, count=0).tobytes() != draw_icon("active", 64, count=1).tobytes()
    assert draw_icon("active", 64, count=1).tobytes() != draw_icon("active", 64, count=2).tobytes()
    # Every state keeps the count (Issue 12: the amber and red icons dropped it).
    assert draw_icon("expiring", 64, count=3).tobytes() != draw_icon("expiring", 64).tobytes()


@pytest.mark.parametrize(
    ("state", "size", "panel"), list(itertools.product(STATES, (16, 22), PANELS))
)
def test_the_shape_stands_out_on_dark_and_light_panels(state: str, size: int, panel: str) -> None:
    background = PANELS[panel]
    shown = _on(background, draw_icon(state, size))
    far = [pixel for pixel in _pixels(shown) if _distance(pixel, background) > 100]
    # A quarter of the tile in strong contrast to the panel: the shield reads at a glance.
    assert len(far) > size * size / 4, f"{state} at {size}px fades into a {panel} panel"


@pytest.mark.parametrize(("state", "size"), list(itertools.product(STATES, (16, 22))))
def test_the_mark_inside_stands_out_from_the_fill(state: str, size: int) -> None:
    icon = draw_icon(state, size)
    inner = icon.crop((size * 3 // 10, size * 3 // 10, size * 7 // 10, size * 7 // 10))
    fill = FILLS[state][:3]
    colours = [pixel[:3] for pixel in _pixels(inner)]
    mark = [colour for colour in colours if _distance(colour, fill) > 120]
    plain = [colour for colour in colours if _distance(colour, fill) < 60]
    assert len(mark) >= len(colours) / 10, f"the {state} mark is lost at {size}px"
    assert len(plain) >= len(colours) / 10, f"the {state} mark hides the colour at {size}px"


def test_unknown_state_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown icon state 'sleeping'"):
        draw_icon("sleeping")


def test_contact_sheet() -> None:
    """Issue 17 item 8: writes docs/screenshots/icons.png (every state and size on dark and
    light panels) and checks each icon is there."""
    # Issue 12: every state keeps the count; "busy" while signing in; an error is a mark.
    variants = [("idle", 0, False), ("active", 3, False), ("active", 12, False)]
    variants += [("expiring", 2, False), ("busy", 1, False), ("active", 2, True)]
    cell = 72
    sheet = Image.new("RGB", (cell * len(variants), cell * len(SIZES) * len(PANELS)))
    for row, (panel, size) in enumerate(itertools.product(PANELS.values(), SIZES)):
        for column, (state, count, error) in enumerate(variants):
            tile = _on(panel, Image.new("RGBA", (cell, cell)))
            icon = draw_icon(state, size, count, error=error)
            tile.paste(icon, ((cell - size) // 2, (cell - size) // 2), icon)
            sheet.paste(tile, (column * cell, row * cell))
    SHEET.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(SHEET)
    # Issue 17 item 8: what was saved is checked, not just its size: the PNG holds the very
    # pixels drawn, and every cell shows its icon against its panel.
    saved = Image.open(SHEET).convert("RGB")
    assert saved.tobytes() == sheet.tobytes()
    for row, (panel, size) in enumerate(itertools.product(PANELS.values(), SIZES)):
        for column, (state, _count, _error) in enumerate(variants):
            cell_image = saved.crop(
                (column * cell, row * cell, (column + 1) * cell, (row + 1) * cell)
            )
            shown = [pixel for pixel in _pixels(cell_image) if _distance(pixel, panel) > 100]
            assert len(shown) > size * size / 4, f"{state} at {size}px missing from the sheet"


def test_the_badge_digit_survives_gtk_being_loaded_first():
    """The tray loads GTK before drawing; Pillow must still render text with its own FreeType."""
    import subprocess
    import sys

    probe = (
        "import os, sys; from trayapp.tray.backend import choose_backend; "
        "choose_backend({'DISPLAY': ':99'}) if sys.argv[1] == 'gtk' else None; "
        "from trayapp.tray.icon import draw_icon; "
        "sys.stdout.buffer.write(draw_icon('active', 64, 3).tobytes())"
    )
    plain, after_gtk = (
        subprocess.run([sys.executable, "-c", probe, mode], capture_output=True, check=True).stdout
        for mode in ("plain", "gtk")
    )
    assert len(plain) == 64 * 64 * 4
    assert after_gtk == plain
