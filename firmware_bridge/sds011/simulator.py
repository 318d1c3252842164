"""An SDS011 on a pty: one data frame per interval, slowly varying PM, and answers to host commands."""

from __future__ import annotations

from firmware_bridge.pty_simulator import PtySimulator
from firmware_bridge.sds011.codec import (
    COMMAND,
    COMMAND_LEN,
    DATA,
    HEADER,
    REPLY,
    TAIL,
    checksum,
    encode_data_frame,
    encode_reply,
)
from ioc.reading import FieldValue

# The sensor's own range; keeping values below 1000 µg/m³ also keeps every high byte ≤ 0x27,
# which the noise-safety argument in ``noise_bytes`` relies on.
MAX_TENTHS = 9999
BROADCAST_ID = 0xFFFF
FIRMWARE_DATE = (18, 11, 16)  # yy, mm, dd as the firmware-version reply reports it

CMD_REPORTING_MODE = 2
CMD_QUERY_DATA = 4
CMD_SET_ID = 5
CMD_SLEEP_WORK = 6
CMD_FIRMWARE = 7
CMD_WORKING_PERIOD = 8

# Truncation lengths whose leftover bytes can never line up with the real frame that follows into a
# valid-looking frame (the would-be tail then lands on AA, C0 or a PM high byte ≤ 0x27, never AB).
_SAFE_CUTS = (1, 4, 6, 8, 9)


class Sds011Simulator(PtySimulator):
    """Plays SDS011 firmware. Extra keyword: ``pm25_level`` — the level (µg/m³) PM2.5 wanders around.

    Host commands understood: reporting mode (active/query), query data, set device id,
    sleep/work, firmware version, working period (acknowledged and stored; frames keep ``interval_s``).
    """

    def __init__(
        self,
        *,
        interval_s: float = 1.0,
        seed: int | None = None,
        device_id: int | None = None,
        noise: float = 0.0,
        pm25_level: float = 35.0,
    ) -> None:
        super().__init__(interval_s=interval_s, seed=seed, noise=noise)
        if device_id is None:
            device_id = self.rng.randrange(1, BROADCAST_ID)
        if not 0 <= device_id < BROADCAST_ID:
            raise ValueError(f"device_id must be 0..0xFFFE (0xFFFF addresses every sensor), not {device_id}")
        if not 0 < pm25_level <= MAX_TENTHS / 10:
            raise ValueError(f"pm25_level must be in (0, 999.9] µg/m³, not {pm25_level}")
        self.device_id = device_id
        self.pm25_level = pm25_level
        self.query_mode = False
        self.sleeping = False
        self.working_period_min = 0
        self._pm25 = pm25_level * self.rng.uniform(0.8, 1.2)
        self._coarse_ratio = self.rng.uniform(1.3, 1.8)
        self._host = bytearray()

    def next_frame(self) -> tuple[bytes, dict[str, FieldValue]]:
        # Mean-reverting walk: city PM drifts over minutes, it does not jump between seconds.
        self._pm25 += 0.05 * (self.pm25_level - self._pm25) + self.rng.gauss(
            0.0, 0.02 * self.pm25_level + 0.3
        )
        self._pm25 = min(max(self._pm25, 0.0), MAX_TENTHS / 10)
        self._coarse_ratio = min(max(self._coarse_ratio + self.rng.gauss(0.0, 0.02), 1.1), 2.5)
        pm25 = round(self._pm25 * 10)
        pm10 = min(max(pm25, round(self._pm25 * self._coarse_ratio * 10)), MAX_TENTHS)
        fields: dict[str, FieldValue] = {"pm25": pm25 / 10, "pm10": pm10 / 10}
        return encode_data_frame(pm25 / 10, pm10 / 10, self.device_id), fields

    def noise_bytes(self, frame: bytes) -> bytes:
        """Line garbage without 0xAA, a copy with a wrong checksum, or a copy cut short.

        Each is chosen so that no valid frame can form out of it and the real frame after it: the
        decoder must reject all of it and still find the real frame, so ``emitted`` stays exact.
        """
        kind = self.noise_rng.randrange(3)
        if kind == 0:
            return super().noise_bytes(frame)
        if kind == 1:
            # Not AA/C0/C5 either: those could start a second candidate inside the corrupt copy.
            wrong = [c for c in range(256) if c not in (frame[8], HEADER, DATA, REPLY)]
            return frame[:8] + bytes([self.noise_rng.choice(wrong)]) + frame[9:]
        return frame[: self.noise_rng.choice(_SAFE_CUTS)]

    def on_host_bytes(self, data: bytes) -> bytes | None:
        self._host += data
        replies = bytearray()
        while True:
            start = self._host.find(HEADER)
            if start < 0:
                self._host.clear()
                break
            del self._host[:start]
            if len(self._host) < 2:
                break
            if self._host[1] != COMMAND:
                del self._host[:1]
                continue
            if len(self._host) < COMMAND_LEN:
                break
            frame = bytes(self._host[:COMMAND_LEN])
            if frame[-1] != TAIL or checksum(frame[2:17]) != frame[17]:
                # The real device ignores malformed commands; rescan in case one starts inside.
                del self._host[:1]
                continue
            del self._host[:COMMAND_LEN]
            if (frame[15] << 8 | frame[16]) in (BROADCAST_ID, self.device_id):
                replies += self._command(frame[2], frame[3:15])
        return bytes(replies) or None

    def _command(self, command: int, data: bytes) -> bytes:
        is_set = data[0] == 1
        if command == CMD_REPORTING_MODE:
            if is_set:
                self.query_mode = data[1] == 1
            reply = encode_reply(command, bytes([data[0], int(self.query_mode)]), self.device_id)
        elif command == CMD_QUERY_DATA:
            if not self.sleeping:
                self.emit_frame()
            reply = b""
        elif command == CMD_SET_ID:
            self.device_id = data[10] << 8 | data[11]
            reply = encode_reply(command, b"", self.device_id)
        elif command == CMD_SLEEP_WORK:
            if is_set:
                self.sleeping = data[1] == 0
            reply = encode_reply(command, bytes([data[0], int(not self.sleeping)]), self.device_id)
        elif command == CMD_FIRMWARE:
            reply = encode_reply(command, bytes(FIRMWARE_DATE), self.device_id)
        elif command == CMD_WORKING_PERIOD:
            if is_set:
                self.working_period_min = min(data[1], 30)
            reply = encode_reply(command, bytes([data[0], self.working_period_min]), self.device_id)
        else:
            reply = b""
        self.paused = self.query_mode or self.sleeping
        return reply
