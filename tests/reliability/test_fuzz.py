"""Bad input, fuzzed: the file editor, the config loader, targets, MFA codes, STS errors.

Builds on tests/test_inifile.py (its generated INI texts) with texts that are not INI at all.
"""

from __future__ import annotations

import os
import string
import tempfile
from pathlib import Path

import botocore.exceptions
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from test_inifile import ini_texts

from reliability.conftest import _FIGURES, add, record
from trayapp.core import credfile, validate
from trayapp.core.config import load_config, parse_config
from trayapp.core.errors import AacliError, ConfigError, CredFileError, StsError, UsageError
from trayapp.core.inifile import get_section, remove_keys, upsert_section
from trayapp.core.sts import map_error
from trayapp.core.targets import resolve_target

PURE = int(os.environ.get("AACLI_FUZZ_EXAMPLES", "2000"))
FILES = max(1, PURE // 5)  # the ones that touch the disk
PURE_SETTINGS = settings(
    max_examples=PURE,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
)
FILE_SETTINGS = settings(
    max_examples=FILES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
)
OURS = {
    "aws_access_key_id": "ASIAFUZZ0000000001",
    "aws_secret_access_key": "fuzz-secret-0123456789",
    "aws_session_token": "fuzz-token",
}
NASTY = st.sampled_from(
    [
        "\x00",
        "\ufeff",
        "\r",
        "\r\n",
        "\t",
        "[",
        "]",
        "=",
        ":",
        "#",
        ";",
        " ",
        "\n",
        "\x0b",
        "\u2028",
        "é",
        "[x]\n",
        "[x]\n[x]\n",
        "[default]\n",
    ]
)


@st.composite
def any_texts(draw: st.DrawFn) -> str:
    """Generated INI with nasty characters spliced in, or any text at all."""
    if draw(st.booleans()):
        return "".join(draw(st.lists(st.one_of(NASTY, st.characters()), max_size=120)))
    text = draw(ini_texts())
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(NASTY) + text[at:]
    return text


@PURE_SETTINGS
@given(any_texts(), st.sampled_from(["aacli-fuzz", "dev", "default"]), st.booleans())
def test_any_text_is_edited_keeping_every_foreign_byte_or_refused(text, name, config) -> None:
    add("fuzz", "editor_pure")
    try:
        before = get_section(text, name, config_style=config)
        written = upsert_section(text, name, OURS, config_style=config)
    except CredFileError as exc:
        assert "fuzz-secret" not in str(exc)
        add("fuzz", "editor_pure_refused")
        return
    assert get_section(written, name, config_style=config) == (before or {}) | OURS
    if before is None:  # a fresh section: appended, and removed without a trace
        assert written.startswith(text)
        assert remove_keys(written, name, list(OURS), config_style=config) == text


@FILE_SETTINGS
@given(
    st.one_of(
        any_texts().map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=300)
    )
)
def test_the_file_is_rewritten_whole_or_not_at_all(raw: bytes) -> None:
    add("fuzz", "editor_files")
    from datetime import datetime, timezone

    from trayapp.core.model import Credentials

    creds = Credentials(
        access_key_id=OURS["aws_access_key_id"],
        secret_access_key=OURS["aws_secret_access_key"],
        session_token=OURS["aws_session_token"],
        expiration=datetime(2030, 1, 1, tzinfo=timezone.utc),
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "credentials"
        path.write_bytes(raw)
        try:
            credfile.write_profile_credentials(path, "aacli-fuzz", creds, owned_key_ids=())
        except CredFileError as exc:
            assert path.read_bytes() == raw and os.listdir(folder) == ["credentials"]
            assert "fuzz-secret" not in str(exc) and "\n" not in str(exc)
            add("fuzz", "editor_files_refused")
            return
        assert credfile.remove_profile_credentials(path, "aacli-fuzz", creds.access_key_id) in (
            credfile.RemoveOutcome.REMOVED,
        )
        assert path.read_bytes() == raw


# --- the config loader ----------------------------------------------------------------

KEYS = st.sampled_from(
    ["version", "settings", "profiles", "acme", "accounts", "roles", "dev", "id", "region",
     "access_key_id", "mfa_serial", "duration", "aws_profile", "session_name", "partition",
     "sts_region", "secret_backend", "warn_minutes", "unauth_on_quit", "mfa_session", "x"]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63), st.floats(allow_nan=True),
    st.text(max_size=30), st.sampled_from(["111111111111", "2h", "eu-west-1", "AKIAIOSFODNN7EXAMPLE",
    "arn:aws:iam::999999999999:mfa/alice", "aws", "vault", "DEVELOPER"]),
)  # fmt: skip
TOML_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=25,
)


