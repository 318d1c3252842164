"""Mettler Toledo standard continuous output: encoding frames and decoding the terminal's stream.

Frame: ``STX SWA SWB SWC w5..w0 t5..t0 CR [CHK]`` — 17 characters, 18 with the optional checksum.
Weights are six digits without sign or decimal point (leading zeros or spaces).

- SWA: bits 0–2 decimal point code (0 → ×100, 1 → ×10, 2 → ×1, 3 → 0.1, … 7 → 0.00001), bits 3–4
  increment size (01 ×1, 10 ×2, 11 ×5), bit 5 always 1.
- SWB: bit 0 net, bit 1 negative, bit 2 out of range, bit 3 motion, bit 4 kg (0 = lb), bit 5 1,
  bit 6 power-up not zeroed.
- SWC: bits 0–2 unit (0 = lb/kg as SWB bit 4, 1 = g, 2 = metric tonnes; the rest are ounces,
  troy ounces, pennyweight, long tons, custom), bit 3 print request, bit 4 expanded display, bit 5 1.
- CHK: the two's complement of the 7-bit sum of every character before it, STX and CR included.

Bit 7 is the parity bit of a 7E1 line; the decoder ignores it (see ``scale_common``).
"""

from __future__ import annotations

import collections

from firmware_bridge.registry import Sample
from firmware_bridge.scale_common import strip_parity, to_kg
from ioc.reading import FieldValue

STX = 0x02
CR = 0x0D
FRAME_LEN = 17  # without the optional checksum
ALWAYS_ONE = 0x20  # bit 5 of every status word
INCREMENT_CODES = {1: 1, 2: 2, 5: 3}
UNIT_CODES = {1: "g", 2: "t"}  # SWC bits 0–2; 0 is lb or kg by SWB bit 4
# A decoder left to detect the checksum switches it on after this many frames in a row carry a
# valid one, and off again after this many in a row arrive without one (the terminal was reset).
LOCK_AFTER = 3
UNLOCK_AFTER = 5


def checksum(frame: bytes | bytearray) -> int:
    """The optional checksum character of the 17 characters ``frame``."""
    return -sum(b & 0x7F for b in frame) & 0x7F


def encode_frame(
    weight: int,
    tare: int = 0,
    *,
    dp_code: int = 2,
    increment: int = 1,
    net: bool = False,
    out_of_range: bool = False,
    motion: bool = False,
    unit: str = "kg",
    with_checksum: bool = False,
) -> bytes:
    """A frame showing ``weight`` and ``tare`` in display counts (value = count × the dp code's factor)."""
    if abs(weight) > 999_999 or not 0 <= tare <= 999_999:
        raise ValueError(f"weight and tare are six digits, not {weight}, {tare}")
    if not 0 <= dp_code <= 7 or increment not in INCREMENT_CODES:
        raise ValueError(f"dp_code 0..7 and increment 1, 2 or 5, not {dp_code}, {increment}")
    unit_code = {"kg": 0, "lb": 0, "g": 1, "t": 2}[unit]
    swa = ALWAYS_ONE | INCREMENT_CODES[increment] << 3 | dp_code
    swb = ALWAYS_ONE | net | (weight < 0) << 1 | out_of_range << 2 | motion << 3 | (unit != "lb") << 4
    swc = ALWAYS_ONE | unit_code
    frame = bytes([STX, swa, swb, swc]) + b"%06d%06d" % (abs(weight), tare) + bytes([CR])
    return frame + bytes([checksum(frame)]) if with_checksum else frame


def _count(field: bytes) -> int | None:
    digits = field.lstrip(b" ")
    if not digits:
        return 0
    return int(digits) if digits.isdigit() else None


