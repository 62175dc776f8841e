"""What Linux says about a process: alive or not, its group, its start time, its pid file.

Read from ``/proc``; elsewhere these know less and say so (a start time of
None). A pid file is JSON with the pid, the port and the start time that tells
a reused pid apart, so a later ``directus-chat down`` never signals a stranger.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from pathlib import Path

__all__ = [
    "descendants",
    "group_members",
    "group_rss_bytes",
    "pid_alive",
    "pid_from_file",
    "pid_record",
    "process_stat",
    "same_process",
    "signal_group",
    "start_time",
    "still_there",
]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); it is dead for our purposes.
    with contextlib.suppress(OSError):
        status = Path(f"/proc/{pid}/stat").read_text()
        if status.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def signal_group(pid: int, sig: signal.Signals) -> None:
    """Send ``sig`` to process group ``pid``; a group already gone (or not ours) is no error."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of process group ``pgid`` (Linux /proc)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            if os.getpgid(int(entry.name)) == pgid and pid_alive(int(entry.name)):
                members.append(int(entry.name))
    return members


def group_rss_bytes(pgid: int) -> int:
    """Resident memory of every process in process group ``pgid`` (Linux /proc)."""
    total = 0
    for pid in group_members(pgid):
        with contextlib.suppress(OSError, ValueError, IndexError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


def process_stat(pid: int) -> tuple[int, int] | None:
    """``(parent pid, start time)`` of a process (Linux /proc), or None when gone or unknowable."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[19])


def start_time(pid: int) -> int | None:
    """When ``pid`` started, in clock ticks since boot (``/proc/<pid>/stat`` field 22)."""
    stat = process_stat(pid)
    return None if stat is None else stat[1]


def still_there(process: tuple[int, int]) -> bool:
    """The process ``(pid, start time)`` still runs: its pid was not reused meanwhile."""
    stat = process_stat(process[0])
    return stat is not None and stat[1] == process[1]


def descendants(root: int) -> list[tuple[int, int]]:
    """Every process below ``root``, as ``(pid, start time)`` so a reused pid is never hit."""
    children: dict[int, list[tuple[int, int]]] = {}
    with contextlib.suppress(OSError):
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and (stat := process_stat(int(entry.name))) is not None:
                children.setdefault(stat[0], []).append((int(entry.name), stat[1]))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child[0])
    return found


def same_process(pid: int, started: object) -> bool:
    """``pid`` is alive and is the process a pid file recorded as started at ``started``.

    Without /proc (no start time to compare) only liveness is known. A record
    without a start time, where /proc knows one, is not trusted: after pid reuse
    signalling it could hit an unrelated process group.
    """
    if not pid_alive(pid):
        return False
    now = start_time(pid)
    if now is None:
        return started is None
    return started == now


def pid_record(pid: int, port: int | None, **extra: object) -> str:
    """The JSON of a pid file: pid, port, the start time that tells a reused pid apart."""
    return json.dumps({"pid": pid, "port": port, "started": start_time(pid), **extra})


def pid_from_file(path: Path) -> int | None:
    """The live process recorded in a pid file (JSON with ``pid``, ``started``), else None."""
    try:
        record = json.loads(path.read_text())
        pid = int(record["pid"])
        started = record.get("started")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return pid if same_process(pid, started) else None
