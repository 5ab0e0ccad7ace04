"""aacli crypto: show or switch where secrets are kept; change the vault passphrase."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from trayapp.cli.context import make_service, say
from trayapp.core.errors import SecretStoreError, UsageError

DESCRIPTION = """\
Show where aacli keeps your hub secret keys, switch between the OS keyring and
the encrypted vault (secrets are moved, then removed from the old place), or
change the vault's passphrase."""

EPILOG = """\
examples:
  aacli crypto                         show the backends and which is in use
  aacli crypto --use vault             move secrets into the encrypted vault
  aacli crypto --use keyring           move them into the OS keyring
  aacli crypto --change-passphrase     re-encrypt the vault under a new passphrase
                                       (scripts: AACLI_PASSPHRASE=old AACLI_NEW_PASSPHRASE=new)
"""


def register(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--use", choices=("auto", "keyring", "vault"), help="switch backend")
    group.add_argument("--change-passphrase", action="store_true", help="new vault passphrase")


def run(args: argparse.Namespace) -> int:
    service = make_service()
    if args.use:
        moved = service.switch_secret_backend(args.use)
        say(f"Secrets are now kept in {service.secrets().name} ({moved} moved).")
        return 0
    if args.change_passphrase:
        return _change_passphrase(service)
    from trayapp.core.secrets import describe_backends

    setting = service.config.settings.secret_backend
    print(f"setting: secret_backend = {setting}")
    statuses = describe_backends(service.deps.app.vault_file)
    for status in statuses:
        mark = "usable" if status.viable else "not usable"
        print(f"  {status.backend:8} {mark:10}  {status.detail}")
    if setting == "auto":  # say which one "auto" means here, and why when it is not the best
        chosen = next(s for s in statuses if s.viable)
        passed = [s.backend for s in statuses if not s.viable and s.priority > chosen.priority]
        why = f" ({', '.join(passed)} not usable here)" if passed else ""
        print(f"in use: {chosen.backend}{why}")
    return 0


def _change_passphrase(service) -> int:  # type: ignore[no-untyped-def]
    from trayapp.core.secrets.passphrase import PASSPHRASE_RULE, check_new
    from trayapp.core.secrets.vault import Vault

    vault = Vault(service.deps.app.vault_file, service.deps.passphrase)
    if not vault.exists:
        raise SecretStoreError(f"There is no vault at {vault.path} to change.")
    old = os.environ.get("AACLI_PASSPHRASE")
    new = os.environ.get("AACLI_NEW_PASSPHRASE")
    if not (old and new):
        if not sys.stdin.isatty():
            raise UsageError("run on a terminal, or set AACLI_PASSPHRASE and AACLI_NEW_PASSPHRASE")
        old = getpass.getpass("Current vault passphrase: ", stream=sys.stderr)
        new = getpass.getpass(f"New vault passphrase ({PASSPHRASE_RULE}): ", stream=sys.stderr)
        check_new(new)  # before it is typed again
        if new != getpass.getpass("Repeat the new passphrase: ", stream=sys.stderr):
            raise UsageError("the two passphrases differ; the vault was not changed")
    vault.change_passphrase(old, new)
    say(f"The vault {vault.path} is now encrypted under the new passphrase.")
    return 0
