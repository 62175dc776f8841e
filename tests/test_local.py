"""The kit's local Directus: install, start, schema, stop, and every way they can fail."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from support import TIMEOUT, MakeDirectus

from directus_chat_widget.errors import (
    AuthError,
    DataFolderMismatch,
    InstallFailed,
    NodeNotFound,
    PortInUse,
    ServerUnreachable,
    StartupFailed,
)
from directus_chat_widget.local import (
    DEFAULT_DIRECTUS_VERSION,
    DEMO_USERS,
    DemoUser,
    LocalDirectus,
    apply_chat_schema,
    ensure_installed,
    find_node,
)
from directus_chat_widget.local.server import free_port, port_is_free
from directus_chat_widget.local.settings import load_or_create_settings

# -- no server needed ---------------------------------------------------------------


def test_node_found_is_new_enough() -> None:
    runtime = find_node()
    assert runtime.version[0] >= 22
    assert runtime.npm_cli is not None and runtime.npm_cli.is_file()


def test_an_old_node_chosen_explicitly_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    old = Path("/usr/bin/node")
    if not old.exists():
        pytest.skip("this machine has no system node to play the old one")
    version = subprocess.run([str(old), "--version"], capture_output=True, text=True).stdout
    if int(version.lstrip("v").split(".")[0]) >= 22:
        pytest.skip(f"the system node is {version.strip()}, not an old one")
    monkeypatch.setenv("DIRECTUS_CHAT_NODE", str(old))
    with pytest.raises(NodeNotFound, match="needs Node >= 22"):
        find_node()


def test_a_missing_node_binary_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DIRECTUS_CHAT_NODE", str(tmp_path / "no-such-node"))
    with pytest.raises(NodeNotFound, match="not a working node binary"):
        find_node()


def test_settings_are_private_random_and_kept(tmp_path: Path) -> None:
    first, created = load_or_create_settings(tmp_path / "a", "11.17.4")
    again, created_again = load_or_create_settings(tmp_path / "a", "11.17.4")
    other, _ = load_or_create_settings(tmp_path / "b", "11.17.4")
    assert created and not created_again
    assert first == again
    assert first.secret != other.secret and first.key != other.key
    assert (tmp_path / "a" / "directus-chat.json").stat().st_mode & 0o077 == 0
    assert first.secret not in repr(first) and first.admin_password not in repr(first)


def test_a_data_folder_of_another_version_is_refused(tmp_path: Path) -> None:
    load_or_create_settings(tmp_path, "11.17.4")
    with pytest.raises(DataFolderMismatch, match=r"made by Directus 11\.17\.4, not 12\.4\.0"):
        LocalDirectus(tmp_path, version="12.4.0").start()


def test_a_taken_port_is_refused_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = LocalDirectus(tmp_path, port=port)
        with pytest.raises(PortInUse, match=f"port {port} .* already in use"):
            server.start()
        assert not server.is_running()


def test_npm_failure_reports_the_tail_of_its_log(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DIRECTUS_CHAT_CACHE", str(tmp_path))
    with pytest.raises(InstallFailed) as caught:
        ensure_installed("0.0.0-no-such-version", progress=lambda _: None)
    assert "npm exited with code" in str(caught.value)
    assert "0.0.0-no-such-version" in caught.value.log_tail
    assert not (tmp_path / "directus-0.0.0-no-such-version").exists()


# -- a real server --------------------------------------------------------------------


@pytest.mark.integration
def test_schema_applies_twice_without_change(directus: LocalDirectus) -> None:
    again = directus.setup_chat()
    assert not again.changed, again.created
    assert "collection messages" in " ".join(again.unchanged) or again.unchanged


@pytest.mark.integration
def test_demo_user_logs_in_posts_and_reads_names_but_no_secrets(
    directus: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    ada = demo_users[0]
    with httpx.Client(base_url=directus.url, timeout=TIMEOUT) as http:
        login = http.post("/auth/login", json={"email": ada.email, "password": ada.password})
        assert login.status_code == 200, login.text
        http.headers["Authorization"] = f"Bearer {login.json()['data']['access_token']}"
        created = http.post("/items/messages", json={"content": "hello from the test"})
        assert created.status_code == 200, created.text
        # A chat user reads the message and its author's name...
        read = http.get(
            "/items/messages",
            params={"fields": "id,content,user_created.first_name", "sort": "-id", "limit": 1},
        )
        assert read.status_code == 200, read.text
        row = read.json()["data"][0]
        assert row["content"] == "hello from the test"
        assert row["user_created"]["first_name"] == ada.first_name
        # ...but never an email or a password hash (the rest: tests/test_access.py).
        users = http.get("/users", params={"fields": "*"})
        assert users.status_code == 200, users.text
        for user in users.json()["data"]:
            assert set(user) <= {"id", "first_name", "last_name"}, user
        for secret_field in ("email", "password"):
            assert http.get("/users", params={"fields": secret_field}).status_code == 403


@pytest.mark.integration
def test_wrong_admin_token_is_a_clear_error(directus: LocalDirectus) -> None:
    from directus_chat_widget._sync import run_sync

    with pytest.raises(AuthError):
        run_sync(apply_chat_schema(directus.url, "not-a-token"))


def test_unreachable_url_is_a_clear_error() -> None:
    from directus_chat_widget._sync import run_sync

    with pytest.raises(ServerUnreachable):
        run_sync(apply_chat_schema(f"http://127.0.0.1:{free_port()}", "token"))


@pytest.mark.integration
def test_restart_keeps_data_and_stop_leaves_nothing(make_directus: MakeDirectus) -> None:
    server = make_directus()
    ada = DEMO_USERS[0]

    def log_in(http: httpx.Client) -> None:
        login = http.post("/auth/login", json={"email": ada.email, "password": ada.password})
        http.headers["Authorization"] = f"Bearer {login.json()['data']['access_token']}"

    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        log_in(http)
        assert http.post("/items/messages", json={"content": "kept"}).status_code == 200
    pid, port = server.pid, server.port
    assert pid is not None and port is not None
    server.restart()
    assert server.port == port and server.pid != pid
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        log_in(http)
        contents = [row["content"] for row in http.get("/items/messages").json()["data"]]
    assert "kept" in contents
    last_pid = server.pid
    assert last_pid is not None
    server.stop()
    assert not server.is_running()
    with pytest.raises(ProcessLookupError):
        os.killpg(last_pid, 0)  # no process of its group is left
    assert port_is_free(port)
    assert not (server.data_dir / "directus.pid").exists()


@pytest.mark.integration
def test_startup_timeout_stops_the_process(tmp_path: Path) -> None:
    server = LocalDirectus(tmp_path, port=0, startup_timeout=0.2)
    with pytest.raises(StartupFailed, match="did not answer"):
        server.start()
    assert not server.is_running()


def _processes_working_in(folder: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and os.readlink(entry / "cwd").startswith(str(folder)):
                found.append(int(entry.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


@pytest.mark.integration
def test_ctrl_c_while_starting_leaves_no_process(tmp_path: Path) -> None:
    import signal
    import threading
    import time

    pid_file = tmp_path / "directus.pid"

    def interrupt_once_spawned() -> None:
        deadline = time.monotonic() + 12 * TIMEOUT
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C does to this process

    server = LocalDirectus(tmp_path, port=0, startup_timeout=12 * TIMEOUT)
    threading.Thread(target=interrupt_once_spawned, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        server.start()
    pid = json.loads(pid_file.read_text())["pid"] if pid_file.exists() else None
    assert pid is None, "the pid record of a server that was stopped should be gone"
    assert not server.is_running()
    assert not _processes_working_in(tmp_path), "a Directus outlived the interrupted start"


@pytest.mark.integration
def test_a_crashing_server_reports_its_own_output(tmp_path: Path) -> None:
    server = LocalDirectus(tmp_path, port=0, env={"DB_CLIENT": "no-such-database-client"})
    with pytest.raises(StartupFailed) as caught:
        server.start()
    assert caught.value.log_tail, "the error should carry the server's last lines"
    assert not server.is_running()


# -- the command line -------------------------------------------------------------------


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "directus_chat_widget.local.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30 * TIMEOUT,
    )


@pytest.mark.integration
def test_cli_up_status_logs_down(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    up = _cli("up", "--port", "0", *data, cwd=tmp_path)
    try:
        assert up.returncode == 0, up.stderr
        assert "demo logins" in up.stdout and "ada@example.com" in up.stdout
        url = (tmp_path / ".env").read_text().strip().split("=", 1)[1]
        assert url.startswith("http://127.0.0.1:") and url in up.stdout
        assert httpx.get(f"{url}/server/ping", timeout=TIMEOUT).text == "pong"
        status = _cli("status", *data, cwd=tmp_path)
        assert status.returncode == 0 and "running at " + url in status.stdout
        again = _cli("up", "--port", "0", *data, cwd=tmp_path)
        assert again.returncode == 0 and "already running" in again.stdout
        assert "0 created, 0 changed, 0 removed" in again.stdout
        assert httpx.get(f"{url}/items/messages", timeout=TIMEOUT).status_code == 403
        wall = _cli("up", "--public-read", *data, cwd=tmp_path)
        assert wall.returncode == 0 and "5 created" in wall.stdout, wall.stdout  # 5 read rules
        assert "+ public read on messages (*)" in wall.stdout
        assert httpx.get(f"{url}/items/messages", timeout=TIMEOUT).status_code == 200
        closed = _cli("up", *data, cwd=tmp_path)
        assert "- public read on messages (*)" in closed.stdout, closed.stdout
        assert httpx.get(f"{url}/items/messages", timeout=TIMEOUT).status_code == 403
        logs = _cli("logs", "--lines", "5000", *data, cwd=tmp_path)  # the set-up logs a lot
        assert logs.returncode == 0 and "/server/ping" in logs.stdout
    finally:
        down = _cli("down", *data, cwd=tmp_path)
    assert down.returncode == 0 and "stopped" in down.stdout
    stopped = _cli("status", *data, cwd=tmp_path)
    assert stopped.returncode == 3 and "not running" in stopped.stdout
    pid_record = tmp_path / "data" / "directus.pid"
    assert not pid_record.exists()


def test_cli_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = _cli("up", "--port", port, "--data-dir", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: port ")
    assert "Traceback" not in result.stderr


def test_default_version_has_a_committed_lock_file() -> None:
    from directus_chat_widget.local import pinned_versions

    assert DEFAULT_DIRECTUS_VERSION in pinned_versions()
    lock_path = (
        Path(__file__).parents[1]
        / "directus_chat_widget/local/npm"
        / DEFAULT_DIRECTUS_VERSION
        / "package-lock.json"
    )
    lock = json.loads(lock_path.read_text())
    assert lock["packages"]["node_modules/directus"]["version"] == DEFAULT_DIRECTUS_VERSION


# -- a data folder keeps its port ---------------------------------------------------------


@pytest.mark.integration
def test_up_reuses_the_data_folders_last_port(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    first = _cli("up", "--port", "0", *data, cwd=tmp_path)
    try:
        assert first.returncode == 0, first.stderr
        url = (tmp_path / ".env").read_text().strip().split("=", 1)[1]
        assert _cli("down", *data, cwd=tmp_path).returncode == 0
        again = _cli("up", *data, cwd=tmp_path)  # no --port: the folder's own comes back
        assert again.returncode == 0, again.stderr
        assert f"at {url}" in again.stdout
        assert "WARNING" not in again.stderr
        assert (tmp_path / ".env").read_text().strip() == f"DIRECTUS_URL={url}"
    finally:
        _cli("down", *data, cwd=tmp_path)


@pytest.mark.integration
def test_a_taken_last_port_moves_the_server_loudly_and_an_asked_port_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from directus_chat_widget.local import chat_server

    monkeypatch.setenv("DIRECTUS_CHAT_PORT", "0")  # never fall back onto a developer's 8055
    folder, env_file = tmp_path / "data", tmp_path / ".env"
    said: list[str] = []
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        old = squatter.getsockname()[1]
        # The folder last ran on `old` (as a start would have recorded it), now taken.
        settings, _ = load_or_create_settings(folder, DEFAULT_DIRECTUS_VERSION)
        settings.with_port(old).save(folder)
        server, _ = chat_server(folder, env_file=env_file, progress=said.append)
        try:
            assert server.port != old
            warning = [line for line in said if line.startswith("WARNING")]
            assert len(warning) == 1, said
            assert f"from http://127.0.0.1:{old} to {server.url}" in warning[0]
            assert f"port {old} is in use" in warning[0] and "restart their kernels" in warning[0]
            assert env_file.read_text().strip() == f"DIRECTUS_URL={server.url}"
        finally:
            server.stop()
    asked = free_port()
    server, _ = chat_server(folder, port=asked, env_file=env_file, progress=said.append)
    try:
        assert server.port == asked  # the folder's last port is free again, but asked wins
        assert "a port was asked for" in said[-1]
    finally:
        server.stop()
