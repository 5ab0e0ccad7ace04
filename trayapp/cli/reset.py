"""aacli reset: sign out of everything, then delete aacli's own files and secrets."""

from __future__ import annotations

import argparse

from trayapp.cli.context import ask_line, interactive, make_service, report_removals, say
from trayapp.core.errors import AacliError, CodeCancelled, UsageError

DESCRIPTION = """\
Sign out of every session (removing the credentials aacli wrote), then delete
aacli's config, vault, ledger and the secrets it stored in the keyring.
Nothing else is touched: your other AWS profiles stay as they are."""


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def run(args: argparse.Namespace) -> int:
    service = make_service()
    app = service.deps.app
    if not args.yes:
        if not interactive():
            raise UsageError("reset deletes aacli's config and secrets; confirm with --yes")
        try:
            answer = ask_line(
                f"Delete aacli's config, vault and ledger under {app.config_dir}? [y/N] "
            )
        except (EOFError, KeyboardInterrupt):
            raise CodeCancelled("Cancelled; nothing was deleted.") from None
        if answer.strip().lower() not in ("y", "yes"):
            say("Nothing was deleted.")
            return 1
    report_removals(service.unauth_all())
    try:
        service.forget_secrets()
    except AacliError as exc:
        say(f"Could not remove the stored secrets ({exc}); remove them by hand.")
    for path in (
        app.config_file,
        app.vault_file,
        app.vault_file.with_name(app.vault_file.name + ".lock"),
        app.ledger_file,
        app.code_windows_file,
        app.lock_file,
    ):
        path.unlink(missing_ok=True)
    say("aacli's files and secrets are gone; your AWS files keep only what was yours.")
    return 0
