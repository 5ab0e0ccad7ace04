"""Link a target into ~/.aws/config as a ``credential_process`` profile."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from trayapp.core import inifile
from trayapp.core.children import python_command
from trayapp.core.credfile import atomic_write, aws_files_lock, read_text
from trayapp.core.errors import CredFileError

CREDENTIAL_PROCESS = "credential_process"


def aacli_program(env: Mapping[str, str] | None = None) -> list[str]:
    """argv that runs this aacli from anywhere: the ``aacli`` found on PATH, made absolute
    (a relative PATH entry such as ``.`` or ``bin`` means another folder for every caller), or
    this Python running the CLI module without importing from the caller's folder."""
    path = (os.environ if env is None else env).get("PATH")
    program = shutil.which("aacli", path=path)
    if program:
        return [os.path.abspath(program)]
    return python_command("trayapp.cli.main")


def credential_process_command(
    program: Sequence[str], target_label: str, *, server: bool = False
) -> str:
    """The ``credential_process`` line, quoted the way the AWS SDKs split it (botocore: shlex
    on POSIX, the Windows command-line rules on Windows), so a path with spaces survives.
    ``server``: it asks the running tray over its socket first (``--server``)."""
    argv = [*program, "credential-process", *(["--server"] if server else []), target_label]
    if os.name == "nt":
        return subprocess.list2cmdline(argv)
    return shlex.join(argv)


def link_credential_process(
    config_file: Path, lock_file: Path, aws_profile: str, command: str, region: str
) -> bool:
    """Write ``[profile NAME]`` with ``credential_process`` and ``region``; True if created.

    A section that exists already is changed only if it is one aacli linked before
    (it has our credential_process command); anything else in it is kept.
    """
    section = inifile.config_section_name(aws_profile)
    with aws_files_lock(lock_file):  # makes its folder private
        text = read_text(config_file)
        try:
            existing = inifile.get_section(text, section, config_style=True)
            linked_before = (
                " credential-process " in existing.get(CREDENTIAL_PROCESS, "")
                if existing
                else False
            )
            if existing is not None and not linked_before:
                raise CredFileError(
                    f"{config_file} already has [{section}] that aacli did not link; nothing "
                    "was changed (choose another --aws-profile name)."
                )
            new_text = inifile.upsert_section(
                text,
                section,
                {CREDENTIAL_PROCESS: command, "region": region},
                config_style=True,
            )
        except inifile.IniError as exc:
            raise CredFileError(f"{config_file}: {exc.reason}; nothing was changed.") from None
        if new_text != text:
            atomic_write(config_file, new_text)
        return existing is None


SSO_ROLE_KEYS = ("sso_session", "sso_account_id", "sso_role_name")


def link_sso_role(
    config_file: Path,
    lock_file: Path,
    aws_profile: str,
    *,
    sso_session: str,
    account_id: str,
    role_name: str,
    region: str,
) -> bool:
    """Write ``[profile NAME]`` as the AWS CLI's Identity Center profile of one permission set
    (it signs in through ``[sso-session …]``, shared with aacli); True if created.

    A section that exists already is changed only if it is such a profile (it has
    ``sso_session``): a profile the user set up otherwise stays theirs.
    """
    section = inifile.config_section_name(aws_profile)
    values = dict(zip(SSO_ROLE_KEYS, (sso_session, account_id, role_name), strict=True))
    with aws_files_lock(lock_file):
        text = read_text(config_file)
        try:
            existing = inifile.get_section(text, section, config_style=True)
            if existing is not None and "sso_session" not in existing:
                raise CredFileError(
                    f"{config_file} already has [{section}] that is no Identity Center "
                    "profile; nothing was changed (choose another --aws-profile name)."
                )
            new_text = inifile.upsert_section(
                text, section, {**values, "region": region}, config_style=True
            )
        except inifile.IniError as exc:
            raise CredFileError(f"{config_file}: {exc.reason}; nothing was changed.") from None
        if new_text != text:
            atomic_write(config_file, new_text)
        return existing is None
