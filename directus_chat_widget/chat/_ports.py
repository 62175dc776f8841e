"""What ChatRoom needs from a session, as protocols: RealtimeSession has it, a fake may too."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal, Protocol

__all__ = ["SessionLike", "SubscriptionEventLike", "SubscriptionLike"]


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
