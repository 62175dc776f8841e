"""post(obj) on a real Directus: each kind goes up, the other user gets it, refusals send nothing.

Ada posts with ``ChatRoom.post`` and ``ChatWidget.post``; Grace's room
receives each message with its file's name, type and size, and her session
downloads the very bytes. What a view would be sent (thumbnails, images,
files in the comm's buffers) is captured from the widget's message list.
A kind whose optional library is missing is skipped, saying which.
"""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pictures import noisy_png, png, svg
from support import TIMEOUT, MakeDirectus
from test_attachment_access import chat_folder
from test_widget_integration import until

from directus_chat_widget.chat import AttachmentRefused, ChatMessage, ChatRoom, MessageStatus
from directus_chat_widget.local import DemoUser, LocalDirectus
from directus_chat_widget.session import RealtimeSession
from directus_chat_widget.widget import ChatWidget

pytestmark = pytest.mark.integration

MB = 1024 * 1024


@pytest.fixture
async def rooms(
    directus: LocalDirectus, grace: RealtimeSession, demo_users: list[DemoUser]
) -> AsyncIterator[tuple[ChatRoom, ChatRoom]]:
    """Ada's room and Grace's, both open on the shared server's ``general``."""
    ada = RealtimeSession(directus.url)
    await ada.login(demo_users[0].email, demo_users[0].password)
    mine, theirs = ChatRoom(ada), ChatRoom(grace)
    await mine.open()
    await theirs.open()
    try:
        yield mine, theirs
    finally:
        await mine.close()
        await theirs.close()
        await ada.close()


