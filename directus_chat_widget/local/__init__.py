"""A Directus on this machine, installed and run by the kit (the embedded default).

    from directus_chat_widget.local import LocalDirectus

    with LocalDirectus(port=0) as server:     # installs on first use (minutes), then seconds
        server.setup_chat()                    # messages, the Chat user policy, demo users
        print(server.url)

The command line `directus-chat up` / `down` / `status` / `logs` does the same
for a server that outlives the command. ``LocalCluster`` (``directus-chat up
--instances N``) runs several instances on Postgres and Redis behind HAProxy.
"""

from __future__ import annotations

from .accounts import ChatLogin, chat_logins
from .cluster import LocalCluster
from .install import DEFAULT_DIRECTUS_VERSION, cache_root, ensure_installed, pinned_versions
from .node import NodeRuntime, find_node
from .schema import (
    CHAT_COLLECTION,
    CHAT_POLICY_NAME,
    DEMO_USERS,
    DemoUser,
    SchemaReport,
    add_chat_user,
    apply_chat_schema,
    apply_chat_schema_as_admin,
)
from .server import DEFAULT_PORT, LocalDirectus
from .settings import default_data_dir
from .up import chat_server

__all__ = [
    "CHAT_COLLECTION",
    "CHAT_POLICY_NAME",
    "DEFAULT_DIRECTUS_VERSION",
    "DEFAULT_PORT",
    "DEMO_USERS",
    "ChatLogin",
    "DemoUser",
    "LocalCluster",
    "LocalDirectus",
    "NodeRuntime",
    "SchemaReport",
    "add_chat_user",
    "apply_chat_schema",
    "apply_chat_schema_as_admin",
    "cache_root",
    "chat_logins",
    "chat_server",
    "default_data_dir",
    "ensure_installed",
    "find_node",
    "pinned_versions",
]
