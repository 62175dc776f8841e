"""Who may upload and read attachments, enforced by a real Directus (see local/file_rules.py).

Over REST, with no client of the kit in between: a chat user uploads into the
chat folder only; an upload is its uploader's alone until attached to a
message, then every chat user's; a file outside the chat folder stays
private even when someone attaches its id; nobody swaps a message's file,
edits or deletes files; the public gets files only with ``public_read``, and
an administrator's own public file rules are left alone.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from pictures import png
from support import MakeDirectus
from test_access import as_admin, as_user, code_of

from directus_chat_widget._sync import run_sync
from directus_chat_widget.local import DemoUser, LocalDirectus
from directus_chat_widget.local.access import public_policy_id
from directus_chat_widget.local.attachments import CHAT_FOLDER
from directus_chat_widget.rest import DirectusRest

pytestmark = pytest.mark.integration


def upload(http: httpx.Client, name: str, data: bytes, **form: str) -> httpx.Response:
    return http.post("/files", data=form or None, files={"file": (name, data, "image/png")})


def post_message(http: httpx.Client, **data: Any) -> dict[str, Any]:
    reply = http.post("/items/messages", json={"content": f"file {uuid.uuid4().hex[:6]}", **data})
    assert reply.status_code == 200, reply.text
    return dict(reply.json()["data"])


async def public_policy(url: str, token: str) -> str:
    async with DirectusRest(url) as rest:
        return await public_policy_id(rest, token)


def admin_token(admin: httpx.Client) -> str:
    return str(admin.headers["Authorization"]).removeprefix("Bearer ")


def chat_folder(server: LocalDirectus) -> str:
    with as_admin(server) as admin:
        found = admin.get("/folders", params={"filter[name][_eq]": CHAT_FOLDER}).json()["data"]
    assert len(found) == 1
    return str(found[0]["id"])


def test_an_upload_is_its_uploaders_until_attached_then_every_chat_users(
    directus: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    ada, grace = demo_users
    data = png(12, 8)
    with (
        as_user(directus, ada.email, ada.password) as mine,
        as_user(directus, grace.email, grace.password) as theirs,
    ):
        sent = upload(mine, "mine.png", data)
        assert sent.status_code == 200, sent.text
        file = sent.json()["data"]
        assert (file["width"], file["height"], file["type"]) == (12, 8, "image/png")
        with as_admin(directus) as admin:
            stored = admin.get(f"/files/{file['id']}", params={"fields": "folder"}).json()
        assert stored["data"]["folder"] == chat_folder(directus)  # preset: the chat folder
        assert mine.get(f"/assets/{file['id']}").content == data
        for path in (f"/files/{file['id']}", f"/assets/{file['id']}"):
            refused = theirs.get(path)
            assert refused.status_code == 403 and code_of(refused) == "FORBIDDEN", path
        message = post_message(mine, attachment=file["id"])
        assert theirs.get(f"/assets/{file['id']}").content == data
        read = theirs.get(
            f"/items/messages/{message['id']}",
            params={"fields": "id,attachment.id,attachment.filename_download"},
        ).json()["data"]
        assert read["attachment"] == {"id": file["id"], "filename_download": "mine.png"}
        # The file stays the message's: neither its author nor anyone else swaps it.
        for who in (mine, theirs):
            swap = who.patch(f"/items/messages/{message['id']}", json={"attachment": None})
            assert swap.status_code == 403, swap.text
        for who in (mine, theirs):  # and nobody changes or deletes the file itself
            assert who.patch(f"/files/{file['id']}", json={"title": "x"}).status_code == 403
            assert who.delete(f"/files/{file['id']}").status_code == 403
        assert mine.get(f"/assets/{file['id']}").status_code == 200


def test_a_private_file_stays_private_even_attached_to_a_message(
    directus: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    ada, grace = demo_users
    with as_admin(directus) as admin:
        secret = admin.post("/files", files={"file": ("secret.txt", b"payroll", "text/plain")})
        secret_id = secret.json()["data"]["id"]
    with (
        as_user(directus, ada.email, ada.password) as mine,
        as_user(directus, grace.email, grace.password) as theirs,
    ):
        # Ada knows the id (it leaked somewhere) and attaches it: the message is
        # stored, the file is not shown to anyone through it.
        message = post_message(mine, attachment=secret_id)
        for who in (mine, theirs):
            assert who.get(f"/assets/{secret_id}").status_code == 403
            assert who.get(f"/files/{secret_id}").status_code == 403
            read = who.get(
                f"/items/messages/{message['id']}", params={"fields": "id,attachment.id"}
            ).json()["data"]
            assert read["attachment"] is None
        # Another folder is refused outright, and so is naming any folder but the chat's.
        away = upload(mine, "away.png", png(2, 2), folder=str(uuid.uuid4()))
        assert away.status_code == 400 and code_of(away) == "FAILED_VALIDATION", away.text
        listed = mine.get("/files", params={"fields": "id", "limit": "-1"}).json()["data"]
        assert secret_id not in {row["id"] for row in listed}


def test_the_public_gets_attached_files_only_with_public_read_and_other_rules_stay(
    make_directus: MakeDirectus, demo_users: list[DemoUser]
) -> None:
    server = make_directus()
    ada = demo_users[0]
    with as_user(server, ada.email, ada.password) as mine:
        attached = upload(mine, "wall.png", png(3, 3)).json()["data"]["id"]
        post_message(mine, attachment=attached)
        loose = upload(mine, "loose.png", png(3, 3)).json()["data"]["id"]
    with as_admin(server) as admin:
        policy = run_sync(public_policy(server.url, admin_token(admin)))
        # Another app of this server shares its logos with the public: not the kit's rule.
        logos = admin.post("/folders", json={"name": "logos"}).json()["data"]["id"]
        theirs = {"policy": policy, "collection": "directus_files", "action": "read",
                  "fields": ["id", "type"], "permissions": {"folder": {"_eq": logos}}}  # fmt: skip
        rule = admin.post("/permissions", json=theirs)
        assert rule.status_code == 200, rule.text
        logo = admin.post("/files", data={"folder": logos}, files={"file": ("l.png", png(2, 2))})
        logo_id = logo.json()["data"]["id"]
    with as_user(server) as anyone:
        assert anyone.get(f"/assets/{attached}").status_code == 403
        assert anyone.get(f"/assets/{logo_id}").status_code == 200
    opened = server.setup_chat(public_read=True)
    assert any(line.startswith("public read on directus_files") for line in opened.created)
    with as_user(server) as anyone:
        assert anyone.get(f"/assets/{attached}").status_code == 200
        assert anyone.get(f"/assets/{loose}").status_code == 403  # not attached: not shown
        wall = anyone.get(
            "/items/messages", params={"fields": "id,attachment.filename_download", "limit": "-1"}
        )
        assert wall.status_code == 200, wall.text
        assert anyone.post("/files", files={"file": ("x.png", png(2, 2))}).status_code == 403
    closed = server.setup_chat()
    assert any(line.startswith("public read on directus_files") for line in closed.removed)
    with as_user(server) as anyone:
        assert anyone.get(f"/assets/{attached}").status_code == 403
        assert anyone.get(f"/assets/{logo_id}").status_code == 200  # theirs, untouched
    again = server.setup_chat()
    assert not again.changed, again.summary()
