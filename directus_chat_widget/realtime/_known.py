"""What the session knows about stored rows, to settle creates whose reply was lost.

Pure bookkeeping, no I/O: the highest id seen per collection (a create's
watermark: a row it made must be above it), the rows already given to a
create as its answer (never given to another), and whether each collection
has the dedupe field (learnt from replies and refused lookups).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

__all__ = ["KnownRows"]

# Rows remembered as some create's answer.
_CLAIMED = 4096


class KnownRows:
    """Ids seen and rows claimed; ``dedupe_field`` is the session's (None: none)."""

    def __init__(self, dedupe_field: str | None) -> None:
        self.dedupe_field = dedupe_field
        self._highest: dict[str, int] = {}
        self._claimed: OrderedDict[Any, None] = OrderedDict()
        self._dedupe: dict[str, bool] = {}

    def highest(self, collection: str) -> int | None:
        """The highest integer id seen in ``collection`` (None: none yet)."""
        return self._highest.get(collection)

    def note_ids(self, collection: str, keys: Iterable[Any]) -> None:
        ints = [k for k in keys if isinstance(k, int) and not isinstance(k, bool)]
        if ints:
            self._highest[collection] = max(self._highest.get(collection, 0), *ints)

    def note_created(self, collection: str | None, row: dict[str, Any], *, deduped: bool) -> None:
        """``row`` answers a create (``deduped``: it was sent with the dedupe field)."""
        key = row.get("id")
        if collection is not None and isinstance(key, int):
            self.note_ids(collection, (key,))
        if key is not None:
            self._claimed[key] = None
            while len(self._claimed) > _CLAIMED:
                self._claimed.popitem(last=False)
        if deduped and collection is not None and self.dedupe_field:
            self._dedupe[collection] = self.dedupe_field in row

    def claimed(self, key: Any) -> bool:
        """Whether the row ``key`` already answers some create."""
        return key in self._claimed

    def dedupe_usable(self, collection: str) -> bool:
        """Whether creates on ``collection`` may carry the dedupe field (not known to fail)."""
        return self.dedupe_field is not None and self._dedupe.get(collection) is not False

    def dedupe_works(self, collection: str, works: bool) -> None:
        """Learnt: looking rows up by the dedupe field works (or was refused) here."""
        self._dedupe[collection] = works
