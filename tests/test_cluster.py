"""The chat on a real local cluster: Postgres, Redis, two Directus instances, HAProxy.

Two clusters, one after the other (starting one costs ~20 s): the first for
the tests that kill parts of it, the last of which stops it with
``directus-chat down``; then one whose access tokens live 5 s, shared by the
tests at the end of the module that leave it as they found it (the 5 s-token
soak and the browser test of ``test_browser.py``, both through the balancer).
Every check counts messages; nothing is timed. A machine without Postgres,
Redis or HAProxy skips with the package names to install (.ci/run installs them).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import TIMEOUT
from test_browser import lab  # noqa: F401  (the fixture, here on the balancer)
from test_browser import test_the_widget_in_jupyterlab as widget_test
from test_session import SessionFactory
from test_session_faults import _soak, on  # noqa: F401  (``on``: the fixture)

from directus_chat_widget.errors import DataFolderMismatch
from directus_chat_widget.local import DEMO_USERS, DemoUser
from directus_chat_widget.local.cli import main as cli_main
from directus_chat_widget.local.cluster import LocalCluster, missing_programs
from directus_chat_widget.local.cluster_settings import ClusterSettings
from directus_chat_widget.local.process import group_members
from directus_chat_widget.local.server import port_is_free
from directus_chat_widget.local.topology import Secrets, compose_files, directus_env
from directus_chat_widget.realtime._flow import Backoff
from directus_chat_widget.session import RealtimeSession

pytestmark = [pytest.mark.cluster, pytest.mark.integration]

FAST = Backoff(initial=0.1, factor=2, cap=1.0, attempts=200)
# Seconds between sweeps where a test waits for one (the default is 10 s).
SWEEP = 1.0


def started_cluster(tmp_path_factory: pytest.TempPathFactory, **env: str) -> Iterator[LocalCluster]:
    """A 2-instance cluster with the chat schema and ``env`` for every instance; removed after."""
    missing = missing_programs()
    if missing:
        pytest.skip(f"a local cluster needs the Debian packages {', '.join(missing)}")
    made = LocalCluster(
        tmp_path_factory.mktemp("cluster"),
        instances=2,
        port=0,
        env=env,
        startup_timeout=12 * TIMEOUT,
    )
    try:
        made.start()
        made.setup_chat()
        yield made
    finally:
        made.remove()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """The cluster the tests below kill parts of; the last of them stops it."""
    yield from started_cluster(tmp_path_factory)


class Inbox:
    """Contents of the create events whose content starts with ``tag``, in arrival order."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.contents: list[str] = []

    def __call__(self, event: Any) -> None:
        self.contents += [
            str(row.get("content"))
            for row in event.data
            if str(row.get("content", "")).startswith(self.tag)
        ]


async def wait_until(predicate: Any, what: str, timeout: float = 3 * TIMEOUT) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
async def sessions() -> AsyncIterator[list[RealtimeSession]]:
    made: list[RealtimeSession] = []
    yield made
    for session in made:
        await session.close()


async def logged_in(
    url: str, user: DemoUser, made: list[RealtimeSession], tag: str, **options: Any
) -> tuple[RealtimeSession, Inbox]:
    session = RealtimeSession(url, reconnect_delays=FAST, **options)
    made.append(session)
    await session.login(user.email, user.password)
    inbox = Inbox(tag)
    (await session.subscribe("messages", event="create")).add_listener(inbox)
    return session, inbox


async def stored(cluster: LocalCluster, tag: str) -> list[str]:
    async with httpx.AsyncClient(base_url=cluster.url, timeout=TIMEOUT) as client:
        login = await client.post(
            "/auth/login", json={"email": cluster.admin_email, "password": cluster.admin_password}
        )
        token = login.json()["data"]["access_token"]
        reply = await client.get(
            "/items/messages",
            params={
                "filter[content][_starts_with]": tag,
                "fields": "content",
                "limit": "-1",
                "sort": "id",
            },
            headers={"Authorization": f"Bearer {token}"},
        )
    return [row["content"] for row in reply.json()["data"]]


def websockets_per_instance(cluster: LocalCluster) -> list[int]:
    """Established connections into each instance (HAProxy closes all but websockets)."""
    rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    return [
        sum(1 for row in rows if row[1].endswith(f":{server.port:04X}") and row[3] == "01")
        for server in cluster.directus
    ]


# -- the deploy recipe and the local cluster come from one source --------------------------


