"""The resynchronising frame scan the byte-stream codecs share.

A serial device sends frames back to back on a line that also carries noise: a half-plugged
connector, a wrong-baud burst, a frame cut short when the sensor rebooted. A decoder has to find
each frame's header, count what lies between frames, wait when a frame is split across reads, and
when a candidate turns out bad, reject only its first byte and look again from the next one,
because a real frame may start inside a truncated one. This module does that once; a codec says
only what is its own: its header, how long a candidate is, and how to check and decode one.

It is hand-written because no library does this for arbitrary device formats: pyserial hands over
bytes only, parser libraries (``construct``, ``struct``) describe one frame rather than how to find
it again in a damaged stream, and generic framings (SLIP, COBS, HDLC) define their own delimiters
and byte stuffing, which these devices do not use. None counts what it dropped and why.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")

# (buffer, start of the candidate) → its total length, a reason it is no frame, or None: wait.
Measure = Callable[[bytearray, int], int | str | None]


class FrameScanner(Generic[T]):
    """Finds the frames that start with ``header`` in a stream fed in arbitrary chunks.

    ``header`` is the bytes every frame starts with (``b"BM"``), or per position the bytes allowed
    there (``(bytes([0xAA]), bytes([0xC0, 0xC5]))``: AA, then C0 or C5); the first position takes
    one byte only, since the scan searches for it. A first byte whose header goes on wrong is one
    noise byte.

    ``length`` is how long a candidate is: a fixed number of bytes, or a function of the buffer and
    the candidate's start, called once ``peek`` bytes of the candidate are buffered (the whole header
    at least). It returns the candidate's total length, a rejection reason (str), or None when it
    cannot tell yet (say, no terminator so far): the scanner then waits for more bytes.

    ``decode`` gets each complete candidate (a copy), checks it and returns:

    - a decoded item, which ``feed`` returns; the whole candidate is consumed;
    - a rejection reason (str): counted in ``dropped``, only the candidate's first byte consumed,
      and the scan goes on from the next byte;
    - None: a valid frame that carries nothing to return (a reply to a host command, say); the
      whole candidate is consumed and ``decode`` counts it in ``dropped`` itself if it wants to.

    ``dropped["noise_bytes"]`` counts bytes outside any frame, including the rest of a rejected
    candidate that no later frame claims. Between calls the scanner keeps only the incomplete
    candidate at the end of the stream, always fewer than ``max_length`` bytes (the longest frame;
    ``length`` when fixed), so ``buffer`` stays bounded whatever the input.
    """

    __slots__ = (
        "_decode",
        "_fixed",
        "_header_len",
        "_lead",
        "_max_length",
        "_measure",
        "_peek",
        "_rest",
        "_second",
        "buffer",
        "dropped",
    )

    def __init__(
        self,
        header: bytes | Sequence[bytes],
        length: int | Measure,
        decode: Callable[[bytearray], T | str | None],
        *,
        peek: int | None = None,
        max_length: int | None = None,
    ) -> None:
        allowed = [bytes([b]) for b in header] if isinstance(header, bytes) else [bytes(a) for a in header]
        if not allowed or len(allowed[0]) != 1 or not all(allowed):
            raise ValueError(f"a header is one first byte, then some allowed bytes per position: {header!r}")
        if isinstance(length, int):
            if length < len(allowed):
                raise ValueError(f"a frame of {length} bytes cannot hold its {len(allowed)}-byte header")
            if max_length not in (None, length):
                raise ValueError(f"a fixed length is its own max_length, not {max_length}")
            self._fixed, self._measure, max_length = length, None, length
        else:
            if max_length is None:
                raise ValueError("a measured frame needs max_length, the bound on what is kept")
            self._fixed, self._measure = 0, length
        peek = len(allowed) if peek is None else peek
        if not len(allowed) <= peek <= max_length:
            raise ValueError(f"need len(header) <= peek <= max_length: {len(allowed)}, {peek}, {max_length}")
        self._lead = allowed[0][0]
        # Headers are one or two bytes on every device we know: the second is checked inline, any
        # further ones (rare) by ``_rest_matches``.
        self._second = allowed[1] if len(allowed) > 1 else None
        self._rest = tuple(enumerate(allowed[2:], start=2))
        self._header_len = len(allowed)
        self._peek = peek
        self._max_length = max_length
        self._decode = decode
        self.dropped: collections.Counter[str] = collections.Counter()
        # Mutated in place only (``+=``, ``del``), so a decoder may hold on to it.
        self.buffer = bytearray()

    def feed(self, data: bytes | bytearray) -> list[T]:
        """The items decoded from the frames completed by ``data``, in stream order."""
        buf = self.buffer
        buf += data
        out: list[T] = []
        dropped = self.dropped
        lead, second, rest, header_len = self._lead, self._second, self._rest, self._header_len
        decode, fixed, measure = self._decode, self._fixed, self._measure
        noise = 0  # added to ``dropped`` once: this loop runs once per frame and must stay lean
        i, n = 0, len(buf)
        while i < n:
            start = buf.find(lead, i)
            if start < 0:
                noise += n - i
                i = n
                break
            noise += start - i
            i = start
            if second is not None:
                if n - i < header_len:
                    break
                if buf[i + 1] not in second or (rest and not self._rest_matches(buf, i)):
                    noise += 1
                    i += 1
                    continue
            if measure is None:
                length = fixed
            else:
                if n - i < self._peek:
                    break
                measured = measure(buf, i)
                if measured is None:
                    if n - i >= self._max_length:
                        raise RuntimeError(f"length still unknown after {n - i} bytes (max_length exceeded)")
                    break
                if isinstance(measured, str):
                    dropped[measured] += 1
                    i += 1
                    continue
                if measured < header_len:
                    # A codec bug: consuming nothing would never end this loop.
                    raise RuntimeError(f"a candidate of {measured} bytes cannot hold its header")
                length = measured
            if n - i < length:
                if length > self._max_length:
                    # A codec bug, not bad input: waiting for it would let the buffer grow unbounded.
                    raise RuntimeError(f"a candidate of {length} bytes exceeds max_length {self._max_length}")
                break
            result = decode(buf[i : i + length])
            if isinstance(result, str):
                dropped[result] += 1
                i += 1
                continue
            i += length
            if result is not None:
                out.append(result)
        if noise:
            dropped["noise_bytes"] += noise
        del buf[:i]
        return out

    def _rest_matches(self, buf: bytearray, start: int) -> bool:
        """Whether the header bytes after the second are allowed ones."""
        return all(buf[start + k] in allowed for k, allowed in self._rest)
