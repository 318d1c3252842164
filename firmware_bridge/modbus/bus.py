"""Shared Modbus buses: every device on one port uses one pymodbus client, one request at a time.

Several slaves on one RS-485 pair (or behind one TCP gateway) are configured as separate devices
with the same ``port:``. They must share a client: a serial port can be opened only once, and two
requests on the wire at the same time garble each other. ``BUSES`` hands out one ``Bus`` per
normalised port, counts its users, and closes the client when the last one stops. A slave that
times out or answers with an exception fails only its own read; the client stays open for the rest.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter

from pymodbus.client import ModbusSerialClient, ModbusTcpClient
from pymodbus.constants import ExcCodes
from pymodbus.exceptions import ConnectionException, ModbusException
from pymodbus.framer import FramerType

from firmware_bridge.modbus.options import BusAddress

log = logging.getLogger(__name__)
_LOCK_POLL_S = 0.1  # how often a device waiting for the bus checks that it should stop
_FUNCTION_CODE = {"holding": 3, "input": 4}


class ExceptionResponseError(ModbusException):
    """The slave answered with a Modbus exception (it is alive, but refuses this read)."""

    def __init__(self, function_code: int, exception_code: int) -> None:
        try:
            name = ExcCodes(exception_code).name.lower()
        except ValueError:
            name = "unknown"
        super().__init__(f"exception response {exception_code:#04x} ({name}) to function {function_code}")
        self.exception_code = exception_code


class Bus:
    """One client and the lock that serialises every request on it."""

    def __init__(self, address: BusAddress, baudrate: int, timeout_s: float) -> None:
        self.address, self.baudrate, self.timeout_s = address, baudrate, timeout_s
        self.lock = threading.Lock()
        self.users: Counter[str] = Counter()  # device id → number of running sources
        self.requests = 0
        self.failures = 0
        self.client: ModbusSerialClient | ModbusTcpClient
        framer = FramerType.RTU if address.framer == "rtu" else FramerType.SOCKET
        # retries=0: the device's own ``retries`` are applied in ``read``, per device.
        if address.kind == "serial":
            self.client = ModbusSerialClient(
                address.target, framer=framer, baudrate=baudrate, timeout=timeout_s, retries=0
            )
        else:
            self.client = ModbusTcpClient(
                address.target, port=address.tcp_port, framer=framer, timeout=timeout_s, retries=0
            )

    def read(
        self, unit: int, function: str, address: int, count: int, retries: int, stop: threading.Event
    ) -> list[int] | None:
        """``count`` registers from ``unit``; None when ``stop`` was set while waiting for the bus.

        Raises the last pymodbus error (no response, bad frame, connection) after ``retries``
        more attempts, or ExceptionResponseError at once: a slave that refuses will refuse again.
        """
        while not self.lock.acquire(timeout=_LOCK_POLL_S):
            if stop.is_set():
                return None
        try:
            error: ModbusException | None = None
            for _ in range(retries + 1):
                self.requests += 1
                try:
                    return self._read_once(unit, function, address, count)
                except ExceptionResponseError:
                    self.failures += 1
                    raise
                except ConnectionException as exc:
                    # The link itself broke (cable, gateway reboot): reopen on the next request.
                    self.client.close()
                    error = exc
                except ModbusException as exc:
                    error = exc
                self.failures += 1
            assert error is not None
            raise error
        finally:
            self.lock.release()

    def _read_once(self, unit: int, function: str, address: int, count: int) -> list[int]:
        if function == "holding":
            response = self.client.read_holding_registers(address, count=count, device_id=unit)
        else:
            response = self.client.read_input_registers(address, count=count, device_id=unit)
        if response.isError():
            code = getattr(response, "exception_code", 0)
            raise ExceptionResponseError(response.function_code & 0x7F, code)
        registers = list(getattr(response, "registers", None) or [])
        if response.function_code != _FUNCTION_CODE[function] or len(registers) != count:
            got = f"function {response.function_code}, {len(registers)} of {count} registers"
            raise ModbusException(f"malformed response: {got}")
        return registers

    def close(self) -> None:
        with self.lock:
            self.client.close()


class BusRegistry:
    """The open buses of this process, by normalised port, reference-counted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buses: dict[str, Bus] = {}

    def acquire(self, address: BusAddress, device_id: str, baudrate: int, timeout_s: float) -> Bus:
        with self._lock:
            bus = self._buses.get(address.key)
            if bus is None:
                bus = self._buses[address.key] = Bus(address, baudrate, timeout_s)
            else:
                others = ", ".join(sorted(bus.users)) or "another device"
                if bus.address.framer != address.framer:
                    raise ValueError(
                        f"device {device_id}: {address.key} is already used with "
                        f"{bus.address.framer} framing by {others}; one bus has one framing"
                    )
                if address.kind == "serial" and bus.baudrate != baudrate:
                    raise ValueError(
                        f"device {device_id}: {address.key} is already open at {bus.baudrate} baud for "
                        f"{others}; every device on one RS-485 bus must use the same baud rate"
                    )
                if bus.timeout_s != timeout_s:
                    log.warning(
                        "device %s: timeout_s %.2f ignored, bus %s uses %.2f s (set by %s)",
                        device_id, timeout_s, address.key, bus.timeout_s, others,
                    )  # fmt: skip
            bus.users[device_id] += 1
            return bus

    def release(self, bus: Bus, device_id: str) -> None:
        with self._lock:
            bus.users[device_id] -= 1
            if bus.users[device_id] <= 0:
                del bus.users[device_id]
            if not bus.users and self._buses.get(bus.address.key) is bus:
                del self._buses[bus.address.key]
                bus.close()

    def open_buses(self) -> dict[str, list[str]]:
        """Port key → devices using it, for status pages and tests."""
        with self._lock:
            return {key: sorted(bus.users) for key, bus in self._buses.items()}


BUSES = BusRegistry()
