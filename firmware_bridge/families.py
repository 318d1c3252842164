"""Imports every device-family package so that each registers itself (see ``registry.py``).

One line per family; keep them sorted.
"""

import firmware_bridge.sds011  # noqa: F401
import firmware_bridge.tt10  # noqa: F401
