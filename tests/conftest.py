"""Fixtures shared by the tests: the sandbox, isolated homes, and the CLI run for real."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The Identity Center tests' ic and corp (issue 13), in a module of their own.
pytest_plugins = ["identity_center_fixtures"]


def in_ci() -> bool:
    """Whether the suite runs in CI: the one place that decides (CI=1, true or yes, any case)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


IN_CI = in_ci()
PASSPHRASE = "test-passphrase-not-secret"


def screenshot_dir() -> Path:
    """Where tests save screenshots: test-artifacts/, or docs/screenshots/ when asked to
    refresh the committed ones (AACLI_UPDATE_SCREENSHOTS=1)."""
    if os.environ.get("AACLI_UPDATE_SCREENSHOTS") == "1":
        folder = ROOT / "docs" / "screenshots"
    else:
        folder = ROOT / "test-artifacts" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def need_tool(reason: str) -> None:
    """A required system tool is missing: fail in CI (nothing may skip there), skip elsewhere."""
    if IN_CI:
        pytest.fail(f"{reason} (CI installs it with scripts/system-deps.sh)")
    pytest.skip(reason)


# Nothing may skip in CI (docs/TESTING.md): there a skipped (or xfailed) test, or a module that
# skips at import, fails the run. The one way out is an entry here, a node id prefix and why;
# a reviewer must accept the reason. Empty: no test may skip in CI.
CI_MAY_SKIP: dict[str, str] = {}


def _skip_allowed(nodeid: str) -> bool:
    return any(nodeid.startswith(prefix) for prefix in CI_MAY_SKIP)


def _skip_reason(report: pytest.CollectReport | pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return getattr(report, "wasxfail", "") or str(longrepr)


def _fail_skip_in_ci(report: pytest.CollectReport | pytest.TestReport) -> None:
    if IN_CI and report.skipped and not _skip_allowed(report.nodeid):
        report.longrepr = (
            f"{report.nodeid}: skipped in CI, where nothing may skip ({_skip_reason(report)}); "
            "install what it needs (scripts/system-deps.sh) or see CI_MAY_SKIP in tests/conftest.py"
        )
        report.outcome = "failed"
        if hasattr(report, "wasxfail"):
            del report.wasxfail  # else pytest counts it as an expected failure, exit code 0


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    _fail_skip_in_ci(outcome.get_result())  # type: ignore[attr-defined]


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    outcome = yield
    _fail_skip_in_ci(outcome.get_result())  # type: ignore[attr-defined]


def aws_cli_v2() -> str:
    """The AWS CLI v2 (Debian's awscli), never an older v1 that may shadow it on PATH."""
    for candidate in ("/usr/bin/aws", "/usr/local/bin/aws", shutil.which("aws")):
        if candidate and os.access(candidate, os.X_OK):
            out = subprocess.run([candidate, "--version"], capture_output=True, text=True)
            if out.stdout.startswith("aws-cli/2"):
                return candidate
    need_tool("the AWS CLI v2 is not installed")
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def sandbox():
    from trayapp.sandbox import Sandbox

    box = Sandbox().start()
    yield box
    box.stop()


_users = itertools.count(1)


@dataclass
class Env:
    """An isolated aacli + AWS home, and a way to run the real CLI in it."""

    root: Path
    vars: dict[str, str]
    sandbox: object = None
    hub: object = None
    runs: list[subprocess.CompletedProcess[str]] = field(default_factory=list)

    @property
    def credentials(self) -> Path:
        return Path(self.vars["AWS_SHARED_CREDENTIALS_FILE"])

    @property
    def aws_config(self) -> Path:
        return Path(self.vars["AWS_CONFIG_FILE"])

    @property
    def home(self) -> Path:
        return Path(self.vars["AACLI_HOME"])

    def service(self, **deps: object):
        """The core service of this home in this process (as the tray builds its own), against
        the sandbox when there is one; ``deps`` set other Deps fields (a clock, a passphrase)."""
        from trayapp.core.paths import AppPaths, AwsPaths
        from trayapp.core.service import Deps, Service

        fields: dict[str, object] = {
            "app": AppPaths.from_env(self.vars),
            "aws": AwsPaths.from_env(self.vars),
            "endpoint_url": getattr(self.sandbox, "endpoint_url", None),
            "passphrase": lambda: PASSPHRASE,
        }
        fields.update(deps)
        return Service(Deps(**fields))

    def environ(self, **extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AWS_", "AACLI_")) and k not in ("BROWSER",)
        }
        env.update(self.vars)
        env.update(extra)
        return env

    def aacli(
        self, *args: str, input: str | None = None, timeout: float = 60, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "trayapp.cli.main", *args],
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            env=self.environ(**extra),
            timeout=timeout,
            cwd=self.root,
        )
        self.runs.append(result)
        return result

    def code(self) -> str:
        return self.sandbox.current_code(self.hub)  # type: ignore[attr-defined]

    def next_code(self) -> str:
        return self.sandbox.next_code(self.hub)  # type: ignore[attr-defined]