def test_the_local_instances_get_what_the_compose_recipe_gives(cluster: LocalCluster) -> None:
    s = cluster.settings
    expected = directus_env(
        Secrets(s.key, s.secret, s.db_password, s.redis_password),
        db_host="127.0.0.1",
        db_port=s.ports["postgres"],
        redis_host="127.0.0.1",
        redis_port=s.ports["redis"],
        public_url=cluster.url,
    )
    for server in cluster.directus:
        assert expected.items() <= server.extra_env.items()
    yaml = pytest.importorskip("yaml")
    files = compose_files(3, version=cluster.version)
    spec = yaml.safe_load(files["compose.yaml"])
    placeholders = Secrets(
        *(
            f"${{{name}:?set {name} in .env}}"
            for name in ("DIRECTUS_KEY", "DIRECTUS_SECRET", "DB_PASSWORD", "REDIS_PASSWORD")
        )
    )
    shared = directus_env(
        placeholders,
        db_host="postgres",
        db_port=5432,
        redis_host="redis",
        redis_port=6379,
        public_url="http://localhost:8055",
    )
    instances = [name for name in spec["services"] if name.startswith("directus-")]
    assert instances == ["directus-1", "directus-2", "directus-3"]
    for name in instances:
        assert shared.items() <= spec["services"][name]["environment"].items()
    for name in instances:
        assert f"server {name} {name}:8055" in files["haproxy.cfg"]
    local_cfg = (cluster.data_dir / "haproxy" / "haproxy.cfg").read_text()
    assert local_cfg.split("defaults", 1)[1].split("frontend")[0] in files["haproxy.cfg"]


# -- events cross instances --------------------------------------------------------------------


async def test_a_create_through_one_instance_reaches_a_subscriber_on_the_other(
    cluster: LocalCluster, sessions: list[RealtimeSession]
) -> None:
    tag = f"ab-{uuid.uuid4().hex[:8]}-"
    a, b = (server.url for server in cluster.directus)
    sender, _ = await logged_in(a, DEMO_USERS[0], sessions, tag)
    _, on_b = await logged_in(b, DEMO_USERS[1], sessions, tag)
    for i in range(5):
        await sender.create({"content": f"{tag}{i}"})
    await wait_until(lambda: len(on_b.contents) >= 5, "the creates made through A, on B")
    assert on_b.contents == [f"{tag}{i}" for i in range(5)]


def resp(*words: str) -> bytes:
    """One Redis command in the protocol's array form (any bytes in a word are fine)."""
    parts = [f"*{len(words)}\r\n".encode()]
    for word in words:
        data = word.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


async def cut_subscriber_links(cluster: LocalCluster, seconds: float) -> int:
    """Close every Redis subscriber connection, again and again, for ``seconds``.

    What a Redis restart does when the instances' subscriber connections come
    back after their publisher connections (a race each restart may lose): what
    is published meanwhile reaches no instance. Publishing connections stay up.
    Returns how many connections were closed.
    """
    assert cluster.redis is not None and cluster.redis.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", cluster.redis.port)
    closed = 0
    try:
        writer.write(resp("AUTH", cluster.redis.password))
        assert (await reader.readline()).startswith(b"+OK")
        deadline = asyncio.get_running_loop().time() + seconds
        while asyncio.get_running_loop().time() < deadline:
            writer.write(resp("CLIENT", "KILL", "TYPE", "pubsub"))
            closed += int((await reader.readline()).strip(b":\r\n") or 0)
            await asyncio.sleep(0.005)
    finally:
        writer.close()
    return closed


