"""On-site checks `ioc edge check` adds to config validation: is each device's port there?"""

from __future__ import annotations

import os
import re

from ioc.config import Device

_HOST_PORT = re.compile(r"^(?:[a-z0-9+]+://)?[\w.\-]+:\d+$")


def port_problems(device: Device) -> str | None:
    """Why the device's port cannot work on this gateway, or None."""
    port = device.port
    if port is None:
        return None  # families such as MQTT inputs need no port
    if "://" in port or _HOST_PORT.match(port):
        return None  # a network address: reachability shows in `ioc edge status`
    if not os.path.exists(port):
        hint = (
            " (is the USB adapter plugged in? see ls /dev/serial/by-id/)" if port.startswith("/dev/") else ""
        )
        return f"not found{hint}"
    if os.path.isdir(port):
        return None  # a station-file folder
    if not os.access(port, os.R_OK | os.W_OK):
        return f"no permission on {port} (add the agent's user to the 'dialout' group)"
    return None
