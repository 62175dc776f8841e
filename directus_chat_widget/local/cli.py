"""``directus-chat``: run the kit's local Directus from the command line.

    directus-chat up        install if needed, start, apply the chat schema and demo users,
                            write DIRECTUS_URL into .env, print the URL and demo logins
    directus-chat up --instances N
                            the same on a local cluster: Postgres, Redis, N Directus, HAProxy
    directus-chat down      stop it (every part of a cluster too)
    directus-chat status    is it running, where, how much memory (each part of a cluster)
    directus-chat compose   write the deploy recipe (Compose file, HAProxy config, env)
    directus-chat logs      the tail of its log
    directus-chat install   only install Directus into the cache
    directus-chat lab       up, then JupyterLab on the tutorial notebooks; Ctrl-C stops both

Errors print one line (plus the server's or npm's last lines when they help),
never a traceback, and exit with status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ..config import write_env_value
from ..errors import DirectusError, InstallFailed, StartupFailed
from .cluster import CLUSTER_FILE, LocalCluster, default_cluster_dir
from .guard import write_guard
from .install import DEFAULT_DIRECTUS_VERSION, ensure_installed
from .lab import DEFAULT_LAB_PORT, LabOptions, run_lab
from .logins import login_lines
from .schema import DEMO_USERS
from .server import DEFAULT_PORT, LocalDirectus
from .settings import SETTINGS_FILE
from .topology import compose_files
from .up import chat_server

__all__ = ["main"]


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _say_if_possible(message: str) -> None:
    # After a hang-up (SIGHUP) the terminal is gone: the clean-up must go on regardless.
    with contextlib.suppress(OSError):
        _say(message)


def _show_if_possible(message: str) -> None:
    with contextlib.suppress(OSError):
        print(message, flush=True)


def _server(args: argparse.Namespace) -> LocalDirectus:
    return LocalDirectus(
        args.data_dir,
        port=getattr(args, "port", None),
        version=args.directus_version,
        progress=_say,
    )


def _clusters(args: argparse.Namespace) -> list[LocalCluster]:
    """The cluster ``down``/``status`` act on: the folder given, or the default cluster's."""
    folder = Path(args.data_dir) if args.data_dir is not None else default_cluster_dir()
    if not (folder / CLUSTER_FILE).is_file():
        return []
    return [LocalCluster(folder, version=args.directus_version, progress=_say)]


def _cmd_up_cluster(args: argparse.Namespace) -> int:
    started = time.monotonic()
    cluster = LocalCluster(
        args.data_dir,
        instances=args.instances,
        port=args.port,
        version=args.directus_version,
        progress=_say,
    )
    # A running cluster asked for another instance count is restarted, not "already running".
    already = cluster.attach() and args.instances in (None, len(cluster.directus))
    cluster.start()
    report = cluster.setup_chat(
        DEMO_USERS if not args.no_demo_users else (),
        public_read=args.public_read,
        registration=not args.no_signup,
    )
    env_file = Path(args.env_file)
    write_env_value(env_file, "DIRECTUS_URL", cluster.url)
    state = "already running" if already else f"ready in {time.monotonic() - started:.1f} s"
    print(f"Directus {cluster.version} cluster {state} at {cluster.url} (HAProxy)")
    for part in cluster.status():
        print(f"  {part.name:<11} port {part.port}")
    print("\n    ".join(["  schema:", *report.summary()]))
    print(f"  DIRECTUS_URL written to {env_file.resolve()}")
    _print_logins(args, cluster.admin_email, cluster.data_dir / CLUSTER_FILE)
    print(
        "  stop it with: directus-chat down"
        + (f" --data-dir {args.data_dir}" if args.data_dir else "")
    )
    return 0


def _print_logins(args: argparse.Namespace, admin_email: str, secrets: Path) -> None:
    for line in login_lines(not args.no_demo_users, admin_email, secrets):
        print(line)


def _cmd_up(args: argparse.Namespace) -> int:
    if args.instances is not None:
        if args.instances < 2:
            _say("error: --instances needs 2 or more (without it: one Directus on SQLite)")
            return 2
        return _cmd_up_cluster(args)
    started = time.monotonic()
    already = _server(args).attach()
    env_file = Path(args.env_file)
    server, report = chat_server(
        args.data_dir,
        port=args.port,
        version=args.directus_version,
        env_file=env_file,
        demo_users=not args.no_demo_users,
        public_read=args.public_read,
        registration=not args.no_signup,
        progress=_say,
    )
    state = "already running" if already else f"ready in {time.monotonic() - started:.1f} s"
    print(f"Directus {server.version} {state} at {server.url}")
    print("\n    ".join(["  schema:", *report.summary()]))
    print(f"  DIRECTUS_URL written to {env_file.resolve()}")
    _print_logins(args, server.admin_email, server.data_dir / SETTINGS_FILE)
    print("  stop it with: directus-chat down")
    return 0


