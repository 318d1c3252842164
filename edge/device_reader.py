"""Reads one serial device with pyserial and turns its frames into Readings.

Each device has its own thread so a device that fails never stalls the others; a port that
cannot be opened or goes away is retried with capped, jittered backoff.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import serial

from firmware_bridge.registry import DeviceFamily
from ioc.reading import FieldValue, Reading, now_ns

log = logging.getLogger(__name__)


@dataclass
class DeviceStatus:
    port_open: bool = False
    produced: int = 0
    errors: int = 0
    last_error: str = ""
    last_fields: dict[str, FieldValue] = field(default_factory=dict)
    last_time_ns: int = 0
    dropped: dict[str, int] = field(default_factory=dict)


class SerialDeviceReader:
    def __init__(
        self,
        family: DeviceFamily,
        port: str,
        tags: dict[str, str],
        emit: Callable[[Reading], None],
        baudrate: int | None = None,
    ) -> None:
        self.family, self.port, self.tags, self.emit = family, port, tags, emit
        self.baudrate = baudrate or family.serial.baudrate
        self.status = DeviceStatus()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"device-{tags['device']}", daemon=True)

    def start(self) -> SerialDeviceReader:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _open(self) -> serial.Serial:
        s = self.family.serial
        return serial.Serial(
            self.port, self.baudrate, bytesize=s.bytesize, parity=s.parity, stopbits=s.stopbits, timeout=0.2
        )

    def _run(self) -> None:
        delay = 0.5
        while not self._stop.is_set():
            try:
                with self._open() as port:
                    delay = 0.5
                    self.status.port_open = True
                    self._read_loop(port)
            except (serial.SerialException, OSError) as exc:
                self.status.port_open = False
                self.status.errors += 1
                self.status.last_error = str(exc)
                log.warning(
                    "device %s on %s: %s; retrying in %.1f s", self.tags["device"], self.port, exc, delay
                )
                self._stop.wait(delay * (0.5 + random.random()))
                delay = min(delay * 2, 30.0)

    def _read_loop(self, port: serial.Serial) -> None:
        decoder = self.family.new_decoder()
        while not self._stop.is_set():
            data = port.read(max(port.in_waiting, 1))
            if not data:
                continue
            for fields in decoder.feed(data):
                # Frames read together must not share a timestamp: the timestamp is part of the
                # point's identity, and equal ones would overwrite each other in InfluxDB.
                time_ns = max(now_ns(), self.status.last_time_ns + 1)
                self.emit(Reading(self.family.measurement, dict(self.tags), fields, time_ns))
                self.status.produced += 1
                self.status.last_fields, self.status.last_time_ns = fields, time_ns
            self.status.dropped = dict(decoder.dropped)
