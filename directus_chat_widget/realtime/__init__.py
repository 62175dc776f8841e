"""The realtime client: one websocket to Directus, kept authenticated, subscribed, alive.

Each module uses only those listed below it::

    session.py       RealtimeSession: the public async API, state, reconnect supervisor
    _link.py         one socket at a time: open, authenticate, read, write, watch
    _dispatch.py     which request or subscription a frame belongs to
    _recovery.py     after a gap: re-subscribe, read back creates/updates/deletes
    _auth.py         the login's tokens: refresh, expiry, logout
    subscription.py  a subscription: events, de-duplication, gap bookkeeping
    _pending.py      requests awaiting replies; the outbox; per-socket gates
    _closing.py      what a close code means          (pure)
    _flow.py         reconnect delays, frame pacing    (pure)
    protocol.py      frame builders and parser         (pure)
"""

from .session import RealtimeSession, SessionState
from .subscription import Subscription, SubscriptionStatus

__all__ = ["RealtimeSession", "SessionState", "Subscription", "SubscriptionStatus"]
