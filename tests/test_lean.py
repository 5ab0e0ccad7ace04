"""core/lean, the start-up paths' json/datetime/configparser: the same answers as those
modules for what aacli writes, ValueError (so the full path answers) for anything else."""

from __future__ import annotations

import configparser
import json
import random
from datetime import datetime, timedelta, timezone

import pytest

from trayapp.core import lean
from trayapp.core.clock import isoformat_z

DOCUMENTS = [
    {"version": 1, "sessions": []},
    {"a": [1, -2, 3.5, True, False, None, {"b": 'c\u00e9\n"\\/\t'}], "": "x"},
    [{"k": "\ud83d\ude00"}, [], {}],
    "text",
    12,
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_loads_reads_what_json_writes(document):
    for text in (
        json.dumps(document),
        json.dumps(document, indent=1),
        f"\n {json.dumps(document)}\n",
    ):
        assert lean.loads(text) == json.loads(text)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "{", '{"a": 1} {"b": 2}', '{"a": NaN}', "[Infinity]", "{'a': 1}", "[1,]", '"\x01"'],
)
def test_loads_refuses_what_is_not_one_plain_json_value(text):
    with pytest.raises(ValueError):
        lean.loads(text)


def test_dumps_writes_what_json_writes():
    values = {"Version": 1, "AccessKeyId": "ASIA", "SecretAccessKey": "a/b+c=", "Odd": 'é"\\\n'}
    assert lean.dumps(values) == json.dumps(values)
    with pytest.raises(ValueError):
        lean.dumps({"flag": True})


def test_epoch_seconds_is_datetimes_own():
    rng = random.Random(16)
    start = datetime(1970, 1, 1, tzinfo=timezone.utc)
    moments = [start + timedelta(seconds=rng.randrange(0, 14_000_000_000)) for _ in range(3000)]
    moments += [datetime(y, 2, 29, 23, 59, 59, tzinfo=timezone.utc) for y in (2000, 2024, 2400)]
    moments += [datetime(y, 3, 1, tzinfo=timezone.utc) for y in (1970, 2100, 2200, 2300)]
    for moment in moments:
        assert lean.epoch_seconds(isoformat_z(moment)) == int(moment.timestamp()), moment


@pytest.mark.parametrize(
    "text",
    [
        "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z",
        "2100-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-12-01T24:00:00Z",
        "2026-12-01T10:00:00+00:00",
        "2026-12-01T10:00:00.5Z",
        "2026-12-01 10:00:00Z",
        "2026-12-0\u0661T10:00:00Z",
        "+026-12-01T10:00:00Z",
        "2026-12-01T10:00:00",
        "",
    ],
)
def test_epoch_seconds_refuses_any_other_form(text):
    with pytest.raises(ValueError):
        lean.epoch_seconds(text)


PLAIN = "[default]\nregion = eu-west-1\n\n# a comment\n; another\n[dev-DEVELOPER]\naws_access_key_id = ASIA1\nAWS_Secret_Access_Key=s/+=\nx : y = z\nempty =\n"
ODD = [
    PLAIN + "[dev-DEVELOPER]\n",  # a header twice
    PLAIN + "aws_access_key_id = ASIA2\n",  # a key twice
    PLAIN.replace("empty =", "  continued"),  # an indented line
    PLAIN + "no delimiter here\n",
    "key = before any header\n" + PLAIN,
    PLAIN + "[DEFAULT]\naws_session_token = everyone's\n",
    PLAIN + "[x] trailing\n",
    PLAIN + "[]\n",
    PLAIN.replace("\n", "\r", 1),  # a lone CR
    PLAIN + "\x00",
    "\ufeff" + PLAIN,
    PLAIN.replace("[default]", "[default"),
]


def test_ini_section_reads_a_plain_file_as_configparser_does():
    parser = configparser.RawConfigParser()
    parser.read_string(PLAIN)
    assert lean.ini_section(PLAIN, "dev-DEVELOPER") == dict(parser.items("dev-DEVELOPER"))
    assert lean.ini_section(PLAIN.replace("\n", "\r\n"), "default") == {"region": "eu-west-1"}
    with pytest.raises(ValueError):
        lean.ini_section(PLAIN, "missing")


@pytest.mark.parametrize("text", ODD, ids=range(len(ODD)))
def test_ini_section_refuses_anything_configparser_reads_otherwise(text):
    with pytest.raises(ValueError):
        lean.ini_section(text, "dev-DEVELOPER")
