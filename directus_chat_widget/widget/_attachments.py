"""Attachments for the browser: bytes in the comm's buffers, asked for by a view.

A view never fetches a file and never sees a file URL or a token. It asks::

    browser -> Python  {"type": "attachment", "view": id, "key": key, "want": "thumb"|"full"}
    Python -> browser  {"type": "attachment", "view": id, "key": key, "want": ...,
                        "image": bool, "mime": type, "error": text|null}  + buffers

``thumb`` is the list's small picture (one buffer; none when there is no
thumbnail to make, and the view then offers the image on a click); ``full``
is the whole image, or a file's bytes for a download. ``image`` is what the
kernel found the bytes to be (see ``_thumbs.look_at``), whatever was declared.

The kernel has the bytes from its own recent posts, else downloads them with
the session (see ``files.py``), at most one download per file at a time and
two at once in all, and keeps recent originals and thumbnails in small caches.
Looking at bytes and making thumbnails runs on a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ..chat.message import Attachment
from ..errors import DirectusError
from ._login import LoginFlow
from ._tasks import TaskKeeper
from ._thumbs import Looked, look_at, thumbnail
from .message_list import MessageList

__all__ = ["DOWNLOAD_FLOOR_BYTES", "AttachmentServer"]

logger = logging.getLogger(__name__)

# A file someone else posted may be over this kernel's own upload limit: read
# at most the larger of the two.
DOWNLOAD_FLOOR_BYTES = 20 * 1024 * 1024
_ORIGINALS_BYTES = 64 * 1024 * 1024
_THUMBS_BYTES = 16 * 1024 * 1024
_AT_ONCE = 2


class _Cache:
    """Recently used values by key, at most ``budget`` bytes of them."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._items: OrderedDict[str, Looked | None] = OrderedDict()
        self._bytes = 0

    def get(self, key: str) -> tuple[bool, Looked | None]:
        if key not in self._items:
            return False, None
        self._items.move_to_end(key)
        return True, self._items[key]

    def put(self, key: str, value: Looked | None) -> None:
        old = self._items.pop(key, None)
        self._bytes -= len(old.data) if old is not None else 0
        self._items[key] = value
        self._bytes += len(value.data) if value is not None else 0
        while self._bytes > self._budget and len(self._items) > 1:
            _, dropped = self._items.popitem(last=False)
            self._bytes -= len(dropped.data) if dropped is not None else 0


class AttachmentServer:
    """Answers a view's requests for an attachment's thumbnail, image or file.

    Args:
        login: where the open room and session come from.
        tasks: keeps the downloads.
        message_list: the list whose views ask.
        max_bytes: the upload limit now (a download may be larger: see above).
    """

    def __init__(
        self,
        login: LoginFlow,
        tasks: TaskKeeper,
        message_list: MessageList,
        max_bytes: Callable[[], int],
    ) -> None:
        self._login = login
        self._tasks = tasks
        self._list = message_list
        self._max_bytes = max_bytes
        self._originals = _Cache(_ORIGINALS_BYTES)
        self._thumbs = _Cache(_THUMBS_BYTES)
        self._fetching: dict[str, asyncio.Future[Looked]] = {}
        self._slots: asyncio.Semaphore | None = None
        message_list.handle("attachment", self._on_request)

    def _on_request(self, content: dict[str, Any], _buffers: list[Any]) -> None:
        view, key, want = content.get("view"), content.get("key"), content.get("want")
        if not (isinstance(view, str) and isinstance(key, str) and want in ("thumb", "full")):
            return
        message = self._list.get(key)
        attachment = message.attachment if message is not None else None
        reply = {"type": "attachment", "view": view, "key": key, "want": want}
        if attachment is None:
            self._list.send({**reply, "image": False, "mime": "", "error": "no such file"})
            return
        self._tasks.spawn(self._answer(reply, key, attachment), "showing an attachment")

    async def _answer(self, reply: dict[str, Any], key: str, attachment: Attachment) -> None:
        try:
            looked = await self._original(key, attachment)
            if reply["want"] == "thumb":
                shown = await self._thumbnail(key, attachment, looked)
            else:
                shown = looked
        except (DirectusError, RuntimeError, OSError) as exc:
            logger.info("attachment of %s not shown: %s", key, exc)
            self._list.send({**reply, "image": False, "mime": "", "error": _why(exc)})
            return
        buffers = [shown.data] if shown is not None else []
        mime = shown.mime if shown is not None else looked.mime
        self._list.send({**reply, "image": looked.image, "mime": mime, "error": None}, buffers)

    async def _thumbnail(self, key: str, attachment: Attachment, looked: Looked) -> Looked | None:
        name = attachment.id or key
        known, small = self._thumbs.get(name)
        if not known:
            small = await asyncio.to_thread(thumbnail, looked)
            self._thumbs.put(name, small)
        return small

    async def _original(self, key: str, attachment: Attachment) -> Looked:
        name = attachment.id or key
        known, looked = self._originals.get(name)
        if known and looked is not None:
            return looked
        running = self._fetching.get(name)
        if running is None:
            running = asyncio.ensure_future(self._fetch(key, attachment))
            self._fetching[name] = running
            running.add_done_callback(lambda _: self._fetching.pop(name, None))
        looked = await asyncio.shield(running)
        self._originals.put(name, looked)
        return looked

    async def _fetch(self, key: str, attachment: Attachment) -> Looked:
        if self._slots is None:  # made on the owner loop, where every request runs
            self._slots = asyncio.Semaphore(_AT_ONCE)
        async with self._slots:
            room = self._login.room
            local = room.files.local(key, attachment.id) if room is not None else None
            if local is not None:
                data = local.data
            else:
                session = self._login.session
                files = getattr(session, "files", None) if session is not None else None
                if files is None or attachment.id is None:
                    raise RuntimeError("the file is not on the server yet")
                limit = max(self._max_bytes(), DOWNLOAD_FLOOR_BYTES)
                data = await files.download(attachment.id, max_bytes=limit)
            return await asyncio.to_thread(look_at, data, attachment.mime)


def _why(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if getattr(exc, "code", None) == "FORBIDDEN":
        return "you may not see this file"
    return text if len(text) <= 200 else text[:199] + "…"
