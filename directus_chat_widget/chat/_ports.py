"""What ChatRoom needs from a session, as protocols: RealtimeSession has it, a fake may too.

And the two steps every live part of a room takes with a subscription:
:func:`attach` (listen, and say which rows it shows) and :func:`detach`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal, Protocol

from ..errors import DirectusError

__all__ = ["SessionLike", "SubscriptionEventLike", "SubscriptionLike", "attach", "detach"]

logger = logging.getLogger(__name__)


class SubscriptionEventLike(Protocol):
    """What the room reads from a subscription event (protocol.SubscriptionEvent)."""

    @property
    def event(self) -> str: ...

    @property
    def data(self) -> Sequence[Mapping[str, Any]]: ...

    @property
    def keys(self) -> Sequence[Any]: ...


class SubscriptionLike(Protocol):
    """The part of the session's Subscription the room uses."""

    def add_listener(self, callback: Callable[[SubscriptionEventLike], None]) -> Any: ...

    def unsubscribe(self) -> Awaitable[Any]: ...


class SessionLike(Protocol):
    """The part of RealtimeSession the room uses (a fake may stand in for tests)."""

    @property
    def user(self) -> Mapping[str, Any] | None: ...

    async def subscribe(
        self,
        collection: str,
        *,
        query: dict[str, Any] | None = ...,
        event: Literal["create", "update", "delete"] | None = ...,
    ) -> SubscriptionLike: ...

    async def create(
        self, data: dict[str, Any], *, collection: str | None = ...
    ) -> dict[str, Any]: ...

    async def read(
        self, collection: str, query: dict[str, Any] | None = ...
    ) -> list[dict[str, Any]]: ...

    async def update(
        self, key: Any, data: Mapping[str, Any], *, collection: str | None = ...
    ) -> dict[str, Any]: ...

    async def delete(self, key: Any, *, collection: str | None = ...) -> None: ...


def attach(
    subscription: SubscriptionLike,
    on_event: Callable[[SubscriptionEventLike], None],
    shown: Callable[[], list[Any]],
) -> Callable[[], Any] | None:
    """Send ``subscription``'s events to ``on_event``; returns what stops that (if any).

    ``shown()`` is the ids the listener holds: after a reconnect gap, those
    that are gone come as deletes (a session that cannot track ids skips it).
    """
    remover = subscription.add_listener(on_event)
    track = getattr(subscription, "track", None)
    if callable(track):
        track(shown)
    return remover if callable(remover) else None


async def detach(
    subscription: SubscriptionLike | None, remover: Callable[[], Any] | None, what: str
) -> None:
    """Stop listening and unsubscribe; a session already closed or gone is no error."""
    if remover is not None:
        remover()
    if subscription is None:
        return
    try:
        await subscription.unsubscribe()
    except DirectusError as exc:
        # The session may be closed or gone: the subscription died with it.
        logger.debug("unsubscribing from %s failed: %s", what, exc)
