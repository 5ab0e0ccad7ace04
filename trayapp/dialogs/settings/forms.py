"""The settings window's forms as plain data: text fields checked as they are typed (no Tk).

A form holds what the user typed, checks each field with the rules of ``core/validate.py``
on every change, and builds the model object (Profile, Account, Role) only when all fields
are valid. The views show ``message(name)`` beside each field and enable Save on ``valid``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from trayapp.core import validate
from trayapp.core.errors import AacliError, UsageError
from trayapp.core.model import DEFAULT_STS_REGION, Account, Profile, Role

Check = Callable[[str], Any]  # returns the clean value or raises UsageError with the reason


def _optional(check: Check) -> Check:
    return lambda text: check(text) if text.strip() else None


def _required(what: str, check: Check) -> Check:
    def checked(text: str) -> Any:
        if not text.strip():
            raise UsageError(f"{what} is required")
        return check(text)

    return checked


class Form:
    """Named text fields, each with a check; ``touched`` fields show their message."""

    kind = "form"
    checks: ClassVar[dict[str, Check]] = {}

    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.values: dict[str, str] = dict.fromkeys(self.checks, "")
        self.values.update(values or {})
        self.touched: set[str] = {name for name, value in self.values.items() if value}
        self._initial = dict(self.values)

    @property
    def changed(self) -> bool:
        """Whether the user changed something since the form opened (Esc then asks)."""
        return self.values != self._initial or bool(getattr(self, "secret", ""))

    def set(self, name: str, value: str) -> None:
        self.values[name] = value
        self.touched.add(name)

    def error(self, name: str) -> str:
        """Why the field is not valid ("" when it is), whether shown yet or not."""
        try:
            self.checks[name](self.values[name])
        except AacliError as exc:
            return str(exc)
        return ""

    def message(self, name: str) -> str:
        """What to show beside the field: its error once the user has typed in it."""
        return self.error(name) if name in self.touched else ""

    @property
    def valid(self) -> bool:
        return not any(self.error(name) for name in self.checks)

    def clean(self, name: str) -> Any:
        return self.checks[name](self.values[name])

    def snapshot(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "values": dict(self.values),
            "messages": {n: self.message(n) for n in self.checks if self.message(n)},
            "valid": self.valid,
        }


class ProfileForm(Form):
    """A hub profile. The secret access key is a field only while it is new or replaced: a
    stored one is never read back into the window."""

    kind = "profile"
    checks: ClassVar[dict[str, Check]] = {
        "name": _required("the profile name", lambda t: validate.name(t.strip(), "profile name")),
        "access_key_id": _required("the access key id", validate.access_key_id),
        "mfa_serial": _required("the MFA device", validate.mfa_serial),
        "sts_region": _required("the STS region", validate.region),
        "partition": validate.partition,
        "mfa_session": _optional(validate.mfa_session_duration),
    }

    def __init__(
        self,
        values: dict[str, str] | None = None,
        *,
        secret_stored: bool = False,
        existing: Profile | None = None,
    ) -> None:
        defaults = {"sts_region": DEFAULT_STS_REGION, "partition": "aws"}
        super().__init__({**defaults, **(values or {})})
        self.existing = existing
        self.secret_stored = secret_stored
        self.replacing_secret = not secret_stored  # a new profile types its secret
        self.secret = ""
        self.secret_touched = False
        self.totp_stored = False  # a TOTP seed is in the store (never read back here)
        self.totp_seed = ""  # a seed typed or pasted to store on Save (optional)

    @classmethod
    def for_profile(cls, profile: Profile, *, secret_stored: bool) -> ProfileForm:
        session = profile.mfa_session_seconds
        return cls(
            {
                "name": profile.name,
                "access_key_id": profile.access_key_id,
                "mfa_serial": profile.mfa_serial,
                "sts_region": profile.sts_region,
                "partition": profile.partition,
                "mfa_session": f"{session // 60}m" if session else "",
            },
            secret_stored=secret_stored,
            existing=profile,
        )

    def set_secret(self, value: str) -> None:
        self.secret = value
        self.secret_touched = True

    def totp_error(self) -> str:
        if not self.totp_seed.strip():
            return ""
        from trayapp.core.codes.totp import normalise_seed

        try:
            normalise_seed(self.totp_seed)
        except AacliError as exc:
            return str(exc)
        return ""

    def secret_error(self) -> str:
        if not self.replacing_secret:
            return ""
        if not self.secret.strip():
            return "the secret access key is required"
        try:
            validate.secret_access_key(self.secret)
        except AacliError as exc:
            return str(exc)
        return ""

    def error(self, name: str) -> str:
        if name == "secret":
            return self.secret_error()
        if name == "totp_seed":
            return self.totp_error()
        return super().error(name)

    def message(self, name: str) -> str:
        if name == "secret":
            return self.secret_error() if self.secret_touched else ""
        if name == "totp_seed":
            return self.totp_error()
        return super().message(name)

    @property
    def valid(self) -> bool:
        return super().valid and not self.secret_error() and not self.totp_error()

    def new_secret(self) -> str | None:
        """The secret to store on Save (None: keep the stored one)."""
        return self.secret.strip() if self.replacing_secret else None

    def build(self) -> Profile:
        base = self.existing or Profile(name="", access_key_id="", mfa_serial="")
        from dataclasses import replace

        return replace(
            base,
            name=self.clean("name"),
            access_key_id=self.clean("access_key_id"),
            mfa_serial=self.clean("mfa_serial"),
            sts_region=self.clean("sts_region"),
            partition=self.clean("partition"),
            mfa_session_seconds=self.clean("mfa_session"),
        )

    def snapshot(self) -> dict[str, Any]:
        data = super().snapshot()
        data["secret"] = (
            "typed" if self.replacing_secret and self.secret else
            "stored" if self.secret_stored and not self.replacing_secret else "empty"
        )  # fmt: skip
        if self.message("secret"):
            data["messages"]["secret"] = self.message("secret")
        if self.totp_error():
            data["messages"]["totp_seed"] = self.totp_error()
        data["totp"] = "typed" if self.totp_seed else "stored" if self.totp_stored else "none"
        return data


class AccountForm(Form):
    kind = "account"
    checks: ClassVar[dict[str, Check]] = {
        "name": _required("the account name", lambda t: validate.name(t.strip(), "account name")),
        "account_id": _required("the account id", validate.account_id),
        "region": _required("the region", validate.region),
    }

    def __init__(self, profile: str, values: dict[str, str] | None = None) -> None:
        super().__init__(values)
        self.profile = profile

    @classmethod
    def for_account(cls, profile: str, account: Account) -> AccountForm:
        values = {"name": account.name, "account_id": account.account_id, "region": account.region}
        return cls(profile, values)

    def build(self) -> Account:
        return Account(
            name=self.clean("name"),
            account_id=self.clean("account_id"),
            region=self.clean("region"),
        )


def _duration_text(seconds: int) -> str:
    hours, minutes = divmod(seconds // 60, 60)
    if hours and minutes:
        return f"{hours}h{minutes:02d}m"
    return f"{hours}h" if hours else f"{minutes}m"


class RoleForm(Form):
    kind = "role"
    checks: ClassVar[dict[str, Check]] = {
        "name": _required("the role name", validate.role_name),
        "duration": _required("the duration", validate.duration),
        "aws_profile": _optional(validate.aws_profile),
    }

    def __init__(self, profile: str, account: str, values: dict[str, str] | None = None) -> None:
        super().__init__({"duration": "1h", **(values or {})})
        self.profile, self.account = profile, account
        self.keep_fresh = False

    @classmethod
    def for_role(cls, profile: str, account: str, role: Role) -> RoleForm:
        form = cls(
            profile,
            account,
            {
                "name": role.name,
                "duration": _duration_text(role.duration_seconds),
                "aws_profile": role.aws_profile or "",
            },
        )
        form.keep_fresh = role.keep_fresh
        return form

    def build(self) -> Role:
        return Role(
            name=self.clean("name"),
            duration_seconds=self.clean("duration"),
            aws_profile=self.clean("aws_profile"),
            keep_fresh=self.keep_fresh,
        )

    def snapshot(self) -> dict[str, Any]:
        return {**super().snapshot(), "keep_fresh": self.keep_fresh}


class HubForm(Form):
    """An Identity Center hub: its name (fixed once saved: its sign-in is filed under it), the
    start URL and region, checked as ``aacli config add-sso`` checks them."""

    kind = "identity_center"
    checks: ClassVar[dict[str, Check]] = {
        "name": _required("the hub name", lambda t: validate.name(t.strip(), "profile name")),
        "start_url": _required("the start URL", validate.sso_start_url),
        "region": _required("the region", validate.region),
    }

    def __init__(
        self, values: dict[str, str] | None = None, *, existing: Profile | None = None
    ) -> None:
        super().__init__(values)
        self.existing = existing

    @classmethod
    def for_hub(cls, profile: Profile) -> HubForm:
        sso = profile.identity_center
        assert sso is not None
        values = {"name": profile.name, "start_url": sso.start_url, "region": sso.region}
        return cls(values, existing=profile)


class HubRoleForm(RoleForm):
    """A role of an Identity Center hub: a permission set, or a role chained from one
    (``via``). No duration: a permission set's session is Identity Center's, a chained one
    AWS caps at 1 h."""

    kind = "hub_role"
    checks: ClassVar[dict[str, Check]] = {
        "name": _required("the role name", validate.role_name),
        "via": _optional(validate.role_name),
        "aws_profile": _optional(validate.aws_profile),
    }

    def __init__(self, profile: str, account: str, values: dict[str, str] | None = None) -> None:
        Form.__init__(self, values)
        self.profile, self.account = profile, account
        self.keep_fresh = False
        self.duration_seconds = 3600  # kept as the config has it (not used by AWS here)

    @classmethod
    def for_role(cls, profile: str, account: str, role: Role) -> HubRoleForm:
        values = {"name": role.name, "via": role.via or "", "aws_profile": role.aws_profile or ""}
        form = cls(profile, account, values)
        form.keep_fresh, form.duration_seconds = role.keep_fresh, role.duration_seconds
        return form

    def chain_note(self) -> str:
        """``chained from AdministratorAccess (at most 1 h)``, or what a permission set is."""
        via = self.values["via"].strip()
        if via and not self.error("via"):
            return f"chained from {via} (at most 1 h)"
        return "a permission set: its session lasts as long as Identity Center sets"

    def build(self) -> Role:
        return Role(
            name=self.clean("name"),
            duration_seconds=self.duration_seconds,
            aws_profile=self.clean("aws_profile"),
            keep_fresh=self.keep_fresh,
            via=self.clean("via"),
        )

    def snapshot(self) -> dict[str, Any]:
        return {**super().snapshot(), "chain": self.chain_note()}


def _warn_minutes(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 120:
        raise UsageError("warn minutes must be a whole number from 1 to 120")
    return int(text)


class AppForm(Form):
    kind = "app"
    checks: ClassVar[dict[str, Check]] = {"warn_minutes": _warn_minutes}

    def __init__(
        self,
        warn_minutes: int,
        unauth_on_quit: bool,
        start_at_login: bool,
        serve_credentials: bool = False,
    ) -> None:
        super().__init__({"warn_minutes": str(warn_minutes)})
        self.unauth_on_quit = unauth_on_quit
        self.start_at_login = start_at_login
        self.serve_credentials = serve_credentials  # the tray's credential server

    def snapshot(self) -> dict[str, Any]:
        return {
            **super().snapshot(),
            "unauth_on_quit": self.unauth_on_quit,
            "start_at_login": self.start_at_login,
            "serve_credentials": self.serve_credentials,
        }
