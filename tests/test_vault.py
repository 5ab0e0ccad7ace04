"""The encrypted vault: round trip, wrong passphrase vs damage, permissions, atomic changes."""

from __future__ import annotations

import base64
import hashlib
import os
import random
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import need_tool

from trayapp.core import files
from trayapp.core.errors import (
    AacliError,
    SecretStoreError,
    UsageError,
    VaultCorruptError,
    VaultPassphraseError,
)
from trayapp.core.secrets.vault import DEFAULT_SCRYPT, ScryptParams, Vault

# Only for speed: every real vault uses DEFAULT_SCRYPT (test_default_params_vault_opens).
FAST = ScryptParams(log2_n=10, r=8, p=1)
PASS = "correct horse battery staple"
OTHER = "a different passphrase"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
REPO = Path(__file__).resolve().parents[1]

# Offsets of the v1 format as docs/SECURITY.md describes it.
KDF_SALT = slice(13, 29)
SAVE_SALT = slice(29, 45)
NONCE = slice(45, 57)
VERIFIER = slice(57, 89)
HEADER_SIZE = 93


def make_vault(tmp_path: Path, passphrase: str = PASS) -> Vault:
    vault = Vault.create(tmp_path / "cfg" / "vault.bin", passphrase, scrypt=FAST)
    vault.set("acme/secret_access_key", SECRET)
    return vault


def reopen(vault: Vault, passphrase: str = PASS) -> Vault:
    return Vault(vault.path, lambda: passphrase, scrypt=FAST)


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def with_checksum(body: bytes) -> bytes:
    """What a deliberate tamperer would do: fix the unkeyed checksum after an edit."""
    return body + hashlib.sha256(body).digest()


