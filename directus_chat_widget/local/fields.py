"""What the chat's collections share: the id, what Directus fills in, the client uid; making one."""

from __future__ import annotations

from typing import Any

from ..rest import DirectusRest
from .report import SchemaReport

__all__ = ["client_uid_field", "ensure_collection", "filled_field", "id_field"]


async def ensure_collection(
    rest: DirectusRest,
    token: str,
    report: SchemaReport,
    name: str,
    meta: dict[str, Any],
    fields: list[dict[str, Any]],
) -> bool:
    """Create the collection ``name`` with ``fields`` unless it exists; True if it was made."""
    rows = await rest.request("GET", "/collections", token=token)
    missing = name not in {str(row["collection"]) for row in rows}
    if missing:
        body = {"collection": name, "meta": meta, "schema": {}, "fields": fields}
        await rest.request("POST", "/collections", token=token, json=body)
    report.note(f"collection {name}", missing)
    return missing


def id_field() -> dict[str, Any]:
    """An auto-increment integer primary key, hidden in the admin app."""
    return {
        "field": "id",
        "type": "integer",
        "meta": {"hidden": True, "interface": "input", "readonly": True},
        "schema": {"is_primary_key": True, "has_auto_increment": True},
    }


def filled_field(
    name: str, kind: str, special: str, interface: str, display: str
) -> dict[str, Any]:
    """A field Directus fills in itself (``special``: user-created, date-created...)."""
    meta = {"special": [special], "interface": interface, "display": display}
    return {
        "field": name,
        "type": kind,
        "meta": {**meta, "readonly": True, "hidden": True},
        "schema": {},
    }


def client_uid_field() -> dict[str, Any]:
    """Written by the client with each create; unique, so a create resent after a lost
    reply is looked up instead of stored twice."""
    return {
        "field": "client_uid",
        "type": "string",
        "meta": {
            "interface": "input",
            "hidden": True,
            "readonly": True,
            "note": "Set by the chat client to make resends idempotent",
        },
        "schema": {"is_unique": True, "is_nullable": True, "max_length": 64},
    }
