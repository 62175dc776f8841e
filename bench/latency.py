"""Latency of the realtime client, side by side with a raw ``websockets`` client (the floor).

Two measurements, in one run, against one Directus:

1. Send -> own create event (and -> its reply): N sequential messages, the
   time from sending an ``items/create`` to receiving its ``subscription``
   create event, and to its reply; the next message goes when both are in.
   The raw client, RealtimeSession and the official JS SDK run one at a time
   (a second subscriber is always served after the first), in interleaved
   rounds.
2. Login to ready: RealtimeSession.login (one REST login, socket auth with the
   access token) against the tutorial's flow (REST login, then the socket
   logs in again with email and password: a second password hash).

Usage::

    python bench/latency.py                 # starts its own local Directus
    python bench/latency.py --url http://127.0.0.1:8055 --email ... --password ...

Numbers are printed, never asserted: this is not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx
from websockets.asyncio.client import ClientConnection, connect

from directus_chat_widget import protocol
from directus_chat_widget.config import ChatConfig
from directus_chat_widget.local import DEMO_USERS, LocalDirectus
from directus_chat_widget.session import RealtimeSession

COLLECTION = "messages"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"{percentile(ms, 0.5):7.2f} {percentile(ms, 0.9):7.2f} "
        f"{percentile(ms, 0.99):7.2f} {statistics.fmean(ms):7.2f}"
    )


async def rest_login(url: str, email: str, password: str) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        reply = await client.post("/auth/login", json={"email": email, "password": password})
        reply.raise_for_status()
        return str(reply.json()["data"]["access_token"])


class RawClient:
    """The floor: one socket, token auth, one subscription, nothing else."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.waiters: dict[str, asyncio.Future[float]] = {}
        self.replies: dict[str, asyncio.Future[float]] = {}
        self.reader: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, websocket_url: str, token: str) -> RawClient:
        ws = await connect(websocket_url, ping_interval=None, max_size=2**27)
        await ws.send(json.dumps({"type": "auth", "access_token": token}))
        reply = json.loads(await ws.recv())
        assert reply.get("status") == "ok", reply
        await ws.send(
            json.dumps(
                {
                    "type": "subscribe",
                    "collection": COLLECTION,
                    "event": "create",
                    "query": {"fields": ["id", "content"]},
                    "uid": "raw-sub",
                }
            )
        )
        while json.loads(await ws.recv()).get("event") != "init":
            pass
        client = cls(ws)
        client.reader = asyncio.create_task(client.read())
        return client

    async def read(self) -> None:
        async for raw in self.ws:
            now = time.perf_counter()
            body = json.loads(raw)
            if body.get("type") == "ping":
                await self.ws.send('{"type":"pong"}')
            elif body.get("type") == "items":
                reply = self.replies.pop(str(body.get("uid")), None)
                if reply is not None and not reply.done():
                    reply.set_result(now)
            elif body.get("type") == "subscription" and body.get("event") == "create":
                for row in body.get("data", []):
                    waiter = self.waiters.pop(str(row.get("content")), None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(now)

    async def send_and_wait(self, content: str) -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        event: asyncio.Future[float] = loop.create_future()
        reply: asyncio.Future[float] = loop.create_future()
        uid = str(uuid.uuid4())
        self.waiters[content], self.replies[uid] = event, reply
        start = time.perf_counter()
        await self.ws.send(
            json.dumps(
                {
                    "type": "items",
                    "collection": COLLECTION,
                    "action": "create",
                    "data": {"content": content},
                    "uid": uid,
                }
            )
        )
        seen, answered = await asyncio.wait_for(asyncio.gather(event, reply), 30)
        return seen - start, answered - start

    async def close(self) -> None:
        await self.ws.close()
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)


