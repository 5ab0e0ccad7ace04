"""Draws the tray icon for each state with Pillow: a shield, coloured and marked by state."""

from __future__ import annotations

import threading
from functools import cache

from PIL import Image, ImageDraw, ImageFont

STATES = ("idle", "active", "expiring", "busy", "error")

OUTLINE = (31, 35, 40, 255)  # dark rim: the shape stays visible on light panels
DARK = (31, 35, 40, 255)
WHITE = (255, 255, 255, 255)
# Fills are mid-to-light so the shape stays visible on dark panels too.
FILLS = {
    "idle": (184, 192, 200, 255),
    "active": (46, 160, 67, 255),
    "expiring": (240, 160, 32, 255),
    "busy": (52, 120, 246, 255),
    "error": (215, 58, 73, 255),
}
CANVAS = 256  # drawn large, then scaled down, for smooth edges at every size


_DRAWING = threading.Lock()  # one FreeType face is shared: it must not render in two threads


def draw_icon(
    state: str, size: int = 64, count: int = 0, reminder: bool = False, error: bool = False
) -> Image.Image:
    """The square ``size``-pixel RGBA icon for ``state``, with ``count`` (the live sessions) in a
    badge when above 0, whatever the state; ``reminder`` adds the mark of a hub key due for
    rotation (top right); ``error`` a small red mark (top left) for an error not yet
    dismissed, which leaves the sessions' state and count in view."""
    with _DRAWING:
        return _draw(state, size, count, reminder, error)


def _draw(
    state: str, size: int, count: int, reminder: bool = False, error: bool = False
) -> Image.Image:
    if state not in FILLS:
        raise ValueError(f"unknown icon state {state!r}; expected one of {', '.join(STATES)}")
    image = Image.new("RGBA", (CANVAS, CANVAS), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    # The rim is at least one final pixel wide, else it vanishes at 16 px.
    rim = max(CANVAS // size, CANVAS // 22) + 2
    draw.polygon(_shield(), fill=FILLS[state], outline=OUTLINE, width=rim)
    _GLYPHS[state](draw)
    if count > 0:
        small = size < 32
        many = "+" if small else "9+"  # two characters are a smudge at tray size
        _badge(draw, str(count) if count <= 9 else many, rim, 0.36 if small else 0.3)
    if reminder:
        _key_mark(draw, rim)
    if error:
        _error_mark(draw, rim)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def _at(x: float, y: float) -> tuple[float, float]:
    return x * CANVAS, y * CANVAS


def _box(cx: float, cy: float, r: float) -> tuple[float, float, float, float]:
    return (cx - r) * CANVAS, (cy - r) * CANVAS, (cx + r) * CANVAS, (cy + r) * CANVAS


@cache
def _shield() -> list[tuple[float, float]]:
    """A shield outline: a flat-ish top and sides curving down to a point."""
    right = [(0.5, 0.05), (0.66, 0.11), (0.88, 0.14), (0.88, 0.46)]

    # Quadratic curve from the right shoulder to the bottom point.
    def curve(t: float) -> tuple[float, float]:
        (x0, y0), (x1, y1), (x2, y2) = (0.88, 0.46), (0.86, 0.78), (0.5, 0.96)
        u = 1 - t
        return u * u * x0 + 2 * u * t * x1 + t * t * x2, u * u * y0 + 2 * u * t * y1 + t * t * y2

    right += [curve(i / 12) for i in range(1, 13)]
    left = [(1 - x, y) for x, y in reversed(right[1:-1])]
    return [_at(x, y) for x, y in right + left]


def _keyhole(draw: ImageDraw.ImageDraw, colour: tuple[int, int, int, int]) -> None:
    draw.ellipse(_box(0.5, 0.4, 0.13), fill=colour)
    draw.polygon([_at(0.44, 0.45), _at(0.56, 0.45), _at(0.61, 0.74), _at(0.39, 0.74)], fill=colour)


def _idle(draw: ImageDraw.ImageDraw) -> None:
    _keyhole(draw, DARK)


def _active(draw: ImageDraw.ImageDraw) -> None:
    _keyhole(draw, WHITE)


def _expiring(draw: ImageDraw.ImageDraw) -> None:
    # An hourglass: time is running out.
    draw.polygon([_at(0.3, 0.22), _at(0.7, 0.22), _at(0.5, 0.48)], fill=DARK)
    draw.polygon([_at(0.5, 0.48), _at(0.7, 0.76), _at(0.3, 0.76)], fill=DARK)


def _error(draw: ImageDraw.ImageDraw) -> None:
    draw.rounded_rectangle([*_at(0.43, 0.2), *_at(0.57, 0.56)], radius=0.04 * CANVAS, fill=WHITE)
    draw.ellipse(_box(0.5, 0.7, 0.08), fill=WHITE)


def _busy(draw: ImageDraw.ImageDraw) -> None:
    # Three dots: something is being worked on.
    for x in (0.3, 0.5, 0.7):
        draw.ellipse(_box(x, 0.42, 0.075), fill=WHITE)


_GLYPHS = {
    "idle": _idle,
    "active": _active,
    "expiring": _expiring,
    "busy": _busy,
    "error": _error,
}


def _error_mark(draw: ImageDraw.ImageDraw, rim: int) -> None:
    """A red disc with a white bar at the top left: an error is waiting in the menu."""
    draw.ellipse(_box(0.2, 0.2, 0.2), fill=FILLS["error"], outline=OUTLINE, width=rim)
    bar = max(rim, CANVAS // 16)
    draw.line([_at(0.2, 0.1), _at(0.2, 0.24)], fill=WHITE, width=bar)
    draw.ellipse(_box(0.2, 0.31, 0.035), fill=WHITE)


def _badge(draw: ImageDraw.ImageDraw, text: str, rim: int, radius: float) -> None:
    """The number of active sessions, in a white disc at the bottom right."""
    centre = 1 - radius
    draw.ellipse(_box(centre, centre, radius), fill=WHITE, outline=OUTLINE, width=rim)
    font = _font(int(CANVAS * radius * (1.5 if len(text) == 1 else 1.1)))
    draw.text(_at(centre, centre + 0.01), text, fill=DARK, font=font, anchor="mm")


REMINDER = (52, 120, 246, 255)  # blue: neither a state colour nor the error red


def _key_mark(draw: ImageDraw.ImageDraw, rim: int) -> None:
    """A blue disc with a white ring at the top right: a hub key is due for rotation. Big
    enough to be seen at 16 px, clear of the session badge at the bottom right."""
    draw.ellipse(_box(0.8, 0.2, 0.2), fill=REMINDER, outline=OUTLINE, width=rim)
    draw.ellipse(_box(0.8, 0.2, 0.085), outline=WHITE, width=max(rim, CANVAS // 28))


@cache
def _font(pixels: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype("DejaVuSans-Bold.ttf", pixels)
    except OSError:  # no DejaVu here (macOS, Windows): Pillow's own font
        return ImageFont.load_default(pixels)
