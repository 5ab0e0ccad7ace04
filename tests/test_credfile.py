"""The AWS shared files on disk: atomic 0600 writes, the lock, and what real AWS readers see."""

from __future__ import annotations

import configparser
import json
import multiprocessing
import os
import resource
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from conftest import aws_cli_v2
from hypothesis import HealthCheck, given, settings
from test_inifile import big_file, ini_texts

from trayapp.core.credfile import (
    LOCK_BUSY,
    RemoveOutcome,
    atomic_write,
    aws_files_lock,
    read_text,
    remove_profile_credentials,
    remove_profile_region,
    set_profile_region,
    write_profile_credentials,
)
from trayapp.core.errors import CredFileError
from trayapp.core.model import Credentials

EXPIRY = datetime(2026, 11, 24, 15, 42, tzinfo=timezone.utc)
SECRET = "tH1s/is+a/SECRET/never/in/messages"
TOKEN = "IQoJb3JpZ2luX2VjTOKEN" * 20


def creds(key_id: str = "ASIAAACLI000000001") -> Credentials:
    return Credentials(key_id, SECRET, TOKEN, EXPIRY)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".aacli-tmp-" in p.name)


@pytest.fixture
def aws(tmp_path: Path) -> Path:
    folder = tmp_path / "aws"
    folder.mkdir(mode=0o700)
    return folder


@pytest.fixture
def clean_aws_env(monkeypatch: pytest.MonkeyPatch, aws: Path) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield


# --- high-level operations -----------------------------------------------------------


@pytest.mark.parametrize("final_newline", [True, False])
def test_auth_then_unauth_restores_the_file_byte_for_byte(aws: Path, final_newline: bool) -> None:
    path = aws / "credentials"
    original = big_file(final_newline).encode()
    path.write_bytes(original)
    path.chmod(0o644)
    write_profile_credentials(path, "dev-DEVELOPER", creds(), owned_key_ids=())
    written = path.read_bytes().decode()
    assert mode(path) == 0o600
    assert written.encode().startswith(original)
    assert "x_security_token_expires = 2026-11-24T15:42:00Z\r\n" in written or written.endswith(
        "x_security_token_expires = 2026-11-24T15:42:00Z"
    )
    outcome = remove_profile_credentials(path, "dev-DEVELOPER", "ASIAAACLI000000001")
    assert outcome is RemoveOutcome.REMOVED
    assert path.read_bytes() == original
    assert remove_profile_credentials(path, "dev-DEVELOPER", "ASIAAACLI000000001") is (
        RemoveOutcome.ABSENT
    )
    assert temp_files(aws) == []


def test_keys_the_user_put_there_are_never_overwritten(aws: Path) -> None:
    path = aws / "credentials"
    original = b"[default]\naws_access_key_id = AKIAUSERSTATIC00001\naws_secret_access_key = x\n"
    path.write_bytes(original)
    before = path.stat()
    with pytest.raises(CredFileError) as caught:
        write_profile_credentials(path, "default", creds(), owned_key_ids={"ASIAOTHER"})
    message = str(caught.value)
    assert str(path) in message and "[default]" in message
    assert "did not write" in message and "nothing was changed" in message
    assert SECRET not in message and "AKIAUSERSTATIC" not in message
    assert path.read_bytes() == original
    assert path.stat().st_ino == before.st_ino and path.stat().st_mtime_ns == before.st_mtime_ns


def test_a_section_with_only_a_foreign_token_is_refused_too(aws: Path) -> None:
    path = aws / "credentials"
    path.write_text("[dev]\naws_session_token = theirs\n")
    with pytest.raises(CredFileError, match="did not write"):
        write_profile_credentials(path, "dev", creds(), owned_key_ids=())


def test_our_own_earlier_keys_are_renewed_in_place(aws: Path) -> None:
    path = aws / "credentials"
    path.write_text("[dev]\n# note\nregion = eu-west-1\n")
    write_profile_credentials(path, "dev", creds("ASIAFIRST"), owned_key_ids=())
    write_profile_credentials(path, "dev", creds("ASIASECOND"), owned_key_ids={"ASIAFIRST"})
    text = path.read_text()
    assert text.startswith("[dev]\n# note\nregion = eu-west-1\naws_access_key_id = ASIASECOND\n")
    assert text.count("aws_access_key_id") == 1
    assert remove_profile_credentials(path, "dev", "ASIASECOND") is RemoveOutcome.REMOVED
    assert path.read_text() == "[dev]\n# note\nregion = eu-west-1\n"


