"""core/files.py by behaviour: what it reads, refuses, creates and writes (issue 17 item 12).

Each test pins a rule that a surviving mutant of `make mutate` broke without a test noticing:
the file types refused, the size cap, owner and mode checks, private folders under umask 000,
atomic_write's temp files, the lock's busy message and warn_if_shared.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from trayapp.core import files
from trayapp.core.errors import UnsafeFileError

MiB = 2**20
OTHER_UID = 54321
# Above the kernel's pid_max (32768 here, 4194304 at most): never a live process.
DEAD_PID = 4194305


@contextlib.contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def refusal(call, *args, **kwargs) -> str:
    with pytest.raises(UnsafeFileError) as caught:
        call(*args, **kwargs)
    return str(caught.value)


def private_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "d"
    folder.mkdir(mode=0o700)
    os.chmod(folder, 0o700)
    return folder


# --- read_bytes / read_text: types, size cap, errors -------------------------------------------


def test_read_bytes_missing_and_exact_bytes(tmp_path: Path) -> None:
    """Issue 17 item 12: a missing file is None; a file over 1 MiB (several reads) comes back
    byte for byte, also one exactly at the cap."""
    assert files.read_bytes(tmp_path / "nope") is None
    assert files.read_text(tmp_path / "nope") is None
    data = os.urandom(3 * MiB + 17)
    (tmp_path / "big").write_bytes(data)
    assert files.read_bytes(tmp_path / "big") == data
    assert files.read_bytes(tmp_path / "big", max_bytes=len(data)) == data
    (tmp_path / "empty").write_bytes(b"")
    assert files.read_bytes(tmp_path / "empty") == b""


def test_read_bytes_size_cap_message(tmp_path: Path) -> None:
    """Issue 17 item 12: one byte over the cap is refused with the sizes named."""
    (tmp_path / "big").write_bytes(b"x" * (2 * MiB + 1))
    message = refusal(files.read_bytes, tmp_path / "big", max_bytes=2 * MiB, what="AWS file")
    assert message == (
        f"AWS file {tmp_path / 'big'} is 2.0 MiB, more than the 2 MiB aacli reads; "
        "nothing was changed."
    )
    (tmp_path / "huge").write_bytes(b"x" * (5 * MiB))
    assert " is 5.0 MiB, more than the 4 MiB " in refusal(
        files.read_bytes, tmp_path / "huge", max_bytes=4 * MiB
    )


@pytest.mark.skipif(not Path("/proc/kallsyms").exists(), reason="needs Linux /proc")
def test_read_bytes_cap_holds_when_size_lies() -> None:
    """Issue 17 item 12: a file that says it is empty but keeps giving bytes (it grows while
    read; /proc files do) is cut at the cap, not read to the end."""
    path = Path("/proc/kallsyms")
    assert path.stat().st_size == 0
    message = refusal(files.read_bytes, path, max_bytes=2 * MiB)
    assert message == (f"{path} is 2.0 MiB, more than the 2 MiB aacli reads; nothing was changed.")
    assert files.read_bytes(Path("/proc/self/cmdline"))


def test_read_bytes_refuses_fifo_device_folder_socket(tmp_path: Path) -> None:
    """Issue 17 item 12: a FIFO (never waited on), a device, a folder or a socket is refused
    with what it is."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert refusal(files.read_bytes, fifo, what="config") == (
        f"config {fifo} is a FIFO, not a regular file; aacli reads only regular files "
        "there. Nothing was changed."
    )
    assert refusal(files.read_bytes, Path("/dev/null")) == (
        "/dev/null is a device, not a regular file; aacli reads only regular files there. "
        "Nothing was changed."
    )
    assert " is a folder, not a regular file" in refusal(files.read_bytes, tmp_path)
    sock_path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        assert refusal(files.read_bytes, sock_path, what="ledger") == (
            f"ledger {sock_path} is not a regular file; aacli reads only regular files "
            "there. Nothing was changed."
        )


