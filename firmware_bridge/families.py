"""Imports every device-family package so that each registers itself (see ``registry.py``).

One line per family; keep them sorted.
"""

import firmware_bridge.and_ascii
import firmware_bridge.pms5003
import firmware_bridge.sds011
import firmware_bridge.toledo
import firmware_bridge.tt10
import firmware_bridge.xk3190  # noqa: F401
