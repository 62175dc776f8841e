"""Authors' names for live events from a cache (chat/_authors.py), with a fake reader.

The room subscribes with the author as a bare id; these check that names are
filled in from what is known, that an unknown author costs one read, and that
events keep their order while one waits. The room as a whole is in test_chat.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

from directus_chat_widget.chat._authors import EVENT_FIELDS, AuthorNames
from directus_chat_widget.chat.message import MESSAGE_FIELDS
from directus_chat_widget.protocol import SubscriptionEvent

ADA = {"id": "u-ada", "first_name": "Ada", "last_name": "Lovelace"}
GRACE = {"id": "u-grace", "first_name": "Grace", "last_name": "Hopper"}


class Reader:
    """Reads rows by id with their authors' names, or fails, and says what was asked."""

    def __init__(self, fail: bool = False) -> None:
        self.asked: list[dict[str, Any]] = []
        self.fail = fail
        self.gate = asyncio.Event()
        self.gate.set()

    async def read(self, collection: str, query: dict[str, Any] | None = None) -> Any:
        self.asked.append(query or {})
        await self.gate.wait()
        if self.fail:
            raise ConnectionError("gone")
        ids = (query or {})["filter"]["_and"][1]["id"]["_in"]
        return [{"id": key, "user_created": GRACE} for key in ids]


def created(*rows: tuple[int, str | None]) -> SubscriptionEvent:
    data = tuple({"id": key, "content": f"m{key}", "user_created": who} for key, who in rows)
    return SubscriptionEvent("s", "create", data, tuple(key for key, _ in rows))


def names(applied: list[Any]) -> list[tuple[int, Any]]:
    return [(row["id"], row["user_created"]) for event in applied for row in event.data]


async def test_known_authors_are_filled_in_at_once_and_the_query_asks_for_no_join() -> None:
    applied: list[Any] = []
    authors = AuthorNames(Reader(), "messages", applied.append)  # type: ignore[arg-type]
    room_filter = {"room": {"_eq": 1}}
    query = authors.subscribing({"fields": list(MESSAGE_FIELDS), "filter": room_filter}, ADA)
    assert query == {"fields": list(EVENT_FIELDS), "filter": room_filter}
    assert "user_created" in EVENT_FIELDS
    assert not any(field.startswith("user_created.") for field in EVENT_FIELDS)
    authors.take(created((1, "u-ada"), (2, None)))
    assert names(applied) == [(1, ADA), (2, None)]


async def test_an_unknown_author_costs_one_read_and_later_events_wait_behind_it() -> None:
    reader = Reader()
    reader.gate.clear()
    applied: list[Any] = []
    authors = AuthorNames(reader, "messages", applied.append)  # type: ignore[arg-type]
    authors.subscribing({"filter": {"room": {"_eq": 1}}}, ADA)
    authors.take(created((1, "u-grace")))
    authors.take(created((2, "u-ada")))  # known, but after an event that waits
    authors.take(SubscriptionEvent("s", "delete", (), (1,)))
    await asyncio.sleep(0)
    assert applied == []
    reader.gate.set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert [event.event for event in applied] == ["create", "create", "delete"]
    assert names(applied) == [(1, GRACE), (2, ADA)]
    assert len(reader.asked) == 1
    assert reader.asked[0]["fields"] == list(MESSAGE_FIELDS)  # the room's filter, and the ids
    assert reader.asked[0]["filter"] == {"_and": [{"room": {"_eq": 1}}, {"id": {"_in": [1]}}]}
    authors.take(created((3, "u-grace")))
    assert names(applied)[-1] == (3, GRACE) and len(reader.asked) == 1


async def test_a_failed_look_up_shows_the_row_without_a_name_and_is_not_repeated() -> None:
    reader = Reader(fail=True)
    applied: list[Any] = []
    authors = AuthorNames(reader, "messages", applied.append)  # type: ignore[arg-type]
    authors.subscribing({}, None)
    authors.take(created((1, "u-grace")))
    for _ in range(5):
        await asyncio.sleep(0)
    assert names(applied) == [(1, {"id": "u-grace"})]
    authors.take(created((2, "u-grace")))
    assert names(applied)[-1] == (2, {"id": "u-grace"}) and len(reader.asked) == 1


async def test_names_learnt_from_full_rows_need_no_read() -> None:
    reader = Reader()
    applied: list[Any] = []
    authors = AuthorNames(reader, "messages", applied.append)  # type: ignore[arg-type]
    authors.subscribing({}, None)
    authors.learn([{"id": 7, "user_created": GRACE}, {"id": 8, "user_created": None}])
    authors.take(created((9, "u-grace")))
    assert names(applied) == [(9, GRACE)] and reader.asked == []
