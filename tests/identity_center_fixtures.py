"""The fixtures the Identity Center tests share (issue 13), a pytest plugin (conftest names it
in ``pytest_plugins``): the sandbox's Identity Center, ``ic``, and an aacli home with one
Identity Center hub, ``corp``, whose accounts a module may give by overriding ``corp_accounts``."""

from __future__ import annotations

import pytest

HEADER = 'version = 1\n\n[settings]\nsecret_backend = "vault"\n'


@pytest.fixture
def ic(sandbox):
    """The sandbox's Identity Center, put back as it was after the test (no denial waiting,
    the token lifetime it had)."""
    ic = sandbox.identity_center
    lifetime = ic.token_lifetime
    ic.take_denial()
    yield ic
    ic.token_lifetime = lifetime
    ic.take_denial()


@pytest.fixture
def corp_accounts() -> str:
    """The accounts of the corp hub, as TOML: none (a module overrides this fixture)."""
    return ""


@pytest.fixture
def corp(env, sandbox, ic, corp_accounts, monkeypatch):
    """``env`` with an Identity Center hub ``corp`` at the sandbox's start URL; the test
    process's HOME is the test's (the token cache is always ~/.aws/sso/cache, and in-process
    sign-ins must find the one the test's aacli writes)."""
    env.sandbox = sandbox
    env.vars["AWS_ENDPOINT_URL"] = sandbox.endpoint_url
    env.vars["AACLI_FEDERATION_URL"] = sandbox.federation_url
    monkeypatch.setenv("HOME", env.vars["HOME"])
    env.home.mkdir(mode=0o700)
    write_config(env, corp_hub_toml(ic, corp_accounts))
    return env


# An account with one permission set, as TOML under the corp hub.
DEV_ADMINISTRATOR = """
[profiles.corp.accounts.dev]
id = "111111111111"
region = "eu-west-1"

[profiles.corp.accounts.dev.roles.AdministratorAccess]
"""


def corp_hub_toml(ic, accounts: str = "") -> str:
    """The corp hub's table (and ``accounts``, TOML), to follow ``HEADER``."""
    return (
        f'\n[profiles.corp]\nsso_start_url = "{ic.start_url}"\nsso_region = "{ic.region}"\n'
        + accounts
    )


def write_config(env, body: str) -> None:
    """``env``'s config: ``HEADER`` and ``body``, 0600."""
    path = env.home / "config.toml"
    path.write_text(HEADER + body, encoding="utf-8")
    path.chmod(0o600)
