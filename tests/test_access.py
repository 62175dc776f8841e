"""The server enforces the chat's rules: who may post, edit, delete and read, on a real Directus.

What the kit applies (``local/access.py``): chat users hold the ``Chat user``
policy (read messages; create ``content`` and ``client_uid``; update ``content``
and delete only their own; read the names of chat users only); the public gets
nothing unless ``public_read`` asks for read-only access. Checked here over REST
and over raw websockets, with no client of the kit in between.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from support import TIMEOUT, MakeDirectus

from directus_chat_widget._sync import run_sync
from directus_chat_widget.errors import PermissionRefused
from directus_chat_widget.local import (
    CHAT_POLICY_NAME,
    DemoUser,
    LocalDirectus,
    add_chat_user,
)
from directus_chat_widget.local.registration import CHAT_ROLE_NAME

pytestmark = pytest.mark.integration

USER_FIELDS = {"id", "first_name", "last_name"}


@contextmanager
def as_user(server: LocalDirectus, email: str | None = None, password: str = "") -> Iterator[Any]:
    """An httpx client logged in as ``email`` (the public when None)."""
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        if email is not None:
            login = http.post("/auth/login", json={"email": email, "password": password})
            assert login.status_code == 200, login.text
            http.headers["Authorization"] = f"Bearer {login.json()['data']['access_token']}"
        yield http


def as_admin(server: LocalDirectus) -> Any:
    return as_user(server, server.admin_email, server.admin_password)


def code_of(reply: httpx.Response) -> str:
    return str(reply.json()["errors"][0]["extensions"]["code"])


def rows_with(server: LocalDirectus, content: str) -> list[dict[str, Any]]:
    with as_admin(server) as admin:
        reply = admin.get(
            "/items/messages",
            params={"filter[content][_eq]": content, "fields": "*", "limit": "-1"},
        )
        assert reply.status_code == 200, reply.text
        return list(reply.json()["data"])


def me(http: httpx.Client) -> str:
    return str(http.get("/users/me", params={"fields": "id"}).json()["data"]["id"])


def ws_url(server: LocalDirectus) -> str:
    return server.url.replace("http://", "ws://") + "/websocket"


async def next_frame(ws: Any) -> dict[str, Any]:
    """The next frame that is not the server's heartbeat ping."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        if frame.get("type") != "ping":
            return dict(frame)


# -- the public ---------------------------------------------------------------------------


def test_the_public_may_neither_post_nor_read(directus: LocalDirectus) -> None:
    content = f"anonymous {uuid.uuid4()}"
    with as_user(directus) as anyone:
        posted = anyone.post("/items/messages", json={"content": content})
        assert posted.status_code == 403 and code_of(posted) == "FORBIDDEN"
        chosen = anyone.post("/items/messages", json={"id": 999_999, "content": content})
        assert chosen.status_code == 403
        assert anyone.get("/items/messages").status_code == 403
        assert anyone.get("/users", params={"fields": "first_name"}).status_code == 403
    assert rows_with(directus, content) == []


async def test_a_socket_that_never_authenticated_cannot_post(directus: LocalDirectus) -> None:
    content = f"unauthenticated {uuid.uuid4()}"
    async with websockets.connect(ws_url(directus), ping_interval=None) as ws:
        create = {"type": "items", "collection": "messages", "action": "create", "uid": "c"}
        await ws.send(json.dumps({**create, "data": {"content": content}}))
        frame = await next_frame(ws)
        assert frame["type"] == "auth" and frame["error"]["code"] == "AUTH_FAILED", frame
    assert rows_with(directus, content) == []


