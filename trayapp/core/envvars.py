"""A session's credentials as environment variables, rendered for each shell."""

from __future__ import annotations

import json

from trayapp.core.clock import isoformat_z
from trayapp.core.model import Credentials

FORMATS = ("sh", "fish", "powershell", "json")


def credential_variables(creds: Credentials, region: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": creds.access_key_id,
        "AWS_SECRET_ACCESS_KEY": creds.secret_access_key,
        "AWS_SESSION_TOKEN": creds.session_token,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_CREDENTIAL_EXPIRATION": isoformat_z(creds.expiration),
    }


def _sh(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def _fish(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _powershell(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def render(variables: dict[str, str], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(variables, indent=2)
    if fmt == "sh":
        lines = [f"export {k}={_sh(v)}" for k, v in variables.items()]
        lines.append("unset AWS_PROFILE")
    elif fmt == "fish":
        lines = [f"set -gx {k} {_fish(v)};" for k, v in variables.items()]
        lines.append("set -e AWS_PROFILE;")
    else:
        lines = [f"$Env:{k} = {_powershell(v)}" for k, v in variables.items()]
        lines.append("Remove-Item Env:AWS_PROFILE -ErrorAction SilentlyContinue")
    return "\n".join(lines)
