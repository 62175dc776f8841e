"""The chat as Jupyter widgets: ``ChatWidget`` and the parts it is made of.

``ChatWidget`` is an ``ipywidgets.VBox`` of a :class:`StatusBar`, a
:class:`LoginForm` (before login) or a :class:`MessageList` and a
:class:`MessageForm` (after). The list and the form are anywidgets: plain ES
modules shipped next to this file, no build step.

What each part of the widget does, the objects ``ChatWidget`` composes
(``_assembly.py`` makes and wires them)::

    _login.py       LoginFlow: the session and room from login to logout, the status shown
    _signup.py      SignupFlow: whether the server lets people sign up, and signing up
    _sending.py     Sending: the composer, send_message, Retry and Discard
    _editing.py     Editing: Edit and Delete on your own messages
    _paging.py      Paging: older pages
    _reactions.py   Reactions: the chips, react/unreact/toggle_reaction, on_reaction
    _replies.py     Replies: each reply's quote, the composer's reply target
    _group_api.py   GroupApi: ChatWidget's methods for reactions and replies
    _rooms.py       Rooms: the room switcher, switch_room and create_room
    _room_feed.py   RoomFeed: each room change to the list, on_message/on_edit/on_delete
    _presence.py    PresenceFlow: who is online and typing in the room shown (presence_bar.py)
    _unread.py      Unread: read positions, the unread line, counts per room, mention news
    _mentioning.py  Mentioning: the members @ completes, mentions on each row, unknown names
    _unread_api.py  UnreadMentionsAPI: ChatWidget's unread and mentions methods (a mixin)
    _notice.py      Notice: the line that says what went wrong
    _tasks.py       TaskKeeper: the tasks clicks start, kept and reported
    _owner.py       OwnerLoop: every click and every public coroutine on one event loop
    _markdown.py    Markdown rendering (kernel side); _sanitize.py: the allow-list
    _attachments.py AttachmentServer: thumbnails, images and files to the views, as buffers
"""

from __future__ import annotations

from .chat_widget import ChatSession, ChatWidget
from .login_form import FILL_IN_ALL_FIELDS, INVALID_CREDENTIALS, LoginForm, login_error_text
from .message_form import MessageForm
from .message_list import DEFAULT_MAX_NODES, MessageList, first_name
from .status import StatusBar, describe, display_name

__all__ = [
    "DEFAULT_MAX_NODES",
    "FILL_IN_ALL_FIELDS",
    "INVALID_CREDENTIALS",
    "ChatSession",
    "ChatWidget",
    "LoginForm",
    "MessageForm",
    "MessageList",
    "StatusBar",
    "describe",
    "display_name",
    "first_name",
    "login_error_text",
]
