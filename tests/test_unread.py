"""Read positions and unread counts on a real Directus: own rows only, sparse writes, live counts.

Every test works in rooms of its own (the shared server's ``general`` holds
other tests' messages).
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from support import TIMEOUT
from test_rooms import room_name
from test_session import SessionFactory, login, marker, wait_until

from directus_chat_widget.chat import create_room
from directus_chat_widget.chat.members import load_members
from directus_chat_widget.chat.mentions import Directory
from directus_chat_widget.chat.reads import READS, ReadPositions, slot_of
from directus_chat_widget.chat.unread import Mentioned, UnreadRooms
from directus_chat_widget.errors import Forbidden
from directus_chat_widget.local import DemoUser, LocalDirectus

pytestmark = pytest.mark.integration
__all__ = ["login"]  # a fixture, imported for these tests


async def test_each_user_reads_and_writes_only_their_own_read_positions(
    login: SessionFactory, demo_users: list[DemoUser], directus: LocalDirectus
) -> None:
    ada, grace = await login(demo_users[0]), await login(demo_users[1])
    room = await create_room(ada, room_name())
    sent = await grace.create({"content": f"{marker()}read me", "room": room.id})
    mine = ReadPositions(ada)
    await mine.load()
    assert mine.advance(room.id, sent["id"])
    await mine.flush()
    assert mine.writes == 1 and mine.pending == {}
    slot = slot_of(ada.user["id"], room.id)  # type: ignore[index]
    (row,) = await ada.read(READS, {"filter": {"slot": {"_eq": slot}}, "fields": ["id", "room"]})

    # Grace sees none of Ada's rows, and the server refuses every change to them.
    assert await grace.read(READS, {"filter": {"slot": {"_eq": slot}}}) == []
    assert all(r["slot"].startswith(grace.user["id"]) for r in await grace.read(READS))  # type: ignore[index]
    with pytest.raises(Forbidden):
        await grace.update(row["id"], {"last_read": 0}, collection=READS)
    with pytest.raises(Forbidden):
        await grace.delete(row["id"], collection=READS)
    # Nor may she take Ada's slot in a room Ada never read (checked by the create rule).
    taken = {"slot": slot_of(ada.user["id"], room.id + 10_000), "room": room.id, "last_read": 1}  # type: ignore[index]
    async with httpx.AsyncClient(base_url=directus.url, timeout=TIMEOUT) as http:
        answer = await http.post(
            "/auth/login", json={"email": demo_users[1].email, "password": demo_users[1].password}
        )
        token = answer.json()["data"]["access_token"]
        refused = await http.post(
            f"/items/{READS}", json=taken, headers={"Authorization": f"Bearer {token}"}
        )
    assert refused.status_code == 400, refused.text
    assert refused.json()["errors"][0]["extensions"]["code"] == "FAILED_VALIDATION"
    # Ada herself may move her position, never her slot or room.
    with pytest.raises(Forbidden):
        await ada.update(row["id"], {"slot": slot_of(ada.user["id"], 1)}, collection=READS)  # type: ignore[index]
    with pytest.raises(Forbidden):
        await ada.update(row["id"], {"room": 1}, collection=READS)
    again = ReadPositions(ada)
    assert (await again.load())[room.id] == sent["id"]


async def test_a_position_is_kept_for_the_next_session_and_moves_only_forward(
    login: SessionFactory, demo_users: list[DemoUser]
) -> None:
    ada = await login(demo_users[0])
    room = await create_room(ada, room_name())
    one, two = ReadPositions(ada), ReadPositions(await login(demo_users[0]))
    await one.load()
    await two.load()
    # Two views of one user each write their first position: one row, the furthest wins.
    one.advance(room.id, 50)
    two.advance(room.id, 40)
    await asyncio.gather(one.flush(), two.flush())
    rows = await ada.read(READS, {"filter": {"room": {"_eq": room.id}}, "fields": ["last_read"]})
    assert rows == [{"last_read": 50}]
    assert not two.advance(room.id, 45)  # it learnt 50 from the row it found
    assert not one.advance(room.id, 10)
    third = ReadPositions(await login(demo_users[0]))
    assert (await third.load())[room.id] == 50


async def test_positions_are_written_once_per_quiet_spell_not_per_message(
    login: SessionFactory, demo_users: list[DemoUser]
) -> None:
    ada = await login(demo_users[0])
    room = await create_room(ada, room_name())
    positions = ReadPositions(ada, quiet=0.2, most=1.0)
    await positions.load()
    for message_id in range(1, 101):  # 100 messages seen one after another
        positions.advance(room.id, message_id)
    assert positions.writes == 0  # nothing written per message
    await wait_until(lambda: positions.writes == 1, "one write after the quiet spell")
    assert positions.pending == {}
    positions.advance(room.id, 101)
    await positions.close()  # what is pending goes before the end
    assert positions.writes == 2
    assert not positions.advance(room.id, 102)  # closed
    stored = ReadPositions(ada)
    assert (await stored.load())[room.id] == 101


async def test_unread_counts_and_mentions_per_room_live_and_after_a_reload(
    login: SessionFactory, demo_users: list[DemoUser]
) -> None:
    ada, grace = await login(demo_users[0]), await login(demo_users[1])
    directory = Directory(await load_members(ada))
    a, b = await create_room(grace, room_name()), await create_room(grace, room_name())
    tag = marker()
    await grace.create({"content": f"{tag}a0", "room": a.id})
    last_a = await grace.create({"content": f"{tag}a1 @Ada Lovelace", "room": a.id})
    await ada.create({"content": f"{tag}a2, mine: never unread to me", "room": a.id})
    positions = ReadPositions(ada)
    await positions.load()
    unread = UnreadRooms(ada, positions, lambda: directory)
    told: list[Mentioned] = []
    unread.on_mention(told.append)
    await unread.open()
    try:
        # Rooms never read count whole; Ada's own message never counts.
        assert (unread.counts.get(a.id), unread.counts.get(b.id)) == (2, None)
        assert unread.mentions.get(a.id) == 1
        # Live, in another room: counted, and a mention told once (code is no mention).
        await grace.create({"content": f"{tag}b0 `@Ada` in code", "room": b.id})
        await grace.create({"content": f"{tag}b1 thanks @ada!", "room": b.id})
        await wait_until(lambda: unread.counts.get(b.id) == 2, "b's two messages")
        assert unread.mentions.get(b.id) == 1
        assert [(m.room, m.author, m.content) for m in told] == [
            (b.id, "Grace Hopper", f"{tag}b1 thanks @ada!")
        ]
        unread.read_to(a.id, last_a["id"])
        assert a.id not in unread.counts and a.id not in unread.mentions
        await positions.flush()
    finally:
        await unread.close()
    # A reload: a fresh session knows where Ada stopped reading.
    later = await login(demo_users[0])
    kept = ReadPositions(later)
    await kept.load()
    again = UnreadRooms(later, kept, lambda: directory)
    await again.open()
    try:
        assert (again.counts.get(a.id), again.counts.get(b.id)) == (None, 2)
        assert (again.mentions.get(a.id), again.mentions.get(b.id)) == (None, 1)
    finally:
        await again.close()


def test_the_permission_table_names_the_read_positions(directus: LocalDirectus) -> None:
    with httpx.Client(base_url=directus.url, timeout=TIMEOUT) as http:
        token = http.post(
            "/auth/login", json={"email": directus.admin_email, "password": directus.admin_password}
        ).json()["data"]["access_token"]
        rows = http.get(
            "/permissions",
            params={
                "filter[collection][_eq]": READS,
                "fields": "action,fields,validation,permissions",
            },
            headers={"Authorization": f"Bearer {token}"},
        ).json()["data"]
    held = {(r["action"], ",".join(sorted(r["fields"] or []))): r for r in rows}
    assert set(held) == {
        ("read", "client_uid,id,last_read,room,slot"),
        ("create", "client_uid,last_read,room,slot"),
        ("update", "last_read"),
    }
    own = {"user_created": {"_eq": "$CURRENT_USER"}}
    assert held[("read", "client_uid,id,last_read,room,slot")]["permissions"] == own
    assert held[("update", "last_read")]["permissions"] == own
    create = held[("create", "client_uid,last_read,room,slot")]
    assert create["validation"] == {"slot": {"_starts_with": "$CURRENT_USER"}}
