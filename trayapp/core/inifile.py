"""Edit the text of the AWS shared files (INI) in place: one section changes, every other byte stays.

The whole file is checked on every read (a file AWS tools would reject, or read otherwise, is
never edited), but cheaply: a few whole-text regular expressions find the sections of a plain
file, and only the sections an edit touches are read line by line. A file with indented lines
(continued or nested values) is read line by line throughout, as configparser reads it. Each
edit is verified with configparser itself on the sections around it, the rest of the file
being compared byte for byte, so the cost follows the sections touched, not the file's size.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Collection, Mapping

from trayapp.core.errors import CredFileError
from trayapp.core.untrusted import shown

BOM = "\ufeff"
DEFAULT_PROFILE = "default"

# The patterns of botocore's RawConfigParser (SECTCRE, OPTCRE with "=" and ":", NONSPACECRE),
# so we see the lines as it does; written out because importing configparser is a cost
# reading a file need not pay (tests/test_inifile_scale.py checks they read alike).
_SECTION = re.compile(r"\[(?P<header>.+)\]")
_OPTION = re.compile(r"(?P<option>.*?)\s*(?P<vi>=|:)\s*(?P<value>.*)$")
_NONSPACE = re.compile(r"\S")
_DEFAULT_SECTION = "DEFAULT"  # configparser.DEFAULTSECT
_COMMENT_PREFIXES = ("#", ";")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_KEY = re.compile(r"^[a-z0-9_]+$")
_BAD_VALUE_CHARS = re.compile(r"[\r\n\x00]")
# What sends a file to the line-by-line reading: a NUL, a lone CR, an indented line that is
# not a comment (a continued value, an indented header: its meaning depends on the lines
# before it). Each pattern starts with a literal, so the regex engine skips to it at C speed;
# the text is searched with a newline put in front, so the first line is a line like the rest.
_LONE_CR = re.compile(r"\r(?!\n)")
_INDENTED = re.compile(r"\n[^\S\n]+[^\s#;]")
# In a plain file every line that is not blank or a comment starts at column 0 and is a
# header, a "key = value" line, or an error (the line-by-line reading then names it).
_LINE_KIND = re.compile(r"\n(?:\[(.+)\]|([^\s#;=:][^=:\n]*)[=:]|[^\s#;])")  # header, key, fault


class IniError(CredFileError):
    """The text cannot be edited safely; ``line`` (1-based) says where when one line is to blame.

    Messages name lines and sections only, never a line's content: it may hold a secret.
    """

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {reason}" if line else reason)
        self.reason = reason
        self.line = line


# Plain classes, not dataclasses or NamedTuples: ``credential-process`` reads the credentials
# file through this module, and importing dataclasses or typing would cost it more than the
# reading does (docs/PERFORMANCE.md).


class _Line:
    __slots__ = ("end", "text")

    def __init__(self, text: str, end: str) -> None:
        self.text = text
        self.end = end  # "\r\n" or "\n"; "" only on a last line without a final newline


class _Option:
    __slots__ = ("continuations", "name", "parts", "start")

    def __init__(self, name: str, start: int, parts: list[str]) -> None:
        self.name = name  # lower-cased, as configparser's optionxform does
        self.start = start  # index of its "key = value" line
        self.parts = parts
        self.continuations: list[int] = []

    @property
    def value(self) -> str:
        return "\n".join(self.parts).rstrip()


class _Section:
    __slots__ = ("name", "options", "start", "stop")

    def __init__(self, name: str, start: int, stop: int) -> None:
        self.name = name
        self.start = start  # index of its header line
        self.stop = stop  # index of the next header, or the number of lines
        self.options: list[_Option] = []


_Sections = tuple[list[str], list[int]]  # the names of the sections, their headers' offsets


class _Span:
    """Where a section is in the text: from its header line to the next header line."""

    __slots__ = ("name", "start", "stop")

    def __init__(self, name: str, start: int, stop: int) -> None:
        self.name = name
        self.start = start  # offset of its header line in the body
        self.stop = stop  # offset of the next header line, or the body's length


class _Doc:
    """A parsed text; never changed once made (recent ones are reused, see _load)."""

    __slots__ = ("body", "bom", "final_newline", "names", "newline", "starts")

    def __init__(
        self, bom: str, body: str, final_newline: bool, newline: str, sections: _Sections
    ) -> None:
        self.bom = bom
        self.body = body  # the text after the BOM
        self.final_newline = final_newline
        self.newline = newline
        # Every section's name and the offset of its header line, in file order (names are
        # unique); plain lists, as a file of 10,000 profiles need not make 10,000 objects.
        self.names, self.starts = sections

    def span(self, place: int) -> _Span:
        stop = self.starts[place + 1] if place + 1 < len(self.starts) else len(self.body)
        return _Span(self.names[place], self.starts[place], stop)

    def place(self, name: str) -> int | None:
        try:
            return self.names.index(name)
        except ValueError:
            return None

    def line_number(self, offset: int) -> int:
        return self.body.count("\n", 0, offset) + 1


class _Block:
    """One section read line by line: its lines (the last one always has an end) and keys."""

    __slots__ = ("last", "lines", "section", "span")

    def __init__(self, span: _Span, lines: list[_Line], section: _Section, last: bool) -> None:
        self.span = span
        self.lines = lines
        self.section = section  # line indices relative to ``lines``
        self.last = last  # the section runs to the end of the file


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
    place = _find(doc, section, config_style)
    if place is None:
        return None
    return {o.name: o.value for o in _block(doc, place).section.options}


def upsert_section(
    text: str, section: str, values: Mapping[str, str], *, config_style: bool = False
) -> str:
    """Set ``values`` in ``[section]``: change those keys' lines in place, or append the section."""
    _check_section_name(section)
    _check_values(values)
    doc = _load(text)
    place = _find(doc, section, config_style)
    nl = doc.newline
    if place is None:
        # A fixed blank-line separator lets remove_keys undo the append exactly.
        appended = ([""] if doc.body else []) + [f"[{section}]"]
        appended.extend(f"{key} = {value}" for key, value in values.items())
        body = doc.body if doc.final_newline or not doc.body else doc.body + nl
        body += "".join(line + nl for line in appended)
        result = body if doc.final_newline else body[: -len(nl)]
        _verify(doc, result, None, section, dict(values), set())
        return doc.bom + result
    block = _block(doc, place)
    lines, found = block.lines, block.section
    edit = _Edit()
    existing = {option.name: option for option in found.options}
    added: list[tuple[str, str]] = []
    for key, value in values.items():
        option = existing.get(key)
        if option is None:
            added.append((key, value))
            continue
        line = lines[option.start]
        edit.replace[option.start] = _Line(f"{_indent(line.text)}{key} = {value}", line.end)
        edit.delete.update(option.continuations)
    if added:
        anchor, indent = _insertion_point(doc, block)
        edit.insert_after(anchor, [_Line(f"{indent}{k} = {v}", nl) for k, v in added])
    result = _splice(doc, block.span.start, block.span.stop, edit.apply(lines))
    _verify(doc, result, place, found.name, dict(values), set())
    return doc.bom + result


