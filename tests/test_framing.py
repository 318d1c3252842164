"""The shared frame scanner, on toy formats small enough to compute every frame by hand."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_bridge.framing import FrameScanner
from tests.codec_checks import chunked

# Toy format A, fixed length: 7E a b s, s = (a + b) & 0xFF.
SUM_FRAME = b"\x7e\x01\x02\x03"


def sum_check(frame: bytearray) -> bytes | str:
    return bytes(frame[1:3]) if (frame[1] + frame[2]) & 0xFF == frame[3] else "bad_sum"


def sum_frame(a: int, b: int) -> bytes:
    return bytes([0x7E, a, b, (a + b) & 0xFF])


# Toy format B, length field: "LN" n payload[n] x, x = XOR of the payload; n ≤ 8, n = 0 is a "ping"
# (a valid frame that carries nothing); n > 8 is no frame.
MAX_PAYLOAD = 8


def ln_length(buf: bytearray, start: int) -> int | str:
    count = buf[start + 2]
    return count + 4 if count <= MAX_PAYLOAD else "bad_length"


def ln_frame(payload: bytes) -> bytes:
    check = 0
    for b in payload:
        check ^= b
    return b"LN" + bytes([len(payload)]) + payload + bytes([check])


def ln_scanner() -> FrameScanner[bytes]:
    def check(frame: bytearray) -> bytes | str | None:
        payload = bytes(frame[3:-1])
        xor = 0
        for b in payload:
            xor ^= b
        if xor != frame[-1]:
            return "bad_check"
        if not payload:
            scanner.dropped["ping"] += 1
            return None
        return payload

    scanner = FrameScanner(b"LN", ln_length, check, peek=3, max_length=MAX_PAYLOAD + 4)
    return scanner


def test_fixed_length_frames_noise_and_rejections() -> None:
    scanner = FrameScanner(b"\x7e", 4, sum_check)
    bad = b"\x7e\x01\x02\x04"
    stream = b"\x00\x11" + SUM_FRAME + bad + SUM_FRAME + b"\x7e\x05"
    assert scanner.feed(stream) == [b"\x01\x02", b"\x01\x02"]
    # The bad candidate's 7E is rejected, its other three bytes are noise; the partial frame is kept.
    assert scanner.dropped == {"noise_bytes": 2 + 3, "bad_sum": 1}
    assert scanner.buffer == b"\x7e\x05"
    assert scanner.feed(b"\x01\x06") == [b"\x05\x01"]
    assert scanner.buffer == b"" and scanner.dropped == {"noise_bytes": 2 + 3, "bad_sum": 1}


def test_frame_inside_a_rejected_candidate_is_found() -> None:
    for cut in range(1, len(SUM_FRAME)):
        scanner = FrameScanner(b"\x7e", 4, sum_check)
        assert scanner.feed(SUM_FRAME[:cut] + sum_frame(9, 9)) == [b"\x09\x09"], cut


def test_header_with_alternatives_and_mismatch_is_noise() -> None:
    # AA then C0 or C5, as the SDS011 frames start.
    scanner = FrameScanner((b"\xaa", b"\xc0\xc5"), 3, lambda f: bytes(f))
    assert scanner.feed(b"\xaa") == [] and scanner.buffer == b"\xaa"  # waits for the second byte
    assert scanner.feed(b"\x10\xaa\xc5\x01\xaa\xaa\xc0\x02\xaa") == [b"\xaa\xc5\x01", b"\xaa\xc0\x02"]
    assert scanner.dropped == {"noise_bytes": 3}
    assert scanner.buffer == b"\xaa"


def test_longer_header_checked_at_every_position() -> None:
    scanner = FrameScanner((b"S", b"Y", b"N", b"C!"), 5, lambda f: bytes(f))
    assert scanner.feed(b"SYNx1SYN") == []
    assert scanner.dropped == {"noise_bytes": 5} and scanner.buffer == b"SYN"
    assert scanner.feed(b"!2SYNC") == [b"SYN!2"] and scanner.buffer == b"SYNC"
    assert scanner.feed(b"3") == [b"SYNC3"] and scanner.dropped == {"noise_bytes": 5}


def test_length_field_bad_length_and_frames_that_yield_nothing() -> None:
    scanner = ln_scanner()
    stream = b"LN\x09" + ln_frame(b"ab") + ln_frame(b"") + ln_frame(b"xyz")[:-1] + b"\x00" + ln_frame(b"q")
    assert scanner.feed(stream) == [b"ab", b"q"]
    assert scanner.dropped == {"bad_length": 1, "noise_bytes": 2 + 6, "ping": 1, "bad_check": 1}


def test_measure_may_wait_for_a_terminator_within_the_bound() -> None:
    # Format C: "#" text CR, at most 6 bytes; a longer run is no frame.
    def to_cr(buf: bytearray, start: int) -> int | str | None:
        end = buf.find(b"\r", start, start + 6)
        if end >= 0:
            return end - start + 1
        return "no_cr" if len(buf) - start >= 6 else None

    scanner = FrameScanner(b"#", to_cr, lambda f: bytes(f[1:-1]), max_length=6)
    assert scanner.feed(b"#ab") == [] and scanner.buffer == b"#ab"
    assert scanner.feed(b"c\r#toolong\r#x\r") == [b"abc", b"x"]
    assert scanner.dropped == {"no_cr": 1, "noise_bytes": 8}


def test_codec_bugs_fail_loudly_instead_of_growing_or_looping() -> None:
    too_long = FrameScanner(b"#", lambda buf, i: 100, bytes, max_length=10)
    with pytest.raises(RuntimeError):
        too_long.feed(b"#abc")
    empty = FrameScanner(b"#", lambda buf, i: 0, bytes, max_length=10)
    with pytest.raises(RuntimeError):
        empty.feed(b"#abc")
    undecided = FrameScanner(b"#", lambda buf, i: None, bytes, max_length=4)
    with pytest.raises(RuntimeError):
        undecided.feed(b"#abcd")
    for header, length, kwargs in [
        (b"", 4, {}),
        ((b"ab", b"c"), 4, {}),  # the first byte is searched for: one value only
        ((b"a", b""), 4, {}),
        (b"abc", 2, {}),
        (b"a", lambda buf, i: 2, {}),  # no max_length
        (b"a", lambda buf, i: 2, {"max_length": 4, "peek": 5}),
        (b"a", 4, {"max_length": 8}),  # a fixed length is the bound
    ]:
        with pytest.raises(ValueError):
            FrameScanner(header, length, bytes, **kwargs)  # type: ignore[arg-type]


payloads = st.binary(min_size=1, max_size=MAX_PAYLOAD)
# Noise without "L" cannot start a frame, so exactly the valid frames must come out.
clean_noise = st.binary(max_size=20).map(lambda b: b.replace(b"L", b""))


@given(st.lists(st.tuples(clean_noise, payloads), max_size=15), clean_noise, st.data())
def test_frames_among_noise_all_decoded_in_order(
    items: list[tuple[bytes, bytes]], trailing: bytes, data: st.DataObject
) -> None:
    stream = b"".join(noise + ln_frame(payload) for noise, payload in items) + trailing
    scanner = ln_scanner()
    out = [p for chunk in chunked(data, stream) for p in scanner.feed(chunk)]
    assert out == [payload for _, payload in items]
    assert scanner.dropped["noise_bytes"] == len(stream) - sum(len(p) + 4 for _, p in items)
    assert set(scanner.dropped) <= {"noise_bytes"}
    assert scanner.buffer == b""


def reference_scan(stream: bytes) -> tuple[list[bytes], dict[str, int], bytes]:
    """Format B decoded one position at a time on the whole stream: what chunked scanning must equal."""
    out: list[bytes] = []
    dropped: dict[str, int] = {}
    i = 0
    while i < len(stream):
        if stream[i] == ord("L") and len(stream) - i < 2:
            break  # wait for the second header byte
        if stream[i : i + 2] != b"LN":
            dropped["noise_bytes"] = dropped.get("noise_bytes", 0) + 1
            i += 1
            continue
        if len(stream) - i < 3:
            break  # wait for the length
        count = stream[i + 2]
        if count > MAX_PAYLOAD:
            dropped["bad_length"] = dropped.get("bad_length", 0) + 1
            i += 1
            continue
        if len(stream) - i < count + 4:
            break
        payload, xor = stream[i + 3 : i + 3 + count], 0
        for b in payload:
            xor ^= b
        if xor != stream[i + 3 + count]:
            dropped["bad_check"] = dropped.get("bad_check", 0) + 1
            i += 1
            continue
        if payload:
            out.append(payload)
        else:
            dropped["ping"] = dropped.get("ping", 0) + 1
        i += count + 4
    return out, dropped, stream[i:]


# Mostly pieces of frames, so that headers, bad lengths and truncated candidates are common.
pieces = st.one_of(
    payloads.map(ln_frame),
    st.tuples(payloads.map(ln_frame), st.integers(0, 12)).map(lambda t: t[0][: t[1]]),
    st.sampled_from([b"L", b"N", b"LN", b"LN\x00", b"LN\x09", b"\x00"]),
    st.binary(max_size=6),
)


@given(st.lists(pieces, max_size=30).map(b"".join), st.data())
def test_any_bytes_any_chunking_match_the_byte_by_byte_reference(stream: bytes, data: st.DataObject) -> None:
    expected, dropped, kept = reference_scan(stream)
    scanner = ln_scanner()
    out = []
    for chunk in chunked(data, stream):
        out += scanner.feed(chunk)
        assert len(scanner.buffer) < MAX_PAYLOAD + 4  # bounded: at most one partial frame is kept
    assert out == expected
    assert dict(scanner.dropped) == dropped
    assert scanner.buffer == kept
