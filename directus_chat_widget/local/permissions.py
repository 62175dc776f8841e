"""Make a policy's permissions match the table in :mod:`.rules`, narrowing when refused.

For each (collection, action) pair the kit manages, on both policies, the
server is made to match: a missing rule is created, a rule that differs (more
fields, no filter) is changed in place, and a rule the table does not list is
removed. Rules on other collections are never touched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import DirectusError
from ..rest import DirectusRest
from .report import SchemaReport
from .rules import MANAGED, Refusal, Rule, row_body, row_matches, row_text

__all__ = ["apply_rules"]


def _restricted(exc: DirectusError) -> bool:
    return exc.code == "RESOURCE_RESTRICTED" or "restricted" in str(exc).lower()


async def apply_rules(
    rest: DirectusRest,
    token: str,
    policy: str,
    label: str,
    rules: Sequence[Rule],
    report: SchemaReport,
) -> list[Refusal]:
    """Make ``policy``'s rules for the managed pairs exactly ``rules``; returns the refusals.

    A rule the server refuses is left out, and whatever the policy held for
    that pair is removed rather than kept broader than asked: access is
    narrowed, never widened, when the server will not store a rule.
    """
    rows = await rest.request(
        "GET",
        "/permissions",
        token=token,
        params={
            "filter": {
                "policy": {"_eq": policy},
                "collection": {"_in": sorted({collection for collection, _ in MANAGED})},
            },
            "fields": "id,collection,action,fields,permissions,validation,presets",
            "limit": -1,
            "sort": "id",
        },
    )
    wanted = {(rule.collection, rule.action): rule for rule in rules}
    refused: list[Refusal] = []
    for pair in MANAGED:
        have = [row for row in rows or [] if (row["collection"], row["action"]) == pair]
        rule = wanted.get(pair)
        if rule is None:
            for row in have:
                await _delete(rest, token, label, row, report)
            continue
        exact = next((row for row in have if row_matches(row, rule)), None)
        if exact is not None:
            report.keep(f"{label} {rule.describe()}")
            extra = [row for row in have if row is not exact]
        else:
            try:
                await _put(rest, token, policy, label, rule, have[0] if have else None, report)
            except DirectusError as exc:
                if not _restricted(exc):
                    raise
                refused.append(Refusal(label, rule, exc.code, str(exc)))
                extra = have  # none of them is what was asked: take them away
            else:
                extra = have[1:]
        for row in extra:
            await _delete(rest, token, label, row, report)
    return refused


async def _put(
    rest: DirectusRest,
    token: str,
    policy: str,
    label: str,
    rule: Rule,
    old: Mapping[str, Any] | None,
    report: SchemaReport,
) -> None:
    if old is None:
        body = {"policy": policy, "collection": rule.collection, "action": rule.action}
        await rest.request("POST", "/permissions", token=token, json={**body, **row_body(rule)})
        report.add(f"{label} {rule.describe()}")
        return
    await rest.request("PATCH", f"/permissions/{old['id']}", token=token, json=row_body(rule))
    report.modify(f"{label} {row_text(old)} -> {rule.describe()}")


async def _delete(
    rest: DirectusRest, token: str, label: str, row: Mapping[str, Any], report: SchemaReport
) -> None:
    await rest.request("DELETE", f"/permissions/{row['id']}", token=token)
    report.remove(f"{label} {row_text(row)}")