async def test_a_socket_whose_token_expired_is_the_public_and_cannot_post(
    make_directus: MakeDirectus, demo_users: list[DemoUser]
) -> None:
    """Directus 11.17.4 alone would store this create with no author (no permission
    check at all); the kit's socket guard makes the socket the public, which may not."""
    server = make_directus(ACCESS_TOKEN_TTL="3s")
    ada = demo_users[0]
    content = f"after expiry {uuid.uuid4()}"
    async with httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT) as http:
        login = await http.post("/auth/login", json={"email": ada.email, "password": ada.password})
        tokens = login.json()["data"]
        async with websockets.connect(ws_url(server), ping_interval=None) as ws:
            await ws.send(json.dumps({"type": "auth", "access_token": tokens["access_token"]}))
            assert (await next_frame(ws))["status"] == "ok"
            items = {"type": "items", "collection": "messages"}
            await ws.send(
                json.dumps({**items, "action": "create", "data": {"content": "mine"}, "uid": "1"})
            )
            own = (await next_frame(ws))["data"]
            expired = await next_frame(ws)
            assert expired["error"]["code"] == "TOKEN_EXPIRED", expired
            for action, extra in (
                ("create", {"data": {"content": content}}),
                ("read", {"query": {"limit": 1}}),
                ("update", {"id": own["id"], "data": {"content": content}}),
                ("delete", {"id": own["id"]}),
            ):
                await ws.send(json.dumps({**items, "action": action, "uid": action, **extra}))
                refused = await next_frame(ws)
                assert refused["status"] == "error", (action, refused)
                assert refused["error"]["code"] == "FORBIDDEN", (action, refused)
                assert "uid" not in refused  # Directus names no request: see _dispatch
            fresh = (
                await http.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
            ).json()["data"]
            await ws.send(json.dumps({"type": "auth", "access_token": fresh["access_token"]}))
            assert (await next_frame(ws))["status"] == "ok"
            await ws.send(
                json.dumps({**items, "action": "create", "data": {"content": content}, "uid": "2"})
            )
            again = (await next_frame(ws))["data"]
    assert again["user_created"] == own["user_created"]
    stored = rows_with(server, content)
    assert [row["id"] for row in stored] == [again["id"]], stored
    assert [row["content"] for row in rows_with(server, "mine")] == ["mine"]


async def test_without_the_guard_directus_11_leaves_an_expired_socket_unchecked(
    make_directus: MakeDirectus, tmp_path: Path, demo_users: list[DemoUser]
) -> None:
    """Why the guard exists, measured: Directus 11.17.4 on its own stores a create
    sent on an expired socket with no author, although the public may not post;
    and applying the schema to such a server says so."""
    server = make_directus(ACCESS_TOKEN_TTL="3s", EXTENSIONS_PATH=str(tmp_path))
    assert any("lets a websocket whose token expired" in w for w in server.setup_chat().warnings)
    ada = demo_users[0]
    content = f"unchecked {uuid.uuid4()}"
    async with httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT) as http:
        login = await http.post("/auth/login", json={"email": ada.email, "password": ada.password})
        token = login.json()["data"]["access_token"]
        async with websockets.connect(ws_url(server), ping_interval=None) as ws:
            await ws.send(json.dumps({"type": "auth", "access_token": token}))
            assert (await next_frame(ws))["status"] == "ok"
            assert (await next_frame(ws))["error"]["code"] == "TOKEN_EXPIRED"
            create = {"type": "items", "collection": "messages", "action": "create"}
            await ws.send(json.dumps({**create, "data": {"content": content}, "uid": "1"}))
            stored = (await next_frame(ws))["data"]
    assert stored["content"] == content and stored["user_created"] is None
    with as_user(server) as anyone:
        assert anyone.post("/items/messages", json={"content": content}).status_code == 403