async def test_redis_restart_mid_stream(
    cluster: LocalCluster, sessions: list[RealtimeSession]
) -> None:
    """Redis restarts mid-stream, and its subscribers come back last: nothing is lost.

    Measured on 11.17.4: creates stall while Redis is down; once it is back,
    each instance's publisher and subscriber connections reconnect on their
    own timers. Whatever is published before an instance has subscribed again
    reaches none of its sockets, and the sockets stay open, so no reconnect
    reads it back. That order is forced here (the subscriber connections are
    cut for a moment after the restart) so that events are lost every time,
    not one run in two. The session's sweep reads them back: every message
    sent during the outage arrives after it, once, and the rest in order.
    """
    assert cluster.redis is not None
    tag = f"redis-{uuid.uuid4().hex[:8]}-"
    a, b = (server.url for server in cluster.directus)
    sender, on_a = await logged_in(a, DEMO_USERS[0], sessions, tag, sweep_interval=SWEEP)
    receiver, on_b = await logged_in(b, DEMO_USERS[1], sessions, tag, sweep_interval=SWEEP)
    sent: list[str] = []
    sent_while_down: set[str] = set()
    phase = "before"  # then "down" (the outage and the recovery), then "after"

    async def send_all() -> None:
        sent_after = 0
        while sent_after < 10:
            content = f"{tag}{len(sent):04d}"
            down_before = phase == "down"
            await sender.create({"content": content})
            sent.append(content)
            if down_before or phase == "down":
                sent_while_down.add(content)
            elif phase == "after":
                sent_after += 1
            await asyncio.sleep(0.03)

    sending = asyncio.create_task(send_all())
    await wait_until(lambda: len(on_b.contents) >= 10, "the first messages")
    phase = "down"
    await asyncio.to_thread(cluster.redis.stop)
    await asyncio.sleep(1.0)
    await asyncio.to_thread(cluster.redis.start)
    assert await cut_subscriber_links(cluster, 1.5) > 0
    # The bus is back once an event crosses from A to B.
    for attempt in range(60):
        probe = f"{tag}probe-{attempt}"
        await sender.create({"content": probe})
        with contextlib.suppress(pytest.fail.Exception):
            await wait_until(lambda probe=probe: probe in on_b.contents, "a probe", timeout=1.0)
            break
    else:
        pytest.fail("no event crossed from A to B within a minute of Redis' restart")
    phase = "after"
    await asyncio.wait_for(sending, 6 * TIMEOUT)
    every = list(sent)
    assert len(sent_while_down) >= 10, "too few messages sent during the outage to tell"
    assert [c for c in await stored(cluster, tag) if "probe-" not in c] == every
    for session, inbox in ((receiver, on_b), (sender, on_a)):
        with contextlib.suppress(pytest.fail.Exception):
            await wait_until(lambda inbox=inbox: set(every) <= set(inbox.contents), "all")
        await asyncio.sleep(0.5)  # room for a duplicate to show, were there one
        seen = [content for content in inbox.contents if "probe-" not in content]
        lost = [content for content in every if content not in seen]
        who = (session.user or {}).get("first_name")
        assert lost == [], f"{len(lost)} of {len(every)} lost at {who}"
        assert len(seen) == len(set(seen)) == len(every), "a duplicate"
        calm = [content for content in seen if content not in sent_while_down]
        assert calm == [content for content in every if content not in sent_while_down]
    # The fault did lose events, and the sweep is what brought them back.
    assert receiver.stats["rows_swept"] > 0
    print(
        f"Redis restart: {len(sent_while_down)} of {len(every)} sent during the outage;"
        f" read back by the sweep: {receiver.stats['rows_swept']} at B,"
        f" {sender.stats['rows_swept']} at A"
    )


# -- an instance dies ---------------------------------------------------------------------------


async def test_killing_one_instance_loses_and_repeats_nothing(
    cluster: LocalCluster, sessions: list[RealtimeSession]
) -> None:
    tag = f"kill-{uuid.uuid4().hex[:8]}-"
    ada, on_ada = await logged_in(cluster.url, DEMO_USERS[0], sessions, tag)
    grace, on_grace = await logged_in(cluster.url, DEMO_USERS[1], sessions, tag)
    # Round robin decides where a socket lands: log Grace in again until the two
    # chat across both instances.
    for _ in range(6):
        await asyncio.sleep(0.3)
        if sorted(websockets_per_instance(cluster)) == [1, 1]:
            break
        await grace.close()
        grace, on_grace = await logged_in(cluster.url, DEMO_USERS[1], sessions, tag)
    spread = websockets_per_instance(cluster)
    assert sorted(spread) == [1, 1], spread
    total, kill_at = 30, 10

    async def send_all(session: RealtimeSession, who: str) -> None:
        for i in range(total):
            await session.create({"content": f"{tag}{who}{i:04d}"})
            await asyncio.sleep(0.03)

    sending = [asyncio.create_task(send_all(ada, "a")), asyncio.create_task(send_all(grace, "g"))]
    await wait_until(lambda: len(on_grace.contents) >= kill_at, "the first messages")
    victim = cluster.directus[0]
    await asyncio.to_thread(victim.kill)
    await asyncio.wait_for(asyncio.gather(*sending), 6 * TIMEOUT)
    for inbox in (on_ada, on_grace):
        await wait_until(lambda inbox=inbox: len(inbox.contents) >= 2 * total, "every message")
    await asyncio.sleep(0.5)  # room for a duplicate to show, were there one
    assert ada.reconnects + grace.reconnects >= 1
    for inbox in (on_ada, on_grace):
        assert len(inbox.contents) == len(set(inbox.contents)) == 2 * total
        for who in "ag":
            mine = [c for c in inbox.contents if c.startswith(f"{tag}{who}")]
            assert mine == [f"{tag}{who}{i:04d}" for i in range(total)]
    rows = await stored(cluster, tag)
    assert sorted(rows) == sorted(on_ada.contents)
    await asyncio.to_thread(victim.start)