def set_value(text: str, section: str, key: str, value: str, *, config_style: bool = False) -> str:
    """Set one key, keeping its line's own spelling, delimiter and spacing when it is there.

    ``region=us-west-2`` becomes ``region=eu-west-1`` and back again byte for byte, which
    :func:`upsert_section` (which writes ``key = value``) would not give. A value of several
    lines, an absent key or an absent section goes through :func:`upsert_section`.
    """
    _check_section_name(section)
    _check_values({key: value})
    doc = _load(text)
    place = _find(doc, section, config_style)
    block = None if place is None else _block(doc, place)
    option = None
    if block is not None:
        option = next((o for o in block.section.options if o.name == key), None)
    if block is None or place is None or option is None or option.continuations:
        return upsert_section(text, section, {key: value}, config_style=config_style)
    line = block.lines[option.start]
    match = _OPTION.match(line.text.strip())
    if match is None:  # pragma: no cover - _parse matched this very line
        raise IniError("the file's layout is too unusual to edit safely")
    offset = len(_indent(line.text))
    start, stop = offset + match.start("value"), offset + match.end("value")
    edit = _Edit()
    edit.replace[option.start] = _Line(line.text[:start] + value + line.text[stop:], line.end)
    result = _splice(doc, block.span.start, block.span.stop, edit.apply(block.lines))
    _verify(doc, result, place, block.section.name, {key: value}, set())
    return doc.bom + result


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
    place = _find(doc, section, config_style)
    if place is None:
        return text
    block = _block(doc, place)
    lines, found = block.lines, block.section
    wanted = {key.lower() for key in keys}
    removed = [o for o in found.options if o.name in wanted]
    if not removed:
        return text
    edit = _Edit()
    for option in removed:
        edit.delete.add(option.start)
        edit.delete.update(option.continuations)
    section_gone = False
    start = block.span.start
    if len(removed) == len(found.options) and not keep_section:
        leftovers = [i for i in range(found.start + 1, found.stop) if i not in edit.delete]
        ours, theirs = _split_trailing_comments(lines, block.last, leftovers)
        if not any(lines[i].text.strip() for i in ours):
            section_gone = True
            edit.delete.add(found.start)
            edit.delete.update(ours)
            before = doc.body.rfind("\n", 0, max(start - 1, 0)) + 1
            if block.last and not theirs and start > 0 and doc.body[before:start] in ("\n", "\r\n"):
                start = before  # the separator upsert_section put before an appended section
    result = _splice(doc, start, block.span.stop, edit.apply(lines))
    gone = {o.name for o in removed}
    _verify(doc, result, place, found.name, {}, gone, section_gone)
    return doc.bom + result


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


