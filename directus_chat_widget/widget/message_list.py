"""MessageList: the chat's messages, rendered incrementally in the browser.

An anywidget whose state holds no messages at all. Every change to the room
goes to the browser as one custom message carrying only the messages that
changed, each with the key of the message that follows it (``next``), which is
all a view needs to put it in place. The browser keeps a bounded window of DOM
nodes (``max_nodes``), so neither the wire nor the page grows with the history.

Messages between Python and the browser (``view`` addresses one view; the
others ignore it)::

    Python -> browser
      {"type": "change", "kind": "append"|"prepend"|"insert"|"update", "messages": [...]}
      {"type": "remove", "keys": [...]}
      {"type": "snapshot", "view": id|None, "messages": [...]}   the last N: (re)start a view
      {"type": "page", "view": id, "messages": [...]}            older ones a view asked for
      {"type": "older", "view": id|None}                         paging finished
      {"type": "katex", "view": id, "module": js, "css": css}      KaTeX, asked for
    each also carries "first" (the key of the oldest message Python holds) and
    "older" (whether the server has older ones still), from which a view knows
    whether to offer "load older".

    browser -> Python
      {"type": "snapshot", "view": id}            a new view (first render, re-render, reload)
      {"type": "load_older", "view": id, "before": key|None}
      {"type": "retry", "key": key}  /  {"type": "discard", "key": key}
      {"type": "edit", "key": key, "text": text}  /  {"type": "delete", "key": key}
      {"type": "katex", "view": id}               a message holds math: send KaTeX
      {"type": <a part's own>, ...}               to the handler a part registered (handle())

    Row parts (message_list.<feature>.js) add their own types both ways; in
    Python a part adds fields to each message (:meth:`add_row_fields`) and
    takes its browser messages (:meth:`handle`).

A message on the wire: ``{"key", "text", "html", "author", "author_id", "own", "time"
(ISO 8601 UTC or null), "status" ("sent"|"pending"|"failed"), "error", "attachment"
(its file's ``name``, ``mime``, ``size``, ``width``, ``height``, or null: see _attachments.py),
"edited" (the server stored an edit), "saving" ("edit"|"delete"|null: a change
of one's own on its way), "next"}``. An edit goes to the browser as one
``update`` change holding that message alone; a delete as one ``remove``.
Features add fields of their own through :meth:`MessageList.add_row_fields` (the
mentions: ``"mentions": [{"name", "me"}]``, see ``_mentioning.py``).
``author`` is the name to show (a first name, so two people may share it);
``author_id`` is who wrote it (the user's id, null when unknown), and is what
the browser groups consecutive messages by: one name over a run by the same
``author_id``, never a run across a null one. The browser formats
``time`` in the reader's timezone (and draws a date line where the reader's
day changes) and sets every text with ``textContent``: content is never markup.

The one exception is ``html``: a message's Markdown, rendered in the kernel
once (see ``_markdown.py``) and sanitized against an explicit allow-list (see
``_sanitize.py``); null when the text has no Markdown in it or ``markdown`` is
off, and then the view shows ``text`` as text, as ever.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import anywidget
import traitlets

from .._callbacks import CallbackList
from ..chat.store import UNKNOWN_AUTHOR, ChatMessage, StoreChange
from ._katex import katex_assets
from ._markdown import RenderCache
from ._sources import module_css, module_source

__all__ = ["DEFAULT_MAX_NODES", "MessageList", "first_name"]


DEFAULT_MAX_NODES = 500
# A message being confirmed or retried is found near its new index; look this
# far around it before scanning the whole list.
_NEAR = 64

ViewCallback = Callable[[str], None]
KeyCallback = Callable[[str], None]
EditCallback = Callable[[str, str], None]
PartHandler = Callable[[dict[str, Any], list[Any]], None]
RowFields = Callable[[ChatMessage], dict[str, Any]]


def first_name(message: ChatMessage) -> str:
    """The name shown above a message: the author's first name, or "Unknown User".

    The first name field as the server has it, whole ("Mary Ann"); without one
    (not readable, or a user with a last name only), the first word of the full name.
    """
    explicit = (message.author_first_name or "").strip()
    if explicit:
        return explicit
    name = message.author_name.strip()
    if not name or name == UNKNOWN_AUTHOR:
        return UNKNOWN_AUTHOR
    return name.split()[0]


class MessageList(anywidget.AnyWidget):
    """The message list: mirrors the room's order in Python, renders a window in the browser.

    Args:
        max_nodes: the most message nodes a browser view keeps (oldest dropped first).
        snapshot_size: how many of the newest messages a new view receives.
        page_size: how many held messages one "load older" click shows before
            asking the server for more.

    Attributes:
        own_id: the logged-in user's id: their messages are marked ``own``.
        markdown: render messages as Markdown (True) or show every one as raw
            text (False); switching it restarts every view.
    """

    # The main module and its row parts (message_list.*.js); the list's own
    # style, the rendered Markdown's (code, tables, math), editing's and the parts'.
    _esm = module_source("message_list")
    _css = module_css("message_list")

    max_nodes = traitlets.Int(DEFAULT_MAX_NODES).tag(sync=True)
    empty_text = traitlets.Unicode("No messages yet.").tag(sync=True)
    height = traitlets.Unicode("360px").tag(sync=True)
    # Python decides what is rendered: the browser only sees "html" or not.
    markdown = traitlets.Bool(True)

    def __init__(
        self,
        *,
        max_nodes: int = DEFAULT_MAX_NODES,
        snapshot_size: int = 100,
        page_size: int = 50,
        **kwargs: Any,
    ) -> None:
        if max_nodes < 1 or snapshot_size < 1 or page_size < 1:
            raise ValueError("max_nodes, snapshot_size and page_size must be at least 1")
        super().__init__(max_nodes=max_nodes, **kwargs)
        self.snapshot_size = snapshot_size
        self.page_size = page_size
        self.own_id: str | None = None
        self._keys: list[str] = []  # display order, as the room has it
        self._by_key: dict[str, ChatMessage] = {}
        self._has_older = False
        self._rendered = RenderCache()
        self._older_callbacks: CallbackList[[str]] = CallbackList("a load-older callback")
        self._retry_callbacks: CallbackList[[str]] = CallbackList("a retry callback")
        self._discard_callbacks: CallbackList[[str]] = CallbackList("a discard callback")
        self._edit_callbacks: CallbackList[[str, str]] = CallbackList("an edit callback")
        self._delete_callbacks: CallbackList[[str]] = CallbackList("a delete callback")
        self._handlers: dict[str, PartHandler] = {}
        self._row_fields: list[RowFields] = []
        self.on_msg(self._on_frontend_msg)

    # -- reading -------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def held_keys(self) -> tuple[str, ...]:
        """The keys of every message held, in display order."""
        return tuple(self._keys)

    def get(self, key: str) -> ChatMessage | None:
        """The message held under ``key``, or None."""
        return self._by_key.get(key)

    def wire(self, start: int = 0, stop: int | None = None) -> list[dict[str, Any]]:
        """The held messages ``[start:stop]`` as they go to the browser."""
        start = max(0, start)
        held = enumerate(self._keys[start:stop], start)
        return [self._wire(self._by_key[key], index) for index, key in held]

    @property
    def has_older(self) -> bool:
        """Whether the server has messages older than the oldest held."""
        return self._has_older

    # -- callbacks -------------------------------------------------------------

    def on_load_older(self, callback: ViewCallback) -> Callable[[], None]:
        """Call ``callback(view)`` when a view wants older messages than any held.

        The owner fetches a page from the server (it arrives through
        :meth:`apply` as a ``prepend``), then calls :meth:`older_loaded`.
        """
        return self._older_callbacks.add(callback)

    def on_retry(self, callback: KeyCallback) -> Callable[[], None]:
        """Call ``callback(key)`` when the reader asks to send a failed message again."""
        return self._retry_callbacks.add(callback)

    def on_discard(self, callback: KeyCallback) -> Callable[[], None]:
        """Call ``callback(key)`` when the reader gives up on a failed message."""
        return self._discard_callbacks.add(callback)

    def on_edit(self, callback: EditCallback) -> Callable[[], None]:
        """Call ``callback(key, text)`` when the reader saves an edit of their message."""
        return self._edit_callbacks.add(callback)

    def on_delete(self, callback: KeyCallback) -> Callable[[], None]:
        """Call ``callback(key)`` when the reader deletes their message."""
        return self._delete_callbacks.add(callback)

    def add_row_fields(self, fields: RowFields) -> None:
        """A row part's fields: ``fields(message)`` is merged into each message sent."""
        self._row_fields.append(fields)

    def handle(self, kind: str, handler: PartHandler) -> None:
        """Route the browser's messages of type ``kind`` (a row part's own) to ``handler``.

        ``handler(content, buffers)`` runs where the list's other callbacks run.
        """
        self._handlers[kind] = handler

    # -- Python -> browser -------------------------------------------------------

    def apply(self, change: StoreChange, *, has_older: bool | None = None) -> None:
        """Bring the list up to date with one room change and tell the browser.

        Args:
            change: what the room's store changed.
            has_older: the room's ``has_older`` now (None: unchanged).
        """
        if has_older is not None:
            self._has_older = has_older
        if change.kind == "reset":
            self.reset(change.messages, has_older=has_older)
            return
        if change.kind == "remove":
            self._remove(change.messages, change.indices)
            for message in change.messages:
                self._rendered.forget(message.key)
            self._emit({"type": "remove", "keys": [m.key for m in change.messages]})
            return
        for message, index in zip(change.messages, change.indices, strict=True):
            if message.key in self._by_key:
                self._drop(message.key, index)
        for message, index in zip(change.messages, change.indices, strict=True):
            self._keys.insert(index, message.key)
            self._by_key[message.key] = message
        payload = [
            self._wire(message, index)
            for message, index in zip(change.messages, change.indices, strict=True)
        ]
        self._emit({"type": "change", "kind": change.kind, "messages": payload})

    def reset(self, messages: Sequence[ChatMessage], *, has_older: bool | None = None) -> None:
        """Hold exactly ``messages`` and restart every view on the newest of them."""
        if has_older is not None:
            self._has_older = has_older
        self._keys = [message.key for message in messages]
        self._by_key = {message.key: message for message in messages}
        for key in self._rendered.keys() - self._by_key.keys():
            self._rendered.forget(key)
        self._send_snapshot(None)

    def redraw(self) -> None:
        """Every view draws every message again (a feature's fields changed).

        The snapshot says ``"same": true``: the same messages of the same room, so
        a part waiting for a new room's news (the unread line) keeps what it has.
        """
        self._send_snapshot(None, same=True)

    def clear(self) -> None:
        """Hold nothing (logged out) and empty every view."""
        self.own_id = None
        self.reset((), has_older=False)

    def older_loaded(self, view: str | None, *, has_older: bool) -> None:
        """A fetch asked for by ``view`` ended; the page itself came through :meth:`apply`."""
        self._has_older = has_older
        self._emit({"type": "older", "view": view})

    # -- browser -> Python -----------------------------------------------------

    def _on_frontend_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        view = content.get("view")
        view = view if isinstance(view, str) else None
        key = content.get("key")
        if kind == "snapshot":
            self._send_snapshot(view)
        elif kind == "load_older" and view is not None:
            before = content.get("before")
            self._serve_older(view, before if isinstance(before, str) else None)
        elif kind == "retry" and isinstance(key, str):
            self._retry_callbacks(key)
        elif kind == "discard" and isinstance(key, str):
            self._discard_callbacks(key)
        elif kind == "edit" and isinstance(key, str) and isinstance(content.get("text"), str):
            self._edit_callbacks(key, content["text"])
        elif kind == "delete" and isinstance(key, str):
            self._delete_callbacks(key)
        elif isinstance(kind, str) and kind in self._handlers:
            self._handlers[kind](content, list(_buffers or []))
        elif kind == "katex" and view is not None:
            module, css = katex_assets()
            self.send({"type": "katex", "view": view, "module": module, "css": css})
        # anything else (anywidget's own commands) is not ours

    def _serve_older(self, view: str, before: str | None) -> None:
        """Give ``view`` the messages held before ``before``, or ask the server for more."""
        if before is None or before not in self._by_key:
            if before is not None or self._keys:
                self._send_snapshot(view)  # the view is out of step: start it again
                return
            if self._has_older:
                self._older_callbacks(view)
            else:
                self.older_loaded(view, has_older=False)
            return
        end = self._locate(before)
        if end > 0:
            page = self.wire(max(0, end - self.page_size), end)
            self._emit({"type": "page", "view": view, "messages": page})
        elif self._has_older and self._older_callbacks:
            self._older_callbacks(view)
        else:
            self.older_loaded(view, has_older=self._has_older)

    @traitlets.observe("markdown")
    def _markdown_switched(self, _change: dict[str, Any]) -> None:
        self._send_snapshot(None)  # every view draws every message again

    # -- internals -------------------------------------------------------------

    def _send_snapshot(self, view: str | None, *, same: bool = False) -> None:
        count = min(self.snapshot_size, self.max_nodes)
        messages = self.wire(max(0, len(self._keys) - count))
        snapshot = {"type": "snapshot", "view": view, "messages": messages}
        self._emit({**snapshot, "same": True} if same else snapshot)

    def _emit(self, content: dict[str, Any]) -> None:
        content["first"] = self._keys[0] if self._keys else None
        content["older"] = self._has_older
        self.send(content)

    def _wire(self, message: ChatMessage, index: int) -> dict[str, Any]:
        following = index + 1
        wire = {
            "key": message.key,
            "text": message.content,
            "html": self._rendered.html(message.key, message.content) if self.markdown else None,
            "author": first_name(message),
            "author_id": message.author_id,
            "own": self.own_id is not None and message.author_id == self.own_id,
            "time": _iso(message),
            "status": message.status.value,
            "error": message.error,
            "edited": message.edited,
            "saving": message.saving,
            "attachment": _attachment(message),
            "next": self._keys[following] if following < len(self._keys) else None,
        }
        for fields in self._row_fields:
            wire.update(fields(message))
        return wire

    def _locate(self, key: str, near: int | None = None) -> int:
        """The index of ``key`` in ``_keys``, looking around ``near`` first.

        Raises:
            ValueError: ``key`` is not held.
        """
        if near is not None:
            low = max(0, near - _NEAR)
            high = min(len(self._keys), near + _NEAR + 1)
            try:
                return self._keys.index(key, low, high)
            except ValueError:
                pass
        return self._keys.index(key)

    def _drop(self, key: str, near: int | None) -> None:
        del self._keys[self._locate(key, near)]
        del self._by_key[key]

    def _remove(self, messages: Sequence[ChatMessage], indices: Sequence[int]) -> None:
        for position, message in enumerate(messages):
            if message.key in self._by_key:
                # indices: where they were before the change, a hint to find them fast
                near = indices[position] if position < len(indices) else None
                self._drop(message.key, near)


def _attachment(message: ChatMessage) -> dict[str, Any] | None:
    found = message.attachment
    if found is None:
        return None
    return {
        "name": found.name,
        "mime": found.mime,
        "image": found.looks_like_image,
        "size": found.size,
        "width": found.width,
        "height": found.height,
    }


def _iso(message: ChatMessage) -> str | None:
    if message.created_at is None:
        return None
    return message.created_at.isoformat().replace("+00:00", "Z")
