"""Sign in to an Identity Center hub, keep its token fresh, sign out: the AWS CLI's way.

The token lives in the AWS CLI's cache (``cache.py``) under the hub's name as the sso-session
name, and ``[sso-session NAME]`` is written to ~/.aws/config, so ``aws`` and aacli share one
sign-in either way. Nothing here prints; the fronts show the device code and open the browser
through the callbacks they pass in.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import shlex
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from trayapp.core import files, inifile
from trayapp.core.clock import Clock, system_clock
from trayapp.core.credfile import atomic_write, aws_files_lock, read_text
from trayapp.core.errors import (
    AacliError,
    CredFileError,
    NetworkError,
    SignInNeeded,
    UsageError,
)
from trayapp.core.model import IdentityCenter, Profile
from trayapp.core.paths import AppPaths, AwsPaths
from trayapp.core.sso import oidc
from trayapp.core.sso.cache import SsoToken, TokenCache

REFRESH_WITHIN = timedelta(minutes=5)  # a token with less left than this is refreshed first
# A registration this close to its end is not reused: the next refresh would fail with it.
REGISTRATION_MARGIN = timedelta(days=1)
TOKEN_LOCK = "sso-token.lock"
LOCK_TIMEOUT = 60.0


@dataclasses.dataclass(frozen=True)
class SsoContext:
    """What Identity Center calls need: the files, the clock, the endpoint (tests: sandbox)."""

    aws: AwsPaths
    app: AppPaths
    clock: Clock = system_clock
    endpoint_url: str | None = None

    @property
    def cache(self) -> TokenCache:
        return TokenCache(self.aws.sso_cache_dir)

    def client(self, service: str, region: str) -> Any:
        """An unsigned botocore client of "sso-oidc" or "sso" (the portal)."""
        from trayapp.core.sts import StsCaller, make_client

        return make_client(service, StsCaller("", "", region, endpoint_url=self.endpoint_url))


@dataclasses.dataclass(frozen=True)
class DeviceCode:
    """What a person needs for the device flow: the code to check and where to approve it."""

    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_at: datetime


def sign_in(
    ctx: SsoContext,
    hub: Profile,
    *,
    open_browser: Callable[[str], bool],
    show_device_code: Callable[[DeviceCode], None],
    device_code: bool = False,
    cancelled: Callable[[], bool] = lambda: False,
) -> SsoToken:
    """A new sign-in: the authorization-code flow with PKCE by default, else the device flow.

    ``open_browser(url)`` is False when no browser could be opened: the device flow follows.
    On success the token is cached and ``[sso-session NAME]`` written; on failure nothing is.
    """
    ic = _identity_center(hub)
    session_section(hub.name)  # a name ~/.aws/config cannot hold fails before the browser
    ctx.cache.check(hub.name)  # so does a cache folder (or file) aacli may not trust,
    write_sso_session(ctx, hub, dry_run=True)  # and a ~/.aws/config aacli cannot edit
    api = oidc.Oidc(ctx.client("sso-oidc", ic.region), ctx.clock)
    previous = _cached(ctx, hub)
    attempt = functools.partial(
        _sign_in,
        ctx,
        hub,
        api,
        open_browser=open_browser,
        show_device_code=show_device_code,
        device_code=device_code,
        cancelled=cancelled,
    )
    try:
        return attempt(previous)
    except oidc.ClientRejected:
        if previous is None or not previous.client_id:
            raise
        return attempt(None)  # the cached registration was refused early: a new one


def _sign_in(
    ctx: SsoContext,
    hub: Profile,
    api: oidc.Oidc,
    previous: SsoToken | None,
    *,
    open_browser: Callable[[str], bool],
    show_device_code: Callable[[DeviceCode], None],
    device_code: bool,
    cancelled: Callable[[], bool],
) -> SsoToken:
    """One sign-in attempt (see :func:`sign_in`), reusing ``previous``'s registration."""
    ic = _identity_center(hub)
    issued: oidc.IssuedToken | None = None
    reg: oidc.Registration | None = None
    if not device_code:
        reg = _registration(api, previous, ic, oidc.CODE_FLOW, ctx.clock)
        with oidc.CallbackListener() as listener:
            verifier, challenge = oidc.pkce_pair()
            url = oidc.authorize_url(
                api.endpoint,
                client_id=reg.client_id,
                redirect_uri=listener.redirect_uri,
                state=listener.state,
                challenge=challenge,
                scopes=ic.scopes,
            )
            if open_browser(url):
                code = listener.wait(cancelled)
                issued = api.exchange_code(
                    reg, code=code, redirect_uri=listener.redirect_uri, verifier=verifier
                )
    if issued is None:  # asked for, or no browser could be opened
        reg = _registration(api, previous, ic, oidc.DEVICE_FLOW, ctx.clock)
        auth = api.start_device_authorization(reg, ic.start_url)
        show_device_code(
            DeviceCode(
                user_code=auth.user_code,
                verification_uri=auth.verification_uri,
                verification_uri_complete=auth.verification_uri_complete,
                expires_at=auth.expires_at,
            )
        )
        if device_code:
            open_browser(auth.verification_uri_complete)  # on this machine, if it can
        issued = api.poll_device_token(reg, auth, cancelled=cancelled)
    assert reg is not None
    token = _token(ic, issued, reg)
    write_sso_session(ctx, hub)
    ctx.cache.save(hub.name, token)
    return token