def fields_of(frame: bytes) -> dict[str, FieldValue] | str:
    """The ``scale`` fields of a well-formed 17-character frame, or why it cannot be read."""
    swa, swb, swc = frame[1], frame[2], frame[3]
    weight, tare = _count(frame[4:10]), _count(frame[10:16])
    if weight is None or tare is None:
        return "bad_frame"
    unit_code = swc & 0x07
    unit = ("kg" if swb & 0x10 else "lb") if unit_code == 0 else UNIT_CODES.get(unit_code)
    if unit is None:
        return "unsupported_unit"
    decimals = (swa & 0x07) - 2
    return {
        "weight_kg": to_kg(-weight if swb & 0x02 else weight, decimals, unit),
        "tare_kg": to_kg(tare, decimals, unit),
        "net": bool(swb & 0x01),
        "stable": not swb & 0x08,
        "overload": bool(swb & 0x04),
    }


def _well_formed(frame: bytes | bytearray) -> bool:
    return frame[16] == CR and all(b == 0x20 or 0x30 <= b <= 0x39 for b in frame[4:16])


class ToledoDecoder:
    """Decodes Toledo continuous output into ``scale`` samples (weight_kg, tare_kg, net, stable, overload).

    ``checksum``: True or False when known; None (the default, what the edge uses) detects it: a
    character right after CR that equals the frame's checksum is taken as one, and after
    ``LOCK_AFTER`` such frames in a row every frame must carry a valid checksum to be decoded.

    ``dropped`` counts ``noise_bytes``, ``bad_frame`` (an STX not followed by 12 digit or space
    characters and CR; only the STX is consumed, since a complete frame may start inside a
    truncated one), ``bad_checksum``, ``missing_checksum`` (checksums expected, next frame found)
    and ``unsupported_unit`` (ounces, pennyweight, custom units…). At most one partial frame is kept.
    """

    def __init__(self, checksum: bool | None = None) -> None:
        self.dropped: collections.Counter[str] = collections.Counter()
        self.decoded = 0
        self.with_checksum = bool(checksum)
        self._detect = checksum is None
        self._trailing: int | None = None  # the checksum the last frame would carry, if it has one
        self._streak = 0
        self._missing = 0
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Sample]:
        buf = self._buf
        buf += strip_parity(data)
        out: list[Sample] = []
        i, n = 0, len(buf)
        while i < n:
            if self._trailing is not None:
                i += self._take_trailing(buf[i])
                continue
            start = buf.find(STX, i)
            if start < 0:
                self._drop_noise(n - i)
                i = n
                break
            self._drop_noise(start - i)
            i = start
            length = FRAME_LEN + self.with_checksum
            if n - i < length:
                break
            frame = bytes(buf[i : i + FRAME_LEN])
            if not _well_formed(frame):
                self.dropped["bad_frame"] += 1
                i += 1
                continue
            if self.with_checksum and buf[i + FRAME_LEN] != checksum(frame):
                i += self._reject_checksum(buf[i + FRAME_LEN])
                continue
            self._missing = 0
            i += length
            if not self.with_checksum and self._detect:
                self._trailing = checksum(frame)
            fields = fields_of(frame)
            if isinstance(fields, str):
                self.dropped[fields] += 1
                continue
            self.decoded += 1
            out.append(Sample(fields))
        del buf[:i]
        return out

    def _take_trailing(self, byte: int) -> int:
        """How many bytes the character after a frame's CR takes as that frame's checksum (0 or 1)."""
        expected, self._trailing = self._trailing, None
        if byte == STX:
            # A checksum of 02 cannot be told from the next frame's STX: it proves nothing either way.
            if expected != STX:
                self._streak = 0
            return 0
        if byte != expected:
            self._streak = 0
            return 0
        self._streak += 1
        if self._streak >= LOCK_AFTER:
            self.with_checksum = True
        return 1

    def _reject_checksum(self, byte: int) -> int:
        """Count a frame whose checksum is wrong or absent; how many bytes to skip."""
        if byte != STX:
            self.dropped["bad_checksum"] += 1
            return 1
        self.dropped["missing_checksum"] += 1
        self._missing += 1
        if self._detect and self._missing >= UNLOCK_AFTER:
            self.with_checksum = False
            self._missing = self._streak = 0
        return FRAME_LEN  # a whole frame: only its checksum is missing

    def _drop_noise(self, count: int) -> None:
        if count > 0:
            self.dropped["noise_bytes"] += count
