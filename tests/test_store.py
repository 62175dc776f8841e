"""MessageStore: pure unit tests (no server, no event loop).

Every mutation goes through ``Mirror``, which applies the returned StoreChange
to a copy of the list the way a UI would and checks that the copy equals the
store's own list: so each test also proves its changes are exact.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any, TypeVar

import pytest

from directus_chat_widget.store import (
    UNKNOWN_AUTHOR,
    ChatMessage,
    MessageStatus,
    MessageStore,
    StoreChange,
    parse_timestamp,
)
from directus_chat_widget.widget.message_list import first_name

ADA = {"id": "u-ada", "first_name": "Ada", "last_name": "Lovelace"}
GRACE = {"id": "u-grace", "first_name": "Grace", "last_name": "Hopper"}


def row(
    id: int,
    content: str | None = None,
    user: Any = ADA,
    date: Any = "2026-11-29T03:00:00.000Z",
) -> dict[str, Any]:
    """A message row as Directus sends it with the chat's query fields."""
    return {
        "id": id,
        "content": f"message {id}" if content is None else content,
        "date_created": date,
        "user_created": user,
    }


class Mirror:
    """A store plus a UI-side copy kept up to date only through StoreChange."""

    def __init__(self) -> None:
        self.store = MessageStore()
        self.shown: list[ChatMessage] = []
        self.changes: list[StoreChange] = []

    def do(self, change: StoreChange) -> StoreChange:
        change.apply_to(self.shown)
        assert tuple(self.shown) == self.store.messages, change
        if change.kind not in ("remove", "reset"):
            assert list(change.indices) == sorted(change.indices)
            for index, message in zip(change.indices, change.messages, strict=True):
                assert self.store.messages[index] == message
        self.changes.append(change)
        return change

    def rows(self, *rows: Any) -> StoreChange:
        return self.do(self.store.add_rows(rows))

    def pending(self, content: str, author: Any = ADA) -> ChatMessage:
        change = self.do(self.store.add_pending(content, author))
        return change.messages[0]

    def ids(self) -> list[int | None]:
        return [message.id for message in self.store.messages]

    def contents(self) -> list[str]:
        return [message.content for message in self.store.messages]


@pytest.fixture
def m() -> Mirror:
    return Mirror()


# -- ordering and de-duplication ------------------------------------------------


def test_rows_are_ordered_by_id_whatever_order_they_arrive_in(m: Mirror) -> None:
    m.rows(row(5), row(2))
    m.rows(row(9), row(1))
    m.rows(row(3))
    assert m.ids() == [1, 2, 3, 5, 9]


def test_a_row_seen_twice_is_shown_once(m: Mirror) -> None:
    m.rows(row(1), row(2))
    change = m.rows(row(2))
    assert change.is_empty
    assert m.ids() == [1, 2]


def test_duplicates_inside_one_batch_are_shown_once(m: Mirror) -> None:
    change = m.rows(row(4), row(4), row(3))
    assert m.ids() == [3, 4]
    assert [message.id for message in change.messages] == [3, 4]


def test_a_backfill_page_overlapping_events_adds_only_the_missing_rows(m: Mirror) -> None:
    # Events arrived while the history read was in flight.
    m.rows(row(21))
    m.rows(row(22))
    change = m.rows(*[row(i) for i in range(22, 2, -1)])  # a -id page: 22..3
    assert m.ids() == list(range(3, 23))
    assert change.kind == "prepend"
    assert [message.id for message in change.messages] == list(range(3, 21))
    assert change.indices == tuple(range(18))


def test_a_backfill_with_a_gap_inserts_around_what_is_shown(m: Mirror) -> None:
    m.rows(row(1), row(25))
    change = m.rows(*[row(i) for i in range(21, 31)])
    assert change.kind == "insert"
    assert m.ids() == [1, *range(21, 31)]


def test_keys_are_stable_and_follow_the_id(m: Mirror) -> None:
    m.rows(row(7))
    message = m.store.messages[0]
    assert message.key == "id:7"
    assert m.store.get("id:7") == message
    assert m.store.by_id(7) == message
    assert m.store.by_id(8) is None