def test_round_trip(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    vault.set("acme/totp_seed", "JBSWY3DPEHPK3PXP")
    again = reopen(vault)
    assert again.get("acme/secret_access_key") == SECRET
    assert again.keys() == ["acme/secret_access_key", "acme/totp_seed"]
    assert again.get("acme/mfa_session") is None
    again.delete("acme/totp_seed")
    again.delete("acme/never-stored")
    assert reopen(vault).keys() == ["acme/secret_access_key"]
    raw = vault.path.read_bytes()
    assert SECRET.encode() not in raw
    assert b"acme" not in raw  # key names are encrypted too
    assert PASS not in repr(vault) and SECRET not in repr(vault)
    assert vault.name == f"vault ({vault.path})"


# A vault written by this version of aacli (default cost, PASS, SECRET), kept as bytes: every
# later version must open it. Mutation testing showed why: a change to how keys are derived
# (HKDF salt or info, scrypt output split, verifier label) still round-trips in a new file.
GOLDEN_VAULT = base64.b64decode(
    "QUFDTElWTFQBAREIAbfgvACRdP1i7/UbXgxNGZWPPBFQd96ZvUVMgZeCtQVtn+sm35AUcmagY0eD"
    "bMMTB5f0qkUc4VS+bk8MeAhvNjeXjSisr+OE6r7NjbMAAABV57PZHsTyg9Kqoem+NaFqAsQooZPt"
    "m+JQour6eUqa0cGA/jt1UEihxY2CUoovF3thcYhx1reAg3y3C2WK97UUTZ+W6tyDJWltOuGJWvkM"
    "HVmwpkksPWzgrtZwWldoHUARBKeyZ3Wz3PSpiwy8JWBDjihE/kFP"
)


def test_a_vault_written_by_an_earlier_aacli_opens(tmp_path: Path) -> None:
    """Issue 17 item 12 (mutation survivors): the format and key derivation are fixed."""
    path = tmp_path / "cfg" / "vault.bin"
    path.parent.mkdir(mode=0o700)
    path.write_bytes(GOLDEN_VAULT)
    path.chmod(0o600)
    vault = Vault(path, lambda: PASS)
    assert vault.get("acme/secret_access_key") == SECRET
    assert vault.keys() == ["acme/secret_access_key"]
    with pytest.raises(VaultPassphraseError):
        Vault(path, lambda: OTHER).get("acme/secret_access_key")
    assert path.read_bytes() == GOLDEN_VAULT  # reading never rewrites


def test_default_params_vault_opens(tmp_path: Path) -> None:
    assert DEFAULT_SCRYPT.n >= 2**15
    path = tmp_path / "vault.bin"
    Vault.create(path, PASS).set("acme/secret_access_key", SECRET)
    assert path.read_bytes()[10] == DEFAULT_SCRYPT.log2_n  # log2(N) in the header
    assert Vault(path, lambda: PASS).get("acme/secret_access_key") == SECRET


def test_passphrase_asked_lazily_and_once(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    asked: list[int] = []

    def passphrase() -> str:
        asked.append(1)
        return PASS

    again = Vault(vault.path, passphrase, scrypt=FAST)
    assert asked == []
    again.get("acme/secret_access_key")
    again.set("acme/totp_seed", "JBSWY3DPEHPK3PXP")
    again.keys()
    assert asked == [1]


def test_missing_vault_reads_empty_without_asking(tmp_path: Path) -> None:
    def never() -> str:
        raise AssertionError("asked for a passphrase")

    vault = Vault(tmp_path / "none.bin", never, scrypt=FAST)
    assert vault.get("acme/secret_access_key") is None
    assert vault.keys() == []
    vault.delete("acme/secret_access_key")
    assert not vault.path.exists()


def test_first_secret_creates_the_vault_under_the_asked_passphrase(tmp_path: Path) -> None:
    def refuse() -> str:
        raise SecretStoreError("no way to ask")

    path = tmp_path / "new.bin"
    with pytest.raises(SecretStoreError, match="no way to ask"):
        Vault(path, refuse, scrypt=FAST).set("acme/secret_access_key", SECRET)
    assert not path.exists()
    with pytest.raises(UsageError):
        Vault(path, lambda: "", scrypt=FAST).set("acme/secret_access_key", SECRET)
    assert not path.exists()
    Vault(path, lambda: "first passphrase", scrypt=FAST).set("acme/secret_access_key", SECRET)
    assert Vault(path, lambda: "first passphrase").get("acme/secret_access_key") == SECRET
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_wrong_passphrase(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    before = vault.path.read_bytes()
    wrong = reopen(vault, OTHER)
    with pytest.raises(VaultPassphraseError) as caught:
        wrong.get("acme/secret_access_key")
    assert str(caught.value) == "Wrong vault passphrase."
    with pytest.raises(VaultPassphraseError):
        wrong.set("acme/secret_access_key", "overwrite")
    with pytest.raises(VaultPassphraseError):
        wrong.delete("acme/secret_access_key")
    assert vault.path.read_bytes() == before


@pytest.mark.parametrize(
    "where",
    [
        8,
        9,
        10,
        KDF_SALT.start,
        SAVE_SALT.start,
        NONCE.start,
        VERIFIER.start,
        90,
        HEADER_SIZE,
        -40,
        -1,
    ],
    ids=lambda w: f"byte{w}",
)
def test_flipped_byte_is_damage(tmp_path: Path, where: int) -> None:
    vault = make_vault(tmp_path)
    damaged = flip(vault.path.read_bytes(), where)
    vault.path.write_bytes(damaged)
    with pytest.raises(VaultCorruptError) as caught:
        reopen(vault).get("acme/secret_access_key")
    message = str(caught.value)
    assert str(vault.path) in message and "damaged or was tampered with" in message
    assert "it was not changed" in message
    with pytest.raises(VaultCorruptError):
        reopen(vault).set("acme/secret_access_key", "overwrite")
    assert vault.path.read_bytes() == damaged


@pytest.mark.parametrize("field", [NONCE, SAVE_SALT, slice(HEADER_SIZE, HEADER_SIZE + 1)])
def test_tampering_with_fixed_checksum_is_caught_by_gcm(tmp_path: Path, field: slice) -> None:
    vault = make_vault(tmp_path)
    body = flip(vault.path.read_bytes()[:-32], field.start)
    vault.path.write_bytes(with_checksum(body))
    with pytest.raises(VaultCorruptError, match="authentication failed"):
        reopen(vault).get("acme/secret_access_key")


def test_tampered_kdf_salt_reads_as_wrong_passphrase(tmp_path: Path) -> None:
    """Documented limit: an edit of what the passphrase check hashes looks like a wrong passphrase."""
    vault = make_vault(tmp_path)
    body = flip(vault.path.read_bytes()[:-32], KDF_SALT.start)
    tampered = with_checksum(body)
    vault.path.write_bytes(tampered)
    with pytest.raises(VaultPassphraseError):
        reopen(vault).get("acme/secret_access_key")
    assert vault.path.read_bytes() == tampered


def _with_byte(data: bytes, index: int, value: int) -> bytes:
    """A deliberate edit of one header byte, checksum fixed."""
    body = data[:-32]
    return with_checksum(body[:index] + bytes([value]) + body[index + 1 :])


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda d: b"NOTVAULT" + d[8:], "(it does not start like an aacli vault)"),
        (lambda d: d[: HEADER_SIZE + 10], "(it is too short: truncated)"),
        (lambda d: d + b"x", "(its length does not match its header: truncated or extended)"),
        (lambda d: flip(d, len(d) - 1), "(checksum mismatch)"),
        (lambda d: _with_byte(d, 9, 2), "(its key derivation settings are invalid)"),
        (
            lambda d: _with_byte(d, 10, 30),
            "(its key derivation settings (scrypt N=2^30, r=8, p=1) are invalid or cost more "
            "than aacli allows)",
        ),
    ],
    ids=["magic", "short", "extended", "checksum", "kdf", "cost"],
)
def test_each_damage_is_named_in_the_message(tmp_path: Path, damage, reason: str) -> None:
    """Issue 17 item 12 (mutation survivors): the message says what is wrong with the file."""
    vault = make_vault(tmp_path)
    damaged = damage(vault.path.read_bytes())
    vault.path.write_bytes(damaged)
    with pytest.raises(VaultCorruptError) as caught:
        reopen(vault).get("acme/secret_access_key")
    assert str(caught.value) == (
        f"The vault file {vault.path} is damaged or was tampered with {reason}; it was not changed."
    )
    assert vault.path.read_bytes() == damaged


