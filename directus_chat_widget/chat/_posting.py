"""``ChatRoom.post``: a result from code (figure, table, image, file) as a message, and its file.

A post with a file shows at once as PENDING, like any send, with the file's
name, type and size; the upload (``POST /files``) and the message's create
then go out together, in that order, and a failure of either leaves the
message FAILED with Retry: a retry uploads only if the file never got up,
and the message's client uid keeps it stored once. The bytes are held in
the kernel until the message is stored; a few recent ones are kept after
(``RoomFiles.local``) so the sender's own views need not download them back.

What leaves the kernel is checked first (see :mod:`.attachments`), and
reading a file or checking a large image runs on a worker thread, so a 5 MB
image keeps the event loop free.
"""

from __future__ import annotations

import asyncio
import os
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from ._convert import Post, to_post
from .attachments import DEFAULT_MAX_ATTACHMENT_BYTES, Upload
from .message import ChatMessage

if TYPE_CHECKING:
    from .room import ChatRoom

__all__ = ["RoomFiles", "post"]

# Recent uploads kept for the sender's own views: at most this many bytes.
_RECENT_BYTES = 32 * 1024 * 1024


class RoomFiles:
    """The files of one room's sends, from the post until their message is stored.

    Attributes:
        max_bytes: the largest file :meth:`ChatRoom.post` sends (a setting).
    """

    def __init__(self, session: Any) -> None:
        self._session = session
        self.max_bytes = DEFAULT_MAX_ATTACHMENT_BYTES
        self._held: dict[str, Upload] = {}  # by message key, until stored
        self._ids: dict[str, str] = {}  # message key -> file id, once uploaded
        self._recent: OrderedDict[str, Upload] = OrderedDict()  # by file id

    def hold(self, key: str, upload: Upload) -> None:
        """Keep ``upload`` for the message ``key`` until it is stored (or discarded)."""
        self._held[key] = upload

    def local(self, key: str, file_id: str | None) -> Upload | None:
        """The bytes this kernel holds for message ``key`` or file ``file_id``, if any."""
        held = self._held.get(key)
        if held is not None:
            return held
        return self._recent.get(file_id) if file_id is not None else None

    async def fields_for(self, key: str) -> dict[str, Any]:
        """What the message ``key`` sends besides its text: its file's id, uploaded now if need be.

        Raises:
            RuntimeError: the session cannot upload files.
            DirectusError: the upload failed (the file stays held for a retry).
        """
        upload = self._held.get(key)
        if upload is None:
            return {}
        file_id = self._ids.get(key)
        if file_id is None:
            files = getattr(self._session, "files", None)
            if files is None:
                raise RuntimeError("this session cannot upload files")
            row = await files.upload(upload.name, upload.data, upload.mime)
            file_id = self._ids[key] = str(row["id"])
        return {"attachment": file_id}

    def stored(self, key: str) -> None:
        """The message ``key`` is stored: its file is no longer held, only kept as recent."""
        upload = self._held.pop(key, None)
        file_id = self._ids.pop(key, None)
        if upload is None or file_id is None:
            return
        self._recent[file_id] = upload
        while sum(each.size for each in self._recent.values()) > _RECENT_BYTES:
            self._recent.popitem(last=False)

    def forget(self, key: str) -> None:
        """Drop what is held for ``key`` (its message was discarded)."""
        self._held.pop(key, None)
        self._ids.pop(key, None)


async def _convert(obj: Any, name: str | None, max_bytes: int) -> Post:
    if isinstance(obj, (bytes, bytearray, memoryview, os.PathLike)):
        # Reading and checking a file (several MB, Pillow's verify) off the loop.
        return await asyncio.to_thread(to_post, obj, name=name, max_bytes=max_bytes)
    # Figures and reprs run the caller's objects: on the caller's thread, as Jupyter does.
    return to_post(obj, name=name, max_bytes=max_bytes)


async def post(
    self: ChatRoom,
    obj: Any,
    *,
    text: str | None = None,
    name: str | None = None,
    max_bytes: int | None = None,
) -> ChatMessage:
    """Send ``obj`` (a figure, a table, an image, a file, Markdown) as a message.

    What each kind becomes is listed in :mod:`._convert`: a ``str`` is text,
    a ``pathlib.Path`` a file, a matplotlib figure a PNG, a pandas DataFrame
    a table of its first rows, else ``_repr_png_``, ``_repr_svg_`` (sanitized)
    or ``_repr_markdown_``.

    Args:
        obj: what to send.
        text: the message's text: a caption for a file (by default its name),
            or a line before a table or Markdown.
        name: the file's name (default: its own, or ``figure.png``...).
        max_bytes: the largest file allowed (default ``room.files.max_bytes``).

    Returns:
        the message once settled: SENT, or FAILED (kept, with Retry).

    Raises:
        AttachmentRefused: the file is too large, empty, or an image that is
            not one (checked before any byte is sent).
        TypeError: ``obj`` is nothing the chat knows how to send.
        ValueError: the text is blank or too long.
        OSError: a path that cannot be read.
        RuntimeError: the room is closed.
    """
    self._check_usable()
    limit = self.files.max_bytes if max_bytes is None else max_bytes
    made = await _convert(obj, name, limit)
    if made.upload is None:
        return await self.send(f"{text}\n\n{made.text}" if text else made.text)
    content = self.check_text(text if text else made.upload.name)
    self._check_usable()
    change = self._store.add_pending(content, self._session.user, made.upload.attachment())
    key = change.messages[0].key
    self.files.hold(key, made.upload)
    self._emit(change)
    return await self._deliver(key, content)