def test_a_new_row_goes_after_the_history_but_above_our_unconfirmed_sends(m: Mirror) -> None:
    m.rows(row(1))
    mine = m.pending("on its way")
    change = m.rows(row(2, user=GRACE))
    assert change.kind == "append"
    assert change.indices == (1,)
    assert [message.key for message in m.store.messages][-1] == mine.key


def test_a_re_read_row_updates_in_place(m: Mirror) -> None:
    m.rows(row(1), row(2, "old"))
    change = m.rows(row(2, "edited"))
    assert change.kind == "update"
    assert change.indices == (1,)
    assert m.contents() == ["message 1", "edited"]


def test_a_mixed_batch_of_new_and_changed_rows_is_an_insert(m: Mirror) -> None:
    m.rows(row(2, "old"))
    change = m.rows(row(2, "edited"), row(3))
    assert change.kind == "insert"
    assert m.contents() == ["edited", "message 3"]


def test_oldest_and_newest_ids(m: Mirror) -> None:
    assert (m.store.oldest_id, m.store.newest_id) == (None, None)
    m.rows(row(8), row(3), row(5))
    m.pending("not counted")
    assert (m.store.oldest_id, m.store.newest_id) == (3, 8)
    assert len(m.store) == 4


# -- paging ---------------------------------------------------------------------


def test_pages_read_newest_first_are_shown_oldest_first_and_older_pages_prepend(
    m: Mirror,
) -> None:
    latest = m.rows(*[row(i) for i in range(45, 25, -1)])
    assert latest.kind == "append"
    assert m.ids() == list(range(26, 46))
    older = m.rows(*[row(i) for i in range(25, 5, -1)])
    assert older.kind == "prepend"
    assert older.indices == tuple(range(20))
    oldest = m.rows(*[row(i) for i in range(5, 0, -1)])
    assert oldest.kind == "prepend"
    assert m.ids() == list(range(1, 46))


# -- authors, dates, content ----------------------------------------------------


@pytest.mark.parametrize(
    ("user", "author_id", "name"),
    [
        (ADA, "u-ada", "Ada Lovelace"),
        ({"id": "u1", "first_name": "Ada"}, "u1", "Ada"),
        ({"id": "u1", "first_name": "Ada", "last_name": None}, "u1", "Ada"),
        ({"id": "u1", "first_name": "  Ada ", "last_name": ""}, "u1", "Ada"),
        ({"id": "u1", "last_name": "Lovelace"}, "u1", "Lovelace"),
        ({"id": "u1"}, "u1", UNKNOWN_AUTHOR),  # names dropped: not readable
        ({}, None, UNKNOWN_AUTHOR),
        ({"id": 5, "first_name": 7}, None, UNKNOWN_AUTHOR),
        ("4b7c-uuid", "4b7c-uuid", UNKNOWN_AUTHOR),  # a bare uuid (the create reply)
        ("", None, UNKNOWN_AUTHOR),
        (None, None, UNKNOWN_AUTHOR),  # an anonymous (public) message
        (["odd"], None, UNKNOWN_AUTHOR),
    ],
)
def test_author_name_and_id(m: Mirror, user: Any, author_id: str | None, name: str) -> None:
    m.rows(row(1, user=user))
    message = m.store.messages[0]
    assert (message.author_id, message.author_name) == (author_id, name)


@pytest.mark.parametrize(
    ("user", "first"),
    [
        (ADA, "Ada"),
        ({"id": "u1", "first_name": "Mary Ann", "last_name": "Evans"}, "Mary Ann"),
        ({"id": "u1", "first_name": "  Mary Ann \t"}, "Mary Ann"),
        ({"id": "u1", "first_name": "   ", "last_name": "Evans"}, None),
        ({"id": "u1", "last_name": "Lovelace"}, None),
        ({"id": "u1", "first_name": 7}, None),
        ("4b7c-uuid", None),
        (None, None),
    ],
)
def test_author_first_name_is_the_first_name_field_whole(
    m: Mirror, user: Any, first: str | None
) -> None:
    m.rows(row(1, user=user))
    assert m.store.messages[0].author_first_name == first


