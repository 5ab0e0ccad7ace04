"""The INI editor: only the edited section changes, everything else stays byte for byte."""

from __future__ import annotations

import configparser
import os
import re
import tempfile

import botocore.configloader
import botocore.exceptions
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trayapp.core.errors import CredFileError
from trayapp.core.inifile import (
    config_section_name,
    get_section,
    remove_keys,
    set_value,
    upsert_section,
)

OURS = {
    "aws_access_key_id": "ASIAOURS0000000001",
    "aws_secret_access_key": "s3cr3t/Key+value==",
    "aws_session_token": "FwoGZXIvYXdzE" + "x" * 300,
    "x_security_token_expires": "2026-11-24T15:42:00Z",
}
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"


def botocore_reads(text: str) -> bool:
    """Whether botocore's own loader reads the text (BOM aside, which it never reads)."""
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", newline="", suffix=".ini") as handle:
        handle.write(text.removeprefix("\ufeff"))
        handle.flush()
        try:
            botocore.configloader.raw_config_parse(handle.name)
        except botocore.exceptions.ConfigParseError:
            return False
    return True


def parsed(text: str) -> dict[str, dict[str, str]]:
    """What configparser (as botocore uses it) reads, BOM aside."""
    parser = configparser.RawConfigParser()
    parser.read_string(text.removeprefix("\ufeff"))
    return {name: dict(parser.items(name, raw=True)) for name in parser.sections()}


def big_file(final_newline: bool) -> str:
    parts = [
        "# AWS credentials, kept by hand\r\n",
        "; second comment style\r\n",
        "\r\n",
        "[default]\r\n",
        "aws_access_key_id = AKIASTATICDEFAULT01\r\n",
        f"aws_secret_access_key = {SECRET}\r\n",
        "\r\n",
    ]
    for n in range(50):
        parts.append(f"# profile {n}\r\n[foreign-{n}]\r\n")
        parts.append(f"aws_access_key_id = AKIAFOREIGN{n:08d}\r\n")
        parts.append(f"aws_secret_access_key = secret{n}\r\n")
        parts.append("  region = eu-west-1\r\n" if n % 7 == 0 else "region=us-east-1\r\n")
        if n % 10 == 0:
            parts.append("\r\n")
    text = "".join(parts)
    return text if final_newline else text.removesuffix("\r\n")


@pytest.mark.parametrize("final_newline", [True, False])
def test_auth_then_unauth_returns_the_file_byte_for_byte(final_newline: bool) -> None:
    original = big_file(final_newline)
    written = upsert_section(original, "dev-DEVELOPER", OURS)
    assert written.startswith(original)
    assert "\n[dev-DEVELOPER]\r\n" in written
    assert written.count("\r\n") == written.count("\n"), "a new line broke the CRLF style"
    assert written.endswith("\r\n") == final_newline
    assert get_section(written, "dev-DEVELOPER") == OURS
    before, after = parsed(original), parsed(written)
    assert after.pop("dev-DEVELOPER") == OURS
    assert after == before
    assert remove_keys(written, "dev-DEVELOPER", OURS) == original


@pytest.mark.parametrize(
    "original",
    ["", "\n", "\ufeff", "\ufeff[a]\nx = 1\n", "# only a comment", "   ", "[a]\nx = 1\n\n\n"],
)
def test_round_trip_on_small_files(original: str) -> None:
    written = upsert_section(original, "ours", {"k": "v"})
    assert written.startswith(original)
    assert get_section(written, "ours") == {"k": "v"}
    assert remove_keys(written, "ours", ["k"]) == original


def test_append_layout() -> None:
    assert upsert_section("", "ours", {"k": "v"}) == "[ours]\nk = v\n"
    assert upsert_section("[a]\nx = 1\n", "ours", {"k": "v"}) == "[a]\nx = 1\n\n[ours]\nk = v\n"
    assert upsert_section("[a]\nx = 1", "ours", {"k": "v"}) == "[a]\nx = 1\n\n[ours]\nk = v"
    assert upsert_section("\ufeff", "ours", {"k": "v"}) == "\ufeff[ours]\nk = v\n"


