"""The chat as Jupyter widgets: ``ChatWidget`` and the parts it is made of.

``ChatWidget`` is an ``ipywidgets.VBox`` of a :class:`StatusBar`, a
:class:`LoginForm` (before login) or a :class:`MessageList` and a
:class:`MessageForm` (after). The list and the form are anywidgets: plain ES
modules shipped next to this file, no build step.
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
