"""The chat, without UI or I/O of its own: a room over a realtime session, and its store.

ChatRoom       (room.py)   subscribes, pages history, sends optimistically
MessageStore   (store.py)  the ordered, de-duplicated list; StoreChange deltas
rooms          (rooms.py)  find, list and create rooms; each message is in one
reactions      (reactions.py, _reacting.py)  one emoji per user per message, live
replies        (replies.py)  the quote a reply shows of the message it answers
"""

from .reactions import Reaction, check_emoji
from .replies import Quote
from .room import (
    DEFAULT_MAX_LENGTH,
    DEFAULT_PAGE_SIZE,
    MESSAGE_FIELDS,
    ChatRoom,
    SessionLike,
    SubscriptionEventLike,
    SubscriptionLike,
)
from .rooms import DEFAULT_ROOM, Room, check_room_name, create_room, find_room, list_rooms
from .store import ChatMessage, MessageStatus, MessageStore, StoreChange

__all__ = [
    "DEFAULT_MAX_LENGTH",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_ROOM",
    "MESSAGE_FIELDS",
    "ChatMessage",
    "ChatRoom",
    "MessageStatus",
    "MessageStore",
    "Quote",
    "Reaction",
    "Room",
    "SessionLike",
    "StoreChange",
    "SubscriptionEventLike",
    "SubscriptionLike",
    "check_emoji",
    "check_room_name",
    "create_room",
    "find_room",
    "list_rooms",
]
