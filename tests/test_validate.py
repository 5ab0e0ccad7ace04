"""Input checks: MFA codes, durations, session names."""

from __future__ import annotations

import pytest

from trayapp.core import validate
from trayapp.core.errors import UsageError


@pytest.mark.parametrize("code", ["000000", "012345", " 123456 ", "123 456"])
def test_valid_codes(code):
    assert validate.mfa_code(code) == code.replace(" ", "")


@pytest.mark.parametrize("code", ["", "12345", "1234567", "12345a", "١٢٣٤٥٦", "12345\n6", "-12345"])
def test_invalid_codes(code):
    with pytest.raises(UsageError, match="6 digits"):
        validate.mfa_code(code)


@pytest.mark.parametrize(
    ("text", "seconds"), [("900", 900), ("15m", 900), ("2h", 7200), ("1h30m", 5400), (43200, 43200)]
)
def test_durations(text, seconds):
    assert validate.duration(text) == seconds


@pytest.mark.parametrize("text", ["899", "12h1s", "0", "", "h", "1d", True, 43201])
def test_bad_durations(text):
    with pytest.raises(UsageError):
        validate.duration(text)


def test_session_names_are_cleaned_to_what_aws_accepts():
    assert validate.session_name("alice") == "alice"
    assert validate.session_name("Jörg Müller") == "J-rg-M-ller"  # AWS takes ASCII only
    assert validate.session_name("a") == "a-aacli"
    assert len(validate.session_name("x" * 100)) == 64
    assert validate.session_name("a b;c") == "a-b-c"
