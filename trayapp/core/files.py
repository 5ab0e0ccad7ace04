"""Open, check and write the files aacli trusts: one place for owner, mode, type and size rules.

Every file aacli reads to decide what to do (its config, state, ledger, vault, the AWS shared
files) is read through :func:`read_bytes`, and every folder it keeps them in is made or checked
by :func:`private_dir`. A rule added here cannot be forgotten at the next call site.
"""

from __future__ import annotations

import errno
import os
import stat
import time

from trayapp.core.errors import UnsafeFileError

TYPE_CHECKING = False  # typing's, without importing typing: reading stays cheap at start-up
if TYPE_CHECKING:
    from pathlib import Path
    from types import TracebackType

    from filelock import BaseFileLock

# The AWS files of a person with hundreds of profiles are well under 1 MiB.
MAX_FILE_BYTES = 16 * 1024 * 1024
TEMP_MARK = ".aacli-tmp-"
# A temp file this old whose writer is gone is left over from a killed process.
_STALE_AFTER_SECONDS = 60.0
_POSIX = os.name == "posix"


def _uid() -> int | None:
    return os.getuid() if _POSIX else None


def _owner_ok(st: os.stat_result) -> bool:
    uid = _uid()
    return uid is None or st.st_uid in (uid, 0)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_trusted(path: Path | str, st: os.stat_result, *, what: str = "") -> None:
    """Refuse ``path`` (already stat'ed) when another user owns it or may write to it."""
    if not _POSIX:
        return  # Windows: per-user profile folders and ACLs, not mode bits
    label = f"{what} {path}" if what else str(path)
    if not _owner_ok(st):
        raise UnsafeFileError(
            f"{label} belongs to another user (uid {st.st_uid}), so aacli will not trust it; "
            f"remove it, or make it yours with: chown {os.getuid()} {path}"
        )
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o022:
        fix = "700" if stat.S_ISDIR(st.st_mode) else "600"
        raise UnsafeFileError(
            f"{label} is writable by other users (mode {mode:04o}), so aacli will not trust "
            f"it; fix it with: chmod {fix} {path}"
        )