@pytest.fixture
def env(tmp_path: Path) -> Env:
    """aacli and AWS files under tmp_path; HOME too, so nothing real is ever touched."""
    (tmp_path / "home").mkdir()
    return Env(
        root=tmp_path,
        vars={
            "HOME": str(tmp_path / "home"),
            "AACLI_HOME": str(tmp_path / "aacli"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws" / "credentials"),
            "AWS_CONFIG_FILE": str(tmp_path / "aws" / "config"),
            "AACLI_PASSPHRASE": PASSPHRASE,
            "PYTHONPATH": str(ROOT),
            # No session bus: no OS keyring, so "auto" means the vault (keyring tests set one up).
            "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/aacli-test-bus",
        },
    )


@pytest.fixture
def configured(env: Env, sandbox) -> Env:
    """``env`` with a demo-like config against the sandbox, and a hub user of its own.

    Each test gets its own MFA device, so codes never collide between tests.
    """
    hub = sandbox.add_hub_user(f"user{next(_users)}")
    env.sandbox, env.hub = sandbox, hub
    env.vars["AWS_ENDPOINT_URL"] = sandbox.endpoint_url
    env.vars["AACLI_FEDERATION_URL"] = sandbox.federation_url
    env.home.mkdir(mode=0o700)
    (env.home / "config.toml").write_text(
        f"""version = 1

[settings]
secret_backend = "vault"

[profiles.acme]
access_key_id = "{hub.access_key_id}"
mfa_serial = "{hub.mfa_serial}"
session_name = "tester"

[profiles.acme.accounts.dev]
id = "111111111111"
region = "eu-west-1"

[profiles.acme.accounts.dev.roles.DEVELOPER]
duration = "2h"

[profiles.acme.accounts.dev.roles.ReadOnly]
duration = 3600

[profiles.acme.accounts.prod]
id = "333333333333"
region = "us-east-2"

[profiles.acme.accounts.prod.roles.ReadOnly]
duration = "1h"
""",
        encoding="utf-8",
    )
    (env.home / "config.toml").chmod(0o600)
    result = env.aacli("config", "set-key", "acme", input=hub.secret_access_key + "\n")
    assert result.returncode == 0, result.stderr
    return env


@pytest.fixture
def short_lived(sandbox) -> Iterator[None]:
    """The sandbox issues credentials that expire 4 s after issue."""
    sandbox.credential_lifetime = 4
    yield
    sandbox.credential_lifetime = None


ATTACKER_UID = 4242
ATTACKER_NAME = "aacli-attacker"


@pytest.fixture(scope="session")
def attacker_uid() -> int:
    """A second local user (uid 4242) who plants files for the victim (the test's own uid).

    Created when missing; needs root (CI runs as root), so elsewhere the test is skipped.
    """
    import pwd

    try:
        pwd.getpwuid(ATTACKER_UID)
        return ATTACKER_UID
    except KeyError:
        pass
    if os.geteuid() != 0:
        need_tool("attacker tests need root to create a second local user")
    subprocess.run(
        ["useradd", "-M", "-N", "-s", "/usr/sbin/nologin", "-u", str(ATTACKER_UID), ATTACKER_NAME],
        check=False,
        capture_output=True,
    )
    pwd.getpwuid(ATTACKER_UID)  # raises when it could not be made
    return ATTACKER_UID


def as_attacker(argv: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` as the attacker uid (setpriv), e.g. to plant a file where they may."""
    return subprocess.run(
        ["setpriv", f"--reuid={ATTACKER_UID}", "--regid=65534", "--clear-groups", *argv],
        capture_output=True,
        text=True,
        check=True,
        **kwargs,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("aacli: "), lines[0]
    for fragment in fragments:
        assert fragment.lower() in lines[0].lower(), lines[0]
