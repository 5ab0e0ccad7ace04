"""Read a sign-in redirect page (trayapp.core.browser) as a browser would: the URL it leads to."""

from __future__ import annotations

import html
import re

_REFRESH = re.compile(r'http-equiv="refresh" content="0; url=([^"]*)"')


def signin_url_in_page(page: str) -> str:
    """The URL the page sends the browser on to."""
    found = _REFRESH.search(page)
    assert found, "not a sign-in redirect page"
    return html.unescape(found.group(1))
