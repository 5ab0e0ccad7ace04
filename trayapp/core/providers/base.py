"""The protocol every credential provider follows, what providers share, and the code loop.

A provider answers one question: "credentials for this target". Providers wrap one another
(a cached MFA session wraps the session-token provider, a chained role wraps any provider), as
aws-vault's ``vault/`` does; the service picks the chain from the config (``provider_for``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from trayapp.core.clock import Clock
from trayapp.core.errors import CodeReusedError, WrongCodeError
from trayapp.core.model import Credentials
from trayapp.core.paths import AppPaths
from trayapp.core.sts import StsClientFactory

if TYPE_CHECKING:
    from trayapp.core.codes import CodeSource
    from trayapp.core.secrets.base import SecretStore
    from trayapp.core.sso.signin import SsoContext

MAX_CODE_TRIES = 3
Hint = Callable[[], str] | None


class CredentialProvider(Protocol):
    """Gives temporary credentials, asking ``source`` for an MFA code only if one is needed.

    Raises the domain errors of ``trayapp.core.errors`` (StsError, CodeCancelled, …).
    """

    def retrieve(self, source: CodeSource, hint: Hint = None) -> Credentials: ...


@dataclass(frozen=True)
class ProviderContext:
    """What providers may touch: the clock, STS, the secret store and aacli's files (``app``:
    the code windows, the MFA sessions); ``sso``: Identity Center's files and endpoint (the
    sign-in's token cache)."""

    clock: Clock
    sts_factory: StsClientFactory
    endpoint_url: str | None
    secrets: Callable[[], SecretStore]
    app: AppPaths
    sso: Callable[[], SsoContext] | None = None  # made on first use, as the secret store


def call_with_code(
    ctx: ProviderContext,
    *,
    label: str,
    device: str,
    source: CodeSource,
    hint: Hint,
    call: Callable[[str], Credentials],
) -> Credentials:
    """Get a code, refuse one already used, make the call; ask again after a wrong code.

    A code AWS accepted is remembered (per device, for its 30 s windows) so that it is never
    sent twice, by this process or any other.
    """
    from trayapp.core import validate
    from trayapp.core.codes import CodeGuard, CodeRequest

    guard = CodeGuard(ctx.app.code_windows_file)
    error: str | None = None
    for attempt in range(MAX_CODE_TRIES):
        request = CodeRequest(
            target=label, device=device, error=error, hint=hint() if hint else None
        )
        code = validate.mfa_code(source.get_code(request))
        last_try = attempt == MAX_CODE_TRIES - 1 or not source.can_retry
        try:
            guard.check(device, code, ctx.clock())
            creds = call(code)
        except (WrongCodeError, CodeReusedError) as exc:
            if last_try:
                raise
            error = str(exc)
            continue
        guard.remember(device, code, ctx.clock())
        return creds
    raise AssertionError("unreachable")  # pragma: no cover
