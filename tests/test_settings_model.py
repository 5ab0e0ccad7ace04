"""The settings window's model without Tk: validation, Check, saving, editing, removing,
import and the secret backend, against real files, the real vault and the sandbox."""

from __future__ import annotations

import itertools

import pytest
import tomllib
from conftest import PASSPHRASE

from trayapp.core.paths import AppPaths, AwsPaths
from trayapp.core.secrets.vault import Vault
from trayapp.core.service import Deps, Service
from trayapp.dialogs.settings.forms import AccountForm, ProfileForm, RoleForm
from trayapp.dialogs.settings.model import SettingsModel


def _service(env, sandbox=None) -> Service:
    return Service(
        Deps(
            app=AppPaths(config_dir=env.home, state_dir=env.home / "state"),
            aws=AwsPaths(credentials_file=env.credentials, config_file=env.aws_config),
            endpoint_url=sandbox.endpoint_url if sandbox else None,
            passphrase=lambda: PASSPHRASE,
        )
    )


def _on_disk(env) -> dict:
    return tomllib.loads((env.home / "config.toml").read_text(encoding="utf-8"))


def _vault_keys(env) -> list[str]:
    return Vault(env.home / "vault.bin", lambda: PASSPHRASE).keys()


def _type(form, **values: str) -> None:
    for name, value in values.items():
        form.set(name, value)


_users = itertools.count(1)


@pytest.fixture
def model(env, sandbox):
    hub = sandbox.add_hub_user(f"settings-model{next(_users)}")
    env.sandbox, env.hub = sandbox, hub
    return SettingsModel(_service(env, sandbox))


def test_validation_keeps_save_disabled_and_says_why(model, env):
    """Issue 12 must-show 2: a bad account id, region or duration keeps Save disabled and
    shows the message next to the field; nothing is written."""
    assert model.first_run
    account = model.new_account("acme")
    _type(account, name="dev", account_id="12345", region="eu-west-1")
    assert not model.can_save
    assert "12 digits" in account.message("account_id")
    account.set("account_id", "111111111111")
    account.set("region", "moon-1")
    assert not model.can_save and "region" in account.message("region")
    account.set("region", "eu-west-1")
    assert model.can_save and account.message("region") == ""

    role = model.new_role("acme", "dev")
    assert role.message("name") == ""  # untouched: no red text yet, but Save stays off
    assert not model.can_save
    _type(role, name="DEVELOPER", duration="13h")
    assert not model.can_save and "15 min (900 s) to 12 h" in role.message("duration")
    role.set("duration", "2h")
    assert model.can_save

    profile = model.new_profile()
    _type(profile, name="acme", access_key_id="AKIA-nope", mfa_serial="x")
    profile.set_secret("short")
    messages = profile.snapshot()["messages"]
    assert "access key id" in messages["access_key_id"]
    assert "MFA device" in messages["mfa_serial"]
    assert "16-128 characters" in messages["secret"]
    assert "short" not in str(profile.snapshot())  # the secret is never in what is shown
    assert not model.save()
    assert not (env.home / "config.toml").exists()