class SessionClient:
    """The kit: RealtimeSession.create, the event seen through a subscription listener."""

    def __init__(self, session: RealtimeSession) -> None:
        self.session = session
        self.waiters: dict[str, asyncio.Future[float]] = {}

    @classmethod
    async def open(cls, url: str, email: str, password: str) -> SessionClient:
        session = RealtimeSession(ChatConfig(url, COLLECTION))
        await session.login(email, password)
        client = cls(session)
        subscription = await session.subscribe(
            COLLECTION, event="create", query={"fields": ["id", "content"]}
        )
        subscription.add_listener(client.on_event)
        return client

    def on_event(self, event: protocol.SubscriptionEvent) -> None:
        now = time.perf_counter()
        for row in event.data:
            waiter = self.waiters.pop(str(row.get("content")), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(now)

    async def send_and_wait(self, content: str) -> tuple[float, float]:
        event: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters[content] = event
        start = time.perf_counter()
        await self.session.create({"content": content}, collection=COLLECTION)
        answered = time.perf_counter()
        seen = await asyncio.wait_for(event, 30)
        return seen - start, answered - start

    async def close(self) -> None:
        await self.session.close()


async def round_trips(
    url: str, email: str, password: str, count: int, blocks: int = 10, js_sdk: bool = True
) -> None:
    config = ChatConfig(url, COLLECTION)
    tag = uuid.uuid4().hex[:6]
    events: dict[str, list[float]] = {"raw websockets": [], "RealtimeSession": []}
    replies: dict[str, list[float]] = {"raw websockets": [], "RealtimeSession": []}

    async def open_raw() -> RawClient | SessionClient:
        return await RawClient.open(config.websocket_url, await rest_login(url, email, password))

    async def open_kit() -> RawClient | SessionClient:
        return await SessionClient.open(url, email, password)

    openers: list[tuple[str, Callable[[], Awaitable[RawClient | SessionClient]]]] = [
        ("raw websockets", open_raw),
        ("RealtimeSession", open_kit),
    ]
    per_block = count // blocks
    lost = 0
    # One client at a time (Directus serves its subscriptions one after the
    # other, so a second subscriber would always be served later), in
    # interleaved rounds (the Python order alternates, the JS SDK's run comes
    # between them) so that every client sees the server in the same state.
    for block in range(blocks):
        for name, opener in openers if block % 2 == 0 else openers[::-1]:
            client = await opener()
            try:
                for _ in range(5):  # warm up (caches, pools)
                    await client.send_and_wait(f"warm-{tag}-{uuid.uuid4().hex}")
                for i in range(per_block):
                    seen, answered = await client.send_and_wait(f"bench-{tag}-{name[:3]}-{i}")
                    events[name].append(seen)
                    replies[name].append(answered)
            finally:
                await client.close()
            if js_sdk and name == openers[0][0]:
                # The official JS SDK on the kit's Node 22 (see bench/js_sdk.py).
                from js_sdk import measure_js_sdk

                sdk = await measure_js_sdk(url, email, password, per_block)
                sdk_name = f"JS SDK {sdk['sdk_version']}"
                events.setdefault(sdk_name, []).extend(ms / 1000 for ms in sdk["latencies_ms"])
                replies.setdefault(sdk_name, []).extend(ms / 1000 for ms in sdk["reply_ms"])
                lost += sdk["lost_events"]
    if lost:
        print(f"(the JS SDK lost {lost} create events)")
    for title, results in (("own create event", events), ("create reply", replies)):
        print(f"\nSend -> {title}, {count} sequential messages each (ms)")
        print(f"{'':18} {'p50':>7} {'p90':>7} {'p99':>7} {'mean':>7}")
        for name, values in results.items():
            print(f"{name:18} {summary(values)}")
        floor, ours = results["raw websockets"], results["RealtimeSession"]
        ratio = statistics.median(ours) / statistics.median(floor)
        overhead = (statistics.median(ours) - statistics.median(floor)) * 1000
        print(f"{'ratio (p50)':18} {ratio:7.2f}x  ({overhead:+.2f} ms over the raw client)")
        for name, values in results.items():
            if name.startswith("JS SDK"):
                versus = statistics.median(ours) / statistics.median(values)
                print(f"{'kit / JS SDK (p50)':18} {versus:7.2f}x")


async def seed_flow(url: str, email: str, password: str) -> float:
    """The tutorial's order: REST login, then the socket logs in with the password again."""
    start = time.perf_counter()
    await rest_login(url, email, password)
    ws = await connect(ChatConfig(url).websocket_url, ping_interval=None)
    try:
        await ws.send(json.dumps({"type": "auth", "email": email, "password": password}))
        reply = json.loads(await ws.recv())
        assert reply.get("status") == "ok", reply
        return time.perf_counter() - start
    finally:
        await ws.close()


async def kit_flow(url: str, email: str, password: str) -> float:
    start = time.perf_counter()
    session = RealtimeSession(ChatConfig(url, COLLECTION))
    try:
        await session.login(email, password)
        return time.perf_counter() - start
    finally:
        await session.close()


async def logins(url: str, email: str, password: str, repeat: int) -> None:
    kit: list[float] = []
    seed: list[float] = []
    rest: list[float] = []
    for _ in range(repeat):
        kit.append(await kit_flow(url, email, password))
        seed.append(await seed_flow(url, email, password))
        start = time.perf_counter()
        await rest_login(url, email, password)
        rest.append(time.perf_counter() - start)
    print(f"\nLogin to ready, median of {repeat} (s)")
    print(f"{'REST login alone':38} {statistics.median(rest):6.3f}")
    print(f"{'kit: REST login + token auth':38} {statistics.median(kit):6.3f}")
    print(f"{'seed: REST login + password auth':38} {statistics.median(seed):6.3f}")
    ratio = statistics.median(seed) / statistics.median(kit)
    print(f"{'seed / kit':38} {ratio:6.2f}x")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running Directus with the chat schema")
    parser.add_argument("--email", default=DEMO_USERS[0].email)
    parser.add_argument("--password", default=DEMO_USERS[0].password)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--logins", type=int, default=5)
    parser.add_argument("--no-js-sdk", action="store_true", help="skip the @directus/sdk column")
    args = parser.parse_args()
    server: LocalDirectus | None = None
    url = args.url
    if url is None:
        print("Starting a local Directus for the benchmark...")
        server = LocalDirectus(tempfile.mkdtemp(prefix="dcw-bench-"), port=0)
        await asyncio.to_thread(server.start)
        await asyncio.to_thread(server.setup_chat)
        url = server.url
    try:
        print(f"Directus at {url}")
        await round_trips(url, args.email, args.password, args.count, js_sdk=not args.no_js_sdk)
        await logins(url, args.email, args.password, args.logins)
    finally:
        if server is not None:
            await asyncio.to_thread(server.stop)


if __name__ == "__main__":
    asyncio.run(main())
