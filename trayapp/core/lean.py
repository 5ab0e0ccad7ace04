"""What the start-up paths (``credential-process``, ``status``) use instead of json, re,
datetime and pathlib: those four cost ~15 ms to import, more than Python's own start.

Each function reads only the plainest form of what aacli itself writes and raises ValueError
at anything else, so that its caller can leave the answer to the full path:
- :func:`loads`: JSON through CPython's C scanner (the half of ``json`` that does the work;
  ``json`` itself is used where that scanner does not exist);
- :func:`dumps`: a flat object of strings and integers, exactly as ``json.dumps`` writes it;
- :func:`epoch_seconds`: ``YYYY-MM-DDTHH:MM:SSZ`` (``clock.isoformat_z``) as Unix seconds;
- :func:`ini_section`: one section of a plain INI file, as configparser would read it.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing: start-up time
if TYPE_CHECKING:
    from collections.abc import Mapping


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a value aacli writes")


class _Strict:
    """The decoder settings the C scanner reads (json.JSONDecoder's defaults, no NaN)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = staticmethod(_no_constant)


def loads(text: str) -> object:
    """``json.loads(text)``; ValueError when ``text`` is not one JSON value."""
    try:
        from _json import make_scanner
    except ImportError:  # not CPython: the json module
        import json

        return json.loads(text)
    body = text.strip(" \t\n\r")  # json's whitespace
    try:
        value, end = make_scanner(_Strict)(body, 0)  # type: ignore[arg-type]  # its settings
    except StopIteration:
        raise ValueError("not JSON") from None
    if end != len(body):
        raise ValueError("not one JSON value")
    return value


def dumps(values: Mapping[str, str | int]) -> str:
    """``json.dumps(values)`` for a flat object of strings and integers."""
    try:
        from _json import encode_basestring_ascii as quote
    except ImportError:
        import json

        return json.dumps(values)
    parts = []
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValueError(f"{key}: only strings and integers")
        shown = quote(value) if isinstance(value, str) else str(value)
        parts.append(f"{quote(key)}: {shown}")
    return "{" + ", ".join(parts) + "}"


_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def epoch_seconds(text: str) -> int:
    """Unix seconds of ``YYYY-MM-DDTHH:MM:SSZ`` (UTC, to the second, as aacli writes times)."""
    if len(text) != 20:
        raise ValueError(f"not a time as aacli writes it: {text!r}")
    fields = (text[0:4], text[5:7], text[8:10], text[11:13], text[14:16], text[17:19])
    separators = text[4] + text[7] + text[10] + text[13] + text[16] + text[19]
    if separators != "--T::Z" or not all(f.isascii() and f.isdigit() for f in fields):
        raise ValueError(f"not a time as aacli writes it: {text!r}")
    year, month, day, hour, minute, second = map(int, fields)
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= month <= 12 or hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"not a time: {text!r}")
    if not 1 <= day <= _DAYS_IN_MONTH[month - 1] + (month == 2 and leap):
        raise ValueError(f"not a date: {text!r}")
    # Days since 1970-01-01 in the proleptic Gregorian calendar, the year starting in March
    # so that the leap day comes last.
    march_year = year - (month <= 2)
    era, year_of_era = divmod(march_year, 400)
    day_of_year = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    days = era * 146097 + day_of_era - 719468
    return ((days * 24 + hour) * 60 + minute) * 60 + second


def ini_section(text: str, name: str) -> dict[str, str]:
    """The keys of section ``name`` of an INI text, read as configparser reads them, when the
    whole text is plain: every line blank, a comment, a ``[header]`` or ``key = value`` with
    nothing before it; no header twice, no key twice in a section, no DEFAULT section (its keys
    would be every section's), no NUL, no lone CR. ValueError otherwise, or when the section
    is not there."""
    if "\x00" in text or text.count("\r") != text.count("\r\n"):
        raise ValueError("not a plain INI text")
    sections: dict[str, dict[str, str]] = {}
    keys: dict[str, str] | None = None
    for raw in text.split("\n"):
        line = raw.removesuffix("\r")
        if not line.strip() or line[0] in "#;":
            continue
        if line[0].isspace():
            raise ValueError("an indented line")  # a continued value: configparser's own rules
        if line[0] == "[":
            header = line.rstrip()[1:-1]
            if not line.rstrip().endswith("]") or not header or "]" in header:
                raise ValueError("a header that is not plain")
            if header in sections or header == "DEFAULT":
                raise ValueError(f"[{header}] twice, or DEFAULT")
            keys = sections[header] = {}
            continue
        cut = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=-1)
        if cut <= 0 or keys is None:
            raise ValueError("a line that is neither a key nor a header")
        key = line[:cut].strip().lower()
        if key in keys:
            raise ValueError(f"{key} twice")
        keys[key] = line[cut + 1 :].strip()
    if name not in sections:
        raise ValueError(f"no section {name}")
    return sections[name]
