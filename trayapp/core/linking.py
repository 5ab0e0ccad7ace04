"""Link a target into ~/.aws/config as a ``credential_process`` profile."""

from __future__ import annotations

from pathlib import Path

from trayapp.core import inifile
from trayapp.core.credfile import atomic_write, aws_files_lock, read_text
from trayapp.core.errors import CredFileError

CREDENTIAL_PROCESS = "credential_process"


def link_credential_process(
    config_file: Path, lock_file: Path, aws_profile: str, command: str, region: str
) -> bool:
    """Write ``[profile NAME]`` with ``credential_process`` and ``region``; True if created.

    A section that exists already is changed only if it is one aacli linked before
    (it has our credential_process command); anything else in it is kept.
    """
    section = inifile.config_section_name(aws_profile)
    lock_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with aws_files_lock(lock_file):
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
