"""Moved to :mod:`directus_chat_widget.realtime.session`; this path keeps working.

The old module name is the new module itself (same objects, same private names).
"""

import sys

from .realtime import session as _moved
from .realtime.session import *  # noqa: F403
from .realtime.session import __all__ as __all__

sys.modules[__name__] = _moved
