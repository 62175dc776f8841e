"""The login's tokens: the newest pair, when to refresh it, how to end it.

Directus rotates refresh tokens: a refresh hands out a new one and the old one
stops working, so exactly one place keeps them and every refresh goes through
its lock. The access token's expiry is read from its JWT ``exp`` claim, the
very value the server schedules ``TOKEN_EXPIRED`` from (whole seconds, so up
to a second before ``login time + expires``).
"""

from __future__ import annotations

import asyncio
import logging
import time

from ..errors import DirectusError, ServerUnreachable
from ..rest import DirectusRest, Tokens
from . import protocol

__all__ = ["Credentials"]

logger = logging.getLogger(__name__)

# Nothing is sent this close to the token's expiry: a frame that reaches the
# server after its expiry timer fired is handled as the public (refused, then
# resent after the re-auth; on a Directus 11 without the kit's socket guard it
# runs with no permission check, and a create is stored anonymously), and no
# TOKEN_EXPIRED can warn us in time.
_GUARD = 0.25
# Without proactive refresh, past expiry by this much with no TOKEN_EXPIRED
# seen, refresh anyway rather than hold sends forever.
_OVERDUE = 2.0
# Beyond this difference between the JWT's exp and our own estimate, clocks disagree.
_SKEW = 2.0


class Credentials:
    """The tokens of one login.

    Args:
        rest: the REST client that logs in and refreshes.
        refresh_margin: refresh this many seconds before the access token
            expires; None: a fifth of its lifetime, between 1 and 60 s (at most
            half the lifetime). Zero or less turns proactive refresh off: then
            the server's ``TOKEN_EXPIRED`` triggers each refresh, and sends are
            held from just before the expiry until it has been handled.
    """

    def __init__(self, rest: DirectusRest, *, refresh_margin: float | None) -> None:
        self._rest = rest
        self._margin = refresh_margin
        self._lock = asyncio.Lock()
        self.tokens: Tokens | None = None
        self.refreshes = 0

    @property
    def access_token(self) -> str:
        """The current access token.

        Raises:
            RuntimeError: not logged in.
        """
        if self.tokens is None:
            raise RuntimeError("not logged in")
        return self.tokens.access_token

    async def login(self, email: str, password: str) -> Tokens:
        """Log in over REST (the one password check of a session).

        Raises:
            InvalidCredentials, ServerUnreachable: as DirectusRest.login.
        """
        self.tokens = await self._rest.login(email, password)
        return self.tokens

    def expires_at(self) -> float | None:
        """Epoch seconds at which the access token expires (None: not logged in)."""
        return None if self.tokens is None else _expiry(self.tokens)

    def margin(self) -> float:
        if self._margin is not None:
            return self._margin
        lifetime = self.tokens.expires_ms / 1000 if self.tokens else 900.0
        return min(60.0, max(1.0, 0.2 * lifetime), 0.5 * lifetime)

    def seconds_to_refresh(self) -> float:
        """How long until a proactive refresh is due (<= 0: now; inf: never)."""
        expires = self.expires_at()
        if expires is None or self.margin() <= 0:
            return float("inf")
        return expires - self.margin() - time.time()

    @property
    def proactive(self) -> bool:
        """Whether the token is refreshed before it expires (rather than on TOKEN_EXPIRED)."""
        return self.margin() > 0

    def nearly_expired(self) -> bool:
        """True from just before the access token expires: hold sends now."""
        expires = self.expires_at()
        return expires is not None and time.time() >= expires - _GUARD

    def overdue(self) -> bool:
        """Expired a while ago, and still no refresh: refresh without waiting any longer."""
        expires = self.expires_at()
        return expires is not None and time.time() >= expires + _OVERDUE

    def _usable(self, tokens: Tokens) -> bool:
        return time.time() < _expiry(tokens) - max(self.margin(), 0.0)

    async def fresh(self, stale: Tokens | None = None) -> Tokens:
        """Tokens good for a while: refreshed over REST if ``stale`` or about to expire.

        Raises:
            TokenExpired: the refresh token no longer works (log in again).
            ServerUnreachable: the server does not answer.
        """
        async with self._lock:
            tokens = self.tokens
            if tokens is None:
                raise RuntimeError("not logged in")
            if tokens is not stale and self._usable(tokens):
                return tokens
            self.tokens = await self._rest.refresh(tokens.refresh_token)
            self.refreshes += 1
            logger.debug("access token refreshed")
            return self.tokens

    async def revoke(self, *, quiet: bool, timeout: float) -> None:
        """End the login on the server and forget the tokens.

        Raises:
            ServerUnreachable: the server could not be told (unless ``quiet``).
        """
        tokens, self.tokens = self.tokens, None
        if tokens is None:
            return
        try:
            await asyncio.wait_for(self._rest.logout(tokens.refresh_token), timeout)
        except (DirectusError, TimeoutError) as exc:
            if not quiet:
                raise ServerUnreachable(f"could not log out on the server: {exc}") from exc
            logger.debug("logout on close failed: %s", exc)


def _expiry(tokens: Tokens) -> float:
    """The JWT's ``exp`` when our clock agrees with the server's, else our own estimate.

    ``exp`` is what the server's expiry timer uses, but it is in the server's
    clock: with a skew of more than a couple of seconds it would have us
    refresh too early or too late, so then ``received_at + expires`` is used.
    """
    local = tokens.expires_at
    claimed = protocol.jwt_expiry(tokens.access_token)
    if claimed is None or abs(claimed - local) > _SKEW:
        return local
    return min(claimed, local)
