"""Domain errors: each message is the one sentence the user sees."""

from __future__ import annotations


class AacliError(Exception):
    """Base of every error the fronts show as one line (exit code ``exit_code``)."""

    exit_code = 1


class UsageError(AacliError):
    """The user asked for something malformed (bad target, bad code, bad value)."""

    exit_code = 2


class ConfigError(AacliError):
    """The config file is missing, unreadable or invalid."""


class TargetError(UsageError):
    """A target names nothing, or more than one role."""


class CodeError(UsageError):
    """An MFA code is malformed, or cannot be used now."""


class CodeReusedError(CodeError):
    """This code was already used for this device; the next one must be awaited."""

    def __init__(self, message: str, wait_seconds: float) -> None:
        super().__init__(message)
        self.wait_seconds = wait_seconds


class CodeCancelled(AacliError):
    """The user cancelled the code prompt."""

    exit_code = 130


class SecretStoreError(AacliError):
    """The secret store cannot be used (locked keyring, no backend, I/O)."""


class VaultPassphraseError(SecretStoreError):
    """The vault passphrase is wrong."""


class VaultCorruptError(SecretStoreError):
    """The vault file is damaged or was tampered with."""


class StsError(AacliError):
    """An AWS STS call failed; the message says why in one sentence."""


class WrongCodeError(StsError):
    """AWS rejected the MFA code."""


class AccessDeniedError(StsError):
    """The hub identity may not assume this role."""


class DurationTooLongError(StsError):
    """The requested session is longer than the role allows."""


class InvalidHubKeyError(StsError):
    """The hub access key is wrong, inactive or expired."""


class ThrottledError(StsError):
    """AWS throttled the request, even after retries."""


class NetworkError(StsError):
    """AWS could not be reached, or did not answer in time."""


class CredFileError(AacliError):
    """An AWS shared file cannot be read, parsed or written safely."""


class UnsafeFileError(CredFileError):
    """A file or folder aacli would trust is not safe to use (owner, mode, type, size)."""


class ConsoleError(AacliError):
    """Console sign-in through the federation endpoint failed."""


class SignInError(AacliError):
    """An Identity Center sign-in (or its token refresh) failed or was refused."""


class SignInNeeded(AacliError):
    """An Identity Center hub has no live sign-in; the message says how to sign in."""
