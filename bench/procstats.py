"""What the processes of a benchmark use, read from /proc (Linux): CPU, memory, load.

A server configuration is a few process trees (Directus and its children,
Postgres and its backends...): each figure sums a tree, found by walking every
process's parent up to one of the roots.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["load_average", "resident_bytes", "tree_cpu_seconds", "tree_rss_bytes"]

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_cpu_seconds(roots: list[int]) -> float:
    """CPU time used so far by ``roots`` and every process below them."""
    return _tree_sum(roots, lambda f: (int(f[11]) + int(f[12])) / _TICKS)


def tree_rss_bytes(roots: list[int]) -> float:
    """Resident memory of ``roots`` and every process below them."""
    return _tree_sum(roots, lambda f: int(f[21]) * _PAGE)


def _tree_sum(roots: list[int], measure: Callable[[list[str]], float]) -> float:
    """``measure`` of each process's ``/proc/<pid>/stat`` fields (after the name), summed."""
    parent: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parent[pid] = int(fields[1])
        used[pid] = measure(fields)
    wanted = set(roots)
    total = 0.0
    for pid, value in used.items():
        walk = pid
        while walk > 1 and walk not in wanted:
            walk = parent.get(walk, 0)
        if walk in wanted:
            total += value
    return total


def resident_bytes() -> int:
    """This process's resident memory."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def load_average() -> str:
    """The machine's load over 1, 5 and 15 minutes (what else ran beside a benchmark)."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])