def test_the_shown_name_is_the_whole_first_name_else_the_first_word(m: Mirror) -> None:
    m.rows(
        row(1, user={"id": "u1", "first_name": "Mary Ann", "last_name": "Evans"}),
        row(2, user={"id": "u2", "last_name": "van Gogh"}),  # no first name: old rule
        row(3, user=None),
    )
    assert [first_name(message) for message in m.store.messages] == [
        "Mary Ann",
        "van",
        UNKNOWN_AUTHOR,
    ]


def test_a_pending_send_carries_the_session_users_first_name(m: Mirror) -> None:
    mine = m.pending("hi", author={"id": "u1", "first_name": "Mary Ann", "last_name": "Evans"})
    assert mine.author_first_name == "Mary Ann"
    assert m.pending("who?", author=None).author_first_name is None


def test_a_nameless_row_keeps_the_first_name_already_known(m: Mirror) -> None:
    mary = {"id": "u1", "first_name": "Mary Ann", "last_name": "Evans"}
    mine = m.pending("hi", author=mary)
    m.do(m.store.confirm(mine.key, row(5, "hi", user="u1")))  # the reply: a bare uuid
    m.rows(row(5, "hi", user={"id": "u1"}))  # an event whose names were dropped
    assert m.store.messages[0].author_first_name == "Mary Ann"
    renamed = m.rows(row(5, "hi", user={"id": "u1", "first_name": "Mary"}))
    assert renamed.kind == "update"
    assert m.store.messages[0].author_first_name == "Mary"
    assert m.store.messages[0].author_name == "Mary"


def test_a_row_without_user_created_at_all_is_by_unknown_user(m: Mirror) -> None:
    m.rows({"id": 1, "content": "hello"})
    message = m.store.messages[0]
    assert message.author_name == UNKNOWN_AUTHOR
    assert message.author_id is None
    assert message.created_at is None


def test_created_at_is_aware_utc(m: Mirror) -> None:
    m.rows(row(1, date="2026-11-29T03:00:00.000Z"))
    assert m.store.messages[0].created_at == datetime(2026, 11, 29, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-29T03:00:00.000Z", datetime(2026, 11, 29, 3, 0, 0)),
        ("2026-11-29T03:00:00Z", datetime(2026, 11, 29, 3, 0, 0)),
        ("2026-11-29T03:00:00.123456789Z", datetime(2026, 11, 29, 3, 0, 0, 123456)),
        ("2026-11-29T03:00:00.5z", datetime(2026, 11, 29, 3, 0, 0, 500000)),
        ("2026-11-29T05:30:00+02:30", datetime(2026, 11, 29, 3, 0, 0)),
        ("2026-11-28T22:00:00-0500", datetime(2026, 11, 29, 3, 0, 0)),
        ("2026-11-29 03:00:00", datetime(2026, 11, 29, 3, 0, 0)),  # no zone: UTC
        ("2026-11-29T03:00", datetime(2026, 11, 29, 3, 0, 0)),
    ],
)
def test_timestamps_parse_to_utc(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(0)
    assert parsed == expected.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "garbled",
    [None, "", "yesterday", "2026-13-45T99:00:00Z", "2026-11-29", "2026-11-29T03:00:00+99:00",
     12345, 1.5, ["2026-11-29T03:00:00Z"], "2026-11-29T03:00:00Zjunk"],
)  # fmt: skip
def test_garbled_timestamps_become_none(m: Mirror, garbled: Any) -> None:
    assert parse_timestamp(garbled) is None
    m.rows(row(1, date=garbled))
    assert m.store.messages[0].created_at is None


def test_html_and_odd_text_are_kept_verbatim(m: Mirror) -> None:
    texts = [
        "<b>bold</b> <script>alert('x')</script>",
        "&lt;not decoded&gt; &amp;",
        "  leading and trailing spaces  ",
        "line one\nline two",
        "emoji 🎉 and ünïcödé",
    ]
    m.rows(*[row(i, text) for i, text in enumerate(texts, start=1)])
    assert m.contents() == texts


