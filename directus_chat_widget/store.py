"""Moved to :mod:`directus_chat_widget.chat.store`; this path keeps working.

The old module name is the new module itself (same objects, same private names).
"""

import sys

from .chat import store as _moved
from .chat.store import *  # noqa: F403
from .chat.store import __all__ as __all__

sys.modules[__name__] = _moved