def test_first_run_check_then_profile_account_role(model, env):
    """Issue 12 first run: Check shows the hub user's ARN and fills in its MFA device from
    iam:ListMFADevices; Save stores the secret in the vault and leads on to the account and
    the role; the saved config is what the CLI reads."""
    hub = env.hub
    profile = model.new_profile()
    _type(profile, name="acme", access_key_id=hub.access_key_id)
    profile.set_secret(hub.secret_access_key)
    request = model.check_request()
    assert request is not None
    model.checked(model.run_check(request))
    assert hub.user_arn in model.check_text()
    assert profile.values["mfa_serial"] == hub.mfa_serial  # filled in by the check
    assert model.save(), model.problem
    assert isinstance(model.form, AccountForm) and model.form.profile == "acme"
    _type(model.form, name="dev", account_id="111111111111", region="eu-west-1")
    assert model.save(), model.problem
    assert isinstance(model.form, RoleForm)
    _type(model.form, name="DEVELOPER", duration="2h")
    assert model.save(), model.problem
    data = _on_disk(env)
    assert data["profiles"]["acme"]["access_key_id"] == hub.access_key_id
    assert data["profiles"]["acme"]["accounts"]["dev"]["roles"]["DEVELOPER"]["duration"] in (
        7200,
        "2h",
    )
    assert data["settings"]["secret_backend"] == "vault"  # "auto" pinned to what it chose
    assert "acme/secret_access_key" in _vault_keys(env)
    assert hub.secret_access_key not in (env.home / "config.toml").read_text()
    result = env.aacli("config", "show")
    assert "DEVELOPER  120 min" in result.stdout, result.stderr


def test_check_with_wrong_keys_says_so(model, env):
    """Issue 12 Check: keys AWS does not know give one clear line, no traceback, no ARN."""
    profile = model.new_profile()
    _type(profile, name="acme", access_key_id="AKIAAAAAAAAAAAAAAAAA")
    profile.set_secret("x" * 40)
    model.checked(model.run_check(model.check_request()))
    assert model.check is None and model.problem.startswith("Check failed: ")
    assert "x" * 40 not in model.problem


def _set_up(model, env, name="acme", account="dev") -> None:
    hub = env.hub
    profile = model.new_profile()
    _type(profile, name=name, access_key_id=hub.access_key_id, mfa_serial=hub.mfa_serial)
    profile.set_secret(hub.secret_access_key)
    assert model.save(), model.problem
    _type(model.form, name=account, account_id="111111111111", region="eu-west-1")
    assert model.save(), model.problem
    _type(model.form, name="DEVELOPER", duration="1h")
    assert model.save(), model.problem


def test_edit_rename_and_stored_secret_is_never_shown(model, env):
    """Issue 12 editing: a stored secret shows as stored (never its value); renaming a
    profile moves its secrets; renaming a role and its duration is saved."""
    _set_up(model, env)
    form = model.edit(("acme",))
    assert isinstance(form, ProfileForm)
    assert form.snapshot()["secret"] == "stored" and form.secret == ""
    assert env.hub.secret_access_key not in str(model.snapshot())
    assert model.can_save  # a stored secret needs no typing
    form.set("name", "corp")
    assert model.save(), model.problem
    assert "corp/secret_access_key" in _vault_keys(env)
    assert "acme/secret_access_key" not in _vault_keys(env)
    assert list(_on_disk(env)["profiles"]) == ["corp"]
    assert list(_on_disk(env)["profiles"]["corp"]["accounts"]) == ["dev"]  # accounts kept

    role = model.edit(("corp", "dev", "DEVELOPER"))
    _type(role, name="Developer2", duration="3h")
    role.keep_fresh = True
    assert model.save(), model.problem
    saved = _on_disk(env)["profiles"]["corp"]["accounts"]["dev"]["roles"]
    assert list(saved) == ["Developer2"] and saved["Developer2"]["keep_fresh"] is True


def test_remove_asks_then_removes_the_profile_and_its_secrets(model, env):
    """Issue 12 must-show 2: removing a profile asks first, saying its secrets go too, and
    then removes the profile and every secret of it from the store."""
    _set_up(model, env)
    _set_up(model, env, name="other", account="test")
    question = model.removal_question(("acme",))
    assert "acme" in question and "secret" in question and "1 account" in question
    assert model.remove(("acme",)), model.problem
    assert list(_on_disk(env)["profiles"]) == ["other"]
    assert [k for k in _vault_keys(env) if k.startswith("acme/")] == []
    assert "other/secret_access_key" in _vault_keys(env)
    assert (
        model.removal_question(("other", "test")) == "Remove account other/test and its 1 role(s)?"
    )
    assert model.remove(("other", "test", "DEVELOPER"))
    assert _on_disk(env)["profiles"]["other"]["accounts"]["test"].get("roles", {}) == {}