# -- malformed rows -------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"content": "no id"},
        {"id": None, "content": "null id"},
        {"id": "7", "content": "string id"},
        {"id": 7.0, "content": "float id"},
        {"id": True, "content": "bool id"},
        {"id": 7},
        {"id": 7, "content": None},
        {"id": 7, "content": 42},
        {"id": 7, "content": ["a"]},
        "not a row",
        None,
        [1, "x"],
    ],
)
def test_malformed_rows_are_skipped_and_logged(
    m: Mirror, bad: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="directus_chat_widget.store"):
        change = m.rows(row(1), bad, row(2))
    assert m.ids() == [1, 2]
    assert [message.id for message in change.messages] == [1, 2]
    assert any("skipping" in record.getMessage() for record in caplog.records)


def test_a_batch_of_only_malformed_rows_changes_nothing(m: Mirror) -> None:
    m.rows(row(1))
    change = m.rows({"id": "x"}, 3)
    assert change.is_empty
    assert m.ids() == [1]


# -- optimistic sends -------------------------------------------------------------


def test_a_pending_send_is_shown_at_the_end_in_send_order(m: Mirror) -> None:
    m.rows(row(1), row(2))
    first = m.pending("first")
    second = m.pending("second")
    assert m.contents() == ["message 1", "message 2", "first", "second"]
    assert first.status is second.status is MessageStatus.PENDING
    assert first.id is None and first.created_at is None
    assert first.key.startswith("local:") and first.key != second.key
    assert first.author_id == "u-ada" and first.author_name == "Ada Lovelace"
    assert m.changes[-1].kind == "append" and m.changes[-1].indices == (3,)


def test_a_pending_send_without_a_known_user_is_by_unknown_user(m: Mirror) -> None:
    mine = m.pending("who am I", author=None)
    assert mine.author_name == UNKNOWN_AUTHOR and mine.author_id is None


def test_the_reply_confirms_a_pending_send_and_it_keeps_its_key(m: Mirror) -> None:
    m.rows(row(1))
    mine = m.pending("hello")
    # The create reply names the author by uuid only: the name known from the
    # session stays.
    change = m.do(m.store.confirm(mine.key, row(2, "hello", user="u-ada")))
    assert change.kind == "update"
    confirmed = m.store.messages[-1]
    assert confirmed.key == mine.key
    assert (confirmed.id, confirmed.status, confirmed.error) == (2, MessageStatus.SENT, None)
    assert confirmed.author_name == "Ada Lovelace" and confirmed.author_id == "u-ada"
    assert confirmed.created_at == datetime(2026, 11, 29, 3, tzinfo=UTC)
    assert m.store.by_id(2) == confirmed


def test_reply_then_event_shows_the_message_once(m: Mirror) -> None:
    mine = m.pending("hello")
    m.do(m.store.confirm(mine.key, row(10, "hello", user="u-ada")))
    change = m.rows(row(10, "hello"))
    assert change.is_empty
    assert m.ids() == [10]
    assert m.store.messages[0].key == mine.key


def test_event_then_reply_shows_the_message_once(m: Mirror) -> None:
    mine = m.pending("hello")
    change = m.rows(row(10, "hello"))  # our own create event, author readable
    assert change.kind == "update"
    assert m.store.messages[0].key == mine.key
    assert m.store.messages[0].status is MessageStatus.SENT
    again = m.do(m.store.confirm(mine.key, row(10, "hello", user="u-ada")))
    assert again.is_empty
    assert m.ids() == [10]


def test_a_reply_for_a_row_already_shown_without_an_author_removes_the_duplicate(
    m: Mirror,
) -> None:
    mine = m.pending("hello")
    m.rows(row(10, "hello", user=None))  # the event could not say who wrote it
    assert m.ids() == [10, None]
    change = m.do(m.store.confirm(mine.key, row(10, "hello", user="u-ada")))
    assert change.kind == "remove"
    assert change.messages[0].key == mine.key and change.indices == (1,)
    assert m.ids() == [10]
    assert m.store.get(mine.key) is None


