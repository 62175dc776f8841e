"""``RealtimeSession(frames=...)``: every frame shown, no secret ever.

Pure tests of the masking first; then a real session on the shared server,
whose tokens (both of every login and reconnect) must never appear in what it
showed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from support import TIMEOUT

from directus_chat_widget.local import DemoUser, LocalDirectus
from directus_chat_widget.realtime import FrameLog
from directus_chat_widget.realtime._tap import (
    MASK,
    FrameTap,
    _TappedSocket,
    describe,
    mask_secrets,
    tap_for,
)
from directus_chat_widget.session import RealtimeSession, SessionState

# Shaped like Directus' own tokens: a JWT access token, a url-safe refresh token.
JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6IjEyMyJ9.c2lnbmF0dXJlLXBhcnQ"
REFRESH = "Qm9yRmV3ZXJTZWNyZXRzUGxlYXNlX3RoaXNfaXNfYV9yZWZyZXNoX3Rva2Vu"


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "auth", "access_token": JWT},
        {"type": "auth", "refresh_token": REFRESH},
        {"type": "auth", "email": "ada@example.com", "password": "ada-chat-demo"},
        {"type": "auth", "status": "ok", "refresh_token": REFRESH},
        {"type": "items", "data": [{"nested": {"Token": JWT}}, {"secret": "tfa"}]},
        {"type": "server", "error": {"message": f"bad token {JWT} given"}},
    ],
    ids=["access", "refresh", "password", "auth-ok", "nested", "in-text"],
)
def test_no_secret_survives_masking(frame: dict[str, Any]) -> None:
    shown = describe(json.dumps(frame))
    for secret in (JWT, REFRESH, "ada-chat-demo", "tfa"):
        assert secret not in shown
    assert MASK in shown
    assert json.loads(shown)["type"] == frame["type"]  # still the frame Directus sees


def test_masking_keeps_everything_else() -> None:
    frame = {"type": "auth", "email": "ada@example.com", "access_token": JWT, "uid": "u1"}
    assert mask_secrets(frame) == {**frame, "access_token": MASK}
    assert frame["access_token"] == JWT  # a copy: the frame sent is untouched
    assert mask_secrets({"refresh_token": None}) == {"refresh_token": None}  # nothing to hide


def test_text_that_is_not_json_is_masked_too() -> None:
    assert describe(f"not json {JWT}") == f"not json {MASK}"
    assert describe(f'{{"access_token": "{JWT}"'.encode()) == f'{{"access_token": "{MASK}"'


def test_a_long_data_list_is_shortened_to_a_count() -> None:
    raw = json.dumps({"type": "items", "data": [{"id": n} for n in range(20)], "uid": "r"})
    assert json.loads(describe(raw))["data"] == [{"id": 0}, {"id": 1}, "… 18 more"]
    assert len(json.loads(describe(raw, shorten=False))["data"]) == 20
    three = json.dumps({"type": "items", "data": [1, 2, 3]})
    assert json.loads(describe(three))["data"] == [1, 2, 3]


def test_the_frames_argument() -> None:
    assert tap_for(False) is None
    assert isinstance(tap_for(True), FrameTap)
    lines: list[str] = []
    tap = tap_for(lines.append)
    assert tap is not None
    tap.show("→", '{"type": "ping"}')
    labelled = tap_for("ada")
    assert labelled is not None and labelled.prefix == "ada "
    assert lines == ['→ {"type": "ping"}']
    with pytest.raises(TypeError, match="frames= takes"):
        tap_for(3)  # type: ignore[arg-type]


def test_a_failing_sink_is_logged_and_the_frame_still_goes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(_: str) -> None:
        raise RuntimeError("sink down")

    with caplog.at_level(logging.ERROR):
        FrameTap(broken).show("←", "{}")
    assert "showing a frame failed" in caplog.text


def test_a_frame_log_prints_keeps_and_gives_frames_back(
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = FrameLog("ada")
    tap = FrameTap(log)
    tap.show("→", json.dumps({"type": "auth", "access_token": JWT}))
    tap.show("←", '{"type": "auth", "status": "ok"}')
    tap.show("←", "not json")
    assert log.sent() == [{"type": "auth", "access_token": MASK}]
    assert log.received() == [{"type": "auth", "status": "ok"}]
    assert (
        capsys.readouterr().out.splitlines()[0] == 'ada → {"type": "auth", "access_token": "***"}'
    )
    quiet = FrameLog(echo=False)
    FrameTap(quiet).show("→", "{}")
    assert quiet.sent() == [{}] and capsys.readouterr().out == ""


class _Socket:
    """Just enough of a websocket connection to see what the tap passes on."""

    close_code = 1000

    def __init__(self, incoming: list[str]) -> None:
        self.incoming, self.sent = incoming, []

    async def send(self, message: str) -> None:
        self.sent.append(message)

    async def recv(self) -> str:
        return self.incoming.pop(0)

    async def __aiter__(self) -> Any:
        while self.incoming:
            yield self.incoming.pop(0)


async def test_the_tapped_socket_shows_both_ways_and_passes_everything_on() -> None:
    lines: list[str] = []
    inner = _Socket([f'{{"type": "auth", "status": "ok", "refresh_token": "{REFRESH}"}}', "{}"])
    ws = _TappedSocket(inner, FrameTap(lines.append, "ada"))  # type: ignore[arg-type]
    await ws.send(json.dumps({"type": "auth", "access_token": JWT}))
    assert inner.sent == [json.dumps({"type": "auth", "access_token": JWT})]  # sent unmasked
    assert REFRESH in await ws.recv()  # the session gets the real token
    assert [raw async for raw in ws] == ["{}"]
    assert ws.close_code == 1000
    assert lines == [
        'ada → {"type": "auth", "access_token": "***"}',
        'ada ← {"type": "auth", "status": "ok", "refresh_token": "***"}',
        "ada ← {}",
    ]


@pytest.mark.integration
async def test_a_real_session_shows_each_step_and_never_a_token(
    directus: LocalDirectus, demo_users: list[DemoUser], capsys: pytest.CaptureFixture[str]
) -> None:
    ada = demo_users[0]
    lines: list[str] = []
    session = RealtimeSession(directus.url, frames=lines.append)
    tokens: set[str] = set()

    def remember(state: SessionState) -> None:
        now = session._conn.auth.tokens
        if state is SessionState.READY and now is not None:
            tokens.update((now.access_token, now.refresh_token))

    session.on_state_change(remember)
    try:
        await session.login(ada.email, ada.password)
        inbox = await session.subscribe("messages", event="create", query={"fields": ["id"]})
        row = await session.create({"content": "frames, shown"})
        await asyncio.wait_for(anext(aiter(inbox)), TIMEOUT)
        await session._conn.drop_current("test: a lost link")  # the reconnect authenticates again
        await session.wait_for_state(SessionState.READY, timeout=TIMEOUT)
        await session.delete(row["id"])
    finally:
        await session.close()
    assert session.reconnects == 1 and len(tokens) >= 2  # an access and a refresh token
    kinds = [(line[0], json.loads(line[2:]).get("type")) for line in lines]
    assert kinds[:2] == [("→", "auth"), ("←", "auth")]
    assert ("→", "subscribe") in kinds and ("←", "subscription") in kinds
    assert ("→", "items") in kinds and ("←", "items") in kinds
    assert sum(line.startswith('→ {"type": "auth", "access_token": "***"') for line in lines) >= 2
    shown = "\n".join(lines)
    for secret in tokens:
        assert secret not in shown
    assert ada.password not in shown
    assert capsys.readouterr().out == ""  # a callable sink: nothing printed besides


@pytest.mark.integration
async def test_frames_true_prints_them(
    directus: LocalDirectus, demo_users: list[DemoUser], capsys: pytest.CaptureFixture[str]
) -> None:
    async with RealtimeSession(directus.url, frames="grace") as session:
        await session.login(demo_users[1].email, demo_users[1].password)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == 'grace → {"type": "auth", "access_token": "***"}'
    assert printed[1].startswith('grace ← {"type": "auth", "status": "ok"')