async def arrived(room: ChatRoom, sent: ChatMessage) -> ChatMessage:
    """The message ``sent`` as ``room`` shows it, once its event is in."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            found = next((m for m in room.messages if m.id == sent.id), None)
            if found is not None:
                return found
            await asyncio.sleep(0.02)


def files_in_chat_folder(server: LocalDirectus, *, stored: bool = False) -> int:
    """How many files the chat folder holds (``stored``: only those with their bytes)."""
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as admin:
        token = admin.post(
            "/auth/login", json={"email": server.admin_email, "password": server.admin_password}
        ).json()["data"]["access_token"]
        found = admin.get(
            "/files",
            params={
                "filter[folder][_eq]": chat_folder(server),
                **({"filter[filesize][_gt]": "0"} if stored else {}),
                "aggregate[count]": "id",
            },
            headers={"Authorization": f"Bearer {token}"},
        )
    return int(found.json()["data"][0]["count"]["id"])


async def test_each_kind_goes_up_and_the_other_user_gets_the_same_bytes(
    rooms: tuple[ChatRoom, ChatRoom], grace: RealtimeSession, tmp_path: Path
) -> None:
    mine, theirs = rooms
    notes = tmp_path / "readings.csv"
    notes.write_bytes(b"depth,temp\n10,14.2\n20,13.9\n")

    class Chart:
        def _repr_svg_(self) -> str:
            return svg('<circle r="4" onclick="alert(1)"/><script>alert(2)</script>').decode()

    class Badge:
        def _repr_png_(self) -> bytes:
            return png(24, 12)

    cases: list[tuple[Any, dict[str, Any], str, str]] = [
        (png(120, 80), {"name": "chart.png", "text": "the chart"}, "the chart", "image/png"),
        (notes, {}, "readings.csv", "text/csv"),
        (Chart(), {}, "image.svg", "image/svg+xml"),
        (Badge(), {"name": "badge.png"}, "badge.png", "image/png"),
    ]
    for obj, options, content, mime in cases:
        sent = await mine.post(obj, **options)
        assert sent.status is MessageStatus.SENT, sent.error
        assert sent.content == content and sent.attachment is not None
        assert sent.attachment.id is not None and sent.attachment.mime == mime
        got = await arrived(theirs, sent)
        assert got.attachment is not None and got.attachment.id == sent.attachment.id
        assert (got.attachment.name, got.attachment.mime) == (sent.attachment.name, mime)
        data = await grace.files.download(got.attachment.id, max_bytes=MB)
        assert len(data) == got.attachment.size
        if isinstance(obj, Path):
            assert data == obj.read_bytes()
        if mime == "image/svg+xml":
            assert b"<circle" in data and b"alert" not in data and b"onclick" not in data
    first = await arrived(theirs, await mine.post(png(30, 20), name="size.png"))
    assert first.attachment is not None
    assert (first.attachment.width, first.attachment.height) == (30, 20)  # measured by Directus
    table = await mine.post("**plain** Markdown, no file")
    assert table.attachment is None and table.content == "**plain** Markdown, no file"


async def test_a_figure_posts_as_a_png(rooms: tuple[ChatRoom, ChatRoom]) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib (the plots extra)")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4, 3))
    figure.add_subplot().plot([0, 1, 2, 3], [1, 3, 2, 4])
    mine, theirs = rooms
    sent = await mine.post(figure, text="first look at the **readings**")
    got = await arrived(theirs, sent)
    assert got.content == "first look at the **readings**"
    assert got.attachment is not None and got.attachment.mime == "image/png"
    assert (got.attachment.width or 0) > 200


async def test_a_dataframe_posts_as_a_table(rooms: tuple[ChatRoom, ChatRoom]) -> None:
    pd = pytest.importorskip("pandas", reason="pandas (the tables extra)")
    frame = pd.DataFrame({"depth": range(0, 300, 10), "temp": [14.0 - i / 10 for i in range(30)]})
    mine, theirs = rooms
    got = await arrived(theirs, await mine.post(frame, text="the profile:"))
    assert got.attachment is None
    assert got.content.startswith("the profile:\n\n|  | depth | temp |")
    assert got.content.endswith("*30 rows by 2 columns (showing 10 of 30 rows, 2 of 2 columns)*")


async def test_refusals_send_nothing(
    rooms: tuple[ChatRoom, ChatRoom], directus: LocalDirectus, tmp_path: Path
) -> None:
    mine, _ = rooms
    big = tmp_path / "ocean-model.nc"
    with big.open("wb") as out:
        out.truncate(50 * MB)
    before, shown = files_in_chat_folder(directus), len(mine.messages)
    with pytest.raises(AttachmentRefused, match=r"ocean-model\.nc is 50\.0 MB.*10\.0 MB"):
        await mine.post(big)
    with pytest.raises(AttachmentRefused, match="not an image"):
        await mine.post(b"MZ\x90\x00 not a picture at all", name="holiday.jpg")
    with pytest.raises(AttachmentRefused, match=r"1\.0 MB"):
        await mine.post(noisy_png(700, 700), name="noise.png", max_bytes=MB)
    with pytest.raises(TypeError):
        await mine.post(object())
    assert files_in_chat_folder(directus) == before  # not a byte went up
    assert len(mine.messages) == shown  # and no message was even shown as pending


async def test_over_the_servers_own_limit_fails_clearly_then_retries_once_fixed(
    make_directus: MakeDirectus, demo_users: list[DemoUser]
) -> None:
    server = make_directus(FILES_MAX_UPLOAD_SIZE="2kb")
    session = RealtimeSession(server.url)
    await session.login(demo_users[0].email, demo_users[0].password)
    try:
        async with ChatRoom(session) as room:
            failed = await room.post(noisy_png(40, 40), name="noise.png")
            assert failed.status is MessageStatus.FAILED
            assert "large" in (failed.error or "").lower(), failed.error
            assert failed.attachment is not None and failed.attachment.id is None
            # Directus leaves the refused upload's row behind, empty: its clean-up runs
            # as the uploader, who may not delete files. Only the uploader can see it.
            assert files_in_chat_folder(server, stored=True) == 0
            room.files.max_bytes = 1  # the post's own limit does not apply to a retry
            kept = await room.retry(failed.key)  # still too large for the server
            assert kept.status is MessageStatus.FAILED
            room.discard(failed.key)
            small = await room.post(png(8, 8), name="small.png", max_bytes=MB)
            assert small.status is MessageStatus.SENT
    finally:
        await session.close()


async def test_the_widget_sends_views_thumbnails_images_and_files_as_buffers(
    directus: LocalDirectus,
    demo_users: list[DemoUser],
    grace: RealtimeSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chat = ChatWidget(directus.url)
    answers: list[tuple[dict[str, Any], list[bytes]]] = []

    def record(content: dict[str, Any], buffers: Any = None) -> None:
        if content.get("type") == "attachment":
            answers.append((content, [bytes(b) for b in buffers or []]))

    monkeypatch.setattr(chat.message_list, "send", record)
    await chat.login(demo_users[0].email, demo_users[0].password)
    try:
        photo = png(900, 600)
        mine = await chat.post(photo, name="reef.png")
        # Grace uploads around the kit: HTML declared a PNG, attached to a message.
        fake = await grace.files.upload("innocent.png", b"<script>alert(1)</script>", "image/png")
        theirs = await grace.create({"content": "innocent.png", "attachment": fake["id"]})
        await until(lambda: any(m.id == theirs["id"] for m in chat.messages), chat)
        other = next(m for m in chat.messages if m.id == theirs["id"])

        async def ask(key: str, want: str) -> tuple[dict[str, Any], list[bytes]]:
            count = len(answers)
            chat.message_list._on_frontend_msg(
                None, {"type": "attachment", "view": "v1", "key": key, "want": want}, []
            )
            async with asyncio.timeout(TIMEOUT):
                while len(answers) == count:
                    await asyncio.sleep(0.01)
            return answers[-1]

        full, data = await ask(mine.key, "full")
        assert (full["image"], full["mime"], full["error"]) == (True, "image/png", None)
        assert data == [photo]
        thumb, small = await ask(mine.key, "thumb")
        assert thumb["image"] is True and thumb["view"] == "v1" and len(small) == 1
        try:
            from PIL import Image
        except ImportError:
            assert small[0] == photo or len(photo) > 256 * 1024
        else:
            with Image.open(io.BytesIO(small[0])) as opened:
                assert max(opened.size) == 320
        for want in ("thumb", "full"):
            answer, data = await ask(other.key, want)
            assert answer["image"] is False and answer["mime"] == "application/octet-stream"
            assert data == ([b"<script>alert(1)</script>"] if want == "full" else [])
        missing, data = await ask(f"id:{uuid.uuid4().int % 10**9}", "full")
        assert missing["error"] == "no such file" and data == []
    finally:
        await chat.aclose()


async def test_a_bot_answers_slash_plot_with_an_image(
    directus: LocalDirectus, demo_users: list[DemoUser], rooms: tuple[ChatRoom, ChatRoom]
) -> None:
    """The README's bot pattern: an async on_message callback that replies with post()."""
    mine, _ = rooms
    bot = ChatWidget(directus.url)
    await bot.login(demo_users[1].email, demo_users[1].password)
    heard: list[str] = []

    async def answer(message: ChatMessage) -> None:
        heard.append(message.content)
        if message.content.strip() == "/plot":
            await bot.post(png(64, 48), name="plot.png", text=f"for {message.author_name}")
        elif message.content.strip() == "/fail":
            raise RuntimeError("the bot broke")

    bot.on_message(answer)
    try:
        await mine.send("/plot")
        async with asyncio.timeout(TIMEOUT):
            while not any(m.attachment and m.content == "for Ada Lovelace" for m in mine.messages):
                await asyncio.sleep(0.02)
        reply = next(m for m in mine.messages if m.content == "for Ada Lovelace")
        assert reply.attachment is not None and reply.attachment.name == "plot.png"
        await mine.send("/fail")  # a bot that raises is reported, and keeps listening
        async with asyncio.timeout(TIMEOUT):
            while "the bot broke" not in bot.last_error:
                await asyncio.sleep(0.02)
        await mine.send("/plot")
        async with asyncio.timeout(TIMEOUT):
            while sum(m.content == "for Ada Lovelace" for m in mine.messages) < 2:
                await asyncio.sleep(0.02)
        assert heard == ["/plot", "/fail", "/plot"]
    finally:
        await bot.aclose()
