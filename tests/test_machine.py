"""The session's decisions, driven by close codes and a fake clock alone: no socket, no loop."""

from __future__ import annotations

from directus_chat_widget.errors import AuthError, InvalidCredentials, ServerUnreachable
from directus_chat_widget.realtime._closing import SocketClosed, classify
from directus_chat_widget.realtime._known import KnownRows
from directus_chat_widget.realtime._server_info import ServerInfo, parse_server_info
from directus_chat_widget.realtime.machine import (
    STABLE,
    GiveUp,
    Liveness,
    ReconnectPolicy,
    Retry,
)


def test_close_codes_sort_into_normal_auth_and_transient() -> None:
    assert classify(1000) == classify(1001) == "normal"
    assert classify(1008) == classify(4001) == classify(4999) == "auth"
    assert classify(1006) == classify(1011) == classify(1005) == classify(None) == "transient"
    assert str(SocketClosed(1008, "no")) == "the server closed the connection with 1008 (no)"


def test_an_auth_close_logs_in_again_once_then_gives_up_with_the_reason() -> None:
    policy = ReconnectPolicy([0.1] * 10)
    first = policy.lost(SocketClosed(1008, "policy says no"), ready_at=0.0, now=1.0)
    assert first == Retry(0.1, fresh_login=True)
    # READY again, closed the same way before it could settle: retrying cannot help.
    second = policy.lost(SocketClosed(1008, "policy says no"), ready_at=2.0, now=3.0)
    assert isinstance(second, GiveUp) and isinstance(second.error, AuthError)
    assert second.error.code == "CLOSE_1008" and "policy says no" in str(second.error)


def test_an_auth_close_after_a_stable_stretch_is_a_new_story() -> None:
    policy = ReconnectPolicy([0.1] * 10)
    assert policy.lost(SocketClosed(4003, "expired"), ready_at=0.0, now=1.0) == Retry(0.1, True)
    later = policy.lost(SocketClosed(4003, "expired"), ready_at=2.0, now=2.0 + STABLE)
    assert later == Retry(0.1, True)


def test_the_budget_spans_outages_until_a_socket_stays_ready() -> None:
    policy = ReconnectPolicy([0.1, 0.2, 0.4])
    # A server that accepts and drops at once: every loss eats the same budget.
    assert policy.lost(SocketClosed(1011, ""), ready_at=0.0, now=0.5) == Retry(0.1)
    assert policy.lost(SocketClosed(1011, ""), ready_at=1.0, now=1.5) == Retry(0.2)
    assert policy.lost(None, ready_at=2.0, now=2.1) == Retry(0.4)
    spent = policy.lost(SocketClosed(1006, ""), ready_at=3.0, now=3.2)
    assert isinstance(spent, GiveUp) and isinstance(spent.error, ServerUnreachable)
    assert spent.error.code == "CLOSE_1006"
    # Once a socket stayed READY long enough, the next outage starts over.
    assert policy.lost(SocketClosed(1001, "restart"), ready_at=4.0, now=4.0 + STABLE) == Retry(0.1)
    assert "1001 (restart)" in str(policy.last_error)


def test_failed_attempts_spend_the_budget_and_a_dead_login_stops_at_once() -> None:
    policy = ReconnectPolicy([0.1, 0.2])
    assert policy.lost(None, ready_at=None, now=0.0) == Retry(0.1)
    refused = ServerUnreachable("connection refused")
    assert policy.failed(refused, fatal=False) == Retry(0.2)
    assert policy.failed(refused, fatal=False) == GiveUp(refused)
    policy.restart()
    gone = InvalidCredentials("refresh token gone")
    assert policy.failed(gone, fatal=True) == GiveUp(gone)


def test_liveness_pings_after_a_quiet_period_and_declares_two_dead() -> None:
    beat = Liveness(2.0)  # margin 1 s
    assert beat.check(last_rx=0.0, now=1.0, ping_out=False)[0] == "ok"
    assert beat.check(last_rx=0.0, now=2.6, ping_out=False)[0] == "ping"
    assert beat.check(last_rx=0.0, now=2.6, ping_out=True)[0] == "ok"  # one ping at a time
    assert beat.check(last_rx=0.0, now=5.0, ping_out=True)[0] == "dead"
    assert not beat.timed_out()  # a slow reply is only slow while the heartbeat speaks


def test_without_a_heartbeat_only_an_unanswered_request_finds_a_dead_socket() -> None:
    silent = Liveness(None)
    assert silent.check(last_rx=0.0, now=10_000.0, ping_out=False)[0] == "ok"
    assert silent.timed_out()


def test_server_info_says_heartbeat_and_rate_or_nothing() -> None:
    info = {"websocket": {"heartbeat": 30}, "rateLimit": {"points": 50, "duration": 1}}
    assert parse_server_info(info) == ServerInfo(30.0, (50.0, 1.0))
    assert parse_server_info({"websocket": {"heartbeat": False}}).heartbeat is None
    assert parse_server_info({"websocket": {"heartbeat": "2"}}).heartbeat == 2.0
    # Malformed or missing: nothing is made up.
    for odd in (None, [], {"websocket": {"heartbeat": "often"}}, {"rateLimit": {"points": 5}}):
        assert parse_server_info(odd) == ServerInfo()
    assert parse_server_info({"rateLimit": {"points": 0, "duration": 1}}).rate is None


def test_known_rows_settle_creates_without_giving_one_row_twice() -> None:
    known = KnownRows("client_uid")
    assert known.highest("messages") is None and known.dedupe_usable("messages")
    known.note_ids("messages", (3, "x", True, 7))
    assert known.highest("messages") == 7
    known.note_created("messages", {"id": 9, "content": "hi"}, deduped=True)
    assert known.claimed(9) and known.highest("messages") == 9
    # The reply came back without the field: the collection lacks it.
    assert not known.dedupe_usable("messages") and known.dedupe_usable("other")
    assert not KnownRows(None).dedupe_usable("messages")
