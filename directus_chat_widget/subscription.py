"""Moved to :mod:`directus_chat_widget.realtime.subscription`; this path keeps working.

The old module name is the new module itself (same objects, same private names).
"""

import sys

from .realtime import subscription as _moved
from .realtime.subscription import *  # noqa: F403
from .realtime.subscription import __all__ as __all__

sys.modules[__name__] = _moved
