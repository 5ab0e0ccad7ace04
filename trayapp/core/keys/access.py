"""What a rotation needs to reach AWS: its dependencies (KeyDeps), and the credentials its
IAM calls go out with: the hub key itself, or a short MFA session when the policy wants one."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from trayapp.core import iam
from trayapp.core.clock import Clock
from trayapp.core.errors import SecretStoreError
from trayapp.core.model import Config, Profile
from trayapp.core.sts import StsCaller, StsClientFactory, get_session_token

if TYPE_CHECKING:
    from trayapp.core.codes import CodeRequest, CodeSource
    from trayapp.core.secrets.base import SecretStore
    from trayapp.core.service import Service

T = TypeVar("T")
IamClientFactory = Callable[[StsCaller], Any]
VERIFY_SECONDS = 30.0  # AWS may take several seconds before STS accepts a new key
MFA_SESSION_SECONDS = 900  # the rotation's own GetSessionToken session: the shortest AWS gives


def _no_step(step: str) -> None:
    pass


@dataclass(frozen=True)
class KeyDeps:
    """What a rotation touches, passed in (as the service's Deps) so tests use real parts."""

    state_dir: Path
    code_windows_file: Path
    clock: Clock
    config: Callable[[], Config]  # the config as it is on disk now
    update_config: Callable[[Callable[[Config], Config]], Config]  # under the config lock
    secrets: Callable[[], SecretStore]
    drop_mfa_session: Callable[[str], object]
    sts_factory: StsClientFactory
    iam_factory: IamClientFactory = iam.make_iam_client
    endpoint_url: str | None = None
    iam_endpoint_url: str | None = None
    sleep: Callable[[float], None] = time.sleep
    verify_seconds: float = VERIFY_SECONDS
    on_step: Callable[[str], None] = _no_step  # told each step as it starts (crash trials)

    @classmethod
    def from_service(cls, service: Service, **changes: Any) -> KeyDeps:
        deps = service.deps
        made = cls(
            state_dir=deps.app.state_dir,
            code_windows_file=deps.app.code_windows_file,
            clock=deps.clock,
            config=service.reload,
            update_config=service.update_config,
            secrets=service.secrets,
            drop_mfa_session=service.drop_mfa_session,
            sts_factory=deps.sts_factory,
            endpoint_url=deps.endpoint_url,
            iam_endpoint_url=iam.endpoint_from_env() or deps.endpoint_url,
        )
        return replace(made, **changes)


@dataclass(frozen=True)
class Access:
    """The credentials IAM calls go out with, and whether they carry MFA."""

    caller: StsCaller
    with_mfa: bool


class OneCode:
    """A code source whose MFA session, once made, serves the whole call (a recovery and the
    rotation after it): a code can be sent only once."""

    def __init__(self, source: CodeSource) -> None:
        self.source = source
        self.access: Access | None = None

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def can_retry(self) -> bool:
        return self.source.can_retry

    def get_code(self, request: CodeRequest) -> str:
        return self.source.get_code(request)


def once(source: CodeSource | None) -> CodeSource | None:
    return OneCode(source) if source is not None else None


def with_iam(
    deps: KeyDeps,
    profile: Profile,
    access: Access,
    source: CodeSource | None,
    call: Callable[[Any, bool], T],
) -> tuple[T, Access]:
    """Make an IAM call; when the policy wants MFA and a code can be had, get an MFA session
    and make it again. Returns the answer and the access to use from now on."""
    try:
        return call(iam_client(deps, access), access.with_mfa), access
    except iam.MfaRequiredError:
        if access.with_mfa or source is None:
            raise
    access = mfa_access(deps, profile, source)
    return call(iam_client(deps, access), True), access


def first_access(
    deps: KeyDeps, profile: Profile, source: CodeSource | None, mfa_first: bool
) -> Access:
    if mfa_first and source is not None:
        return mfa_access(deps, profile, source)
    return Access(hub_caller(deps, profile), False)


def mfa_access(deps: KeyDeps, profile: Profile, source: CodeSource) -> Access:
    """A short GetSessionToken session with the user's MFA code, for the IAM calls."""
    from trayapp.core import validate
    from trayapp.core.codes import CodeGuard, CodeRequest

    if isinstance(source, OneCode) and source.access is not None:
        return source.access

    request = CodeRequest(target=f"{profile.name} (rotate the hub key)", device=profile.mfa_serial)
    code = validate.mfa_code(source.get_code(request))
    guard = CodeGuard(deps.code_windows_file)
    guard.check(profile.mfa_serial, code, deps.clock())
    creds = get_session_token(
        deps.sts_factory(hub_caller(deps, profile)),
        duration_seconds=MFA_SESSION_SECONDS,
        mfa_serial=profile.mfa_serial,
        code=code,
    )
    guard.remember(profile.mfa_serial, code, deps.clock())
    caller = StsCaller(
        access_key_id=creds.access_key_id,
        secret_access_key=creds.secret_access_key,
        session_token=creds.session_token,
        region=profile.sts_region,
        endpoint_url=deps.endpoint_url,
    )
    access = Access(caller, True)
    if isinstance(source, OneCode):
        source.access = access
    return access


def iam_client(deps: KeyDeps, access: Access) -> Any:
    return deps.iam_factory(replace(access.caller, endpoint_url=deps.iam_endpoint_url))


def user_name(deps: KeyDeps, caller: StsCaller) -> str:
    """The IAM user the key belongs to (sts:GetCallerIdentity needs no permission)."""
    from trayapp.core.sts import map_error

    try:
        arn = str(deps.sts_factory(caller).get_caller_identity()["Arn"])
    except Exception as exc:
        raise map_error(exc) from None
    kind, _, path = arn.partition(":user/")
    if not kind or not path:
        raise SecretStoreError(
            f"The hub key belongs to {arn}, not an IAM user; it cannot be rotated."
        )
    return path.rsplit("/", 1)[-1]


def hub_caller(deps: KeyDeps, profile: Profile) -> StsCaller:
    """The hub user's caller, the same as the providers use (core/providers/hub_keys)."""
    from trayapp.core.providers.hub_keys import hub_caller as caller

    return caller(profile, deps.secrets(), deps.endpoint_url)


def hub_secret_name(name: str) -> str:
    from trayapp.core.providers.hub_keys import hub_secret_key

    return hub_secret_key(name)
