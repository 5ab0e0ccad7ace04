"""The demo's Identity Center part: a hub "corp" at the sandbox's stand-in, beside the IAM-user
hub, and its terminal walk-through (device-code sign-in, sync, a permission set, a chained
role). The sandbox's default user is signed in: the demo approves the code as a person would."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from trayapp.core.model import IdentityCenter, Profile

if TYPE_CHECKING:
    from trayapp.core.sso.signin import DeviceCode

HUB = "corp"
PERMISSION_SET = "AdministratorAccess"
CHAINED = "DEVELOPER"  # the sandbox's spoke role, which trusts the permission set's role
CHAINED_PROFILE = "corp-dev-DEVELOPER"  # dev-DEVELOPER is the IAM-user hub's: named after corp


def corp_hub(sandbox: Any) -> Profile:
    """The demo's Identity Center hub: no accounts yet ('config sync' brings them)."""
    ic = sandbox.identity_center
    return Profile(
        name=HUB,
        access_key_id="",
        mfa_serial="",
        session_name="demo-user",  # a chained role's RoleSessionName
        sts_region=ic.region,
        identity_center=IdentityCenter(start_url=ic.start_url, region=ic.region),
    )


def walk(
    sandbox: Any,
    run_cli: Callable[[list[str]], int],
    step: Callable[[str], None],
    show_identity: Callable[[str], None],
) -> int:
    """Sign in to corp with a device code, sync it, auth a permission set and a role chained
    from it; 0 when every step worked."""
    from trayapp.cli.context import local_time, make_service

    print(
        "\nThe same, with IAM Identity Center: hub 'corp' has no key; you sign in once and its\n"
        "permission sets (and spoke roles chained from them) need no MFA code."
    )
    step(f"aacli login {HUB} --device-code")
    ic = sandbox.identity_center

    def show_and_approve(code: DeviceCode) -> None:
        print(f"To sign in to {HUB}, open {code.verification_uri}")
        print(f"and enter the code: {code.user_code}")
        print(f"(the demo approves {code.user_code} on the sandbox's device page, as you would)")
        ic.approve(code.user_code)

    service = make_service()
    until = service.sign_in(
        HUB, open_browser=lambda url: False, show_device_code=show_and_approve, device_code=True
    )
    print(f"Signed in to {HUB} until {local_time(until)}.")
    sys.stdout.flush()
    target = f"{HUB}/dev/{PERMISSION_SET}"
    for argv in (
        ["config", "sync", HUB],
        ["auth", target],
    ):
        if run_cli(argv) != 0:
            return 1
    show_identity(f"dev-{PERMISSION_SET}")
    for argv in (
        ["config", "add-role", f"{HUB}/dev", CHAINED, "--via", PERMISSION_SET],
        ["auth", f"{HUB}/dev/{CHAINED}"],
    ):  # fmt: skip
        if run_cli(argv) != 0:
            return 1
    show_identity(CHAINED_PROFILE)
    run_cli(["status"])
    run_cli(["unauth", "--all"])
    return 0
