"""The loopback address the kit's servers bind to: free ports, taken ports, who answers there."""

from __future__ import annotations

import errno
import socket

import httpx

from ..errors import PortInUse

__all__ = ["HOST", "choose_port", "directus_answers", "free_port", "port_is_free"]

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        # Node listens with SO_REUSEADDR, so a port in TIME_WAIT is usable for it.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def choose_port(kept: int | None, requested: int, *, who: str = "", hint: str = "") -> int:
    """The port a server starts on: the one it ``kept`` from its last start, else ``requested``.

    A restart keeps its port so clients can come back to it; ``requested`` 0
    takes a free port. ``who`` and ``hint`` frame the error's sentence.

    Raises:
        PortInUse: the kept or requested port is taken.
    """
    if kept is not None:
        port = kept
    elif requested == 0:
        return free_port()
    else:
        port = requested
    if not port_is_free(port):
        raise PortInUse(f"{who}port {port} on {HOST} is already in use{hint}")
    return port


def directus_answers(port: int) -> bool:
    """Directus (or HAProxy in front of it) answers ``/server/ping`` on ``port``."""
    try:
        reply = httpx.get(f"http://{HOST}:{port}/server/ping", timeout=2.0)
    except httpx.HTTPError:
        return False
    return reply.status_code == 200 and "pong" in reply.text
