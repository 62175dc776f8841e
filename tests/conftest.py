"""Shared fixtures: a real local Directus, real demo accounts, one timeout constant.

- ``directus``: one server for the whole run (session scope), with the chat
  schema and demo users applied. Shared: never kill or reconfigure it; ask
  ``make_directus`` for a server of your own.
- ``make_directus(**env)``: a fresh server in its own data folder with extra
  Directus settings (``ACCESS_TOKEN_TTL="5s"``...), stopped after the test.
  Fault tests (kill, restart, SIGSTOP) use these.
- ``support.TIMEOUT``: the one base timeout every wait scales from (import it
  with ``from support import TIMEOUT``; slow machines set ``DCW_TIMEOUT_SCALE``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from support import TEST_SERVER_ENV, TIMEOUT, MakeDirectus

from directus_chat_widget.local import DEMO_USERS, DemoUser, LocalDirectus
from directus_chat_widget.session import RealtimeSession


def _started(data_dir: Path, env: dict[str, str]) -> LocalDirectus:
    env = {**TEST_SERVER_ENV, **env}
    server = LocalDirectus(data_dir, port=0, env=env, startup_timeout=12 * TIMEOUT)
    server.start()
    try:
        server.setup_chat()
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="session")
def directus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalDirectus]:
    """A running local Directus with the chat schema and demo users, shared by all tests."""
    server = _started(tmp_path_factory.mktemp("directus"), {})
    yield server
    server.stop()


@pytest.fixture(scope="session")
def demo_users() -> list[DemoUser]:
    """The two demo chat accounts that ``setup_chat`` creates."""
    return list(DEMO_USERS)


@pytest.fixture
async def grace(
    directus: LocalDirectus, demo_users: list[DemoUser]
) -> AsyncIterator[RealtimeSession]:
    """A second user (Grace) logged in on the shared server, for tests that need a peer."""
    session = RealtimeSession(directus.url)
    try:
        await session.login(demo_users[1].email, demo_users[1].password)
        yield session
    finally:
        await session.close()


@pytest.fixture
def make_directus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeDirectus]:
    """Factory for a private server with extra Directus env; all are stopped after the test."""
    servers: list[LocalDirectus] = []

    def make(**env: str) -> LocalDirectus:
        server = _started(tmp_path_factory.mktemp("directus-own"), dict(env))
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.resume()  # a test may leave it SIGSTOPped; SIGTERM needs it running
        server.stop()
