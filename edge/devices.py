"""Runs one configured device: a serial stream through its family's decoder, or the family's own
Source (Modbus, SNMP, station files, MQTT), then its Processor, and hands Readings to the agent.

Each device has its own thread so a device that fails never stalls the others; any failure is
counted, shown, and retried with capped, jittered backoff.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import serial

from firmware_bridge.registry import DeviceContext, DeviceFamily, Sample
from ioc.reading import FieldValue, Reading, now_ns

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 30.0


@dataclass
class DeviceStatus:
    connected: bool = False  # the port is open / the source is running
    produced: int = 0
    errors: int = 0
    last_error: str = ""
    last_fields: dict[str, FieldValue] = field(default_factory=dict)
    last_time_ns: int = 0
    dropped: Counter[str] = field(default_factory=Counter)


class DeviceRunner:
    def __init__(
        self,
        family: DeviceFamily,
        ctx: DeviceContext,
        tags: dict[str, str],
        emit: Callable[[Reading], None],
        clock_jumped: Callable[[], bool] = lambda: False,
    ) -> None:
        self.family, self.ctx, self.tags, self.emit = family, ctx, tags, emit
        self.clock_jumped = clock_jumped
        self.status = DeviceStatus()
        self.processor = family.new_processor(ctx) if family.new_processor else None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"device-{ctx.device_id}", daemon=True)

    def start(self) -> DeviceRunner:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        delay = 0.5
        while not self._stop.is_set():
            try:
                if self.family.new_source is not None:
                    source = self.family.new_source(self.ctx)
                    self.status.connected = True
                    source.run(self.accept, self._stop)
                else:
                    self._read_serial()
                delay = 0.5
            except Exception as exc:  # any failure of one device must leave the agent running
                self.status.errors += 1
                self.status.last_error = f"{type(exc).__name__}: {exc}"
                log.warning(
                    "device %s (%s): %s; retrying in %.1f s",
                    self.ctx.device_id,
                    self.ctx.port,
                    self.status.last_error,
                    delay,
                )
            finally:
                self.status.connected = False
            if not self._stop.is_set():
                self._stop.wait(delay * (0.5 + random.random()))
                delay = min(delay * 2, MAX_BACKOFF_S)

    def _read_serial(self) -> None:
        settings = self.family.serial
        assert settings is not None and self.ctx.port is not None
        # serial_for_url: a path, or socket:// and rfc2217:// for serial-to-Ethernet servers.
        with serial.serial_for_url(
            self.ctx.port,
            self.ctx.baudrate or settings.baudrate,
            bytesize=settings.bytesize,
            parity=settings.parity,
            stopbits=settings.stopbits,
            timeout=0.2,
        ) as port:
            self.status.connected = True
            decoder = self.family.new_decoder()  # type: ignore[misc]
            while not self._stop.is_set():
                data = port.read(max(port.in_waiting, 1))
                if data:
                    for sample in decoder.feed(data):
                        self.accept(sample)
                    self.status.dropped = Counter(decoder.dropped)

    def accept(self, sample: Sample) -> None:
        """A sample from the device (called from this device's thread)."""
        for item in self.processor(sample) if self.processor else (sample,):
            if item.time_ns is None:
                # Samples read together must not share a timestamp: it is part of the point's
                # identity, and equal ones would overwrite each other in InfluxDB.
                time_ns = max(now_ns(), self.status.last_time_ns + 1)
                self.status.last_time_ns = time_ns
            else:
                time_ns = item.time_ns
            tags = {**item.tags, **self.tags} if item.tags else self.tags
            quality = item.quality
            if quality == "good" and item.time_ns is None and self.clock_jumped():
                quality = "uncertain"  # stamped while the wall clock was being stepped
            reading = Reading(
                item.measurement or self.family.measurement, dict(tags), item.fields, time_ns, quality
            )
            self.emit(reading)
            self.status.produced += 1
            self.status.last_fields = item.fields
