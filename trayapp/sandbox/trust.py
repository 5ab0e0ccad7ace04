"""Evaluates a role's trust policy for an AssumeRole the way AWS does for the keys aacli uses.

moto stores trust policies but evaluates none of them. The checker asks here whether the
policy allows ``sts:AssumeRole`` (and ``sts:TagSession`` / ``sts:SetSourceIdentity`` when the
request carries tags or a source identity), with the condition keys ``sts:ExternalId``,
``sts:RoleSessionName``, ``sts:SourceIdentity``, ``aws:MultiFactorAuthPresent`` and the policy
variable ``${aws:username}``. Principals are not looked at (the roles trust the hub account).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trayapp.sandbox.provision import PARTITION


@dataclass(frozen=True)
class RoleSessionAudit:
    """What an AssumeRole said about who asked: recorded per issued session for the tests."""

    role_arn: str
    session_name: str
    source_identity: str | None
    external_id: str | None
    tags: tuple[tuple[str, str], ...]
    transitive_tag_keys: tuple[str, ...]


def trust_policy_of(account_id: str, role_name: str) -> dict[str, Any] | None:
    """The role's trust policy from moto's IAM (in this process), or None."""
    from moto.iam.models import iam_backends

    try:
        role = iam_backends[account_id][PARTITION].get_role(role_name)
        document = role.assume_role_policy_document
    except Exception:  # no such role: the caller's own check answers
        return None
    try:
        policy = json.loads(document) if isinstance(document, str) else document
    except ValueError:
        return None
    return policy if isinstance(policy, dict) else None


def allows(policy: Mapping[str, Any], action: str, context: Mapping[str, str | None]) -> bool:
    """Whether an Allow statement for ``action`` has all its conditions met by ``context``."""
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    for statement in statements:
        if statement.get("Effect") != "Allow" or not _names(statement.get("Action"), action):
            continue
        if _conditions_met(statement.get("Condition", {}), context):
            return True
    return False


def _names(actions: Any, action: str) -> bool:
    listed = [actions] if isinstance(actions, str) else list(actions or [])
    return any(fnmatch.fnmatchcase(action.lower(), str(a).lower()) for a in listed)


def _substitute(value: str, context: Mapping[str, str | None]) -> str:
    user = context.get("aws:username") or ""
    return value.replace("${aws:username}", user)


# The condition keys this sandbox models; a condition on any other key is taken as met.
KNOWN_KEYS = frozenset(
    {"sts:externalid", "sts:rolesessionname", "sts:sourceidentity", "aws:multifactorauthpresent"}
)


def _conditions_met(conditions: Mapping[str, Any], context: Mapping[str, str | None]) -> bool:
    for operator, tests in conditions.items():
        for key, expected in tests.items():
            if key.lower() not in KNOWN_KEYS:
                continue
            wanted = [expected] if isinstance(expected, str | bool) else list(expected)
            if operator == "Bool":
                wanted = [str(w).lower() for w in wanted]  # JSON true or "true"
            if not _test(operator, context.get(key.lower()), [str(w) for w in wanted], context):
                return False
    return True


def _test(
    operator: str, actual: str | None, wanted: list[str], context: Mapping[str, str | None]
) -> bool:
    if operator == "Null":
        return (actual is None) == (wanted[0].lower() == "true")
    if actual is None:
        return False  # a condition on a key the request does not carry is not met
    values = [_substitute(w, context) for w in wanted]
    if operator == "StringEquals":
        return actual in values
    if operator == "StringEqualsIgnoreCase":
        return actual.lower() in (v.lower() for v in values)
    if operator == "StringLike":
        return any(fnmatch.fnmatchcase(actual, v) for v in values)
    if operator == "Bool":
        return actual.lower() in values
    return False  # an operator this sandbox does not know: refused, never silently passed