def test_upsert_in_place_keeps_comments_and_other_keys() -> None:
    text = (
        "[a]\nx = 1\n\n"
        "[ours]\n# my note\nregion = eu-west-1\nAWS_ACCESS_KEY_ID=old\n; keep\noutput = json\n"
        "\n# about b\n[b]\ny = 2\n"
    )
    result = upsert_section(text, "ours", {"aws_access_key_id": "new", "aws_session_token": "t"})
    assert result == (
        "[a]\nx = 1\n\n"
        "[ours]\n# my note\nregion = eu-west-1\naws_access_key_id = new\n; keep\noutput = json\n"
        "aws_session_token = t\n"
        "\n# about b\n[b]\ny = 2\n"
    )


def test_upsert_replaces_a_multi_line_value_whole() -> None:
    text = "[ours]\nk = first\n  second\n\n  third\nother = 1\n"
    result = upsert_section(text, "ours", {"k": "v"})
    assert result == "[ours]\nk = v\n\nother = 1\n"
    assert parsed(result)["ours"] == {"k": "v", "other": "1"}


def test_upsert_at_the_end_of_a_file_without_final_newline() -> None:
    assert upsert_section("[ours]\na = 1", "ours", {"b": "2"}) == "[ours]\na = 1\nb = 2"
    assert upsert_section("[ours]\na = 1\n  more", "ours", {"a": "2"}) == "[ours]\na = 2"


def test_new_keys_take_the_indent_that_keeps_the_next_header_a_header() -> None:
    # "  [b]" right after an empty [ours] is a header; after "k = v" it would be a value line.
    text = "[ours]\n  [b]\nx = 1\n"
    result = upsert_section(text, "ours", {"k": "v"})
    assert result == "[ours]\n  k = v\n  [b]\nx = 1\n"
    assert parsed(result) == {"ours": {"k": "v"}, "b": {"x": "1"}}
    indented = "[ours]\n    a = 1\n    [b]\nx = 1\n"
    result = upsert_section(indented, "ours", {"k": "v"})
    assert parsed(result) == {"ours": {"a": "1", "k": "v"}, "b": {"x": "1"}}


def test_remove_keeps_user_keys_with_the_header() -> None:
    text = "[ours]\nregion = eu-west-1\naws_access_key_id = A\naws_session_token = T\n"
    assert remove_keys(text, "ours", OURS) == "[ours]\nregion = eu-west-1\n"


def test_remove_drops_the_section_but_not_the_next_sections_comments() -> None:
    text = "[a]\nx = 1\n\n[ours]\nk = v\n\n# about b\n[b]\ny = 2\n"
    assert remove_keys(text, "ours", ["k"]) == "[a]\nx = 1\n\n# about b\n[b]\ny = 2\n"
    text = "[a]\nx = 1\n[ours]\nk = v\n# about b\n[b]\ny = 2\n"
    assert remove_keys(text, "ours", ["k"]) == "[a]\nx = 1\n# about b\n[b]\ny = 2\n"


def test_remove_keeps_a_section_that_has_comments_of_its_own() -> None:
    text = "[ours]\n# written by aacli for dev\nk = v\n\n[b]\ny = 2\n"
    assert remove_keys(text, "ours", ["k"]) == "[ours]\n# written by aacli for dev\n\n[b]\ny = 2\n"
    last = "[a]\nx = 1\n\n[ours]\nk = v\n# trailing note"
    assert remove_keys(last, "ours", ["k"]) == "[a]\nx = 1\n\n[ours]\n# trailing note"


def test_remove_of_an_absent_section_or_key_changes_nothing() -> None:
    text = "[a]\r\nx = 1"
    assert remove_keys(text, "ours", ["k"]) is text
    assert remove_keys(text, "a", ["k"]) is text