def access_token(ctx: SsoContext, hub: Profile) -> str:
    """A live access token of the hub, refreshed first when it is near its expiry."""
    ic = _identity_center(hub)
    token = _cached(ctx, hub)
    if token is not None and token.expires_at - ctx.clock() > REFRESH_WITHIN:
        return token.access_token
    with files.file_lock(
        ctx.app.state_dir / TOKEN_LOCK,
        timeout=LOCK_TIMEOUT,
        busy="Another aacli process is refreshing the Identity Center sign-in; try again.",
    ):
        token = _cached(ctx, hub)  # another process may have refreshed it meanwhile
        if token is None:
            raise _needed(hub)
        if token.expires_at - ctx.clock() > REFRESH_WITHIN:
            return token.access_token
        try:
            return _refresh(ctx, ic, hub, token).access_token
        except AacliError as exc:
            if token.expires_at > ctx.clock():
                return token.access_token  # still valid a few minutes: use it meanwhile
            if isinstance(exc, NetworkError):
                raise  # offline: signing in again would not help
            raise _needed(hub) from None


def token_expiry(ctx: SsoContext, hub: Profile) -> datetime | None:
    """When the cached sign-in ends (None: not signed in). Reads the cache only."""
    token = _cached(ctx, hub)
    return None if token is None else token.expires_at


def sign_out(ctx: SsoContext, hub: Profile) -> bool:
    """Sign out at the portal (Logout) and remove the cached token; True if there was one."""
    ic = _identity_center(hub)
    token = ctx.cache.load(hub.name)
    if token is not None:
        with contextlib.suppress(Exception):  # offline, or already refused: removed anyway
            ctx.client("sso", ic.region).logout(accessToken=token.access_token)
    return ctx.cache.remove(hub.name) or token is not None


def session_section(name: str) -> str:
    """``sso-session NAME``; a name the AWS tools would read otherwise is refused."""
    section = f"sso-session {name}"
    try:
        parts = shlex.split(section)
    except ValueError:
        parts = []
    if parts != ["sso-session", name] or not name:
        raise UsageError(
            f"'{name}' cannot be an sso-session name in ~/.aws/config (no spaces or quotes)."
        )
    return section


