"""MessageList's wire format, in plain pytest (no kernel, no browser).

The browser groups consecutive messages by who wrote them, so every message on
the wire says so with ``author_id``; the shown name (a first name) is not
enough, since two people may share one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from directus_chat_widget.store import MessageStore
from directus_chat_widget.widget import MessageList
from directus_chat_widget.widget._sources import module_css, module_source

ADA = {"id": "u-ada", "first_name": "Ada", "last_name": "Lovelace"}
ADA_BYRON = {"id": "u-ada-byron", "first_name": "Ada", "last_name": "Byron"}


def row(n: int, author: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": n,
        "content": f"m{n}",
        "date_created": "2026-11-29T03:04:05.000Z",
        "user_created": author,
    }


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> tuple[MessageList, list[dict[str, Any]]]:
    shown = MessageList()
    out: list[dict[str, Any]] = []
    monkeypatch.setattr(shown, "send", lambda content, buffers=None: out.append(content))
    return shown, out


def test_two_authors_with_one_first_name_differ_by_author_id(
    sent: tuple[MessageList, list[dict[str, Any]]],
) -> None:
    shown, out = sent
    store = MessageStore()
    shown.apply(store.add_rows([row(1, ADA), row(2, ADA_BYRON)]))
    first, second = out[-1]["messages"]
    assert first["author"] == second["author"] == "Ada"
    assert (first["author_id"], second["author_id"]) == ("u-ada", "u-ada-byron")


def test_an_unknown_author_has_a_null_author_id(
    sent: tuple[MessageList, list[dict[str, Any]]],
) -> None:
    shown, out = sent
    shown.apply(MessageStore().add_rows([row(1, None)]))
    [message] = out[-1]["messages"]
    assert message["author_id"] is None and message["author"] == "Unknown User"


def test_every_way_a_message_goes_out_carries_author_id(
    sent: tuple[MessageList, list[dict[str, Any]]],
) -> None:
    """Changes, snapshots and pages all use one shape, pending sends included."""
    shown, out = sent
    shown.own_id = "u-ada"
    store = MessageStore()
    shown.apply(store.add_rows([row(n, ADA_BYRON) for n in range(1, 80)]))
    shown.apply(store.add_pending("mine", ADA))
    shown._handle_custom_msg({"type": "snapshot", "view": "v1"}, [])
    shown._handle_custom_msg({"type": "load_older", "view": "v1", "before": "id:30"}, [])
    kinds = [m.get("kind", m["type"]) for m in out]
    assert kinds == ["append", "append", "snapshot", "page"]
    for content in out:
        json.dumps(content)  # what goes over the comm is JSON
        for message in content["messages"]:
            assert message["author_id"] in {"u-ada", "u-ada-byron"}
    pending = out[1]["messages"][0]
    assert pending["status"] == "pending" and pending["author_id"] == "u-ada" and pending["own"]


def test_a_view_module_is_its_main_file_then_its_parts_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "view.js").write_text("const ROW_PARTS = [];\n")
    (tmp_path / "view.b.js").write_text("ROW_PARTS.push('b');\n")
    (tmp_path / "view.a.js").write_text("ROW_PARTS.push('a');\n")
    (tmp_path / "other.js").write_text("not ours\n")
    (tmp_path / "view.a.css").write_text(".a {}\n")
    source = module_source("view", tmp_path)
    assert source == "const ROW_PARTS = [];\n\nROW_PARTS.push('a');\n\nROW_PARTS.push('b');\n"
    assert module_css("view", tmp_path) == ".a {}\n"