def check_trusted_path(path: Path, *, what: str = "") -> bool:
    """:func:`check_trusted` by path; False when it does not exist."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise UnsafeFileError(f"Cannot read {path}: {reason(exc)}.") from None
    check_trusted(path, st, what=what)
    return True


def read_bytes(
    path: Path | str,
    *,
    trusted: bool = False,
    max_bytes: int = MAX_FILE_BYTES,
    what: str = "",
) -> bytes | None:
    """The file's bytes, or None when it does not exist.

    Never blocks (a FIFO or a device where a file should be is refused, not waited on), never
    reads more than ``max_bytes``, follows a symlink as the AWS SDKs do. ``trusted``: the file
    decides what aacli does (its config, ledger, vault), so it and its folder must be the
    user's own and writable by nobody else. ``path`` may be a string (the start-up paths
    take no pathlib).
    """
    label = f"{what} {path}" if what else str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno in (errno.ENXIO, errno.EISDIR):  # a socket; a folder on some systems
            raise UnsafeFileError(
                f"{label} is not a regular file; aacli reads only regular files there. "
                "Nothing was changed."
            ) from None
        raise UnsafeFileError(f"Cannot read {label}: {reason(exc)}.") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeFileError(
                f"{label} is {_kind(st.st_mode)}, not a regular file; aacli reads only "
                "regular files there. Nothing was changed."
            )
        if trusted:
            check_trusted(path, st, what=what)
            parent = os.path.dirname(os.fspath(path)) or "."
            try:
                parent_st: os.stat_result | None = os.stat(parent)
            except FileNotFoundError:
                parent_st = None
            if parent_st is not None:
                check_trusted(parent, parent_st)
        if st.st_size > max_bytes:
            raise UnsafeFileError(_too_big(label, st.st_size, max_bytes))
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:  # it grew while we read
                raise UnsafeFileError(_too_big(label, size, max_bytes))
        return b"".join(chunks)
    except BlockingIOError:
        raise UnsafeFileError(
            f"{label} cannot be read without waiting. Nothing was changed."
        ) from None
    except OSError as exc:
        raise UnsafeFileError(f"Cannot read {label}: {reason(exc)}.") from None
    finally:
        os.close(fd)


def read_text(path: Path, *, trusted: bool = False, what: str = "") -> str | None:
    """:func:`read_bytes` as UTF-8 text (None when the file does not exist)."""
    data = read_bytes(path, trusted=trusted, what=what)
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        label = f"{what} {path}" if what else str(path)
        raise UnsafeFileError(
            f"{label} line {line}: not UTF-8 text. Nothing was changed."
        ) from None


def _too_big(label: str, size: int, limit: int) -> str:
    return (
        f"{label} is {size / 2**20:.1f} MiB, more than the {limit // 2**20} MiB aacli reads; "
        "nothing was changed."
    )


def private_dir(folder: Path, *, what: str = "") -> Path:
    """Make ``folder`` (and each missing parent) mode 0700 whatever the umask, or check it.

    An existing folder must be the user's and writable by nobody else; folders above it that
    aacli did not create are left as they are.
    """
    make_dirs(folder)
    try:
        st = folder.stat()
    except OSError as exc:
        raise UnsafeFileError(f"Cannot use the folder {folder}: {reason(exc)}.") from None
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeFileError(f"{folder} should be a folder, but is not.")
    check_trusted(folder, st, what=what)
    return folder


def make_dirs(folder: Path) -> None:
    """Create ``folder`` and each missing parent mode 0700 whatever the umask (an existing
    one is left as it is: for folders that are not aacli's, such as ~/.config/autostart)."""
    import contextlib  # here, not at the top: reading files at start-up need not import it

    missing: list[Path] = []
    probe = folder
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for item in reversed(missing):
        try:
            item.mkdir(mode=0o700)
        except FileExistsError:
            pass  # made by a concurrent aacli a moment ago
        except OSError as exc:
            raise UnsafeFileError(f"Cannot create the folder {item}: {reason(exc)}.") from None
        else:
            with contextlib.suppress(OSError):
                os.chmod(item, 0o700)  # mkdir's mode is cut by the umask, never widened


def atomic_write(path: Path, data: str | bytes, *, mode: int = 0o600) -> None:
    """Replace the file (the target, if ``path`` is a symlink) with ``data``, mode 0600.

    Readers see the old file or the new one, never a part; on failure the old file stays.
    The folder is made private when aacli creates it.
    """
    import contextlib

    try:
        target = path.resolve()
    except (OSError, RuntimeError) as exc:
        raise UnsafeFileError(f"Cannot write {path}: {reason(exc)}.") from None
    folder = target.parent
    try:
        raw = data.encode("utf-8") if isinstance(data, str) else data
    except UnicodeEncodeError:
        raise UnsafeFileError(
            f"Cannot write {path}: the text cannot be written as UTF-8. Nothing was changed."
        ) from None
    if not folder.is_dir():
        private_dir(folder)
    remove_stale_temps(folder, target.name)
    import tempfile  # here: reading files (credential-process) need not pay for its import

    try:
        fd, temp_name = tempfile.mkstemp(
            prefix=f".{target.name}{TEMP_MARK}{os.getpid()}-", dir=folder
        )
    except OSError as exc:
        raise UnsafeFileError(f"Cannot write {path}: {reason(exc)}. Nothing was changed.") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            if _POSIX:
                os.fchmod(handle.fileno(), mode)
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise UnsafeFileError(
            f"Cannot write {path}: {reason(exc)}. The file was left unchanged."
        ) from None
    fsync_dir(folder)


def remove_stale_temps(folder: Path, name: str) -> None:
    """Remove temp files of ``name`` left by killed writers; a live writer's is never touched.

    A temp file carries its writer's pid: it is removed once that process is gone (a reused
    pid only keeps it a while longer). One without a pid (an older aacli's) is removed when it
    is over a minute old, longer than any write aacli makes.
    """
    import contextlib

    from trayapp.core.children import process_alive

    now = time.time()
    for stale in folder.glob(f".{name}{TEMP_MARK}*"):
        pid_text, dash, _ = stale.name[len(f".{name}{TEMP_MARK}") :].partition("-")
        with contextlib.suppress(OSError):
            if pid_text.isdigit() and dash:
                if not process_alive(int(pid_text)):
                    stale.unlink()
            elif now - stale.lstat().st_mtime > _STALE_AFTER_SECONDS:
                stale.unlink()


def fsync_dir(folder: Path) -> None:
    if not hasattr(os, "O_DIRECTORY"):
        return  # Windows cannot open a directory; its rename is durable enough
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # the rename happened; some file systems cannot sync a directory
    finally:
        os.close(fd)


def _log_debug(message: str, *args: object) -> None:
    """A --debug line; logging is imported only then (reading files at start-up needs none)."""
    import logging

    logging.getLogger(__name__).debug(message, *args)


def file_lock(lock_file: Path, *, timeout: float, busy: str) -> FileLock:
    """Hold an inter-process lock (file mode 0600 in a private folder); ``busy`` on timeout.
    Use it as ``with file_lock(...):``."""
    return FileLock(lock_file, timeout=timeout, busy=busy)


class FileLock:
    """:func:`file_lock`'s lock. On POSIX it is an ``flock(2)`` on the lock file, the lock the
    filelock library takes there, without importing it (it loads asyncio: ~15 ms of every
    ``aacli auth``); elsewhere filelock's. A class, not contextlib's decorator: reading files
    at start-up need not import contextlib."""

    POLL_SECONDS = 0.05

    def __init__(self, lock_file: Path, *, timeout: float, busy: str) -> None:
        self.lock_file, self.timeout, self.busy = lock_file, timeout, busy
        self._fd: int | None = None
        self._lock: BaseFileLock | None = None

    def __enter__(self) -> None:
        private_dir(self.lock_file.parent)
        if not _POSIX:
            self._enter_filelock()
            return
        import fcntl

        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self.lock_file, flags, 0o600)
        except OSError as exc:
            raise UnsafeFileError(f"Cannot lock {self.lock_file}: {reason(exc)}.") from None
        deadline = time.monotonic() + self.timeout
        waited = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not waited:
                    _log_debug("waiting for another aacli to release %s", self.lock_file)
                    waited = True
                if self.timeout >= 0 and time.monotonic() >= deadline:
                    os.close(fd)
                    raise UnsafeFileError(self.busy) from None
                time.sleep(self.POLL_SECONDS)
            except OSError as exc:
                os.close(fd)
                raise UnsafeFileError(f"Cannot lock {self.lock_file}: {reason(exc)}.") from None
            else:
                self._fd = fd
                return

    def _enter_filelock(self) -> None:
        import filelock

        lock = filelock.FileLock(self.lock_file, timeout=self.timeout, mode=0o600)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise UnsafeFileError(self.busy) from None
        except OSError as exc:
            raise UnsafeFileError(f"Cannot lock {self.lock_file}: {reason(exc)}.") from None
        self._lock = lock

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor releases the flock
            self._fd = None
        elif self._lock is not None:
            self._lock.release()
            self._lock = None


def warn_if_shared(folder: Path) -> str | None:
    """A one-line warning when ``folder`` (e.g. ``~/.aws``) is writable by other users."""
    if not _POSIX:
        return None
    try:
        st = folder.stat()
    except OSError:
        return None
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o022 or not _owner_ok(st):
        return (
            f"warning: {folder} can be changed by other users (mode {mode:04o}); "
            f"fix it with: chmod 700 {folder}"
        )
    return None


def reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__
