"""Nova Fitness SDS011 frames: encoding data frames and decoding the sensor's byte stream.

Data frame (10 bytes): ``AA C0 p25L p25H p10L p10H id1 id2 cs AB``, PM = (H*256 + L)/10 µg/m³,
cs = sum(bytes[2..7]) & 0xFF. Command replies have the same shape with ``C5`` as second byte;
host commands are 19 bytes ``AA B4 cmd d1..d12 id1 id2 cs AB`` with cs = sum(bytes[2..16]) & 0xFF.
The device id is printed on the sensor label as id1 id2 (e.g. "A160"), so id1 is the high byte.
"""

from __future__ import annotations

import math

from firmware_bridge.framing import FrameScanner
from firmware_bridge.registry import Sample

HEADER = 0xAA
DATA = 0xC0
REPLY = 0xC5
COMMAND = 0xB4
TAIL = 0xAB
FRAME_LEN = 10
COMMAND_LEN = 19
MAX_RAW = 0xFFFF


def checksum(body: bytes | bytearray) -> int:
    return sum(body) & 0xFF


def _raw_tenths(value: float, name: str) -> int:
    if math.isnan(value):
        raise ValueError(f"{name} is NaN and cannot be encoded")
    return round(min(max(value, 0.0), MAX_RAW / 10) * 10)


def _check_id(device_id: int) -> None:
    if not 0 <= device_id <= MAX_RAW:
        raise ValueError(f"device_id must be 0..0xFFFF, not {device_id}")


def encode_data_frame(pm25: float, pm10: float, device_id: int) -> bytes:
    """A data frame as the sensor sends it; values are rounded to 0.1 and clamped to 0..6553.5 µg/m³."""
    _check_id(device_id)
    p25, p10 = _raw_tenths(pm25, "pm25"), _raw_tenths(pm10, "pm10")
    body = bytes([p25 & 0xFF, p25 >> 8, p10 & 0xFF, p10 >> 8, device_id >> 8, device_id & 0xFF])
    return bytes([HEADER, DATA]) + body + bytes([checksum(body), TAIL])


def encode_reply(command: int, data: bytes, device_id: int) -> bytes:
    """A command reply ``AA C5 cmd d1 d2 d3 id1 id2 cs AB`` (``data`` is padded to 3 bytes)."""
    _check_id(device_id)
    body = bytes([command]) + data[:3].ljust(3, b"\x00") + bytes([device_id >> 8, device_id & 0xFF])
    return bytes([HEADER, REPLY]) + body + bytes([checksum(body), TAIL])


def encode_command(command: int, data: bytes = b"", device_id: int = 0xFFFF) -> bytes:
    """A host command frame; ``device_id`` 0xFFFF addresses every sensor on the line."""
    _check_id(device_id)
    body = bytes([command]) + data[:12].ljust(12, b"\x00") + bytes([device_id >> 8, device_id & 0xFF])
    return bytes([HEADER, COMMAND]) + body + bytes([checksum(body), TAIL])


class Sds011Decoder:
    """Decodes the SDS011 stream into samples ``{"pm25": float, "pm10": float}`` for ``air_quality``.

    Resynchronisation: the decoder scans for ``AA C0``/``AA C5``, and when a 10-byte candidate has a
    bad tail or checksum it rejects only the header byte and rescans from the next byte, because a
    real frame may start inside the rejected bytes (a truncated frame followed by a complete one).

    ``dropped`` counts, by reason: ``bad_tail`` and ``bad_checksum`` (rejected candidate frames),
    ``command_reply`` (valid ``AA C5`` replies to host commands — expected traffic, not errors) and
    ``noise_bytes`` (bytes outside any frame, including the rest of a rejected candidate that no
    later frame claims). Between calls the decoder keeps at most one partial frame (< 10 bytes), so
    its buffer is bounded whatever the input.
    """

    def __init__(self) -> None:
        # AA then C0 (data) or C5 (command reply); an AA followed by anything else is a noise byte.
        self._frames = FrameScanner((bytes([HEADER]), bytes([DATA, REPLY])), FRAME_LEN, self._decode)
        self.dropped = self._frames.dropped
        self._buf = self._frames.buffer  # the partial frame kept between calls
        self.decoded = 0
        # Which sensor the last frame came from, so a technician can check the right one is wired.
        self.device_id: int | None = None

    def feed(self, data: bytes) -> list[Sample]:
        out = self._frames.feed(data)
        self.decoded += len(out)
        return out

    def _decode(self, frame: bytearray) -> Sample | str | None:
        if frame[9] != TAIL:
            return "bad_tail"
        if checksum(frame[2:8]) != frame[8]:
            return "bad_checksum"
        if frame[1] == REPLY:
            self.dropped["command_reply"] += 1
            return None
        self.device_id = frame[6] << 8 | frame[7]
        return Sample({"pm25": (frame[3] << 8 | frame[2]) / 10, "pm10": (frame[5] << 8 | frame[4]) / 10})
