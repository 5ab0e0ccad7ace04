"""The settings window's state and what its buttons do, without Tk: a test drives it directly.

The window shows a tree (profiles → accounts → roles) and one form at a time. Every change
goes through ``core/config_ops`` (the functions ``aacli config`` calls), so the window and
the CLI share their rules; the tray notices the saved file and updates its menu.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from trayapp.core import config_ops
from trayapp.core.awsimport import ImportPlan
from trayapp.core.errors import AacliError
from trayapp.core.hub_key_check import KeyCheck, check_hub_keys
from trayapp.core.model import Config
from trayapp.core.service import Service
from trayapp.dialogs.settings.forms import (
    AccountForm,
    AppForm,
    Form,
    HubForm,
    HubRoleForm,
    ProfileForm,
    RoleForm,
)
from trayapp.dialogs.settings.sso_model import HubActions

if TYPE_CHECKING:
    from trayapp.core.sso.signin import DeviceCode

Path = tuple[str, ...]  # ("acme",), ("acme", "dev"), ("acme", "dev", "DEVELOPER")
BACKENDS = ("keyring", "vault")
F = TypeVar("F", bound=Form)


@dataclass(frozen=True)
class Node:
    """One line of the tree."""

    path: Path
    label: str


class SettingsModel:
    """The window's state: the tree, the form being edited, the last message and check."""

    def __init__(
        self,
        service: Service,
        *,
        make_service: Callable[[], Service] | None = None,
        autostart: Any = None,
    ) -> None:
        self.service = service
        self._make_service = make_service
        self.autostart = autostart  # trayapp.tray.autostart-like (entry_for/enable/...), or None
        self.form: Form | None = None
        self.editing: Path | None = None  # the item the form edits; None: a new one
        self.status = ""  # the last outcome, one line (shown at the bottom of the window)
        self.problem = ""  # the last failure, one line (shown in red)
        self.check: KeyCheck | None = None
        self.checking = False
        self.app = self._app_form()
        self.device_code: DeviceCode | None = None  # shown while a sign-in waits for it
        self.hubs = HubActions(self)  # an Identity Center hub's sign-in, refresh, sign-out

    # What is shown

    @property
    def config(self) -> Config:
        return self.service.config

    @property
    def first_run(self) -> bool:
        return not self.config.profiles

    def tree(self) -> list[Node]:
        nodes = []
        for profile in self.config.profiles:
            sso = profile.identity_center
            kind = f"Identity Center, {sso.start_url}" if sso else profile.access_key_id
            nodes.append(Node((profile.name,), f"{profile.name}  ({kind})"))
            for account in profile.accounts:
                path = (profile.name, account.name)
                nodes.append(
                    Node(path, f"{account.name}  ({account.account_id}, {account.region})")
                )
                for role in account.roles:
                    fresh = ", keep fresh" if role.keep_fresh else ""
                    if sso is None:
                        length = f"{role.duration_seconds // 60} min"
                    else:
                        length = f"via {role.via}" if role.via else "permission set"
                    nodes.append(Node((*path, role.name), f"{role.name}  ({length}{fresh})"))
        return nodes

    @property
    def can_save(self) -> bool:
        return self.form is not None and self.form.valid

    def secret_place(self) -> str:
        """Where secrets live, for "stored in …" (never the secret itself)."""
        return config_ops.pin_backend(self.service, self.config).settings.secret_backend

    def key_age(self, form: ProfileForm) -> str:
        """The hub key's age for the profile page ("" for a new profile)."""
        from trayapp.core.keys.age import key_age

        if form.existing is None:
            return ""
        age = key_age(form.existing, self.service.deps.clock())
        if age is None:
            return "age not known yet (aacli rotate --refresh-age reads it from IAM)"
        days = "1 day" if age.days == 1 else f"{age.days} days"
        limit = form.existing.rotate_after
        if age.due:
            return f"{days} old, due for rotation (every {limit} days): tray menu → Rotate hub key…"
        return f"{days} old" + (f" (rotation due every {limit} days)" if limit else "")

    # Choosing what to edit

    def new_profile(self) -> ProfileForm:
        return self._begin(ProfileForm(), None)

    def new_hub(self) -> HubForm:
        return self._begin(HubForm(), None)

    def new_account(self, profile: str) -> AccountForm:
        return self._begin(AccountForm(profile), None)

    def new_role(self, profile: str, account: str) -> RoleForm:
        if self.hubs.is_hub(profile):
            return self._begin(HubRoleForm(profile, account), None)
        return self._begin(RoleForm(profile, account), None)

    def edit(self, path: Path) -> Form:
        config = self.config
        profile = next(p for p in config.profiles if p.name == path[0])
        if len(path) == 1 and profile.is_identity_center:
            return self._begin(HubForm.for_hub(profile), path)
        if len(path) == 1:
            stored = self._guard(lambda: config_ops.hub_secret_stored(self.service, profile.name))
            profile_form = ProfileForm.for_profile(profile, secret_stored=bool(stored))
            seed = self._guard(lambda: config_ops.totp_seed_stored(self.service, profile.name))
            profile_form.totp_stored = bool(seed)
            form: Form = profile_form
        else:
            account = next(a for a in profile.accounts if a.name == path[1])
            if len(path) == 2:
                form = AccountForm.for_account(profile.name, account)
            else:
                role = next(r for r in account.roles if r.name == path[2])
                kind = HubRoleForm if profile.is_identity_center else RoleForm
                form = kind.for_role(profile.name, account.name, role)
        return self._begin(form, path)

    def _begin(self, form: F, path: Path | None) -> F:
        self.form, self.editing, self.check, self.problem = form, path, None, ""
        return form

    # Saving the form

    def save(self) -> bool:
        """Save the form (only when valid); True when saved. Then open the next natural step:
        a new profile's first account, a new account's first role."""
        form = self.form
        if form is None or not form.valid:
            self.problem = "Fix the fields marked in red first."
            return False
        done = self._guard(lambda: self._save(form))
        if done is None:
            return False
        self.status = done
        return True

    def _save(self, form: Form) -> str:
        service, editing = self.service, self.editing
        if isinstance(form, HubForm):
            return self.hubs.save(form)
        if isinstance(form, ProfileForm):
            profile = form.build()
            secret = form.new_secret()
            if editing is None:
                config_ops.add_profile(service, profile, secret or "")
                self._store_seed(profile.name, form)
                self._begin(AccountForm(profile.name), None)
                return (
                    f"Saved profile {profile.name}; its secret key is in {service.secrets().name}."
                )
            config_ops.edit_profile(
                service, editing[0], profile, secret=secret, opened_with=form.existing
            )
            self._store_seed(profile.name, form)
            self.edit((profile.name,))
            return f"Saved profile {profile.name}."
        if isinstance(form, AccountForm):
            account = form.build()
            if editing is None:
                config_ops.add_account(service, form.profile, account)
                self._begin(RoleForm(form.profile, account.name), None)
            else:
                config_ops.edit_account(service, form.profile, editing[1], account)
                self.edit((form.profile, account.name))
            return f"Saved account {form.profile}/{account.name}."
        assert isinstance(form, RoleForm)
        role = form.build()
        if editing is None:
            config_ops.add_role(service, form.profile, form.account, role)
        else:
            config_ops.edit_role(service, form.profile, form.account, editing[2], role)
        self.edit((form.profile, form.account, role.name))
        return f"Saved role {form.profile}/{form.account}/{role.name}; it is in the tray's menu."

    def _store_seed(self, profile: str, form: ProfileForm) -> None:
        if form.totp_seed.strip():
            config_ops.set_totp_seed(self.service, profile, form.totp_seed)
            form.totp_seed = ""

    def remove_totp_seed(self) -> bool:
        """Forget the edited profile's stored TOTP seed (after confirmation)."""
        form = self.form
        if not isinstance(form, ProfileForm) or self.editing is None:
            return False
        name = self.editing[0]
        if self._guard(lambda: config_ops.remove_totp_seed(self.service, name)) is None:
            return False
        form.totp_stored = False
        self.status = f"Forgot the TOTP seed of {name}; codes will be asked for again."
        return True

    # Tree actions

    def removal_question(self, path: Path) -> str:
        return config_ops.removal_question(self.config, list(path))

    def remove(self, path: Path) -> bool:
        """Remove after the user confirmed :meth:`removal_question`."""
        removed = self._guard(lambda: config_ops.remove(self.service, list(path)))
        if removed is None:
            return False
        extra = f" and {removed.secrets_forgotten} secret(s)" if len(path) == 1 else ""
        self.status = f"Removed {removed.path}{extra}."
        if self.editing and self.editing[: len(path)] == path:
            self.form, self.editing = None, None
        return True

    def move(self, path: Path, delta: int) -> bool:
        return self._guard(lambda: config_ops.move(self.service, list(path), delta)) is not None

    def remove_secret(self) -> bool:
        """Delete the edited profile's stored secret key (after confirmation)."""
        form = self.form
        if not isinstance(form, ProfileForm) or self.editing is None:
            return False
        name = self.editing[0]
        if self._guard(lambda: config_ops.remove_hub_secret(self.service, name)) is None:
            return False
        form.secret_stored, form.replacing_secret = False, True
        self.status = f"Removed the secret key of {name}; type a new one to sign in again."
        return True

    # Check: who the typed keys belong to (run off the UI thread by the view)

    def check_request(self) -> tuple[str, str, str] | None:
        """(key id, secret, region) for Check, or None (with ``problem`` saying why)."""
        form = self.form
        if not isinstance(form, ProfileForm):
            return None
        for name in ("access_key_id", "sts_region"):
            if form.error(name):
                self.problem = form.error(name)
                return None
        secret = form.secret.strip()
        if not form.replacing_secret and self.editing:
            secret = self._guard(lambda: self._stored_secret(self.editing[0])) or ""  # type: ignore[index]
        elif form.secret_error():
            self.problem = form.secret_error()
            return None
        if not secret:
            return None
        return form.clean("access_key_id"), secret, form.clean("sts_region")

    def _stored_secret(self, profile: str) -> str:
        from trayapp.core.providers.hub_keys import hub_secret_key

        return self.service.secrets().get(hub_secret_key(profile)) or ""

    def run_check(self, request: tuple[str, str, str]) -> KeyCheck | AacliError:
        """The check itself (blocking; any thread): its result or the error to show."""
        from trayapp.core import iam

        deps = self.service.deps
        try:
            return check_hub_keys(
                *request,
                sts_factory=deps.sts_factory,
                endpoint_url=deps.endpoint_url,
                iam_endpoint_url=iam.endpoint_from_env() or deps.endpoint_url,
            )
        except AacliError as exc:
            return exc

    def checked(self, result: KeyCheck | AacliError) -> None:
        """Show a check's result; an empty MFA device field gets the user's device."""
        self.checking = False
        if isinstance(result, AacliError):
            self.check, self.problem = None, f"Check failed: {result}"
            return
        self.check, self.problem = result, ""
        form = self.form
        if isinstance(form, ProfileForm) and result.mfa_devices and not form.values["mfa_serial"]:
            form.set("mfa_serial", result.mfa_devices[0])

    def check_text(self) -> str:
        if self.checking:
            return "Checking the keys with AWS…"
        if self.check is None:
            return ""
        found = f" MFA device: {self.check.mfa_devices[0]}." if self.check.mfa_devices else ""
        note = f" {self.check.note}" if self.check.note else ""
        return f"These keys are {self.check.arn}.{found}{note}"

    # Import from ~/.aws/config

    def plan_import(self) -> ImportPlan | None:
        from trayapp.core.awsimport import plan_import

        plan: ImportPlan | None = self._guard(
            lambda: plan_import(self.service.reload(), self.service.deps.aws)
        )
        return plan

    def apply_import(self, plan: ImportPlan) -> bool:
        if self._guard(lambda: config_ops.apply_import(self.service, plan)) is None:
            return False
        self.status = (
            f"Imported {len(plan.added)} role(s) from {self.service.deps.aws.config_file}."
        )
        return True

    # App settings

    def _app_form(self) -> AppForm:
        settings = self.config.settings
        at_login = False
        if self.autostart is not None:
            try:
                at_login = self.autostart.installed(self.autostart.entry_for()) is not None
            except AacliError:
                at_login = False
        return AppForm(
            settings.warn_minutes, settings.unauth_on_quit, at_login, settings.serve_credentials
        )

    def save_app(self) -> bool:
        form = self.app
        if not form.valid:
            self.problem = form.error("warn_minutes")
            return False

        def save() -> None:
            config_ops.set_settings(
                self.service,
                warn_minutes=form.clean("warn_minutes"),
                unauth_on_quit=form.unauth_on_quit,
                serve_credentials=form.serve_credentials,
            )
            if self.autostart is not None:
                entry = self.autostart.entry_for()
                if form.start_at_login:
                    self.autostart.enable(entry)
                else:
                    self.autostart.disable(entry)

        if self._guard(save) is None:
            return False
        self.status = "Saved the app settings."
        return True

    def backend(self) -> str:
        return self.secret_place()

    def switch_backend(self, backend: str) -> bool:
        if backend not in BACKENDS:
            self.problem = f"unknown secret backend {backend!r}"
            return False
        moved = self._guard(lambda: self.service.switch_secret_backend(backend))
        if moved is None:
            return False
        self.status = f"Secrets are now kept in {self.service.secrets().name} ({moved} moved)."
        return True

    def change_passphrase(self, old: str, new: str, again: str) -> bool:
        if new != again:
            self.problem = "The two new passphrases differ; the vault was not changed."
            return False
        done = self._guard(lambda: config_ops.change_vault_passphrase(self.service, old, new))
        if done is None:
            return False
        if self._make_service is not None:  # the old store holds the old keys
            self.service = self._make_service()
        self.status = "The vault is now encrypted under the new passphrase."
        return True

    # One place turns a failure into the line the window shows

    def _guard(self, action: Callable[[], Any]) -> Any:
        self.problem = ""
        try:
            result = action()
        except AacliError as exc:
            self.problem = str(exc)
            return None
        return True if result is None else result

    def snapshot(self) -> dict[str, Any]:
        """What the window shows, as data (tests read it; never a secret)."""
        return {
            "first_run": self.first_run,
            "tree": [{"path": list(n.path), "label": n.label} for n in self.tree()],
            "editing": list(self.editing) if self.editing else None,
            "form": self.form.snapshot() if self.form else None,
            "can_save": self.can_save,
            "check": self.check_text(),
            "status": self.status,
            "problem": self.problem,
            "app": self.app.snapshot(),
            "hub": self.hubs.snapshot(),
        }
