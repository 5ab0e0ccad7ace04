"""The INI editor at 10,000 foreign profiles: the cost follows the sections an edit touches,
every foreign byte stays, the whole file is still checked, and a damaged edit is still caught.

Cost is shown without timing anything: the tests count how much text is read line by line and
how much configparser reads to verify an edit (both were the whole file before).
"""

from __future__ import annotations

import configparser
import os
import shlex
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import ROOT
from hypothesis import given
from test_inifile import OURS, PROPERTY, ini_texts

from trayapp.core import credfile, inifile
from trayapp.core.errors import CredFileError
from trayapp.core.inifile import get_section, remove_keys, set_value, upsert_section
from trayapp.core.model import Credentials

PROFILES = 10_000
MIDDLE = "foreign-05000"


def foreign_file(count: int = PROFILES, *, config: bool = False) -> str:
    """A file of ``count`` profiles with comments, blank lines, both delimiters, CRLF lines."""
    prefix = "profile " if config else ""
    parts = ["# kept by hand\n", "; two comment styles\n", "\n"]
    for n in range(count):
        nl = "\r\n" if n % 97 == 0 else "\n"
        parts.append(f"# team profile {n}{nl}[{prefix}foreign-{n:05d}]{nl}")
        parts.append(f"aws_access_key_id = AKIAFOREIGN{n:09d}{nl}")
        parts.append(f"aws_secret_access_key={'s' * 40}{nl}")
        parts.append(f"region: eu-west-{n % 3 + 1}{nl}")
        if n % 5 == 0:
            parts.append(nl)
    return "".join(parts)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[int]]:
    """How many characters configparser reads per call, and how many lines are split one by one."""
    seen: dict[str, list[int]] = {"configparser": [], "split": []}
    read_string = configparser.RawConfigParser.read_string
    split = inifile._split

    def counted_read(self: configparser.RawConfigParser, string: str, source: str = "") -> None:
        seen["configparser"].append(len(string))
        read_string(self, string, source)

    def counted_split(body: str) -> list[object]:
        lines = split(body)
        seen["split"].append(len(lines))
        return lines  # type: ignore[return-value]

    monkeypatch.setattr(configparser.RawConfigParser, "read_string", counted_read)
    monkeypatch.setattr(inifile, "_split", counted_split)
    return seen


def outside(text: str, section: str) -> tuple[str, str]:
    """The text before ``[section]``'s header, and from the next header on."""
    start = text.index(f"[{section}]")
    stop = text.index("\n[", start) + 1
    return text[:start], text[stop:]


def test_edits_at_10000_profiles_keep_every_foreign_byte_and_read_only_their_neighbours(
    reads: dict[str, list[int]],
) -> None:
    """Issue 16 perf (10,000 profiles): append, in-place edit, removal and set_value keep every
    byte they do not own, and verify by reading a few sections only, not the 1.5 MiB file."""
    text = foreign_file()
    assert len(text) > 1_000_000

    appended = upsert_section(text, "dev-DEVELOPER", OURS)
    assert appended.startswith(text)
    assert get_section(appended, "dev-DEVELOPER") == OURS
    assert remove_keys(appended, "dev-DEVELOPER", OURS) == text

    changed = upsert_section(text, MIDDLE, {"region": "us-east-2", "output": "json"})
    assert outside(changed, MIDDLE) == outside(text, MIDDLE)
    assert get_section(changed, MIDDLE) == {
        "aws_access_key_id": "AKIAFOREIGN000005000",
        "aws_secret_access_key": "s" * 40,
        "region": "us-east-2",
        "output": "json",
    }
    restored = remove_keys(changed, MIDDLE, ["output"])
    assert restored.replace("region = us-east-2", "region: eu-west-3") == text

    config = foreign_file(config=True)
    section = f"profile {MIDDLE}"
    regional = set_value(config, section, "region", "ap-south-1", config_style=True)
    assert outside(regional, section) == outside(config, section)
    assert set_value(regional, section, "region", "eu-west-3", config_style=True) == config

    assert max(reads["configparser"]) < 2_000, "verification read more than the neighbours"
    assert max(reads["split"]) < 50, "a plain file was read line by line"


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("aws_access_key_id = AKIATWICE\n", "twice"),
        ("a line without a delimiter\n", "neither a comment"),
        ("= no key\n", "neither a comment"),
        ("k = a NUL \x00 here\n", "NUL"),
        ("k = a lone CR \r here\n", "carriage return"),
        ("[foreign-00003]\n", "second time"),
        ("k = \ud800\n", "UTF-8"),
    ],
)
def test_a_fault_in_the_last_of_10000_profiles_is_still_refused(
    reads: dict[str, list[int]], fault: str, words: str
) -> None:
    """Issue 16 perf (10,000 profiles): the whole file is still checked on every edit; a fault
    in the last profile refuses an edit of the first, naming the line, never its content."""
    text = foreign_file()
    assert get_section(text, "foreign-00000") is not None
    assert max(reads["split"]) < 50  # the clean file took the plain reading
    broken = text + fault
    line = text.count("\n") + 1
    for attempt in (
        lambda: upsert_section(broken, "foreign-00000", {"region": "x"}),
        lambda: remove_keys(broken, "foreign-00000", ["region"]),
        lambda: get_section(broken, "foreign-00000"),
    ):
        with pytest.raises(CredFileError) as caught:
            attempt()
        message = str(caught.value)
        assert words in message
        assert message.startswith(f"line {line}:"), message
        assert "AKIATWICE" not in message and "NUL \x00" not in message


