"""directus-chat-widget: realtime chat on Directus from Python and Jupyter.

Layers, each using only the ones below it::

    widget/     ChatWidget: the chat in a notebook cell (imported on first use)
    chat/       ChatRoom and its MessageStore: ordered, de-duplicated, paged, optimistic
    realtime/   RealtimeSession: one websocket, auth, subscribe, send, heartbeat,
                reconnect, recovery of every event kind; protocol: frames as data
    rest · config · errors

The old module paths (``directus_chat_widget.session``, ``.protocol``,
``.subscription``, ``.store``) are the moved modules under their old names.

``directus_chat_widget.local`` runs a Directus on this machine for you.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .chat import ChatMessage, ChatRoom, MessageStatus, MessageStore, StoreChange
from .config import ChatConfig, load_config
from .errors import (
    AuthError,
    ConfigError,
    DirectusError,
    EmailTaken,
    Forbidden,
    InvalidCredentials,
    InvalidPayload,
    RegistrationClosed,
    RegistrationRefused,
    RequestTimeout,
    ServerError,
    ServerUnreachable,
    SessionClosed,
    SessionGaveUp,
    TokenExpired,
)
from .realtime import RealtimeSession, SessionState, Subscription, SubscriptionStatus
from .rest import DirectusRest, Registration, Tokens

if TYPE_CHECKING:
    from .widget import ChatWidget

__version__ = "0.1.0"

# A library leaves output to the application: without a handler of ours, a
# warning from a background task (a reconnect giving up) would reach Python's
# last-resort handler and print into whichever notebook cell ran last.
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "AuthError",
    "ChatConfig",
    "ChatMessage",
    "ChatRoom",
    "ChatWidget",
    "ConfigError",
    "DirectusError",
    "DirectusRest",
    "EmailTaken",
    "Forbidden",
    "InvalidCredentials",
    "InvalidPayload",
    "MessageStatus",
    "MessageStore",
    "RealtimeSession",
    "Registration",
    "RegistrationClosed",
    "RegistrationRefused",
    "RequestTimeout",
    "ServerError",
    "ServerUnreachable",
    "SessionClosed",
    "SessionGaveUp",
    "SessionState",
    "StoreChange",
    "Subscription",
    "SubscriptionStatus",
    "TokenExpired",
    "Tokens",
    "__version__",
    "load_config",
]


def __getattr__(name: str) -> Any:
    # The widget pulls in ipywidgets and anywidget: only when someone asks for it,
    # so a plain script using the client imports neither.
    if name == "ChatWidget":
        from .widget import ChatWidget

        return ChatWidget
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
