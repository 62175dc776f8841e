"""@mentions found in text: the members, the syntax, code, and hostile names. Pure."""

from __future__ import annotations

import pytest

from directus_chat_widget.chat.members import Member, members_of
from directus_chat_widget.chat.mentions import Directory

ADA = Member("u-ada", "Ada", "Lovelace")
ADA_BYRON = Member("u-byron", "Ada", "Byron")
GRACE = Member("u-grace", "Grace", "Hopper")
CONAN = Member("u-conan", "Conan", "O'Brien")
HOSTILE = Member("u-x", "<img src=x onerror=alert(1)>", "")


def found(directory: Directory, text: str) -> list[tuple[str, str]]:
    """Each mention as (what the text says, the name it resolved to)."""
    return [(text[m.start : m.end], m.name) for m in directory.find(text).mentions]


def test_a_full_name_or_a_first_name_no_one_shares_mentions_a_member() -> None:
    people = Directory([ADA, GRACE, CONAN])
    assert found(people, "hi @Ada Lovelace and @grace!") == [
        ("@Ada Lovelace", "Ada Lovelace"),
        ("@grace", "Grace"),
    ]
    assert found(people, "(@Grace Hopper), @Conan O'Brien's point") == [
        ("@Grace Hopper", "Grace Hopper"),
        ("@Conan O'Brien", "Conan O'Brien"),
    ]
    assert found(people, "@Grace\u2019s idea") == [("@Grace", "Grace")]  # a typographic apostrophe
    assert people.find("thanks @Grace Hopper").of("u-grace")
    assert not people.find("thanks @Grace Hopper").of("u-ada")


@pytest.mark.parametrize(
    "text",
    [
        "mail ada@example.com",  # an address, not a mention
        "@Adam was here",  # another name that starts the same
        "`@Ada` is code",
        "```\n@Ada in a fence\n```",
        "@@Ada",
        "@ Ada",
    ],
)
def test_what_is_not_a_mention(text: str) -> None:
    assert Directory([ADA, GRACE]).find(text).mentions == ()


def test_unknown_and_shared_names_are_reported_for_the_sender() -> None:
    people = Directory([ADA, ADA_BYRON, GRACE])
    result = people.find("@Bob, @bob's and @Ada: ask @Ada Byron")
    assert result.unknown == ("@Bob",)  # once, whatever the case
    assert result.ambiguous == ("@Ada",)
    assert [m.name for m in result.mentions] == ["Ada Byron"]
    assert result.names == ("Ada Byron",)


def test_members_need_an_id_and_a_name_and_come_sorted() -> None:
    rows = [
        {"id": "u-g", "first_name": "Grace", "last_name": "Hopper"},
        {"id": "u-a", "first_name": " Ada ", "last_name": None},
        {"id": "u-nameless", "first_name": "", "last_name": ""},
        {"first_name": "No id"},
        "not a row",
    ]
    assert members_of(rows) == [Member("u-a", "Ada", ""), Member("u-g", "Grace", "Hopper")]
    assert Directory(members_of(rows)).names == ("Ada", "Grace Hopper")


def test_a_hostile_name_is_only_text_to_match() -> None:
    people = Directory([HOSTILE, GRACE])
    text = "look @<img src=x onerror=alert(1)> and @Grace"
    assert [m.name for m in people.find(text).mentions] == ["Grace"]  # a name starts with a letter
    assert people.names == ("<img src=x onerror=alert(1)>", "Grace Hopper")
