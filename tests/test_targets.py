"""Targets: full names and every unambiguous shortening."""

from __future__ import annotations

import pytest

from trayapp.core.errors import TargetError
from trayapp.core.model import Account, Config, Profile, Role
from trayapp.core.targets import resolve_target

CONFIG = Config(
    profiles=(
        Profile(
            "acme",
            "AKIAABCDEFGHIJKLMNOP",
            "GAHT12345678",
            accounts=(
                Account("dev", "111111111111", "eu-west-1", (Role("DEVELOPER"), Role("ReadOnly"))),
                Account("prod", "333333333333", "eu-west-1", (Role("ReadOnly"),)),
            ),
        ),
        Profile(
            "other",
            "AKIAABCDEFGHIJKLMNOQ",
            "GAHT12345679",
            accounts=(
                Account(
                    "sandbox", "444444444444", "us-east-1", (Role("Admin", aws_profile="sbx"),)
                ),
            ),
        ),
    )
)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("acme/dev/DEVELOPER", "acme/dev/DEVELOPER"),
        ("dev/DEVELOPER", "acme/dev/DEVELOPER"),
        ("DEVELOPER", "acme/dev/DEVELOPER"),
        ("prod", "acme/prod/ReadOnly"),
        ("other", "other/sandbox/Admin"),
        ("sbx", "other/sandbox/Admin"),
        ("dev-DEVELOPER", "acme/dev/DEVELOPER"),
        ("dev/developer", "acme/dev/DEVELOPER"),
        (" acme/prod/ReadOnly/ ", "acme/prod/ReadOnly"),
    ],
)
def test_shortenings_resolve(text, label):
    assert resolve_target(CONFIG, text).label == label


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dev", "several roles"),
        ("ReadOnly", "several roles"),
        ("staging", "no role matches"),
        ("a/b/c/d", "not a target"),
        ("", "not a target"),
        ("//", "not a target"),
        ("x" * 500, "no role matches"),
    ],
)
def test_bad_targets_say_why(text, message):
    with pytest.raises(TargetError, match=message) as caught:
        resolve_target(CONFIG, text)
    assert len(str(caught.value)) < 300


def test_empty_config_says_how_to_add_a_role():
    with pytest.raises(TargetError, match="config add-role"):
        resolve_target(Config(), "dev")
