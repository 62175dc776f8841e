"""Reactions as pure data: the one-emoji check, the row key, and who reacted with what.

A reaction is a row of the ``reactions`` collection (see
:mod:`directus_chat_widget.local.reactions`): one per (message, user, emoji),
held to that by a unique ``reaction_key`` of ``"<message>:<emoji>:<user id>"``
that only its writer can end. A row counts here only when its key is exactly
what its own ``message``, ``emoji`` and ``user_created`` make, and its emoji
passes :func:`check_emoji`; anything else (written by hand, or by a client
that lies) is skipped, so no user counts twice under one emoji.

No I/O: rows go in, :class:`Reaction` summaries come out. The live side is
:mod:`._reacting`.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._rows import author_of

__all__ = [
    "REACTIONS",
    "REACTION_FIELDS",
    "Reaction",
    "ReactionBook",
    "check_emoji",
    "reaction_key",
]

logger = logging.getLogger(__name__)

REACTIONS = "reactions"
# What a reaction needs to be shown: who (for "Ada, Grace" on hover) and what on which.
REACTION_FIELDS = (
    "id",
    "message",
    "emoji",
    "reaction_key",
    "user_created.id",
    "user_created.first_name",
)
MAX_EMOJI = 32  # characters; the schema's max_length on reactions.emoji
_UNNAMED = "Unknown User"

_VS16, _ZWJ, _KEYCAP, _BLACK_FLAG, _CANCEL_TAG = 0xFE0F, 0x200D, 0x20E3, 0x1F3F4, 0xE007F
_SKIN_TONES = range(0x1F3FB, 0x1F400)
_REGIONAL = range(0x1F1E6, 0x1F200)
_TAGS = range(0xE0020, 0xE007F)
# Code points that are emoji by themselves (Extended_Pictographic, give or take a few
# symbols: the standard library has no emoji data, and this is a check, not a font).
_PICTOGRAPHS = (
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x2194, 0x2199),
    (0x21A9, 0x21AA),
    (0x231A, 0x231B),
    (0x2328, 0x2328),
    (0x23CF, 0x23CF),
    (0x23E9, 0x23F3),
    (0x23F8, 0x23FA),
    (0x24C2, 0x24C2),
    (0x25AA, 0x25AB),
    (0x25B6, 0x25B6),
    (0x25C0, 0x25C0),
    (0x25FB, 0x25FE),
    (0x2600, 0x27BF),
    (0x2934, 0x2935),
    (0x2B05, 0x2B07),
    (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50),
    (0x2B55, 0x2B55),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3297),
    (0x3299, 0x3299),
    (0x1F000, 0x1F1E5),
    (0x1F200, 0x1F3FA),
    (0x1F400, 0x1FAFF),
    (0x1FC00, 0x1FFFD),
)


def _pictograph(point: int) -> bool:
    return any(low <= point <= high for low, high in _PICTOGRAPHS)


def _one_emoji(points: list[int]) -> bool:
    """Whether ``points`` are one emoji: a flag, a keycap, a tag flag, or a ZWJ sequence."""
    if len(points) == 2 and all(point in _REGIONAL for point in points):
        return True  # a country flag: two regional indicators
    if points[-1] == _KEYCAP:
        body = points[:-1]
        digit = body[:1] and chr(body[0]) in "0123456789#*"
        return bool(digit) and body[1:] in ([], [_VS16])
    if points[0] == _BLACK_FLAG and len(points) > 2 and points[-1] == _CANCEL_TAG:
        return all(point in _TAGS for point in points[1:-1])  # 🏴 + tags: England, Scotland...
    index = 0
    while True:  # element (ZWJ element)*, an element being a pictograph [VS16] [skin tone]
        if index >= len(points) or not _pictograph(points[index]):
            return False
        index += 1
        if index < len(points) and points[index] == _VS16:
            index += 1
        if index < len(points) and points[index] in _SKIN_TONES:
            index += 1
        if index == len(points):
            return True
        if points[index] != _ZWJ:
            return False
        index += 1


def check_emoji(text: str) -> str:
    """``text`` (stripped, NFC) if it is exactly one emoji, as a reaction must be.

    Raises:
        ValueError: blank, longer than 32 characters, or not exactly one emoji
            (plain text, two emoji, an emoji with text around it).
    """
    if not isinstance(text, str):
        raise TypeError(f"a reaction is an emoji (a str), not {type(text).__name__}")
    emoji = unicodedata.normalize("NFC", text.strip())
    if not emoji:
        raise ValueError("a reaction needs an emoji")
    if len(emoji) > MAX_EMOJI:
        raise ValueError(f"a reaction is one emoji; {len(emoji)} characters is too long")
    if not _one_emoji([ord(char) for char in emoji]):
        raise ValueError(f"a reaction is exactly one emoji, not {emoji!r}")
    return emoji


def reaction_key(message_id: int, emoji: str, user_id: str) -> str:
    """The unique key of one user's ``emoji`` on one message."""
    return f"{message_id}:{emoji}:{user_id}"


