"""protocol: builders and the parser, from plain values. No network, no event loop."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from directus_chat_widget import protocol
from directus_chat_widget.protocol import (
    AuthFailed,
    AuthOk,
    ItemsError,
    ItemsReply,
    MalformedFrame,
    Ping,
    Pong,
    ServerErrorFrame,
    SubscriptionError,
    SubscriptionEvent,
    SubscriptionInit,
    UnknownFrame,
    Unsubscribed,
    parse,
)


def raw(body: Any) -> str:
    return json.dumps(body)


# -- builders ---------------------------------------------------------------------


def test_auth_frames() -> None:
    assert protocol.auth_access_token("tok") == {"type": "auth", "access_token": "tok"}
    assert protocol.auth_access_token("tok", "u1") == {
        "type": "auth",
        "access_token": "tok",
        "uid": "u1",
    }
    assert protocol.auth_refresh_token("r") == {"type": "auth", "refresh_token": "r"}
    assert protocol.auth_credentials("a@b.c", "pw") == {
        "type": "auth",
        "email": "a@b.c",
        "password": "pw",
    }


def test_subscribe_frame_carries_only_what_was_given() -> None:
    assert protocol.subscribe("messages", "s1") == {
        "type": "subscribe",
        "collection": "messages",
        "uid": "s1",
    }
    frame = protocol.subscribe("messages", "s1", event="create", query={"fields": ["id"]}, item=3)
    assert frame == {
        "type": "subscribe",
        "collection": "messages",
        "uid": "s1",
        "event": "create",
        "query": {"fields": ["id"]},
        "item": 3,
    }


def test_subscribe_rejects_an_unknown_event() -> None:
    with pytest.raises(ValueError, match="event must be one of"):
        protocol.subscribe("messages", "s1", event="insert")  # type: ignore[arg-type]


def test_unsubscribe_ping_pong() -> None:
    assert protocol.unsubscribe("s1") == {"type": "unsubscribe", "uid": "s1"}
    assert protocol.ping() == {"type": "ping"}
    assert protocol.ping("p") == {"type": "ping", "uid": "p"}
    assert protocol.pong() == {"type": "pong"}


def test_items_frames() -> None:
    create = protocol.items("messages", "create", "c1", data={"content": "hi"})
    assert create == {
        "type": "items",
        "collection": "messages",
        "action": "create",
        "data": {"content": "hi"},
        "uid": "c1",
    }
    read = protocol.items("messages", "read", "r1", query={"limit": 2}, id=4, ids=(1, 2))
    assert read["query"] == {"limit": 2} and read["id"] == 4 and read["ids"] == [1, 2]
    assert "data" not in read


@pytest.mark.parametrize("action", ["create", "update"])
def test_items_create_and_update_need_data(action: Any) -> None:
    with pytest.raises(ValueError, match="needs data"):
        protocol.items("messages", action, "u")


def test_items_rejects_an_unknown_action() -> None:
    with pytest.raises(ValueError, match="action must be one of"):
        protocol.items("messages", "upsert", "u", data={})  # type: ignore[arg-type]


def test_encode_is_compact_json_and_keeps_unicode() -> None:
    text = protocol.encode({"type": "items", "data": {"content": "héllo ✓"}})
    assert text == '{"type":"items","data":{"content":"héllo ✓"}}'
    assert json.loads(text)["data"]["content"] == "héllo ✓"


def test_new_uid_is_unique() -> None:
    uids = {protocol.new_uid() for _ in range(1000)}
    assert len(uids) == 1000


def test_after_id_query_keeps_the_callers_filter_and_fields() -> None:
    query = {"fields": ["id", "content"], "filter": {"room": {"_eq": 1}}, "offset": 40, "page": 2}
    narrowed = protocol.after_id_query(query, 17, limit=200)
    assert narrowed == {
        "fields": ["id", "content"],
        "filter": {"_and": [{"room": {"_eq": 1}}, {"id": {"_gt": 17}}]},
        "sort": ["id"],
        "limit": 200,
    }
    assert query["offset"] == 40  # the caller's query is not changed
    assert protocol.after_id_query(None, 3, limit=5) == {
        "filter": {"id": {"_gt": 3}},
        "sort": ["id"],
        "limit": 5,
    }


def _jwt(claims: Any) -> str:
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJIUzI1NiJ9.{body}.sig"


def test_jwt_expiry_reads_exp() -> None:
    assert protocol.jwt_expiry(_jwt({"id": "x", "exp": 1700000000})) == 1700000000.0


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-jwt",
        "a.b",
        "a.!!!.c",
        _jwt({"id": "x"}),
        _jwt({"exp": "soon"}),
        _jwt([1, 2]),
        _jwt({"exp": True}),
    ],
)
def test_jwt_expiry_is_none_for_anything_else(token: str) -> None:
    assert protocol.jwt_expiry(token) is None


# -- parsing: what the server sends --------------------------------------------------


def test_auth_ok_plain_and_with_refresh_token() -> None:
    assert parse(raw({"type": "auth", "status": "ok"})) == AuthOk()
    frame = parse(raw({"type": "auth", "status": "ok", "uid": "a1", "refresh_token": "r"}))
    assert frame == AuthOk("a1", "r")
    assert "r" not in repr(frame)  # tokens never show in reprs


def test_auth_errors() -> None:
    failed = parse(
        raw({"type": "auth", "status": "error", "error": {"code": "AUTH_FAILED", "message": "no"}})
    )
    assert failed == AuthFailed("AUTH_FAILED", "no")
    assert isinstance(failed, AuthFailed) and not failed.token_expired
    expired = parse(
        raw(
            {
                "type": "auth",
                "status": "error",
                "error": {"code": "TOKEN_EXPIRED", "message": "Token expired."},
            }
        )
    )
    assert isinstance(expired, AuthFailed) and expired.token_expired and expired.uid is None


def test_subscription_init_with_and_without_rows() -> None:
    assert parse(raw({"type": "subscription", "event": "init", "uid": "s"})) == SubscriptionInit(
        "s"
    )
    frame = parse(raw({"type": "subscription", "event": "init", "uid": "s", "data": [{"id": 1}]}))
    assert frame == SubscriptionInit("s", ({"id": 1},))


def test_subscription_create_event_lists_rows_and_keys() -> None:
    frame = parse(
        raw(
            {
                "type": "subscription",
                "event": "create",
                "uid": "s",
                "data": [{"id": 5, "content": "a"}, {"id": 6, "content": "b"}, {"content": "c"}],
            }
        )
    )
    assert isinstance(frame, SubscriptionEvent)
    assert frame.event == "create" and frame.keys == (5, 6) and len(frame.data) == 3
    assert frame.replayed is False


def test_subscription_update_with_a_single_object() -> None:
    frame = parse(
        raw({"type": "subscription", "event": "update", "uid": "s", "data": {"id": "k", "x": 1}})
    )
    assert frame == SubscriptionEvent("s", "update", ({"id": "k", "x": 1},), ("k",))


def test_subscription_delete_carries_ids_only() -> None:
    frame = parse(raw({"type": "subscription", "event": "delete", "uid": "s", "data": [1, "2"]}))
    assert frame == SubscriptionEvent("s", "delete", (), (1, "2"))
    single = parse(raw({"type": "subscription", "event": "delete", "uid": "s", "data": 7}))
    assert isinstance(single, SubscriptionEvent) and single.keys == (7,)


def test_unsubscribed_and_subscription_errors() -> None:
    assert parse(raw({"type": "subscription", "event": "unsubscribe", "uid": "s"})) == (
        Unsubscribed("s")
    )
    error = {"code": "INVALID_COLLECTION", "message": "nope"}
    for kind in ("subscribe", "subscription", "unsubscribe"):
        frame = parse(raw({"type": kind, "status": "error", "error": error, "uid": "s"}))
        assert frame == SubscriptionError("INVALID_COLLECTION", "nope", "s")
    # per-event FORBIDDEN comes without a uid
    frame = parse(raw({"type": "subscribe", "status": "error", "error": {"code": "FORBIDDEN"}}))
    assert frame == SubscriptionError("FORBIDDEN", "", None)


def test_items_reply_kinds() -> None:
    row = {"id": 1, "content": "hi"}
    assert parse(raw({"type": "items", "data": row, "uid": "c"})) == ItemsReply("c", row)
    frame = parse(raw({"type": "items", "data": [row], "meta": {"total_count": 1}, "uid": "r"}))
    assert frame == ItemsReply("r", [row], {"total_count": 1})
    assert parse(raw({"type": "items", "data": 4, "uid": "d"})) == ItemsReply("d", 4)


def test_items_error_with_and_without_uid() -> None:
    forbidden = {"code": "FORBIDDEN", "message": "You don't have permission"}
    frame = parse(raw({"type": "items", "status": "error", "error": forbidden}))
    assert frame == ItemsError("FORBIDDEN", "You don't have permission", None)
    frame = parse(raw({"type": "items", "status": "error", "error": forbidden, "uid": "c"}))
    assert isinstance(frame, ItemsError) and frame.uid == "c"


def test_numeric_uid_becomes_a_string() -> None:
    assert parse(raw({"type": "pong", "uid": 42})) == Pong("42")


def test_ping_pong() -> None:
    assert parse(raw({"type": "ping"})) == Ping()
    assert parse(raw({"type": "pong", "uid": "p"})) == Pong("p")


def test_rate_limit_frame() -> None:
    frame = parse(
        raw(
            {
                "type": "server",
                "status": "error",
                "error": {
                    "code": "REQUESTS_EXCEEDED",
                    "message": "Too many messages, retry after 734ms.",
                },
            }
        )
    )
    assert isinstance(frame, ServerErrorFrame)
    assert frame.rate_limited and frame.retry_after == pytest.approx(0.734)
    assert frame.uid is None and frame.scope == "server"


def test_server_error_without_retry_hint() -> None:
    error = {"code": "INVALID_PAYLOAD", "message": "Unable to parse the incoming message."}
    frame = parse(raw({"type": "server", "status": "error", "error": error}))
    assert isinstance(frame, ServerErrorFrame)
    assert not frame.rate_limited and frame.retry_after is None


def test_error_of_an_unknown_type_is_a_server_error_frame() -> None:
    frame = parse(raw({"type": "logs", "status": "error", "error": {"code": "X", "message": "m"}}))
    assert frame == ServerErrorFrame("X", "m", None, "logs")


def test_unknown_type_and_unknown_event() -> None:
    frame = parse(raw({"type": "collab", "action": "join"}))
    assert isinstance(frame, UnknownFrame) and frame.type == "collab"
    frame = parse(raw({"type": "subscription", "event": "move", "uid": "s"}))
    assert isinstance(frame, UnknownFrame) and frame.type == "subscription/move"
    frame = parse(raw({"type": "auth", "status": "pending"}))
    assert isinstance(frame, UnknownFrame)


def test_bytes_are_decoded() -> None:
    assert parse(b'{"type":"ping"}') == Ping()
    assert parse(bytearray(b'{"type":"pong","uid":"u"}')) == Pong("u")


# -- parsing: malformed input never raises ---------------------------------------------

MALFORMED = [
    pytest.param("not json", "not JSON", id="not-json"),
    pytest.param("", "not JSON", id="empty"),
    pytest.param("[1, 2]", "not an object", id="array"),
    pytest.param('"ping"', "not an object", id="string"),
    pytest.param("null", "not an object", id="null"),
    pytest.param("3.5", "not an object", id="number"),
    pytest.param("{}", "no string 'type'", id="no-type"),
    pytest.param('{"type": 3}', "no string 'type'", id="type-number"),
    pytest.param('{"type": null}', "no string 'type'", id="type-null"),
    pytest.param('{"type": "pong", "uid": {"a": 1}}', "uid", id="uid-object"),
    pytest.param('{"type": "pong", "uid": true}', "uid", id="uid-bool"),
    pytest.param('{"type": "items", "status": "error"}', "'error' object", id="error-missing"),
    pytest.param(
        '{"type": "items", "status": "error", "error": "boom"}', "'error' object", id="error-str"
    ),
    pytest.param(
        '{"type": "items", "status": "error", "error": {"code": 5}}', "strings", id="code-number"
    ),
    pytest.param('{"type": "subscription"}', "string 'event'", id="event-missing"),
    pytest.param('{"type": "subscription", "event": 1}', "string 'event'", id="event-number"),
    pytest.param(
        '{"type": "subscription", "event": "create", "data": "x"}', "list of objects", id="data-str"
    ),
    pytest.param(
        '{"type": "subscription", "event": "create", "data": [1]}', "list of objects", id="rows-int"
    ),
    pytest.param(
        '{"type": "subscription", "event": "init", "data": 5}', "list of objects", id="init-int"
    ),
    pytest.param(
        '{"type": "subscription", "event": "create", "data": [{"id": [1]}]}', "key", id="id-list"
    ),
    pytest.param(
        '{"type": "subscription", "event": "delete", "data": [{"id": 1}]}', "key", id="delete-obj"
    ),
    pytest.param(
        '{"type": "subscription", "event": "delete", "data": [true]}', "key", id="delete-bool"
    ),
    pytest.param('{"type": "items", "data": [], "meta": 3}', "meta", id="meta-int"),
    pytest.param('{"type": "auth", "status": "ok", "refresh_token": 1}', "refresh", id="rt-int"),
]


@pytest.mark.parametrize(("text", "reason"), MALFORMED)
def test_malformed_frames_are_values_not_exceptions(text: str, reason: str) -> None:
    frame = parse(text)
    assert isinstance(frame, MalformedFrame)
    assert reason in frame.reason
    assert frame.raw == text


def test_invalid_utf8_is_malformed() -> None:
    frame = parse(b"\xff\xfe{")
    assert isinstance(frame, MalformedFrame) and frame.reason == "not UTF-8"


def test_deeply_nested_json_is_malformed_not_a_crash() -> None:
    frame = parse("[" * 100_000 + "]" * 100_000)
    assert isinstance(frame, MalformedFrame)


def test_every_frame_is_frozen() -> None:
    frame = parse(raw({"type": "pong", "uid": "p"}))
    assert isinstance(frame, Pong)
    with pytest.raises(AttributeError):
        frame.uid = "other"  # type: ignore[misc]
