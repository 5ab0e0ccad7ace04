"""Edit the text of the AWS shared files (INI) in place: one section changes, every other byte stays."""

from __future__ import annotations

import configparser
import functools
import re
import shlex
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from trayapp.core.errors import CredFileError
from trayapp.core.untrusted import shown

BOM = "\ufeff"
DEFAULT_PROFILE = "default"

# The very patterns botocore's RawConfigParser uses, so we see the lines as it does.
_SECTION = configparser.RawConfigParser.SECTCRE
_OPTION = configparser.RawConfigParser.OPTCRE
_NONSPACE = configparser.RawConfigParser.NONSPACECRE
_COMMENT_PREFIXES = ("#", ";")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_KEY = re.compile(r"^[a-z0-9_]+$")
_BAD_VALUE_CHARS = re.compile(r"[\r\n\x00]")


class IniError(CredFileError):
    """The text cannot be edited safely; ``line`` (1-based) says where when one line is to blame.

    Messages name lines and sections only, never a line's content: it may hold a secret.
    """

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {reason}" if line else reason)
        self.reason = reason
        self.line = line


@dataclass(frozen=True)
class _Line:
    text: str
    end: str  # "\r\n" or "\n"; "" only on a last line without a final newline


@dataclass
class _Option:
    name: str  # lower-cased, as configparser's optionxform does
    start: int  # index of its "key = value" line
    parts: list[str]
    continuations: list[int] = field(default_factory=list)

    @property
    def value(self) -> str:
        return "\n".join(self.parts).rstrip()


@dataclass
class _Section:
    name: str
    start: int  # index of its header line
    stop: int  # index of the next header, or the number of lines
    options: list[_Option] = field(default_factory=list)


@dataclass
class _Doc:
    bom: str
    lines: list[_Line]  # the last line always has an end while editing; see _dump
    final_newline: bool
    newline: str
    sections: list[_Section]


def config_section_name(profile: str) -> str:
    """The ``~/.aws/config`` section of a profile: ``default`` or ``profile NAME``."""
    if profile == DEFAULT_PROFILE:
        return profile
    name = f"profile {profile}"
    if _botocore_profile(name) != profile:
        raise ValueError("a profile name with spaces or quotes cannot be written to ~/.aws/config")
    return name


def get_section(text: str, section: str, *, config_style: bool = False) -> dict[str, str] | None:
    """The keys and values of ``[section]`` as botocore reads them; None when it is absent.

    ``config_style`` matches sections the way botocore reads ``~/.aws/config``, where
    ``[profile  dev]`` and ``[profile dev]`` are the same profile.
    """
    _check_section_name(section)
    doc = _load(text)
    found = _find(doc, section, config_style)
    return None if found is None else {o.name: o.value for o in found.options}


def upsert_section(
    text: str, section: str, values: Mapping[str, str], *, config_style: bool = False
) -> str:
    """Set ``values`` in ``[section]``: change those keys' lines in place, or append the section."""
    _check_section_name(section)
    _check_values(values)
    doc = _load(text)
    found = _find(doc, section, config_style)
    edit = _Edit()
    nl = doc.newline
    if found is None:
        # A fixed blank-line separator lets remove_keys undo the append exactly.
        block = [_Line("", nl)] if doc.lines else []
        block.append(_Line(f"[{section}]", nl))
        block.extend(_Line(f"{key} = {value}", nl) for key, value in values.items())
        edit.insert_after(len(doc.lines) - 1, block)
    else:
        existing = {option.name: option for option in found.options}
        added: list[tuple[str, str]] = []
        for key, value in values.items():
            option = existing.get(key)
            if option is None:
                added.append((key, value))
                continue
            line = doc.lines[option.start]
            edit.replace[option.start] = _Line(f"{_indent(line.text)}{key} = {value}", line.end)
            edit.delete.update(option.continuations)
        if added:
            anchor, indent = _insertion_point(doc, found)
            edit.insert_after(anchor, [_Line(f"{indent}{k} = {v}", nl) for k, v in added])
    result = _dump(doc, edit.apply(doc.lines))
    expected = _expected_after(doc, found, section, dict(values), set())
    _verify(doc, result, expected)
    return result


