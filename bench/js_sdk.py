"""The official Directus JS SDK's latency, for the side-by-side in bench/latency.py.

``measure_js_sdk`` runs ``bench/js/sdk_latency.mjs`` with the kit's Node: the
SDK logs in its recommended way (REST login, then the socket authenticates
with the access token), subscribes to ``messages`` create events and times N
sequential creates over the socket, send -> own create event. The pinned SDK
(``bench/js/package-lock.json``) is installed with ``npm ci`` once into the
kit's cache folder, never into the repo.

Run alone it starts its own local Directus and prints the SDK's numbers next
to the raw ``websockets`` floor of bench/latency.py::

    python bench/js_sdk.py [--url URL --email E --password P] [--count 200]

Numbers are printed, never asserted: this is not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from directus_chat_widget.errors import DirectusError, InstallFailed
from directus_chat_widget.local import DEMO_USERS, LocalDirectus
from directus_chat_widget.local.install import cache_root
from directus_chat_widget.local.node import NodeRuntime, find_node

logger = logging.getLogger(__name__)

JS_DIR = Path(__file__).resolve().parent / "js"
SCRIPT = "sdk_latency.mjs"
_MARKER = ".installed"
_TAIL_LINES = 30


class JsSdkBenchFailed(DirectusError):
    """The SDK script failed or printed no result.

    Attributes:
        stderr_tail: the last lines the script wrote to stderr.
    """

    def __init__(self, message: str, *, stderr_tail: str = "") -> None:
        super().__init__(f"{message}\n--- stderr (tail) ---\n{stderr_tail}")
        self.stderr_tail = stderr_tail


def _tail(text: str) -> str:
    return "\n".join(text.strip().splitlines()[-_TAIL_LINES:])


def ensure_sdk_installed(runtime: NodeRuntime | None = None) -> Path:
    """Install the pinned SDK into ``<cache>/bench-js-sdk-<lock hash>`` once; return that folder.

    npm runs in a scratch folder renamed into place on success, so a failed or
    concurrent install never leaves a half-built folder behind the marker.

    Raises:
        NodeNotFound: no Node >= 22.
        InstallFailed: ``npm ci`` failed.
    """
    runtime = runtime or find_node()
    lock = (JS_DIR / "package-lock.json").read_bytes()
    digest = hashlib.sha256((JS_DIR / "package.json").read_bytes() + lock).hexdigest()[:12]
    target = cache_root() / f"bench-js-sdk-{digest}"
    if (target / _MARKER).is_file():
        return target
    scratch = target.with_name(f"{target.name}.tmp-{uuid.uuid4().hex[:8]}")
    scratch.mkdir(parents=True)
    try:
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(JS_DIR / name, scratch / name)
        logger.info("Installing the Directus JS SDK into %s", target)
        done = subprocess.run(
            runtime.npm_command("ci", "--no-audit", "--no-fund", "--ignore-scripts"),
            cwd=scratch,
            env=runtime.environment(),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            raise InstallFailed(
                f"npm ci exited with code {done.returncode} installing the JS SDK",
                log_tail=_tail(done.stdout + done.stderr),
            )
        (scratch / _MARKER).write_text(time.strftime("%Y-%m-%dT%H:%M:%S\n"))
        try:
            scratch.rename(target)
        except OSError:
            # Another process installed it meanwhile; theirs is as good as ours.
            if not (target / _MARKER).is_file():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


async def measure_js_sdk(url: str, email: str, password: str, count: int) -> dict[str, Any]:
    """Run the SDK benchmark against ``url``; return its parsed JSON.

    Keys: ``latencies_ms`` (send -> own create event, one per message the
    subscription delivered), ``lost_events`` (creates whose event the SDK's
    subscription never delivered), ``reply_ms`` (send -> create reply, one per
    message), ``login_to_ready_ms`` (SDK REST login + socket token auth),
    ``sdk_version``.

    Raises:
        NodeNotFound: no Node >= 22.
        InstallFailed: installing the SDK failed.
        JsSdkBenchFailed: the script exited non-zero, timed out or printed no result.
    """
    runtime = find_node()
    folder = await asyncio.to_thread(ensure_sdk_installed, runtime)
    # The script must sit next to node_modules for its bare import to resolve;
    # copied on every run so an edited script is what runs.
    shutil.copyfile(JS_DIR / SCRIPT, folder / SCRIPT)
    proc = await asyncio.create_subprocess_exec(
        str(runtime.node),
        SCRIPT,
        cwd=folder,
        env={
            **runtime.environment(),
            # Via the environment, not argv: keeps the password out of `ps`.
            "SDK_BENCH_URL": url,
            "SDK_BENCH_EMAIL": email,
            "SDK_BENCH_PASSWORD": password,
            "SDK_BENCH_COUNT": str(count),
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=120 + count)
    except TimeoutError:
        proc.kill()
        _, err = await proc.communicate()
        raise JsSdkBenchFailed(
            "the JS SDK benchmark timed out", stderr_tail=_tail(err.decode(errors="replace"))
        ) from None
    stderr = _tail(err.decode(errors="replace"))
    if proc.returncode != 0:
        raise JsSdkBenchFailed(f"{SCRIPT} exited with code {proc.returncode}", stderr_tail=stderr)
    lines = out.decode(errors="replace").strip().splitlines()
    try:
        result: dict[str, Any] = json.loads(lines[-1])
        seen, lost = len(result["latencies_ms"]), int(result["lost_events"])
        if seen + lost != count:
            raise ValueError(f"{seen} latencies + {lost} lost events for {count} messages")
    except (IndexError, KeyError, TypeError, ValueError) as exc:
        raise JsSdkBenchFailed(
            f"{SCRIPT} printed no usable result ({exc})", stderr_tail=stderr
        ) from exc
    return result


async def _raw_floor(url: str, email: str, password: str, count: int) -> list[float]:
    """bench/latency.py's raw websockets client: 5 warm-ups, then ``count`` timed sends (ms)."""
    from latency import RawClient, rest_login  # bench/ is sys.path[0] when run as a script

    from directus_chat_widget.config import ChatConfig

    client = await RawClient.open(
        ChatConfig(url).websocket_url, await rest_login(url, email, password)
    )
    tag = uuid.uuid4().hex[:6]
    try:
        for i in range(5):
            await client.send_and_wait(f"warm-{tag}-raw-{i}")
        return [
            (await client.send_and_wait(f"bench-{tag}-raw-{i}"))[0] * 1000 for i in range(count)
        ]
    finally:
        await client.close()