def _splice(doc: _Doc, start: int, stop: int, lines: list[_Line]) -> str:
    """The body with ``[start, stop)`` replaced by ``lines``, keeping a missing final newline."""
    head = doc.body[:start]
    if stop == len(doc.body) and not doc.final_newline:
        if lines:
            lines[-1] = _Line(lines[-1].text, "")
        elif head:
            head = head[:-2] if head.endswith("\r\n") else head[:-1]
    return head + "".join(line.text + line.end for line in lines) + doc.body[stop:]


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
    body = text[len(bom) :]
    sections = _plain_sections(body)
    if sections is None:
        sections = _sections_line_by_line(body)
    crlf = body.count("\r\n")
    lf = body.count("\n") - crlf
    if crlf != lf:
        newline = "\r\n" if crlf > lf else "\n"
    else:
        first = body.find("\n")
        newline = "\r\n" if first > 0 and body[first - 1] == "\r" else "\n"
    return _Doc(bom, body, not body or body.endswith("\n"), newline, sections)


def _plain_sections(body: str) -> _Sections | None:
    """The sections of a plain file, checked as the line-by-line reading would check them;
    None when the file is not plain, or has any fault (the line-by-line reading names it)."""
    lines = "\n" + body  # match.start() in it is the offset of the line in the body
    if "\x00" in body or ("\r" in body and _LONE_CR.search(body)) or _INDENTED.search(lines):
        return None
    if not body.isascii():
        try:
            body.encode("utf-8")
        except UnicodeEncodeError:
            return None
    names: list[str] = []
    starts: list[int] = []
    seen: set[str] = set()
    keys: set[str] = set()
    add = keys.add  # the loop runs once per line of the file: kept lean
    for match in _LINE_KIND.finditer(lines):
        key = match[2]
        if key is not None:
            key = key.rstrip().lower()  # the text before the first delimiter
            if key in keys or not names:
                return None  # a key twice, or before the first header
            add(key)
            continue
        name = match[1]
        if name is None or name in seen:
            return None  # neither header nor key, or a header twice
        seen.add(name)
        names.append(name)
        starts.append(match.start())
        keys = set()
        add = keys.add
    return names, starts


def _sections_line_by_line(body: str) -> _Sections:
    """Every line classified as configparser would; raises IniError naming the first fault."""
    lines = _split(body)
    _check_characters(lines)
    offsets = list(
        itertools.accumulate((len(line.text) + len(line.end) for line in lines), initial=0)
    )
    sections = _parse(lines)
    return [s.name for s in sections], [offsets[s.start] for s in sections]


def _block(doc: _Doc, place: int) -> _Block:
    span = doc.span(place)
    lines = _split(doc.body[span.start : span.stop])
    last = span.stop == len(doc.body)
    if last and lines and not lines[-1].end:
        lines[-1] = _Line(lines[-1].text, doc.newline)
    try:
        (section,) = _parse(lines)
    except (IniError, ValueError):  # pragma: no cover - the whole file was read already
        raise IniError("the file's layout is too unusual to edit safely") from None
    return _Block(span, lines, section, last)


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


@functools.lru_cache(maxsize=1024)
def _botocore_profile(section: str) -> str | None:
    """The profile botocore's config loader files this ``~/.aws/config`` section under."""
    if section.startswith("profile"):
        import shlex

        try:
            parts = shlex.split(section)
        except ValueError:
            return None
        return parts[1] if len(parts) == 2 else None
    return DEFAULT_PROFILE if section == DEFAULT_PROFILE else None