def write_sso_session(ctx: SsoContext, hub: Profile, *, dry_run: bool = False) -> bool:
    """Write (or keep) ``[sso-session NAME]``, changing no other byte; True if it changed.

    ``dry_run``: only find out whether it can be written (it raises when not)."""
    ic = _identity_center(hub)
    section = session_section(hub.name)
    values = {
        "sso_start_url": ic.start_url,
        "sso_region": ic.region,
        "sso_registration_scopes": ",".join(ic.scopes),
    }
    path = ctx.aws.config_file
    with aws_files_lock(ctx.app.lock_file):
        text = read_text(path)
        try:
            existing = inifile.get_section(text, section, config_style=True) or {}
            if all(existing.get(key) == value for key, value in values.items()):
                return False
            new_text = inifile.upsert_section(text, section, values, config_style=True)
        except inifile.IniError as exc:
            where = f"{path} line {exc.line}" if exc.line else str(path)
            raise CredFileError(
                f"{where}: {exc.reason}; aacli will not edit this file until it is fixed. "
                "Nothing was changed."
            ) from None
        if not dry_run:
            atomic_write(path, new_text)
        return True


def _identity_center(hub: Profile) -> IdentityCenter:
    ic: IdentityCenter | None = getattr(hub, "identity_center", None)
    if ic is None:
        raise UsageError(
            f"{hub.name} is an IAM-user profile, not an Identity Center hub; "
            f"'aacli auth' signs in with its MFA code."
        )
    return ic


def _needed(hub: Profile) -> SignInNeeded:
    return SignInNeeded(f"Sign in to {hub.name} first: aacli login {hub.name}")


def _cached(ctx: SsoContext, hub: Profile) -> SsoToken | None:
    """The hub's cached token, if it belongs to the hub's start URL."""
    token = ctx.cache.load(hub.name)
    ic = _identity_center(hub)
    if token is None or token.start_url.rstrip("/") != ic.start_url.rstrip("/"):
        return None
    return token


def _registration(
    api: oidc.Oidc, previous: SsoToken | None, ic: IdentityCenter, flow: str, clock: Clock
) -> oidc.Registration:
    """The cached client registration when it is for this flow and lasts; else a new one."""
    if (
        previous is not None
        and previous.client_id
        and previous.client_secret
        and previous.registration_flow == flow
        and previous.registration_expires_at is not None
        and previous.registration_expires_at - clock() > REGISTRATION_MARGIN
    ):
        return oidc.Registration(
            previous.client_id, previous.client_secret, previous.registration_expires_at, flow
        )
    return api.register(flow=flow, scopes=ic.scopes, issuer_url=ic.start_url)


def _refresh(ctx: SsoContext, ic: IdentityCenter, hub: Profile, token: SsoToken) -> SsoToken:
    if not (token.refresh_token and token.client_id and token.client_secret):
        raise _needed(hub)
    if token.registration_expires_at is not None and token.registration_expires_at <= ctx.clock():
        raise _needed(hub)
    reg = oidc.Registration(
        token.client_id,
        token.client_secret,
        token.registration_expires_at or ctx.clock(),
        token.registration_flow or "",
    )
    # The hub's own region, as the AWS CLI does: never one read from the cache file.
    api = oidc.Oidc(ctx.client("sso-oidc", ic.region), ctx.clock)
    try:
        issued = api.refresh(reg, token.refresh_token)
    except oidc.ClientRejected:
        # Forget the refused registration, so the next sign-in registers anew.
        forgotten = dataclasses.replace(
            token,
            refresh_token=None,
            client_id=None,
            client_secret=None,
            registration_expires_at=None,
            registration_flow=None,
        )
        ctx.cache.save(hub.name, forgotten)
        raise
    if issued.refresh_token is None:  # the same refresh token goes on
        issued = oidc.IssuedToken(issued.access_token, issued.expires_at, token.refresh_token)
    fresh = _token(ic, issued, reg)
    ctx.cache.save(hub.name, fresh)
    return fresh


def _token(ic: IdentityCenter, issued: oidc.IssuedToken, reg: oidc.Registration) -> SsoToken:
    return SsoToken(
        access_token=issued.access_token,
        expires_at=issued.expires_at,
        start_url=ic.start_url,
        region=ic.region,
        refresh_token=issued.refresh_token,
        client_id=reg.client_id,
        client_secret=reg.client_secret,
        registration_expires_at=reg.expires_at,
        registration_flow=reg.flow or None,
    )
