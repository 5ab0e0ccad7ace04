"""AWS clients for the sandbox's own calls that read none of the user's AWS settings.

A default boto3 session reads ``AWS_PROFILE``, ``AWS_CONFIG_FILE``, ``~/.aws/config``,
``~/.aws/credentials`` and ``~/.aws/models``: a missing profile or a broken config would stop the
sandbox, and the user's settings (an endpoint, a CA bundle, retries) would change what it does.
The sandbox talks only to itself, so its clients take everything from their arguments.
"""

from __future__ import annotations

import os
from typing import Any

import botocore.session
from botocore.configprovider import BOTOCORE_DEFAUT_SESSION_VARIABLES
from botocore.loaders import Loader

REGION = "us-east-1"


def isolated_session() -> botocore.session.Session:
    """A botocore session that reads no environment variable and no file of the user's."""
    # Each setting: no config-file key, no environment variable, botocore's own default.
    settings: dict[str, tuple[Any, Any, Any, Any]] = {
        name: (None, None, default, convert)
        for name, (_, _, default, convert) in BOTOCORE_DEFAUT_SESSION_VARIABLES.items()
    }
    # os.devnull is not a regular file, so botocore reads no config and no credentials at all.
    settings["config_file"] = (None, None, os.devnull, None)
    settings["credentials_file"] = (None, None, os.devnull, None)
    settings["profile"] = (None, None, None, None)
    session = botocore.session.Session(session_vars=settings)
    # Only botocore's own service models, never a user's ~/.aws/models or AWS_DATA_PATH.
    session.register_component(
        "data_loader",
        Loader(extra_search_paths=[Loader.BUILTIN_DATA_PATH], include_default_search_paths=False),
    )
    return session


def ignore_user_service_models() -> None:
    """From now on in this process, botocore and moto (which uses botocore's loader) find
    service models only in botocore itself, never in the user's ``~/.aws/models``.

    Process-wide: only for a process that is wholly the sandbox's, such as ``aacli demo``.
    """
    Loader.CUSTOMER_DATA_PATH = Loader.BUILTIN_DATA_PATH


def moto_ignores_user_service_models() -> None:
    """moto parses requests with service models from moto and botocore only, never from the
    user's ``~/.aws/models`` (a stray or broken model there would change or break the sandbox).

    Changes moto's own loader class only: clients of the process are not affected.
    """
    from moto.core.loaders import Loader as MotoLoader

    MotoLoader.CUSTOMER_DATA_PATH = Loader.BUILTIN_DATA_PATH


def isolated_client(service: str, endpoint_url: str, *, account_id: str | None = None) -> Any:
    """A client of the sandbox at ``endpoint_url``; moto acts in ``account_id`` when given."""
    client = isolated_session().create_client(
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        # moto picks the account from a header; the key itself is never checked.
        aws_access_key_id="AKIASANDBOXPROVISION",
        aws_secret_access_key="provisioning",
    )
    if account_id is not None:

        def add_account_header(request: Any, **_: Any) -> None:
            request.headers["x-moto-account-id"] = account_id

        client.meta.events.register("before-sign", add_account_header)
    return client