def test_public_read_is_opt_in_read_only_and_can_be_taken_back(
    make_directus: MakeDirectus, demo_users: list[DemoUser]
) -> None:
    server = make_directus()
    ada = demo_users[0]
    content = f"for the wall {uuid.uuid4()}"
    with as_user(server, ada.email, ada.password) as http:
        posted = http.post("/items/messages", json={"content": content}).json()["data"]
    opened = server.setup_chat(public_read=True)
    assert opened.created == [
        "public read on messages (*)",
        "public read on directus_users (id, first_name, last_name), "
        f"only users holding the {CHAT_POLICY_NAME} policy",
        "public read on rooms (id, name, client_uid)",
        "public read on reactions (id, message, emoji, reaction_key, client_uid, "
        "user_created, date_created)",
        "public read on directus_files (id, filename_download, type, filesize, width, height), "
        "chat folder files attached to a message",
    ]
    assert not opened.modified and not opened.removed
    with as_user(server) as anyone, as_admin(server) as admin:
        wall = anyone.get(
            "/items/messages",
            params={"fields": "id,content,user_created.first_name", "sort": "-id", "limit": 1},
        )
        assert wall.status_code == 200, wall.text
        assert wall.json()["data"][0] == {
            "id": posted["id"],
            "content": content,
            "user_created": {"first_name": ada.first_name},
        }
        names = anyone.get("/users", params={"fields": "*"}).json()["data"]
        assert {user["first_name"] for user in names} == {u.first_name for u in demo_users}
        assert all(set(user) <= USER_FIELDS for user in names), names
        assert me(admin) not in {user["id"] for user in names}
        assert anyone.get("/users", params={"fields": "email"}).status_code == 403
        assert anyone.post("/items/messages", json={"content": content}).status_code == 403
        edit = anyone.patch(f"/items/messages/{posted['id']}", json={"content": "defaced"})
        assert edit.status_code == 403
        assert anyone.delete(f"/items/messages/{posted['id']}").status_code == 403
        assert anyone.get("/items/rooms").status_code == 200  # the wall may read rooms...
        assert anyone.post("/items/rooms", json={"name": "wall"}).status_code == 403  # only
        assert anyone.get("/items/reactions").status_code == 200  # ...and reactions, only
        reaction = {"message": posted["id"], "emoji": "👍", "reaction_key": "x"}
        assert anyone.post("/items/reactions", json=reaction).status_code == 403
    assert [row["content"] for row in rows_with(server, content)] == [content]
    closed = server.setup_chat()
    # messages, users, rooms, reactions and attached files: the public reads nothing again
    assert len(closed.removed) == 5 and not closed.created, closed.summary()
    with as_user(server) as anyone:
        assert anyone.get("/items/rooms").status_code == 403
        assert anyone.get("/items/messages").status_code == 403
        assert anyone.get("/users").status_code == 403


# -- a chat user ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", 999_999),
        ("user_created", "grace"),
        ("date_created", "2000-01-01T00:00:00.000Z"),
        ("date_updated", "2000-01-01T00:00:00.000Z"),
    ],
)
def test_a_chat_user_cannot_set_what_directus_fills_in(
    directus: LocalDirectus, demo_users: list[DemoUser], field: str, value: Any
) -> None:
    ada, grace = demo_users
    content = f"chosen {field} {uuid.uuid4()}"
    with as_user(directus, grace.email, grace.password) as other:
        grace_id = me(other)
    with as_user(directus, ada.email, ada.password) as http:
        chosen = grace_id if value == "grace" else value
        refused = http.post("/items/messages", json={"content": content, field: chosen})
        # Refused, not silently ignored: the create names a field it may not write.
        assert refused.status_code == 403 and code_of(refused) == "FORBIDDEN", refused.text
        assert f'"{field}"' in refused.json()["errors"][0]["message"]
    assert rows_with(directus, content) == []