@dataclass(frozen=True)
class Reaction:
    """One emoji on one message: how many reacted with it, who, and whether you did.

    Attributes:
        emoji: the emoji.
        count: how many users reacted with it.
        names: their first names ("Unknown User" where unreadable), in the
            order they reacted.
        mine: the logged-in user is among them (so a click takes it back).
    """

    emoji: str
    count: int
    names: tuple[str, ...]
    mine: bool


@dataclass(frozen=True)
class _Row:
    id: int
    message: int
    emoji: str
    user: str
    name: str


def _parse(raw: Any) -> _Row | None:
    if not isinstance(raw, Mapping):
        return None
    row_id, message, emoji = raw.get("id"), raw.get("message"), raw.get("emoji")
    if isinstance(message, Mapping):  # read with message.* fields
        message = message.get("id")
    author = author_of(raw.get("user_created"))
    if not (isinstance(row_id, int) and isinstance(message, int) and isinstance(emoji, str)):
        return None
    if author.id is None or raw.get("reaction_key") != reaction_key(message, emoji, author.id):
        logger.info("skipping reaction row %s: its key does not match what it holds", row_id)
        return None
    try:
        emoji = check_emoji(emoji)
    except ValueError:
        logger.info("skipping reaction row %s: %r is not one emoji", row_id, emoji)
        return None
    return _Row(row_id, message, emoji, author.id, author.first_name or _UNNAMED)


class ReactionBook:
    """Every reaction row known, by message; each mutation says which messages changed."""

    def __init__(self) -> None:
        self._rows: dict[int, _Row] = {}
        self._by_message: dict[int, dict[int, _Row]] = {}

    def add_rows(self, rows: Iterable[Any]) -> set[int]:
        """Take rows from the server (reads, events, replies); returns the messages changed."""
        changed: set[int] = set()
        for raw in rows:
            row, known = _parse(raw), None
            if row is not None:
                known = self._rows.get(row.id)
            if row is None or known == row:
                continue
            if known is not None and row.name == _UNNAMED:  # a reply names the author by id
                continue
            self._rows[row.id] = row
            self._by_message.setdefault(row.message, {})[row.id] = row
            changed.add(row.message)
        return changed

    def remove_ids(self, ids: Iterable[Any]) -> set[int]:
        """The server deleted these rows; returns the messages changed (unknown ids: none)."""
        changed: set[int] = set()
        for row_id in ids:
            row = self._rows.pop(row_id, None) if isinstance(row_id, int) else None
            if row is not None:
                del self._by_message[row.message][row.id]
                changed.add(row.message)
        return changed

    def forget_messages(self, message_ids: Iterable[int]) -> None:
        """These messages are gone, and their reactions with them (the database's cascade)."""
        for message_id in message_ids:
            for row_id in self._by_message.pop(message_id, {}):
                self._rows.pop(row_id, None)

    @property
    def ids(self) -> list[int]:
        """Every reaction row known (after a gap, those gone are read back as deletes)."""
        return sorted(self._rows)

    def own_row(self, message_id: int, emoji: str, user_id: str | None) -> int | None:
        """The id of ``user_id``'s ``emoji`` row on ``message_id``, or None."""
        for row in self._by_message.get(message_id, {}).values():
            if row.emoji == emoji and row.user == user_id:
                return row.id
        return None

    def summary(self, message_id: int | None, own_id: str | None) -> tuple[Reaction, ...]:
        """The reactions on ``message_id``, each emoji once, in the order first used."""
        if message_id is None:
            return ()
        groups: dict[str, list[_Row]] = {}
        for row in sorted(self._by_message.get(message_id, {}).values(), key=lambda r: r.id):
            groups.setdefault(row.emoji, []).append(row)
        return tuple(
            Reaction(
                emoji,
                len(rows),
                tuple(row.name for row in rows),
                any(row.user == own_id for row in rows),
            )
            for emoji, rows in groups.items()
        )
