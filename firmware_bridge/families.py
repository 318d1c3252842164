"""Imports every device-family package so that each registers itself (see ``registry.py``).

Adding a family: its folder, plus its name here; keep them sorted.
"""

from firmware_bridge import and_ascii, modbus, ntcip, pms5003, sds011, toledo, tt10, xk3190

__all__ = ["and_ascii", "modbus", "ntcip", "pms5003", "sds011", "toledo", "tt10", "xk3190"]