def test_a_confirmed_send_moves_to_its_id_position(m: Mirror) -> None:
    m.rows(row(1))
    mine = m.pending("mine")
    m.rows(row(3, user=GRACE))  # someone else's, stored after ours
    change = m.do(m.store.confirm(mine.key, row(2, "mine")))
    assert change.kind == "update" and change.indices == (1,)
    assert m.ids() == [1, 2, 3]


def test_the_second_of_two_sends_confirmed_first_moves_above_the_first(m: Mirror) -> None:
    first = m.pending("first")
    second = m.pending("second")
    m.do(m.store.confirm(second.key, row(6, "second")))
    assert [message.key for message in m.store.messages] == [second.key, first.key]
    m.do(m.store.confirm(first.key, row(5, "first")))
    assert m.ids() == [5, 6]


def test_identical_sends_are_matched_in_send_order(m: Mirror) -> None:
    first = m.pending("hi")
    second = m.pending("hi")
    m.rows(row(5, "hi"))
    m.rows(row(6, "hi"))
    assert [(message.key, message.id) for message in m.store.messages] == [
        (first.key, 5),
        (second.key, 6),
    ]
    m.do(m.store.confirm(first.key, row(5, "hi", user="u-ada")))
    m.do(m.store.confirm(second.key, row(6, "hi", user="u-ada")))
    assert m.ids() == [5, 6]


def test_identical_sends_whose_events_cross_are_still_shown_once_each(m: Mirror) -> None:
    first = m.pending("hi")
    second = m.pending("hi")
    m.rows(row(6, "hi"))  # the second send's event, matched to the first entry
    m.do(m.store.confirm(first.key, row(5, "hi", user="u-ada")))
    m.do(m.store.confirm(second.key, row(6, "hi", user="u-ada")))
    m.rows(row(5, "hi"))
    assert m.ids() == [5, 6]
    assert all(message.status is MessageStatus.SENT for message in m.store.messages)
    assert {message.key for message in m.store.messages} == {first.key, second.key}


def test_someone_elses_identical_text_does_not_confirm_ours(m: Mirror) -> None:
    mine = m.pending("hi")
    m.rows(row(5, "hi", user=GRACE))
    assert m.store.get(mine.key) is not None
    assert m.store.get(mine.key).status is MessageStatus.PENDING  # type: ignore[union-attr]
    assert m.ids() == [5, None]


def test_without_an_author_on_either_side_nothing_is_matched(m: Mirror) -> None:
    mine = m.pending("hi", author=None)
    m.rows(row(5, "hi", user=None))  # an anonymous "hi": not provably ours
    assert m.ids() == [5, None]
    assert m.store.messages[-1].key == mine.key


def test_an_old_row_with_the_same_text_does_not_confirm_a_new_send(m: Mirror) -> None:
    m.rows(row(50))
    mine = m.pending("hi")
    m.rows(row(3, "hi"))  # an older page: I said "hi" long ago
    assert m.ids() == [3, 50, None]
    assert m.store.messages[-1].key == mine.key
    assert m.store.messages[0].key == "id:3"


def test_a_malformed_reply_leaves_the_send_pending(
    m: Mirror, caplog: pytest.LogCaptureFixture
) -> None:
    mine = m.pending("hello")
    with caplog.at_level(logging.WARNING, logger="directus_chat_widget.store"):
        change = m.do(m.store.confirm(mine.key, {"content": "hello"}))
    assert change.is_empty
    assert m.store.messages[0].status is MessageStatus.PENDING
    assert caplog.records


def test_a_reply_for_a_removed_entry_is_just_a_row(m: Mirror) -> None:
    mine = m.pending("hello")
    m.do(m.store.remove(mine.key))
    change = m.do(m.store.confirm(mine.key, row(4, "hello")))
    assert change.kind == "append"
    assert m.ids() == [4] and m.store.messages[0].key == "id:4"


# -- failures and retries ---------------------------------------------------------