def test_remove_leaves_a_changed_section_alone(aws: Path) -> None:
    path = aws / "credentials"
    write_profile_credentials(path, "dev", creds("ASIAOURS"), owned_key_ids=())
    replaced = path.read_text().replace("ASIAOURS", "ASIASOMEONEELSE")
    path.write_text(replaced)
    assert remove_profile_credentials(path, "dev", "ASIAOURS") is RemoveOutcome.CHANGED
    assert path.read_text() == replaced
    assert remove_profile_credentials(aws / "missing", "dev", "ASIAOURS") is RemoveOutcome.ABSENT
    assert not (aws / "missing").exists()


@pytest.mark.parametrize(
    "section",
    [
        "aws_secret_access_key = theirSecret\n",
        "aws_session_token = theirToken\n",
        "aws_secret_access_key = theirSecret\naws_session_token = theirToken\n"
        "x_security_token_expires = 2026-11-24T15:42:00Z\n",
        "aws_access_key_id =\naws_secret_access_key = theirSecret\n",
        "# the user's notes\nregion = eu-west-1\naws_session_token = theirToken\n",
        "x_security_token_expires = 2026-11-24T15:42:00Z\n",
        "region = eu-west-1\n",
        "credential_process = /usr/bin/their-helper\n",
    ],
)
def test_a_section_without_our_key_id_is_never_touched(aws: Path, section: str) -> None:
    """Issue 17 item 4: whatever else a section holds, without aacli's key id it stays."""
    path = aws / "credentials"
    original = f"[other]\nk = v\n\n[dev]\n{section}\n[after]\nk = w\n".encode()
    path.write_bytes(original)
    before = path.stat()
    outcome = remove_profile_credentials(path, "dev", "ASIAOURS")
    assert outcome is not RemoveOutcome.REMOVED
    assert path.read_bytes() == original
    assert path.stat().st_ino == before.st_ino and path.stat().st_mtime_ns == before.st_mtime_ns


def test_region_finds_the_profile_as_botocore_does(aws: Path) -> None:
    """Issue 17 item 12 (mutation survivors): ``[profile  dev]`` (two spaces) is botocore's
    profile dev: its region is set in place and removed there, no second section appears."""
    path = aws / "config"
    original = "[profile  dev]\r\nregion = us-east-1\r\noutput = json\r\n"
    path.write_text(original, encoding="utf-8", newline="")
    assert set_profile_region(path, "dev", "eu-west-1") is False  # found, not created
    assert path.read_bytes() == original.replace("us-east-1", "eu-west-1").encode()
    assert set_profile_region(path, "dev", "eu-west-1") is False
    assert remove_profile_region(path, "dev", "us-east-1") is False  # not ours any more
    assert remove_profile_region(path, "dev", "eu-west-1") is True
    assert path.read_bytes() == b"[profile  dev]\r\noutput = json\r\n"
    assert set_profile_region(path, "fresh", "eu-west-1") is True  # created


def test_region_is_set_and_removed_only_while_it_is_ours(aws: Path) -> None:
    config = aws / "config"
    config.write_text("[default]\noutput = json\n\n[profile stage]\noutput = text\n")
    assert set_profile_region(config, "dev", "eu-west-1") is True
    assert set_profile_region(config, "stage", "us-east-2") is False
    assert set_profile_region(config, "dev", "eu-west-1") is False
    text = config.read_text()
    assert "[profile dev]\nregion = eu-west-1\n" in text
    assert "[profile stage]\noutput = text\nregion = us-east-2\n" in text
    assert remove_profile_region(config, "stage", "eu-west-1") is False
    assert remove_profile_region(config, "stage", "us-east-2") is True
    assert remove_profile_region(config, "dev", "eu-west-1") is True
    assert config.read_text() == "[default]\noutput = json\n\n[profile stage]\noutput = text\n"


