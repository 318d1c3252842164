"""Plantower PMS5003 frames: encoding and decoding the sensor's byte stream, and host commands.

Data frame (32 bytes): ``42 4D`` + frame length u16 (= 28) + 13 big-endian u16 words + checksum u16
= sum of bytes 0..29. Words: PM1.0/PM2.5/PM10 at CF=1 (factory "standard particle"), PM1.0/PM2.5/
PM10 under atmospheric environment (µg/m³), particle counts per 0.1 L above 0.3/0.5/1.0/2.5/5/10 µm,
and a reserved word (firmware version, error code).

Host commands (7 bytes): ``42 4D cmd dataH dataL csH csL``, cs = sum of bytes 0..4:
E2 read (passive mode), E1 mode (data 0 passive, 1 active), E4 sleep (data 0) / wake (data 1).
The sensor acknowledges E1 and E4-sleep with an 8-byte frame ``42 4D 00 04 cmd data csH csL``.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from firmware_bridge.framing import FrameScanner
from firmware_bridge.registry import Sample
from ioc.reading import FieldValue

HEADER = b"\x42\x4d"
DATA_LENGTH = 28
FRAME_LEN = 32
REPLY_LENGTH = 4
REPLY_LEN = 8
COMMAND_LEN = 7
WORDS = 13
CMD_READ = 0xE2
CMD_MODE = 0xE1
CMD_SLEEP = 0xE4
PARTICLE_FIELDS = ("particles03", "particles05", "particles10", "particles25", "particles50", "particles100")


def checksum(data: bytes | bytearray) -> int:
    return sum(data) & 0xFFFF


def _with_checksum(body: bytes) -> bytes:
    return body + struct.pack(">H", checksum(body))


def encode_frame(words: Sequence[int]) -> bytes:
    """A data frame carrying the 13 words (each 0..65535) in datasheet order."""
    if len(words) != WORDS or not all(0 <= w <= 0xFFFF for w in words):
        raise ValueError(f"a frame carries {WORDS} words of 0..65535, not {list(words)}")
    return _with_checksum(HEADER + struct.pack(">H13H", DATA_LENGTH, *words))


def encode_reply(command: int, data: int) -> bytes:
    """The sensor's acknowledgement of a mode or sleep command."""
    return _with_checksum(HEADER + struct.pack(">HBB", REPLY_LENGTH, command, data))


def encode_command(command: int, data: int = 0) -> bytes:
    """A host command, e.g. ``encode_command(CMD_MODE, 0)`` for passive mode."""
    return _with_checksum(HEADER + struct.pack(">BH", command, data))


class Pms5003Decoder:
    """Decodes the PMS5003 stream into ``air_quality`` samples: pm1, pm25, pm10 (the atmospheric
    values, µg/m³, as floats) and particles03 … particles100 (counts per 0.1 L, ints).

    ``dropped`` counts ``noise_bytes`` (bytes outside any frame), ``bad_length`` (``42 4D`` followed
    by a length that is neither 28 nor 4 — e.g. a PMS3003's 20, or noise), ``bad_checksum`` and
    ``command_reply`` (valid acknowledgements of host commands: expected, but not readings). A
    rejected candidate consumes only its ``42``, because a complete frame may start inside a
    truncated one. Between calls at most one partial frame (< 32 bytes) is kept.
    """

    def __init__(self) -> None:
        self._frames = FrameScanner(HEADER, self._length, self._decode, peek=4, max_length=FRAME_LEN)
        self.dropped = self._frames.dropped
        self._buf = self._frames.buffer  # the partial frame kept between calls
        self.decoded = 0
        # From the reserved word of the last frame: what a technician asks the vendor about.
        self.version: int | None = None
        self.error_code: int | None = None

    def feed(self, data: bytes) -> list[Sample]:
        out = self._frames.feed(data)
        self.decoded += len(out)
        return out

    @staticmethod
    def _length(buf: bytearray, start: int) -> int | str:
        length = buf[start + 2] << 8 | buf[start + 3]
        # Judged before waiting for the frame: trusting noise's length would hold up to 64 KiB.
        return length + 4 if length in (DATA_LENGTH, REPLY_LENGTH) else "bad_length"

    def _decode(self, frame: bytearray) -> Sample | str | None:
        if checksum(frame[:-2]) != frame[-2] << 8 | frame[-1]:
            return "bad_checksum"
        if len(frame) == REPLY_LEN:
            self.dropped["command_reply"] += 1
            return None
        words = struct.unpack_from(">13H", frame, 4)
        self.version, self.error_code = words[12] >> 8, words[12] & 0xFF
        fields: dict[str, FieldValue] = {
            "pm1": float(words[3]),
            "pm25": float(words[4]),
            "pm10": float(words[5]),
        }
        fields.update(zip(PARTICLE_FIELDS, words[6:12], strict=True))
        return Sample(fields)