def test_a_failed_send_keeps_its_place_and_error(m: Mirror) -> None:
    first = m.pending("first")
    m.pending("second")
    change = m.do(m.store.fail(first.key, "You don't have permission"))
    assert change.kind == "update" and change.indices == (0,)
    failed = m.store.messages[0]
    assert failed.status is MessageStatus.FAILED
    assert failed.error == "You don't have permission"
    assert m.contents() == ["first", "second"]


def test_failed_then_retried_then_sent(m: Mirror) -> None:
    m.rows(row(1))
    mine = m.pending("hello")
    m.do(m.store.fail(mine.key, "timed out"))
    retried = m.do(m.store.retrying(mine.key))
    assert retried.kind == "update"
    assert retried.messages[0].status is MessageStatus.PENDING
    assert retried.messages[0].error is None
    m.do(m.store.confirm(mine.key, row(2, "hello")))
    assert m.store.messages[-1].status is MessageStatus.SENT
    assert m.ids() == [1, 2]


def test_only_a_failed_message_can_be_retried(m: Mirror) -> None:
    m.rows(row(1))
    mine = m.pending("hello")
    with pytest.raises(ValueError, match="only a failed message"):
        m.store.retrying(mine.key)
    with pytest.raises(ValueError, match="only a failed message"):
        m.store.retrying("id:1")
    with pytest.raises(KeyError):
        m.store.retrying("local:nope")
    with pytest.raises(KeyError):
        m.store.fail("local:nope", "x")


def test_a_failure_after_the_event_confirmed_the_send_keeps_it_sent(m: Mirror) -> None:
    mine = m.pending("hello")
    m.rows(row(3, "hello"))
    change = m.do(m.store.fail(mine.key, "timed out waiting for the reply"))
    assert change.is_empty
    assert m.store.messages[0].status is MessageStatus.SENT


def test_a_failed_send_the_server_did_store_is_confirmed_by_its_event(m: Mirror) -> None:
    mine = m.pending("hello")
    m.do(m.store.fail(mine.key, "timed out"))
    m.rows(row(3, "hello"))
    assert m.store.messages[0].key == mine.key
    assert m.store.messages[0].status is MessageStatus.SENT
    assert m.store.messages[0].error is None


def test_an_event_confirms_a_pending_send_before_a_failed_identical_one(m: Mirror) -> None:
    failed = m.pending("hi")
    m.do(m.store.fail(failed.key, "Forbidden"))
    pending = m.pending("hi")
    m.rows(row(4, "hi"))
    assert m.store.get(pending.key) is not None
    assert m.store.get(pending.key).id == 4  # type: ignore[union-attr]
    assert m.store.get(failed.key).status is MessageStatus.FAILED  # type: ignore[union-attr]


# -- remove and reset -------------------------------------------------------------


def test_remove_a_sent_and_a_local_message(m: Mirror) -> None:
    m.rows(row(1), row(2), row(3))
    mine = m.pending("x")
    gone = m.do(m.store.remove("id:2"))
    assert gone.kind == "remove" and gone.indices == (1,)
    m.do(m.store.remove(mine.key))
    assert m.ids() == [1, 3]
    assert m.store.by_id(2) is None
    with pytest.raises(KeyError):
        m.store.remove("id:2")
    assert m.rows(row(2)).kind == "insert"  # it can come back


def test_reset_replaces_the_history_and_keeps_unconfirmed_sends(m: Mirror) -> None:
    m.rows(row(1), row(2))
    mine = m.pending("mine")
    change = m.do(m.store.reset([row(8), row(7), {"id": "bad"}]))
    assert change.kind == "reset"
    assert change.messages == m.store.messages
    assert m.ids() == [7, 8, None]
    assert m.store.by_id(1) is None
    m.do(m.store.confirm(mine.key, row(9, "mine")))
    assert m.ids() == [7, 8, 9]


def test_reset_to_nothing_is_still_a_change(m: Mirror) -> None:
    m.rows(row(1))
    change = m.do(m.store.reset())
    assert change.kind == "reset" and not change.is_empty
    assert m.store.messages == ()


# -- a longer mixed run -----------------------------------------------------------


