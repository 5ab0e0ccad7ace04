"""aacli completion: tab completion for bash, zsh and fish, with targets read from the config."""

from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import dataclass

from trayapp.core.errors import UsageError

DESCRIPTION = """\
Print a tab-completion script for your shell. It completes commands, their
options, and targets (PROFILE/ACCOUNT/ROLE and their shortenings) from your
config: the script asks 'aacli completion --targets', which reads only the
config file and answers in a few tens of milliseconds."""

EPILOG = """\
install:
  bash   echo 'eval "$(aacli completion bash)"' >> ~/.bashrc
  zsh    echo 'eval "$(aacli completion zsh)"' >> ~/.zshrc      (after compinit)
  fish   aacli completion fish > ~/.config/fish/completions/aacli.fish
"""

SHELLS = ("bash", "zsh", "fish")


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shell", nargs="?", choices=SHELLS, help="the shell to complete for")
    # What the scripts call at TAB: the targets, one a line. Must stay fast: no boto3.
    parser.add_argument("--targets", action="store_true", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    if args.targets:
        for name in target_words():
            print(name)
        return 0
    if not args.shell:
        raise UsageError("name the shell: aacli completion bash|zsh|fish")
    commands = describe_commands()
    script = {"bash": bash_script, "zsh": zsh_script, "fish": fish_script}[args.shell](commands)
    sys.stdout.write(script)
    return 0


def target_words() -> list[str]:
    """Every target's label and each shortening of it that names only that target."""
    from trayapp.core.config import load_config
    from trayapp.core.errors import AacliError
    from trayapp.core.paths import AppPaths
    from trayapp.core.targets import all_targets, resolve_target

    try:
        config = load_config(AppPaths.from_env().config_file)
    except AacliError:
        return []  # no config yet, or a broken one: nothing to offer, never an error at TAB
    words: list[str] = []
    for target in all_targets(config):
        account, role = target.account.name, target.role.name
        for word in (f"{account}/{role}", account, target.label):
            try:
                if resolve_target(config, word) == target and word not in words:
                    words.append(word)
            except AacliError:
                continue
    return words


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    options: tuple[str, ...]
    choices: dict[str, tuple[str, ...]]  # option (or "" for the positional) -> its values
    takes_target: bool


def describe_commands() -> list[Command]:
    """The commands and their options, read from the real parser (so they never drift)."""
    from trayapp.cli.main import COMMANDS, build_parser

    commands = []
    for name, (_, help_text) in COMMANDS.items():
        parser = build_parser(only=name)  # only the named command gets its full parser
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[
            name
        ]
        options: list[str] = []
        choices: dict[str, tuple[str, ...]] = {}
        takes_target = False
        for action in sub._actions:
            if action.help == argparse.SUPPRESS:
                continue
            if action.option_strings:
                options += [o for o in action.option_strings if o.startswith("--")]
                if action.choices:
                    for option in action.option_strings:
                        choices[option] = tuple(str(c) for c in action.choices)
            elif action.dest == "target":
                takes_target = True
            elif action.choices and not isinstance(action, argparse._SubParsersAction):
                choices[""] = tuple(str(c) for c in action.choices)
            elif isinstance(action, argparse._SubParsersAction):
                choices[""] = tuple(action.choices)
        commands.append(Command(name, help_text, tuple(options), choices, takes_target))
    return commands


def _words(values: tuple[str, ...] | list[str]) -> str:
    return " ".join(values)


def bash_script(commands: list[Command]) -> str:
    cases = []
    for command in commands:
        lines = [f"        {command.name})"]
        prev_cases = [
            f"                {option}) COMPREPLY=($(compgen -W {shlex.quote(_words(values))} "
            '-- "$cur")); return ;;'
            for option, values in command.choices.items()
            if option
        ]
        if prev_cases:
            lines += ['            case "$prev" in', *prev_cases, "            esac"]
        lines.append(
            f'            [[ $cur == -* ]] && {{ COMPREPLY=($(compgen -W "{_words(command.options)}"'
            ' -- "$cur")); return; }'
        )
        if command.takes_target:
            lines.append(
                '            (( npos == 0 )) && COMPREPLY=($(compgen -W "$(aacli completion'
                ' --targets 2>/dev/null)" -- "$cur"))'
            )
        elif "" in command.choices:
            lines.append(
                f"            (( npos == 0 )) && COMPREPLY=($(compgen -W "
                f'{shlex.quote(_words(command.choices[""]))} -- "$cur"))'
            )
        lines.append("            ;;")
        cases.append("\n".join(lines))
    names = _words([c.name for c in commands])
    return f"""\
# bash completion for aacli; load it with: eval "$(aacli completion bash)"
_aacli() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}}
    local cmd="" npos=0 i word
    COMPREPLY=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${{COMP_WORDS[i]}}
        [[ $word == -- ]] && return  # exec's command line: the shell's default completion
        if [[ -z $cmd ]]; then
            [[ $word != -* ]] && cmd=$word
        elif [[ $word != -* && ${{COMP_WORDS[i-1]}} != --* ]]; then
            npos=$((npos + 1))
        fi
    done
    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "{names} --help --version --debug" -- "$cur"))
        return
    fi
    case $cmd in
{chr(10).join(cases)}
    esac
}}
complete -o default -F _aacli aacli
"""


def zsh_script(commands: list[Command]) -> str:
    described = "\n".join(
        f"        {shlex.quote(c.name + ':' + c.help.replace(':', chr(92) + ':'))}"
        for c in commands
    )
    cases = []
    for command in commands:
        body = [f"        {command.name})"]
        prev_cases = [
            f"                {option}) compadd -- {_words(values)}; return ;;"
            for option, values in command.choices.items()
            if option
        ]
        if prev_cases:
            body += ["            case ${words[CURRENT-1]} in", *prev_cases, "            esac"]
        body.append(
            f"            [[ $PREFIX == -* ]] && {{ compadd -- {_words(command.options)}; return; }}"
        )
        if command.takes_target:
            body.append(
                '            targets=(${(f)"$(aacli completion --targets 2>/dev/null)"})\n'
                "            compadd -a targets"
            )
        elif "" in command.choices:
            body.append(f"            compadd -- {_words(command.choices[''])}")
        else:
            body.append("            _files")
        body.append("            ;;")
        cases.append("\n".join(body))
    return f"""\
#compdef aacli
# zsh completion for aacli: eval "$(aacli completion zsh)" after compinit, or save it as
# _aacli in a folder of $fpath.
_aacli() {{
    local -a commands targets
    commands=(
{described}
    )
    if (( CURRENT == 2 )); then
        _describe -t commands 'aacli command' commands
        return
    fi
    (( ${{words[(I)--]}} )) && {{ _normal; return; }}
    case ${{words[2]}} in
{chr(10).join(cases)}
    esac
}}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _aacli "$@"
else
    compdef _aacli aacli
fi
"""


def fish_script(commands: list[Command]) -> str:
    lines = [
        "# fish completion for aacli: aacli completion fish > ~/.config/fish/completions/aacli.fish",
        "complete -c aacli -f",
        "complete -c aacli -n __fish_use_subcommand -l help -d 'show help'",
        "complete -c aacli -n __fish_use_subcommand -l version -d 'show the version'",
    ]
    for command in commands:
        lines.append(
            f"complete -c aacli -n __fish_use_subcommand -a {command.name} "
            f"-d {shlex.quote(command.help)}"
        )
        seen = f"'__fish_seen_subcommand_from {command.name}'"
        for option in command.options:
            values = command.choices.get(option)
            extra = f" -xa {shlex.quote(_words(values))}" if values else ""
            lines.append(f"complete -c aacli -n {seen} -l {option[2:]}{extra}")
        if command.takes_target:
            lines.append(
                f"complete -c aacli -n {seen} -a '(aacli completion --targets 2>/dev/null)'"
            )
        elif "" in command.choices:
            lines.append(
                f"complete -c aacli -n {seen} -a {shlex.quote(_words(command.choices['']))}"
            )
    return "\n".join(lines) + "\n"
