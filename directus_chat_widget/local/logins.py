"""The logins a started server offers, in the words ``up`` and ``lab`` print them."""

from __future__ import annotations

from pathlib import Path

from .schema import DEMO_USERS

__all__ = ["login_lines"]


def login_lines(demo_users: bool, admin_email: str, secrets: Path) -> list[str]:
    """The demo logins (unless left out), and where the admin's password is kept."""
    lines = []
    if demo_users:
        lines.append("  demo logins (local demo only):")
        lines += [f"    {user.email:<22} password: {user.password}" for user in DEMO_USERS]
    lines.append(f"  admin: {admin_email} (password in {secrets})")
    return lines
