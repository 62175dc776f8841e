"""Where a ChatWidget's parts and the objects that drive them are made and wired.

:class:`Parts` are the widgets shown; :class:`Flows` the objects that do the
work, each with one job (listed in the package docstring). :func:`assemble`
makes the flows over the parts; ``ChatWidget`` keeps both and is the API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ipywidgets as widgets

from ._editing import Editing
from ._login import LoginFlow, SessionFactory
from ._mentioning import Mentioning
from ._notice import Notice
from ._owner import OwnerLoop
from ._paging import Paging
from ._room_feed import RoomFeed
from ._rooms import Rooms
from ._sending import Sending
from ._signup import Registrar, RestRegistrar, SignupFlow
from ._tasks import TaskKeeper
from ._unread import Unread
from .login_form import LoginForm
from .message_form import MessageForm
from .message_list import MessageList
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

    @classmethod
    def new(cls, *, max_nodes: int, url: str | None) -> Parts:
        lists = MessageList(max_nodes=max_nodes)
        return cls(StatusBar(), LoginForm(), RoomBar(), lists, MessageForm(), Notice(url))

    def all(self) -> tuple[widgets.Widget, ...]:
        """Every part, the notice's widget last."""
        shown = (self.status_bar, self.login_form, self.room_bar)
        return (*shown, self.message_list, self.message_form, self.notice.widget)


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
) -> Flows:
    """The flows of one ChatWidget, every part adopted by its owner loop."""
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
    rooms = Rooms(login, tasks, parts.room_bar)
    sending = Sending(login, owner, tasks, notice, parts.message_form, parts.message_list)
    # After Sending: the composer's check of mentions runs once the send has started.
    mentioning = Mentioning(login, notice, parts.message_form, parts.message_list)
    unread = Unread(login, tasks, mentioning, parts.message_list, parts.room_bar, collection)
    rooms.changes.add(unread.room_changed)
    return Flows(
        owner=owner,
        tasks=tasks,
        feed=feed,
        login=login,
        rooms=rooms,
        sending=sending,
        signup=signup,
        paging=Paging(login, tasks, parts.message_list),
        editing=Editing(login, tasks, notice, parts.message_list),
        mentioning=mentioning,
        unread=unread,
    )