def test_read_bytes_other_errors_named(tmp_path: Path) -> None:
    """Issue 17 item 12: a file that cannot be opened gives the system's reason in one line."""
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    assert refusal(files.read_bytes, loop, what="config") == (
        f"Cannot read config {loop}: Too many levels of symbolic links."
    )
    assert refusal(files.check_trusted_path, loop) == (
        f"Cannot read {loop}: Too many levels of symbolic links."
    )


def test_read_bytes_follows_symlink(tmp_path: Path) -> None:
    """Issue 17 item 12: a symlink is followed, as the AWS SDKs do."""
    (tmp_path / "real").write_bytes(b"[default]\n")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert files.read_bytes(tmp_path / "link") == b"[default]\n"


def test_read_text_utf8_and_line_of_bad_byte(tmp_path: Path) -> None:
    """Issue 17 item 12: text is UTF-8; a bad byte names its line."""
    path = tmp_path / "config"
    path.write_bytes("a = é\n".encode())
    assert files.read_text(path) == "a = é\n"
    path.write_bytes(b"a\nb\nc = \xff\n")
    assert refusal(files.read_text, path, what="config") == (
        f"config {path} line 3: not UTF-8 text. Nothing was changed."
    )
    assert refusal(files.read_text, path) == f"{path} line 3: not UTF-8 text. Nothing was changed."


# --- owner and mode checks -------------------------------------------------------------------


def test_trusted_read_owner_and_mode(tmp_path: Path) -> None:
    """Issue 17 item 12: a trusted file must be ours and writable by nobody else; readable or
    executable by others is fine."""
    folder = private_folder(tmp_path)
    path = folder / "vault.bin"
    path.write_bytes(b"v")
    for fine in (0o600, 0o644, 0o755, 0o700):
        os.chmod(path, fine)
        assert files.read_bytes(path, trusted=True) == b"v"
    os.chmod(path, 0o600)
    assert files.read_bytes(path) == b"v"
    for bad in (0o620, 0o602, 0o666):
        os.chmod(path, bad)
        assert refusal(files.read_bytes, path, trusted=True, what="vault") == (
            f"vault {path} is writable by other users (mode {bad:04o}), so aacli will not "
            f"trust it; fix it with: chmod 600 {path}"
        )
        assert files.read_bytes(path) == b"v"  # not trusted: no check
    os.chmod(path, 0o600)
    os.chown(path, OTHER_UID, -1)
    assert refusal(files.read_bytes, path, trusted=True, what="vault") == (
        f"vault {path} belongs to another user (uid {OTHER_UID}), so aacli will not trust "
        f"it; remove it, or make it yours with: chown {os.getuid()} {path}"
    )


def test_trusted_read_checks_the_folder(tmp_path: Path) -> None:
    """Issue 17 item 12: the folder of a trusted file is checked too (label without `what`)."""
    folder = private_folder(tmp_path)
    path = folder / "config"
    path.write_bytes(b"c")
    os.chmod(path, 0o600)
    os.chmod(folder, 0o777)
    assert refusal(files.read_bytes, path, trusted=True, what="config") == (
        f"{folder} is writable by other users (mode 0777), so aacli will not trust it; "
        f"fix it with: chmod 700 {folder}"
    )
    os.chmod(folder, 0o755)
    assert files.read_bytes(path, trusted=True) == b"c"
    os.chown(folder, OTHER_UID, -1)
    assert f"{folder} belongs to another user (uid {OTHER_UID})" in refusal(
        files.read_bytes, path, trusted=True
    )


def test_check_trusted_path(tmp_path: Path) -> None:
    """Issue 17 item 12: check_trusted_path is False for a missing file, True for a safe one."""
    assert files.check_trusted_path(tmp_path / "nope") is False
    path = tmp_path / "f"
    path.write_bytes(b"")
    os.chmod(path, 0o600)
    assert files.check_trusted_path(path) is True
    os.chmod(path, 0o666)
    assert refusal(files.check_trusted_path, path, what="state").startswith(f"state {path} ")


