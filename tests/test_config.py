"""Config: validation names file, key and fault; saves are atomic 0600; bad files are never rewritten."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from trayapp.core import config as cfg
from trayapp.core.errors import ConfigError, UsageError
from trayapp.core.model import Account, Config, Profile, Role

GOOD = """version = 1
[profiles.acme]
access_key_id = "AKIAABCDEFGHIJKLMNOP"
mfa_serial = "arn:aws:iam::999999999999:mfa/alice"

[profiles.acme.accounts.dev]
id = "111111111111"
region = "eu-west-1"

[profiles.acme.accounts.dev.roles.DEVELOPER]
duration = "2h"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_good_config_loads(tmp_path):
    config = cfg.load_config(write(tmp_path, GOOD))
    role = config.profiles[0].accounts[0].roles[0]
    assert role.duration_seconds == 7200
    assert config.profiles[0].sts_region == "us-east-1"


def test_missing_file_is_an_empty_config(tmp_path):
    assert cfg.load_config(tmp_path / "nope.toml") == Config()


@pytest.mark.parametrize(
    ("old", "new", "key", "reason"),
    [
        ('id = "111111111111"', 'id = "11111111111"', "profiles.acme.accounts.dev.id", "12 digits"),
        ('id = "111111111111"', "id = 111111111111", "profiles.acme.accounts.dev.id", "string"),
        (
            'region = "eu-west-1"',
            'region = "Europe"',
            "profiles.acme.accounts.dev.region",
            "region",
        ),
        ('duration = "2h"', 'duration = "13h"', "roles.DEVELOPER.duration", "12 h"),
        ('duration = "2h"', "duration = 60", "roles.DEVELOPER.duration", "15 min"),
        ('duration = "2h"', 'duration = "soon"', "roles.DEVELOPER.duration", "2h"),
        ("AKIAABCDEFGHIJKLMNOP", "not-a-key", "profiles.acme.access_key_id", "AKIA"),
        ("arn:aws:iam::999999999999:mfa/alice", "alice", "profiles.acme.mfa_serial", "ARN"),
        ("roles.DEVELOPER]", 'roles."bad role"]', "roles.bad role", "role name"),
        ("[profiles.acme]\n", "[profiles.acme]\ncolour = 1\n", "profiles.acme.colour", "unknown"),
        ("version = 1", "version = 7", "version", "version 1"),
    ],
)
def test_each_fault_names_file_key_and_reason(tmp_path, old, new, key, reason):
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ConfigError) as caught:
        cfg.load_config(path)
    message = str(caught.value)
    assert str(path) in message and key in message and reason.lower() in message.lower()
    assert "\n" not in message


def test_two_roles_writing_one_aws_profile_are_refused(tmp_path):
    text = GOOD + '\n[profiles.acme.accounts.dev.roles.ReadOnly]\naws_profile = "dev-DEVELOPER"\n'
    with pytest.raises(ConfigError, match="both write AWS profile 'dev-DEVELOPER'"):
        cfg.load_config(write(tmp_path, text))


def test_unparsable_file_is_reported_and_left_alone(tmp_path):
    path = write(tmp_path, "[profiles.acme\nbroken")
    with pytest.raises(ConfigError, match=r"line 1.*left unchanged"):
        cfg.load_config(path)
    assert path.read_text() == "[profiles.acme\nbroken"


def test_save_round_trips_atomically_with_mode_0600(tmp_path):
    config = cfg.load_config(write(tmp_path, GOOD))
    config = cfg.add_account(config, "acme", Account("prod", "333333333333", "us-east-2"))
    config = cfg.add_role(config, "acme", "prod", Role("ReadOnly", 900, "prod-ro"))
    target = tmp_path / "sub" / "config.toml"
    cfg.save_config(config, target)
    assert cfg.load_config(target) == config
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["config.toml"]


def test_editing_refuses_duplicates_and_unknowns():
    config = Config(profiles=(Profile("acme", "AKIAABCDEFGHIJKLMNOP", "GAHT12345678"),))
    config = cfg.add_account(config, "acme", Account("dev", "111111111111", "eu-west-1"))
    with pytest.raises(UsageError, match="already has an account"):
        cfg.add_account(config, "acme", Account("dev", "222222222222", "eu-west-1"))
    with pytest.raises(UsageError, match="already in profile"):
        cfg.add_account(config, "acme", Account("qa", "111111111111", "eu-west-1"))
    with pytest.raises(UsageError, match="no profile"):
        cfg.add_account(config, "nope", Account("qa", "222222222222", "eu-west-1"))
    config = cfg.add_role(config, "acme", "dev", Role("A"))
    with pytest.raises(UsageError, match="both write"):
        cfg.add_role(config, "acme", "dev", Role("B", aws_profile="dev-A"))
    assert cfg.remove_path(config, ["acme", "dev", "A"]).profiles[0].accounts[0].roles == ()
    with pytest.raises(UsageError, match="no role"):
        cfg.remove_path(config, ["acme", "dev", "Z"])