def test_two_spellings_of_one_config_profile_among_10000_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 16 perf (10,000 profiles): botocore's view of ``[profile  x]`` is still applied to
    every header, though only the headers that can name the profile are split like shlex."""
    splits: list[str] = []
    split = shlex.split
    monkeypatch.setattr(shlex, "split", lambda s: splits.append(s) or split(s))
    config = foreign_file(config=True) + "[profile  foreign-09999]\nregion = x\n"
    first = config.count("\n", 0, config.index("[profile foreign-09999]")) + 1
    with pytest.raises(CredFileError, match=rf"lines {first}, "):
        get_section(config, "profile foreign-09999", config_style=True)
    quoted = foreign_file(500, config=True) + "[profile 'fo''reign-00499']\nregion = x\n"
    with pytest.raises(CredFileError, match="more than once"):
        get_section(quoted, "profile foreign-00499", config_style=True)
    assert len(splits) < 10, "every header was split like shlex"


def damage_far_away(result: str) -> str:
    return result.replace("AKIAFOREIGN000000010", "AKIAFOREIGN000000011", 1)


def damage_next_header(result: str) -> str:
    return result.replace("\n[foreign-05001]", "\n  [foreign-05001]", 1)


def damage_own_section(result: str) -> str:
    start = result.index(f"[{MIDDLE}]")
    return result[:start] + result[start:].replace("region: eu-west-3\n", "", 1)


@pytest.mark.parametrize("damage", [damage_far_away, damage_next_header, damage_own_section])
def test_a_damaged_edit_at_10000_profiles_is_caught_and_nothing_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage
) -> None:
    """Issue 16 perf (10,000 profiles): the local verification still catches an edit that
    changed a byte far away, turned the next header into a continuation, or lost a foreign key
    of the edited section; the file on disk stays as it was."""
    path = tmp_path / "credentials"
    path.write_text(foreign_file(), encoding="utf-8", newline="")
    before = path.read_bytes()
    splice = inifile._splice
    monkeypatch.setattr(inifile, "_splice", lambda *args: damage(splice(*args)))
    creds = Credentials(
        access_key_id="ASIAOURS0000000001",
        secret_access_key="s3cr3t",
        session_token="token",
        expiration=datetime.now(timezone.utc) + timedelta(hours=1),
    )
    with pytest.raises(CredFileError, match=r"unusual|cannot be read"):
        # MIDDLE's keys are foreign: say they are ours so the edit is attempted at all.
        credfile.write_profile_credentials(path, MIDDLE, creds, {"AKIAFOREIGN000005000"})
    assert path.read_bytes() == before


@PROPERTY
@given(ini_texts())
def test_the_plain_reading_agrees_with_the_line_by_line_reading(text: str) -> None:
    """Issue 16 perf: where the fast whole-text reading of a plain file answers, it finds the
    very sections the line-by-line reading finds; where that one refuses, it does not answer."""
    body = text.removeprefix(inifile.BOM)
    plain = inifile._plain_sections(body)
    try:
        exact = inifile._sections_line_by_line(body)
    except CredFileError:
        assert plain is None
        return
    assert plain is None or plain == exact


def test_reading_an_ini_file_imports_nothing_heavy() -> None:
    """Issue 16 perf (credential-process reads the credentials file through inifile):
    importing it loads no configparser, dataclasses or typing; its written-out copies of
    configparser's patterns read every kind of line as configparser's own do."""
    code = (
        "import sys, trayapp.core.inifile\n"
        "print(','.join(m for m in ('configparser', 'dataclasses', 'typing', 'shlex')"
        " if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd="/",
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == ""
    theirs = configparser.RawConfigParser
    lines = ["[a]", "[a] # c", "[]]", "[[x]]y", "k = v", "k:v", "k=", " = v", "a b : c = d"]
    lines += ["no delimiter", "k  =  v  ", "[unclosed", "x=y:z", "\tk\t=\tv"]
    for line in lines:
        for ours, real in ((inifile._SECTION, theirs.SECTCRE), (inifile._OPTION, theirs.OPTCRE)):
            mine, them = ours.match(line), real.match(line)
            assert (mine and mine.groupdict()) == (them and them.groupdict()), line
        assert inifile._NONSPACE.search(line).start() == theirs.NONSPACECRE.search(line).start()
    assert inifile._DEFAULT_SECTION == configparser.DEFAULTSECT