def test_directus_fills_in_the_author_and_the_times(
    directus: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    ada = demo_users[0]
    content = f"filled in {uuid.uuid4()}"
    with as_user(directus, ada.email, ada.password) as http:
        uid = str(uuid.uuid4())
        row = http.post("/items/messages", json={"content": content, "client_uid": uid})
        assert row.status_code == 200, row.text
        stored = row.json()["data"]
        assert stored["user_created"] == me(http)
        assert stored["client_uid"] == uid and stored["date_created"]
        assert stored["date_updated"] is None
        edited = http.patch(f"/items/messages/{stored['id']}", json={"content": content + "!"})
        assert edited.status_code == 200, edited.text
        assert edited.json()["data"]["date_updated"] >= stored["date_created"]


def test_only_the_author_may_edit_or_delete_a_message(
    directus: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    ada, grace = demo_users
    content = f"grace's {uuid.uuid4()}"
    with (
        as_user(directus, ada.email, ada.password) as other,
        as_user(directus, grace.email, grace.password) as author,
    ):
        key = author.post("/items/messages", json={"content": content}).json()["data"]["id"]
        path = f"/items/messages/{key}"
        assert other.patch(path, json={"content": "not yours"}).status_code == 403
        assert other.delete(path).status_code == 403
        assert [row["content"] for row in rows_with(directus, content)] == [content]
        # The author edits the text, never who wrote it.
        assert author.patch(path, json={"user_created": me(other)}).status_code == 403
        assert author.patch(path, json={"content": content + " (edited)"}).status_code == 200
        assert rows_with(directus, content + " (edited)")[0]["user_created"] == me(author)
        assert author.delete(path).status_code == 204
    assert rows_with(directus, content + " (edited)") == []


def test_chat_users_see_chat_members_names_only(
    directus: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    ada = demo_users[0]
    with as_user(directus, ada.email, ada.password) as http, as_admin(directus) as admin:
        users = http.get("/users", params={"fields": "*", "limit": "-1"})
        assert users.status_code == 200, users.text
        listed = users.json()["data"]
        assert all(set(user) <= USER_FIELDS for user in listed), listed
        assert {u.first_name for u in demo_users} <= {user["first_name"] for user in listed}
        assert me(admin) not in {user["id"] for user in listed}
        assert http.get("/users", params={"fields": "email"}).status_code == 403
        assert http.get(f"/users/{me(admin)}").status_code == 403


# -- an old data folder, and real users ----------------------------------------------------------


def _permissions(admin: httpx.Client, policy: str) -> set[tuple[str, str, str, str]]:
    rows = admin.get(
        "/permissions",
        params={
            "filter": json.dumps({"policy": {"_eq": policy}}),
            "fields": "collection,action,fields,permissions",
            "limit": "-1",
        },
    ).json()["data"]
    return {
        (
            row["collection"],
            row["action"],
            ",".join(sorted(row["fields"] or [])),
            json.dumps(row["permissions"], sort_keys=True),
        )
        for row in rows
    }


def _policy_named(admin: httpx.Client, name: str) -> str:
    found = admin.get("/policies", params={"filter[name][_eq]": name, "fields": "id"})
    return str(found.json()["data"][0]["id"])


def _public_policy(admin: httpx.Client) -> str:
    found = admin.get(
        "/access",
        params={"filter[role][_null]": "true", "filter[user][_null]": "true", "fields": "policy"},
    )
    return str(found.json()["data"][0]["policy"])


def test_an_old_data_folder_is_locked_down_and_the_report_says_how(
    make_directus: MakeDirectus, demo_users: list[DemoUser]
) -> None:
    server = make_directus()
    with as_admin(server) as admin:
        # Turn it back into what the previous release left: no Chat user policy and no
        # date_updated; Public creates and reads messages and reads every account's
        # names; the demo users hold Public. Plus an editor with app access of their own.
        assert admin.delete(f"/policies/{_policy_named(admin, CHAT_POLICY_NAME)}").is_success
        # Nor any sign-up: no Chat user role, public registration off.
        roles = admin.get("/roles", params={"filter[name][_eq]": CHAT_ROLE_NAME}).json()["data"]
        assert admin.delete(f"/roles/{roles[0]['id']}").is_success
        assert admin.patch("/settings", json={"public_registration": False}).is_success
        assert admin.delete("/fields/messages/date_updated").is_success
        public = _public_policy(admin)
        for collection, action, fields in (
            ("messages", "create", ["*"]),
            ("messages", "read", ["*"]),
            ("directus_users", "read", ["id", "first_name", "last_name"]),
        ):
            made = admin.post(
                "/permissions",
                json={
                    "policy": public,
                    "collection": collection,
                    "action": action,
                    "fields": fields,
                },
            )
            assert made.is_success, made.text
        for user in demo_users:
            found = admin.get("/users", params={"filter[email][_eq]": user.email, "fields": "id"})
            user_id = found.json()["data"][0]["id"]
            assert admin.post("/access", json={"user": user_id, "policy": public}).is_success
        editors = admin.post("/policies", json={"name": "Editors", "app_access": True}).json()
        editor = admin.post(
            "/users",
            json={
                "email": "ed@example.com",
                "password": "ed-is-an-editor",
                "first_name": "Ed",
                "policies": {"create": [{"policy": editors["data"]["id"]}]},
            },
        ).json()["data"]["id"]
    with as_user(server) as anyone:
        assert anyone.post("/items/messages", json={"content": "old"}).status_code == 200

    report = server.setup_chat()

    assert sorted(report.removed) == [
        "public create on messages (*)",
        "public read on directus_users (id, first_name, last_name)",
        "public read on messages (*)",
    ]
    assert sorted(report.modified) == [
        "public sign-up on (role Chat user, no email check)",
        *(
            f"user {user.email}: moved from the Public policy to {CHAT_POLICY_NAME}"
            for user in demo_users
        ),
    ]
    assert f"role {CHAT_ROLE_NAME} with the {CHAT_POLICY_NAME} policy" in report.created
    assert "field messages.date_updated" in report.created
    assert f"policy {CHAT_POLICY_NAME}" in report.created
    # 2 on rooms, 4 on presence, 2 on files, 3 on reactions, 3 on read positions
    assert sum(line.startswith("chat user ") for line in report.created) == 19
    summary = report.summary()
    assert summary[0].startswith(f"{len(report.created)} created, 3 changed, 3 removed")
    assert "- public create on messages (*)" in summary

    with as_admin(server) as admin:
        chat = _policy_named(admin, CHAT_POLICY_NAME)
        assert not {(c, a) for c, a, *_ in _permissions(admin, public)} & {
            ("messages", "create"),
            ("messages", "read"),
            ("directus_users", "read"),
        }
        own = json.dumps({"user_created": {"_eq": "$CURRENT_USER"}}, sort_keys=True)
        held = {"policy": {"_eq": chat}}
        members = json.dumps({"_or": [{"policies": held}, {"role": {"policies": held}}]})
        members = json.dumps(json.loads(members), sort_keys=True)
        folder = admin.get("/folders", params={"filter[name][_eq]": "Chat attachments"})
        in_folder = {"folder": {"_eq": folder.json()["data"][0]["id"]}}
        mine = {"uploaded_by": {"_eq": "$CURRENT_USER"}}
        attached = {"chat_messages": {"_some": {"id": {"_nnull": True}}}}
        files = json.dumps({"_and": [in_folder, {"_or": [mine, attached]}]}, sort_keys=True)
        assert _permissions(admin, chat) == {
            ("messages", "read", "*", "null"),
            ("messages", "create", "attachment,client_uid,content,reply_to,room", "null"),
            ("directus_files", "read", "filename_download,filesize,height,id,type,width", files),
            ("directus_files", "create", "filename_download,folder,storage,title,type", "null"),
            ("messages", "update", "content", own),
            ("messages", "delete", "*", own),
            ("directus_users", "read", "first_name,id,last_name", members),
            ("rooms", "read", "client_uid,id,name", "null"),  # never update or delete
            ("rooms", "create", "client_uid,name", "null"),
            (
                "presence",
                "read",
                "client_uid,date_created,date_updated,id,key,room,typing,user_created",
                "null",
            ),
            ("presence", "create", "client_uid,key,room,typing", "null"),  # own key: validated
            ("presence", "update", "typing", own),
            ("presence", "delete", "*", own),
            # never update; delete only one's own
            (
                "reactions",
                "read",
                "client_uid,date_created,emoji,id,message,reaction_key,user_created",
                "null",
            ),
            ("reactions", "create", "client_uid,emoji,message,reaction_key", "null"),
            ("reactions", "delete", "*", own),
            ("read_positions", "read", "client_uid,id,last_read,room,slot", own),
            ("read_positions", "create", "client_uid,last_read,room,slot", "null"),
            ("read_positions", "update", "last_read", own),
        }
        holders = admin.get(
            "/access", params={"filter[user][_nnull]": "true", "fields": "user.email,policy"}
        ).json()["data"]
        for user in demo_users:
            assert [row["policy"] for row in holders if row["user"]["email"] == user.email] == [
                chat
            ]
    ada = demo_users[0]
    with as_user(server, ada.email, ada.password) as http, as_user(server) as anyone:
        assert http.post("/items/messages", json={"content": "new"}).status_code == 200
        listed = {user["id"] for user in http.get("/users").json()["data"]}
        assert editor not in listed and len(listed) == len(demo_users)
        assert anyone.post("/items/messages", json={"content": "new"}).status_code == 403

    again = server.setup_chat()
    assert not again.changed, again.summary()


def test_add_chat_user_makes_an_account_that_can_chat(
    make_directus: MakeDirectus, demo_users: list[DemoUser]
) -> None:
    server = make_directus()
    with as_admin(server) as admin:
        token = admin.headers["Authorization"].split(" ", 1)[1]
        lin = run_sync(
            add_chat_user(server.url, token, "lin@example.com", "lin-long-password", "Lin", "Ng")
        )
        # Again: the same account, kept as it is.
        assert run_sync(add_chat_user(server.url, token, "lin@example.com", "other")) == lin
    with as_user(server, "lin@example.com", "lin-long-password") as http:
        assert http.post("/items/messages", json={"content": "hi from Lin"}).status_code == 200
        names = {user["first_name"] for user in http.get("/users").json()["data"]}
        assert names == {"Lin", *(user.first_name for user in demo_users)}
    with as_admin(server) as admin:
        policy = admin.get(
            f"/policies/{_policy_named(admin, CHAT_POLICY_NAME)}",
            params={"fields": "app_access,admin_access"},
        ).json()["data"]
        assert policy == {"app_access": False, "admin_access": False}  # no admin app


# -- Directus 12 without a licence ------------------------------------------------------------


@pytest.mark.slow
def test_directus_12_without_a_licence_refuses_and_nothing_is_widened(tmp_path: Path) -> None:
    server = LocalDirectus(tmp_path, port=0, version="12.4.0", startup_timeout=12 * TIMEOUT)
    with server:
        with pytest.raises(PermissionRefused) as caught:
            server.setup_chat()
        said = str(caught.value)
        assert caught.value.code == "RESOURCE_RESTRICTED"
        for refused in (
            "chat user create on messages (content, client_uid, room, attachment, reply_to) "
            "(RESOURCE_RESTRICTED): "
            "chat users cannot post",
            "nobody can edit their own messages",
            "nobody can delete their own messages",
            "messages show no author names",
        ):
            assert refused in said, said
        assert "Nothing was widened" in said
        assert "What is in place: chat user read on messages (*)." in said
        with as_user(server) as anyone:
            assert anyone.post("/items/messages", json={"content": "x"}).status_code == 403
            assert anyone.get("/items/messages").status_code == 403
        with as_user(server, "ada@example.com", "ada-chat-demo") as ada:
            assert ada.get("/items/messages").status_code == 200  # what still works
            assert ada.post("/items/messages", json={"content": "x"}).status_code == 403