def test_reorder_accounts(model, env):
    """Issue 12 tree: reorder moves an account among its siblings, saved at once."""
    _set_up(model, env)
    account = model.new_account("acme")
    _type(account, name="prod", account_id="333333333333", region="us-east-2")
    assert model.save()
    assert model.move(("acme", "prod"), -1)
    assert list(_on_disk(env)["profiles"]["acme"]["accounts"]) == ["prod", "dev"]


def test_import_from_aws_config_shows_then_saves(model, env):
    """Issue 12 must-show 2: import plans from ~/.aws/config (nothing saved), then saves the
    roles it showed and stores the hub secret it found."""
    env.credentials.parent.mkdir(mode=0o700)
    env.aws_config.write_text(
        f"[profile hub]\nregion = us-east-1\nmfa_serial = {env.hub.mfa_serial}\n\n"
        "[profile dev-Admin]\nrole_arn = arn:aws:iam::111111111111:role/Admin\n"
        "source_profile = hub\nregion = eu-west-1\n"
    )
    env.credentials.write_text(
        f"[hub]\naws_access_key_id = {env.hub.access_key_id}\n"
        f"aws_secret_access_key = {env.hub.secret_access_key}\n"
    )
    plan = model.plan_import()
    assert plan is not None and plan.added, model.problem
    assert not (env.home / "config.toml").exists()  # shown first, nothing saved
    assert model.apply_import(plan), model.problem
    assert [n.path for n in model.tree()][-1][-1] == "Admin"
    assert "hub/secret_access_key" in _vault_keys(env)


def test_switch_backend_to_an_unusable_keyring_changes_nothing(model, env):
    """Issue 12 app settings: switching the secret backend to a keyring that cannot be used
    here says why and leaves the vault and the config as they were."""
    _set_up(model, env)
    before = (env.home / "config.toml").read_bytes()
    assert not model.switch_backend("keyring")
    assert model.problem
    assert (env.home / "config.toml").read_bytes() == before
    assert "acme/secret_access_key" in _vault_keys(env)


@pytest.mark.keyring
def test_switch_backend_moves_the_secrets_to_the_keyring(model, env, tmp_path, monkeypatch):
    """Issue 12 must-show 2: switching from the vault to the OS keyring (a real
    gnome-keyring) moves every secret there, then empties the vault; and back."""
    import keyring
    from keyring.backends import SecretService
    from secret_service import running_secret_service

    _set_up(model, env)
    before = keyring.get_keyring()
    with running_secret_service(tmp_path / "keyring") as service:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", service.bus_address)
        keyring.set_keyring(SecretService.Keyring())
        assert model.switch_backend("keyring"), model.problem
        assert _on_disk(env)["settings"]["secret_backend"] == "keyring"
        assert _vault_keys(env) == []
        assert model.edit(("acme",)).snapshot()["secret"] == "stored"
        assert "keyring" in model.status
        assert model.switch_backend("vault"), model.problem
        assert "acme/secret_access_key" in _vault_keys(env)
    keyring.set_keyring(before)


def test_app_settings_validate_and_save(model, env):
    """Issue 12 app settings: warn minutes validated as typed; Save writes the settings."""
    _set_up(model, env)
    model.app.set("warn_minutes", "0")
    assert not model.app.valid and "1 to 120" in model.app.message("warn_minutes")
    assert not model.save_app()
    model.app.set("warn_minutes", "10")
    model.app.unauth_on_quit = False
    assert model.save_app(), model.problem
    settings = _on_disk(env)["settings"]
    assert settings["warn_minutes"] == 10 and settings["unauth_on_quit"] is False


