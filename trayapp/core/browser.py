"""Open a console sign-in URL in the browser without putting it on any command line.

The URL carries a sign-in token (a bearer secret for 15 minutes), and a browser's argv is
readable by every local user for the browser's whole life. So the browser gets the path of a
private page (0600, in a 0700 folder of aacli's state dir, under a name nobody can guess) that
redirects to the URL; the page is removed a minute later by a detached child, and any page left
over (that child killed) at the next opening. The browser is started through
:mod:`trayapp.core.children` and never waited for: only a launcher that fails at once is told.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import secrets
import shlex
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from trayapp.core import children
from trayapp.core.errors import ConsoleError
from trayapp.core.files import atomic_write, private_dir

FOLDER_NAME = "signin"
PREFIX = "signin-"
SUFFIX = ".html"
# A launcher that cannot open anything fails at once; a browser that opened runs on or exits 0.
EARLY_EXIT_SECONDS = 2.0
# Long enough for a browser that must start first to read the page; the token is single-use,
# so once the browser has followed it the page is worthless anyway.
REMOVE_AFTER_SECONDS = 60.0
# A page older than this is a leftover (its remover was killed): the next opening removes it.
SWEEP_AFTER_SECONDS = 300.0
PRINT_HINT = "use `aacli web --print` to get the sign-in URL"


CONSOLE_TITLE = "Signing in to the AWS console"
IDENTITY_CENTER_TITLE = "Signing in to IAM Identity Center"


class BrowserError(ConsoleError):
    """No browser could be started for the sign-in page."""


def open_signin_page(
    url: str,
    state_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    platform: str = sys.platform,
    title: str = CONSOLE_TITLE,
) -> str:
    """Open ``url`` through a private redirect page; the name of the browser started.

    ``env`` (default: ours) gives ``$BROWSER`` and the display; the browser's own environment
    is it without aacli's secrets. Waits at most :data:`EARLY_EXIT_SECONDS`.
    """
    if not url.startswith(("https://", "http://")):
        raise ConsoleError("Only an http(s) sign-in URL can be opened.")
    folder = private_dir(state_dir / FOLDER_NAME)
    sweep(folder)
    page = folder / f"{PREFIX}{secrets.token_urlsafe(24)}{SUFFIX}"
    atomic_write(page, redirect_page(url, title), mode=0o600)
    try:
        name = _launch(page, os.environ if env is None else env, platform)
    except BaseException:
        _remove(page)
        raise
    remove_later(page)
    return name


def redirect_page(url: str, title: str = CONSOLE_TITLE) -> str:
    """A page that sends the browser on to ``url`` at once, with no referrer."""
    attribute = html.escape(url, quote=True)
    heading = html.escape(title)
    # json.dumps escapes quotes and line separators; these three keep it inert inside <script>.
    script = json.dumps(url).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        '<meta name="referrer" content="no-referrer">'
        f'<meta http-equiv="refresh" content="0; url={attribute}">'
        f"<title>{heading}</title>"
        f"<script>window.location.replace({script});</script>"
        f"</head><body><p>{heading}\u2026 "
        f'<a href="{attribute}" rel="noreferrer">Continue</a></p></body></html>\n'
    )


def browser_argv(command: str, target: str) -> list[str]:
    """argv for one ``$BROWSER`` entry: ``%s`` replaced by ``target`` (``%%`` is a ``%``),
    else ``target`` appended. An entry naming a program as a whole (spaces included) is run
    as that program, as Python's webbrowser does."""
    if "%s" not in command and shutil.which(command):
        return [command, target]
    try:
        words = shlex.split(command)
    except ValueError:
        words = [command]
    if not any("%s" in word for word in words):
        return [*words, target]
    return [_substitute(word, target) for word in words]


def _substitute(word: str, target: str) -> str:
    return "%".join(part.replace("%s", target) for part in word.split("%%"))


def _launch(page: Path, env: Mapping[str, str], platform: str) -> str:
    child_env = children.child_env(base=env)
    choice = env.get("BROWSER", "")
    commands = [c for c in choice.split(os.pathsep) if c.strip()]
    if commands:
        for command in commands:
            argv = browser_argv(command, str(page))
            if argv and _started(argv, child_env):
                return os.path.basename(argv[0])
        names = ", ".join(os.path.basename(c.split()[0]) for c in commands)
        raise BrowserError(f"No browser could be opened with $BROWSER ({names}); {PRINT_HINT}.")
    if platform == "win32":
        try:
            os.startfile(page)  # type: ignore[attr-defined,unused-ignore]  # noqa: S606
        except OSError:
            raise BrowserError(f"No browser could be opened; {PRINT_HINT}.") from None
        return "the default browser"
    opener = "open" if platform == "darwin" else "xdg-open"
    if shutil.which(opener, path=env.get("PATH")) is None:
        raise BrowserError(f"No browser could be opened ({opener} was not found); {PRINT_HINT}.")
    if not _started([opener, str(page)], child_env):
        raise BrowserError(f"No browser could be opened ({opener} failed); {PRINT_HINT}.")
    return opener


def _started(argv: Sequence[str], env: Mapping[str, str]) -> bool:
    try:
        child = children.start(argv, env=env)
    except OSError:
        return False
    status = children.wait_briefly(child, EARLY_EXIT_SECONDS)
    return status is None or status == 0


def remove_later(page: Path, seconds: float = REMOVE_AFTER_SECONDS) -> None:
    """Remove ``page`` after ``seconds``, from a child that outlives this process."""
    argv = children.python_command(__name__, "remove-after", str(seconds), str(page))
    with contextlib.suppress(OSError):  # the next opening sweeps it instead
        children.start(argv)


def sweep(folder: Path, *, older_than: float = SWEEP_AFTER_SECONDS) -> None:
    """Remove sign-in pages (and their temp files) left over in ``folder``."""
    now = time.time()
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            if _is_page(entry) or entry.name.startswith(f".{PREFIX}"):
                with contextlib.suppress(OSError):
                    if now - entry.lstat().st_mtime > older_than:
                        entry.unlink()


def _is_page(path: Path) -> bool:
    return path.name.startswith(PREFIX) and path.name.endswith(SUFFIX)


def _remove(page: Path) -> None:
    if _is_page(page) and page.parent.name == FOLDER_NAME:  # never anything else
        with contextlib.suppress(OSError):
            page.unlink()


def _main(argv: Sequence[str]) -> int:
    """``python -m trayapp.core.browser remove-after SECONDS PAGE``: the detached remover."""
    if len(argv) != 3 or argv[0] != "remove-after":
        return 2
    try:
        seconds = float(argv[1])
    except ValueError:
        return 2
    time.sleep(max(0.0, min(seconds, SWEEP_AFTER_SECONDS)))
    _remove(Path(argv[2]))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