def test_refusal_names_file_and_line_and_writes_nothing(aws: Path) -> None:
    path = aws / "credentials"
    original = f"[a]\nk = 1\n\n[dev]\naws_secret_access_key = {SECRET}\n[dev]\n".encode()
    path.write_bytes(original)
    with pytest.raises(CredFileError) as caught:
        write_profile_credentials(path, "dev", creds(), owned_key_ids=())
    message = str(caught.value)
    assert message.startswith(f"{path} line 6: ")
    assert "Nothing was changed" in message and SECRET not in message
    assert path.read_bytes() == original
    assert temp_files(aws) == []


def test_a_profile_named_default_in_capitals_is_refused(aws: Path) -> None:
    with pytest.raises(CredFileError, match=rf"^{aws / 'credentials'}: \[DEFAULT\] is special"):
        write_profile_credentials(aws / "credentials", "DEFAULT", creds(), owned_key_ids=())
    assert not (aws / "credentials").exists()


def test_undecodable_and_unreadable_files(aws: Path) -> None:
    path = aws / "credentials"
    assert read_text(path) == ""
    path.write_bytes(b"[a]\nk = caf\xe9\n")
    with pytest.raises(CredFileError, match=rf"^{path} line 2: not UTF-8"):
        read_text(path)
    with pytest.raises(CredFileError, match="not UTF-8"):
        write_profile_credentials(path, "dev", creds(), owned_key_ids=())
    assert path.read_bytes() == b"[a]\nk = caf\xe9\n"
    with pytest.raises(CredFileError, match=f"^{aws} is a folder, not a regular file"):
        read_text(aws)


