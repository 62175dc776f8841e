"""Editing and deleting one's own messages: the store and ChatRoom, pure and against Directus.

Pure tests use test_chat's in-process FakeSession, given ``update``/``delete``
that follow the chat-user policy (own rows only, else FORBIDDEN); orderings
are forced with asyncio events, never sleeps. The integration tests at the end
use two real sessions (Ada and Grace) on the shared local Directus.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from test_chat import ADA, GRACE, FakeSession, Recorder, ada_and_grace, wait_for, with_content
from test_store import Mirror, row

from directus_chat_widget.chat import ChatRoom
from directus_chat_widget.errors import Forbidden, RequestTimeout
from directus_chat_widget.store import MessageStatus

__all__ = ["ada_and_grace"]  # a fixture, shared with test_chat

EDITED_AT = "2026-11-29T04:00:00.000Z"

# -- the store -------------------------------------------------------------------------


def test_a_row_with_date_updated_is_edited_and_own_follows_the_author() -> None:
    ui = Mirror()
    ui.store.own_id = ADA["id"]
    ui.do(ui.store.add_rows([row(1), row(2, user=GRACE)]))
    mine, theirs = ui.store.messages
    assert mine.own and not theirs.own
    assert not mine.edited and mine.edited_at is None
    ui.do(ui.store.add_rows([{**row(1, "changed"), "date_updated": EDITED_AT}]))
    assert ui.store.messages[0].edited and ui.store.messages[0].content == "changed"
    # A later row without date_updated (an older read) does not undo the edit.
    ui.do(ui.store.add_rows([row(1, "changed")]))
    assert ui.store.messages[0].edited


def test_an_edit_on_its_way_shows_at_once_and_survives_rows_arriving_meanwhile() -> None:
    ui = Mirror()
    ui.store.own_id = ADA["id"]
    ui.do(ui.store.add_rows([row(1, "old"), row(2)]))
    key = ui.store.messages[0].key
    change = ui.do(ui.store.start_saving(key, "edit", "new"))
    assert change.kind == "update" and change.indices == (0,)
    assert (ui.store.get(key).content, ui.store.get(key).saving) == ("new", "edit")  # type: ignore[union-attr]
    # A replay of the old row does not hide the edit being saved.
    assert ui.do(ui.store.add_rows([row(1, "old")])).is_empty
    with pytest.raises(ValueError, match="still on its way"):
        ui.store.start_saving(key, "delete")
    stored = {**row(1, "new"), "date_updated": EDITED_AT}
    ui.do(ui.store.end_saving(key, stored))
    done = ui.store.get(key)
    assert done is not None and done.saving is None and done.content == "new" and done.edited


def test_a_failed_edit_shows_what_the_server_has_even_if_it_changed_meanwhile() -> None:
    ui = Mirror()
    ui.store.own_id = ADA["id"]
    ui.do(ui.store.add_rows([row(1, "old")]))
    key = ui.store.messages[0].key
    ui.do(ui.store.start_saving(key, "edit", "mine"))
    # Another tab of the same user edited it meanwhile: that is what the server has.
    ui.do(ui.store.add_rows([{**row(1, "from the other tab"), "date_updated": EDITED_AT}]))
    assert ui.store.get(key).content == "mine"  # type: ignore[union-attr]
    ui.do(ui.store.end_saving(key))
    back = ui.store.get(key)
    assert back is not None and back.content == "from the other tab" and back.saving is None


def test_a_delete_on_its_way_then_its_event_removes_it_once() -> None:
    ui = Mirror()
    ui.store.own_id = ADA["id"]
    ui.do(ui.store.add_rows([row(1), row(2), row(3)]))
    key = ui.store.messages[1].key
    ui.do(ui.store.start_saving(key, "delete"))
    assert ui.store.get(key).saving == "delete"  # type: ignore[union-attr]
    assert ui.do(ui.store.remove_ids([2])).indices == (1,)
    assert ui.store.remove_ids([2]).is_empty  # the reply after the event: nothing more
    assert ui.store.end_saving(key).is_empty  # and nothing comes back
    assert [m.id for m in ui.store.messages] == [1, 3]


def test_only_a_sent_message_can_be_changed() -> None:
    store = Mirror().store
    key = store.add_pending("hello", ADA).messages[0].key
    assert store.get(key).own  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="only a sent message"):
        store.start_saving(key, "edit", "x")


# -- the room, over a fake session -----------------------------------------------------


class EditingSession(FakeSession):
    """FakeSession plus update/delete as the chat-user policy allows them."""

    def __init__(self, user: dict[str, Any] | None = ADA) -> None:
        super().__init__(user)
        self.gate: asyncio.Event | None = None  # hold the next update/delete until set
        self.fail_with: BaseException | None = None

    def _mine(self, key: Any) -> dict[str, Any]:
        stored = next((r for r in self.rows if r["id"] == key), None)
        if stored is None or self.user is None or stored["user_created"] != self.user["id"]:
            raise Forbidden("You don't have permission to access this.", code="FORBIDDEN")
        return stored

    async def _hold(self) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_with is not None:
            raise self.fail_with

    async def update(self, key: Any, data: Any, *, collection: str | None = None) -> Any:
        self.calls.append(("update", (key, dict(data))))
        await self._hold()
        stored = self._mine(key)
        stored.update(content=data["content"], date_updated=EDITED_AT)
        for subscription in self.subscriptions:
            subscription.deliver("update", [self.shown(stored)], (key,))
        return dict(stored)

    async def delete(self, key: Any, *, collection: str | None = None) -> None:
        self.calls.append(("delete", key))
        await self._hold()
        self.rows.remove(self._mine(key))
        for subscription in self.subscriptions:
            subscription.deliver("delete", [], (key,))


@pytest.fixture
async def opened() -> tuple[EditingSession, ChatRoom, Recorder]:
    session = EditingSession()
    session.store("Grace's", GRACE)
    session.store("Ada's", ADA)
    room = ChatRoom(session)
    ui = Recorder(room)
    await room.open()
    return session, room, ui


async def test_edit_shows_pending_then_edited_and_delete_removes(
    opened: tuple[EditingSession, ChatRoom, Recorder],
) -> None:
    session, room, ui = opened
    key = room.messages[1].key
    session.gate = asyncio.Event()
    editing = asyncio.create_task(room.edit(key, "  Ada's, edited  "))
    await wait_for(room, lambda: room.messages[1].saving == "edit")
    assert room.messages[1].content == "Ada's, edited" and not room.messages[1].edited
    session.gate.set()
    done = await editing
    assert done.content == "Ada's, edited" and done.edited and done.saving is None
    assert session.rows[1]["content"] == "Ada's, edited"
    session.gate = None
    await room.delete(key)
    assert [m.content for m in room.messages] == ["Grace's"]
    assert room.get(key) is None
    ui.check()


async def test_someone_elses_message_is_refused_before_any_request(
    opened: tuple[EditingSession, ChatRoom, Recorder],
) -> None:
    session, room, ui = opened
    theirs = room.messages[0]
    before = len(session.calls)
    with pytest.raises(Forbidden, match="only your own messages; this one is Grace Hopper's"):
        await room.edit(theirs.key, "mine now")
    with pytest.raises(Forbidden, match="only your own"):
        await room.delete(theirs.key)
    assert session.calls[before:] == [] and room.messages[0] == theirs
    ui.check()


@pytest.mark.parametrize("text", ["", "   \n "])
async def test_an_empty_edit_is_refused_and_nothing_changes(
    opened: tuple[EditingSession, ChatRoom, Recorder], text: str
) -> None:
    session, room, ui = opened
    before = (room.messages, len(session.calls))
    with pytest.raises(ValueError, match="empty"):
        await room.edit(room.messages[1].key, text)
    with pytest.raises(ValueError, match="too long"):
        await room.edit(room.messages[1].key, "x" * (room.max_length + 1))
    assert (room.messages, len(session.calls)) == before
    ui.check()


async def test_a_refused_or_failed_change_keeps_the_message_and_says_why(
    opened: tuple[EditingSession, ChatRoom, Recorder],
) -> None:
    session, room, ui = opened
    mine = room.messages[1]
    # The local check passes (the store thinks it is Ada's); the server says no.
    session.rows[1]["user_created"] = GRACE["id"]
    with pytest.raises(Forbidden, match="the server refused to edit message 2"):
        await room.edit(mine.key, "edited")
    with pytest.raises(Forbidden, match="the server refused to delete message 2"):
        await room.delete(mine.key)
    assert room.messages[1] == mine
    session.rows[1]["user_created"] = ADA["id"]
    session.fail_with = RequestTimeout("no reply")
    with pytest.raises(RequestTimeout):
        await room.edit(mine.key, "edited")
    assert room.messages[1] == mine
    ui.check()


async def test_pending_messages_and_unchanged_text_make_no_request(
    opened: tuple[EditingSession, ChatRoom, Recorder],
) -> None:
    session, room, ui = opened
    mine = room.messages[1]
    before = len(session.calls)
    assert await room.edit(mine.key, f" {mine.content} ") == mine
    session.create_gate = asyncio.Event()
    sending = asyncio.create_task(room.send("on its way"))
    await wait_for(room, lambda: room.messages[-1].status is MessageStatus.PENDING)
    with pytest.raises(ValueError, match="only a sent message"):
        await room.edit(room.messages[-1].key, "changed")
    with pytest.raises(KeyError):
        await room.delete("id:999")
    session.create_gate.set()
    await sending
    assert [call for call, _ in session.calls[before:]] == ["create"]
    ui.check()


# -- integration: Ada and Grace on the shared local Directus ----------------------------


@pytest.mark.integration
async def test_real_ada_edits_and_deletes_her_own_and_grace_sees_it_live(
    ada_and_grace: tuple[Any, Any],
) -> None:
    ada, grace = ada_and_grace
    tag = f"edit-{uuid.uuid4().hex[:8]}"
    async with ChatRoom(ada) as mine, ChatRoom(grace) as theirs:
        sent = await mine.send(f"{tag} first")
        await wait_for(theirs, lambda: bool(with_content(theirs, f"{tag} first")))
        (seen,) = with_content(theirs, f"{tag} first")
        assert not seen.own and not seen.edited and mine.get(sent.key).own  # type: ignore[union-attr]
        edited = await mine.edit(sent.key, f"{tag} second")
        assert edited.edited and edited.content == f"{tag} second" and edited.saving is None
        await wait_for(theirs, lambda: theirs.get(seen.key).content == f"{tag} second")  # type: ignore[union-attr]
        assert theirs.get(seen.key).edited  # type: ignore[union-attr]
        await mine.delete(sent.key)
        assert mine.get(sent.key) is None
        await wait_for(theirs, lambda: theirs.get(seen.key) is None)
        assert not [m for m in (*mine.messages, *theirs.messages) if tag in m.content]


@pytest.mark.integration
async def test_real_grace_cannot_edit_or_delete_adas_message(
    ada_and_grace: tuple[Any, Any],
) -> None:
    ada, grace = ada_and_grace
    tag = f"edit-{uuid.uuid4().hex[:8]}"
    async with ChatRoom(ada) as mine, ChatRoom(grace) as theirs:
        sent = await mine.send(f"{tag} Ada's")
        await wait_for(theirs, lambda: bool(with_content(theirs, f"{tag} Ada's")))
        (adas,) = with_content(theirs, f"{tag} Ada's")
        with pytest.raises(Forbidden, match="only your own messages"):
            await theirs.edit(adas.key, "Grace was here")
        with pytest.raises(Forbidden, match="only your own messages"):
            await theirs.delete(adas.key)
        # The server enforces it too: Grace's room, fooled into taking Ada's
        # messages for hers, is refused by Directus and keeps the message as is.
        theirs._store.own_id = adas.author_id
        theirs._emit(theirs._store.add_rows([{"id": adas.id, "content": adas.content}]))
        fooled = theirs.get(adas.key)
        assert fooled is not None and fooled.own
        with pytest.raises(Forbidden, match="the server refused to edit"):
            await theirs.edit(adas.key, "Grace was here")
        assert theirs.get(adas.key) == fooled
        with pytest.raises(Forbidden, match="the server refused to delete"):
            await theirs.delete(adas.key)
        assert theirs.get(adas.key) == fooled
        stored = await grace.read("messages", {"filter": {"id": {"_eq": sent.id}}})
        assert [row["content"] for row in stored] == [f"{tag} Ada's"]


@pytest.mark.integration
async def test_real_an_empty_edit_is_refused_before_sending(
    ada_and_grace: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ada, _ = ada_and_grace
    tag = f"edit-{uuid.uuid4().hex[:8]}"
    async with ChatRoom(ada) as mine:
        sent = await mine.send(f"{tag} kept")
        updates: list[Any] = []
        real_update = ada.update

        async def counted(*args: Any, **kwargs: Any) -> Any:
            updates.append(args)
            return await real_update(*args, **kwargs)

        monkeypatch.setattr(ada, "update", counted)
        with pytest.raises(ValueError, match="message is empty"):
            await mine.edit(sent.key, " \n\t ")
        assert updates == [] and mine.get(sent.key).content == f"{tag} kept"  # type: ignore[union-attr]
        stored = await ada.read("messages", {"filter": {"id": {"_eq": sent.id}}})
        assert [row["content"] for row in stored] == [f"{tag} kept"]