def test_a_long_interleaved_run_stays_consistent(m: Mirror) -> None:
    """Events, replies, pages, failures and retries in a messy order."""
    m.rows(*[row(i) for i in range(40, 20, -1)])
    sends = [m.pending(f"send {n}") for n in range(5)]
    m.rows(row(41, user=GRACE), row(42, user=None))
    m.do(m.store.confirm(sends[1].key, row(44, "send 1", user="u-ada")))
    m.rows(row(43, "send 0"))
    m.do(m.store.fail(sends[2].key, "Forbidden"))
    m.rows(*[row(i) for i in range(20, 0, -1)])
    m.do(m.store.confirm(sends[0].key, row(43, "send 0", user="u-ada")))
    m.rows(row(44, "send 1"))
    m.do(m.store.retrying(sends[2].key))
    m.do(m.store.confirm(sends[3].key, row(45, "send 3")))
    m.do(m.store.confirm(sends[2].key, row(46, "send 2")))
    m.rows(row(47, "send 4", user=None))
    m.do(m.store.confirm(sends[4].key, row(47, "send 4", user="u-ada")))
    assert m.ids() == list(range(1, 48))
    assert all(message.status is MessageStatus.SENT for message in m.store.messages)
    assert len({message.key for message in m.store.messages}) == 47


# -- cost ---------------------------------------------------------------------------


T = TypeVar("T")


def opcodes(call: Callable[[], T]) -> tuple[int, T]:
    """How many bytecode instructions ``call()`` runs, in every Python frame, and its result.

    A deterministic measure of work, not a time: a loop over the list written
    in Python shows up here. Work done inside one C call (copying a list,
    ``bisect``) counts as a single instruction, so this proves no Python-level
    pass over the list, not the absence of any O(n) C call.
    """
    count = 0

    def trace(frame: FrameType, event: str, _arg: Any) -> Any:
        nonlocal count
        frame.f_trace_opcodes = True
        if event == "opcode":
            count += 1
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        result = call()
    finally:
        sys.settrace(previous)
    return count, result


# One step at the end of a list of ``n`` sent messages followed by our pending
# send ``mine`` (the "on its way" one), and the kind of change it must make.
Step = Callable[[MessageStore, ChatMessage, int], StoreChange]
STEPS: dict[str, tuple[Step, str]] = {
    "new row": (lambda store, _mine, n: store.add_rows([row(n + 1, user=GRACE)]), "append"),
    "re-read row": (lambda store, _mine, n: store.add_rows([row(n, "edited")]), "update"),
    "own event": (lambda store, _mine, n: store.add_rows([row(n + 1, "on its way")]), "update"),
    "reply": (lambda store, mine, n: store.confirm(mine.key, row(n + 1, "on its way")), "update"),
    "pending": (lambda store, _mine, _n: store.add_pending("another", ADA), "append"),
}


def cost_at(history: int, step: Step) -> tuple[int, StoreChange]:
    """Instructions ``step`` runs on a store holding ids 1..history then one pending send."""
    store = MessageStore()
    store.add_rows([row(i) for i in range(1, history + 1)])
    mine = store.add_pending("on its way", ADA).messages[0]
    return opcodes(lambda: step(store, mine, history))


@pytest.mark.parametrize("name", list(STEPS))
def test_the_common_mutations_do_not_walk_the_list(name: str) -> None:
    """The work for one message at the end is the same with 10 or 2,000 before it."""
    step, kind = STEPS[name]
    (short, early), (long, late) = cost_at(10, step), cost_at(2000, step)
    # the step did its work (a no-op would cost the same both times too)
    assert early.kind == late.kind == kind and not early.is_empty and not late.is_empty
    assert long == short, f"{short} instructions with 10 messages, {long} with 2,000"


def test_deleted_rows_leave_the_list(m: Mirror) -> None:
    m.rows(row(1), row(2), row(3), row(4))
    change = m.do(m.store.remove_ids([4, 2, 77]))
    assert change.kind == "remove" and change.indices == (1, 3)
    assert [message.id for message in change.messages] == [2, 4]
    assert m.store.ids == [1, 3]
    assert m.store.remove_ids([77]).is_empty
