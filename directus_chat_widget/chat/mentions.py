"""@mentions, found in a message's text against the chat's members. Pure: no I/O.

How mentions are stored: **in the text, as written**, and parsed wherever they
are needed, with this module, by everyone alike. Not in a field of their own:

- the text is what every reader sees (the widget, the admin app, another
  client): a mention in a field that the text does not show would notify
  someone of nothing visible, and a forged field could notify anyone;
- an edit changes the text, and so the mentions, with no second write and no
  second permission to keep in step (the chat-user policy lets a user update
  ``content`` alone);
- messages written before this feature, or by other clients, work as they are.

The cost: a mention names a person, not an id, so it follows the name. A
user renamed later is no longer mentioned by old messages (they show as
plain text), and two members with one full name are both mentioned by it.

The syntax is what the composer's autocompletion writes: ``@`` and a
member's full name ("@Ada Lovelace"), or the first name alone where only one
member has it ("@Ada"); letter case does not matter. An ``@`` counts at the
start or after a character that is not a letter, digit or ``_`` (so
``ada@example.com`` mentions nobody), and the name must end there (``@Adam``
is not ``@Ada``). Code (```` ``` ```` fences and `` `spans` ``) mentions nobody.
An ``@`` and a word that name no member is an unknown mention (a first
name two members share is an ambiguous one): it is sent as plain text, and
:attr:`Found.unknown` (:attr:`Found.ambiguous`) lets the sender be told.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from .members import Member

__all__ = ["Directory", "Found", "Mention"]

# Code, where an @ is not a mention: fenced blocks, then inline spans.
_CODE = re.compile(r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)|`[^`\n]*`", re.DOTALL)
# An @ at a word's start, and the word after it (a name starts with a letter).
_AT = re.compile(r"(?<![\w@])@(?=[^\W\d_])")
_QUOTES = "'\u2019"  # an apostrophe, typed or typographic: O'Brien, Ada\u2019s
_WORD = re.compile(rf"[^\W_][\w{_QUOTES}-]*")
_LETTERS = re.compile(r"[^\W\d_]+")
_POSSESSIVE = re.compile(rf"(?:[{_QUOTES}]s)?[{_QUOTES}-]*$")


@dataclass(frozen=True)
class Mention:
    """One mention in a text: ``text[start:end]`` is ``"@" + name``, of ``members``."""

    start: int
    end: int
    name: str  # as the directory spells it
    members: tuple[Member, ...]

    def of(self, user_id: str | None) -> bool:
        """True when ``user_id`` is one of the members mentioned."""
        return any(member.id == user_id for member in self.members)


@dataclass(frozen=True)
class Found:
    """What :meth:`Directory.find` found in a text: mentions, and names that match no one."""

    mentions: tuple[Mention, ...] = ()
    unknown: tuple[str, ...] = ()  # "@Bob", in order, each once
    ambiguous: tuple[str, ...] = ()  # "@Ada" when two members are called Ada

    @property
    def names(self) -> tuple[str, ...]:
        """The names mentioned, each once, in order."""
        return tuple(dict.fromkeys(mention.name for mention in self.mentions))

    def of(self, user_id: str | None) -> bool:
        """True when ``user_id`` is mentioned."""
        return user_id is not None and any(mention.of(user_id) for mention in self.mentions)


def _fold(text: str) -> str:
    return text.casefold()


def _letters(text: str) -> str:
    found = _LETTERS.match(text)
    return found.group() if found else ""


class Directory:
    """The names a mention may use: every member's full name, and unique first names.

    Args:
        members: the chat's members (see :func:`.members.load_members`).
    """

    def __init__(self, members: Iterable[Member] = ()) -> None:
        self.members = tuple(members)
        handles: dict[str, tuple[str, list[Member]]] = {}
        firsts: dict[str, list[Member]] = defaultdict(list)
        for member in self.members:
            handles.setdefault(_fold(member.name), (member.name, []))[1].append(member)
            if member.first_name:
                firsts[_fold(member.first_name)].append(member)
        self._shared = {folded for folded, owners in firsts.items() if len(owners) > 1}
        for folded, owners in firsts.items():
            if len(owners) == 1 and folded not in handles:
                handles[folded] = (owners[0].first_name, owners)
        # Looked up by the letters a handle starts with ("o" for "o'brien"),
        # the longest handle first: "@Ada Lovelace" before "@Ada".
        self._by_word: dict[str, list[tuple[str, str, tuple[Member, ...]]]] = defaultdict(list)
        for folded, (name, owners) in handles.items():
            self._by_word[_letters(folded)].append((folded, name, tuple(owners)))
        for candidates in self._by_word.values():
            candidates.sort(key=lambda candidate: len(candidate[0]), reverse=True)

    @property
    def names(self) -> tuple[str, ...]:
        """Every member's full name, each once, in alphabetical order (for autocompletion)."""
        return tuple(dict.fromkeys(member.name for member in self.members))

    def find(self, text: str) -> Found:
        """The mentions in ``text``, and the ``@name`` words that match no member."""
        if "@" not in text:
            return Found()
        code = [match.span() for match in _CODE.finditer(text)]
        mentions: list[Mention] = []
        unknown: dict[str, str] = {}  # by its folded form: "@Bob" and "@bob" are one
        ambiguous: dict[str, str] = {}
        for at in _AT.finditer(text):
            start = at.start()
            if any(low <= start < high for low, high in code):
                continue
            mention = self._match(text, start)
            if mention is not None:
                mentions.append(mention)
                continue
            word = _WORD.match(text, start + 1)
            if word is not None:
                name = _POSSESSIVE.sub("", word.group())
                shared = _fold(name) in self._shared
                (ambiguous if shared else unknown).setdefault(_fold(name), "@" + name)
        return Found(tuple(mentions), tuple(unknown.values()), tuple(ambiguous.values()))

    def _match(self, text: str, start: int) -> Mention | None:
        ahead = _letters(_fold(text[start + 1 : start + 65]))
        for folded, name, owners in self._by_word.get(ahead, ()):
            end = start + 1 + len(folded)
            if _fold(text[start + 1 : end]) != folded:
                continue
            if end < len(text) and (text[end].isalnum() or text[end] == "_"):
                continue  # "@Adam" is not "@Ada"
            return Mention(start, end, name, owners)
        return None
