"""Moved to :mod:`directus_chat_widget.realtime.protocol`; this path keeps working.

The old module name is the new module itself (same objects, same private names).
"""

import sys

from .realtime import protocol as _moved
from .realtime.protocol import *  # noqa: F403
from .realtime.protocol import __all__ as __all__

sys.modules[__name__] = _moved
