"""Constants and types the tests share (import as ``from support import TIMEOUT``).

Kept out of conftest.py: ``notebooks/`` has a conftest.py too, so ``import
conftest`` would be ambiguous when both folders are collected in one run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from directus_chat_widget.local import LocalDirectus

# The one base timeout every wait in the tests scales from; slow machines set DCW_TIMEOUT_SCALE.
TIMEOUT = 10.0 * float(os.environ.get("DCW_TIMEOUT_SCALE", "1"))

MakeDirectus = Callable[..., LocalDirectus]

# Debian's Chromium, driven by Playwright; never a browser Playwright downloads.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
]
# Markup that would run script if it were ever rendered as HTML.
XSS = "<img src=x onerror=alert(1)>"