def _find(doc: _Doc, section: str, config_style: bool) -> int | None:
    """The place of ``[section]`` in ``doc.names``; None when it is absent."""
    profile = _botocore_profile(section) if config_style else None
    if profile is None:
        return doc.place(section)
    # shlex splits on whitespace, so only a header that holds the name, or quotes or escapes
    # (which can join pieces into it), can be filed under that profile: others are not asked.
    found = [
        place
        for place, name in enumerate(doc.names)
        if (profile in name or "'" in name or '"' in name or "\\" in name)
        and _botocore_profile(name) == profile
    ]
    if len(found) > 1:
        lines = [doc.line_number(doc.starts[place]) for place in found]
        raise IniError(
            f"section [{shown(section)}] appears more than once "
            f"(lines {', '.join(str(n) for n in lines)}), so it is unclear which to edit",
            lines[1],
        )
    return found[0] if found else None


def _insertion_point(doc: _Doc, block: _Block) -> tuple[int, str]:
    """Where new keys go in an existing section, and the indent that keeps them keys.

    New lines take the indent of the line before them (or of the next header), so
    no following line turns into a continuation of their value.
    """
    section = block.section
    if section.options:
        last = section.options[-1]
        anchor = last.continuations[-1] if last.continuations else last.start
        return anchor, _indent(block.lines[last.start].text)
    stop = block.span.stop
    end = doc.body.find("\n", stop)
    following = doc.body[stop:] if end < 0 else doc.body[stop:end]
    return section.start, _indent(following.removesuffix("\r"))


def _split_trailing_comments(
    lines: list[_Line], last: bool, leftovers: list[int]
) -> tuple[list[int], list[int]]:
    """Split a section's leftover lines into its own and the comments that head the next one.

    The comment lines after the last blank line sit right above the next header
    and describe it; at the end of the file there is no next section.
    """
    if last:
        return leftovers, []
    blanks = [n for n, i in enumerate(leftovers) if not lines[i].text.strip()]
    cut = blanks[-1] + 1 if blanks else 0
    return leftovers[:cut], leftovers[cut:]


def _check_section_name(section: str) -> None:
    if section == _DEFAULT_SECTION:
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


def _verify(
    doc: _Doc,
    result: str,
    place: int | None,
    section: str,
    values: dict[str, str],
    removed: set[str],
    section_gone: bool = False,
) -> None:
    """Check the edit with configparser itself: anything unexpected is refused, not written.

    The edited section is read with the sections on either side of it (``place`` None: the
    last one, after which a section was appended), before and after the edit; the text
    outside those sections must be the same bytes. A section starts a fresh state of the
    reader and its neighbours would show any line that changed meaning across a boundary
    (a header that became a continuation, a section that swallowed the next one), so this
    checks what reading the whole file would.
    """
    body, count = doc.body, len(doc.names)
    if place is None:
        start = doc.starts[-1] if count else 0
        stop = len(body)
    else:
        start = doc.starts[place - 1] if place > 0 else 0
        stop = doc.span(place + 1).stop if place + 1 < count else len(body)
    tail = len(body) - stop
    if result[:start] != body[:start] or result[len(result) - tail :] != body[stop:]:
        raise IniError("the file's layout is too unusual to edit safely")
    expected: list[tuple[str, dict[str, str]]] = []
    for name, items in _read_like_botocore(body[start:stop], "before"):
        if place is not None and name == section:
            if section_gone:
                continue
            items = {k: v for k, v in items.items() if k not in removed} | values
        expected.append((name, items))
    if place is None:
        expected.append((section, values))
    after = _read_like_botocore(result[start : len(result) - tail], "after")
    outside = {name for name, _ in after} - {name for name, _ in expected}
    if after != expected or outside or (place is None and section in doc.names):
        raise IniError("the file's layout is too unusual to edit safely")


def _read_like_botocore(body: str, when: str) -> list[tuple[str, dict[str, str]]]:
    # default_section="\x00" (NUL is refused) keeps [DEFAULT] a plain section here.
    import configparser

    parser = configparser.RawConfigParser(default_section="\x00")
    try:
        parser.read_string(body)
    except configparser.Error:
        raise IniError(
            f"the text cannot be read the way AWS tools read it ({when} the edit)"
        ) from None
    return [(name, dict(parser.items(name, raw=True))) for name in parser.sections()]
