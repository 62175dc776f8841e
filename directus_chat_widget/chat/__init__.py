"""The chat, without UI or I/O of its own: a room over a realtime session, and its store.

ChatRoom       (room.py)   subscribes, pages history, sends optimistically
MessageStore   (store.py)  the ordered, de-duplicated list; StoreChange deltas
rooms          (rooms.py)  find, list and create rooms; each message is in one
RoomPresence   (presence.py) who is online in a room and typing (rows judged by age)
attachments    (attachments.py, _posting.py, _convert.py)  files with messages, post(obj)
reactions      (reactions.py, _reacting.py)  one emoji per user per message, live
replies        (replies.py)  the quote a reply shows of the message it answers
ReadPositions  (reads.py)  how far the user has read in each room, written sparingly
UnreadRooms    (unread.py) unread messages and mentions of the user, per room, live
Directory      (mentions.py, members.py) the members, and @mentions found in text
"""

from .attachments import DEFAULT_MAX_ATTACHMENT_BYTES, AttachmentRefused, Upload
from .members import Member, load_members
from .mentions import Directory, Found, Mention
from .message import Attachment
from .presence import Presence, PresenceTiming, PresentUser, RoomPresence
from .reactions import Reaction, check_emoji
from .reads import ReadPositions
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
from .unread import Mentioned, UnreadRooms

__all__ = [
    "DEFAULT_MAX_ATTACHMENT_BYTES",
    "DEFAULT_MAX_LENGTH",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_ROOM",
    "MESSAGE_FIELDS",
    "Attachment",
    "AttachmentRefused",
    "ChatMessage",
    "ChatRoom",
    "Directory",
    "Found",
    "Member",
    "Mention",
    "Mentioned",
    "MessageStatus",
    "MessageStore",
    "Presence",
    "PresenceTiming",
    "PresentUser",
    "Quote",
    "Reaction",
    "ReadPositions",
    "Room",
    "RoomPresence",
    "SessionLike",
    "StoreChange",
    "SubscriptionEventLike",
    "SubscriptionLike",
    "UnreadRooms",
    "Upload",
    "check_emoji",
    "check_room_name",
    "create_room",
    "find_room",
    "list_rooms",
    "load_members",
]
