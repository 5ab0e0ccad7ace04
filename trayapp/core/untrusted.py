"""Names read from files aacli did not write, made safe to show on a terminal or in a window.

A section name in ``~/.aws/config`` may hold terminal escape sequences (ESC ] 0 ; … BEL sets
the window title, ESC [ … m the colours), bidirectional overrides that make text read
backwards, or line breaks that forge a second message line. :func:`shown` turns every
character that is not printable into visible escaped text, so the user sees what is there.
"""

from __future__ import annotations

# A name longer than this is cut: one junk line must not flood the terminal.
MAX_SHOWN = 200


def shown(name: str) -> str:
    """``name`` with each non-printable character escaped (``\\x1b``), cut to MAX_SHOWN."""
    if not name.isprintable():
        # repr's own escapes (\x1b, \x07, \n, \t, \u202e); printable letters like é or ß stay
        name = "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)
    return name if len(name) <= MAX_SHOWN else name[: MAX_SHOWN - 3] + "..."
