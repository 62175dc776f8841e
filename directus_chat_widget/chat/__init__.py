"""The chat, without UI or I/O of its own: a room over a realtime session, and its store.

ChatRoom       (room.py)   subscribes, pages history, sends optimistically
MessageStore   (store.py)  the ordered, de-duplicated list; StoreChange deltas
"""

from .room import (
    DEFAULT_MAX_LENGTH,
    DEFAULT_PAGE_SIZE,
    MESSAGE_FIELDS,
    ChatRoom,
    SessionLike,
    SubscriptionEventLike,
    SubscriptionLike,
)
from .store import ChatMessage, MessageStatus, MessageStore, StoreChange

__all__ = [
    "DEFAULT_MAX_LENGTH",
    "DEFAULT_PAGE_SIZE",
    "MESSAGE_FIELDS",
    "ChatMessage",
    "ChatRoom",
    "MessageStatus",
    "MessageStore",
    "SessionLike",
    "StoreChange",
    "SubscriptionEventLike",
    "SubscriptionLike",
]