def _row(name: str, ms: list[float]) -> str:
    from latency import percentile

    cells = " ".join(f"{percentile(ms, q):7.2f}" for q in (0.5, 0.9, 0.99))
    return f"{name:22} {cells} {sum(ms) / len(ms):7.2f}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running Directus with the chat schema")
    parser.add_argument("--email", default=DEMO_USERS[0].email)
    parser.add_argument("--password", default=DEMO_USERS[0].password)
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    server: LocalDirectus | None = None
    data_dir: str | None = None
    url = args.url
    if url is None:
        print("Starting a local Directus for the benchmark...")
        data_dir = tempfile.mkdtemp(prefix="dcw-bench-js-")
        server = LocalDirectus(data_dir, port=0)
        await asyncio.to_thread(server.start)
        await asyncio.to_thread(server.setup_chat)
        url = server.url
    try:
        print(f"Directus at {url}")
        # Raw floor in two halves around the SDK run, so both see a similar table size.
        half = args.count // 2
        raw = await _raw_floor(url, args.email, args.password, half)
        sdk = await measure_js_sdk(url, args.email, args.password, args.count)
        raw += await _raw_floor(url, args.email, args.password, args.count - half)
        print(f"\nSend -> own create event, {args.count} sequential messages each (ms)")
        print(f"{'':22} {'p50':>7} {'p90':>7} {'p99':>7} {'mean':>7}")
        print(_row("raw websockets", raw))
        print(_row(f"JS SDK {sdk['sdk_version']}", sdk["latencies_ms"]))
        print(_row("JS SDK create reply", sdk["reply_ms"]))
        print(f"JS SDK events never delivered: {sdk['lost_events']} of {args.count}")
        print(
            f"\nJS SDK login to ready (REST login + socket token auth): "
            f"{sdk['login_to_ready_ms'] / 1000:.3f} s"
        )
    finally:
        if server is not None:
            await asyncio.to_thread(server.stop)
        if data_dir is not None:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    asyncio.run(main())