# -- down ---------------------------------------------------------------------------------------


def test_down_leaves_no_process_and_no_port(cluster: LocalCluster) -> None:
    parts = cluster.status()
    assert all(part.running for part in parts), parts
    pids = [part.pid for part in parts if part.pid is not None]
    ports = [part.port for part in parts if part.port is not None]
    assert cli_main(["down", "--data-dir", str(cluster.data_dir)]) == 0
    assert [pid for pid in pids if group_members(pid)] == []
    assert [port for port in ports if not port_is_free(port)] == []
    assert not any(part.running for part in cluster.status())


# -- a cluster folder read without starting anything -------------------------------------------


def test_down_and_status_read_a_folder_of_another_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ClusterSettings.load_or_create(tmp_path, "10.0.0")
    other = LocalCluster(tmp_path, version="11.1.0")
    assert [part.running for part in other.status()] == [False] * 5
    other.stop()
    capsys.readouterr()
    assert cli_main(["status", "--data-dir", str(tmp_path)]) == 3
    assert f"Directus 10.0.0 cluster ({tmp_path})" in capsys.readouterr().out
    with pytest.raises(DataFolderMismatch, match=r"10\.0\.0"):
        LocalCluster(tmp_path, version="11.1.0").start()


def test_status_and_stop_keep_the_count_the_cluster_started_with(tmp_path: Path) -> None:
    settings = ClusterSettings.load_or_create(tmp_path, "11.1.0")
    settings.instances = 3
    settings.save(tmp_path)
    asked_two = LocalCluster(tmp_path, instances=2, version="11.1.0")
    names = [part.name for part in asked_two.status()]
    assert names == ["postgres", "redis", "directus-1", "directus-2", "directus-3", "haproxy"]
    LocalCluster(tmp_path, instances=2, version="11.1.0").stop()
    stored = ClusterSettings.load(tmp_path)
    assert stored is not None and stored.instances == 3


def test_up_with_another_count_restarts_the_cluster_and_down_stops_all(tmp_path: Path) -> None:
    if missing_programs():
        pytest.skip("a local cluster needs Postgres, Redis and HAProxy")
    two = LocalCluster(tmp_path, instances=2, port=0, startup_timeout=12 * TIMEOUT)
    try:
        two.start()
        three = LocalCluster(tmp_path, instances=3, startup_timeout=12 * TIMEOUT).start()
        assert len(three.directus) == 3
        parts = three.status()
        assert all(part.running for part in parts), parts
        stored = ClusterSettings.load(tmp_path)
        assert stored is not None and stored.instances == 3
        pids = [part.pid for part in parts if part.pid is not None]
        assert cli_main(["down", "--data-dir", str(tmp_path)]) == 0
        assert [pid for pid in pids if group_members(pid)] == []
    finally:
        LocalCluster(tmp_path).remove()


# -- 5-second tokens and the widget in a browser, through the balancer ---------------------------
# Last in the module: the cluster they share starts after the ones above are gone.


@pytest.fixture(scope="module")
def short_tokens(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A cluster whose access tokens live 5 s, for tests that neither kill nor reconfigure it."""
    yield from started_cluster(tmp_path_factory, ACCESS_TOKEN_TTL="5s")


@pytest.fixture(scope="module")
def directus(short_tokens: LocalCluster) -> LocalCluster:
    """Here, the server of test_browser's ``lab`` and conftest's ``grace``: the balancer.

    They need its ``url`` and nothing else.
    """
    return short_tokens


@pytest.mark.slow
async def test_five_second_tokens_through_the_balancer(
    short_tokens: LocalCluster,
    on: SessionFactory,  # noqa: F811  (the fixture imported above)
    demo_users: list[DemoUser],
) -> None:
    """test_session_faults' soak, on two instances behind HAProxy (16 s, ~4 renewals)."""
    fast, slow = await _soak(short_tokens, on, demo_users, fast_count=800, slow_count=16)
    assert slow.stats["refreshes"] >= 3
    assert fast.reconnects == 0 and slow.reconnects == 0


# The browser test itself, run again here with the ``directus`` above: JupyterLab,
# Chromium and the widget talk to the balancer, with 5-second tokens.
test_the_widget_in_jupyterlab_behind_the_balancer = pytest.mark.browser(widget_test)
