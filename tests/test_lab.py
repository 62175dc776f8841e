"""`make lab`, the README's first command, from a clean clone, stopped with Ctrl-C.

Each run is real: a `git clone` of HEAD, `make lab` on a pseudo-terminal of its
own (so Ctrl-C is the byte 0x03 typed into it, and the terminal's line
discipline sends the SIGINT, to make's whole process group), with a PATH that
holds no jupyter. The checks: JupyterLab answers with the token printed, Directus
answers, a kernel started through Lab imports the kit; after Ctrl-C no process
is left and no port answers.

Cost: the clone builds its own .venv (pip install from a warm cache, about half
a minute) but shares the installed Directus (``DIRECTUS_CHAT_CACHE``), so no
test here ever runs npm. Data folders and ports are private to each test.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import termios
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from support import TIMEOUT, MakeDirectus
from websockets.sync.client import connect

from directus_chat_widget.local import DEFAULT_DIRECTUS_VERSION, cache_root
from directus_chat_widget.local.server import free_port

ROOT = Path(__file__).parents[1]
# The URL opens the tutorial's first notebook when the folder has it.
LAB_URL = re.compile(r"(http://127\.0\.0\.1:(\d+))/lab(?:/tree/00_start_here\.ipynb)?\?token=(\S+)")
DIRECTUS_URL = re.compile(r"Directus \S+ at (http://127\.0\.0\.1:\d+)")
READY = "Press Ctrl-C to stop"
# The clean clone builds its venv before Lab starts: half a minute here, more when cold.
FIRST_START = 30 * TIMEOUT
KERNEL_CHECK = (
    "import os, shutil, sys, directus_chat_widget\n"
    "print(directus_chat_widget.__file__)\n"
    "print(sys.executable)\n"
    "print(shutil.which('directus-chat'))\n"
    "print(os.environ['DIRECTUS_URL'])\n"
)

pytestmark = pytest.mark.integration


# -- a terminal, as a person's shell gives a command -----------------------------------------


def _take_the_terminal() -> None:
    # Runs in the child after setsid(): stdin (the pty) becomes its controlling terminal.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """A command on a pseudo-terminal of its own; everything it prints is collected."""

    def __init__(
        self, argv: list[str], *, cwd: Path, env: Mapping[str, str], user: str | None = None
    ) -> None:
        self._master, slave = pty.openpty()
        self._chunks: list[str] = []
        self._lock = threading.Lock()
        try:
            self.process = subprocess.Popen(
                argv,
                cwd=cwd,
                env=dict(env),
                stdin=slave,
                stdout=slave,
                stderr=slave,
                start_new_session=True,
                preexec_fn=_take_the_terminal,
                user=user,
            )
        finally:
            os.close(slave)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self._master, 4096)
            except OSError:  # EIO: every process holding the terminal is gone
                return
            if not data:
                return
            with self._lock:
                self._chunks.append(data.decode("utf-8", "replace"))

    @property
    def output(self) -> str:
        with self._lock:
            return "".join(self._chunks).replace("\r\n", "\n")

    def wait_for(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output:
                return self.output
            if self.process.poll() is not None:
                time.sleep(0.2)  # let the reader drain the last lines
                break
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never printed; the terminal shows:\n{self.output[-4000:]}")

    def ctrl_c(self) -> None:
        os.write(self._master, b"\x03")

    def close(self) -> None:
        if self.process.poll() is None:  # a failed test: stop it the way make passes on
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(3 * TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(TIMEOUT)
        self._reader.join(TIMEOUT)
        os.close(self._master)


# -- what the checks look at -------------------------------------------------------------


def _processes_using(folder: Path) -> dict[int, str]:
    """Processes whose command line or working folder lies in ``folder`` (but not this one)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            where = os.readlink(entry / "cwd")
        except OSError:  # gone meanwhile
            continue
        if str(folder) in command or where.startswith(str(folder)):
            found[int(entry.name)] = command
    return found


def _kill(processes: Mapping[int, str]) -> None:
    for pid in processes:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
        return True
    return False


def _run_in_kernel(base: str, token: str, code: str) -> str:
    """Start a kernel through Lab's REST API and run ``code`` over its websocket."""
    started = httpx.post(
        f"{base}/api/kernels", params={"token": token}, json={"name": "python3"}, timeout=TIMEOUT
    )
    assert started.status_code == 201, started.text
    msg_id = uuid.uuid4().hex
    request = {
        "header": {
            "msg_id": msg_id,
            "msg_type": "execute_request",
            "session": uuid.uuid4().hex,
            "username": "test",
            "version": "5.3",
            "date": datetime.now(UTC).isoformat(),
        },
        "parent_header": {},
        "metadata": {},
        "content": {"code": code, "silent": False, "store_history": False, "allow_stdin": False},
        "channel": "shell",
        "buffers": [],
    }
    url = base.replace("http", "ws", 1) + f"/api/kernels/{started.json()['id']}/channels"
    printed: list[str] = []
    deadline = time.monotonic() + 6 * TIMEOUT
    with connect(f"{url}?token={token}", open_timeout=3 * TIMEOUT) as channel:
        channel.send(json.dumps(request))
        while True:
            reply = json.loads(channel.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = reply["header"]["msg_type"], reply["content"]
            if kind == "stream":
                printed.append(content["text"])
            elif kind == "error":
                raise AssertionError("\n".join(content["traceback"]))
            elif kind == "status" and content["execution_state"] == "idle":
                return "".join(printed)


def _pip_settings() -> dict[str, str]:
    """This user's pip configuration as PIP_* variables, for a user who cannot read it."""
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=True
    ).stdout
    settings = {}
    for line in listed.splitlines():
        key, _, value = line.partition("=")
        section, _, name = key.partition(".")
        if section in ("global", "install") and name:
            settings[f"PIP_{name.upper().replace('-', '_')}"] = value.strip("'\"")
    settings.update({key: value for key, value in os.environ.items() if key.startswith("PIP_")})
    return settings