def test_weird_but_readable_foreign_content_is_kept() -> None:
    text = (
        "\t# tab comment\n"
        "[DEFAULT]\nshared = 1\n"
        "[spaced]  \n"
        "colon: value # not a comment to configparser\n"
        "multi =\n  s3 = x\n  y = z\n"
        "[profile  odd]\nk\t=\tv\n"
    )
    result = upsert_section(text, "ours", {"k": "v"})
    assert result.startswith(text)
    assert remove_keys(result, "ours", ["k"]) == text
    assert get_section(text, "spaced") == {
        "colon": "value # not a comment to configparser",
        "multi": "\ns3 = x\ny = z",
    }


def test_config_sections_match_like_botocore() -> None:
    assert config_section_name("default") == "default"
    assert config_section_name("dev-Admin") == "profile dev-Admin"
    text = "[profile  dev]\nregion = eu-west-1\n"
    assert get_section(text, "profile dev", config_style=True) == {"region": "eu-west-1"}
    assert get_section(text, "profile dev") is None  # credentials-file names are exact
    result = upsert_section(text, "profile dev", {"region": "us-east-2"}, config_style=True)
    assert result == "[profile  dev]\nregion = us-east-2\n"
    both = "[default]\nregion = a\n[profile default]\nregion = b\n"
    with pytest.raises(CredFileError, match="line 3"):
        upsert_section(both, "default", {"region": "c"}, config_style=True)
    with pytest.raises(ValueError):
        config_section_name("two words")


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (f"aws_secret_access_key = {SECRET}\n[ours]\n", 1, "before the first"),
        (f"[ours]\n{SECRET}\n", 2, "neither a comment"),
        (f"[a]\nk = {SECRET}\nK = {SECRET}\n", 3, "twice"),
        ("[a]\n[b]\n[a]\n", 3, "second time"),
        ("[ours]\nk = 1\n[ours]\n", 3, "second time"),
        ("[a]\nk = 1\x00\n", 2, "NUL"),
        ("[a]\rk = 1\n", 1, "carriage return"),
        (f"[a]\n= {SECRET}\n", 2, "neither a comment"),
        (f"[a]\ns3 =\n  {SECRET}\n", 2, "nested"),
        ("[a]\nk = \ud800\n", 2, "UTF-8"),
    ],
)
def test_refusals_name_the_line_never_the_content(text: str, line: int, words: str) -> None:
    for attempt in (
        lambda: upsert_section(text, "ours", OURS),
        lambda: remove_keys(text, "ours", OURS),
        lambda: get_section(text, "ours"),
    ):
        with pytest.raises(CredFileError) as caught:
            attempt()
        message = str(caught.value)
        assert message.startswith(f"line {line}:"), message
        assert words in message
        assert SECRET not in message
        assert "\ud800" not in message


def test_profile_config_duplicate_refused_with_both_lines() -> None:
    text = "[profile dev]\na = 1\n[profile  dev]\nb = 2\n"
    with pytest.raises(CredFileError, match=r"lines 1, 3"):
        remove_keys(text, "profile dev", ["a"], config_style=True)


def test_bad_arguments_are_programming_errors() -> None:
    with pytest.raises(ValueError, match="aws_session_token"):
        upsert_section("", "ours", {"aws_session_token": "a\nb"})
    with pytest.raises(ValueError) as caught:
        upsert_section("", "o", {"k": "a\nb"})
    assert "a\nb" not in str(caught.value)
    for name in ("", " x", "y ", "x\ny"):
        with pytest.raises(ValueError):
            upsert_section("", name, {"k": "v"})
    with pytest.raises(CredFileError, match="every profile"):
        upsert_section("", "DEFAULT", {"k": "v"})


# --- properties over generated files -------------------------------------------------

