"""Load: K realtime sessions in one process, each subscribed, S of them sending.

For each server configuration, each K and each send rate, in one run:

- delivered / expected: every session should see every message once (its own too);
- duplicates: the same message delivered twice to one session;
- p50 and p99 from send to each receiver's event;
- memory per session, resident, measured around the logins: the client process's,
  and the server side's (every process of the configuration);
- the server side's CPU (every process of the configuration and its children) and
  the client's, as cores busy during the sending phase; and the server's CPU
  milliseconds per event delivered (``ms/ev``: the per-subscriber cost, which
  other load on the machine disturbs less than the latencies);
- a verdict: ``ok``, or ``behind`` when delivery did not keep up (a message still
  missing after the drain, the senders slowed down, or p99 past ``--p99-limit``).

Configurations, side by side:

- ``sqlite``: one Directus on SQLite (the kit's default);
- ``pg-direct``: the cluster's Postgres and Redis, every client on one instance;
- ``cluster``: two instances on Postgres + Redis, clients through the balancer.

Usage::

    python bench/load.py                                  # every configuration, K = 10 50 100
    python bench/load.py --configs cluster --sessions 10 50 100 200 --rates 5 10 20 40 --knee
    python bench/load.py --configs cluster --sessions 100 --idle 20 --sweep 1   # the sweep's cost

``--knee`` stops each K's ladder of rates at the first that falls behind: the
knee lies between it and the rate before. ``--fields full`` asks each event for
the author's names (the join the chat's subscription asks for; one per
subscriber per event); ``slim`` asks for the same plain columns with the
author as a bare id. ``--sweep`` sets the sessions' sweep interval (``off``:
none); ``--idle`` first measures the server's CPU with everyone subscribed and
nobody sending. The sessions are logged in once per configuration (the
largest K), and each step uses the first K of them. Numbers are printed, never
asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from procstats import load_average, resident_bytes, tree_cpu_seconds, tree_rss_bytes

from directus_chat_widget.chat import MESSAGE_FIELDS
from directus_chat_widget.errors import ServerError, ServerUnreachable
from directus_chat_widget.local import DEMO_USERS, LocalCluster, LocalDirectus
from directus_chat_widget.realtime._sweep import DEFAULT_SWEEP_INTERVAL
from directus_chat_widget.realtime.protocol import SubscriptionEvent
from directus_chat_widget.session import RealtimeSession

# What the chat's subscription asks for, and the same with the author as a bare id.
FIELDS = {
    "full": list(MESSAGE_FIELDS),
    "slim": [f for f in MESSAGE_FIELDS if not f.startswith("user_created.")] + ["user_created"],
}


@dataclass
class Target:
    """Where clients connect, and which processes serve them."""

    url: str
    pids: list[int]


@dataclass
class Inbox:
    """What one session received: content -> arrival times."""

    arrivals: dict[str, list[float]] = field(default_factory=dict)

    def take(self, event: SubscriptionEvent) -> None:
        now = time.perf_counter()
        for row in event.data:
            self.arrivals.setdefault(str(row.get("content")), []).append(now)


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


def pct(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@dataclass
class Result:
    sessions: int
    rate: float
    expected: int
    delivered: int
    duplicates: int
    p50_ms: float
    p99_ms: float
    server_cores: float
    server_ms_per_event: float
    client_cores: float
    sent_per_s: float
    verdict: str


@dataclass
class Pool:
    """Sessions logged in once per configuration; a step uses the first K."""

    clients: list[RealtimeSession]
    kib_per_session: float
    server_kib_per_session: float


async def log_in(target: Target, count: int, sweep: float | None) -> Pool:
    before, server_before = resident_bytes(), tree_rss_bytes(target.pids)
    gate = asyncio.Semaphore(4)  # logins hash a password on the server: not all at once

    async def one(index: int) -> RealtimeSession:
        user = DEMO_USERS[index % len(DEMO_USERS)]
        for attempt in range(5):
            # Generous timeouts: a login hashes a password, slow on a busy machine.
            session = RealtimeSession(
                target.url, sweep_interval=sweep, connect_timeout=30, request_timeout=30
            )
            try:
                async with gate:
                    await session.login(user.email, user.password)
                return session
            except (ServerError, ServerUnreachable) as exc:  # "Under pressure": later
                await session.close()
                if attempt == 4:
                    raise
                print(f"login {index}: {exc}; again", flush=True)
                await asyncio.sleep(2.0 * (attempt + 1))
        raise AssertionError("unreachable")

    clients = await asyncio.gather(*(one(i) for i in range(count)))
    client_kib = (resident_bytes() - before) / count / 1024
    return Pool(
        list(clients), client_kib, (tree_rss_bytes(target.pids) - server_before) / count / 1024
    )


async def idle_cores(target: Target, pool: Pool, sessions: int, seconds: float) -> float:
    """Server cores used while ``sessions`` are subscribed and nobody sends."""
    query = {"fields": ["id"], "filter": {"content": {"_starts_with": "idle|"}}}
    subs = [
        await c.subscribe("messages", event="create", query=query) for c in pool.clients[:sessions]
    ]
    cpu, started = tree_cpu_seconds(target.pids), time.perf_counter()
    await asyncio.sleep(seconds)
    used = (tree_cpu_seconds(target.pids) - cpu) / (time.perf_counter() - started)
    await asyncio.gather(*(sub.unsubscribe() for sub in subs))
    return used


@dataclass
class Step:
    """One rate step: ``rate`` messages per second in all, from ``senders`` sessions."""

    sessions: int
    senders: int
    rate: float
    seconds: float
    fields: list[str]
    drain: float
    p99_limit_ms: float


async def run_step(target: Target, pool: Pool, step: Step) -> Result:
    """Subscribe the first K sessions, let S of them send for a while; measure."""
    clients = pool.clients[: step.sessions]
    tag = f"load-{uuid.uuid4().hex[:8]}|"
    inboxes = [Inbox() for _ in clients]
    query = {"fields": step.fields, "filter": {"content": {"_starts_with": tag}}}
    subs = []
    for client, inbox in zip(clients, inboxes, strict=True):
        sub = await client.subscribe("messages", event="create", query=query)
        sub.add_listener(inbox.take)
        subs.append(sub)
    senders = min(step.senders, step.sessions, max(1, round(step.rate * step.seconds)))
    each = max(1, round(step.rate * step.seconds / senders))
    sent_at: dict[str, float] = {}

    async def send(sender: RealtimeSession, number: int) -> None:
        # The senders take turns: the messages go out evenly spaced, not in bursts.
        await asyncio.sleep(number / step.rate)
        for i in range(each):
            content = f"{tag}{number}-{i}"
            sent_at[content] = time.perf_counter()
            await sender.create({"content": content})
            if i < each - 1:
                wait = senders / step.rate - (time.perf_counter() - sent_at[content])
                await asyncio.sleep(max(0.0, wait))

    cpu_before, started = tree_cpu_seconds(target.pids), time.perf_counter()
    client_before = time.process_time()
    await asyncio.gather(*(send(clients[n], n) for n in range(senders)))
    # From the first send to one interval after the last: n sends at the rate take n / rate.
    sending = max(sent_at.values()) - started + 1 / step.rate
    expected_each = len(sent_at)
    deadline = time.perf_counter() + step.drain
    while time.perf_counter() < deadline:
        if all(len(inbox.arrivals) >= expected_each for inbox in inboxes):
            break
        await asyncio.sleep(0.1)
    cpu = tree_cpu_seconds(target.pids) - cpu_before
    busy = time.perf_counter() - started
    client_cpu = time.process_time() - client_before
    await asyncio.sleep(1.0)  # time for a duplicate to show, were there one
    latencies, delivered, duplicates = [], 0, 0
    for inbox in inboxes:
        for content, times in inbox.arrivals.items():
            if content in sent_at:
                delivered += 1
                duplicates += len(times) - 1
                latencies.append(times[0] - sent_at[content])
    await asyncio.gather(*(sub.unsubscribe() for sub in subs), return_exceptions=True)
    ms = [s * 1000 for s in latencies] or [float("nan")]
    p99 = pct(ms, 0.99)
    sent_per_s = expected_each / sending
    expected = expected_each * step.sessions
    behind = [
        *(["missing"] if delivered < expected else []),
        *(["slow sends"] if sent_per_s < 0.9 * step.rate else []),
        *([f"p99>{step.p99_limit_ms:g}"] if not p99 <= step.p99_limit_ms else []),
    ]
    return Result(
        sessions=step.sessions,
        rate=step.rate,
        expected=expected,
        delivered=delivered,
        duplicates=duplicates,
        p50_ms=statistics.median(ms),
        p99_ms=p99,
        server_cores=cpu / busy,
        server_ms_per_event=1000 * cpu / max(1, delivered),
        client_cores=client_cpu / busy,
        sent_per_s=sent_per_s,
        verdict="behind: " + ", ".join(behind) if behind else "ok",
    )


HEADER = (
    f"{'config':10} {'K':>4} {'rate':>5} {'delivered':>15} {'dups':>4} {'p50 ms':>7}"
    f" {'p99 ms':>7} {'server':>6} {'ms/ev':>6} {'client':>6} {'sent/s':>6}  verdict"
)


def show(config: str, result: Result) -> None:
    print(
        f"{config:10} {result.sessions:4d} {result.rate:5g}"
        f" {result.delivered:7d}/{result.expected:<7d} {result.duplicates:4d}"
        f" {result.p50_ms:7.0f} {result.p99_ms:7.0f} {result.server_cores:6.2f}"
        f" {result.server_ms_per_event:6.2f}"
        f" {result.client_cores:6.2f} {result.sent_per_s:6.1f}  {result.verdict}",
        flush=True,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", nargs="+", default=["sqlite", "pg-direct", "cluster"])
    parser.add_argument("--sessions", nargs="+", type=int, default=[10, 50, 100])
    parser.add_argument("--senders", type=int, default=5)
    parser.add_argument("--rates", nargs="+", type=float, default=[5.0], help="messages/s in all")
    parser.add_argument("--seconds", type=float, default=8.0, help="of sending per step")
    parser.add_argument("--drain", type=float, default=15.0, help="seconds to wait after")
    parser.add_argument("--p99-limit", type=float, default=3000.0, help="ms; past it: behind")
    parser.add_argument("--knee", action="store_true", help="stop a K's rates once behind")
    parser.add_argument("--fields", choices=sorted(FIELDS), default="slim")
    parser.add_argument("--sweep", default="default", help="seconds, 'off' or 'default'")
    parser.add_argument("--idle", type=float, default=0.0, help="seconds of idle measure")
    args = parser.parse_args()
    sweep = (
        DEFAULT_SWEEP_INTERVAL
        if args.sweep == "default"
        else None
        if args.sweep == "off"
        else float(args.sweep)
    )
    print(
        f"{args.senders} senders, {args.seconds:g} s per rate; fields: {args.fields};"
        f" sweep: {sweep or 'off'}; load average before: {load_average()}",
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
                pool = await log_in(target, max(args.sessions), sweep)
                print(
                    f"{config}: per logged-in session, {pool.kib_per_session:.0f} KiB in the"
                    f" client, {pool.server_kib_per_session:.0f} KiB on the server",
                    flush=True,
                )
                if args.idle:
                    for k in args.sessions:
                        cores = await idle_cores(target, pool, k, args.idle)
                        per_read = f", {1000 * cores * sweep / k:.1f} ms per sweep" if sweep else ""
                        print(f"{config}: K={k} idle, nobody sending: {cores:.3f} cores{per_read}")
                print(HEADER, flush=True)
                for sessions in args.sessions:
                    for rate in args.rates:
                        step = Step(
                            sessions,
                            args.senders,
                            rate,
                            args.seconds,
                            FIELDS[args.fields],
                            args.drain,
                            args.p99_limit,
                        )
                        result = await run_step(target, pool, step)
                        show(config, result)
                        if args.knee and result.verdict != "ok":
                            break
                print(f"load average after {config}: {load_average()}", flush=True)
                await asyncio.gather(*(c.close() for c in pool.clients))


if __name__ == "__main__":
    asyncio.run(main())
