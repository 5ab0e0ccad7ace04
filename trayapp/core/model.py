"""The plain data of aacli: hubs (profiles), accounts, roles, targets, credentials, sessions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

DEFAULT_ROLE_DURATION = 3600
DEFAULT_STS_REGION = "us-east-1"
DEFAULT_ROTATE_AFTER = 90  # days: the common audit rule for long-lived access keys
DEFAULT_SSO_SCOPES = ("sso:account:access",)  # what the AWS CLI registers for


@dataclass(frozen=True)
class Role:
    """A role in a spoke account, and the AWS profile its credentials go to."""

    name: str
    duration_seconds: int = DEFAULT_ROLE_DURATION
    aws_profile: str | None = None  # None: "<account>-<role>"
    keep_fresh: bool = False  # the tray renews it before expiry when no prompt is needed
    # Audit (sent with AssumeRole; the role's trust policy may demand them):
    external_id: str | None = None  # sts:ExternalId
    source_identity: str | None = None  # "auto": the hub IAM user's name; or a fixed value
    tags: tuple[tuple[str, str], ...] = ()  # session tags (key, value)
    transitive_tag_keys: tuple[str, ...] = ()  # tags that carry on through role chaining
    # Identity Center hubs only:
    via: str | None = None  # the permission set (same account) whose credentials assume it
    synced: bool = False  # came from `aacli config sync`: only such roles may be pruned


@dataclass(frozen=True)
class Account:
    """A spoke account under a profile."""

    name: str
    account_id: str
    region: str
    roles: tuple[Role, ...] = ()


@dataclass(frozen=True)
class IdentityCenter:
    """An IAM Identity Center instance a hub signs in to (its AWS CLI sso-session)."""

    start_url: str
    region: str
    scopes: tuple[str, ...] = DEFAULT_SSO_SCOPES


@dataclass(frozen=True)
class Profile:
    """One hub identity: an IAM user (its secret key lives in the secret store, never here),
    or an Identity Center sign-in (``identity_center`` set; no key, no MFA device)."""

    name: str
    access_key_id: str
    mfa_serial: str
    sts_region: str = DEFAULT_STS_REGION
    partition: str = "aws"
    session_name: str | None = None  # None or "auto": the hub IAM user's name; "os-user"; fixed
    # The hub IAM user's name (from GetCallerIdentity), for the key id it was read with: a
    # new key (rotation) reads it again.
    user_name: str | None = None
    user_name_for: str | None = None
    codes: str = "ask"  # where MFA codes come from: "ask" (terminal/dialog), "ykman", "process"
    ykman_account: str | None = None  # the OATH account (None: the MFA device's serial/ARN)
    ykman_serial: str | None = None  # which YubiKey, when several are plugged in
    mfa_process: str | None = None  # a command line that prints a 6-digit code
    mfa_session_seconds: int | None = None  # GetSessionToken first; roles then need no code
    accounts: tuple[Account, ...] = ()
    rotate_after: int = DEFAULT_ROTATE_AFTER  # days before the hub key is due; 0: never remind
    key_created: datetime | None = None  # when the hub key was made (IAM's CreateDate) ...
    key_created_for: str | None = None  # ... for this key id: a date of another key is stale
    # Set: access_key_id == mfa_serial == "", and sts_region is the instance's region.
    identity_center: IdentityCenter | None = None

    @property
    def is_identity_center(self) -> bool:
        return self.identity_center is not None


@dataclass(frozen=True)
class Settings:
    """App-wide settings."""

    secret_backend: str = "auto"  # "auto" | "keyring" | "vault"
    unauth_on_quit: bool = True
    warn_minutes: int = 5
    serve_credentials: bool = False  # the tray runs the local credential server (core/server)
    server_port: int = 0  # its port on 127.0.0.1; 0: a free one, kept for the tray's run


@dataclass(frozen=True)
class Config:
    """The whole configuration file."""

    profiles: tuple[Profile, ...] = ()
    settings: Settings = field(default_factory=Settings)


@dataclass(frozen=True)
class Target:
    """A resolved ``profile/account/role``."""

    profile: Profile
    account: Account
    role: Role

    @property
    def label(self) -> str:
        return f"{self.profile.name}/{self.account.name}/{self.role.name}"

    @property
    def aws_profile(self) -> str:
        return self.role.aws_profile or f"{self.account.name}-{self.role.name}"

    @property
    def role_arn(self) -> str:
        return f"arn:{self.profile.partition}:iam::{self.account.account_id}:role/{self.role.name}"


@dataclass(frozen=True)
class Credentials:
    """Temporary AWS credentials as STS returned them."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: datetime
    assumed_role_arn: str = ""
    from_long_term_keys: bool = True  # False when chained (from an MFA session, a permission set)


@dataclass(frozen=True)
class KeyBefore:
    """A key aacli set in a config section it did not create, as it was before.

    ``before`` is put back (None: the key is removed again) when the session ends, but only
    while the key still holds ``wrote``: a value the user set since is theirs. Never a secret:
    the credentials file's keys are always absent before (aacli refuses to write over keys
    it did not write).
    """

    profile: str  # the AWS profile whose section it is
    key: str
    before: str | None
    wrote: str


@dataclass(frozen=True)
class Session:
    """A ledger entry: what aacli wrote, never the secrets themselves."""

    target: str
    aws_profiles: tuple[str, ...]
    access_key_id: str
    expiration: datetime
    issued_at: datetime
    credentials_file: str
    config_file: str
    region: str
    from_long_term_keys: bool = True
    config_sections_created: tuple[str, ...] = ()  # removed whole when emptied
    # Credentials-file sections that were there before aacli wrote its keys into them (an
    # empty [default]): their header stays when the keys go. Older ledgers lack the field:
    # every section was taken as aacli's own, as aacli then did.
    credentials_sections_found: tuple[str, ...] = ()
    config_found: tuple[KeyBefore, ...] = ()  # keys set in config sections aacli did not create
