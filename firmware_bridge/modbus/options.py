"""Device options (``options:`` in a city config) and what a ``port:`` string means for Modbus.

Port forms (see README.md):
- a serial path or a pyserial URL (``/dev/serial/by-id/...``, ``socket://host:port``,
  ``rfc2217://host:port``): Modbus RTU over that line;
- ``host:port`` (or ``tcp://host:port``): Modbus TCP, e.g. a gateway or an Ethernet analyser;
- ``rtu+tcp://host:port``: RTU frames over a raw TCP socket, the usual serial-to-Ethernet server.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from firmware_bridge.modbus.regmap import check_map_ref

_HOST_PORT = re.compile(r"^(?:tcp://)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")
_RTU_TCP = re.compile(r"^rtu\+tcp://(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")
_PYSERIAL_URL = re.compile(r"^[a-z][a-z0-9+]*://")


class ModbusOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    map: str = Field(description="a shipped register map name (see maps/) or a path to a YAML map file")
    unit: int = Field(ge=1, le=247, description="the device's slave/unit id on its bus")
    framer: Literal["rtu", "socket"] | None = Field(
        default=None, description="None: from the port (path/URL → RTU, host:port → Modbus TCP)"
    )
    timeout_s: float = Field(default=1.0, gt=0, le=30)
    retries: int = Field(default=1, ge=0, le=10)

    @field_validator("map")
    @classmethod
    def _map(cls, value: str) -> str:
        # A path is only read when the device starts: it may exist on the gateway and nowhere else.
        return check_map_ref(value)


@dataclass(frozen=True)
class BusAddress:
    """Where a bus is and how it frames: ``key`` is the same for every spelling of one bus."""

    kind: Literal["serial", "tcp"]
    target: str  # the pyserial URL or path, or the host
    tcp_port: int
    framer: Literal["rtu", "socket"]

    @property
    def key(self) -> str:
        if self.kind == "serial":
            return self.target
        return f"{self.target}:{self.tcp_port}"

    def __str__(self) -> str:
        return f"{self.key} ({'Modbus TCP' if self.framer == 'socket' else 'RTU'})"


def parse_port(port: str | None, framer: Literal["rtu", "socket"] | None = None) -> BusAddress:
    """Resolve a device's ``port:``; ValueError says which forms are understood."""
    if not port or not port.strip():
        raise ValueError("a Modbus device needs a port: a serial path/URL, host:port or rtu+tcp://host:port")
    port = port.strip()
    if match := _RTU_TCP.match(port):
        if framer == "socket":
            raise ValueError(f"port {port!r} says RTU framing (rtu+tcp://) but options say framer: socket")
        return BusAddress("tcp", match[1].lower().strip("[]"), _tcp_port(port, match[2]), "rtu")
    if match := _HOST_PORT.match(port):
        return BusAddress("tcp", match[1].lower().strip("[]"), _tcp_port(port, match[2]), framer or "socket")
    if _PYSERIAL_URL.match(port):
        scheme, _, rest = port.partition("://")
        if framer == "socket" and scheme == "socket":
            host, _, number = rest.partition(":")
            return BusAddress("tcp", host.lower().strip("[]"), _tcp_port(port, number), "socket")
        if framer == "socket":
            raise ValueError(f"Modbus TCP framing (framer: socket) cannot run over {port!r}")
        return BusAddress("serial", scheme.lower() + "://" + rest, 0, "rtu")
    if framer == "socket":
        raise ValueError(f"Modbus TCP framing (framer: socket) cannot run over the serial port {port!r}")
    # /dev/serial/by-id/... and /dev/ttyUSB0 may be one adapter: one bus, so one key.
    return BusAddress("serial", os.path.realpath(port), 0, "rtu")


def _tcp_port(port: str, number: str) -> int:
    if not number.isdigit() or not 0 < int(number) < 65536:
        raise ValueError(f"port {port!r}: the TCP port must be 1..65535")
    return int(number)
