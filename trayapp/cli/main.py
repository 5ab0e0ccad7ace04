"""Entry point: parse the command line, run one command, turn errors into one line."""

from __future__ import annotations

import sys

from trayapp import __version__

TYPE_CHECKING = False  # typing's, without importing typing: start-up time
if TYPE_CHECKING:
    import argparse  # imported in build_parser: `credential-process TARGET` never needs it
    from collections.abc import Sequence

# name -> (module, one-line help). Modules are imported only for the command that runs.
COMMANDS: dict[str, tuple[str, str]] = {
    "auth": ("auth", "assume a role with an MFA code and write its credentials"),
    "status": ("status", "show the active sessions and their time left"),
    "unauth": ("unauth", "remove a role's credentials (or all with --all)"),
    "login": ("login", "sign in to an Identity Center hub (browser, device code)"),
    "logout": ("logout", "sign out of an Identity Center hub"),
    "web": ("web", "open the AWS console signed in as a role"),
    "exec": ("exec_cmd", "run a command with a role's credentials in its environment"),
    "env": ("env", "print a role's credentials as shell variables"),
    "credential-process": ("credential_process", "print credentials for credential_process"),
    "serve": ("serve", "serve a role's credentials to programs on 127.0.0.1, renewed"),
    "config": ("config", "set up profiles, accounts and roles"),
    "rotate": ("rotate", "replace a profile's hub access key with a new one"),
    "crypto": ("crypto", "show or switch where secrets are kept; change the vault passphrase"),
    "sweep": ("sweep", "remove expired credentials now"),
    "reset": ("reset", "sign out of everything and delete aacli's own files"),
    "tray": ("tray", "run the system-tray app"),
    "demo": ("demo", "try aacli against a local AWS sandbox (no AWS account needed)"),
    "completion": ("completion", "print a tab-completion script for bash, zsh or fish"),
}