def set_value(text: str, section: str, key: str, value: str, *, config_style: bool = False) -> str:
    """Set one key, keeping its line's own spelling, delimiter and spacing when it is there.

    ``region=us-west-2`` becomes ``region=eu-west-1`` and back again byte for byte, which
    :func:`upsert_section` (which writes ``key = value``) would not give. A value of several
    lines, an absent key or an absent section goes through :func:`upsert_section`.
    """
    _check_section_name(section)
    _check_values({key: value})
    doc = _load(text)
    found = _find(doc, section, config_style)
    option = None if found is None else next((o for o in found.options if o.name == key), None)
    if found is None or option is None or option.continuations:
        return upsert_section(text, section, {key: value}, config_style=config_style)
    line = doc.lines[option.start]
    match = _OPTION.match(line.text.strip())
    if match is None:  # pragma: no cover - _parse matched this very line
        raise IniError("the file's layout is too unusual to edit safely", option.start + 1)
    offset = len(_indent(line.text))
    start, stop = offset + match.start("value"), offset + match.end("value")
    edit = _Edit()
    edit.replace[option.start] = _Line(line.text[:start] + value + line.text[stop:], line.end)
    result = _dump(doc, edit.apply(doc.lines))
    _verify(doc, result, _expected_after(doc, found, section, {key: value}, set()))
    return result


def remove_keys(
    text: str,
    section: str,
    keys: Collection[str],
    *,
    config_style: bool = False,
    keep_section: bool = False,
) -> str:
    """Remove ``keys`` from ``[section]``, and the section too when nothing of its own is left.

    ``keep_section``: the section was there before aacli wrote to it, so its header (and the
    lines around it) stay even when it is left empty.
    """
    _check_section_name(section)
    doc = _load(text)
    found = _find(doc, section, config_style)
    wanted = {key.lower() for key in keys}
    removed = [] if found is None else [o for o in found.options if o.name in wanted]
    if found is None or not removed:
        return text
    edit = _Edit()
    for option in removed:
        edit.delete.add(option.start)
        edit.delete.update(option.continuations)
    section_gone = False
    if len(removed) == len(found.options) and not keep_section:
        leftovers = [i for i in range(found.start + 1, found.stop) if i not in edit.delete]
        ours, theirs = _split_trailing_comments(doc, found, leftovers)
        if not any(doc.lines[i].text.strip() for i in ours):
            section_gone = True
            edit.delete.add(found.start)
            edit.delete.update(ours)
            last = found.stop == len(doc.lines) and not theirs
            if last and found.start > 0 and doc.lines[found.start - 1].text == "":
                # The separator upsert_section put before an appended section.
                edit.delete.add(found.start - 1)
    result = _dump(doc, edit.apply(doc.lines))
    gone = {o.name for o in removed}
    _verify(doc, result, _expected_after(doc, found, section, {}, gone, section_gone))
    return result


class _Edit:
    """Line changes keyed by the original line index, applied in one pass."""

    def __init__(self) -> None:
        self.replace: dict[int, _Line] = {}
        self.delete: set[int] = set()
        self.inserts: dict[int, list[_Line]] = {}

    def insert_after(self, index: int, lines: list[_Line]) -> None:
        self.inserts.setdefault(index, []).extend(lines)

    def apply(self, lines: list[_Line]) -> list[_Line]:
        out = list(self.inserts.get(-1, []))
        for index, line in enumerate(lines):
            if index not in self.delete:
                out.append(self.replace.get(index, line))
            out.extend(self.inserts.get(index, []))
        return out


_RECENT: list[tuple[str, _Doc]] = []  # the last few parses: an edit reads a file 3-4 times
_RECENT_SIZE = 4


def _load(text: str) -> _Doc:
    """The parsed text; a _Doc is never changed once made, so recent ones are reused."""
    for seen, doc in list(_RECENT):
        if seen == text:
            return doc
    doc = _load_uncached(text)
    _RECENT.insert(0, (text, doc))
    del _RECENT[_RECENT_SIZE:]
    return doc


def _load_uncached(text: str) -> _Doc:
    bom = BOM if text.startswith(BOM) else ""
    lines = _split(text[len(bom) :])
    _check_characters(lines)
    final_newline = not lines or lines[-1].end != ""
    newline = _newline_style(lines)
    if not final_newline:
        lines[-1] = _Line(lines[-1].text, newline)
    return _Doc(bom, lines, final_newline, newline, _parse(lines))


def _dump(doc: _Doc, lines: list[_Line]) -> str:
    if lines and not doc.final_newline:
        lines[-1] = _Line(lines[-1].text, "")
    return doc.bom + "".join(line.text + line.end for line in lines)