# -- one `make lab`, start to Ctrl-C ------------------------------------------------------


def make_lab_then_stop(
    clone: Path,
    env: Mapping[str, str],
    *,
    python: Path | None = None,
    user: str | None = None,
    stop: str = "ctrl-c",
    first_start: float = FIRST_START,
) -> str:
    """Run `make lab` in ``clone``, check both servers and a kernel, stop it; return its output."""
    directus_port, lab_port = free_port(), free_port()
    argv = ["make", "lab", f"LAB_ARGS=--port {directus_port} --lab-port {lab_port} --no-browser"]
    if python is not None:
        argv.append(f"PYTHON={python}")
    terminal = Terminal(argv, cwd=clone, env=env, user=user)
    try:
        shown = terminal.wait_for(READY, first_start)
        # The URL and the logins come last, after everything the start printed.
        last_lines = shown.strip().splitlines()[-8:]
        assert any(LAB_URL.search(line) for line in last_lines), last_lines
        assert any("ada@example.com" in line for line in last_lines), last_lines
        lab = LAB_URL.search(shown)
        directus = DIRECTUS_URL.search(shown)
        assert lab is not None and directus is not None, shown
        base, port, token = lab.group(1), int(lab.group(2)), lab.group(3)
        assert port == lab_port and directus.group(1).endswith(f":{directus_port}")
        status = httpx.get(f"{base}/api/status", params={"token": token}, timeout=TIMEOUT)
        assert status.status_code == 200, status.text
        assert httpx.get(f"{base}/api/status", timeout=TIMEOUT).status_code == 403
        ping = httpx.get(f"{directus.group(1)}/server/ping", timeout=TIMEOUT)
        assert ping.text == "pong"
        module, python_used, tool, url = _run_in_kernel(base, token, KERNEL_CHECK).split()
        venv = clone / ".venv"
        assert module.startswith(str(clone)) and python_used.startswith(str(venv))
        assert tool.startswith(str(venv)), "`!directus-chat` in a notebook must be the venv's"
        assert url == directus.group(1)
        assert ("--allow-root" in shown) == (user is None and os.geteuid() == 0)
        if stop == "ctrl-c":
            terminal.ctrl_c()
        else:  # SIGINT to make alone: GNU make keeps it to itself and waits for its recipe
            os.kill(terminal.process.pid, signal.SIGINT)
        terminal.process.wait(3 * TIMEOUT)
    finally:
        terminal.close()
    assert "stopped" in terminal.output.strip().splitlines()[-1], terminal.output[-2000:]
    assert not _answers(lab_port) and not _answers(directus_port)
    return terminal.output


def _leftovers_check(folder: Path) -> None:
    left = _processes_using(folder)
    _kill(left)
    assert not left, f"processes left behind: {left}"


# -- the tests ----------------------------------------------------------------------------


def _base_python() -> Path:
    """The real interpreter behind this venv (``python3`` on PATH may be a pyenv shim)."""
    return Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"


def _require_installed_directus() -> Path:
    installed = cache_root() / f"directus-{DEFAULT_DIRECTUS_VERSION}"
    if not (installed / ".installed").is_file():
        pytest.skip(f"Directus is not in the cache {installed}: run `directus-chat install` first")
    return installed


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A clean clone of HEAD; the first `make lab` in it builds its .venv."""
    _require_installed_directus()
    base = tmp_path_factory.mktemp("clean-clone")
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(base / "repo")], check=True)
    yield base / "repo"
    _kill(_processes_using(base))


def _environment(home: str, path: str, data: Path, cache: Path) -> dict[str, str]:
    return {
        "HOME": home,
        "PATH": path,  # no jupyter anywhere on it
        "LANG": "C.UTF-8",
        "TERM": "xterm",
        "DIRECTUS_CHAT_CACHE": str(cache),
        "DIRECTUS_CHAT_DATA": str(data),
    }


def _root_run(clone: Path) -> tuple[Path, dict[str, str]]:
    """This venv's base interpreter, and a bare environment for `make lab` in ``clone``."""
    python = _base_python()
    if not python.is_file():
        pytest.skip(f"cannot find the interpreter behind this venv at {python}")
    env = _environment(
        os.environ.get("HOME", "/root"),
        f"{python.parent}:/usr/bin:/bin",
        clone / "data",
        cache_root(),
    )
    env.update({key: value for key, value in os.environ.items() if key.startswith("PIP_")})
    return python, env