def test_a_newer_format_asks_for_a_newer_aacli(tmp_path: Path) -> None:
    """Issue 17 item 12 (mutation survivors): a vault of a later format is not "damaged"."""
    vault = make_vault(tmp_path)
    newer = _with_byte(vault.path.read_bytes(), 8, 2)
    vault.path.write_bytes(newer)
    with pytest.raises(SecretStoreError) as caught:
        reopen(vault).get("acme/secret_access_key")
    assert not isinstance(caught.value, VaultCorruptError)
    assert str(caught.value) == (
        f"The vault file {vault.path} has format version 2, which this version of aacli "
        "cannot read; upgrade aacli. The file was not changed."
    )
    assert vault.path.read_bytes() == newer


@pytest.mark.parametrize("keep", [0, 5, HEADER_SIZE - 1, HEADER_SIZE + 10, -33, -1])
def test_truncated_file_is_damage(tmp_path: Path, keep: int) -> None:
    vault = make_vault(tmp_path)
    truncated = vault.path.read_bytes()[:keep]
    vault.path.write_bytes(truncated)
    with pytest.raises(VaultCorruptError, match="damaged"):
        reopen(vault).get("acme/secret_access_key")
    assert vault.path.read_bytes() == truncated


def test_fresh_salt_and_nonce_on_every_save(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    first = vault.path.read_bytes()
    vault.set("acme/secret_access_key", SECRET)  # same contents, saved again
    second = vault.path.read_bytes()
    assert first[SAVE_SALT] != second[SAVE_SALT]
    assert first[NONCE] != second[NONCE]
    assert first[HEADER_SIZE:-32] != second[HEADER_SIZE:-32]
    # The scrypt salt changes with the passphrase only, so scrypt runs once per process.
    assert first[KDF_SALT] == second[KDF_SALT]
    vault.change_passphrase(PASS, OTHER)
    assert vault.path.read_bytes()[KDF_SALT] != second[KDF_SALT]


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_file_and_folder_modes(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    assert stat.S_IMODE(vault.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(vault.path.parent.stat().st_mode) == 0o700
    # Issue 17 item 8: the temp files' real mark (a ".tmp" suffix never matched any).
    assert [p.name for p in vault.path.parent.iterdir() if files.TEMP_MARK in p.name] == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_group_writable_file_refused(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    vault.path.chmod(0o620)
    before = vault.path.read_bytes()
    with pytest.raises(SecretStoreError, match=f"chmod 600 {vault.path}"):
        reopen(vault).get("acme/secret_access_key")
    with pytest.raises(SecretStoreError, match="chmod 600"):
        reopen(vault).set("acme/secret_access_key", "x")
    assert vault.path.read_bytes() == before
    assert stat.S_IMODE(vault.path.stat().st_mode) == 0o620


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_world_writable_folder_refused(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    vault.path.parent.chmod(0o777)
    with pytest.raises(SecretStoreError, match=f"chmod 700 {vault.path.parent}"):
        reopen(vault).get("acme/secret_access_key")


OTHERS_WRITE_BITS = [0o020, 0o002, 0o022]


def _folder_state(folder: Path) -> dict[str, tuple[bytes | None, int]]:
    """Every entry of the folder with its bytes (files) and mode: what "nothing changed" means."""
    return {
        p.name: (p.read_bytes() if p.is_file() else None, stat.S_IMODE(p.stat().st_mode))
        for p in sorted(folder.iterdir())
    }


def _assert_refused_and_unchanged(vault: Vault, fix: str) -> None:
    folder = vault.path.parent
    before = (_folder_state(folder), stat.S_IMODE(folder.stat().st_mode))
    attempts = [
        lambda: reopen(vault).get("acme/secret_access_key"),
        lambda: reopen(vault).keys(),
        lambda: reopen(vault).set("acme/secret_access_key", "replaced"),
        lambda: reopen(vault).delete("acme/secret_access_key"),
        lambda: reopen(vault).change_passphrase(PASS, OTHER),
    ]
    for attempt in attempts:
        with pytest.raises(AacliError) as caught:
            attempt()
        message = str(caught.value)
        assert fix in message, message
        assert "\n" not in message and SECRET not in message and PASS not in message
        assert (_folder_state(folder), stat.S_IMODE(folder.stat().st_mode)) == before


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
@pytest.mark.parametrize("bits", OTHERS_WRITE_BITS, ids=oct)
def test_a_vault_file_writable_by_others_is_refused(tmp_path: Path, bits: int) -> None:
    """Issue 17 item 5: group- or world-writable vault file (each bit): refused, unchanged."""
    vault = make_vault(tmp_path)
    vault.path.chmod(0o600 | bits)
    _assert_refused_and_unchanged(vault, f"chmod 600 {vault.path}")


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
@pytest.mark.parametrize("bits", [*OTHERS_WRITE_BITS, 0o070, 0o007, 0o077], ids=oct)
def test_a_vault_folder_writable_by_others_is_refused(tmp_path: Path, bits: int) -> None:
    """Issue 17 item 5: a folder others may write to (each bit) lets them swap the vault:
    refused, nothing changed."""
    vault = make_vault(tmp_path)
    vault.path.parent.chmod(0o700 | bits)
    _assert_refused_and_unchanged(vault, f"chmod 700 {vault.path.parent}")


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
@pytest.mark.parametrize("bits", OTHERS_WRITE_BITS, ids=oct)
def test_no_vault_is_created_in_a_folder_writable_by_others(tmp_path: Path, bits: int) -> None:
    """Issue 17 item 5: the first secret never creates a vault in an unsafe folder."""
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o700 | bits)
    for attempt in (
        lambda: Vault.create(folder / "vault.bin", PASS, scrypt=FAST),
        lambda: Vault(folder / "vault.bin", lambda: PASS, scrypt=FAST).set("a/b", SECRET),
    ):
        with pytest.raises(AacliError, match=f"chmod 700 {folder}"):
            attempt()
        assert list(folder.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX owners")
@pytest.mark.parametrize("which", ["file", "folder"])
def test_a_vault_or_folder_owned_by_another_user_is_refused(tmp_path: Path, which: str) -> None:
    """Issue 17 item 5: the trust issue's owner check: another user's vault file or folder is
    refused, nothing changed (giving a file away needs root, as CI runs)."""
    if os.geteuid() != 0:
        need_tool("giving a file to another user needs root")
    vault = make_vault(tmp_path)
    target = vault.path if which == "file" else vault.path.parent
    os.chown(target, 54321, 54321)
    _assert_refused_and_unchanged(vault, f"chown {os.getuid()} {target}")


def test_empty_passphrase_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="must not be empty"):
        Vault.create(tmp_path / "vault.bin", "", scrypt=FAST)
    assert not (tmp_path / "vault.bin").exists()
    vault = make_vault(tmp_path)
    before = vault.path.read_bytes()
    with pytest.raises(UsageError, match="must not be empty"):
        vault.change_passphrase(PASS, "")
    assert vault.path.read_bytes() == before


def test_create_never_replaces(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    before = vault.path.read_bytes()
    with pytest.raises(SecretStoreError, match="already exists"):
        Vault.create(vault.path, OTHER, scrypt=FAST)
    assert vault.path.read_bytes() == before


def test_change_passphrase(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    before = vault.path.read_bytes()
    with pytest.raises(VaultPassphraseError):
        vault.change_passphrase(OTHER, "third passphrase")
    assert vault.path.read_bytes() == before
    vault.change_passphrase(PASS, OTHER)
    assert vault.get("acme/secret_access_key") == SECRET  # this object keeps working
    assert reopen(vault, OTHER).get("acme/secret_access_key") == SECRET
    with pytest.raises(VaultPassphraseError):
        reopen(vault, PASS).get("acme/secret_access_key")


def test_passphrase_changed_by_another_process_is_asked_again(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    answers = [PASS, OTHER]
    reader = Vault(vault.path, lambda: answers.pop(0), scrypt=FAST)
    assert reader.get("acme/secret_access_key") == SECRET
    vault.change_passphrase(PASS, OTHER)
    assert reader.get("acme/secret_access_key") == SECRET
    assert answers == []


CHILD = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from trayapp.core.secrets.vault import ScryptParams, Vault
    fast = ScryptParams(log2_n=10, r=8, p=1)
    old, new = os.environ["TEST_OLD"], os.environ["TEST_NEW"]
    vault = Vault(Path(sys.argv[1]), lambda: old, scrypt=fast)
    vault.get("acme/secret_access_key")
    print("ready", flush=True)
    while True:
        vault.change_passphrase(old, new)
        old, new = new, old
    """
)


@pytest.mark.slow
def test_kill_during_change_passphrase_leaves_a_usable_vault(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    rng = random.Random(20240601)
    current = PASS
    killed: set[int] = set()
    for _trial in range(20):
        other = OTHER if current == PASS else PASS
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(vault.path)],
            cwd=REPO,
            env={**os.environ, "TEST_OLD": current, "TEST_NEW": other, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.0, 0.25))
        finally:
            child.send_signal(signal.SIGKILL)
            killed.add(child.pid)
            child.wait(timeout=10)
            if child.stdout is not None:
                child.stdout.close()
        assert child.returncode == -signal.SIGKILL
        opened = []
        for candidate in (current, other):
            try:
                value = reopen(vault, candidate).get("acme/secret_access_key")
            except VaultPassphraseError:
                continue
            opened.append(candidate)
            assert value == SECRET
        assert len(opened) == 1, "the vault must open with exactly one of the two passphrases"
        current = opened[0]
    # Issue 17 item 8: what the kills left is looked at before the write that cleans up. A
    # killed writer's temp file carries its (dead) pid; the next write removes it once stale.
    folder = vault.path.parent
    leftovers = [p for p in folder.iterdir() if files.TEMP_MARK in p.name]
    planted = folder / f".{vault.path.name}{files.TEMP_MARK}{min(killed)}-planted"
    planted.write_bytes(b"half a vault")  # one for sure, whatever the kills hit
    leftovers.append(planted)
    for temp in leftovers:
        assert int(temp.name.split(files.TEMP_MARK)[1].partition("-")[0]) in killed
        os.utime(temp, (time.time() - 3600, time.time() - 3600))
    reopen(vault, current).set("acme/totp_seed", "JBSWY3DPEHPK3PXP")  # writable after kills
    assert [p.name for p in folder.iterdir() if files.TEMP_MARK in p.name] == []
    assert reopen(vault, current).get("acme/totp_seed") == "JBSWY3DPEHPK3PXP"


# -- Issue 17 item 12 (mutation survivors): the cost bounds, re-keys and the NFD fallback -------

LOG2_N, R, P = 10, 11, 12  # header offsets of the scrypt parameters


def _params_of(path: Path) -> tuple[int, int, int]:
    data = path.read_bytes()
    return data[LOG2_N], data[R], data[P]


def _with_params(data: bytes, log2_n: int, r: int, p: int) -> bytes:
    body = bytearray(data[:-32])
    body[LOG2_N], body[R], body[P] = log2_n, r, p
    return with_checksum(bytes(body))


def test_scrypt_cost_bounds_and_order() -> None:
    """Issue 17 item 12: plausible() accepts up to 2x the default's memory and 8x its work and
    scrypt's own limits, each bound exactly; weaker_than() is less memory or less work."""
    assert (DEFAULT_SCRYPT.n, DEFAULT_SCRYPT.memory, DEFAULT_SCRYPT.work) == (2**17, 2**27, 2**20)
    accepted = [(1, 1, 1), (1, 32, 1), (10, 8, 16), (15, 1, 1), (18, 8, 1), (16, 32, 1),
                (17, 8, 8), (17, 8, 1), (18, 2, 4), (20, 2, 4)]  # fmt: skip
    refused = [(0, 8, 1), (10, 0, 1), (10, 8, 0), (1, 33, 1), (1, 1, 17), (16, 1, 1),
               (19, 8, 1), (17, 8, 9), (22, 1, 1), (17, 32, 1), (25, 1, 1), (20, 3, 1)]  # fmt: skip
    for log2_n, r, p in accepted:
        assert ScryptParams(log2_n=log2_n, r=r, p=p).plausible(), (log2_n, r, p)
    for log2_n, r, p in refused:
        assert not ScryptParams(log2_n=log2_n, r=r, p=p).plausible(), (log2_n, r, p)
    base = ScryptParams(log2_n=17, r=8, p=2)
    assert not base.weaker_than(base)
    assert ScryptParams(log2_n=16, r=8, p=2).weaker_than(base)  # less of both
    assert ScryptParams(log2_n=17, r=8, p=1).weaker_than(base)  # less work only
    assert ScryptParams(log2_n=17, r=4, p=8).weaker_than(base)  # less memory only
    assert not ScryptParams(log2_n=17, r=16, p=2).weaker_than(base)
    assert not ScryptParams(log2_n=17, r=8, p=3).weaker_than(base)


def test_absurd_headers_refused_plausible_ones_tried(tmp_path: Path) -> None:
    """Issue 17 item 12: a header beyond any bound is refused as damage before scrypt runs,
    file unchanged; one just inside the bounds is tried (and here is a wrong passphrase)."""
    vault = make_vault(tmp_path)
    good = vault.path.read_bytes()
    for log2_n, r, p in ((0, 8, 1), (10, 0, 1), (10, 8, 0), (1, 33, 1), (1, 1, 17), (16, 1, 1)):
        vault.path.write_bytes(_with_params(good, log2_n, r, p))
        tampered = vault.path.read_bytes()
        with pytest.raises(VaultCorruptError) as caught:
            reopen(vault).set("acme/totp_seed", "x")
        assert str(caught.value) == (
            f"The vault file {vault.path} is damaged or was tampered with (its key derivation "
            f"settings (scrypt N=2^{log2_n}, r={r}, p={p}) are invalid or cost more than aacli "
            "allows); it was not changed."
        )
        assert vault.path.read_bytes() == tampered
    for log2_n, r, p in ((1, 32, 1), (10, 8, 16), (15, 1, 1), (1, 1, 1)):
        vault.path.write_bytes(_with_params(good, log2_n, r, p))
        with pytest.raises(VaultPassphraseError, match=r"^Wrong vault passphrase\.$"):
            reopen(vault).get("acme/secret_access_key")


def _kdf_salt(path: Path) -> bytes:
    return path.read_bytes()[KDF_SALT]


@pytest.mark.parametrize(
    ("written", "floor"),
    [
        (ScryptParams(log2_n=1, r=1, p=1), FAST),  # weaker in both
        (FAST, ScryptParams(log2_n=10, r=8, p=2)),  # less work only
        (ScryptParams(log2_n=10, r=4, p=4), FAST),  # less memory, more work
    ],
    ids=["both", "work", "memory"],
)
def test_weak_vault_is_rekeyed_at_the_next_save(
    tmp_path: Path, written: ScryptParams, floor: ScryptParams
) -> None:
    """Issue 17 item 12: a vault below the writer's cost opens unchanged and is re-keyed
    (fresh salt, the writer's cost) at its next save, once; the object keeps working."""
    path = tmp_path / "cfg" / "vault.bin"
    Vault.create(path, PASS, scrypt=written).set("acme/secret_access_key", SECRET)
    before = path.read_bytes()
    vault = Vault(path, lambda: PASS, scrypt=floor)
    assert vault.get("acme/secret_access_key") == SECRET
    assert path.read_bytes() == before  # reading changes nothing
    vault.set("acme/totp_seed", "JBSWY3DPEHPK3PXP")
    assert _params_of(path) == (floor.log2_n, floor.r, floor.p)
    rekeyed_salt = _kdf_salt(path)
    assert rekeyed_salt != before[KDF_SALT]
    assert vault.get("acme/totp_seed") == "JBSWY3DPEHPK3PXP"
    vault.delete("acme/totp_seed")
    assert _kdf_salt(path) == rekeyed_salt  # re-keyed once, not at every save
    assert Vault(path, lambda: PASS, scrypt=floor).keys() == ["acme/secret_access_key"]


def test_weak_vault_is_rekeyed_by_a_delete_too(tmp_path: Path) -> None:
    """Issue 17 item 12: a delete is a save: it re-keys a weak vault as a set does."""
    path = tmp_path / "cfg" / "vault.bin"
    weak = Vault.create(path, PASS, scrypt=ScryptParams(log2_n=1, r=1, p=1))
    weak.set("acme/secret_access_key", SECRET)
    weak.set("acme/totp_seed", "JBSWY3DPEHPK3PXP")
    vault = Vault(path, lambda: PASS, scrypt=FAST)
    vault.delete("acme/totp_seed")
    assert _params_of(path) == (FAST.log2_n, FAST.r, FAST.p)
    assert reopen(vault).keys() == ["acme/secret_access_key"]


@pytest.mark.parametrize(
    "written", [FAST, ScryptParams(log2_n=11, r=8, p=1), ScryptParams(log2_n=10, r=16, p=1)]
)
def test_vault_at_or_above_the_cost_keeps_its_keys(tmp_path: Path, written: ScryptParams) -> None:
    """Issue 17 item 12: a vault at or above the writer's cost keeps its cost and kdf salt."""
    path = tmp_path / "cfg" / "vault.bin"
    Vault.create(path, PASS, scrypt=written).set("acme/secret_access_key", SECRET)
    salt = _kdf_salt(path)
    vault = Vault(path, lambda: PASS, scrypt=FAST)
    vault.set("acme/totp_seed", "JBSWY3DPEHPK3PXP")
    assert _params_of(path) == (written.log2_n, written.r, written.p)
    assert _kdf_salt(path) == salt


def test_nfd_keyed_vault_opens_and_is_rekeyed_in_nfc(tmp_path: Path) -> None:
    """Issue 17 item 12: a vault keyed with the NFD text as typed (older aacli) opens with
    the NFC and the NFD form, and its next save keys it in NFC (cost and salt renewed)."""
    import unicodedata

    from trayapp.core.secrets import vault as vault_module

    nfd = unicodedata.normalize("NFD", "Jürgen's ñandú passphrase")
    nfc = unicodedata.normalize("NFC", nfd)
    path = tmp_path / "cfg" / "vault.bin"
    path.parent.mkdir(mode=0o700)
    old_keys = vault_module._derive(nfd, os.urandom(16), FAST)
    Vault(path, lambda: nfd, scrypt=FAST)._write({"acme/secret_access_key": SECRET}, old_keys)
    assert Vault(path, lambda: nfd, scrypt=FAST).get("acme/secret_access_key") == SECRET
    vault = Vault(path, lambda: nfc, scrypt=FAST)
    assert vault.get("acme/secret_access_key") == SECRET
    before = path.read_bytes()
    vault.set("acme/totp_seed", "JBSWY3DPEHPK3PXP")
    data = path.read_bytes()
    assert data[KDF_SALT] != before[KDF_SALT]
    assert vault_module._derive(nfc, data[KDF_SALT], FAST).verifier() == data[VERIFIER]
    assert vault_module._derive(nfd, data[KDF_SALT], FAST).verifier() != data[VERIFIER]
    assert Vault(path, lambda: nfd, scrypt=FAST).keys() == [
        "acme/secret_access_key",
        "acme/totp_seed",
    ]
    # An NFC-keyed vault opened with its NFC passphrase is not re-keyed.
    salt = data[KDF_SALT]
    Vault(path, lambda: nfc, scrypt=FAST).set("acme/mfa_serial", "arn:aws:iam::1:mfa/x")
    assert path.read_bytes()[KDF_SALT] == salt


def _seal(vault: Vault, plaintext: bytes, passphrase: str = PASS) -> None:
    """A vault file whose (authentic) plaintext is ``plaintext``: what only a bug could write."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from trayapp.core.secrets import vault as vault_module

    keys = vault_module._derive(passphrase, os.urandom(16), FAST)
    save_salt, nonce = os.urandom(16), os.urandom(12)
    header = vault_module._HEADER.pack(
        vault_module.MAGIC, 1, 1, FAST.log2_n, FAST.r, FAST.p, keys.kdf_salt, save_salt,
        nonce, keys.verifier(), len(plaintext) + 16,
    )  # fmt: skip
    body = header + AESGCM(keys.file_key(save_salt)).encrypt(nonce, plaintext, header)
    vault.path.write_bytes(with_checksum(body))


def _damage_message(vault: Vault, reason: str) -> str:
    return f"The vault file {vault.path} is damaged or was tampered with ({reason}); it was not changed."


@pytest.mark.parametrize("plaintext", [b"not json", b'["a"]', b'{"a": 1}', b'{"a": "\xff"}'])
def test_authentic_but_invalid_contents_are_damage(tmp_path: Path, plaintext: bytes) -> None:
    """Issue 17 item 12: contents that decrypt but are not a JSON object of text are damage."""
    vault = make_vault(tmp_path)
    _seal(vault, plaintext)
    with pytest.raises(VaultCorruptError) as caught:
        reopen(vault).get("a")
    assert str(caught.value) == _damage_message(vault, "its contents are not valid")


def test_length_edges_are_named(tmp_path: Path) -> None:
    """Issue 17 item 12: the shortest possible file, a shorter one, and a header saying the
    ciphertext is only a tag, are each named for what they are."""
    vault = make_vault(tmp_path)
    good = vault.path.read_bytes()
    for size, reason in (
        (HEADER_SIZE + 16 + 32, "its length does not match its header: truncated or extended"),
        (HEADER_SIZE + 27, "it is too short: truncated"),
    ):
        vault.path.write_bytes(good[:size])
        with pytest.raises(VaultCorruptError) as caught:
            reopen(vault).get("a")
        assert str(caught.value) == _damage_message(vault, reason)
    header = bytearray(good[:HEADER_SIZE])
    header[89:93] = (16).to_bytes(4, "big")
    vault.path.write_bytes(with_checksum(bytes(header) + good[HEADER_SIZE : HEADER_SIZE + 16]))
    with pytest.raises(VaultCorruptError) as caught:
        reopen(vault).get("a")
    assert str(caught.value) == _damage_message(vault, "authentication failed")


def test_verifier_changed_under_open_vault_is_wrong_passphrase(tmp_path: Path) -> None:
    """Issue 17 item 12: an open vault whose file's verifier changed (same salt and cost)
    reports a wrong passphrase, in those words."""
    vault = reopen(make_vault(tmp_path))
    assert vault.get("acme/secret_access_key") == SECRET
    data = vault.path.read_bytes()
    vault.path.write_bytes(with_checksum(flip(data[:-32], VERIFIER.start)))
    with pytest.raises(VaultPassphraseError) as caught:
        vault.get("acme/secret_access_key")
    assert str(caught.value) == "Wrong vault passphrase."


def test_passphrase_asked_once_when_the_first_secret_creates_the_vault(tmp_path: Path) -> None:
    """Issue 17 item 12: the first set asks once, and the new vault's keys are kept."""
    asked: list[int] = []

    def ask() -> str:
        asked.append(1)
        return PASS

    path = tmp_path / "cfg" / "vault.bin"
    vault = Vault(path, ask, scrypt=FAST)
    vault.set("acme/secret_access_key", SECRET)
    assert vault.get("acme/secret_access_key") == SECRET
    vault.set("acme/totp_seed", "JBSWY3DPEHPK3PXP")
    assert len(asked) == 1
    # Never asked while the vault's lock is held: no other aacli waits on a person typing.
    lock_free: list[bool] = []

    def ask_and_check_lock() -> str:
        with files.file_lock(path.with_name("vault.bin.lock"), timeout=0.05, busy="held"):
            lock_free.append(True)
        return PASS

    Vault(path, ask_and_check_lock, scrypt=FAST).set("acme/mfa_serial", "x")
    Vault(tmp_path / "new" / "vault.bin", ask_and_check_lock, scrypt=FAST).set("a/b", "c")
    assert lock_free == [True, True]
    assert repr(vault) == f"Vault({str(vault.path)!r})"
    with pytest.raises(SecretStoreError) as caught:
        vault.set("acme/totp_seed", 5)  # type: ignore[arg-type]
    assert str(caught.value) == "The value for acme/totp_seed must be text."


def test_create_writes_at_its_cost_and_keeps_its_passphrase(tmp_path: Path) -> None:
    """Issue 17 item 12: create writes at the cost given; when another process re-keys the
    vault (same passphrase, new salt) the created object asks its passphrase again."""
    path = tmp_path / "cfg" / "vault.bin"
    created = Vault.create(path, PASS, scrypt=ScryptParams(log2_n=9, r=8, p=1))
    assert _params_of(path) == (9, 8, 1)
    Vault(path, lambda: PASS, scrypt=FAST).change_passphrase(PASS, PASS)
    assert created.keys() == []
    created.set("acme/secret_access_key", SECRET)  # N=2^10 is above its cost: not re-keyed
    assert _params_of(path) == (FAST.log2_n, FAST.r, FAST.p)


def test_change_passphrase_keeps_the_new_one_and_needs_a_vault(tmp_path: Path) -> None:
    """Issue 17 item 12: after a change the object uses the new passphrase when it must ask
    again; changing a vault that does not exist says so."""
    vault = make_vault(tmp_path)
    vault.change_passphrase(PASS, OTHER)
    Vault(vault.path, lambda: OTHER, scrypt=FAST).change_passphrase(OTHER, OTHER)
    assert vault.get("acme/secret_access_key") == SECRET
    missing = Vault(tmp_path / "none" / "vault.bin", lambda: PASS, scrypt=FAST)
    with pytest.raises(SecretStoreError) as caught:
        missing.change_passphrase(PASS, OTHER)
    assert str(caught.value) == (
        f"There is no vault at {missing.path} yet; it is created when the first secret is "
        "stored (aacli config add-profile)."
    )


def test_refusals_name_the_vault_file_and_folder(tmp_path: Path) -> None:
    """Issue 17 item 12: an unsafe vault file or folder, or a vault path that cannot be
    resolved, is refused in a sentence naming it."""
    vault = make_vault(tmp_path)
    os.chmod(vault.path, 0o666)
    with pytest.raises(SecretStoreError) as caught:
        reopen(vault).get("a")
    assert str(caught.value).startswith(f"The vault file {vault.path} is writable by other users")
    os.chmod(vault.path, 0o600)
    os.chmod(vault.path.parent, 0o777)
    with pytest.raises(SecretStoreError) as caught:
        reopen(vault).get("a")
    assert str(caught.value).startswith(
        f"The folder holding the vault {vault.path.parent} is writable by other users"
    )
    os.chmod(vault.path.parent, 0o700)
    loop = vault.path.parent / "loop.bin"
    loop.symlink_to(loop)
    with pytest.raises(SecretStoreError) as caught:
        Vault(loop, lambda: PASS, scrypt=FAST).get("a")
    assert str(caught.value) == f"Cannot read the vault file {loop}: RuntimeError."


def test_a_failed_save_is_one_line_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17 item 12: when the file cannot be replaced the save fails with files' sentence."""
    vault = make_vault(tmp_path)
    before = vault.path.read_bytes()

    def fail(src, dst) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(SecretStoreError) as caught:
        vault.set("acme/totp_seed", "x")
    assert str(caught.value) == (
        f"Cannot write {vault.path}: No space left on device. The file was left unchanged."
    )
    assert vault.path.read_bytes() == before


def test_remove_deletes_the_vault_its_target_lock_and_temps(tmp_path: Path) -> None:
    """Issue 17 item 12: remove (aacli reset) deletes the vault, a symlinked vault's target,
    the lock and the temp files, leaves other files, and the object forgets its keys."""
    real_folder = tmp_path / "synced"
    real_folder.mkdir(mode=0o700)
    real = real_folder / "real.bin"
    config = tmp_path / "cfg"
    config.mkdir(mode=0o700)
    link = config / "vault.bin"
    link.symlink_to(real)
    vault = Vault(link, lambda: PASS, scrypt=FAST)
    vault.set("acme/secret_access_key", SECRET)
    for folder, name in ((config, "vault.bin"), (real_folder, "real.bin")):
        (folder / f".{name}{files.TEMP_MARK}1-x").write_bytes(b"half")
        (folder / f"{name}.keep").write_bytes(b"other")
    assert (config / "vault.bin.lock").exists()
    vault.remove()
    assert sorted(p.name for p in config.iterdir()) == ["vault.bin.keep"]
    assert sorted(p.name for p in real_folder.iterdir()) == ["real.bin.keep"]
    assert vault.keys() == []  # nothing left, nothing cached
    (config / ".vault.bin.dir").mkdir()  # a folder where a temp file would be: skipped
    vault.remove()  # twice is fine
    Vault.create(link, OTHER, scrypt=FAST)  # a new vault: the old object asks again
    assert Vault(link, lambda: OTHER, scrypt=FAST).keys() == []
    vault._passphrase = lambda: OTHER
    assert vault.keys() == []


def test_vault_backend_status_and_open(tmp_path: Path) -> None:
    """Issue 17 item 12: the vault backend is always usable, priority 1, and says whether
    the vault exists yet; open gives a vault at its path with its passphrase."""
    from trayapp.core.secrets.base import BackendStatus
    from trayapp.core.secrets.vault import VaultSecretBackend

    path = tmp_path / "cfg" / "vault.bin"
    backend = VaultSecretBackend(path, lambda: PASS)
    assert backend.backend == "vault"
    assert backend.status() == BackendStatus(
        "vault", viable=True, priority=1, detail=f"vault ({path}), not created yet"
    )
    opened = backend.open()
    assert isinstance(opened, Vault)
    assert opened.path == path
    assert opened.name == f"vault ({path})"
    assert not opened.exists
    assert Vault.create(path, PASS, scrypt=FAST).exists
    assert backend.status().detail == f"vault ({path})"
    assert backend.open().keys() == []  # opened with the backend's passphrase


def test_vault_removed_while_the_passphrase_was_typed_is_created_anew(tmp_path: Path) -> None:
    """Issue 17 item 12: if the vault disappears (aacli reset elsewhere) while the passphrase
    is typed, the set asks for a new vault's passphrase and creates it with that one secret."""
    vault = make_vault(tmp_path)
    asked: list[int] = []

    def ask_then_vanish() -> str:
        asked.append(1)
        if len(asked) == 1:
            vault.path.unlink()
            return PASS  # the old vault's, typed while it was removed
        return OTHER

    Vault(vault.path, ask_then_vanish, scrypt=FAST).set("acme/totp_seed", "JBSWY3DPEHPK3PXP")
    assert len(asked) == 2
    assert reopen(vault, OTHER).keys() == ["acme/totp_seed"]
