"""The vault passphrase rules: a minimum for new ones, and Unicode normalisation (NFC).

Kept apart from the vault so the dialogs can show the rule without importing cryptography.
"""

from __future__ import annotations

import unicodedata

from trayapp.core.errors import UsageError

MIN_PASSPHRASE_CHARS = 8
PASSPHRASE_RULE = f"at least {MIN_PASSPHRASE_CHARS} characters, not all spaces"


def normalise(passphrase: str) -> str:
    """The form a passphrase is keyed in: NFC, so "é" typed as one or two code points is one."""
    return unicodedata.normalize("NFC", passphrase)


def problem_with_new(passphrase: str) -> str | None:
    """Why ``passphrase`` cannot protect a new vault, or None when it can."""
    # The old tool stored everything in plain text when given an empty passphrase.
    if not passphrase:
        return "The vault passphrase must not be empty."
    if len(normalise(passphrase)) < MIN_PASSPHRASE_CHARS or not passphrase.strip():
        return f"The vault passphrase is too weak: use {PASSPHRASE_RULE}."
    return None


def check_new(passphrase: str) -> None:
    """Refuse a passphrase for a new vault (or a passphrase change) that is too weak."""
    problem = problem_with_new(passphrase)
    if problem is not None:
        raise UsageError(problem)


def forms_to_try(passphrase: str) -> list[str]:
    """The forms that may open an existing vault, NFC first.

    Vaults written before passphrases were normalised were keyed with the text as typed, which
    may be NFD (macOS input methods, some keyboards): the typed text and its NFD form are tried
    next, so nobody is locked out of an older vault. A save then re-keys the vault in NFC.
    """
    forms = [normalise(passphrase), passphrase, unicodedata.normalize("NFD", passphrase)]
    return list(dict.fromkeys(forms))