EPILOG = """\
Targets are PROFILE/ACCOUNT/ROLE, or any unambiguous shortening: ACCOUNT/ROLE,
or ACCOUNT when it has one role.

examples:
  aacli demo                         try it all against a local sandbox
  aacli config add-profile acme --access-key-id AKIA... --mfa-serial arn:aws:iam::999999999999:mfa/alice
  aacli auth dev/DEVELOPER           ask for the code, write profile dev-DEVELOPER
  aws s3 ls --profile dev-DEVELOPER  any AWS tool then uses it
  aacli status                       what is active, minutes left
  aacli unauth --all                 remove every credential aacli wrote
  aacli login corp                   sign in to an Identity Center hub (see config add-sso)
  aacli exec --server dev/DEVELOPER -- terraform apply    renewed, no keys on disk or in its env

Run 'aacli COMMAND --help' for a command's options.
"""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    import argparse
    import importlib

    parser = argparse.ArgumentParser(
        prog="aacli",
        description="MFA-protected, short-lived AWS credentials for hub-and-spoke AWS accounts.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"aacli {__version__}")
    parser.add_argument("--debug", action="store_true", help="log what happens and show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        # Only the command that runs is imported: `--help` and `--version` import none; and
        # when it is known, the others are not even listed (each costs a parser to build).
        if name != only:
            if only is None:
                sub.add_parser(name, help=help_text, add_help=False)
            continue
        module = importlib.import_module(f"trayapp.cli.{module_name}")
        command = sub.add_parser(
            name,
            help=help_text,
            description=getattr(module, "DESCRIPTION", help_text),
            epilog=getattr(module, "EPILOG", None),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.register(command)
        command.set_defaults(_module=module)
    return parser


def _answer_before_argparse(args_list: list[str]) -> int | None:
    """The exit code of `credential-process [--server] TARGET` (SDKs run it for every client)
    and `status` when their quick paths could answer, before argparse or the service is
    imported (docs/PERFORMANCE.md); None when the full command must run."""
    from trayapp.core.errors import AacliError
    from trayapp.core.hardening import harden_process

    target = _credential_process_target(args_list)
    if target is None and args_list != ["status"]:
        return None
    # What they hand over, any process of this user can read in the credentials file or ask
    # the tray for, and status reads no secret: no ptrace guard (ctypes: ~3 ms of each start).
    harden_process(debuggers=False)
    try:
        if target is not None:
            from trayapp.cli.credential_process import answer_quickly

            answered = answer_quickly(target[0], server=target[1])
        else:
            from trayapp.cli.status import answer_quickly as status_quickly

            answered = status_quickly()
    except BrokenPipeError:
        return 141
    except AacliError as exc:  # the tray's own sentence: not asked twice
        print(f"aacli: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0 if answered else None


def _credential_process_target(argv: Sequence[str]) -> tuple[str, bool] | None:
    """(target, --server) of exactly `credential-process [--server] TARGET`, which SDKs run
    for every client: answered before argparse or the service is imported."""
    if not argv or argv[0] != "credential-process":
        return None
    rest = list(argv[1:])
    server = "--server" in rest
    if server:
        rest.remove("--server")
    return (rest[0], server) if len(rest) == 1 and not rest[0].startswith("-") else None


def _command_name(argv: Sequence[str]) -> str | None:
    for arg in argv:
        if arg in COMMANDS:
            return arg
        if not arg.startswith("-"):
            return None
    return None


# Commands that may run for hours: the cyclic garbage collector is back on for them.
LONG_RUNNING = frozenset({"tray", "serve", "exec", "demo", "login", "config"})


def main(argv: Sequence[str] | None = None) -> int:
    import gc

    # A command lives for a fraction of a second, and what its imports allocate (botocore's
    # models above all) lives until it exits: collecting cycles meanwhile only costs time
    # (~15 % of `aacli auth`; docs/PERFORMANCE.md). Reference counting still frees the rest.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _main(argv)
    finally:
        if collecting:
            gc.enable()
        else:  # as it was found, also after a long-running command turned it on
            gc.disable()


def script() -> int:
    """The ``aacli`` program (its console script, and ``python -m trayapp.cli.main``).

    :func:`main`, and then the interpreter's own collections at exit skip what the command
    allocated (``gc.freeze``): they would walk every object botocore's models left, ~50 ms of
    a 300 ms `aacli auth` (bench/NOTES.md). Reference counting still frees objects and closes
    files as the interpreter exits, and ``atexit`` handlers run; every file aacli writes is
    flushed, synced and closed before its command returns.
    """
    import gc

    gc.disable()
    try:
        return main()
    finally:
        gc.freeze()


def _main(argv: Sequence[str] | None) -> int:
    import gc

    from trayapp.core.hardening import harden_process

    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list == ["--version"]:  # what argparse's version action prints, without argparse
        print(f"aacli {__version__}")
        return 0
    quick = _answer_before_argparse(args_list)
    if quick is not None:
        return quick
    harden_process()  # before any secret is read: a crash must not write one to a core file
    # Build only the chosen command's parser: start-up stays fast.
    command_name = _command_name(args_list)
    parser = build_parser(only=command_name)
    # `exec TARGET [options] -- CMD ARGS…`: everything after "--" belongs to CMD, verbatim.
    trailing: list[str] | None = None
    if command_name == "exec" and "--" in args_list:
        cut = args_list.index("--")
        args_list, trailing = args_list[:cut], args_list[cut + 1 :]
    args = parser.parse_args(args_list)
    if trailing is not None:
        args.command = trailing
    if args.debug:
        import logging

        logging.basicConfig(level=logging.DEBUG, format="aacli: %(name)s: %(message)s")
        # botocore's debug log prints request headers, session tokens included: never on.
        logging.getLogger("botocore").setLevel(logging.WARNING)
        logging.getLogger("urllib3").setLevel(logging.WARNING)
    if not getattr(args, "_module", None):
        parser.print_help()
        return 2 if args_list else 0
    from trayapp.core.errors import AacliError

    if command_name in LONG_RUNNING:
        gc.enable()
    try:
        return int(args._module.run(args) or 0)
    except AacliError as exc:
        if args.debug:
            raise
        print(f"aacli: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("aacli: cancelled", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 141
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"aacli: unexpected error ({type(exc).__name__}); run again with --debug for details",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(script())