def test_vault_passphrase_change(env, sandbox):
    """Issue 12 app settings: the vault passphrase change re-encrypts the vault; a wrong
    current passphrase changes nothing."""
    hub = sandbox.add_hub_user(f"settings-pp{next(_users)}")
    env.hub = hub
    model = SettingsModel(_service(env, sandbox), make_service=lambda: _service(env, sandbox))
    _set_up(model, env)
    before = (env.home / "vault.bin").read_bytes()
    assert not model.change_passphrase("wrong-passphrase", "new-pass-phrase-1", "new-pass-phrase-1")
    assert (env.home / "vault.bin").read_bytes() == before
    assert not model.change_passphrase(PASSPHRASE, "new-pass-phrase-1", "other")
    assert model.change_passphrase(PASSPHRASE, "new pass phrase 42", "new pass phrase 42")
    assert Vault(env.home / "vault.bin", lambda: "new pass phrase 42").keys()


def test_tray_menu_with_no_config_starts_with_set_up_and_no_error_icon():
    """Issue 12 must-show 4: with no config the tray's first item is "Set up aacli…" (it
    opens the settings window) and the icon is idle, never the error icon."""
    from datetime import datetime, timezone

    from trayapp.core.model import Config
    from trayapp.tray.menu import build_menu, icon_state

    now = datetime.now(timezone.utc)
    menu = build_menu(Config(), [], now)
    assert menu[0].label == "Set up aacli\u2026" and menu[0].action.kind == "settings"
    assert icon_state([], now, 5) == ("idle", 0)


def test_roles_of_a_profile_without_its_secret_lead_to_the_window(env):
    """Issue 12: a profile whose hub secret is missing (e.g. imported, or the vault not made
    yet) is found without asking for a passphrase; its role items say so and open the
    settings window on that profile instead of failing."""
    from datetime import datetime, timezone

    from trayapp.core.config_ops import profiles_without_secret
    from trayapp.tray.menu import build_menu, find_action

    env.home.mkdir(mode=0o700)
    (env.home / "config.toml").write_text(
        'version = 1\n[profiles.acme]\naccess_key_id = "AKIAAAAAAAAAAAAAAAAA"\n'
        'mfa_serial = "arn:aws:iam::999999999999:mfa/alice"\n'
        '[profiles.acme.accounts.dev]\nid = "111111111111"\nregion = "eu-west-1"\n'
        '[profiles.acme.accounts.dev.roles.DEVELOPER]\nduration = "1h"\n'
    )
    (env.home / "config.toml").chmod(0o600)

    def no_prompt() -> str:
        raise AssertionError("the passphrase must not be asked for")

    service = _service(env)
    service = Service(Deps(app=service.deps.app, aws=service.deps.aws, passphrase=no_prompt))
    missing = profiles_without_secret(service)
    assert missing == frozenset({"acme"})
    menu = build_menu(service.config, [], datetime.now(timezone.utc), no_secret=missing)
    action = find_action(menu, "dev (111111111111)", "DEVELOPER")
    assert action.kind == "settings" and action.target == "acme"
    role = next(e for e in menu if e.label.startswith("dev ")).children[0]
    assert "no secret key" in role.label


def test_totp_seed_is_checked_stored_and_forgotten(model, env):
    """Issue 12 stored-TOTP option: a bad seed keeps Save disabled with the reason; a good
    one (or an otpauth:// URI) is stored on Save, shown only as "stored", and Forget
    removes it from the store."""
    _set_up(model, env)
    form = model.edit(("acme",))
    form.totp_seed = "not a seed!"
    assert not model.can_save and "base32" in form.snapshot()["messages"]["totp_seed"]
    form.totp_seed = f"otpauth://totp/aws:alice?secret={env.hub.mfa_seed}"
    assert model.can_save
    assert model.save(), model.problem
    assert "acme/totp_seed" in _vault_keys(env)
    shown = model.edit(("acme",)).snapshot()
    assert shown["totp"] == "stored" and env.hub.mfa_seed not in str(model.snapshot())
    assert model.remove_totp_seed(), model.problem
    assert "acme/totp_seed" not in _vault_keys(env)


