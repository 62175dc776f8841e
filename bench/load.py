"""Load: K realtime sessions in one process, each subscribed, S of them sending.

For each server configuration and each K, in one run:

- delivered / expected: every session should see every message once (its own too);
- duplicates: the same message delivered twice to one session;
- p50 and p99 from send to each receiver's event;
- the client process's memory per session (resident, measured around the logins);
- the server side's CPU (every process of the configuration and its children),
  as cores busy during the sending phase.

Configurations, side by side:

- ``sqlite``: one Directus on SQLite (the kit's default);
- ``pg-direct``: the cluster's Postgres and Redis, every client on one instance;
- ``cluster``: two instances on Postgres + Redis, clients through the balancer.

Usage::

    python bench/load.py                                  # every configuration, K = 10 50 100
    python bench/load.py --configs sqlite --sessions 10 50 100 200 --fields slim

``--fields full`` asks each event for the author's name (a join per subscriber
per event); ``slim`` asks for plain columns only (the author resolved from a
cache, as the widget does). Numbers are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from directus_chat_widget.local import DEMO_USERS, LocalCluster, LocalDirectus
from directus_chat_widget.session import RealtimeSession

FIELDS = {
    "full": ["id", "content", "date_created", "user_created.id", "user_created.first_name"],
    "slim": ["id", "content", "date_created", "user_created"],
}
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Target:
    """Where clients connect, and which processes serve them."""

    url: str
    pids: list[int]


@dataclass
class Inbox:
    """What one session received: content -> arrival times."""

    arrivals: dict[str, list[float]] = field(default_factory=dict)

    def take(self, content: str) -> None:
        self.arrivals.setdefault(content, []).append(time.perf_counter())


# -- configurations ------------------------------------------------------------------------


@contextlib.contextmanager
def sqlite_server(folder: Path) -> Iterator[Target]:
    server = LocalDirectus(folder / "sqlite", port=0)
    server.start()
    try:
        server.setup_chat(DEMO_USERS)
        assert server.pid is not None
        yield Target(server.url, [server.pid])
    finally:
        server.stop()


@contextlib.contextmanager
def cluster(folder: Path, *, direct: bool) -> Iterator[Target]:
    local = LocalCluster(folder / ("pg-direct" if direct else "cluster"), instances=2, port=0)
    local.start()
    try:
        local.setup_chat(DEMO_USERS)
        pids = [pid for _, part in local.parts() if (pid := part.pid) is not None]
        url = local.directus[0].url if direct else local.url
        yield Target(url, pids)
    finally:
        local.stop()


# -- measuring -------------------------------------------------------------------------------


def tree_cpu_seconds(roots: list[int]) -> float:
    """CPU time used so far by ``roots`` and every process below them."""
    parent: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parent[pid] = int(fields[1])
        used[pid] = (int(fields[11]) + int(fields[12])) / _TICKS
    wanted = set(roots)
    total = 0.0
    for pid, seconds in used.items():
        walk = pid
        while walk > 1 and walk not in wanted:
            walk = parent.get(walk, 0)
        if walk in wanted:
            total += seconds
    return total


def resident_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def pct(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@dataclass
class Result:
    sessions: int
    expected: int
    delivered: int
    duplicates: int
    p50_ms: float
    p99_ms: float
    kib_per_session: float
    server_cores: float
    sent_per_s: float


async def run_load(
    target: Target, sessions: int, senders: int, messages: int, rate: float, fields: list[str]
) -> Result:
    """Log ``sessions`` in, subscribe each, let ``senders`` of them send; measure."""
    before = resident_bytes()
    gate = asyncio.Semaphore(8)  # logins hash a password on the server: not all at once

    async def one(index: int) -> RealtimeSession:
        user = DEMO_USERS[index % len(DEMO_USERS)]
        session = RealtimeSession(target.url)
        async with gate:
            await session.login(user.email, user.password)
        return session

    clients = await asyncio.gather(*(one(i) for i in range(sessions)))
    tag = f"load-{uuid.uuid4().hex[:8]}|"
    inboxes = [Inbox() for _ in clients]
    query = {"fields": fields, "filter": {"content": {"_starts_with": tag}}}
    for client, inbox in zip(clients, inboxes, strict=True):
        sub = await client.subscribe("messages", event="create", query=query)
        sub.add_listener(
            lambda event, inbox=inbox: [inbox.take(str(row.get("content"))) for row in event.data]
        )
    per_session = (resident_bytes() - before) / sessions
    sent_at: dict[str, float] = {}

    async def send(sender: RealtimeSession, number: int) -> None:
        for i in range(messages):
            content = f"{tag}{number}-{i}"
            sent_at[content] = time.perf_counter()
            await sender.create({"content": content})
            await asyncio.sleep(max(0.0, 1 / rate - (time.perf_counter() - sent_at[content])))

    cpu_before, started = tree_cpu_seconds(target.pids), time.perf_counter()
    await asyncio.gather(*(send(clients[n], n) for n in range(min(senders, sessions))))
    sending = time.perf_counter() - started
    expected_each = len(sent_at)
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline:
        if all(len(inbox.arrivals) >= expected_each for inbox in inboxes):
            break
        await asyncio.sleep(0.1)
    cpu = tree_cpu_seconds(target.pids) - cpu_before
    busy = time.perf_counter() - started
    await asyncio.sleep(1.0)  # time for a duplicate to show, were there one
    latencies, delivered, duplicates = [], 0, 0
    for inbox in inboxes:
        for content, times in inbox.arrivals.items():
            if content in sent_at:
                delivered += 1
                duplicates += len(times) - 1
                latencies.append(times[0] - sent_at[content])
    await asyncio.gather(*(client.close() for client in clients))
    ms = [s * 1000 for s in latencies] or [float("nan")]
    return Result(
        sessions=sessions,
        expected=expected_each * sessions,
        delivered=delivered,
        duplicates=duplicates,
        p50_ms=statistics.median(ms),
        p99_ms=pct(ms, 0.99),
        kib_per_session=per_session / 1024,
        server_cores=cpu / busy,
        sent_per_s=expected_each / sending,
    )


def show(config: str, result: Result) -> None:
    print(
        f"{config:10} {result.sessions:5d} {result.delivered:7d}/{result.expected:<7d}"
        f" {result.duplicates:5d} {result.p50_ms:8.0f} {result.p99_ms:8.0f}"
        f" {result.kib_per_session:8.0f} {result.server_cores:6.2f} {result.sent_per_s:6.1f}",
        flush=True,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", nargs="+", default=["sqlite", "pg-direct", "cluster"])
    parser.add_argument("--sessions", nargs="+", type=int, default=[10, 50, 100])
    parser.add_argument("--senders", type=int, default=5)
    parser.add_argument("--messages", type=int, default=10, help="per sender")
    parser.add_argument("--rate", type=float, default=1.0, help="messages per second per sender")
    parser.add_argument("--fields", choices=sorted(FIELDS), default="slim")
    args = parser.parse_args()
    print(
        f"{args.senders} senders x {args.messages} messages at {args.rate:g}/s each;"
        f" fields: {args.fields}\n"
        f"{'config':10} {'K':>5} {'delivered':>15} {'dups':>5} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'KiB/sess':>8} {'cores':>6} {'sent/s':>6}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="dcw-load-") as tmp:
        folder = Path(tmp)
        for config in args.configs:
            starter = {
                "sqlite": lambda: sqlite_server(folder),
                "pg-direct": lambda: cluster(folder, direct=True),
                "cluster": lambda: cluster(folder, direct=False),
            }[config]
            with starter() as target:
                for sessions in args.sessions:
                    result = await run_load(
                        target,
                        sessions,
                        args.senders,
                        args.messages,
                        args.rate,
                        FIELDS[args.fields],
                    )
                    show(config, result)


if __name__ == "__main__":
    asyncio.run(main())
