"""RealtimeSession: one websocket to Directus, kept authenticated, subscribed and alive.

Usage, in a notebook cell (top-level await) or inside ``asyncio.run``::

    async with RealtimeSession("http://127.0.0.1:8055") as session:
        await session.login("ada@example.com", "...")
        subscription = await session.subscribe("messages", event="create")
        await session.create({"content": "hello"})
        async for event in subscription:
            print(event.data)

What it takes care of: nothing is sent before ``auth ok``; a token that
expires (``TOKEN_EXPIRED``: the socket turns public) holds sends until the
socket is authenticated again, so no create goes out anonymously; heartbeats
answered, silence noticed; reconnects with backoff, then re-subscribe, read
back what each subscription missed and settle creates whose reply was lost
(stored once, by ``client_uid``), then send what was held.

Layout: this module is the public face over a :class:`._connection.Connection`
(sockets, requests, recovery) and a :class:`._supervisor.Supervisor`
(reconnects and token renewal); the package docstring lists every part.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Literal

from ..config import ChatConfig, load_config
from ..errors import SessionClosed
from ..files import FileClient
from ..rest import DirectusRest
from . import protocol
from ._connection import Connection
from ._flow import Backoff
from ._subscribing import start_subscription
from ._supervisor import Supervisor
from ._sweep import DEFAULT_SWEEP_INTERVAL
from ._tap import FrameSink, tap_for
from .state import SessionState
from .subscription import Subscription

__all__ = ["RealtimeSession", "SessionState"]

logger = logging.getLogger(__name__)


StateListener = Callable[[SessionState], None]


class RealtimeSession:
    """A logged-in realtime connection to one Directus.

    Args:
        config: a :class:`ChatConfig`, a URL, or None to read ``DIRECTUS_URL``
            (environment or ``.env``).
        request_timeout: seconds for a reply once sent (not counting reconnects).
        connect_timeout: seconds for opening the socket and its auth handshake.
        reconnect_delays: delays between reconnect attempts, iterated afresh per
            outage (default :class:`Backoff`: 0.25 s doubling to 10 s, 30 tries).
        heartbeat: the server's heartbeat period (default: from ``/server/info``);
            two silent periods plus a margin mean a dead socket. Without one, a
            request with no reply within ``request_timeout`` does.
        refresh_margin: refresh the access token this many seconds before it
            expires (default: a fifth of its lifetime, between 1 and 60 s).
        frame_rate: frames per second to stay under; ``"auto"``: the server's rate
            limit, if any; ``None``: pace only after a ``REQUESTS_EXCEEDED``.
        dedupe_field: a unique string field that makes creates exactly-once across
            reconnects (a uuid when the data has none); ``None``: never added.
        sweep_interval: seconds between sweeps (default 30): one small read of new
            ids per subscription, so an event lost without a close (a cluster's
            Redis restart) is read back within two intervals; ``None``: off.
        rest: a :class:`DirectusRest` to use (then the caller closes it).
        frames: show every frame, secrets masked: ``True`` prints them, a string
            prints them after it as a label, a callable gets each line (:mod:`._tap`).

    Raises:
        ConfigError: no usable URL.  ValueError: a ``sweep_interval`` not above 0.
    """

    def __init__(
        self,
        config: ChatConfig | str | None = None,
        *,
        request_timeout: float = 10.0,
        connect_timeout: float = 10.0,
        reconnect_delays: Iterable[float] | None = None,
        heartbeat: float | None = None,
        refresh_margin: float | None = None,
        frame_rate: float | Literal["auto"] | None = "auto",
        dedupe_field: str | None = "client_uid",
        sweep_interval: float | None = DEFAULT_SWEEP_INTERVAL,
        rest: DirectusRest | None = None,
        frames: bool | str | FrameSink = False,
    ) -> None:
        if not isinstance(config, ChatConfig):
            config = load_config(config)
        self._conn = Connection(
            websocket_url=config.websocket_url,
            rest=rest or DirectusRest(config.url, timeout=connect_timeout),
            request_timeout=request_timeout,
            connect_timeout=connect_timeout,
            heartbeat=heartbeat,
            refresh_margin=refresh_margin,
            frame_rate=frame_rate,
            dedupe_field=dedupe_field,
            frames=tap_for(frames),
        )
        self.config = config
        self._owns_rest = rest is None
        delays = reconnect_delays if reconnect_delays is not None else Backoff()
        self._supervisor = Supervisor(self._conn, delays, sweep_interval)

    def __repr__(self) -> str:
        return f"<RealtimeSession {self.config.url} {self._conn.state.now.value}>"

    # -- observing ----------------------------------------------------------

    @property
    def state(self) -> SessionState:
        return self._conn.state.now

    @property
    def user(self) -> dict[str, Any] | None:
        """The logged-in user (``id``, ``first_name``, ``last_name``), None before login."""
        return None if self._conn.user is None else dict(self._conn.user)

    @property
    def reconnects(self) -> int:
        """How many times the socket was re-established after a loss."""
        return self._supervisor.reconnects

    @property
    def last_error(self) -> BaseException | None:
        """Why the last connection attempt failed (or why the session gave up)."""
        return self._conn.last_error

    @property
    def stats(self) -> dict[str, int]:
        """Counts of what happened: ``token_expired``, ``reauthenticated``,
        ``rows_backfilled``, ``creates_found`` / ``creates_resent`` (after a loss),
        ``rate_limited``, ``refused_as_public`` (a FORBIDDEN that raced the token's
        expiry, resent), ``pings_answered`` (the server's heartbeat), ``sweeps``,
        ``rows_swept`` (lost events read back), ``refreshes``."""
        return {**self._conn.stats, "refreshes": self._conn.auth.refreshes}

    @property
    def heartbeat(self) -> float | None:
        """The heartbeat period in use (None: the server has it off; no silence check)."""
        return self._conn.heartbeat_period()

    def on_state_change(self, callback: StateListener) -> Callable[[], None]:
        """Call ``callback(state)`` on every change (in the loop; must not block; one
        that raises is logged and kept); returns a function that removes it."""
        return self._conn.state.on_change(callback)

    async def wait_for_state(
        self, *states: SessionState, timeout: float | None = None
    ) -> SessionState:
        """Wait until the state is one of ``states``; returns it (else TimeoutError)."""
        return await asyncio.wait_for(self._conn.state.wait_for(*states), timeout)

    # -- lifecycle ------------------------------------------------------------

    async def __aenter__(self) -> RealtimeSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def login(self, email: str, password: str) -> None:
        """Log in over REST once, authenticate the socket with the access token; READY.

        Allowed on a new session, or after ``GAVE_UP`` (the subscriptions resume).

        Raises:
            InvalidCredentials: wrong email or password.
            ServerUnreachable: the server does not answer (REST or websocket).
            AuthError: the socket refused the fresh token.
            SessionClosed: the session was closed.
            RuntimeError: already logged in.
        """
        if self._conn.state.now is SessionState.CLOSED:
            raise SessionClosed("this session is closed; make a new RealtimeSession")
        if self._conn.state.now not in (SessionState.IDLE, SessionState.GAVE_UP):
            raise RuntimeError(f"this session is already logged in ({self._conn.state.now.value})")
        await self._supervisor.log_in(email, password)

    async def reconnect(self) -> None:
        """Connect again after ``GAVE_UP`` (one attempt); otherwise wait until READY.

        Raises:
            SessionClosed: closed.  RuntimeError: never logged in.
            ServerUnreachable, AuthError: the attempt failed (the state stays GAVE_UP).
            SessionGaveUp: waited, and the background reconnect gave up.
        """
        if self._conn.state.now is SessionState.CLOSED:
            raise SessionClosed("this session is closed; make a new RealtimeSession")
        if self._conn.state.now is SessionState.IDLE:
            raise RuntimeError("log in first")
        if self._conn.state.now is SessionState.GAVE_UP:
            await self._supervisor.reconnect_now()
            return
        state = await self.wait_for_state(SessionState.READY, SessionState.GAVE_UP)
        if state is SessionState.GAVE_UP:
            raise self._conn.gave_up_error()

    async def logout(self) -> None:
        """Close the socket and end the login on the server (the refresh token dies).

        Raises ServerUnreachable if the server could not be told (closed anyway)."""
        await self._shutdown(revoke="raise")

    async def close(self) -> None:
        """Close the socket, fail what waits with SessionClosed, end the login if possible.

        Never raises; safe to call twice."""
        await self._shutdown(revoke="quiet")

    # -- requests -------------------------------------------------------------

    async def subscribe(
        self,
        collection: str | None = None,
        *,
        query: Mapping[str, Any] | None = None,
        event: protocol.Event | None = None,
        since: int | None = None,
    ) -> Subscription:
        """Subscribe to changes of ``collection`` (default: the config's).

        Args:
            query: Directus query for the event payloads (``fields``, ``filter``);
                ``id`` is added to ``fields`` (the backfill counts by it).
            event: only ``create``, ``update`` or ``delete`` events; None for all.
            since: the highest id already known; by default the session reads
                the current highest so that, after a reconnect, everything
                created above it and missed is delivered.

        Raises:
            Forbidden: no such collection, or no permission to read it.
            RequestTimeout, SessionClosed, SessionGaveUp
        """
        self._check_usable()
        name = collection or self.config.collection
        return await start_subscription(self._conn, name, query=query, event=event, since=since)

    @property
    def files(self) -> FileClient:
        """Upload and download Directus files as the logged-in user (REST, this login's token)."""
        self._check_usable()
        return FileClient(self._conn.rest, self._conn.auth)

    def dedupe_field_for(self, collection: str | None = None) -> str | None:
        """The field :meth:`create` fills to make creates on ``collection`` exactly-once.

        None when the session has no ``dedupe_field``, or has learnt that the
        collection lacks it (a create's reply came back without it, or looking
        a row up by it was refused). A caller that resends a create may put its
        own value there once and reuse it, so the server stores it only once.
        """
        name = collection or self.config.collection
        return self._conn.known.dedupe_field if self._conn.known.dedupe_usable(name) else None

    async def create(
        self, data: Mapping[str, Any], *, collection: str | None = None
    ) -> dict[str, Any]:
        """Create one item in ``collection`` (default: the config's) and return the stored row.

        Held, not sent, while not authenticated. Exactly once across reconnects
        when the collection has the session's ``dedupe_field`` (a uuid is put
        there unless ``data`` has one).

        Raises:
            TypeError: ``data`` is not a mapping (the collection goes by keyword).
            InvalidPayload: ``data`` cannot be sent (a lone surrogate, a value
                JSON cannot hold); raised at once, nothing is sent.
            Forbidden: no permission (or no such collection).
            RequestTimeout: sent, but no reply within ``request_timeout``.
            ServerError: any other refusal (code and message kept).
            SessionClosed, SessionGaveUp
        """
        _check_mapping(data)
        self._check_usable()
        name = collection or self.config.collection
        payload = dict(data)
        dedupe = None
        field = self._conn.known.dedupe_field
        if field is not None and (field in payload or self._conn.known.dedupe_usable(name)):
            dedupe = str(payload.setdefault(field, protocol.new_uid()))
        frame = protocol.items(name, "create", protocol.new_uid(), data=payload)
        row = await self._conn.wire.request(
            frame, "items:create", dedupe=dedupe, watermark=self._conn.known.highest(name)
        )
        return dict(row) if isinstance(row, Mapping) else {"data": row}

    async def read(
        self, collection: str | None, query: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Read items with a Directus query (``fields``, ``filter``, ``sort``, ``limit``).

        A system collection (``directus_users``...) is read over REST: the socket serves none.

        Raises:
            Forbidden, RequestTimeout, ServerError, SessionClosed, SessionGaveUp
        """
        self._check_usable()
        name = collection or self.config.collection
        if name.startswith("directus_"):
            path, token = f"/{name.removeprefix('directus_')}", self._conn.auth.access_token
            return _as_rows(await self._conn.rest.request("GET", path, token=token, params=query))
        frame = protocol.items(name, "read", protocol.new_uid(), query=query)
        return _as_rows(await self._conn.wire.request(frame, "items:read"))

    async def update(
        self, key: protocol.Key, data: Mapping[str, Any], *, collection: str | None = None
    ) -> dict[str, Any]:
        """Change the item ``key`` of ``collection`` (default: the config's); the stored row.

        Held while not authenticated; resent after a reconnect when its reply
        was lost (writing the same values twice is harmless).

        Raises:
            TypeError: ``data`` is not a mapping.
            Forbidden: not yours, no such item, or a field you may not change.
            InvalidPayload, RequestTimeout, ServerError, SessionClosed, SessionGaveUp
        """
        _check_mapping(data)
        self._check_usable()
        name = collection or self.config.collection
        frame = protocol.items(name, "update", protocol.new_uid(), data=dict(data), id=key)
        row = await self._conn.wire.request(frame, "items:update")
        return dict(row) if isinstance(row, Mapping) else {"id": key}

    async def delete(self, key: protocol.Key, *, collection: str | None = None) -> None:
        """Delete the item ``key`` of ``collection`` (default: the config's).

        Resent after a reconnect when its reply was lost; a resend the server
        refuses (FORBIDDEN: the row is gone, or not yours) succeeds if the row
        is gone.

        Raises:
            Forbidden: the item is there and not yours to delete.
            RequestTimeout, ServerError, SessionClosed, SessionGaveUp
        """
        self._check_usable()
        name = collection or self.config.collection
        frame = protocol.items(name, "delete", protocol.new_uid(), id=key)
        await self._conn.wire.request(frame, "items:delete")

    def _check_usable(self) -> None:
        state = self._conn.state.now
        if state is SessionState.CLOSED:
            raise SessionClosed("this session is closed; make a new RealtimeSession")
        if state is SessionState.IDLE:
            raise RuntimeError("not logged in: call login() first")
        if state is SessionState.GAVE_UP:
            raise self._conn.gave_up_error()

    # -- background tasks -----------------------------------------------------

    async def _shutdown(self, *, revoke: Literal["raise", "quiet"]) -> None:
        if self._conn.state.now is SessionState.CLOSED:
            return
        was_idle = self._conn.state.now is SessionState.IDLE
        await self._conn.shut_down(self._supervisor.tasks())
        try:
            if not was_idle:
                timeout = self._conn.connect_timeout
                await self._conn.auth.revoke(quiet=revoke == "quiet", timeout=timeout)
        finally:
            if self._owns_rest:
                await self._conn.rest.aclose()


def _check_mapping(data: object) -> None:
    if not isinstance(data, Mapping):
        raise TypeError(
            f"the item goes as a mapping, not {type(data).__name__}; "
            "name the collection with collection=..."
        )


def _as_rows(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, list):
        return [dict(row) for row in data if isinstance(row, Mapping)]
    if isinstance(data, Mapping):
        return [dict(data)]
    return []