@PURE_SETTINGS
@given(st.dictionaries(KEYS, TOML_VALUES, max_size=4))
def test_the_config_loader_names_key_and_reason_or_loads(data) -> None:
    add("fuzz", "config_data")
    path = Path("/cfg/config.toml")
    try:
        parse_config(data, path)
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith(f"{path}: ") and "\n" not in message, message
        key, _, reason = message.removeprefix(f"{path}: ").partition(": ")
        assert key and reason, message
        add("fuzz", "config_data_refused")


@FILE_SETTINGS
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
def test_the_config_loader_never_raises_anything_but_a_config_error(raw: bytes) -> None:
    add("fuzz", "config_files")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        path.write_bytes(raw)
        path.chmod(0o600)
        try:
            load_config(path)
        except ConfigError as exc:
            assert str(exc).startswith(str(path)), str(exc)
        assert path.read_bytes() == raw


# --- targets, codes, STS errors --------------------------------------------------------

CONFIG = parse_config(
    {
        "profiles": {
            "acme": {
                "access_key_id": "AKIAIOSFODNN7EXAMPLE",
                "mfa_serial": "arn:aws:iam::999999999999:mfa/alice",
                "accounts": {
                    "dev": {"id": "111111111111", "region": "eu-west-1",
                            "roles": {"DEVELOPER": {}, "ReadOnly": {}}},
                    "prod": {"id": "333333333333", "region": "us-east-2",
                             "roles": {"ReadOnly": {}}},
                },
            }
        }
    },
    Path("/cfg/config.toml"),
)  # fmt: skip
PARTS = st.sampled_from(["acme", "dev", "prod", "DEVELOPER", "ReadOnly", "", "x", "Dev", "*", ".."])


@PURE_SETTINGS
@given(st.one_of(st.lists(PARTS, max_size=4).map("/".join), st.text(max_size=40)))
def test_target_text_resolves_to_one_target_or_a_usage_error(text) -> None:
    add("fuzz", "targets")
    try:
        target = resolve_target(CONFIG, text)
    except UsageError as exc:
        assert "\n" not in str(exc)
        return
    add("fuzz", "targets_resolved")
    remaining = iter(target.label.lower().split("/"))  # a shortening: parts in order, any case
    parts = [part.strip().lower() for part in text.split("/") if part.strip()]
    assert all(part in remaining for part in parts), (text, target.label)


@PURE_SETTINGS
@given(
    st.one_of(
        st.text(max_size=12), st.text(alphabet=string.digits + " \t\n\u0663\uff16", max_size=9)
    )
)
def test_an_mfa_code_is_six_ascii_digits_or_refused(text) -> None:
    add("fuzz", "mfa_codes")
    try:
        code = validate.mfa_code(text)
    except UsageError:
        return
    add("fuzz", "mfa_codes_accepted")
    assert len(code) == 6 and all(c in string.digits for c in code)
    assert code == "".join(text.split())


@PURE_SETTINGS
@given(
    st.one_of(st.text(max_size=40), st.sampled_from(["Throttling", "AccessDenied", "ValidationError",
        "ExpiredToken", "InternalFailure", "RegionDisabledException", ""])),
    st.one_of(st.text(max_size=300), st.sampled_from(["MultiFactorAuthentication failed",
        "The requested DurationSeconds exceeds", "1 hour session limit for roles assumed by role chaining"])),
    st.sampled_from([0, 200, 400, 403, 429, 500, 503]),
)  # fmt: skip
def test_every_sts_error_becomes_one_clear_line(code, message, status) -> None:
    add("fuzz", "sts_errors")
    exc = botocore.exceptions.ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "AssumeRole",
    )
    mapped = map_error(exc, role_arn="arn:aws:iam::111111111111:role/R", duration_seconds=3600)
    assert isinstance(mapped, StsError) and isinstance(mapped, AacliError)
    text = str(mapped)
    assert text and len(text.splitlines()) == 1 and len(text) < 400, text


def test_zz_fuzz_counts_recorded() -> None:
    """Issue 17 item 8: runs last in this module: keeps the settings beside the counts, and
    checks each property above ran and met both outcomes (accepted and refused input), so
    none of them passed by testing nothing."""
    record("fuzz", "max_examples_pure", PURE)
    record("fuzz", "max_examples_files", FILES)
    counts = _FIGURES.get("fuzz", {})
    both = {
        "editor_pure": "editor_pure_refused",
        "editor_files": "editor_files_refused",
        "config_data": "config_data_refused",
        "targets": "targets_resolved",
        "mfa_codes": "mfa_codes_accepted",
    }
    for total, some in both.items():
        assert 0 < counts.get(some, 0) < counts.get(total, 0), (total, some, counts)
    for total in ("config_files", "sts_errors"):
        assert counts.get(total, 0) > 0, (total, counts)
