"""Simulated Modbus slaves: one or more sondes / air stations on one bus, over Modbus TCP or RTU.

``ModbusSimulator(transport="tcp")`` serves Modbus TCP on 127.0.0.1:<free port> with pymodbus's
server; ``transport="rtu+tcp"`` RTU frames on such a port (a serial-to-Ethernet server);
``transport="rtu"`` answers RTU frames on a pty. Several unit ids share the bus, each with
its own register map and faults; values change every ``interval_s``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Literal, Self

from pymodbus.framer import FramerType

from firmware_bridge.modbus.pty_server import RtuPtyServer
from firmware_bridge.modbus.sim_bus import FAULTS, BusEvent, SimulatedBus
from firmware_bridge.modbus.tcp_server import TcpServer
from ioc.reading import FieldValue

DEFAULT_MAPS = {"water_quality": "multiparameter-sonde", "air_quality": "air-station"}

__all__ = ["DEFAULT_MAPS", "FAULTS", "BusEvent", "ModbusSimulator"]


class ModbusSimulator:
    """Family keywords: ``map`` (register map, default per measurement), ``unit`` (default 1) or
    ``units`` (ids, or {id: map} for mixed probes on one bus), ``transport`` ("tcp", "rtu" on a
    pty, or "rtu+tcp")."""

    def __init__(
        self,
        *,
        interval_s: float = 1.0,
        seed: int | None = None,
        noise: float = 0.0,
        measurement: str = "water_quality",
        map: str | None = None,
        unit: int = 1,
        units: Sequence[int] | Mapping[int, str] | None = None,
        transport: Literal["tcp", "rtu", "rtu+tcp"] = "tcp",
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, not {interval_s}")
        if transport not in ("tcp", "rtu", "rtu+tcp"):
            raise ValueError(f"transport is 'tcp', 'rtu' or 'rtu+tcp', not {transport!r}")
        default = map or DEFAULT_MAPS[measurement]
        if units is None:
            unit_maps = {unit: default}
        elif isinstance(units, Mapping):
            unit_maps = dict(units)
        else:
            unit_maps = dict.fromkeys(units, default)
        self.interval_s = interval_s
        self.transport = transport
        self.bus = SimulatedBus(measurement, unit_maps, seed=seed, noise=noise)
        self.bus.tick()  # registers hold values before the first client asks
        self._server: TcpServer | RtuPtyServer
        if transport == "rtu":
            self._server = RtuPtyServer(self.bus)
            self.port = self._server.port
        else:
            self._server = TcpServer(self.bus, FramerType.SOCKET if transport == "tcp" else FramerType.RTU)
            self.port = ""  # 127.0.0.1:<port> or rtu+tcp://127.0.0.1:<port> once started
        self._stopping = threading.Event()
        self._ticker: threading.Thread | None = None
        self._stopped = False

    @property
    def units(self) -> dict[int, str]:
        """Unit id → register map name: what each device entry's ``options`` must say."""
        return {u: s.map_name for u, s in self.bus.units.items()}

    @property
    def emitted(self) -> list[tuple[int, dict[str, FieldValue]]]:
        return self.bus.emitted

    @property
    def emitted_by_unit(self) -> dict[int, list[tuple[int, dict[str, FieldValue]]]]:
        return self.bus.emitted_by_unit

    @property
    def events(self) -> list[BusEvent]:
        """Every request received and reply sent, in order (to check that a bus is never shared badly)."""
        return self.bus.events

    def current(self, unit: int | None = None) -> dict[str, FieldValue]:
        """The values ``unit`` (default: the first) serves right now."""
        return self.bus.emitted_by_unit[unit if unit is not None else next(iter(self.bus.units))][-1][1]

    def set_fault(self, name: str | None, unit: int | None = None) -> None:
        """One of FAULTS for ``unit`` (None: every unit); None clears it."""
        self.bus.set_fault(name, unit)

    def start(self) -> None:
        if self._stopped:
            raise RuntimeError("simulator was stopped; create a new one")
        if self._ticker is not None:
            return
        self._server.start()
        if isinstance(self._server, TcpServer):
            prefix = "rtu+tcp://" if self.transport == "rtu+tcp" else ""
            self.port = f"{prefix}127.0.0.1:{self._server.port}"
        self._ticker = threading.Thread(target=self._tick, name=f"modbus-sim-values:{self.port}", daemon=True)
        self._ticker.start()

    def stop(self) -> None:
        self._stopped = True
        self._stopping.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2.0)
        self._server.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _tick(self) -> None:
        next_due = time.monotonic() + self.interval_s
        while not self._stopping.wait(max(next_due - time.monotonic(), 0.0)):
            self.bus.tick()
            next_due += self.interval_s
            if next_due < time.monotonic():
                next_due = time.monotonic() + self.interval_s  # after a stall, resume; never burst
