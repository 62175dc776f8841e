"""Who may read and upload chat attachments: Directus files rules, as data. Pure.

Attachments are files in one folder, ``Chat attachments`` (see
:mod:`.attachments`), linked from ``messages.attachment``. The rules
(``$CURRENT_USER`` is the logged-in user; every row is in the chat folder)::

    Chat user policy
      directus_files  read    id, filename_download, type, filesize, width, height
                              of files in the chat folder that are one's own upload
                              or attached to a message
      directus_files  create  title, filename_download, type, storage, folder
                              into the chat folder only (preset, and validated)
      directus_files  update, delete: none (an attachment is never swapped or emptied)

    Public policy
      with public_read=True (a display wall): read files attached to a message
      in the chat folder; else nothing of the kit's

Why the folder: a file outside it (an administrator's, another app's) never
becomes readable through the chat, even when someone attaches its id to a
message; a chat user can only upload into it. Why "attached to a message":
chat users read every message, so a file someone attached is theirs to see,
while an upload not attached yet stays its uploader's. Should messages ever
be filtered by room membership, the ``_some`` filter below must carry the
same condition.

``directus_files`` is shared with whatever else the server hosts: on the
Public policy only rows that name the chat folder are the kit's to change;
an administrator's own public file rules are left as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .rules import Rule

__all__ = [
    "FILES",
    "FILE_CREATE_FIELDS",
    "FILE_FIELDS",
    "FILE_PAIRS",
    "MESSAGES_OF_FILE",
    "chat_file_rules",
    "is_chat_file_rule",
    "public_file_rules",
]

FILES = "directus_files"
# The alias on directus_files listing the messages a file is attached to.
MESSAGES_OF_FILE = "chat_messages"
FILE_FIELDS = ("id", "filename_download", "type", "filesize", "width", "height")
# What an upload's first write holds (Directus fills in the rest itself).
FILE_CREATE_FIELDS = ("title", "filename_download", "type", "storage", "folder")
FILE_PAIRS = ((FILES, "read"), (FILES, "create"), (FILES, "update"), (FILES, "delete"))
_ATTACHED: dict[str, Any] = {MESSAGES_OF_FILE: {"_some": {"id": {"_nnull": True}}}}


def _in_folder(folder: str) -> dict[str, Any]:
    return {"folder": {"_eq": folder}}


def _read(folder: str, which: dict[str, Any], without: str, rows_text: str) -> Rule:
    """Reading files of the chat folder that match ``which``."""
    rows = {"_and": [_in_folder(folder), which]}
    return Rule(FILES, "read", FILE_FIELDS, rows, without=without, rows_text=rows_text)


def chat_file_rules(folder: str) -> tuple[Rule, ...]:
    """A chat user's file rules, for the chat folder ``folder`` (its id)."""
    own_or_attached = {"_or": [{"uploaded_by": {"_eq": "$CURRENT_USER"}}, _ATTACHED]}
    return (
        _read(
            folder,
            own_or_attached,
            "chat users see no attachments",
            "chat folder files that are one's own or attached to a message",
        ),
        Rule(
            FILES,
            "create",
            FILE_CREATE_FIELDS,
            without="chat users cannot attach files",
            validation=_in_folder(folder),
            presets={"folder": folder},
        ),
    )


def public_file_rules(folder: str, *, public_read: bool) -> tuple[Rule, ...]:
    """Nothing, unless ``public_read``: then reading attached files of the chat folder."""
    if not public_read:
        return ()
    without = "the public sees no attachments (and cannot read messages with them)"
    return (_read(folder, _ATTACHED, without, "chat folder files attached to a message"),)


def is_chat_file_rule(row: Mapping[str, Any], folder: str) -> bool:
    """Whether the server's permission ``row`` is one the kit made (it names the chat folder)."""
    for name in ("permissions", "validation", "presets"):
        value = row.get(name)
        if isinstance(value, Mapping) and folder in repr(value):
            return True
    return False