# --- private_dir -------------------------------------------------------------------------------


def test_private_dir_under_umask_000(tmp_path: Path) -> None:
    """Issue 17 item 12: every folder private_dir makes is 0700 even under umask 000; folders
    above that existed are left as they were."""
    os.chmod(tmp_path, 0o755)
    target = tmp_path / "a" / "b" / "c"
    with umask(0):
        assert files.private_dir(target) == target
    for folder in (tmp_path / "a", tmp_path / "a" / "b", target):
        assert mode_of(folder) == 0o700, folder
    assert mode_of(tmp_path) == 0o755
    with umask(0):
        assert files.private_dir(target) == target  # an existing good one is fine


def test_private_dir_refuses_unsafe_or_not_a_folder(tmp_path: Path) -> None:
    """Issue 17 item 12: an existing folder others can write, another user's folder, a file
    where the folder should be, or a folder that cannot be made is refused in one line."""
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    assert refusal(files.private_dir, shared, what="config folder") == (
        f"config folder {shared} is writable by other users (mode 0777), so aacli will not "
        f"trust it; fix it with: chmod 700 {shared}"
    )
    assert mode_of(shared) == 0o777  # checked, not changed
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, OTHER_UID, -1)
    assert "belongs to another user" in refusal(files.private_dir, theirs)
    a_file = tmp_path / "file"
    a_file.write_bytes(b"")
    assert refusal(files.private_dir, a_file) == f"{a_file} should be a folder, but is not."
    assert refusal(files.private_dir, a_file / "sub") == (
        f"Cannot create the folder {a_file / 'sub'}: Not a directory."
    )
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    assert refusal(files.private_dir, loop) == (
        f"Cannot use the folder {loop}: Too many levels of symbolic links."
    )


# --- atomic_write ------------------------------------------------------------------------------


def test_atomic_write_content_mode_and_new_folder(tmp_path: Path) -> None:
    """Issue 17 item 12: the file gets the data, mode 0600 (or the one asked) whatever the
    umask; a missing folder is made 0700."""
    path = tmp_path / "new" / "config"
    with umask(0):
        files.atomic_write(path, "a = é\n")
    assert path.read_bytes() == "a = é\n".encode()
    assert mode_of(path) == 0o600
    assert mode_of(path.parent) == 0o700
    with umask(0o077):
        files.atomic_write(path, b"\x00\xff", mode=0o644)
    assert path.read_bytes() == b"\x00\xff"
    assert mode_of(path) == 0o644
    assert sorted(p.name for p in path.parent.iterdir()) == ["config"]


def test_atomic_write_follows_symlink(tmp_path: Path) -> None:
    """Issue 17 item 12: a symlinked file has its target replaced; the link stays."""
    real = tmp_path / "real"
    real.write_bytes(b"old")
    link = tmp_path / "link"
    link.symlink_to(real)
    files.atomic_write(link, "new")
    assert link.is_symlink()
    assert real.read_bytes() == b"new"


def test_atomic_write_refuses_non_utf8_text(tmp_path: Path) -> None:
    """Issue 17 item 12: text that cannot be UTF-8 changes nothing."""
    path = tmp_path / "f"
    path.write_bytes(b"old")
    assert refusal(files.atomic_write, path, "bad \udc80") == (
        f"Cannot write {path}: the text cannot be written as UTF-8. Nothing was changed."
    )
    assert path.read_bytes() == b"old"


def test_atomic_write_temp_named_by_pid_in_same_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17 item 12: the temp file is in the target's folder, named after the target and
    this writer's pid, mode already final when it is renamed."""
    seen: list[tuple[Path, int]] = []
    real_replace = os.replace

    def spy(src, dst) -> None:
        seen.append((Path(src), mode_of(Path(src))))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    path = tmp_path / "credentials"
    files.atomic_write(path, "x", mode=0o640)
    [(temp, temp_mode)] = seen
    assert temp.parent == tmp_path
    assert temp.name.startswith(f".credentials{files.TEMP_MARK}{os.getpid()}-")
    assert temp_mode == 0o640
    assert not temp.exists()


