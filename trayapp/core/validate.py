"""Checks of user-supplied values: each returns the clean value or raises with the reason.

Every pattern is ASCII-only (``re.ASCII``: ``\\w`` and ``\\d`` would otherwise accept any
script's letters and digits, which AWS refuses) and must match the whole value (``fullmatch``:
``$`` alone also matches before a trailing newline).
"""

from __future__ import annotations

import re

from trayapp.core.errors import UsageError

MIN_DURATION = 900
MAX_DURATION = 43200
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", re.ASCII)
_ACCOUNT_ID = re.compile(r"^\d{12}$", re.ASCII)
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$", re.ASCII)
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$", re.ASCII)
_ACCESS_KEY_ID = re.compile(r"^AKIA[A-Z0-9]{12,124}$", re.ASCII)
_MFA_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:mfa/[\w+=,.@/-]{1,512}$", re.ASCII)
_MFA_HARDWARE = re.compile(r"^[A-Z0-9]{9,64}$", re.ASCII)
_AWS_PROFILE = re.compile(r"^[\w.@+=,-]{1,64}$", re.ASCII)
_SESSION_NAME_CHARS = re.compile(r"[^\w+=,.@-]", re.ASCII)
_CODE = re.compile(r"^\d{6}$", re.ASCII)
_DURATION = re.compile(
    r"^(?:(?P<h>\d+)h)?\s*(?:(?P<m>\d+)m(?:in)?)?\s*(?:(?P<s>\d+)s?)?$", re.ASCII
)


def _short(value: str) -> str:
    """A value for an error message: quoted, and cut so junk cannot flood the line."""
    return repr(value if len(value) <= 40 else value[:37] + "...")


