"""A&D standard format ASCII lines: encoding and decoding an indicator's stream output.

Line: ``H1,H2,DDDDDDDDUU`` + CR LF (or CR alone), e.g. ``ST,GS,+0048020kg``:

- H1: ``ST`` stable, ``US`` unstable, ``OL`` overload (the data is then blank: ``+    .  ``).
- H2: ``GS`` gross, ``NT`` net, ``TR`` tare.
- D: eight characters, polarity and decimal point included (``+0012.34``, ``-0000120``).
- U: unit, two characters: ``kg``, `` g``, `` t``, ``lb``.

Compatible indicators (and people who copied the format) add a space before the unit or send a
wider field, so the decoder accepts spaces between value and unit and 1–10 value characters.
"""

from __future__ import annotations

import collections
import re

from firmware_bridge.registry import Sample
from firmware_bridge.scale_common import UNIT_TO_KG, strip_parity, to_kg
from ioc.reading import FieldValue

MAX_LINE = 48  # a line is ~18 characters; longer runs without CR/LF are noise
# Anchored at the end of the line: garbage before a line (a plugged connector, a wrong-baud burst
# that ended without CR/LF) is skipped, and since the headers contain commas, which a value or
# unit never does, no earlier start can swallow the real headers into a match.
_LINE = re.compile(rb"(ST|US|OL),(GS|NT|TR),([-+ ])([0-9. ]{1,10}?) *([A-Za-z]{0,2}) *\Z")
_NUMBER = re.compile(rb"(\d*)(?:\.(\d*))?")
_TERMINATOR = re.compile(rb"[\r\n]")


def encode_line(
    value: str | None, *, stable: bool = True, kind: str = "GS", unit: str = "kg", negative: bool = False
) -> bytes:
    """A line; ``value`` is the seven characters after the sign (``"0048020"``, ``"048.020"``), None for
    overload (header OL, blank data)."""
    if value is None:
        header, data = b"OL", b"-" if negative else b"+"
        data += b"    .  "
    else:
        if len(value) != 7:
            raise ValueError(f"the value is seven characters after the sign, not {value!r}")
        header, data = (b"ST" if stable else b"US"), (b"-" if negative else b"+") + value.encode("ascii")
    return header + b"," + kind.encode("ascii") + b"," + data + unit.rjust(2).encode("ascii") + b"\r\n"


def parse_line(line: bytes) -> tuple[int, dict[str, FieldValue] | str] | None:
    """(offset of the frame in ``line``, its fields or why they cannot be read); None: no frame."""
    match = _LINE.search(line)
    if match is None:
        return None
    head, kind, sign, data, unit = match.groups()
    unit_name = unit.decode("ascii").lower()
    if unit_name not in UNIT_TO_KG:
        return match.start(), "unknown_unit"
    text = data.strip(b" ")
    number = _NUMBER.fullmatch(text)
    fields: dict[str, FieldValue] = {}
    if head != b"OL":
        fields["stable"] = head == b"ST"
    fields["overload"] = head == b"OL"
    if number is None or not (number[1] or number[2]):
        # OL lines carry no number on purpose; anything else without one is not a reading.
        if head != b"OL" or text.strip(b".") or kind == b"TR":
            return match.start(), "bad_line"
        fields["net"] = kind == b"NT"
        return match.start(), fields
    decimals = number[2] or b""
    raw = int((number[1] or b"") + decimals)
    kg = to_kg(-raw if sign == b"-" else raw, len(decimals), unit_name)
    if kind == b"TR":
        if kg < 0:
            return match.start(), "bad_line"
        fields["tare_kg"] = kg
    else:
        fields["weight_kg"] = kg
        fields["net"] = kind == b"NT"
    return match.start(), fields


class AndAsciiDecoder:
    """Decodes A&D-format lines into ``scale`` samples.

    Gross and net lines give ``weight_kg`` (with ``net``); tare lines give ``tare_kg``; ``stable``
    comes from ST/US. An OL line has no number: its sample is ``{"overload": True, "net": …}``
    without ``weight_kg`` and without ``stable`` (the header replaces ST/US).

    ``dropped`` counts ``noise_bytes`` (garbage before a frame on its line, or beyond ``MAX_LINE``
    characters without a line end), ``bad_line`` (a line with no frame at its end, or a frame
    without a number) and ``unknown_unit`` (no unit, or one we cannot convert to kg). Between calls
    at most ``MAX_LINE`` characters of an unfinished line are kept.
    """

    def __init__(self) -> None:
        self.dropped: collections.Counter[str] = collections.Counter()
        self.decoded = 0
        self._line = bytearray()

    def feed(self, data: bytes) -> list[Sample]:
        data = strip_parity(data)
        out: list[Sample] = []
        start = 0
        for end in _TERMINATOR.finditer(data):
            self._line += data[start : end.start()]
            self._end_line(bytes(self._line), out)
            self._line.clear()
            start = end.end()
        self._line += data[start:]
        self._trim()
        return out

    def _trim(self) -> None:
        # Same outcome whatever the chunking: as if each byte beyond MAX_LINE pushed out the oldest.
        excess = len(self._line) - MAX_LINE
        if excess > 0:
            self.dropped["noise_bytes"] += excess
            del self._line[:excess]

    def _end_line(self, line: bytes, out: list[Sample]) -> None:
        if len(line) > MAX_LINE:
            self.dropped["noise_bytes"] += len(line) - MAX_LINE
            line = line[-MAX_LINE:]
        if not line:
            return  # the LF of CR LF
        parsed = parse_line(line)
        if parsed is None:
            self.dropped["bad_line"] += 1
            return
        offset, fields = parsed
        if offset:
            self.dropped["noise_bytes"] += offset
        if isinstance(fields, str):
            self.dropped[fields] += 1
            return
        self.decoded += 1
        out.append(Sample(fields))
