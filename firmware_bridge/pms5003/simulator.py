"""A PMS5003 on a pty: frames with a Vietnamese city's PM day, and answers to host commands."""

from __future__ import annotations

import math
import time

from firmware_bridge.pms5003.codec import (
    CMD_MODE,
    CMD_READ,
    CMD_SLEEP,
    COMMAND_LEN,
    HEADER,
    PARTICLE_FIELDS,
    checksum,
    encode_frame,
    encode_reply,
)
from firmware_bridge.pty_simulator import GENERIC_FAULTS, PtySimulator
from ioc.reading import FieldValue

FAULTS = GENERIC_FAULTS
MAX_PM = 1000  # the sensor's effective range, µg/m³
VN_UTC_OFFSET_H = 7
VERSION = 0x91
# Counts per 0.1 L above each size, per µg/m³ of PM2.5, roughly as urban PMS5003s report them.
_COUNT_PER_PM25 = (130.0, 38.0, 7.0, 0.6, 0.15, 0.05)


def diurnal_factor(hour: float) -> float:
    """Traffic peaks at 7–9 h and 17–20 h, cleaner early afternoon, as PM in Vietnamese cities runs."""
    return (
        1.0
        + 0.35 * math.exp(-(((hour - 8.0) / 1.5) ** 2))
        + 0.45 * math.exp(-(((hour - 19.0) / 2.0) ** 2))
        - 0.30 * math.exp(-(((hour - 14.0) / 2.5) ** 2))
    )


class Pms5003Simulator(PtySimulator):
    """Plays PMS5003 firmware. Extra keywords: ``pm25_level`` (µg/m³ the day varies around),
    ``start_hour`` (local time of day the simulated clock starts at; default: now in Vietnam).

    Host commands: passive/active mode, read (answered in passive mode), sleep/wake. Faults:
    "dropout", "garbage".
    """

    def __init__(
        self,
        *,
        interval_s: float = 1.0,
        seed: int | None = None,
        noise: float = 0.0,
        pm25_level: float = 35.0,
        start_hour: float | None = None,
    ) -> None:
        super().__init__(interval_s=interval_s, seed=seed, noise=noise)
        if not 0 < pm25_level <= MAX_PM / 2:
            raise ValueError(f"pm25_level must be in (0, {MAX_PM // 2}] µg/m³, not {pm25_level}")
        if start_hour is None:
            start_hour = (time.time() / 3600 + VN_UTC_OFFSET_H) % 24
        self.pm25_level = pm25_level
        self.start_hour = start_hour
        self.passive = False
        self.sleeping = False
        self._ticks = 0
        self._pm25 = pm25_level * diurnal_factor(start_hour)
        self._fine_ratio = self.rng.uniform(0.6, 0.75)
        self._coarse_ratio = self.rng.uniform(1.2, 1.6)
        self._host = bytearray()

    def next_frame(self) -> tuple[bytes, dict[str, FieldValue]]:
        hour = (self.start_hour + self._ticks * self.interval_s / 3600) % 24
        self._ticks += 1
        target = self.pm25_level * diurnal_factor(hour)
        self._pm25 += 0.05 * (target - self._pm25) + self.rng.gauss(0.0, 0.02 * target + 0.3)
        self._pm25 = min(max(self._pm25, 0.0), MAX_PM / 2)
        self._fine_ratio = min(max(self._fine_ratio + self.rng.gauss(0.0, 0.01), 0.5), 0.9)
        self._coarse_ratio = min(max(self._coarse_ratio + self.rng.gauss(0.0, 0.02), 1.05), 2.0)
        pm25 = round(self._pm25)
        pm1 = min(pm25, round(self._pm25 * self._fine_ratio))
        pm10 = min(max(pm25, round(self._pm25 * self._coarse_ratio)), MAX_PM)
        # CF=1 reads like atmospheric in clean air and higher in polluted air (Plantower's correction).
        cf1 = [pm if pm <= 30 else round(30 + (pm - 30) * 1.5) for pm in (pm1, pm25, pm10)]
        counts: list[int] = []
        for per_pm in _COUNT_PER_PM25:
            count = round(self._pm25 * per_pm * self.rng.uniform(0.9, 1.1))
            counts.append(min(count, counts[-1] if counts else 0xFFFF))  # counts are cumulative
        frame = encode_frame([*(min(v, 0xFFFF) for v in cf1), pm1, pm25, pm10, *counts, VERSION << 8])
        fields: dict[str, FieldValue] = {"pm1": float(pm1), "pm25": float(pm25), "pm10": float(pm10)}
        fields.update(zip(PARTICLE_FIELDS, counts, strict=True))
        return frame, fields

    def noise_bytes(self, frame: bytes) -> bytes:
        """Garbage without 42, a copy with a broken checksum, or the first 1–3 bytes of a frame.

        None can form a valid frame with the real one after it: a longer cut would put ``42 4D 00 1C``
        before real bytes, and the broken copy is used only when no other 42 is inside it.
        """
        kind = self.noise_rng.randrange(3)
        if kind == 1 and HEADER[0] not in frame[1:-1]:
            wrong = [c for c in range(256) if c not in (frame[-1], HEADER[0])]
            return frame[:-1] + bytes([self.noise_rng.choice(wrong)])
        if kind == 2:
            return frame[: self.noise_rng.randint(1, 3)]
        return super().noise_bytes(frame)

    def on_host_bytes(self, data: bytes) -> bytes | None:
        self._host += data
        replies = bytearray()
        while True:
            start = self._host.find(HEADER)
            if start < 0:
                # Keep a trailing 42: it may be the first half of the next header.
                del self._host[: len(self._host) - self._host.endswith(HEADER[:1])]
                break
            del self._host[:start]
            if len(self._host) < COMMAND_LEN:
                break
            command = bytes(self._host[:COMMAND_LEN])
            if checksum(command[:5]) != command[5] << 8 | command[6]:
                del self._host[:1]  # the sensor ignores it; a real command may start inside
                continue
            del self._host[:COMMAND_LEN]
            replies += self._command(command[2], command[3] << 8 | command[4])
        return bytes(replies) or None

    def _command(self, command: int, data: int) -> bytes:
        reply = b""
        if command == CMD_MODE:
            self.passive = data == 0
            reply = encode_reply(CMD_MODE, data & 0xFF)
        elif command == CMD_SLEEP:
            self.sleeping = data == 0
            if self.sleeping:  # waking is not acknowledged: the fan spinning up is the answer
                reply = encode_reply(CMD_SLEEP, 0)
        elif command == CMD_READ and self.passive and not self.sleeping:
            self.emit_frame()
        self.paused = self.passive or self.sleeping
        return reply