def test_atomic_write_failure_keeps_old_file_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17 item 12: when the rename fails the old file stays and no temp file is left."""
    path = tmp_path / "config"
    path.write_bytes(b"old")

    def fail(src, dst) -> None:
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "replace", fail)
    assert refusal(files.atomic_write, path, "new") == (
        f"Cannot write {path}: Invalid cross-device link. The file was left unchanged."
    )
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["config"]


def test_atomic_write_temp_cannot_be_made(tmp_path: Path) -> None:
    """Issue 17 item 12: when no temp file can be made (its name too long) nothing changes."""
    path = tmp_path / ("n" * 250)
    assert refusal(files.atomic_write, path, "x") == (
        f"Cannot write {path}: File name too long. Nothing was changed."
    )
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_unresolvable_path(tmp_path: Path) -> None:
    """Issue 17 item 12: a path that cannot be resolved (a symlink loop) is refused."""
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    assert refusal(files.atomic_write, loop, "x") == f"Cannot write {loop}: RuntimeError."


def test_atomic_write_stale_temp_rules(tmp_path: Path) -> None:
    """Issue 17 item 12: a dead writer's temp file is removed; a live writer's, another
    file's, and a fresh one without a pid are kept; one without a pid over a minute old goes."""
    mark = files.TEMP_MARK
    path = tmp_path / "config"
    now = time.time()
    names = {
        "dead": f".config{mark}{DEAD_PID}-abc",
        "live": f".config{mark}1-abc",
        "mine": f".config{mark}{os.getpid()}-abc",
        "other_file": f".credentials{mark}{DEAD_PID}-abc",
        "no_pid_fresh": f".config{mark}abc",
        "no_pid_59s": f".config{mark}{DEAD_PID}",  # digits but no dash: no pid
        "no_pid_61s": f".config{mark}old",
        "word_dash": f".config{mark}abc-def",
        "dead_dashes": f".config{mark}{DEAD_PID}-a-b",
    }
    for key, name in names.items():
        (tmp_path / name).write_bytes(b"")
    os.utime(tmp_path / names["no_pid_59s"], (now - 59, now - 59))
    os.utime(tmp_path / names["no_pid_61s"], (now - 61, now - 61))
    os.utime(tmp_path / names["word_dash"], (now - 30, now - 30))
    os.utime(tmp_path / names["dead"], (now + 3600, now + 3600))  # age does not matter
    folder_temp = tmp_path / f".config{mark}{DEAD_PID}-dir"
    folder_temp.mkdir()  # cannot be unlinked: skipped, the write goes on
    files.atomic_write(path, "x")
    left = {p.name for p in tmp_path.iterdir()} - {folder_temp.name}
    assert path.read_bytes() == b"x"
    assert left == {"config"} | {
        names[k] for k in ("live", "mine", "other_file", "no_pid_fresh", "no_pid_59s", "word_dash")
    }


# --- file_lock and warn_if_shared -------------------------------------------------------------


def test_file_lock_busy_message_and_private_file(tmp_path: Path) -> None:
    """Issue 17 item 12: a held lock makes a second taker fail with the `busy` sentence; the
    lock file is 0600 in a 0700 folder whatever the umask; released, it can be taken again."""
    lock_file = tmp_path / "locks" / "state.lock"
    with umask(0):
        with files.file_lock(lock_file, timeout=5, busy="unused"):
            assert mode_of(lock_file.parent) == 0o700
            assert mode_of(lock_file) == 0o600
            started = time.monotonic()
            assert refusal(
                files.file_lock(lock_file, timeout=0.3, busy="Another aacli is busy.").__enter__
            ) == ("Another aacli is busy.")
            assert time.monotonic() - started >= 0.25
        with files.file_lock(lock_file, timeout=0.3, busy="still held"):
            pass