def test_a_changed_form_is_known_so_closing_can_ask(model, env):
    """Issue 12 keyboard: Esc on a form with unsaved typing asks first (the model knows
    whether anything changed since the form opened); an untouched or saved form does not."""
    _set_up(model, env)
    form = model.edit(("acme", "dev"))
    assert not form.changed
    form.set("region", "eu-central-1")
    assert form.changed
    assert model.save(), model.problem
    assert not model.form.changed
    profile = model.new_profile()
    profile.set_secret("typed-but-not-saved")
    assert profile.changed


def test_check_says_how_to_find_the_mfa_arn_when_iam_cannot_list_it(env, sandbox, monkeypatch):
    """Issue 12 Check: when iam:ListMFADevices cannot be used (here IAM does not answer),
    Check still shows the user's ARN and says where to find the MFA device's ARN."""
    from trayapp.core import sts
    from trayapp.core.hub_key_check import check_hub_keys

    monkeypatch.setenv(sts.TIMEOUT_ENV, "1")
    hub = sandbox.add_hub_user(f"settings-noiam{next(_users)}")
    result = check_hub_keys(
        hub.access_key_id,
        hub.secret_access_key,
        "us-east-1",
        sts_factory=sts.make_sts_client,
        endpoint_url=sandbox.endpoint_url,
        iam_endpoint_url="http://127.0.0.1:9",  # nothing listens there
    )
    assert result.arn == hub.user_arn and result.mfa_devices == ()
    assert "Security credentials" in result.note and "MFA" in result.note


def test_saving_a_form_keeps_what_changed_elsewhere_meanwhile(model, env):
    """Issue 12/15: a profile form opened before a key rotation (or `config codes`) finished
    elsewhere: saving an unrelated field keeps the new key id, its date and the code source,
    never the copy the form was opened with."""
    from dataclasses import replace
    from datetime import datetime, timezone

    from trayapp.core import config as cfg

    _set_up(model, env)
    form = model.edit(("acme",))
    rotated_at = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)

    def rotated(config):
        current = cfg.find_profile(config, "acme")
        return cfg.replace_profile(
            config,
            replace(
                current,
                access_key_id="AKIAROTATEDKEY000000",
                key_created=rotated_at,
                key_created_for="AKIAROTATEDKEY000000",
                rotate_after=30,
            ),
        )

    model.service.update_config(rotated)  # as `aacli rotate` in another process would
    form.set("sts_region", "eu-central-1")
    assert model.save(), model.problem
    saved = _on_disk(env)["profiles"]["acme"]
    assert saved["access_key_id"] == "AKIAROTATEDKEY000000"
    assert saved["key_created_for"] == "AKIAROTATEDKEY000000"
    assert saved["rotate_after"] == 30
    assert saved["sts_region"] == "eu-central-1"


def test_the_profile_page_shows_the_hub_keys_age(model, env):
    """Issue 15: the settings window shows the hub key's age: from the day aacli stored it,
    and "due" once it is older than the profile's rotate_after."""
    from datetime import datetime, timedelta, timezone

    from trayapp.core import config as cfg
    from trayapp.core.keys.age import with_key

    _set_up(model, env)
    assert model.key_age(model.edit(("acme",))) == "0 days old (rotation due every 90 days)"
    old = datetime.now(timezone.utc) - timedelta(days=97, minutes=5)

    def aged(config):
        profile = cfg.find_profile(config, "acme")
        return cfg.replace_profile(config, with_key(profile, profile.access_key_id, old))

    model.service.update_config(aged)
    text = model.key_age(model.edit(("acme",)))
    assert text.startswith("97 days old, due for rotation (every 90 days)"), text
    assert model.key_age(model.new_profile()) == ""
