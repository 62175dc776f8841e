"""ServerProcess lifecycle on a plain ``sleep``: what a failed or interrupted start leaves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from directus_chat_widget.local.process import ServerProcess, pid_from_file, start_time


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


def test_down_by_pid_file_spares_a_process_that_reused_the_pid(tmp_path: Path) -> None:
    bystander = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True
    )
    try:
        part = _Sleeper(tmp_path)
        tmp_path.mkdir(exist_ok=True)
        # The file names the bystander's pid but another start time: the process it
        # recorded is gone and the pid was handed out again.
        started = start_time(bystander.pid)
        assert started is not None
        part.pid_path.write_text(json.dumps({"pid": bystander.pid, "port": 1, "started": 1}))
        assert pid_from_file(part.pid_path) is None
        _Sleeper(tmp_path).stop(timeout=2.0)
        part.pid_path.write_text(json.dumps({"pid": bystander.pid, "port": 1}))
        _Sleeper(tmp_path).stop(timeout=2.0)
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_down_by_pid_file_stops_what_another_process_started(tmp_path: Path) -> None:
    _Sleeper(tmp_path).start()
    (pid,) = _sleepers(tmp_path)
    assert pid_from_file(tmp_path / "sleeper.pid") == pid
    _Sleeper(tmp_path).stop(timeout=5.0)
    assert _sleepers(tmp_path) == []
