"""Attachments in the schema, applied as code and idempotent: a folder and ``messages.attachment``.

- the folder ``Chat attachments`` (:data:`CHAT_FOLDER`), at the top level:
  every file a chat user uploads lands there (the rules in :mod:`.file_rules`
  preset and check it), and only files in it can be read through the chat;
- field ``messages.attachment``: a many-to-one to ``directus_files`` (one
  file per message, or none), nulled when the file is deleted;
- its other side, the alias ``directus_files.chat_messages``: the messages a
  file is attached to, which the read rule filters on.
"""

from __future__ import annotations

from typing import Any

from ..rest import DirectusRest
from .file_rules import FILES, MESSAGES_OF_FILE
from .report import SchemaReport
from .rules import MESSAGES

__all__ = ["ATTACHMENT_FIELD", "CHAT_FOLDER", "ensure_attachments"]

CHAT_FOLDER = "Chat attachments"
ATTACHMENT_FIELD = "attachment"


async def _folder(rest: DirectusRest, token: str, report: SchemaReport) -> str:
    query = {"filter": {"name": {"_eq": CHAT_FOLDER}, "parent": {"_null": True}}, "fields": "id"}
    rows = await rest.request("GET", "/folders", token=token, params={**query, "limit": 1})
    report.note(f"folder {CHAT_FOLDER}", not rows)
    if rows:
        return str(rows[0]["id"])
    row = await rest.request("POST", "/folders", token=token, json={"name": CHAT_FOLDER})
    return str(row["id"])


def _attachment_field() -> dict[str, Any]:
    return {
        "field": ATTACHMENT_FIELD,
        "type": "uuid",
        "meta": {"interface": "file", "special": ["file"], "note": "A file sent with the message"},
        "schema": {"is_nullable": True},
    }


def _messages_alias() -> dict[str, Any]:
    return {
        "field": MESSAGES_OF_FILE,
        "type": "alias",
        "meta": {"special": ["o2m"], "interface": "list-o2m", "hidden": True, "readonly": True},
    }


async def _fields(rest: DirectusRest, token: str, collection: str) -> set[str]:
    rows = await rest.request("GET", f"/fields/{collection}", token=token)
    return {str(row["field"]) for row in rows}


async def ensure_attachments(rest: DirectusRest, token: str, report: SchemaReport) -> str:
    """Make attachments possible; returns the chat folder's id. Safe to run again.

    Run after the ``messages`` collection exists.
    """
    folder = await _folder(rest, token, report)
    missing = ATTACHMENT_FIELD not in await _fields(rest, token, MESSAGES)
    if missing:
        await rest.request("POST", f"/fields/{MESSAGES}", token=token, json=_attachment_field())
    report.note(f"field {MESSAGES}.{ATTACHMENT_FIELD}", missing)
    relations = await rest.request("GET", f"/relations/{MESSAGES}", token=token)
    linked = any(rel.get("field") == ATTACHMENT_FIELD for rel in relations)
    if not linked:
        relation = {
            "collection": MESSAGES,
            "field": ATTACHMENT_FIELD,
            "related_collection": FILES,
            "meta": {"one_field": MESSAGES_OF_FILE},
            "schema": {"on_delete": "SET NULL"},
        }
        await rest.request("POST", "/relations", token=token, json=relation)
    report.note(f"relation {MESSAGES}.{ATTACHMENT_FIELD} -> {FILES}", not linked)
    alias = MESSAGES_OF_FILE not in await _fields(rest, token, FILES)
    if alias:
        await rest.request("POST", f"/fields/{FILES}", token=token, json=_messages_alias())
    report.note(f"field {FILES}.{MESSAGES_OF_FILE}", alias)
    return folder
