"""Targets: every role of the config as ``profile/account/role``, and resolving shortenings."""

from __future__ import annotations

from trayapp.core.errors import TargetError
from trayapp.core.model import Config, Target


def all_targets(config: Config) -> list[Target]:
    return [
        Target(profile, account, role)
        for profile in config.profiles
        for account in profile.accounts
        for role in account.roles
    ]


def _shortenings(target: Target) -> set[tuple[str, ...]]:
    p, a, r = target.profile.name, target.account.name, target.role.name
    return {(p, a, r), (a, r), (p, a), (a,), (p,), (r,), (target.aws_profile,)}


def resolve_target(config: Config, text: str) -> Target:
    """The one target ``text`` names: full, ``account/role``, ``account``, … or its AWS profile."""
    targets = all_targets(config)
    if not targets:
        raise TargetError("no roles are configured yet; add one with 'aacli config add-role'")
    parts = tuple(part.strip() for part in text.strip().strip("/").split("/"))
    if not text.strip() or len(parts) > 3 or not all(parts):
        raise TargetError(
            f"{_quote(text)} is not a target; write PROFILE/ACCOUNT/ROLE, ACCOUNT/ROLE or ACCOUNT"
        )
    matches = [t for t in targets if parts in _shortenings(t)]
    if not matches:
        folded = tuple(p.lower() for p in parts)
        matches = [
            t for t in targets if folded in {tuple(x.lower() for x in s) for s in _shortenings(t)}
        ]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        known = ", ".join(t.label for t in targets[:8]) + (", …" if len(targets) > 8 else "")
        raise TargetError(f"no role matches {_quote(text)}; configured: {known}")
    names = ", ".join(t.label for t in matches[:8]) + (", …" if len(matches) > 8 else "")
    raise TargetError(f"{_quote(text)} matches several roles ({names}); say which one")


def _quote(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")
