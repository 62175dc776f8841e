"""REST: error translation and query encoding (pure, httpx.MockTransport), then a real server.

The MockTransport tests check only our own mapping logic (status + body in,
error class out); everything that depends on how Directus really answers is in
the integration tests at the bottom, against the shared local server.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from support import TIMEOUT

from directus_chat_widget.errors import (
    AuthError,
    ConfigError,
    DirectusError,
    Forbidden,
    InvalidCredentials,
    ServerError,
    ServerUnreachable,
    SessionClosed,
    TokenExpired,
)
from directus_chat_widget.local import DemoUser, LocalDirectus
from directus_chat_widget.local.server import free_port
from directus_chat_widget.rest import DirectusRest, Tokens, encode_query

Handler = Callable[[httpx.Request], httpx.Response]


def _rest(handler: Handler, url: str = "http://d") -> DirectusRest:
    return DirectusRest(url, client=httpx.AsyncClient(transport=httpx.MockTransport(handler)))


def _answering(status: int, body: Any = None, *, text: str | None = None) -> DirectusRest:
    def handler(request: httpx.Request) -> httpx.Response:
        if text is not None:
            return httpx.Response(status, text=text)
        return httpx.Response(status, json=body)

    return _rest(handler)


def _recording(seen: list[httpx.Request], body: Any) -> DirectusRest:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=body)

    return _rest(handler)


def _error(code: str | None, message: str = "nope") -> dict[str, Any]:
    extensions = {"code": code} if code is not None else {}
    return {"errors": [{"message": message, "extensions": extensions}]}


def _tokens_body(access: str = "acc", refresh: str = "ref") -> dict[str, Any]:
    return {"data": {"access_token": access, "refresh_token": refresh, "expires": 900_000}}


# -- error answers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "token", "error", "code"),
    [
        (401, _error("INVALID_CREDENTIALS"), None, InvalidCredentials, "INVALID_CREDENTIALS"),
        (401, _error("INVALID_CREDENTIALS"), "tok", TokenExpired, "INVALID_CREDENTIALS"),
        (401, _error("TOKEN_EXPIRED"), "tok", TokenExpired, "TOKEN_EXPIRED"),
        (401, _error("INVALID_TOKEN"), "tok", TokenExpired, "INVALID_TOKEN"),
        (401, _error("INVALID_OTP"), None, AuthError, "INVALID_OTP"),
        (401, _error("USER_SUSPENDED"), None, AuthError, "USER_SUSPENDED"),
        (401, _error(None), "tok", TokenExpired, None),
        (401, _error(None), None, AuthError, None),
        (403, _error("FORBIDDEN"), None, Forbidden, "FORBIDDEN"),
        (403, {"no": "errors"}, None, Forbidden, "FORBIDDEN"),
        (400, _error("FORBIDDEN"), None, Forbidden, "FORBIDDEN"),
        (400, _error("INVALID_PAYLOAD", "bad field"), None, ServerError, "INVALID_PAYLOAD"),
        (429, _error("REQUESTS_EXCEEDED"), None, ServerError, "REQUESTS_EXCEEDED"),
        (503, {"unexpected": True}, None, ServerError, None),
        (500, {"errors": []}, None, ServerError, None),
    ],
)
async def test_error_answers_become_our_errors(
    status: int, body: Any, token: str | None, error: type[DirectusError], code: str | None
) -> None:
    async with _answering(status, body) as rest:
        with pytest.raises(DirectusError) as caught:
            await rest.request("GET", "/anything", token=token)
    assert type(caught.value) is error
    assert caught.value.code == code


async def test_the_server_message_is_kept() -> None:
    async with _answering(400, _error("INVALID_QUERY", "Unknown field 'nope'")) as rest:
        with pytest.raises(ServerError, match="Unknown field 'nope'") as caught:
            await rest.request("GET", "/items/x")
    assert caught.value.code == "INVALID_QUERY"


async def test_an_error_page_that_is_not_json_keeps_a_one_line_excerpt() -> None:
    page = "<html>\n<h1>502 Bad Gateway</h1>\n</html>"
    async with _answering(502, text=page) as rest:
        with pytest.raises(ServerError, match=r"^HTTP 502: <html> <h1>502 Bad Gateway") as caught:
            await rest.request("GET", "/x")
    assert "\n" not in str(caught.value)


async def test_invalid_credentials_read_like_a_login_form() -> None:
    async with _answering(401, _error("INVALID_CREDENTIALS", "Invalid user credentials.")) as rest:
        with pytest.raises(InvalidCredentials, match=r"^Invalid email or password$"):
            await rest.login("a@b.c", "x")


async def test_a_refused_refresh_is_token_expired() -> None:
    async with _answering(401, _error("INVALID_CREDENTIALS")) as rest:
        with pytest.raises(TokenExpired, match="refresh token") as caught:
            await rest.refresh("spent")
    assert isinstance(caught.value.__cause__, InvalidCredentials)


async def test_logout_with_a_spent_token_is_quiet_but_other_errors_are_not() -> None:
    async with _answering(401, _error("INVALID_CREDENTIALS")) as rest:
        assert await rest.logout("spent") is None
    async with _answering(500, _error("INTERNAL", "boom")) as rest:
        with pytest.raises(ServerError, match="boom"):
            await rest.logout("any")


async def test_a_login_answer_without_tokens_is_a_server_error() -> None:
    async with _answering(200, {"data": {"expires": 5}}) as rest:
        with pytest.raises(ServerError, match="no tokens"):
            await rest.login("a@b.c", "x")


async def test_a_success_that_is_not_json_is_a_server_error() -> None:
    async with _answering(200, text="<html>maintenance</html>") as rest:
        with pytest.raises(ServerError, match="not JSON"):
            await rest.request("GET", "/items/messages")


# -- transport failures -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "says"),
    [
        (httpx.ConnectError("All connection attempts failed"), "All connection attempts failed"),
        (httpx.ConnectTimeout("timed out"), "did not answer in time"),
        (httpx.ReadTimeout("timed out"), "did not answer in time"),
        (httpx.RemoteProtocolError("Server disconnected"), "Server disconnected"),
        (httpx.ReadError(""), "ReadError"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else "",
)
async def test_transport_failures_are_server_unreachable_naming_the_url(
    failure: httpx.TransportError, says: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    async with _rest(handler, url="http://chat.example.org:8055/") as rest:
        with pytest.raises(ServerUnreachable, match=r"http://chat\.example\.org:8055\b") as caught:
            await rest.me("tok")
    assert says in str(caught.value)
    assert caught.value.__cause__ is failure


async def test_an_unreachable_port_is_server_unreachable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    async with DirectusRest(url, timeout=TIMEOUT) as rest:
        with pytest.raises(ServerUnreachable, match=url) as caught:
            await rest.login("a@b.c", "x")
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


# -- what is sent ---------------------------------------------------------------------------


def test_query_encoding_matches_directus() -> None:
    params = encode_query(
        {
            "fields": ["id", "content", "user_created.first_name"],
            "filter": {"id": {"_lt": 40}, "user_created": {"_nnull": True}},
            "sort": ["-date_created", "id"],
            "limit": 20,
            "offset": None,
            "meta": "filter_count",
            "deep": {"user_created": {"_limit": 1}},
            "export": False,
        }
    )
    assert params == {
        "fields": "id,content,user_created.first_name",
        "filter": '{"id":{"_lt":40},"user_created":{"_nnull":true}}',
        "sort": "-date_created,id",
        "limit": "20",
        "meta": "filter_count",
        "deep": '{"user_created":{"_limit":1}}',
        "export": "false",
    }


def test_query_encoding_writes_dates_and_uuids_in_filters() -> None:
    import datetime as dt

    when = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    who = uuid.UUID(int=1)
    params = encode_query({"filter": {"date_created": {"_gt": when}, "user_created": {"_eq": who}}})
    assert json.loads(params["filter"]) == {
        "date_created": {"_gt": "2025-01-02T03:04:05+00:00"},
        "user_created": {"_eq": str(who)},
    }
    with pytest.raises(TypeError, match="object"):
        encode_query({"filter": {"x": object()}})


async def test_read_items_sends_the_encoded_query_and_the_token() -> None:
    seen: list[httpx.Request] = []
    rows = [{"id": 1, "content": "hi"}]
    async with _recording(seen, {"data": rows}) as rest:
        got = await rest.read_items(
            "messages",
            token="access-123",
            query={"fields": ["id", "content"], "filter": {"id": {"_gt": 3}}, "sort": ["-id"]},
        )
    assert got == rows
    (request,) = seen
    assert request.method == "GET"
    assert request.url.path == "/items/messages"
    assert dict(request.url.params) == {
        "fields": "id,content",
        "filter": '{"id":{"_gt":3}}',
        "sort": "-id",
    }
    assert request.headers["Authorization"] == "Bearer access-123"


async def test_public_reads_send_no_authorization_and_names_are_quoted() -> None:
    seen: list[httpx.Request] = []
    async with _recording(seen, {"data": []}) as rest:
        assert await rest.read_items("../users", token=None) == []
    assert "Authorization" not in seen[0].headers
    assert seen[0].url.raw_path == b"/items/..%2Fusers"


async def test_the_base_path_is_kept_and_data_is_unwrapped() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204) if request.method == "DELETE" else httpx.Response(200, json={})

    async with _rest(handler, url="https://x.org/cms/") as rest:
        assert rest.url == "https://x.org/cms"
        assert await rest.request("DELETE", "items/messages/1") is None
        assert await rest.request("GET", "/server/info") is None
    assert [str(r.url) for r in seen] == [
        "https://x.org/cms/items/messages/1",
        "https://x.org/cms/server/info",
    ]


async def test_login_and_me_send_what_directus_expects() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/auth/login":
            return httpx.Response(200, json=_tokens_body())
        return httpx.Response(200, json={"data": {"id": "u1", "first_name": "Ada"}})

    async with _rest(handler) as rest:
        tokens = await rest.login("ada@example.com", "pw")
        me = await rest.me(tokens.access_token, fields=("id", "first_name"))
    assert (tokens.access_token, tokens.refresh_token, tokens.expires_ms) == ("acc", "ref", 900_000)
    assert me == {"id": "u1", "first_name": "Ada"}
    assert json.loads(seen[0].content) == {
        "email": "ada@example.com",
        "password": "pw",
        "mode": "json",
    }
    assert seen[1].url.params["fields"] == "id,first_name"
    assert seen[1].headers["Authorization"] == "Bearer acc"


async def test_me_falls_back_to_the_readable_fields_when_one_is_hidden() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked = request.url.params["fields"]
        seen.append(asked)
        if asked == "*":  # what the user may read
            row = {"id": "u1", "first_name": "Ada", "last_name": "L", "avatar": None}
            return httpx.Response(200, json={"data": row})
        # Directus answers the id alone when a hidden field (email) is asked for.
        return httpx.Response(200, json={"data": {"id": "u1"}})

    async with _rest(handler) as rest:
        me = await rest.me("tok", fields=("id", "first_name", "email"))
        only_id = await rest.me("tok", fields=("id",))
    assert me == {"id": "u1", "first_name": "Ada"}
    assert only_id == {"id": "u1"}
    assert seen == ["id,first_name,email", "*", "id"]


async def test_tokens_and_passwords_never_reach_the_log(caplog: pytest.LogCaptureFixture) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/login":
            return httpx.Response(200, json=_tokens_body("SECRET-ACCESS", "SECRET-REFRESH"))
        if request.url.path == "/auth/refresh":
            return httpx.Response(401, json=_error("INVALID_CREDENTIALS"))
        return httpx.Response(401, json=_error("TOKEN_EXPIRED", "Token expired."))

    caplog.set_level(logging.DEBUG)
    async with _rest(handler) as rest:
        tokens = await rest.login("ada@example.com", "SECRET-PASSWORD")
        with pytest.raises(TokenExpired) as expired:
            await rest.me(tokens.access_token)
        with pytest.raises(TokenExpired) as spent:
            await rest.refresh(tokens.refresh_token)
        await rest.logout(tokens.refresh_token)
    assert any(record.name == "directus_chat_widget.rest" for record in caplog.records)
    shown = caplog.text + str(expired.value) + str(spent.value) + repr(tokens) + repr(rest)
    assert "SECRET" not in shown


# -- lifecycle -------------------------------------------------------------------------------


def test_tokens_never_show_in_repr_and_know_when_they_expire() -> None:
    tokens = Tokens("secret-access", "secret-refresh", 900_000, received_at=100.0)
    assert "secret" not in repr(tokens)
    assert tokens.expires_at == 1000.0


async def test_a_closed_client_refuses_precisely() -> None:
    rest = _answering(200, {"data": []})
    async with rest:
        assert await rest.request("GET", "/x") == []
    assert rest.closed and "closed" in repr(rest)
    await rest.aclose()  # twice is fine
    with pytest.raises(SessionClosed, match=r"^cannot use a closed DirectusRest client"):
        await rest.request("GET", "/x")
    with pytest.raises(SessionClosed, match="closed DirectusRest"):
        async with rest:
            pass


async def test_a_borrowed_client_is_left_open_and_its_closing_is_noticed() -> None:
    client = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda request: httpx.Response(200, json={"data": 1}))
    )
    async with DirectusRest("http://d", client=client) as rest:
        assert await rest.request("GET", "/x") == 1
    assert not client.is_closed
    other = DirectusRest("http://d", client=client)
    await client.aclose()
    with pytest.raises(SessionClosed):
        await other.request("GET", "/x")


def test_a_bad_url_is_refused_at_construction() -> None:
    with pytest.raises(ConfigError, match=r"DirectusRest\(url=\.\.\.\).*'http://localhost:8055'"):
        DirectusRest("localhost:8055")


# -- a real Directus -------------------------------------------------------------------------


def _foreign_jwt() -> str:
    """A JWT that claims to be from Directus but is signed with a key it does not know."""

    def part(value: dict[str, Any]) -> str:
        raw = json.dumps(value).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    header = part({"alg": "HS256", "typ": "JWT"})
    claims = part({"id": str(uuid.uuid4()), "iss": "directus", "exp": 4_102_444_800})
    return f"{header}.{claims}.{base64.urlsafe_b64encode(b'x' * 32).rstrip(b'=').decode()}"


@pytest.mark.integration
async def test_login_me_refresh_rotation_and_logout(
    directus: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    user = demo_users[1]
    async with DirectusRest(directus.url, timeout=TIMEOUT) as rest:
        tokens = await rest.login(user.email, user.password)
        assert tokens.expires_ms > 0
        # The default fields include email, which a chat user may not read:
        # the readable ones still come back, and the email stays private.
        me = await rest.me(tokens.access_token)
        assert (me["first_name"], me["last_name"]) == (user.first_name, user.last_name)
        assert "email" not in me
        assert await rest.me(tokens.access_token, fields=("first_name",)) == {
            "first_name": user.first_name
        }

        renewed = await rest.refresh(tokens.refresh_token)
        assert renewed.refresh_token != tokens.refresh_token
        assert (await rest.me(renewed.access_token))["first_name"] == user.first_name
        with pytest.raises(TokenExpired):  # refresh tokens rotate: the old one is spent
            await rest.refresh(tokens.refresh_token)

        await rest.logout(renewed.refresh_token)
        with pytest.raises(TokenExpired):
            await rest.refresh(renewed.refresh_token)
        await rest.logout(renewed.refresh_token)  # already over: still no error


@pytest.mark.integration
async def test_wrong_password_and_unknown_email_are_invalid_credentials(
    directus: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    async with DirectusRest(directus.url, timeout=TIMEOUT) as rest:
        with pytest.raises(InvalidCredentials, match=r"^Invalid email or password$") as wrong:
            await rest.login(demo_users[0].email, "wrong password")
        assert wrong.value.code == "INVALID_CREDENTIALS"
        with pytest.raises(InvalidCredentials):
            await rest.login("nobody@example.com", demo_users[0].password)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("token", "code"),
    [
        # Not a JWT: Directus looks it up as a static token and answers bad
        # credentials, which for a token holder means "this token is no good".
        ("not-a-token", "INVALID_CREDENTIALS"),
        (_foreign_jwt(), "INVALID_TOKEN"),
    ],
    ids=["opaque", "foreign-jwt"],
)
async def test_a_token_the_server_does_not_accept_is_token_expired(
    directus: LocalDirectus, token: str, code: str
) -> None:
    async with DirectusRest(directus.url, timeout=TIMEOUT) as rest:
        with pytest.raises(TokenExpired) as caught:
            await rest.me(token)
        assert caught.value.code == code
        with pytest.raises(TokenExpired):  # a bad token is refused, not read as the public
            await rest.read_items("messages", token=token)


@pytest.mark.integration
async def test_read_items_encodes_a_query_the_server_understands(
    directus: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    user = demo_users[0]
    marker = f"rest-test {uuid.uuid4()}"
    async with DirectusRest(directus.url, timeout=TIMEOUT) as rest:
        tokens = await rest.login(user.email, user.password)
        try:
            created = await rest.request(
                "POST", "/items/messages", token=tokens.access_token, json={"content": marker}
            )
            created_id = created["id"]
            newer = await rest.request(
                "POST", "/items/messages", token=tokens.access_token, json={"content": marker}
            )
            # Fields (with a relation), filter and sort all reach the server.
            rows = await rest.read_items(
                "messages",
                token=tokens.access_token,
                query={
                    "fields": ["id", "content", "user_created.first_name"],
                    "filter": {"content": {"_eq": marker}},
                    "sort": ["-id"],
                    "limit": 5,
                },
            )
            limited = await rest.read_items(
                "messages",
                token=tokens.access_token,
                query={"fields": ["id"], "filter": {"content": {"_eq": marker}}, "limit": 1},
            )
        finally:
            await rest.logout(tokens.refresh_token)
        assert [row["id"] for row in rows] == [newer["id"], created_id]
        assert rows[0] == {
            "id": newer["id"],
            "content": marker,
            "user_created": {"first_name": user.first_name},
        }
        assert len(limited) == 1 and set(limited[0]) == {"id"}


@pytest.mark.integration
async def test_a_collection_that_does_not_exist_is_forbidden(
    directus: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    async with DirectusRest(directus.url, timeout=TIMEOUT) as rest:
        with pytest.raises(Forbidden) as public:
            await rest.read_items("no_such_collection", token=None)
        assert public.value.code == "FORBIDDEN"
        tokens = await rest.login(demo_users[0].email, demo_users[0].password)
        try:
            with pytest.raises(Forbidden):
                await rest.read_items("no_such_collection", token=tokens.access_token)
        finally:
            await rest.logout(tokens.refresh_token)


@pytest.mark.integration
async def test_a_bad_query_keeps_the_server_message(
    directus: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    async with DirectusRest(directus.url, timeout=TIMEOUT) as rest:
        tokens = await rest.login(demo_users[0].email, demo_users[0].password)
        try:
            with pytest.raises(ServerError, match="_nope") as caught:
                await rest.read_items(
                    "messages", token=tokens.access_token, query={"filter": {"id": {"_nope": 1}}}
                )
        finally:
            await rest.logout(tokens.refresh_token)
    assert caught.value.code == "INVALID_QUERY"
