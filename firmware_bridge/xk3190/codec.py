"""Yaohua XK3190-A9 continuous output (tf=0): encoding frames and decoding the indicator's stream.

Frame (12 bytes): ``STX(02) sign d6 d5 d4 d3 d2 d1 dp XH XL ETX(03)``: sign ``+``/``-``, six ASCII
digits most significant first, dp = digits after the decimal point (``0``..``4``), XH XL = the XOR
of sign, digits and dp as two characters, high nibble first. Yaohua's manuals map a nibble ≤ 9 to
``0x30 + n`` and a nibble > 9 to ``0x37 + n`` (upper-case hex); some clones send lower case or
``0x30 + n`` for every nibble (``:``..``?``), so the decoder accepts all three and we send upper case.
"""

from __future__ import annotations

from firmware_bridge.framing import FrameScanner
from firmware_bridge.registry import Sample
from firmware_bridge.scale_common import strip_parity, to_kg

STX = 0x02
ETX = 0x03
FRAME_LEN = 12
MAX_DECIMALS = 4
MAX_RAW = 999_999
_HEX = b"0123456789ABCDEF"


def xor_check(body: bytes | bytearray) -> int:
    """The XOR of sign, six digits and dp (bytes 1..8 of a frame)."""
    check = 0
    for b in body:
        check ^= b
    return check


def _nibble_chars(nibble: int) -> bytes:
    return bytes({_HEX[nibble], _HEX.lower()[nibble], 0x30 + nibble})


def encode_frame(raw: int, decimals: int = 0) -> bytes:
    """A frame showing ``raw`` × 10^-decimals (e.g. raw 48020, decimals 0 → ``+048020``)."""
    if abs(raw) > MAX_RAW:
        raise ValueError(f"the A9 shows six digits; {raw} does not fit")
    if not 0 <= decimals <= MAX_DECIMALS:
        raise ValueError(f"decimals must be 0..{MAX_DECIMALS}, not {decimals}")
    body = (b"-" if raw < 0 else b"+") + b"%06d" % abs(raw) + b"%d" % decimals
    check = xor_check(body)
    return bytes([STX]) + body + bytes([_HEX[check >> 4], _HEX[check & 0xF], ETX])


class Xk3190Decoder:
    """Decodes the A9's tf=0 stream into ``scale`` samples ``{"weight_kg": float}``.

    The A9 says nothing about motion or overload in tf=0, so those fields are left out (a weighing
    processor tells stability from repeated equal weights). The displayed unit is assumed to be kg,
    as on every truck scale we know of.

    ``dropped`` counts ``noise_bytes`` (bytes outside any frame), ``bad_frame`` (an STX whose 12
    bytes are not sign, digits, dp, two check characters and ETX) and ``bad_checksum``. A rejected
    candidate consumes only its STX: a complete frame may start inside a truncated one. Between
    calls at most one partial frame (< 12 bytes) is kept.
    """

    def __init__(self) -> None:
        self._frames = FrameScanner(bytes([STX]), FRAME_LEN, self._decode)
        self.dropped = self._frames.dropped
        self._buf = self._frames.buffer  # the partial frame kept between calls
        self.decoded = 0

    def feed(self, data: bytes) -> list[Sample]:
        out = self._frames.feed(strip_parity(data))
        self.decoded += len(out)
        return out

    @staticmethod
    def _decode(frame: bytearray) -> Sample | str:
        if (
            frame[1] not in b"+-"
            or not frame[2:8].isdigit()
            or not ord("0") <= frame[8] <= ord("0") + MAX_DECIMALS
            or frame[11] != ETX
        ):
            return "bad_frame"
        check = xor_check(frame[1:9])
        if frame[9] not in _nibble_chars(check >> 4) or frame[10] not in _nibble_chars(check & 0xF):
            return "bad_checksum"
        raw = int(frame[2:8]) * (-1 if frame[1] == ord("-") else 1)
        return Sample({"weight_kg": to_kg(raw, frame[8] - ord("0"))})
