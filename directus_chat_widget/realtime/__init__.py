"""The realtime client: one websocket to Directus, kept authenticated, subscribed, alive.

At run time each module imports only modules listed below it (the ones that
work over a connection name its type for the type checker only)::

    session.py       RealtimeSession: the public async API
    _subscribing.py  starting and ending a subscription on the socket
    _supervisor.py   login, reconnects (as machine.py decides), token renewal, sweeps
    _connection.py   one socket at a time: open, authenticate, restore, read, watch, lose
    _opening.py      opening a socket and its auth handshake
    _tap.py          showing the frames of a socket, secrets masked (frames=True)
    _dispatch.py     which request or subscription a frame belongs to
    _expiry.py       renewing the token; the moment a socket spends as the public
    _recovery.py     after a gap: re-subscribe, read back, settle creates in doubt
    _sweep.py        now and then, reading back events the server lost silently
    _backfill.py     reading back creates, updates and deletes a subscription missed
    _wire.py         the outbox, the writer, pacing, reply timeouts
    _link.py         one socket and its per-socket book-keeping
    _auth.py         the login's tokens: refresh, expiry, logout
    machine.py       reconnect policy and liveness: time and events in, decisions out (pure)
    _server_info.py  heartbeat and rate limit from /server/info                 (pure)
    _known.py        ids seen, rows claimed, whether the dedupe field works       (pure)
    state.py         SessionState and who is told when it changes
    subscription.py  a subscription: events, listeners, iteration, gap news
    _marks.py        a subscription's ids, floors and row versions             (pure)
    _pending.py      requests awaiting replies; the outbox; per-socket gates    (pure)
    _closing.py      what a close code means                                    (pure)
    _flow.py         reconnect delays, frame pacing                             (pure)
    protocol.py      frame builders and parser (frames.py)                      (pure)
"""

from ._tap import FrameLog
from .session import RealtimeSession
from .state import SessionState
from .subscription import Subscription, SubscriptionStatus

__all__ = ["FrameLog", "RealtimeSession", "SessionState", "Subscription", "SubscriptionStatus"]
