"""ServerProcess lifecycle on a plain ``sleep``: what a failed or interrupted start leaves."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from directus_chat_widget.local.process import ServerProcess


class _Sleeper(ServerProcess):
    name = "sleeper"

    def command(self, port: int) -> list[str]:
        return [sys.executable, "-c", "import time; time.sleep(60)"]

    def ready(self, port: int) -> bool:
        return True


def _sleepers(folder: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cwd = os.readlink(entry / "cwd")
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if cwd == str(folder) and b"time.sleep(60)" in cmdline:
                found.append(int(entry.name))
    return found


def test_a_start_cut_short_after_the_spawn_leaves_no_process(tmp_path: Path) -> None:
    part = _Sleeper(tmp_path)
    part.pid_path.mkdir(parents=True)  # writing the pid file fails, after the Popen
    with pytest.raises(OSError):
        part.start()
    assert _sleepers(tmp_path) == []