def _split(body: str) -> list[_Line]:
    lines = []
    start = 0
    for match in _NEWLINE.finditer(body):
        lines.append(_Line(body[start : match.start()], match.group()))
        start = match.end()
    if start < len(body):
        lines.append(_Line(body[start:], ""))
    return lines


def _check_characters(lines: list[_Line]) -> None:
    for number, line in enumerate(lines, start=1):
        if "\x00" in line.text:
            raise IniError("the file contains a NUL byte, so it is not a text file", number)
        if line.end == "\r":
            # Python reads a lone CR as a line break, many editors and tools do not.
            raise IniError("a line ends with a lone carriage return (CR)", number)
        try:
            line.text.encode("utf-8")
        except UnicodeEncodeError:
            raise IniError(
                "the text has characters that cannot be written as UTF-8", number
            ) from None


def _newline_style(lines: list[_Line]) -> str:
    crlf = sum(1 for line in lines if line.end == "\r\n")
    lf = sum(1 for line in lines if line.end == "\n")
    if crlf != lf:
        return "\r\n" if crlf > lf else "\n"
    first = next((line.end for line in lines if line.end), "\n")
    return first


def _indent(text: str) -> str:
    match = _NONSPACE.search(text)
    return text[: match.start()] if match else text


def _is_blank_or_comment(text: str) -> bool:
    stripped = text.strip()
    return not stripped or stripped.startswith(_COMMENT_PREFIXES)


def _parse(lines: list[_Line]) -> list[_Section]:
    """Classify every line exactly as configparser (strict, no inline comments) would."""
    sections: list[_Section] = []
    headers: dict[str, int] = {}
    keys: dict[tuple[str, str], int] = {}
    current: _Section | None = None
    option: _Option | None = None
    indent_level = 0
    for index, line in enumerate(lines):
        number = index + 1
        stripped = line.text.strip()
        if _is_blank_or_comment(line.text):
            if not stripped and option is not None:
                option.parts.append("")
            continue
        indent = len(_indent(line.text))
        if option is not None and indent > indent_level:
            option.parts.append(stripped)
            option.continuations.append(index)
            continue
        indent_level = indent
        header = _SECTION.match(stripped)
        if header:
            name = header.group("header")
            if name in headers:
                raise IniError(
                    f"section [{shown(name)}] appears a second time (first on line {headers[name]})",
                    number,
                )
            headers[name] = number
            if current is not None:
                current.stop = index
            current = _Section(name, index, len(lines))
            sections.append(current)
            option = None
            continue
        if current is None:
            raise IniError(
                "a line before the first [section] header, which AWS tools reject", number
            )
        match = _OPTION.match(stripped)
        key = match.group("option").rstrip().lower() if match else ""
        if not match or not key:
            raise IniError(
                f"a line in section [{shown(current.name)}] is neither a comment nor 'key = value'",
                number,
            )
        if (current.name, key) in keys:
            raise IniError(
                f"a key appears twice in section [{shown(current.name)}] "
                f"(first on line {keys[current.name, key]})",
                number,
            )
        keys[current.name, key] = number
        option = _Option(key, index, [match.group("value").strip()])
        current.options.append(option)
    for section in sections:
        for opt in section.options:
            _check_nested(opt, section)
    return sections


def _check_nested(option: _Option, section: _Section) -> None:
    """botocore reads a value that starts on the next line as ``key = value`` lines."""
    value = option.value
    if value.startswith("\n"):
        for part in value.splitlines():
            if part.strip() and "=" not in part:
                raise IniError(
                    f"a nested value in section [{shown(section.name)}] has a line without '='",
                    option.start + 1,
                )


@functools.lru_cache(maxsize=8192)  # asked for every header of the file on every look-up
def _botocore_profile(section: str) -> str | None:
    """The profile botocore's config loader files this ``~/.aws/config`` section under."""
    if section.startswith("profile"):
        try:
            parts = shlex.split(section)
        except ValueError:
            return None
        return parts[1] if len(parts) == 2 else None
    return DEFAULT_PROFILE if section == DEFAULT_PROFILE else None


