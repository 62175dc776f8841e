"""Rows as Directus sends them, validated: id, content, author, dates. Pure.

Directus drops the fields a reader may not see, so every part but the id and
the content is optional; a row without those two is logged and skipped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, NamedTuple

from .message import UNKNOWN_AUTHOR, Attachment, ChatMessage

__all__ = [
    "Attachment",
    "Author",
    "Row",
    "attachment_of",
    "author_of",
    "merged",
    "parse_row",
    "parse_timestamp",
]

logger = logging.getLogger(__name__)


class Author(NamedTuple):
    """Who wrote a row, as far as it says; each part None when unreadable."""

    id: str | None
    name: str | None  # first name + last name
    first_name: str | None


class Row(NamedTuple):
    """A row from Directus, validated; ``author.name`` is None when no name was readable.

    ``updated_at`` is ``date_updated``: Directus leaves it null on create and
    stamps it on every update, so a row that has one was edited. ``reply_to``
    is the id of the message it answers (None: none, or not readable).
    """

    id: int
    content: str
    author: Author
    created_at: datetime | None
    updated_at: datetime | None = None
    attachment: Attachment | str | None = None  # a bare id when its fields were not asked
    reply_to: int | None = None


def parse_row(raw: Any) -> Row | None:
    """Validate one row; None (and a warning) for one that cannot be shown."""
    if not isinstance(raw, Mapping):
        logger.warning("skipping a message row that is a %s, not an object", type(raw).__name__)
        return None
    row_id, content = raw.get("id"), raw.get("content")
    if isinstance(row_id, bool) or not isinstance(row_id, int):
        logger.warning("skipping a message row without an integer id (id=%r)", row_id)
        return None
    if not isinstance(content, str):
        logger.warning("skipping message %d: content is %s", row_id, type(content).__name__)
        return None
    author = author_of(raw.get("user_created"))
    created, updated = (parse_timestamp(raw.get(f"date_{when}")) for when in ("created", "updated"))
    parent = raw.get("reply_to")
    parent = parent if isinstance(parent, int) and not isinstance(parent, bool) else None
    attachment = attachment_of(raw.get("attachment"))
    return Row(row_id, content, author, created, updated, attachment, parent)


def attachment_of(value: Any) -> Attachment | str | None:
    """A row's ``attachment``: the file's fields (an object), its bare id, or None.

    None also when the reader may not see the file: Directus then sends null.
    """
    if isinstance(value, str):
        return value or None
    if not isinstance(value, Mapping) or not isinstance(value.get("id"), str):
        return None
    name = value.get("filename_download")
    mime = value.get("type")

    def count(key: str) -> int | None:
        number = value.get(key)
        return number if isinstance(number, int) and not isinstance(number, bool) else None

    return Attachment(
        value["id"],
        name.strip() if isinstance(name, str) and name.strip() else "attachment",
        mime if isinstance(mime, str) and mime else "application/octet-stream",
        count("filesize"),
        count("width"),
        count("height"),
    )


def author_of(value: Any) -> Author:
    """Who wrote a row, from ``user_created``: an object, a bare uuid, or nothing.

    Directus drops fields the reader may not see, so every part is optional.
    """
    if isinstance(value, str):
        return Author(value or None, None, None)
    if not isinstance(value, Mapping):
        return Author(None, None, None)
    author_id = value.get("id")
    first, last = _name_part(value.get("first_name")), _name_part(value.get("last_name"))
    name = " ".join(part for part in (first, last) if part)
    return Author(
        author_id if isinstance(author_id, str) and author_id else None, name or None, first
    )


def _name_part(value: Any) -> str | None:
    """One name field trimmed, kept whole inside ("Mary Ann"); None if blank or not text."""
    return (value.strip() or None) if isinstance(value, str) else None


_ISO = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)"
    r"(?:[.,](?P<fraction>\d+))?\s*(?P<zone>[Zz]|[+-]\d{2}:?\d{2})?"
)


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime; None for anything else.

    The pattern keeps out what Directus never sends (a bare date, trailing
    text); ``datetime.fromisoformat`` (3.11: ``Z`` and any fraction) reads the
    rest. A timestamp without a zone is taken as UTC (what Directus stores).
    """
    if not isinstance(value, str):
        return None
    found = _ISO.fullmatch(value.strip())
    if found is None:
        return None
    zone = (found["zone"] or "Z").upper()
    fraction = f".{found['fraction']}" if found["fraction"] else ""
    try:
        parsed = datetime.fromisoformat(f"{found['date']}T{found['time']}{fraction}{zone}")
    except ValueError:
        return None
    return parsed.astimezone(UTC)


def merged(message: ChatMessage, row: Row, own_id: str | None) -> ChatMessage:
    """``message`` with what ``row`` says; a nameless row keeps the name already known.

    An edit is never undone: a row without ``date_updated`` keeps the edit known.
    """
    author_id, author_name, first = row.author
    if author_name is None and author_id in (None, message.author_id):
        author_id, author_name = message.author_id, message.author_name
        first = message.author_first_name
    return replace(
        message,
        content=row.content,
        author_id=author_id,
        author_name=author_name or UNKNOWN_AUTHOR,
        author_first_name=first,
        created_at=row.created_at or message.created_at,
        edited_at=row.updated_at or message.edited_at,
        reply_to=row.reply_to if row.reply_to is not None else message.reply_to,
        own=message.own if own_id is None else author_id == own_id,
        attachment=_attachment(message.attachment, row.attachment),
    )


def _attachment(known: Attachment | None, said: Attachment | str | None) -> Attachment | None:
    """What a row says of the file, where a bare id (a create's reply) keeps what is known."""
    if isinstance(said, Attachment):
        return said
    if isinstance(said, str):
        if known is not None and known.id in (None, said):
            return replace(known, id=said)
        return Attachment(said, "attachment")
    return known