def test_file_lock_refuses_unsafe_folder(tmp_path: Path) -> None:
    """Issue 17 item 12: the lock's folder is checked like any private folder."""
    folder = tmp_path / "locks"
    folder.mkdir()
    os.chmod(folder, 0o777)
    lock = files.file_lock(folder / "x.lock", timeout=1, busy="busy")
    with pytest.raises(UnsafeFileError, match="writable by other users"), lock:
        pass


def test_warn_if_shared(tmp_path: Path) -> None:
    """Issue 17 item 12: a folder others can change (mode, or another owner) gets one warning
    line; a private one, one only readable by others, or a missing one none."""
    folder = tmp_path / "aws"
    assert files.warn_if_shared(folder) is None
    folder.mkdir()
    for fine in (0o700, 0o755):
        os.chmod(folder, fine)
        assert files.warn_if_shared(folder) is None
    for bad in (0o777, 0o720, 0o702):
        os.chmod(folder, bad)
        assert files.warn_if_shared(folder) == (
            f"warning: {folder} can be changed by other users (mode {bad:04o}); "
            f"fix it with: chmod 700 {folder}"
        )
    os.chmod(folder, 0o700)
    os.chown(folder, OTHER_UID, -1)
    assert files.warn_if_shared(folder) == (
        f"warning: {folder} can be changed by other users (mode 0700); "
        f"fix it with: chmod 700 {folder}"
    )


def test_reason_names_the_error() -> None:
    """Issue 17 item 12: the reason is the system's sentence, else the error's kind."""
    assert files.reason(OSError(2, "No such file or directory")) == "No such file or directory"
    assert files.reason(OSError()) == "OSError"
    assert files.reason(RuntimeError("x")) == "RuntimeError"


def test_default_labels_and_trusted_text(tmp_path: Path) -> None:
    """Issue 17 item 12: without `what` a message starts with the path; read_text checks
    owner and mode only when asked (trusted=True), with its label."""
    path = tmp_path / "f"
    path.write_text("a = 1\n")
    os.chmod(path, 0o666)
    unsafe = f"is writable by other users (mode 0666), so aacli will not trust it; fix it with: chmod 600 {path}"
    assert refusal(files.check_trusted_path, path) == f"{path} {unsafe}"
    assert files.read_text(path) == "a = 1\n"
    assert refusal(files.read_text, path, trusted=True, what="config") == f"config {path} {unsafe}"
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    assert refusal(files.private_dir, shared).startswith(f"{shared} is writable by other users")


def test_read_bytes_refuses_a_block_device(tmp_path: Path) -> None:
    """Issue 17 item 12: a block device is refused as a device (a loop device node made here:
    the tests run as root, as CI does)."""
    import stat

    node = tmp_path / "credentials"
    os.mknod(node, stat.S_IFBLK | 0o600, os.makedev(7, 0))
    assert refusal(files.read_bytes, node) == (
        f"{node} is a device, not a regular file; aacli reads only regular files there. "
        "Nothing was changed."
    )


def test_atomic_write_failure_when_the_temp_is_already_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17 item 12: a failed rename whose temp file is already gone (removed by someone
    else) is still one line, old file kept."""
    path = tmp_path / "config"
    path.write_bytes(b"old")

    def vanish_and_fail(src, dst) -> None:
        os.unlink(src)
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", vanish_and_fail)
    assert refusal(files.atomic_write, path, "new") == (
        f"Cannot write {path}: Input/output error. The file was left unchanged."
    )
    assert path.read_bytes() == b"old"


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
def test_read_bytes_read_error_is_one_line() -> None:
    """Issue 17 item 12: a regular file whose read fails (/proc/self/mem at offset 0 gives
    EIO) is refused with the system's reason, not a traceback."""
    assert refusal(files.read_bytes, Path("/proc/self/mem"), what="config") == (
        "Cannot read config /proc/self/mem: Input/output error."
    )