@settings(
    max_examples=min(150, int(os.environ.get("AACLI_PROPERTY_EXAMPLES", "150"))),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(ini_texts())
def test_any_text_either_round_trips_or_is_refused_untouched(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "credentials"
        original = text.encode("utf-8")
        path.write_bytes(original)
        try:
            write_profile_credentials(path, "aacli-prop", creds(), owned_key_ids=())
        except CredFileError as exc:
            assert SECRET not in str(exc)
            assert path.read_bytes() == original
            assert sorted(os.listdir(folder)) == ["credentials"]
            return
        outcome = remove_profile_credentials(path, "aacli-prop", "ASIAAACLI000000001")
        assert outcome is RemoveOutcome.REMOVED
        assert path.read_bytes() == original


# --- atomic_write ----------------------------------------------------------------------


def test_write_creates_a_private_parent_and_a_0600_file(tmp_path: Path) -> None:
    path = tmp_path / "home" / ".aws" / "credentials"
    old_umask = os.umask(0o022)
    try:
        atomic_write(path, "[a]\nk = v\n")
    finally:
        os.umask(old_umask)
    assert path.read_text() == "[a]\nk = v\n"
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    path.chmod(0o666)
    atomic_write(path, "[a]\nk = w\n")
    assert mode(path) == 0o600


def test_write_goes_through_a_symlink_to_its_target(tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "aws-credentials"
    real.write_text("[a]\nk = 1\n")
    aws = tmp_path / ".aws"
    aws.mkdir()
    link = aws / "credentials"
    link.symlink_to(real)
    write_profile_credentials(link, "dev", creds(), owned_key_ids=())
    assert link.is_symlink() and link.resolve() == real
    assert "[dev]" in real.read_text()
    assert mode(real) == 0o600
    assert temp_files(aws) == [] and temp_files(dotfiles) == []


def test_stale_temp_files_of_ours_are_removed_on_the_next_write(aws: Path) -> None:
    """Issue 11 item 3: stale-temp cleanup removes a killed writer's temp file, never a live
    writer's (its pid is alive); one without a pid only once it is over a minute old."""
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale = aws / f".credentials.aacli-tmp-{dead.stdout.strip()}-abc"
    stale.write_text("half a file from a killed process")
    live_writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        live = aws / f".credentials.aacli-tmp-{live_writer.pid}-def"
        live.write_text("a live writer's temp file")
        fresh = aws / ".credentials.aacli-tmp-ghi"
        fresh.write_text("no pid, seconds old: its writer may still be at work")
        aged = aws / ".credentials.aacli-tmp-jkl"
        aged.write_text("no pid, two minutes old: left by a killed older aacli")
        old = time.time() - 120
        for path in (live, aged):
            os.utime(path, (old, old))
        foreign = aws / ".credentials.swp"
        foreign.write_text("an editor's file")
        atomic_write(aws / "credentials", "[a]\n")
        assert not stale.exists()
        assert not aged.exists()
        assert live.exists()
        assert fresh.exists()
        assert foreign.exists()
        # Issue 17 item 12 (a mutation survivor): asking whether a writer lives never
        # signals it.
        time.sleep(0.2)
        assert live_writer.poll() is None, "the live writer was signalled"
    finally:
        live_writer.kill()
        live_writer.wait()


def _write_with_tiny_file_size_limit(path: str) -> str:
    # A real write failure: the kernel refuses to grow any file past 64 bytes.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))
    try:
        atomic_write(Path(path), "[a]\n" + "k = v\n" * 1000)
    except CredFileError as exc:
        return str(exc)
    return "no error"


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(aws: Path) -> None:
    path = aws / "credentials"
    path.write_text("[old]\nk = v\n")
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        message = pool.apply(_write_with_tiny_file_size_limit, (str(path),))
    assert message.startswith(f"Cannot write {path}: File too large."), message
    assert "\n" not in message
    assert path.read_text() == "[old]\nk = v\n"
    assert temp_files(aws) == []


def _write_as_nobody(path: str) -> str:
    if os.geteuid() == 0:
        os.setgid(65534)
        os.setuid(65534)
    try:
        atomic_write(Path(path), "[new]\n")
    except CredFileError as exc:
        return str(exc)
    return "no error"


def test_a_read_only_folder_gives_a_clear_error(tmp_path: Path) -> None:
    # Root ignores permissions, so the write runs in a child that drops to "nobody".
    folder = Path(tempfile.mkdtemp(prefix="aacli-ro-"))
    try:
        path = folder / "credentials"
        path.write_text("[old]\n")
        folder.chmod(0o555)
        path.chmod(0o644)
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            message = pool.apply(_write_as_nobody, (str(path),))
        assert message.startswith(f"Cannot write {path}: Permission denied"), message
        assert path.read_text() == "[old]\n"
        assert temp_files(folder) == []
    finally:
        folder.chmod(0o700)
        for child in folder.iterdir():
            child.unlink()
        folder.rmdir()


# --- the lock --------------------------------------------------------------------------


def _hold_lock(lock_file: str, ready: Any, done: Any) -> None:
    with aws_files_lock(Path(lock_file)):
        ready.set()
        done.wait(30)


def test_a_held_lock_times_out_with_a_clear_message(tmp_path: Path) -> None:
    lock_file = tmp_path / "state" / "aws-files.lock"
    context = multiprocessing.get_context("spawn")
    ready, done = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock, args=(str(lock_file), ready, done))
    holder.start()
    try:
        assert ready.wait(30)
        started = time.monotonic()
        with pytest.raises(CredFileError) as caught, aws_files_lock(lock_file, timeout=0.5):
            pass
        assert str(caught.value) == LOCK_BUSY
        assert 0.4 < time.monotonic() - started < 5
    finally:
        done.set()
        holder.join(30)
    with aws_files_lock(lock_file, timeout=5):
        pass  # free again once the holder is gone


def _write_own_section(credentials: str, lock_file: str, profile: str, rounds: int) -> None:
    owned: list[str] = []
    for n in range(rounds):
        key_id = f"ASIA{profile.upper()}{n:04d}"
        with aws_files_lock(Path(lock_file)):
            write_profile_credentials(Path(credentials), profile, creds(key_id), owned)
        owned.append(key_id)


def test_two_processes_writing_under_the_lock_lose_nothing(tmp_path: Path, aws: Path) -> None:
    path = aws / "credentials"
    original = big_file(final_newline=True)
    path.write_text(original, newline="")
    lock_file = tmp_path / "state" / "aws-files.lock"
    context = multiprocessing.get_context("spawn")
    writers = [
        context.Process(target=_write_own_section, args=(str(path), str(lock_file), name, 50))
        for name in ("tray", "cli")
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
        assert writer.exitcode == 0
    text = path.read_bytes().decode("utf-8")
    assert text.startswith(original)
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    assert parser.get("tray", "aws_access_key_id") == "ASIATRAY0049"
    assert parser.get("cli", "aws_access_key_id") == "ASIACLI0049"
    assert len(parser.sections()) == 51 + 2
    assert not list(aws.glob(".*aacli-tmp*"))
    assert not list(aws.glob("*.lock"))


# --- real readers ----------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["dev-DEVELOPER", "default"])
def test_boto3_reads_what_was_written(aws: Path, clean_aws_env: None, profile: str) -> None:
    (aws / "credentials").write_text(big_file(final_newline=False), newline="")
    (aws / "config").write_text("[profile other]\nregion = ap-south-1\n")
    if profile == "default":
        (aws / "credentials").write_text("# static keys elsewhere\r\n[other]\r\nk = v")
    write_profile_credentials(aws / "credentials", profile, creds(), owned_key_ids=())
    set_profile_region(aws / "config", profile, "eu-central-1")
    session = boto3.Session(profile_name=profile)
    frozen = session.get_credentials().get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key, frozen.token) == (
        "ASIAAACLI000000001",
        SECRET,
        TOKEN,
    )
    assert session.region_name == "eu-central-1"


@pytest.mark.awscli
def test_the_aws_cli_reads_what_was_written(aws: Path, clean_aws_env: None) -> None:
    cli = aws_cli_v2()
    (aws / "credentials").write_text(big_file(final_newline=False), newline="")
    write_profile_credentials(aws / "credentials", "dev-DEVELOPER", creds(), owned_key_ids=())
    set_profile_region(aws / "config", "dev-DEVELOPER", "eu-north-1")
    exported = subprocess.run(
        [cli, "configure", "export-credentials", "--profile", "dev-DEVELOPER"],
        capture_output=True,
        text=True,
        env=os.environ,
        timeout=60,
    )
    assert exported.returncode == 0, exported.stderr
    data = json.loads(exported.stdout)
    assert (data["AccessKeyId"], data["SecretAccessKey"]) == ("ASIAAACLI000000001", SECRET)
    region = subprocess.run(
        [cli, "configure", "get", "region", "--profile", "dev-DEVELOPER"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert region.stdout.strip() == "eu-north-1"


def test_what_is_there_instead_of_a_file_is_named(tmp_path: Path) -> None:
    """Issue 17 item 12 (mutation survivors): a FIFO, a device or a folder where the AWS file
    should be is refused at once, saying what it is."""
    import socket

    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "folder").mkdir()
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(tmp_path / "sock"))
    try:
        for path, kind in [
            (tmp_path / "fifo", "is a FIFO, not a regular file"),
            (Path("/dev/null"), "is a device, not a regular file"),
            (tmp_path / "folder", "is a folder, not a regular file"),
            (tmp_path / "sock", "is not a regular file"),
        ]:
            with pytest.raises(CredFileError) as caught:
                read_text(path)
            assert str(caught.value) == (
                f"{path} {kind}; aacli reads only regular files there. Nothing was changed."
            )
    finally:
        listener.close()


def test_reads_stop_at_the_size_cap_and_read_big_files_whole(tmp_path: Path) -> None:
    """Issue 17 item 12 (mutation survivors): up to the cap a file is read whole (several
    1 MiB reads), one byte more is refused with its size, and never half-read."""
    from trayapp.core import files

    big = tmp_path / "credentials"
    content = bytes(range(256)) * (3 * 4096 + 7)  # 3 MiB and a bit, in no repeating MiB
    big.write_bytes(content)
    assert files.read_bytes(big, max_bytes=len(content)) == content
    assert read_text(big.with_name("missing")) == ""
    with pytest.raises(CredFileError) as caught:
        files.read_bytes(big, max_bytes=len(content) - 1)
    assert str(caught.value) == (
        f"{big} is 3.0 MiB, more than the 3 MiB aacli reads; nothing was changed."
    )
    with pytest.raises(CredFileError, match=f"^The AWS file {big} is "):
        files.read_bytes(big, max_bytes=2**20, what="The AWS file")