def _cmd_down(args: argparse.Namespace) -> int:
    clusters = _clusters(args)
    for cluster in clusters:
        cluster.stop()
        print(f"Directus cluster stopped ({cluster.data_dir})")
    if clusters and args.data_dir is not None:
        return 0
    server = _server(args)
    if not server.attach():
        if not clusters:
            print("Directus is not running")
        return 0
    server.stop()
    print("Directus stopped")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    clusters = _clusters(args)
    running = False
    for cluster in clusters:
        parts = cluster.status()
        running = running or any(part.running for part in parts)
        print(f"Directus {cluster.folder_version} cluster ({cluster.data_dir}):")
        for part in parts:
            where = f"port {part.port}, pid {part.pid}" if part.running else "not running"
            print(f"  {part.name:<11} {where:<26} {part.rss_bytes / 2**20:6.0f} MiB resident")
    if clusters and args.data_dir is not None:
        return 0 if running else 3
    server = _server(args)
    if not server.attach():
        if running:
            return 0
        print(f"Directus {args.directus_version}: not running (data: {server.data_dir})")
        return 3
    memory = server.memory_rss_bytes() / 2**20
    print(
        f"Directus {server.version}: running at {server.url}, pid {server.pid}, "
        f"{memory:.0f} MiB resident (data: {server.data_dir})"
    )
    return 0


def _cmd_logs(args: argparse.Namespace) -> int:
    tail = _server(args).log_tail(args.lines)
    print(tail if tail else "(no log yet)")
    return 0


def _cmd_compose(args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    files = compose_files(args.instances, version=args.directus_version, public_url=args.public_url)
    for name, text in files.items():
        (out / name).write_text(text)
    write_guard(out / "extensions")
    print(f"Deploy recipe for {args.instances} Directus instances written to {out.resolve()}:")
    print("  " + ", ".join([*files, "extensions/"]))
    print(
        f"  next: cp {out}/.env.example {out}/.env, fill it in, then `docker compose up -d` there"
    )
    return 0


def _cmd_install(args: argparse.Namespace) -> int:
    cli = ensure_installed(args.directus_version, progress=_say)
    print(f"Directus {args.directus_version} installed: {cli}")
    return 0


def _cmd_lab(args: argparse.Namespace) -> int:
    options = LabOptions(
        notebooks=Path(args.notebooks).resolve(),
        data_dir=Path(args.data_dir) if args.data_dir is not None else None,
        port=args.port,
        version=args.directus_version,
        env_file=Path(args.env_file),
        demo_users=not args.no_demo_users,
        lab_port=args.lab_port,
        open_browser=not args.no_browser,
        keep_running=args.keep_running,
    )
    return run_lab(options, say=_say_if_possible, show=_show_if_possible)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="directus-chat", description="Run the local Directus of directus-chat-widget."
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", default=None, help="data folder (default: per-user)")
    common.add_argument(
        "--directus-version",
        default=DEFAULT_DIRECTUS_VERSION,
        help=f"Directus version (default {DEFAULT_DIRECTUS_VERSION})",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", parents=[common], help="install, start and set up the chat")
    up.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"port (default {DEFAULT_PORT}, or a free one if taken; 0: always a free one)",
    )
    up.add_argument("--env-file", default=".env", help="where to write DIRECTUS_URL")
    up.add_argument(
        "--instances",
        type=int,
        default=None,
        help="N >= 2: a local cluster (Postgres, Redis, N Directus, HAProxy); --port is "
        "the balancer's",
    )
    up.add_argument("--no-demo-users", action="store_true", help="create no demo accounts")
    up.add_argument(
        "--public-read",
        action="store_true",
        help="anyone may read messages and names without logging in (never write)",
    )
    up.add_argument(
        "--no-signup",
        action="store_true",
        help="turn public sign-up off (on by default: anyone may create a chat account)",
    )
    up.set_defaults(run=_cmd_up)

    lab = commands.add_parser(
        "lab", parents=[common], help="up, then JupyterLab on the notebooks; Ctrl-C stops both"
    )
    lab.add_argument("--port", type=int, default=None, help="Directus' port (as for `up`)")
    lab.add_argument("--env-file", default=".env", help="where to write DIRECTUS_URL")
    lab.add_argument("--no-demo-users", action="store_true", help="create no demo accounts")
    lab.add_argument("--notebooks", default="notebooks", help="folder to open")
    lab.add_argument(
        "--lab-port",
        type=int,
        default=None,
        help=f"JupyterLab's port (default {DEFAULT_LAB_PORT}, or a free one if taken)",
    )
    lab.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    lab.add_argument("--keep-running", action="store_true", help="leave Directus up on exit")
    lab.set_defaults(run=_cmd_lab)

    for name, run, text in (
        ("down", _cmd_down, "stop the local Directus"),
        ("status", _cmd_status, "show whether it runs"),
        ("install", _cmd_install, "install Directus into the cache only"),
    ):
        commands.add_parser(name, parents=[common], help=text).set_defaults(run=run)
    compose = commands.add_parser(
        "compose", parents=[common], help="write a Compose deploy recipe for a cluster"
    )
    compose.add_argument("--instances", type=int, default=2, help="Directus instances (2)")
    compose.add_argument("--out", default="deploy", help="folder to write into (./deploy)")
    compose.add_argument(
        "--public-url", default="http://localhost:8055", help="the URL users reach it at"
    )
    compose.set_defaults(run=_cmd_compose)
    logs = commands.add_parser("logs", parents=[common], help="print the tail of its log")
    logs.add_argument("-n", "--lines", type=int, default=40)
    logs.set_defaults(run=_cmd_logs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``directus-chat`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except DirectusError as exc:
        _say(f"error: {exc}")
        if isinstance(exc, (InstallFailed, StartupFailed)) and exc.log_tail:
            _say("--- last lines of the log ---")
            _say(exc.log_tail)
        return 1
    except KeyboardInterrupt:
        _say("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