def _find(doc: _Doc, section: str, config_style: bool) -> _Section | None:
    profile = _botocore_profile(section) if config_style else None

    def same(name: str) -> bool:
        return name == section if profile is None else _botocore_profile(name) == profile

    found = [candidate for candidate in doc.sections if same(candidate.name)]
    if len(found) > 1:
        raise IniError(
            f"section [{shown(section)}] appears more than once "
            f"(lines {', '.join(str(s.start + 1) for s in found)}), so it is unclear which to edit",
            found[1].start + 1,
        )
    return found[0] if found else None


def _insertion_point(doc: _Doc, section: _Section) -> tuple[int, str]:
    """Where new keys go in an existing section, and the indent that keeps them keys.

    New lines take the indent of the line before them (or of the next header), so
    no following line turns into a continuation of their value.
    """
    if section.options:
        last = section.options[-1]
        anchor = last.continuations[-1] if last.continuations else last.start
        return anchor, _indent(doc.lines[last.start].text)
    following = doc.lines[section.stop].text if section.stop < len(doc.lines) else ""
    return section.start, _indent(following)


def _split_trailing_comments(
    doc: _Doc, section: _Section, leftovers: list[int]
) -> tuple[list[int], list[int]]:
    """Split a section's leftover lines into its own and the comments that head the next one.

    The comment lines after the last blank line sit right above the next header
    and describe it; at the end of the file there is no next section.
    """
    if section.stop == len(doc.lines):
        return leftovers, []
    blanks = [n for n, i in enumerate(leftovers) if not doc.lines[i].text.strip()]
    cut = blanks[-1] + 1 if blanks else 0
    return leftovers[:cut], leftovers[cut:]


def _check_section_name(section: str) -> None:
    if section == configparser.DEFAULTSECT:
        raise IniError(
            "[DEFAULT] is special to AWS tools (its keys apply to every profile); "
            "use another profile name"
        )
    header = _SECTION.match(f"[{section}]")
    if (
        not section
        or section != section.strip()
        or _BAD_VALUE_CHARS.search(section)
        or header is None
        or header.group("header") != section
    ):
        raise ValueError("not a section name aacli can write")


def _check_values(values: Mapping[str, str]) -> None:
    for key, value in values.items():
        if not _KEY.match(key):
            raise ValueError(f"key {key!r} is not a lower-case INI key")
        if _BAD_VALUE_CHARS.search(value) or value != value.strip():
            raise ValueError(f"the value of {key} cannot be written on one line")


_READS: list[tuple[str, list[tuple[str, dict[str, str]]]]] = []  # the last few reads


def _read_like_botocore(body: str) -> list[tuple[str, dict[str, str]]]:
    """What configparser reads; an edit's "after" text is often the next edit's "before"."""
    for seen, sections in list(_READS):
        if seen == body:
            return sections  # nobody changes a read: _expected_after builds new dicts
    sections = _read_uncached(body)
    _READS.insert(0, (body, sections))
    del _READS[_RECENT_SIZE:]
    return sections


def _read_uncached(body: str) -> list[tuple[str, dict[str, str]]]:
    # default_section="\x00" (NUL is refused) keeps [DEFAULT] a plain section here.
    parser = configparser.RawConfigParser(default_section="\x00")
    parser.read_string(body)
    return [(name, dict(parser.items(name, raw=True))) for name in parser.sections()]


def _expected_after(
    doc: _Doc,
    found: _Section | None,
    section: str,
    values: dict[str, str],
    removed: set[str],
    section_gone: bool = False,
) -> list[tuple[str, dict[str, str]]]:
    body = _dump(doc, list(doc.lines))[len(doc.bom) :]
    expected: list[tuple[str, dict[str, str]]] = []
    for name, items in _safe_read(body, "before"):
        if found is not None and name == found.name:
            if section_gone:
                continue
            items = {k: v for k, v in items.items() if k not in removed} | values
        expected.append((name, items))
    if found is None:
        expected.append((section, values))
    return expected


def _safe_read(body: str, when: str) -> list[tuple[str, dict[str, str]]]:
    try:
        return _read_like_botocore(body)
    except configparser.Error:
        raise IniError(
            f"the text cannot be read the way AWS tools read it ({when} the edit)"
        ) from None


def _verify(doc: _Doc, result: str, expected: list[tuple[str, dict[str, str]]]) -> None:
    """Check the edit with configparser itself: anything unexpected is refused, not written."""
    if _safe_read(result[len(doc.bom) :], "after") != expected:
        raise IniError("the file's layout is too unusual to edit safely")
