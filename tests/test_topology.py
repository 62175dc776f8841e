"""The Compose recipe's Redis, run here with a real ``sh`` and ``redis-server``."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from directus_chat_widget.local.server import free_port
from directus_chat_widget.local.topology import compose_files


def _ask(port: int, *words: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall((" ".join(words) + "\r\n").encode())
        return conn.recv(1024)


def test_the_compose_redis_keeps_its_password_off_the_command_line(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed")
    password = "s3cret-redis-password"
    spec = yaml.safe_load(compose_files(2, version="11.1.0")["compose.yaml"])
    redis = spec["services"]["redis"]
    assert redis["environment"]["REDIS_PASSWORD"].startswith("${REDIS_PASSWORD")
    argv = list(redis["command"])
    assert not any("requirepass" in arg and "REDIS_PASSWORD}" in arg for arg in argv)
    assert argv[:2] == ["sh", "-c"]
    # What the container runs, with this host's paths: Compose turns `$$` into `$`;
    # no redis user nor image entrypoint here.
    port = free_port()
    conf = tmp_path / "redis.conf"
    script = (
        argv[2]
        .replace("$$", "$")
        .replace("/tmp/redis.conf", str(conf))
        .replace(f"chown redis:redis {conf}", "true")
        .replace("docker-entrypoint.sh ", "")
        .replace("port 6379", f"port {port}")
    )
    env = {"PATH": os.environ["PATH"], "REDIS_PASSWORD": password}
    process = subprocess.Popen(["sh", "-c", script], env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                reply = _ask(port, "PING")
                break
            except OSError:
                assert time.monotonic() < deadline, "redis did not start"
                time.sleep(0.05)
        assert reply.startswith(b"-NOAUTH")
        assert _ask(port, "AUTH", password) == b"+OK\r\n"
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        assert b"redis-server" in cmdline
        assert password.encode() not in cmdline
        assert conf.stat().st_mode & 0o077 == 0
    finally:
        process.terminate()
        process.wait(10)