@pytest.mark.slow
def test_make_lab_from_a_clean_clone_then_ctrl_c(clone: Path) -> None:
    python, env = _root_run(clone)
    shown = make_lab_then_stop(clone, env, python=python)
    password = json.loads((clone / "data" / "directus-chat.json").read_text())["admin_password"]
    assert password not in shown
    _leftovers_check(clone.parent)


@pytest.mark.slow
def test_sigint_to_make_alone_stops_everything(clone: Path) -> None:
    python, env = _root_run(clone)
    make_lab_then_stop(clone, env, python=python, stop="sigint-to-make")
    _leftovers_check(clone.parent)


def _same_filesystem_tmp(of: Path) -> Path | None:
    device = of.stat().st_dev
    for candidate in (Path(tempfile.gettempdir()), Path("/var/tmp"), Path("/tmp")):
        if candidate.is_dir() and candidate.stat().st_dev == device:
            return candidate
    return None


@pytest.mark.slow
def test_make_lab_as_a_non_root_user(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("these tests already run as a non-root user: the clean-clone test is that case")
    useradd = shutil.which("useradd", path="/usr/sbin:/sbin:/usr/bin:/bin")
    userdel = shutil.which("userdel", path="/usr/sbin:/sbin:/usr/bin:/bin")
    if useradd is None or userdel is None:
        pytest.skip("useradd/userdel missing (Debian package `passwd`; .ci/run installs it)")
    system_python = Path("/usr/bin/python3")
    if not system_python.is_file():
        pytest.skip("no /usr/bin/python3 for the user (this venv's Python lives under /root)")
    installed = _require_installed_directus()
    scratch_root = _same_filesystem_tmp(installed)
    if scratch_root is None:
        pytest.skip(f"no temporary folder on the filesystem of {installed} to hard-link it into")
    name = f"dcw{secrets.token_hex(4)}"
    subprocess.run([useradd, "--create-home", "--shell", "/bin/sh", name], check=True)
    base = Path(tempfile.mkdtemp(prefix="dcw-lab-user-", dir=scratch_root))
    try:
        base.chmod(0o755)
        # The installed Directus, hard-linked: root-owned and read-only to the user, no copy
        # of its 840 MB, no npm run. A finished install is only read (`.installed` is there).
        shared_cache = base / "cache"
        shared_cache.mkdir()
        subprocess.run(["cp", "-al", str(installed), str(shared_cache)], check=True)
        work = base / "work"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(work / "repo")], check=True)
        subprocess.run(["chown", "-R", f"{name}:", str(work)], check=True)
        can_venv = subprocess.run(
            [str(system_python), "-c", "import ensurepip, venv"], user=name, capture_output=True
        )
        if can_venv.returncode != 0:
            pytest.skip("/usr/bin/python3 cannot make venvs (Debian package `python3-venv`)")
        env = _environment(f"/home/{name}", "/usr/bin:/bin", work / "data", shared_cache)
        env.update(USER=name, LOGNAME=name, **_pip_settings())
        make_lab_then_stop(work / "repo", env, user=name)
        _leftovers_check(base)
    finally:
        _kill(_processes_using(base))
        subprocess.run([userdel, "--remove", name], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_ctrl_c_leaves_a_directus_that_ran_before(
    make_directus: MakeDirectus, tmp_path: Path
) -> None:
    server = make_directus()
    lab_port = free_port()
    command = [
        sys.executable,
        "-m",
        "directus_chat_widget.local.cli",
        "lab",
        f"--data-dir={server.data_dir}",
        f"--lab-port={lab_port}",
        f"--env-file={tmp_path / '.env'}",
        f"--notebooks={ROOT / 'notebooks'}",
        "--no-browser",
    ]
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    terminal = Terminal(command, cwd=tmp_path, env=env)
    try:
        shown = terminal.wait_for(READY, 12 * TIMEOUT)
        assert f"at {server.url} (left running on exit" in shown
        assert "Press Ctrl-C to stop JupyterLab." in shown
        start = re.search(r"(http://\S+/lab/tree/00_start_here\.ipynb)\?token=(\S+)", shown)
        assert start is not None, shown  # the start page: the tutorial's first step
        page = httpx.get(start.group(1), params={"token": start.group(2)}, timeout=TIMEOUT)
        assert page.status_code == 200
        lab_pids = [
            pid
            for pid, command in _processes_using(ROOT / "notebooks").items()
            if f"--ServerApp.port={lab_port}" in command
        ]
        assert len(lab_pids) == 1, lab_pids
        terminal.ctrl_c()
        assert terminal.process.wait(3 * TIMEOUT) == 0
    finally:
        terminal.close()
    assert not _answers(lab_port)
    assert not Path(f"/proc/{lab_pids[0]}").exists()
    assert server.is_running()
    assert httpx.get(f"{server.url}/server/ping", timeout=TIMEOUT).text == "pong"
