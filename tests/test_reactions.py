"""Reactions and replies: the pure parts, then ChatRoom against a real Directus.

Two users (Ada and Grace) in rooms of their own on the shared server; the
permission tests go around the kit (a raw session, plain REST) to show the
server itself refuses; the gap test kills a private server with a relay in
front, as test_rooms does.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from support import TIMEOUT, MakeDirectus
from test_rooms import room_name
from test_session import SessionFactory, login, marker, wait_until
from test_session_edges import Relay, relayed
from test_session_faults import FAST, admin_request

from directus_chat_widget.chat import ChatRoom, check_emoji, create_room
from directus_chat_widget.chat.reactions import ReactionBook, reaction_key
from directus_chat_widget.chat.replies import snippet
from directus_chat_widget.config import ChatConfig
from directus_chat_widget.errors import Forbidden
from directus_chat_widget.local import DemoUser, LocalDirectus
from directus_chat_widget.session import RealtimeSession, SessionState

__all__ = ["login"]  # a fixture, imported for these tests

ONE_EMOJI = ["👍", "❤️", "❤", "🇫🇷", "1️⃣", "#️⃣", "👍🏽", "👩‍👩‍👧", "🏳️‍🌈", "🏴󠁧󠁢󠁥󠁮󠁧󠁿", " 🎉 "]
NOT_ONE = ["", "  ", "ok", ":)", "👍👍", "👍 ok", "a👍", "1", "🇫", "\u200d", "👍" * 20]

# -- pure --------------------------------------------------------------------------------


@pytest.mark.parametrize("emoji", ONE_EMOJI)
def test_one_emoji_is_a_reaction(emoji: str) -> None:
    assert check_emoji(emoji) == emoji.strip()


@pytest.mark.parametrize("text", NOT_ONE)
def test_anything_but_one_emoji_is_refused_clearly(text: str) -> None:
    with pytest.raises(ValueError, match="emoji"):
        check_emoji(text)


def _row(row_id: int, message: int, emoji: str, user: str, **extra: Any) -> dict[str, Any]:
    row = {"id": row_id, "message": message, "emoji": emoji}
    row["reaction_key"] = reaction_key(message, emoji, user)
    row["user_created"] = {"id": user, "first_name": user.title()}
    return {**row, **extra}


def test_the_book_counts_each_user_once_and_skips_rows_that_lie() -> None:
    book = ReactionBook()
    assert book.add_rows([_row(1, 7, "👍", "ada"), _row(2, 7, "👍", "grace")]) == {7}
    assert book.add_rows([_row(3, 7, "🎉", "ada"), _row(4, 8, "👍", "ada")]) == {7, 8}
    # A key made for another message, and a non-emoji: not reactions.
    assert book.add_rows([_row(5, 7, "👍", "ada", reaction_key="8:👍:ada")]) == set()
    assert book.add_rows([_row(6, 7, "ok", "ada")]) == set()
    summary = book.summary(7, "ada")
    assert [(r.emoji, r.count, r.names, r.mine) for r in summary] == [
        ("👍", 2, ("Ada", "Grace"), True),
        ("🎉", 1, ("Ada",), True),
    ]
    assert book.summary(7, "grace")[1].mine is False
    assert book.remove_ids([1, 99]) == {7}
    assert book.summary(7, "ada")[0].names == ("Grace",)
    book.forget_messages([7])
    assert book.summary(7, "ada") == () and book.ids == [4]


def test_a_snippet_is_one_line_and_short() -> None:
    assert snippet("a\n\n b  c") == "a b c"
    assert snippet("x" * 150) == "x" * 99 + "…"


# -- against Directus ---------------------------------------------------------------------


async def _rest_token(server: LocalDirectus, user: DemoUser) -> str:
    async with httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT) as client:
        reply = await client.post(
            "/auth/login", json={"email": user.email, "password": user.password}
        )
        token: str = reply.json()["data"]["access_token"]
        return token


async def _stored(server: LocalDirectus, message_id: int) -> list[dict[str, Any]]:
    """The reaction rows on ``message_id``, as the admin reads them."""
    query = (
        f"/items/reactions?fields=id,emoji,user_created&sort=id&filter[message][_eq]={message_id}"
    )
    rows: list[dict[str, Any]] = await admin_request(server, "GET", query)
    return rows


def _shown(room: ChatRoom, key: str) -> list[tuple[str, int, tuple[str, ...], bool]]:
    return [(r.emoji, r.count, r.names, r.mine) for r in room.reactions.of(key)]


async def _two_rooms(
    login: SessionFactory, demo_users: list[DemoUser]
) -> tuple[RealtimeSession, RealtimeSession, str]:
    ada = await login(demo_users[0])
    grace = await login(demo_users[1])
    return ada, grace, (await create_room(ada, room_name())).name


@pytest.mark.integration
async def test_a_reaction_shows_live_in_both_views_and_toggles_off(
    login: SessionFactory, demo_users: list[DemoUser], directus: LocalDirectus
) -> None:
    ada, grace, name = await _two_rooms(login, demo_users)
    async with ChatRoom(ada, room=name) as mine, ChatRoom(grace, room=name) as theirs:
        sent = await theirs.send(f"{marker()}react to me")
        await wait_until(lambda: mine.get(f"id:{sent.id}") is not None, "Grace's message")
        key = f"id:{sent.id}"
        news: list[Any] = []
        theirs.reactions.on_change(news.append)
        assert _shown(mine, key) == []
        assert [r.emoji for r in await mine.reactions.toggle(key, "👍")] == ["👍"]
        assert _shown(mine, key) == [("👍", 1, ("Ada",), True)]
        await wait_until(lambda: bool(theirs.reactions.of(sent)), "Ada's reaction in Grace's view")
        assert _shown(theirs, sent.key) == [("👍", 1, ("Ada",), False)]
        assert news[-1] == ((sent.key, sent.id),)
        await theirs.reactions.add(sent.key, "👍")
        await wait_until(lambda: _shown(mine, key)[0][1] == 2, "Grace's reaction in Ada's view")
        assert _shown(mine, key) == [("👍", 2, ("Ada", "Grace"), True)]
        await mine.reactions.toggle(key, "👍")  # off again
        assert _shown(mine, key) == [("👍", 1, ("Grace",), False)]
        await wait_until(lambda: _shown(theirs, sent.key)[0][1] == 1, "the removal in Grace's")
        assert [row["emoji"] for row in await _stored(directus, sent.id)] == ["👍"]  # type: ignore[arg-type]


@pytest.mark.integration
async def test_a_double_click_in_two_views_stores_one_reaction(
    login: SessionFactory, demo_users: list[DemoUser], directus: LocalDirectus
) -> None:
    ada, _, name = await _two_rooms(login, demo_users)
    ada_again = await login(demo_users[0])  # Ada's second notebook
    async with ChatRoom(ada, room=name) as one, ChatRoom(ada_again, room=name) as two:
        sent = await one.send(f"{marker()}click twice")
        await wait_until(lambda: two.get(f"id:{sent.id}") is not None, "the message in view two")
        both = await asyncio.gather(
            one.reactions.add(sent.key, "🎉"), two.reactions.add(f"id:{sent.id}", "🎉")
        )
        assert [[(r.emoji, r.count) for r in each] for each in both] == [[("🎉", 1)]] * 2
        assert len(await _stored(directus, sent.id)) == 1  # type: ignore[arg-type]
        await one.reactions.add(sent.key, "🎉")  # already there: nothing sent, nothing added
        assert len(await _stored(directus, sent.id)) == 1  # type: ignore[arg-type]


@pytest.mark.integration
async def test_not_one_emoji_is_refused_before_any_request_and_nothing_is_lost(
    login: SessionFactory, demo_users: list[DemoUser], directus: LocalDirectus
) -> None:
    ada, _, name = await _two_rooms(login, demo_users)
    async with ChatRoom(ada, room=name) as room:
        sent = await room.send(f"{marker()}keep me")
        await room.reactions.add(sent.key, "👍")
        for bad in ("ok", "👍👍", ""):
            with pytest.raises(ValueError, match="emoji"):
                await room.reactions.toggle(sent.key, bad)
        assert _shown(room, sent.key) == [("👍", 1, ("Ada",), True)]
        assert [row["emoji"] for row in await _stored(directus, sent.id)] == ["👍"]  # type: ignore[arg-type]


@pytest.mark.integration
async def test_the_server_lets_a_user_take_back_only_their_own_reaction(
    login: SessionFactory, demo_users: list[DemoUser], directus: LocalDirectus
) -> None:
    ada, grace, name = await _two_rooms(login, demo_users)
    async with ChatRoom(ada, room=name) as room:
        sent = await room.send(f"{marker()}mine")
        await room.reactions.add(sent.key, "❤️")
    assert sent.id is not None
    (row,) = await _stored(directus, sent.id)
    # Around the kit: Grace's own session asks the server directly.
    with pytest.raises(Forbidden):
        await grace.delete(row["id"], collection="reactions")
    with pytest.raises(Forbidden):
        await grace.update(row["id"], {"emoji": "👎"}, collection="reactions")
    with pytest.raises(Forbidden):  # nobody updates a reaction, not even its author
        await ada.update(row["id"], {"emoji": "👎"}, collection="reactions")
    # A key that is not Grace's own, and a reaction that is not an emoji, over REST
    # (on the socket Directus 11.17.4 answers a failed validation with nothing at all).
    token = await _rest_token(directus, demo_users[1])
    async with httpx.AsyncClient(base_url=directus.url, timeout=TIMEOUT) as client:
        auth = {"Authorization": f"Bearer {token}"}
        for emoji, owner in (("❤️", ada.user["id"]), ("ok", grace.user["id"])):  # type: ignore[index]
            body = {"message": sent.id, "emoji": emoji}
            body["reaction_key"] = reaction_key(sent.id, emoji, owner)
            reply = await client.post("/items/reactions", json=body, headers=auth)
            assert reply.status_code == 400, reply.text
            assert reply.json()["errors"][0]["extensions"]["code"] == "FAILED_VALIDATION"
    assert await _stored(directus, sent.id) == [row]


@pytest.mark.integration
async def test_a_deleted_message_takes_its_reactions_and_its_replies_say_so(
    login: SessionFactory, demo_users: list[DemoUser], directus: LocalDirectus
) -> None:
    ada, grace, name = await _two_rooms(login, demo_users)
    async with ChatRoom(ada, room=name) as mine, ChatRoom(grace, room=name) as theirs:
        parent = await mine.send(f"{marker()}the question, on a line of its own\nand more")
        await wait_until(lambda: theirs.get(f"id:{parent.id}") is not None, "the question")
        await theirs.reactions.add(f"id:{parent.id}", "🤔")
        reply = await theirs.send("the answer", reply_to=f"id:{parent.id}")
        assert reply.reply_to == parent.id
        quote = theirs.replies.quote(reply)
        assert quote is not None and (quote.author, quote.gone) == ("Ada", False)
        assert quote.text == snippet(parent.content) and "\n" not in quote.text
        await wait_until(lambda: mine.get(f"id:{reply.id}") is not None, "the answer")
        told: list[tuple[str, ...]] = []
        theirs.replies.on_change(told.append)
        await mine.edit(parent.key, "the question, edited")
        await wait_until(lambda: bool(told), "the quote's news")
        assert theirs.replies.quote(reply).text == "the question, edited"  # type: ignore[union-attr]
        await mine.delete(parent.key)
        await wait_until(lambda: theirs.get(f"id:{parent.id}") is None, "the delete")
        gone = theirs.replies.quote(theirs.get(reply.key))  # type: ignore[arg-type]
        assert gone is not None and gone.gone and gone.text == ""
        assert theirs.reactions.of(f"id:{parent.id}") == ()
    assert await _stored(directus, parent.id) == []  # type: ignore[arg-type]
    # A view opened later still knows the answer's question was deleted.
    async with ChatRoom(ada, room=name) as later:
        answer = later.get(f"id:{reply.id}")
        assert answer is not None and answer.reply_to == parent.id
        await wait_until(lambda: not later.replies.quote(answer).loading, "the quote's read")  # type: ignore[union-attr]
        assert later.replies.quote(answer).gone  # type: ignore[union-attr]


@pytest.mark.integration
async def test_a_reply_to_a_message_not_loaded_quotes_it_and_reactions_come_with_pages(
    login: SessionFactory, demo_users: list[DemoUser]
) -> None:
    ada, grace, name = await _two_rooms(login, demo_users)
    tag = marker()
    async with ChatRoom(ada, room=name) as room:
        first = await room.send(f"{tag}long ago")
        await room.reactions.add(first.key, "👀")
        for n in range(4):
            await room.send(f"{tag}{n}")
        await room.send(f"{tag}back to that", reply_to=first.key)
        with pytest.raises(KeyError):
            await room.send("x", reply_to="id:0")
    async with ChatRoom(grace, room=name, page_size=2) as later:
        reply = later.messages[-1]
        assert later.get(f"id:{first.id}") is None  # older than the page
        await wait_until(lambda: not later.replies.quote(reply).loading, "the parent's read")  # type: ignore[union-attr]
        quote = later.replies.quote(reply)
        assert quote is not None and (quote.key, quote.author, quote.text) == (
            f"id:{first.id}",
            "Ada",
            f"{tag}long ago",
        )
        while later.get(f"id:{first.id}") is None:
            await later.load_older()
        assert _shown(later, f"id:{first.id}") == [("👀", 1, ("Ada",), False)]


class GraceOverRest:
    """Grace, writing over REST (her own token, renewed after a restart): around the socket."""

    def __init__(self, server: LocalDirectus, user: DemoUser) -> None:
        self.server, self.user = server, user
        self.client = httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT)
        self.auth: dict[str, str] = {}
        self.id = ""

    async def login(self) -> None:
        self.auth = {"Authorization": f"Bearer {await _rest_token(self.server, self.user)}"}
        self.id = (await self.client.get("/users/me", headers=self.auth)).json()["data"]["id"]

    async def post(self, collection: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = await self.client.post(f"/items/{collection}", json=body, headers=self.auth)
        assert reply.is_success, reply.text
        row: dict[str, Any] = reply.json()["data"]
        return row

    async def react(self, message: int, emoji: str) -> int:
        body = {"message": message, "emoji": emoji}
        body["reaction_key"] = reaction_key(message, emoji, self.id)
        return int((await self.post("reactions", body))["id"])

    async def unreact(self, row_id: int) -> None:
        reply = await self.client.delete(f"/items/reactions/{row_id}", headers=self.auth)
        assert reply.status_code == 204, reply.text


@pytest.mark.integration
async def test_reactions_made_and_taken_back_in_a_kill_gap_are_seen_once(
    make_directus: MakeDirectus, demo_users: list[DemoUser]
) -> None:
    server = make_directus()
    ada = demo_users[0]
    grace = GraceOverRest(server, demo_users[1])
    async with Relay(ChatConfig(server.url).websocket_url) as relay, grace.client:
        session = relayed(relay, server, reconnect_delays=FAST)
        try:
            await session.login(ada.email, ada.password)
            await grace.login()
            # Read with the first page, never delivered by the subscription.
            early = await grace.post("messages", {"content": f"{marker()}early"})
            early_reaction = await grace.react(early["id"], "👀")
            async with ChatRoom(session) as room:
                assert _shown(room, f"id:{early['id']}") == [("👀", 1, ("Grace",), False)]
                first = await room.send(f"{marker()}one")
                second = await room.send(f"{marker()}two")
                await room.reactions.add(first.key, "👍")
                live = await grace.react(first.id, "🙂")  # type: ignore[arg-type]
                await wait_until(lambda: len(room.reactions.of(first)) == 2, "Grace's 🙂")
                told: list[Any] = []
                room.reactions.on_change(told.append)
                relay.refuse = True
                await asyncio.to_thread(server.kill)
                await session.wait_for_state(SessionState.RECONNECTING, timeout=TIMEOUT)
                await asyncio.to_thread(server.start)
                await grace.login()
                await grace.unreact(live)
                await grace.unreact(early_reaction)
                await grace.react(second.id, "🎉")  # type: ignore[arg-type]
                relay.refuse = False
                await session.wait_for_state(SessionState.READY, timeout=3 * TIMEOUT)
                changed = lambda: sorted(key for change in told for key, _ in change)  # noqa: E731
                await wait_until(lambda: len(changed()) >= 3, "the gap's reactions")
                await asyncio.sleep(0.5)  # a second copy, if any, would have come by now
                assert _shown(room, first.key) == [("👍", 1, ("Ada",), True)]
                assert _shown(room, second.key) == [("🎉", 1, ("Grace",), False)]
                assert _shown(room, f"id:{early['id']}") == []
                assert changed() == sorted([first.key, second.key, f"id:{early['id']}"])
        finally:
            await session.close()
