"""Where a ChatWidget's parts and the objects that drive them are made and wired.

:class:`Parts` are the widgets shown; :class:`Flows` the objects that do the
work, each with one job (listed in the package docstring). :func:`assemble`
makes the flows over the parts; ``ChatWidget`` keeps both and is the API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ipywidgets as widgets

from ..chat.presence import PresenceTiming
from ._attachments import AttachmentServer
from ._editing import Editing
from ._login import LoginFlow, SessionFactory
from ._mentioning import Mentioning
from ._notice import Notice
from ._owner import OwnerLoop
from ._paging import Paging
from ._presence import PresenceFlow
from ._reactions import Reactions
from ._replies import Replies
from ._room_feed import RoomFeed
from ._rooms import Rooms
from ._sending import Sending
from ._signup import Registrar, RestRegistrar, SignupFlow
from ._tasks import TaskKeeper
from ._unread import Unread
from .login_form import LoginForm
from .message_form import MessageForm
from .message_list import MessageList
from .presence_bar import PresenceBar
from .room_bar import RoomBar
from .status import StatusBar

__all__ = ["Flows", "Parts", "assemble"]


@dataclass(frozen=True)
class Parts:
    """The widgets a ChatWidget shows (the notice line is the last)."""

    status_bar: StatusBar
    login_form: LoginForm
    room_bar: RoomBar
    message_list: MessageList
    message_form: MessageForm
    notice: Notice
    presence_bar: PresenceBar

    @classmethod
    def new(cls, *, max_nodes: int, url: str | None) -> Parts:
        lists = MessageList(max_nodes=max_nodes)
        parts = (StatusBar(), LoginForm(), RoomBar(), lists, MessageForm(), Notice(url))
        return cls(*parts, PresenceBar())

    def all(self) -> tuple[widgets.Widget, ...]:
        """Every part, the notice's widget last."""
        shown = (self.status_bar, self.login_form, self.room_bar, self.presence_bar)
        return (*shown, self.message_list, self.message_form, self.notice.widget)

    def chat_stage(self) -> tuple[widgets.Widget, ...]:
        """The parts shown while chatting, top to bottom (the status bar and notice frame them)."""
        return (self.room_bar, self.message_list, self.presence_bar, self.message_form)


@dataclass(frozen=True)
class Flows:
    """The objects that turn clicks and calls into sessions, rooms and messages."""

    owner: OwnerLoop
    tasks: TaskKeeper
    feed: RoomFeed
    login: LoginFlow
    rooms: Rooms
    sending: Sending
    signup: SignupFlow
    paging: Paging
    editing: Editing
    presence: PresenceFlow
    attachments: AttachmentServer
    reactions: Reactions
    replies: Replies
    mentioning: Mentioning
    unread: Unread


def assemble(
    parts: Parts,
    *,
    session_factory: SessionFactory,
    collection: str,
    page_size: int,
    url: str | None,
    room: str,
    registrar: Registrar | None,
    show_stage: Callable[[str], None],
    max_attachment_bytes: Callable[[], int],
    presence: PresenceTiming | bool = True,
) -> Flows:
    """The flows of one ChatWidget, every part adopted by its owner loop.

    ``presence``: True for the default :class:`PresenceTiming`, False for none.
    """
    owner = OwnerLoop()
    for part in parts.all()[:-1]:  # the notice sends nothing
        owner.adopt(part)
    notice = parts.notice
    tasks = TaskKeeper(notice.report)
    feed = RoomFeed(parts.message_list, notice.show)
    login = LoginFlow(
        session_factory=session_factory,
        collection=collection,
        page_size=page_size,
        url=url,
        owner=owner,
        tasks=tasks,
        notice=notice,
        feed=feed,
        show_stage=show_stage,
        login_form=parts.login_form,
        status_bar=parts.status_bar,
        message_list=parts.message_list,
        message_form=parts.message_form,
        room_name=room,
    )
    if registrar is None and url is not None:
        registrar = RestRegistrar(url)
    signup = SignupFlow(
        registrar=registrar, login=login, form=parts.login_form, owner=owner, tasks=tasks, url=url
    )
    timing = PresenceTiming() if presence is True else presence or None
    following = PresenceFlow(tasks, parts.presence_bar, parts.message_form, timing)
    login.watchers.append(following)
    replies = Replies(login, parts.message_list)
    form, shown = parts.message_form, parts.message_list
    rooms = Rooms(login, tasks, parts.room_bar)
    sending = Sending(login, owner, tasks, notice, form, shown, replies.take)
    # After Sending: the composer's check of mentions runs once the send has started.
    mentioning = Mentioning(login, notice, form, shown)
    unread = Unread(login, tasks, mentioning, shown, parts.room_bar, collection)
    rooms.changes.add(unread.room_changed)
    return Flows(
        owner=owner,
        tasks=tasks,
        feed=feed,
        login=login,
        rooms=rooms,
        sending=sending,
        signup=signup,
        paging=Paging(login, tasks, shown),
        editing=Editing(login, tasks, notice, shown),
        presence=following,
        attachments=AttachmentServer(login, tasks, shown, max_attachment_bytes),
        reactions=Reactions(login, tasks, notice, shown, notice.show),
        replies=replies,
        mentioning=mentioning,
        unread=unread,
    )
