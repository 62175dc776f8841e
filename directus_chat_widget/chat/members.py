"""The chat's members: who can be mentioned, read from the server as the user may see them.

A chat user may read ``id``, ``first_name`` and ``last_name`` of the users who
hold the chat policy, and of no one else (see
:mod:`directus_chat_widget.local.rules`), so the list read here is the chat's
members. It goes to the browser as names only, for the composer's
autocompletion: never an email, never a token.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._ports import SessionLike

__all__ = ["USERS", "Member", "load_members"]

USERS = "directus_users"


@dataclass(frozen=True)
class Member:
    """One chat user: their id and the name they are mentioned by ("Ada Lovelace")."""

    id: str
    first_name: str = ""
    last_name: str = ""

    @property
    def name(self) -> str:
        """The full name, first then last; "" for a user with neither."""
        return " ".join(part for part in (self.first_name, self.last_name) if part)


def _text(value: Any) -> str:
    # One space between words: "Mary  Ann" is mentioned as "@Mary Ann".
    return " ".join(value.split()) if isinstance(value, str) else ""


def member_of(row: Mapping[str, Any]) -> Member | None:
    """The member a user row describes; None without an id or any name (not mentionable)."""
    user_id = row.get("id")
    if not isinstance(user_id, str) or not user_id:
        return None
    member = Member(user_id, _text(row.get("first_name")), _text(row.get("last_name")))
    return member if member.name else None


def members_of(rows: Iterable[Any]) -> list[Member]:
    """The mentionable members among ``rows``, by name."""
    found = [member_of(row) for row in rows if isinstance(row, Mapping)]
    return sorted((m for m in found if m is not None), key=lambda m: (m.name.casefold(), m.id))


async def load_members(session: SessionLike) -> list[Member]:
    """Every chat member the logged-in user may see, by name.

    Raises:
        Forbidden: the user may not read users.  DirectusError: the read failed.
    """
    query = {"fields": ["id", "first_name", "last_name"], "limit": -1, "sort": ["first_name"]}
    return members_of(await session.read(USERS, query))
