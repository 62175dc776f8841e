"""The chat, without UI or I/O of its own: a room over a realtime session, and its store.

ChatRoom       (room.py)   subscribes, pages history, sends optimistically
MessageStore   (store.py)  the ordered, de-duplicated list; StoreChange deltas
rooms          (rooms.py)  find, list and create rooms; each message is in one
ReadPositions  (reads.py)  how far the user has read in each room, written sparingly
UnreadRooms    (unread.py) unread messages and mentions of the user, per room, live
Directory      (mentions.py, members.py) the members, and @mentions found in text
"""

from .members import Member, load_members
from .mentions import Directory, Found, Mention
from .reads import ReadPositions
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
from .unread import Mentioned, UnreadRooms

__all__ = [
    "DEFAULT_MAX_LENGTH",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_ROOM",
    "MESSAGE_FIELDS",
    "ChatMessage",
    "ChatRoom",
    "Directory",
    "Found",
    "Member",
    "Mention",
    "Mentioned",
    "MessageStatus",
    "MessageStore",
    "ReadPositions",
    "Room",
    "SessionLike",
    "StoreChange",
    "SubscriptionEventLike",
    "SubscriptionLike",
    "UnreadRooms",
    "check_room_name",
    "create_room",
    "find_room",
    "list_rooms",
    "load_members",
]
