"""directus-chat-widget: realtime chat on Directus from Python and Jupyter.

Layers, each using only the ones below it::

    ChatWidget        the chat in a notebook cell (directus_chat_widget.widget)
    ChatRoom          the message store: ordered, de-duplicated, paged, optimistic
    RealtimeSession   one websocket: auth, subscribe, send, heartbeat, reconnect
    protocol · DirectusRest · load_config · errors

``directus_chat_widget.local`` runs a Directus on this machine for you.
"""

from __future__ import annotations

import logging

from .chat import ChatRoom
from .config import ChatConfig, load_config
from .errors import (
    AuthError,
    ConfigError,
    DirectusError,
    Forbidden,
    InvalidCredentials,
    RequestTimeout,
    ServerError,
    ServerUnreachable,
    SessionClosed,
    SessionGaveUp,
    TokenExpired,
)
from .rest import DirectusRest, Tokens
from .session import RealtimeSession, SessionState
from .store import ChatMessage, MessageStatus, MessageStore, StoreChange
from .subscription import Subscription
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
    "Forbidden",
    "InvalidCredentials",
    "MessageStatus",
    "MessageStore",
    "RealtimeSession",
    "RequestTimeout",
    "ServerError",
    "ServerUnreachable",
    "SessionClosed",
    "SessionGaveUp",
    "SessionState",
    "StoreChange",
    "Subscription",
    "TokenExpired",
    "Tokens",
    "__version__",
    "load_config",
]