NAMES = st.sampled_from(
    ["default", "dev", "prod-ReadOnly", "profile dev", "profile  stage", "a.b@c", "ünïcode", "x y"]
)
KEYS = st.sampled_from(
    ["aws_access_key_id", "AWS_Secret_Access_Key", "region", "output", "s3", "role_arn", "k"]
)
VALUES = st.sampled_from(["", "v", "AKIAXXXX", "a = b", "x # y", "é", "tab\there", "  spaced  "])
INDENT = st.sampled_from(["", "", "", " ", "\t", "   "])


@st.composite
def option_lines(draw: st.DrawFn, key: str) -> list[str]:
    value, indent = draw(VALUES), draw(INDENT)
    delimiter = draw(st.sampled_from([" = ", "=", ": ", " =\t", "  =  "]))
    lines = [f"{indent}{key}{delimiter}{value}"]
    for _ in range(draw(st.integers(0, 2))):
        lines.append(draw(st.sampled_from(["", "# between"])) if draw(st.booleans()) else "")
        lines.append(f"{indent}    more = {draw(VALUES)}")
    return lines


FILLER = st.sampled_from(["", "", "   ", "\t", "# comment", "  ; other comment", "#[ours]"])
JUNK = st.sampled_from(["junk line", "= value", "[unclosed", "\x0cform feed"])


@st.composite
def ini_texts(draw: st.DrawFn) -> str:
    lines = ["\ufeff"] if draw(st.integers(0, 9)) == 0 else []
    lines += draw(st.lists(FILLER, max_size=3))
    for name in draw(st.lists(NAMES, max_size=5, unique=True)):
        lines.append(
            draw(st.sampled_from(["[{}]"] * 6 + [" [{}] ", "\t[{}]", "[{}] # c"])).format(name)
        )
        for key in draw(st.lists(KEYS, max_size=4, unique_by=str.lower)):
            lines += draw(option_lines(key))
            lines += draw(st.lists(FILLER, max_size=2))
        if draw(st.integers(0, 29)) == 13:
            lines.append(draw(JUNK))
    newlines = draw(st.sampled_from([["\n"], ["\r\n"], ["\n", "\r\n"]]))
    text = lines.pop(0) if lines and lines[0] == "\ufeff" else ""
    for line in lines:
        text += line + draw(st.sampled_from(newlines))
    if draw(st.booleans()):
        text = text.removesuffix("\n").removesuffix("\r")
    return text


# `make mutate` runs these once per mutant, so it asks for fewer examples (docs/TESTING.md).
EXAMPLES = int(os.environ.get("AACLI_PROPERTY_EXAMPLES", "300"))
PROPERTY = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY
@given(ini_texts(), st.sampled_from(["aacli-fresh", "dev-DEVELOPER"]))
def test_upsert_then_remove_of_a_fresh_section_is_exact(text: str, name: str) -> None:
    try:
        present = get_section(text, name)
    except CredFileError:
        # Refused only what botocore cannot read either (or a repeated [DEFAULT]).
        assert not botocore_reads(text) or text.count("[DEFAULT]") > 1
        return
    assert botocore_reads(text), "the editor accepted a file botocore cannot read"
    if present is not None:
        return
    before = parsed(text)
    written = upsert_section(text, name, OURS)
    assert written.startswith(text)
    assert botocore_reads(written)
    after = parsed(written)
    assert after.pop(name) == OURS
    assert after == before
    assert remove_keys(written, name, OURS) == text


@PROPERTY
@given(ini_texts(), st.data())
def test_upsert_into_an_existing_section_touches_nothing_else(
    text: str, data: st.DataObject
) -> None:
    try:
        before = parsed(text)
    except configparser.Error:
        return
    if not before:
        return
    name = data.draw(st.sampled_from(sorted(before)))
    values = data.draw(
        st.dictionaries(st.sampled_from([*OURS, "region"]), VALUES.map(str.strip), min_size=1)
    )
    try:
        written = upsert_section(text, name, values)
    except CredFileError:
        assert not botocore_reads(text)
        return
    after = parsed(written)
    assert after.pop(name) == before.pop(name) | values
    assert after == before
    header_at = text.find(f"[{name}]")
    assert written[:header_at] == text[:header_at]
    again = upsert_section(written, name, values)
    assert again == written, "a second identical upsert must change nothing"


