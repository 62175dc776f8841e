"""SchemaReport: what applying the chat schema created, changed, removed or found in place."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

__all__ = ["SchemaReport"]

logger = logging.getLogger(__name__)


@dataclass
class SchemaReport:
    """What :func:`apply_chat_schema` did, one line per thing; empty lists: nothing of that kind.

    Attributes:
        created: added because it was missing (a field, a permission, a user...).
        modified: there, but not as the chat needs it, and changed in place
            (``"public read on directus_users (...) -> ..."``).
        removed: access the chat must not grant, taken away.
        unchanged: already as it should be.
        warnings: what the kit could not fix on this server (printed by ``up``).
    """

    created: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether anything on the server was written."""
        return bool(self.created or self.modified or self.removed)

    def add(self, what: str) -> None:
        self.created.append(what)
        logger.info("chat schema: created %s", what)

    def modify(self, what: str) -> None:
        self.modified.append(what)
        logger.info("chat schema: changed %s", what)

    def remove(self, what: str) -> None:
        self.removed.append(what)
        logger.info("chat schema: removed %s", what)

    def keep(self, what: str) -> None:
        self.unchanged.append(what)

    def warn(self, what: str) -> None:
        self.warnings.append(what)
        logger.warning("chat schema: %s", what)

    def note(self, what: str, created: bool) -> None:
        """``add`` when ``created``, else ``keep``."""
        (self.add if created else self.keep)(what)

    def summary(self) -> list[str]:
        """Lines for people: the counts, then every change and warning."""
        lines = [
            f"{len(self.created)} created, {len(self.modified)} changed, "
            f"{len(self.removed)} removed, {len(self.unchanged)} already in place"
        ]
        lines += [f"+ {what}" for what in self.created]
        lines += [f"~ {what}" for what in self.modified]
        lines += [f"- {what}" for what in self.removed]
        lines += [f"WARNING: {what}" for what in self.warnings]
        return lines