def name(value: str, what: str) -> str:
    if not _NAME.fullmatch(value):
        raise UsageError(
            f"{what} {_short(value)} must be 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return value


def account_id(value: str) -> str:
    value = value.strip().replace("-", "")
    if not _ACCOUNT_ID.fullmatch(value):
        raise UsageError(f"account id {_short(value)} must be exactly 12 digits")
    return value


def role_name(value: str) -> str:
    if not _ROLE_NAME.fullmatch(value):
        raise UsageError(
            f"role name {_short(value)} must be 1-64 characters of letters, digits and +=,.@_-"
        )
    return value


def region(value: str) -> str:
    if not _REGION.fullmatch(value):
        raise UsageError(f"region {_short(value)} is not an AWS region name like 'eu-west-1'")
    return value


def access_key_id(value: str) -> str:
    value = value.strip()
    if not _ACCESS_KEY_ID.fullmatch(value):
        raise UsageError(
            f"access key id {_short(value)} is not an IAM user key id (AKIA followed by "
            "upper-case letters and digits)"
        )
    return value


def secret_access_key(value: str, where: str = "") -> str:
    """16-128 characters, no spaces; the message never shows the value (``where``: whose)."""
    secret = value.strip()
    if not 16 <= len(secret) <= 128 or any(c.isspace() or not c.isprintable() for c in secret):
        prefix = f"{where}: " if where else ""
        raise UsageError(f"{prefix}the secret access key must be 16-128 characters with no spaces")
    return secret


def mfa_serial(value: str) -> str:
    value = value.strip()
    if not (_MFA_ARN.fullmatch(value) or _MFA_HARDWARE.fullmatch(value)):
        raise UsageError(
            f"MFA device {_short(value)} must be an ARN like "
            "'arn:aws:iam::123456789012:mfa/alice' or a hardware serial like 'GAHT12345678'"
        )
    return value


def partition(value: str) -> str:
    if value not in PARTITIONS:
        raise UsageError(f"partition {_short(value)} must be one of {', '.join(PARTITIONS)}")
    return value


def aws_profile(value: str) -> str:
    if not _AWS_PROFILE.fullmatch(value):
        raise UsageError(
            f"AWS profile name {_short(value)} must be 1-64 letters, digits or _.@+=,-"
        )
    return value


def _seconds(value: str | int, what: str) -> int:
    if isinstance(value, bool):
        raise UsageError(f"{what} {value!r} must be a number of seconds or like '2h', '90m'")
    if isinstance(value, int):
        return value
    match = _DURATION.fullmatch(value.strip())
    if not value.strip() or not match or not any(match.groupdict().values()):
        raise UsageError(f"{what} {_short(value)} must be seconds or like '2h', '90m', '1h30m'")
    parts = {k: int(v) if v else 0 for k, v in match.groupdict().items()}
    return parts["h"] * 3600 + parts["m"] * 60 + parts["s"]


def duration(value: str | int) -> int:
    """Seconds from ``3600``, ``"90m"``, ``"2h"`` or ``"1h30m"``; 15 min to 12 h."""
    seconds = _seconds(value, "duration")
    if not MIN_DURATION <= seconds <= MAX_DURATION:
        raise UsageError(
            f"duration {seconds} s is outside what AWS allows: 15 min (900 s) to 12 h (43200 s)"
        )
    return seconds


MAX_MFA_SESSION = 129600  # GetSessionToken allows 36 h for IAM users


def mfa_session_duration(value: str | int) -> int:
    """An MFA session length: 15 min to 36 h, written like a role duration."""
    seconds = _seconds(value, "MFA session length")
    if not MIN_DURATION <= seconds <= MAX_MFA_SESSION:
        raise UsageError(
            f"MFA session length {seconds} s is outside what AWS allows: 15 min to 36 h"
        )
    return seconds


def mfa_code(value: str) -> str:
    """Exactly six digits (leading zeros are valid); spaces are tolerated."""
    cleaned = value.strip().replace(" ", "")
    if not _CODE.fullmatch(cleaned):
        raise UsageError("the MFA code must be exactly 6 digits")
    return cleaned


def session_name(value: str) -> str:
    """A RoleSessionName: 2-64 characters of [\\w+=,.@-]; other characters become '-'."""
    cleaned = _SESSION_NAME_CHARS.sub("-", value)[:64]
    if len(cleaned) < 2:
        cleaned = (cleaned + "-aacli")[:64] if cleaned else "aacli"
    return cleaned


# Audit settings of a role session (AWS's limits, as STS enforces them).

SESSION_NAME_MODES = ("auto", "os-user")  # or a fixed name
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$", re.ASCII)
_SOURCE_IDENTITY = re.compile(r"^[\w+=,.@-]{2,64}$", re.ASCII)
_TAG_CHARS = re.compile(r"^[A-Za-z0-9 _.:/=+@-]*$", re.ASCII)
MAX_SESSION_TAGS = 50
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256


def session_name_setting(value: str) -> str:
    """``auto`` (the hub IAM user's name), ``os-user``, or a fixed RoleSessionName."""
    value = value.strip()
    if value in SESSION_NAME_MODES:
        return value
    if not _SOURCE_IDENTITY.fullmatch(value):
        raise UsageError(
            f"session name {_short(value)} must be 'auto', 'os-user' or 2-64 letters, digits "
            "and +=,.@_-"
        )
    return value


def external_id(value: str) -> str:
    """An sts:ExternalId: 2-1224 characters of letters, digits and +=,.@:/_-."""
    if not _EXTERNAL_ID.fullmatch(value):
        raise UsageError(
            f"external id {_short(value)} must be 2-1224 letters, digits and +=,.@:/_- (AWS's rule)"
        )
    return value


def source_identity(value: str) -> str:
    """``auto`` (the hub IAM user's name) or a fixed SourceIdentity: 2-64 of [\\w+=,.@-]."""
    if value == "auto":
        return value
    if not _SOURCE_IDENTITY.fullmatch(value) or value.lower().startswith("aws:"):
        raise UsageError(
            f"source identity {_short(value)} must be 'auto' or 2-64 letters, digits and "
            "+=,.@_- (AWS's rule)"
        )
    return value


def tag_key(value: str) -> str:
    if not 1 <= len(value) <= MAX_TAG_KEY or not _TAG_CHARS.fullmatch(value):
        raise UsageError(
            f"tag key {_short(value)} must be 1-{MAX_TAG_KEY} letters, digits, spaces and "
            "_.:/=+@- (AWS's rule)"
        )
    if value.lower().startswith("aws:"):
        raise UsageError(f"tag key {_short(value)}: keys starting with 'aws:' are AWS's own")
    return value


def tag_value(value: str, key: str) -> str:
    if len(value) > MAX_TAG_VALUE or not _TAG_CHARS.fullmatch(value):
        raise UsageError(
            f"the value of tag {_short(key)} must be at most {MAX_TAG_VALUE} letters, digits, "
            "spaces and _.:/=+@- (AWS's rule)"
        )
    return value


def session_tags(pairs: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Session tags: at most 50, keys unique ignoring case (AWS compares them so)."""
    if len(pairs) > MAX_SESSION_TAGS:
        raise UsageError(f"{len(pairs)} session tags: AWS allows at most {MAX_SESSION_TAGS}")
    seen: set[str] = set()
    clean = []
    for key, value in pairs:
        key = tag_key(key)
        if key.lower() in seen:
            raise UsageError(f"tag key {_short(key)} is given twice (AWS ignores case in keys)")
        seen.add(key.lower())
        clean.append((key, tag_value(value, key)))
    return tuple(clean)


def tag_pair(text: str) -> tuple[str, str]:
    """``key=value`` as typed on the command line."""
    key, sep, value = text.partition("=")
    if not sep:
        raise UsageError(f"tag {_short(text)} must be written KEY=VALUE")
    return key.strip(), value.strip()


def transitive_tag_keys(keys: list[str], tags: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    """Transitive tag keys must name tags of the same session (AWS's rule)."""
    names = {key.lower() for key, _ in tags}
    for key in keys:
        if key.lower() not in names:
            raise UsageError(
                f"transitive tag {_short(key)} is not one of the role's tags; add it with "
                f"--tag {key}=VALUE"
            )
    return tuple(dict.fromkeys(keys))


_YUBIKEY_SERIAL = re.compile(r"^\d{1,10}$", re.ASCII)


def yubikey_serial(value: str) -> str:
    """A YubiKey's serial number (printed on the key, and by 'ykman list --serials')."""
    value = value.strip()
    if not _YUBIKEY_SERIAL.fullmatch(value):
        raise UsageError(f"YubiKey serial {_short(value)} must be the key's serial number (digits)")
    return value


def mfa_process(value: str) -> list[str]:
    """A command line that prints an MFA code, split as a shell would (but run without one)."""
    import shlex

    try:
        argv = shlex.split(value)
    except ValueError as exc:
        raise UsageError(f"the MFA command line cannot be split into words ({exc})") from None
    if not argv:
        raise UsageError("the MFA command line is empty")
    return argv


def sso_start_url(value: str) -> str:
    """An Identity Center start URL: https (or http://127.0.0.1 for the local sandbox)."""
    from urllib.parse import urlsplit

    value = value.strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is no number
    except ValueError:
        parts = None
    ok = (
        parts is not None
        and len(value) <= 512
        and value.isascii()
        and value.isprintable()
        and " " not in value
        and parts.hostname
        and not parts.username
        and not parts.password
        and not parts.fragment
        and (parts.scheme == "https" or (parts.scheme == "http" and parts.hostname == "127.0.0.1"))
    )
    if not ok:
        raise UsageError(
            f"start URL {_short(value)} must be an https:// address like "
            "'https://corp.awsapps.com/start' (http only for 127.0.0.1)"
        )
    return value
