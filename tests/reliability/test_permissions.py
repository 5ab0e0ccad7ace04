"""Files 0600, folders 0700; a config others can write is refused with the fix in the message.

The vault's own checks (group-writable vault or folder refused; a kill during a passphrase
change leaves a usable vault; fresh salt and nonce per save) are in tests/test_vault.py.
"""

from __future__ import annotations

import stat

from conftest import assert_one_line_error

from reliability.conftest import record


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_everything_aacli_writes_is_private(configured) -> None:
    assert configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code()).returncode == 0
    files = [configured.credentials, configured.aws_config, configured.home / "vault.bin",
             configured.home / "state" / "sessions.json", configured.home / "state" / "code-windows.json"]  # fmt: skip
    folders = [configured.credentials.parent, configured.home, configured.home / "state"]
    assert {str(p): _mode(p) for p in files} == {str(p): 0o600 for p in files}
    assert {str(p): _mode(p) for p in folders} == {str(p): 0o700 for p in folders}
    record("permissions", "files_0600", len(files))
    record("permissions", "folders_0700", len(folders))


def test_a_config_others_can_write_is_refused_with_the_fix(configured) -> None:
    config = configured.home / "config.toml"
    before = config.read_bytes()
    for mode in (0o620, 0o602):
        config.chmod(mode)
        result = configured.aacli("auth", "dev/DEVELOPER", "--code", "000000")
        assert_one_line_error(result, "writable by other users", f"chmod 600 {config}")
        assert config.read_bytes() == before
    config.chmod(0o600)
    configured.home.chmod(0o777)
    try:
        result = configured.aacli("auth", "dev/DEVELOPER", "--code", "000000")
        assert_one_line_error(result, f"chmod 700 {configured.home}")
    finally:
        configured.home.chmod(0o700)
    fixed = configured.aacli("auth", "dev/DEVELOPER", "--code", configured.code())
    assert fixed.returncode == 0, fixed.stderr
    record("permissions", "group_or_world_writable_config_refused", True)