@PROPERTY
@given(
    ini_texts(), st.sampled_from(["dev", "aacli-fresh", "default", "profile dev"]), st.booleans()
)
def test_the_editor_only_ever_raises_cred_file_errors(text: str, name: str, config: bool) -> None:
    for attempt in (
        lambda: upsert_section(text, name, OURS, config_style=config),
        lambda: remove_keys(text, name, [*OURS, "region"], config_style=config),
        lambda: get_section(text, name, config_style=config),
    ):
        try:
            attempt()
        except CredFileError as exc:
            assert str(exc).startswith("line ") or "unusual" in str(exc)
            assert OURS["aws_secret_access_key"] not in str(exc)


@PROPERTY
@given(ini_texts())
def test_remove_never_touches_foreign_sections(text: str) -> None:
    try:
        before = parsed(text)
        written = upsert_section(text, "aacli-x", {"k": "v"}) if "aacli-x" not in before else text
        removed = remove_keys(written, "dev", OURS)
    except (configparser.Error, CredFileError):
        return
    after = parsed(removed)
    before.pop("dev", None)
    dev = after.pop("dev", None)
    after.pop("aacli-x", None)
    assert after == before
    assert dev is None or not set(dev) & set(OURS)


# --- every byte outside aacli's own lines, mixed line endings too -----------------------

EDITED = "dev-DEVELOPER"
OWNED_KEYS = st.sampled_from([*OURS, "AWS_Session_Token", "region"])


@st.composite
def files_with_owned_lines(draw: st.DrawFn) -> tuple[list[tuple[str, str]], dict[str, int]]:
    """A file as (text, ending) lines, each ending drawn on its own (mixed CRLF/LF), with a
    ``[dev-DEVELOPER]`` section; returns the lines and, per owned key, the index of its line.

    Owned keys are single-line values, each followed by a foreign key or a header, so the
    lines aacli owns are exactly those; foreign keys may span several lines.
    """
    endings = draw(st.sampled_from([["\n"], ["\r\n"], ["\n", "\r\n"], ["\r\n", "\r\n", "\n"]]))
    lines: list[tuple[str, str]] = []
    owned: dict[str, int] = {}

    def add(text: str) -> None:
        lines.append((text, draw(st.sampled_from(endings))))

    def foreign_section(name: str) -> None:
        add(f"[{name}]")
        for key in draw(st.lists(KEYS, max_size=3, unique_by=str.lower)):
            add(f"{key}{draw(st.sampled_from([' = ', '=', ': ']))}{draw(VALUES)}")
            for _ in range(draw(st.integers(0, 2))):  # a value of several lines
                add(f"    more = {draw(VALUES)}")
            for text in draw(st.lists(FILLER, max_size=2)):
                add(text)

    for text in draw(st.lists(FILLER, max_size=2)):
        add(text)
    before = draw(st.lists(st.sampled_from(["default", "dev", "prod"]), max_size=2, unique=True))
    for name in before:
        foreign_section(name)
    add(f"[{EDITED}]")
    add("zz_keep = kept by the user")  # the section always keeps a key of its own
    for n, key in enumerate(
        draw(st.lists(OWNED_KEYS, min_size=1, max_size=4, unique_by=str.lower))
    ):
        for text in draw(st.lists(FILLER, max_size=2)):
            add(text)
        delimiter = draw(st.sampled_from([" = ", "=", " =\t", ": "]))
        owned[key.lower()] = len(lines)
        # Not indented: after another key, an indented line would continue that key's value.
        add(f"{key}{delimiter}{draw(VALUES).strip() or 'old'}")
        add(f"zz_after_{n} = foreign {n}")
    for name in draw(
        st.lists(st.sampled_from(["stage", "x y", "ünïcode"]), max_size=2, unique=True)
    ):
        foreign_section(name)
    if lines[-1][0] and draw(st.booleans()):
        lines[-1] = (lines[-1][0], "")  # no final newline
    return lines, owned


