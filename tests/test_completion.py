"""`aacli completion`: the bash script, sourced in a real bash, completes targets from the config."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT

CONFIG = """version = 1

[profiles.acme]
access_key_id = "AKIAIOSFODNN7EXAMPLE"
mfa_serial = "arn:aws:iam::999999999999:mfa/alice"

[profiles.acme.accounts.dev]
id = "111111111111"
region = "eu-west-1"

[profiles.acme.accounts.dev.roles.DEVELOPER]
[profiles.acme.accounts.dev.roles.ReadOnly]

[profiles.acme.accounts.prod]
id = "333333333333"
region = "eu-west-1"

[profiles.acme.accounts.prod.roles.ReadOnly]
"""


@pytest.fixture
def completing(env):
    """``env`` with a config, and an ``aacli`` on PATH (what the script calls at TAB)."""
    env.home.mkdir(mode=0o700)
    (env.home / "config.toml").write_text(CONFIG, encoding="utf-8")
    (env.home / "config.toml").chmod(0o600)
    bin_dir = env.root / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "aacli"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m trayapp.cli.main "$@"\n')
    wrapper.chmod(0o755)
    env.vars["PATH"] = f"{bin_dir}:/usr/bin:/bin"
    return env


def _complete(env, line: str) -> list[str]:
    """What bash offers for TAB at the end of ``line`` (COMP_WORDS as bash would split it)."""
    script = env.aacli("completion", "bash")
    assert script.returncode == 0, script.stderr
    words = line.split(" ")
    driver = f"""
eval "$(aacli completion bash)"
COMP_WORDS=({" ".join(f"'{w}'" for w in words)})
COMP_CWORD={len(words) - 1}
COMP_LINE='{line}'
COMP_POINT=${{#COMP_LINE}}
_aacli aacli '{words[-1]}' '{words[-2]}'
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", driver],
        capture_output=True, text=True, env=env.environ(), timeout=60, cwd=env.root,
    )  # fmt: skip
    assert done.returncode == 0 and not done.stderr, done.stderr
    return [w for w in done.stdout.splitlines() if w]


def test_bash_completes_targets_from_the_config(completing):
    assert _complete(completing, "aacli auth de") == ["dev/DEVELOPER", "dev/ReadOnly"]
    # "prod" has one role: the account alone names it, so it is offered too.
    assert _complete(completing, "aacli web pr") == ["prod/ReadOnly", "prod"]
    assert _complete(completing, "aacli exec acme/d") == ["acme/dev/DEVELOPER", "acme/dev/ReadOnly"]
    # Only the first positional is a target.
    assert _complete(completing, "aacli auth dev/ReadOnly de") == []


def test_bash_completes_commands_options_and_choices(completing):
    assert "auth" in _complete(completing, "aacli ")
    assert _complete(completing, "aacli st") == ["status"]
    assert _complete(completing, "aacli auth --co") == ["--code"]
    assert _complete(completing, "aacli tray --autostart ") == ["on", "off", "status"]
    assert _complete(completing, "aacli completion ") == ["bash", "zsh", "fish"]


def test_targets_helper_is_fast_and_never_loads_boto3(completing):
    probe = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "trayapp.cli.main", "completion", "--targets"],
        capture_output=True, text=True, env=completing.environ(), timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert probe.returncode == 0
    assert probe.stdout.split() == [
        "dev/DEVELOPER", "acme/dev/DEVELOPER", "dev/ReadOnly", "acme/dev/ReadOnly",
        "prod/ReadOnly", "prod", "acme/prod/ReadOnly",
    ]  # fmt: skip
    imported = {line.split("|")[-1].strip() for line in probe.stderr.splitlines()}
    assert not {m for m in imported if m.split(".")[0] in ("boto3", "botocore", "pystray", "PIL")}


def test_targets_helper_prints_nothing_without_a_config(env):
    done = env.aacli("completion", "--targets")
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""


def test_zsh_and_fish_scripts_ask_for_targets(env):
    zsh = env.aacli("completion", "zsh").stdout
    assert zsh.startswith("#compdef aacli") and "compdef _aacli aacli" in zsh
    assert "aacli completion --targets" in zsh and "'auth:assume a role" in zsh
    fish = env.aacli("completion", "fish").stdout
    assert "complete -c aacli -n __fish_use_subcommand -a auth" in fish
    assert "-a '(aacli completion --targets 2>/dev/null)'" in fish
    assert "-l autostart -xa 'on off status'" in fish
    bash = env.aacli("completion", "bash").stdout
    syntax = subprocess.run(["bash", "-n"], input=bash, capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr
