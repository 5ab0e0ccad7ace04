"""What setting aacli up changes, for every front (``aacli config``, the settings window).

Each function takes the service, changes the secret store first and the config last (through
``Service.update_config``: under the config lock, applied to the file as it is now), and
raises an ``AacliError`` whose message is the sentence the user sees. Bad input changes
nothing: values are checked before anything is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from trayapp.core import config as cfg
from trayapp.core import validate
from trayapp.core.awsimport import ImportPlan
from trayapp.core.errors import UsageError
from trayapp.core.model import Account, Config, IdentityCenter, Profile, Role, Settings
from trayapp.core.service import Removal, Service


def pin_backend(service: Service, config: Config) -> Config:
    """Record what "auto" chose, so a keyring that appears later does not hide the vault."""
    if config.settings.secret_backend != "auto":
        return config
    settings = replace(config.settings, secret_backend=service.backend_in_use())
    return replace(config, settings=settings)


# Profiles


def _live_under(service: Service, prefix: str) -> list[str]:
    """Targets with a live (ledger) session at or under ``prefix``."""
    return [
        s.target
        for s in service.sessions()
        if s.target == prefix or s.target.startswith(prefix + "/")
    ]


def _refuse_while_rotating(service: Service, profile: str, doing: str) -> None:
    """A rotation journal names the profile's keys in IAM: finish it before the profile goes."""
    from trayapp.core.keys.journal import journal_file

    if journal_file(service.deps.app.state_dir, profile).exists():
        raise UsageError(
            f"profile {profile} has a hub-key rotation on record (unfinished, or an old key "
            f"kept); finish it with 'aacli rotate {profile}' ('--delete-old' for a kept key) "
            f"before {doing} the profile"
        )


def _refuse_rename_while_live(service: Service, prefix: str) -> None:
    live = _live_under(service, prefix)
    if live:
        raise UsageError(
            f"{live[0]} is signed in; sign out of it before renaming {prefix} "
            "(its credentials are recorded under the old name)"
        )


def add_profile(service: Service, profile: Profile, secret: str) -> Config:
    """A new hub profile with its secret key (stored first; the config names it after)."""
    from trayapp.core.errors import AacliError

    cfg.add_profile(service.reload(), profile)  # refuses a taken name before storing anything
    service.set_hub_secret(profile.name, secret)
    try:
        dated = _dated(profile, service.deps.clock())
        return service.update_config(
            lambda config: pin_backend(service, cfg.add_profile(config, dated))
        )
    except AacliError:
        # No secret may outlive a profile that was never saved (a name taken meanwhile).
        service.forget_profile_secrets(profile.name)
        raise


def edit_profile(
    service: Service,
    old_name: str,
    profile: Profile,
    *,
    secret: str | None = None,
    opened_with: Profile | None = None,
) -> Config:
    """Change the fields a person edits (name, key id, MFA device, STS region, partition, MFA
    session) of the profile as it is on disk now, rename it (its secrets move with it), and
    store a new secret key when ``secret`` is given. ``opened_with``: the profile as the form
    showed it; a key id left as it was there keeps whatever key the config has now (a
    rotation may have replaced it meanwhile), as do its dates and everything else."""
    current = service.reload()
    if cfg.find_profile(current, old_name) is None:
        raise UsageError(f"no profile named '{old_name}' (it was removed meanwhile)")
    renamed = profile.name != old_name
    if renamed:
        if cfg.find_profile(current, profile.name) is not None:
            raise UsageError(f"profile '{profile.name}' already exists")
        _refuse_rename_while_live(service, old_name)
        _refuse_while_rotating(service, old_name, "renaming")
        _move_secrets(service, old_name, profile.name)
    if secret is not None:
        service.set_hub_secret(profile.name, secret)

    def change(config: Config) -> Config:
        found = cfg.find_profile(config, old_name)
        if found is None:
            raise UsageError(f"no profile named '{old_name}' (it was removed meanwhile)")
        if renamed and cfg.find_profile(config, profile.name) is not None:
            raise UsageError(f"profile '{profile.name}' already exists")
        typed_key = opened_with is None or profile.access_key_id != opened_with.access_key_id
        key_id = profile.access_key_id if typed_key else found.access_key_id
        key_changed = key_id != found.access_key_id
        new = replace(
            found,
            name=profile.name,
            access_key_id=key_id,
            mfa_serial=profile.mfa_serial,
            sts_region=profile.sts_region,
            partition=profile.partition,
            mfa_session_seconds=profile.mfa_session_seconds,
            user_name=None if key_changed else found.user_name,
            user_name_for=None if key_changed else found.user_name_for,
            key_created=None if key_changed else found.key_created,
            key_created_for=None if key_changed else found.key_created_for,
        )
        profiles = tuple(new if p.name == old_name else p for p in config.profiles)
        changed = replace(config, profiles=profiles)
        return pin_backend(service, changed) if secret is not None else changed

    return service.update_config(change)


def set_hub_key(
    service: Service, profile_name: str, secret: str, *, access_key_id: str | None = None
) -> Config:
    """Store a profile's hub secret key (a new one after rotation, or a missing one) and,
    when given, its new access key id; "auto" is pinned to where the secret went."""
    if cfg.find_profile(service.reload(), profile_name) is None:
        raise UsageError(f"no profile named '{profile_name}'")
    service.set_hub_secret(profile_name, secret)

    def change(config: Config) -> Config:
        if access_key_id is not None:
            config = _changed_profile(config, profile_name, access_key_id=access_key_id)
        current = cfg.find_profile(config, profile_name)
        if current is not None:
            config = cfg.replace_profile(config, _dated(current, service.deps.clock()))
        return pin_backend(service, config)

    return service.update_config(change)


def _dated(profile: Profile, now: datetime) -> Profile:
    """``profile`` with ``now`` as its key's date unless a date of this key is known: the hub
    key's age counts from when aacli stored it until IAM's CreateDate is read (rotate)."""
    from trayapp.core.keys.age import with_key

    if profile.key_created is not None and profile.key_created_for == profile.access_key_id:
        return profile
    return with_key(profile, profile.access_key_id, now)


def _move_secrets(service: Service, old: str, new: str) -> None:
    store = service.secrets()
    prefix = f"{old}/"
    stored = store.keys()  # a SecretStore, not a dict
    names = [name for name in stored if name.startswith(prefix)]
    values = {name: value for name in names if (value := store.get(name)) is not None}
    for name, value in values.items():
        store.set(new + "/" + name.removeprefix(prefix), value)
    for name in values:
        store.delete(name)
    service.drop_mfa_session(old)


def hub_secret_stored(service: Service, profile_name: str) -> bool:
    """Whether the profile's hub secret key is in the secret store (may unlock the vault)."""
    from trayapp.core.providers.hub_keys import hub_secret_key

    return bool(service.secrets().get(hub_secret_key(profile_name)))


def remove_hub_secret(service: Service, profile_name: str) -> None:
    from trayapp.core.providers.hub_keys import hub_secret_key

    service.secrets().delete(hub_secret_key(profile_name))
    service.drop_mfa_session(profile_name)


def profiles_without_secret(service: Service) -> frozenset[str]:
    """Profiles known to have no hub secret key, found without asking for a passphrase: every
    profile when the vault does not exist yet; none known when a vault must be unlocked."""
    from trayapp.core.providers.hub_keys import hub_secret_key
    from trayapp.core.secrets.vault import Vault

    config = service.config
    if not config.profiles:
        return frozenset()
    store = service.secrets()
    if isinstance(store, Vault):
        return frozenset(p.name for p in config.profiles) if not store.exists else frozenset()
    stored = set(store.keys())
    return frozenset(p.name for p in config.profiles if hub_secret_key(p.name) not in stored)


TOTP_TRADE_OFF = """\
Store the seed of your virtual MFA device so aacli makes the codes itself.
The trade-off: your second factor then lives on the same machine as the hub
keys (protected by the OS keyring or the vault passphrase), so whoever gets
into this account on this machine has both factors. aws-vault dropped such a
feature for that reason; aacli keeps it opt-in. Use it only where that risk
is acceptable (e.g. a disk-encrypted personal laptop)."""


def _totp_key(profile_name: str) -> str:
    from trayapp.core.secrets.base import TOTP_SEED, secret_key

    return secret_key(profile_name, TOTP_SEED)


def totp_seed_stored(service: Service, profile_name: str) -> bool:
    return service.secrets().get(_totp_key(profile_name)) is not None


def set_totp_seed(service: Service, profile_name: str, seed_text: str) -> None:
    """Store a virtual MFA device's seed (base32 or an otpauth:// URI), checked first."""
    from trayapp.core.codes.totp import normalise_seed

    service.secrets().set(_totp_key(profile_name), normalise_seed(seed_text))


def remove_totp_seed(service: Service, profile_name: str) -> None:
    service.secrets().delete(_totp_key(profile_name))


def set_mfa_session(service: Service, profile_name: str, seconds: int | None) -> Config:
    """Turn a profile's MFA session on (``seconds``) or off (None: its session is dropped)."""
    config = service.update_config(
        lambda c: _changed_profile(c, profile_name, mfa_session_seconds=seconds)
    )
    if seconds is None:
        service.drop_mfa_session(profile_name)
    return config


def set_codes(service: Service, profile_name: str, **changes: str | None) -> Config:
    """Where a profile's codes come from (``codes``, and the ykman or mfa_process settings
    that go with it), checked by the caller."""
    return service.update_config(lambda c: _changed_profile(c, profile_name, **changes))


def _changed_profile(config: Config, name: str, **changes: Any) -> Config:
    current = cfg.find_profile(config, name)
    if current is None:
        raise UsageError(f"no profile named '{name}' (it was removed meanwhile)")
    return cfg.replace_profile(config, replace(current, **changes))


# Identity Center hubs (no key: a sign-in at a start URL)


def identity_center_hub(name: str, start_url: str, region: str) -> Profile:
    """An Identity Center hub from what a person typed, checked as ``config add-sso`` checks it."""
    region = validate.region(region)
    return Profile(
        name=validate.name(name.strip(), "profile name"),
        access_key_id="",
        mfa_serial="",
        sts_region=region,  # as the config file reads it back
        identity_center=IdentityCenter(validate.sso_start_url(start_url), region),
    )


def add_identity_center_hub(service: Service, name: str, start_url: str, region: str) -> Profile:
    """A new Identity Center hub (its accounts come from a sync once signed in)."""
    hub = identity_center_hub(name, start_url, region)
    service.update_config(lambda config: cfg.add_profile(config, hub))
    return hub


def edit_identity_center_hub(service: Service, name: str, start_url: str, region: str) -> bool:
    """Change a hub's start URL and region; True when that ended its sign-in (a sign-in
    belongs to the start URL it was made at: the next one is made at the new one)."""
    typed = identity_center_hub(name, start_url, region)
    changed, region = typed.identity_center, typed.sts_region
    service.reload()
    current = service.identity_center_hub(name)
    if current.identity_center == changed:
        return False
    signed_out = service.sign_out(name)

    def change(config: Config) -> Config:
        found = cfg.find_profile(config, name)
        if found is None or not found.is_identity_center:
            raise UsageError(f"no Identity Center hub named '{name}' (it was removed meanwhile)")
        return _changed_profile(config, name, identity_center=changed, sts_region=region)

    service.update_config(change)
    return signed_out


# Accounts and roles


def _account(config: Config, profile_name: str, account_name: str) -> tuple[Profile, Account]:
    profile = cfg.find_profile(config, profile_name)
    if profile is None:
        raise UsageError(f"no profile named '{profile_name}'")
    account = next((a for a in profile.accounts if a.name == account_name), None)
    if account is None:
        raise UsageError(f"profile '{profile_name}' has no account '{account_name}'")
    return profile, account


def add_account(service: Service, profile_name: str, account: Account) -> Config:
    return service.update_config(lambda c: cfg.add_account(c, profile_name, account))


def edit_account(service: Service, profile_name: str, old_name: str, account: Account) -> Config:
    """Change an account's name, id or region; its roles stay as they are on disk."""
    if account.name != old_name:
        _refuse_rename_while_live(service, f"{profile_name}/{old_name}")

    def change(config: Config) -> Config:
        profile, found = _account(config, profile_name, old_name)
        for other in profile.accounts:
            if other.name == old_name:
                continue
            if other.name == account.name:
                raise UsageError(
                    f"profile '{profile_name}' already has an account '{account.name}'"
                )
            if other.account_id == account.account_id:
                raise UsageError(
                    f"account {account.account_id} is already in profile '{profile_name}' "
                    f"as '{other.name}'"
                )
        new = replace(account, roles=found.roles)
        accounts = tuple(new if a.name == old_name else a for a in profile.accounts)
        return _checked(cfg.replace_profile(config, replace(profile, accounts=accounts)))

    return service.update_config(change)


def add_role(service: Service, profile_name: str, account_name: str, role: Role) -> Config:
    return service.update_config(lambda c: cfg.add_role(c, profile_name, account_name, role))


def edit_role(
    service: Service, profile_name: str, account_name: str, old_name: str, role: Role
) -> Config:
    """Change a role (name, duration, AWS profile, keep-fresh); its audit options stay."""
    if role.name != old_name:
        _refuse_rename_while_live(service, f"{profile_name}/{account_name}/{old_name}")

    def change(config: Config) -> Config:
        profile, account = _account(config, profile_name, account_name)
        found = next((r for r in account.roles if r.name == old_name), None)
        if found is None:
            raise UsageError(f"account '{account_name}' has no role '{old_name}'")
        if role.name != old_name and any(r.name == role.name for r in account.roles):
            raise UsageError(f"account '{account_name}' already has a role '{role.name}'")
        new = replace(
            found,
            name=role.name,
            duration_seconds=role.duration_seconds,
            aws_profile=role.aws_profile,
            keep_fresh=role.keep_fresh,
        )
        roles = tuple(new if r.name == old_name else r for r in account.roles)
        accounts = tuple(
            replace(a, roles=roles) if a.name == account_name else a for a in profile.accounts
        )
        return _checked(cfg.replace_profile(config, replace(profile, accounts=accounts)))

    return service.update_config(change)


def _checked(config: Config) -> Config:
    from pathlib import Path

    from trayapp.core.config_parse import check_unique_aws_profiles
    from trayapp.core.errors import ConfigError

    try:
        check_unique_aws_profiles(config, Path("config"))
    except ConfigError as exc:
        raise UsageError(str(exc).removeprefix("config: ")) from None
    return config


def move(service: Service, parts: list[str], delta: int) -> Config:
    """Move a profile, account or role up (-1) or down (+1) among its siblings."""

    def shifted(items: tuple[Any, ...], name: str) -> tuple[Any, ...]:
        names = [item.name for item in items]
        if name not in names:
            raise UsageError(f"'{'/'.join(parts)}' is no longer in the config")
        i = names.index(name)
        j = max(0, min(len(items) - 1, i + delta))
        listed = list(items)
        listed[i], listed[j] = listed[j], listed[i]
        return tuple(listed)

    def change(config: Config) -> Config:
        if len(parts) == 1:
            return replace(config, profiles=shifted(config.profiles, parts[0]))
        profile = cfg.find_profile(config, parts[0])
        if profile is None:
            raise UsageError(f"no profile named '{parts[0]}'")
        if len(parts) == 2:
            return cfg.replace_profile(
                config, replace(profile, accounts=shifted(profile.accounts, parts[1]))
            )
        _, account = _account(config, parts[0], parts[1])
        moved = replace(account, roles=shifted(account.roles, parts[2]))
        accounts = tuple(moved if a.name == parts[1] else a for a in profile.accounts)
        return cfg.replace_profile(config, replace(profile, accounts=accounts))

    return service.update_config(change)


@dataclass(frozen=True)
class Removed:
    """What removing a profile, account or role did."""

    path: str
    signed_out: tuple[Removal, ...]
    secrets_forgotten: int  # a profile's secrets (hub key, TOTP seed, MFA session)


def remove(service: Service, parts: list[str]) -> Removed:
    """Remove ``profile``, ``profile/account`` or ``profile/account/role``: its live sessions
    are signed out, a profile's secrets deleted (first: if the store cannot be changed, the
    profile stays and the removal can be tried again), then the config saved."""
    cfg.remove_path(service.reload(), parts)  # refuses a path that names nothing, first
    _refuse_while_rotating(service, parts[0], "removing")
    prefix = "/".join(parts)
    signed_out = []
    for target in _live_under(service, prefix):
        removal = service.unauth(service.resolve(target))
        if removal is not None:
            signed_out.append(removal)
    hub = cfg.find_profile(service.config, parts[0])
    keyed = hub is not None and not hub.is_identity_center  # an Identity Center hub has none
    forgotten = service.forget_profile_secrets(parts[0]) if len(parts) == 1 and keyed else 0
    service.update_config(lambda config: cfg.remove_path(config, parts))
    return Removed(prefix, tuple(signed_out), forgotten)


def removal_question(config: Config, parts: list[str]) -> str:
    """The confirmation a front asks before :func:`remove`, saying what goes with it."""
    prefix = "/".join(parts)
    profile = cfg.find_profile(config, parts[0])
    if len(parts) == 1 and profile is not None:
        roles = sum(len(a.roles) for a in profile.accounts)
        return (
            f"Remove profile {prefix}, its {len(profile.accounts)} account(s) and {roles} "
            "role(s), and delete its secret key (and TOTP seed) from the secret store?"
        )
    if len(parts) == 2 and profile is not None:
        account = next((a for a in profile.accounts if a.name == parts[1]), None)
        count = len(account.roles) if account else 0
        return f"Remove account {prefix} and its {count} role(s)?"
    return f"Remove role {prefix}?"


# Import from ~/.aws/config (core/awsimport plans; this applies it)


def apply_import(service: Service, plan: ImportPlan) -> Config:
    """Store the plan's hub secrets and save its config, all or nothing (awsimport's rule);
    "auto" is pinned to the backend the secrets went to."""
    from trayapp.core.awsimport import apply_import as apply_plan

    def save(change: Callable[[Config], Config]) -> object:
        def pinned(current: Config) -> Config:
            config = change(current)
            return pin_backend(service, config) if plan.secrets else config

        return service.update_config(pinned)

    apply_plan(plan, service.secrets, save)
    return service.config


# App settings


def set_settings(
    service: Service,
    *,
    warn_minutes: int,
    unauth_on_quit: bool,
    serve_credentials: bool | None = None,
) -> Config:
    """The app settings page's Save (``serve_credentials`` None: left as it is)."""
    if not 1 <= warn_minutes <= 120:
        raise UsageError("warn minutes must be between 1 and 120")

    def change(config: Config) -> Config:
        settings: Settings = replace(
            config.settings, warn_minutes=warn_minutes, unauth_on_quit=unauth_on_quit
        )
        if serve_credentials is not None:
            settings = replace(settings, serve_credentials=serve_credentials)
        return replace(config, settings=settings)

    return service.update_config(change)


def change_vault_passphrase(service: Service, old: str, new: str) -> None:
    """Re-encrypt the vault under ``new``; a wrong ``old`` changes nothing. A store the
    service opened before holds the old keys: the caller uses a new service after this."""
    from trayapp.core.errors import SecretStoreError
    from trayapp.core.secrets.vault import Vault

    vault = Vault(service.deps.app.vault_file, lambda: old)
    if not vault.exists:
        raise SecretStoreError(f"There is no vault at {vault.path} to change.")
    vault.change_passphrase(old, new)