def _joined(lines: list[tuple[str, str]]) -> str:
    return "".join(text + end for text, end in lines)


def _lines(text: str) -> list[tuple[str, str]]:
    """(text, ending) lines, endings kept exactly ("" on a last line without one)."""
    parts = re.split(r"(\r\n|\n)", text)
    pairs = list(zip(parts[0::2], parts[1::2]))
    return [*pairs, (parts[-1], "")] if parts[-1] else pairs


@PROPERTY
@given(files_with_owned_lines(), st.data())
def test_an_in_place_edit_keeps_every_byte_it_does_not_own(drawn, data: st.DataObject) -> None:
    """Issue 17 item 3: after an upsert into an existing section, every line aacli does not
    own is there byte for byte (its own ending included), and a rewritten line keeps the
    ending it had, even where the file mixes CRLF and LF."""
    lines, owned = drawn
    keys = data.draw(st.lists(st.sampled_from([*OURS, "region"]), min_size=1, unique=True))
    values = {key: f"new-{key}-value" for key in keys}
    got = _lines(upsert_section(_joined(lines), EDITED, values))

    expected = list(lines)
    for key, index in owned.items():
        if key in values:  # rewritten in place: same indent, the line's own ending
            text, ending = lines[index]
            expected[index] = (
                f"{text[: len(text) - len(text.lstrip())]}{key} = {values[key]}",
                ending,
            )
    added = {f"{key} = {value}" for key, value in values.items() if key not in owned}
    new_lines = [line for line in got if line[0].strip() in added]
    assert len(new_lines) == len(added), "a new key is missing or written twice"
    if new_lines:
        at = got.index(new_lines[0])
        assert got[at : at + len(new_lines)] == new_lines, "new keys are one block"
        if at == len(lines) and lines[-1][1] == "":
            # Appended after a last line that had no ending: it gets one, the file still ends
            # without a newline; this ending is the only byte outside our lines that changes.
            assert got[at - 1][1] in ("\n", "\r\n") and got[-1][1] == ""
            expected[-1] = (lines[-1][0], got[at - 1][1])
        expected[at:at] = new_lines
    assert got == expected


@PROPERTY
@given(files_with_owned_lines())
def test_removing_our_keys_keeps_every_other_byte(drawn) -> None:
    """Issue 17 item 3: removing aacli's keys deletes exactly their lines; every other byte,
    each line's own ending included, stays."""
    lines, owned = drawn
    text = _joined(lines)
    removed = remove_keys(text, EDITED, list(owned))
    keep = [line for i, line in enumerate(lines) if i not in owned.values()]
    expected = _joined(keep)
    if not text.endswith(("\n", "\r\n")) and lines[-1] != keep[-1]:
        expected = expected.removesuffix("\r\n").removesuffix("\n")  # still no final newline
    assert removed == expected


@PROPERTY
@given(files_with_owned_lines(), st.sampled_from(["eu-west-1", "us-east-2", "x"]))
def test_set_value_changes_only_the_value_and_goes_back_byte_for_byte(drawn, value: str) -> None:
    """Issue 17 item 12 (mutation survivors): set_value rewrites just the value of an existing
    one-line key, keeping its spelling, delimiter and ending; setting the old value back gives
    the file byte for byte; an absent key goes through upsert_section."""
    lines, owned = drawn
    text = _joined(lines)
    before = get_section(text, EDITED)
    assert before is not None
    changed = set_value(text, EDITED, "region", value)
    assert get_section(changed, EDITED) == before | {"region": value}
    if "region" not in owned:
        assert changed == upsert_section(text, EDITED, {"region": value})
        return
    index = owned["region"]
    old_text, ending = lines[index]
    expected = list(lines)
    expected[index] = (old_text[: len(old_text) - len(before["region"])] + value, ending)
    assert _lines(changed) == expected
    assert set_value(changed, EDITED, "region", before["region"]) == text
