"""What the chat's collections share: the id, what Directus fills in, the client uid,
a per-user slot and a room; making a collection and its relations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..rest import DirectusRest
from .report import SchemaReport

__all__ = [
    "client_uid_field",
    "ensure_collection",
    "ensure_relations",
    "filled_field",
    "id_field",
    "room_field",
    "slot_field",
]


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


def slot_field(name: str, note: str, max_length: int) -> dict[str, Any]:
    """A unique string naming a row's owner and place (``<user id>/<room id>``...).

    One row per (user, room): Directus makes one column unique, not two, so the
    pair is one string, which a permission's validation ties to its writer.
    """
    return {
        "field": name,
        "type": "string",
        "meta": {"interface": "input", "readonly": True, "note": note},
        "schema": {"is_unique": True, "is_nullable": False, "max_length": max_length},
    }


def room_field(*, indexed: bool = False) -> dict[str, Any]:
    """A row's room (an integer id; :func:`ensure_relations` makes it a relation)."""
    schema: dict[str, Any] = {"is_nullable": False}
    if indexed:
        schema["is_indexed"] = True
    return {
        "field": "room",
        "type": "integer",
        "meta": {"interface": "select-dropdown-m2o", "display": "related-values"},
        "schema": schema,
    }


async def ensure_relations(
    rest: DirectusRest,
    token: str,
    report: SchemaReport,
    collection: str,
    relations: Iterable[tuple[str, str, str]],
) -> None:
    """Make each ``(field, related collection, on delete)`` of ``collection`` a relation."""
    linked = {
        rel.get("field")
        for rel in await rest.request("GET", f"/relations/{collection}", token=token)
    }
    for field, related, on_delete in relations:
        if field not in linked:
            relation = {
                "collection": collection,
                "field": field,
                "related_collection": related,
                "schema": {"on_delete": on_delete},
            }
            await rest.request("POST", "/relations", token=token, json=relation)
        report.note(f"relation {collection}.{field} -> {related}", field not in linked)
