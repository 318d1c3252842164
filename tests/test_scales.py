"""Weigh-scale codecs (xk3190, toledo, and-ascii), the weigh-station simulators on real ptys, faults
and registration."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from importlib import resources
from typing import Any

import pytest
import serial
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge import registry
from firmware_bridge.and_ascii import AndAsciiDecoder, AndAsciiSimulator, encode_line
from firmware_bridge.and_ascii.codec import MAX_LINE
from firmware_bridge.scale_common import SCALE_FAULTS, ScaleSimulator, to_kg
from firmware_bridge.toledo import ToledoDecoder, ToledoSimulator
from firmware_bridge.toledo import encode_frame as toledo_frame
from firmware_bridge.toledo.codec import checksum as toledo_checksum
from firmware_bridge.xk3190 import Xk3190Decoder, Xk3190Simulator
from firmware_bridge.xk3190 import encode_frame as a9_frame
from ioc.measurements import check_reading
from ioc.reading import FieldValue, Reading
from tests.codec_checks import assert_chunking_does_not_matter, chunked, decode

Decoder = Xk3190Decoder | ToledoDecoder | AndAsciiDecoder
NAMES = ("xk3190", "toledo", "and-ascii")
DECODERS: dict[str, Callable[[], Decoder]] = {
    "xk3190": Xk3190Decoder,
    "toledo": ToledoDecoder,
    "and-ascii": AndAsciiDecoder,
}
SIMULATORS: dict[str, type[ScaleSimulator]] = {
    "xk3190": Xk3190Simulator,
    "toledo": ToledoSimulator,
    "and-ascii": AndAsciiSimulator,
}

# --- hand-written frames ------------------------------------------------------------------------
# XK3190-A9, +0020.00 kg: XOR of 2B 30 30 32 30 30 30 32 = 1B → "1B" (a published example).
A9_20KG = bytes.fromhex("02 2B 30 30 32 30 30 30 32 31 42 03")
# -120 kg, dp 0: 2D ^ (30 30 30 31 32 30 → 03) ^ 30 = 1E → "1E".
A9_MINUS_120 = bytes.fromhex("02 2D 30 30 30 31 32 30 30 31 45 03")
# +48020 kg, dp 0: 2B ^ (30 34 38 30 32 30 → 0E) ^ 30 = 15 → "15".
A9_48020 = bytes.fromhex("02 2B 30 34 38 30 32 30 30 31 35 03")

# Toledo, 48 020 kg gross, stable: SWA = 20 | increment ×2 (10) | dp code 1 (×10) = 31 "1",
# SWB = 20 | kg (10) = 30 "0", SWC = 20; weight 004802 ×10 kg, tare 000000.
TOLEDO_48020 = b"\x02" + b"10 " + b"004802" + b"000000" + b"\r"
# 7-bit sum: 02+31+30+20 = 83; "004802" = 6×30+0E = 12E; "000000" = 120; CR 0D → 2DE; 2DE & 7F = 5E;
# two's complement in 7 bits: 80 - 5E = 22.
TOLEDO_CHECKSUM = 0x22
# Net -12 kg, tare 50 kg, in motion: SWA = 20 | ×1 (08) | dp code 2 = 2A "*",
# SWB = 20 | kg 10 | motion 08 | negative 02 | net 01 = 3B ";".
TOLEDO_NET = b"\x02*; 000012000050\r"
# 48.02 t: SWA = 20 | 08 | dp code 4 (0.01) = 2C ",", SWC = 20 | unit code 2 (tonnes) = 22 '"'.
TOLEDO_TONNES = b'\x02,0"004802000000\r'
# 100 lb in motion: SWB = 20 | motion 08 = 28 "(", bit 4 clear (lb).
TOLEDO_LB = b"\x02*( 000100000000\r"
TOLEDO_48020_FIELDS = {"weight_kg": 48020.0, "tare_kg": 0.0, "net": False, "stable": True, "overload": False}

AND_48020 = b"ST,GS,+0048020kg\r\n"
AND_48020_FIELDS = {"weight_kg": 48020.0, "stable": True, "overload": False, "net": False}
AND_NET_MINUS = b"US,NT,-0000120kg\r\n"
AND_OVERLOAD = b"OL,GS,+    .  kg\r\n"
AND_TONNES = b"ST,GS,+048.020 t\r\n"

HAND: dict[str, list[tuple[bytes, dict[str, FieldValue]]]] = {
    "xk3190": [
        (A9_20KG, {"weight_kg": 20.0}),
        (A9_MINUS_120, {"weight_kg": -120.0}),
        (A9_48020, {"weight_kg": 48020.0}),
    ],
    "toledo": [
        (TOLEDO_48020, TOLEDO_48020_FIELDS),
        (TOLEDO_NET, {"weight_kg": -12.0, "tare_kg": 50.0, "net": True, "stable": False, "overload": False}),
        (TOLEDO_TONNES, TOLEDO_48020_FIELDS),
    ],
    "and-ascii": [
        (AND_48020, AND_48020_FIELDS),
        (AND_NET_MINUS, {"weight_kg": -120.0, "stable": False, "overload": False, "net": True}),
        (AND_OVERLOAD, {"overload": True, "net": False}),
    ],
}


def without(banned: bytes) -> Callable[[bytes], bytes]:
    """Drops every byte that is, with bit 7 cleared (the codecs ignore it), one of ``banned``."""
    return lambda noise: bytes(b for b in noise if b & 0x7F not in banned)


@pytest.fixture
def make_sim() -> Iterator[Callable[..., ScaleSimulator]]:
    sims: list[ScaleSimulator] = []

    def make(name: str, **kwargs: Any) -> ScaleSimulator:
        sim = SIMULATORS[name](**kwargs)
        sims.append(sim)
        return sim

    yield make
    for sim in sims:
        sim.stop()


# --- XK3190-A9 ----------------------------------------------------------------------------------


def test_a9_frames_decode() -> None:
    decoder = Xk3190Decoder()
    assert decode(decoder, b"".join(frame for frame, _ in HAND["xk3190"])) == [
        fields for _, fields in HAND["xk3190"]
    ]
    assert not decoder.dropped


def test_a9_encode_matches_hand_written_bytes() -> None:
    assert a9_frame(2000, 2) == A9_20KG
    assert a9_frame(-120) == A9_MINUS_120
    assert a9_frame(48020) == A9_48020
    with pytest.raises(ValueError):
        a9_frame(1_000_000)
    with pytest.raises(ValueError):
        a9_frame(1, 5)


def test_a9_accepts_lower_case_and_plain_offset_check_characters() -> None:
    lower = A9_20KG[:10] + b"b" + A9_20KG[11:]
    offset = A9_20KG[:10] + bytes([0x30 + 0xB]) + A9_20KG[11:]  # ";" — nibble + 30h, no letters
    assert decode(Xk3190Decoder(), lower + offset) == [{"weight_kg": 20.0}] * 2


def test_a9_dropped_counts_what_and_why() -> None:
    bad_check = A9_48020[:10] + b"6" + A9_48020[11:]
    no_etx = A9_48020[:11] + b"\x04"
    letter = A9_48020[:4] + b"O" + A9_48020[5:]  # a letter O where a digit belongs
    stream = b"\x00\xff\x13" + bad_check + A9_20KG + no_etx + letter + A9_MINUS_120 + A9_48020[:5]
    decoder = Xk3190Decoder()
    assert decode(decoder, stream) == [{"weight_kg": 20.0}, {"weight_kg": -120.0}]
    # Each rejected candidate gives up its STX only; its other 11 bytes are noise (no STX inside).
    assert decoder.dropped == {"noise_bytes": 3 + 3 * 11, "bad_checksum": 1, "bad_frame": 2}
    assert decode(decoder, A9_48020[5:]) == [{"weight_kg": 48020.0}]


# --- Toledo -------------------------------------------------------------------------------------


def test_toledo_frames_decode() -> None:
    decoder = ToledoDecoder()
    spaces = b"\x0210   4802     0\r"  # leading zeros sent as spaces
    out_of_range = b"\x02140004802000000\r"  # SWB bit 2
    assert decode(decoder, TOLEDO_48020 + TOLEDO_NET + TOLEDO_TONNES + TOLEDO_LB + spaces + out_of_range) == [
        TOLEDO_48020_FIELDS,
        {"weight_kg": -12.0, "tare_kg": 50.0, "net": True, "stable": False, "overload": False},
        TOLEDO_48020_FIELDS,
        {"weight_kg": 45.359237, "tare_kg": 0.0, "net": False, "stable": False, "overload": False},
        TOLEDO_48020_FIELDS,
        {**TOLEDO_48020_FIELDS, "overload": True},
    ]
    assert not decoder.dropped


def test_toledo_encode_matches_hand_written_bytes() -> None:
    assert toledo_frame(4802, dp_code=1, increment=2) == TOLEDO_48020
    assert toledo_frame(4802, dp_code=1, increment=2, with_checksum=True) == TOLEDO_48020 + b'"'
    assert toledo_checksum(TOLEDO_48020) == TOLEDO_CHECKSUM
    assert toledo_frame(-12, 50, net=True, motion=True) == TOLEDO_NET
    assert toledo_frame(4802, dp_code=4, unit="t") == TOLEDO_TONNES
    assert toledo_frame(100, unit="lb", motion=True) == TOLEDO_LB


def test_toledo_parity_bit_is_ignored() -> None:
    # A 7E1 terminal read at 8N1: bit 7 carries even parity ("1" = 31 has three ones → B1).
    with_parity = bytes(b | (bin(b).count("1") & 1) << 7 for b in TOLEDO_48020 + bytes([TOLEDO_CHECKSUM]))
    assert with_parity[1] == 0xB1
    decoder = ToledoDecoder(checksum=True)
    assert decode(decoder, with_parity) == [TOLEDO_48020_FIELDS]


def test_toledo_detects_the_optional_checksum() -> None:
    with_cs = TOLEDO_48020 + bytes([TOLEDO_CHECKSUM])
    corrupt = TOLEDO_48020[:9] + b"3" + TOLEDO_48020[10:] + bytes([TOLEDO_CHECKSUM])  # 48030, old checksum
    decoder = ToledoDecoder()
    assert decode(decoder, with_cs * 3) == [TOLEDO_48020_FIELDS] * 3
    assert decoder.with_checksum and not decoder.dropped
    assert decode(decoder, corrupt + with_cs) == [TOLEDO_48020_FIELDS]
    assert decoder.dropped["bad_checksum"] == 1
    # The terminal is reconfigured without checksums: frames are refused until that is certain.
    assert decode(decoder, TOLEDO_48020 * 6) == [TOLEDO_48020_FIELDS]
    assert decoder.dropped["missing_checksum"] == 5 and not decoder.with_checksum
    assert decode(decoder, TOLEDO_48020) == [TOLEDO_48020_FIELDS]


def test_toledo_fixed_checksum_setting() -> None:
    strict = ToledoDecoder(checksum=True)
    assert decode(strict, TOLEDO_48020 * 8) == []
    assert strict.dropped == {"missing_checksum": 7} and strict.with_checksum
    plain = ToledoDecoder(checksum=False)
    assert decode(plain, (TOLEDO_48020 + bytes([TOLEDO_CHECKSUM])) * 4) == [TOLEDO_48020_FIELDS] * 4
    assert plain.dropped == {"noise_bytes": 4}


def test_toledo_dropped_counts_what_and_why() -> None:
    no_cr = TOLEDO_48020[:16] + b"\n"
    letter = TOLEDO_48020[:6] + b"O" + TOLEDO_48020[7:]
    ounces = TOLEDO_48020[:3] + b"#" + TOLEDO_48020[4:]  # SWC unit code 3
    stream = b"\x00abc" + no_cr + letter + ounces + TOLEDO_NET + TOLEDO_48020[:10]
    decoder = ToledoDecoder(checksum=False)
    assert decode(decoder, stream) == [HAND["toledo"][1][1]]
    assert decoder.dropped == {"noise_bytes": 4 + 2 * 16, "bad_frame": 2, "unsupported_unit": 1}
    assert decode(decoder, TOLEDO_48020[10:]) == [TOLEDO_48020_FIELDS]


# --- A&D ----------------------------------------------------------------------------------------


def test_and_lines_decode() -> None:
    lines = (
        AND_48020
        + AND_NET_MINUS
        + b"ST,GS,+00123.4 kg\r\n"  # a space before the unit, as some compatibles send
        + AND_TONNES
        + b"ST,GS,+0012.34 g\r"  # CR alone ends a line too
        + AND_OVERLOAD
        + b"ST,TR,+0000500kg\r\n"
        + b"US,GS,+0001000lb\r\n"
        + b"OL,GS,-0120000kg\r\n"  # an OL line that does carry a number
    )
    decoder = AndAsciiDecoder()
    assert decode(decoder, lines) == [
        AND_48020_FIELDS,
        {"weight_kg": -120.0, "stable": False, "overload": False, "net": True},
        {**AND_48020_FIELDS, "weight_kg": 123.4},
        AND_48020_FIELDS,
        {**AND_48020_FIELDS, "weight_kg": 0.01234},
        {"overload": True, "net": False},
        {"tare_kg": 500.0, "stable": True, "overload": False},
        {"weight_kg": 453.59237, "stable": False, "overload": False, "net": False},
        {"weight_kg": -120000.0, "overload": True, "net": False},
    ]
    assert not decoder.dropped


def test_and_encode_matches_hand_written_bytes() -> None:
    assert encode_line("0048020") == AND_48020
    assert encode_line("0000120", stable=False, kind="NT", negative=True) == AND_NET_MINUS
    assert encode_line(None) == AND_OVERLOAD
    assert encode_line("048.020", unit="t") == AND_TONNES
    with pytest.raises(ValueError):
        encode_line("48020")


def test_and_dropped_counts_what_and_why() -> None:
    stream = (
        b"\x00\x80\x13"  # garbage before a frame on its line: 3 noise bytes
        + AND_48020
        + b"hello\r\n"  # 1 bad_line
        + b"ST,GS,+0012345  \r\n"  # no unit: 1 unknown_unit
        + b"US,GS,+    .  kg\r\n"  # blank data is only meaningful with OL: 1 bad_line
        + b"\r\n\r\n"  # blank lines are not counted
        + b"x" * (MAX_LINE + 10)  # a run beyond MAX_LINE before a frame: all of it is noise
        + AND_TONNES
        + AND_48020[:9]  # a partial line is kept
    )
    decoder = AndAsciiDecoder()
    assert decode(decoder, stream) == [AND_48020_FIELDS, AND_48020_FIELDS]
    assert decoder.dropped == {"noise_bytes": 3 + MAX_LINE + 10, "bad_line": 2, "unknown_unit": 1}
    assert decode(decoder, AND_48020[9:]) == [AND_48020_FIELDS]


# --- properties every scale codec has -----------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_split_at_every_offset(name: str) -> None:
    frames = [frame for frame, _ in HAND[name]]
    stream = frames[0] + b"\x00\x13 " + frames[1] + frames[2] + frames[0]
    expected = decode(DECODERS[name](), stream)
    assert len(expected) == 4
    for cut in range(len(stream) + 1):
        decoder = DECODERS[name]()
        assert decode(decoder, stream[:cut]) + decode(decoder, stream[cut:]) == expected, cut
    decoder = DECODERS[name]()
    assert [f for b in stream for f in decode(decoder, bytes([b]))] == expected


@pytest.mark.parametrize("name", NAMES)
def test_frame_inside_a_truncated_one_is_found(name: str) -> None:
    first, (second, fields) = HAND[name][0][0], HAND[name][1]
    for cut in range(1, len(first) - 2):  # never the line end: a CR would complete an A&D line
        assert decode(DECODERS[name](), first[:cut] + second) == [fields], cut


a9_frames = st.tuples(st.integers(-999_999, 999_999), st.integers(0, 4)).map(
    lambda t: (a9_frame(*t), {"weight_kg": to_kg(*t)})
)


@st.composite
def toledo_frames(draw: st.DrawFn) -> tuple[bytes, dict[str, FieldValue]]:
    weight, tare = draw(st.integers(-999_999, 999_999)), draw(st.integers(0, 999_999))
    dp_code, unit = draw(st.integers(0, 7)), draw(st.sampled_from(["kg", "lb", "g", "t"]))
    net, out_of_range, motion = draw(st.booleans()), draw(st.booleans()), draw(st.booleans())
    frame = toledo_frame(
        weight, tare, dp_code=dp_code, unit=unit, net=net, out_of_range=out_of_range, motion=motion
    )
    fields: dict[str, FieldValue] = {
        "weight_kg": to_kg(weight, dp_code - 2, unit),
        "tare_kg": to_kg(tare, dp_code - 2, unit),
        "net": net,
        "stable": not motion,
        "overload": out_of_range,
    }
    return frame, fields


@st.composite
def and_lines(draw: st.DrawFn) -> tuple[bytes, dict[str, FieldValue]]:
    head, kind = draw(st.sampled_from(["ST", "US", "OL"])), draw(st.sampled_from(["GS", "NT", "TR"]))
    unit = draw(st.sampled_from(["kg", "g", "t", "lb"]))
    if head == "OL" and kind != "TR" and draw(st.booleans()):
        return encode_line(None, kind=kind, unit=unit), {"overload": True, "net": kind == "NT"}
    raw, decimals = draw(st.integers(0, 999_999)), draw(st.integers(0, 5))
    negative = kind != "TR" and draw(st.booleans())
    digits = f"{raw:06d}"
    value = f"0{digits}" if decimals == 0 else f"{digits[: 6 - decimals]}.{digits[6 - decimals :]}"
    line = encode_line(value, kind=kind, unit=unit, negative=negative)
    if head != "ST":
        line = head.encode() + line[2:]
    kg = to_kg(-raw if negative else raw, decimals, unit)
    fields: dict[str, FieldValue] = {"overload": head == "OL"}
    if head != "OL":
        fields["stable"] = head == "ST"
    if kind == "TR":
        fields["tare_kg"] = kg
    else:
        fields |= {"weight_kg": kg, "net": kind == "NT"}
    return line, fields


# Noise that cannot forge a frame: no STX for the binary-framed ones (no CR either for Toledo, so a
# candidate can never end inside noise), no line end for A&D.
FRAMES = {"xk3190": a9_frames, "toledo": toledo_frames(), "and-ascii": and_lines()}
NOISE = {
    "xk3190": st.binary(max_size=30).map(without(b"\x02")),
    "toledo": st.binary(max_size=30).map(without(b"\x02\r")),
    "and-ascii": st.binary(max_size=30).map(without(b"\r\n")),
}


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_frames_among_noise_all_decoded_in_order(name: str, data: st.DataObject) -> None:
    items = data.draw(st.lists(st.tuples(NOISE[name], FRAMES[name]), max_size=12))
    trailing = data.draw(NOISE[name])
    stream, previous = b"", None
    for noise, (frame, _) in items:
        if name == "toledo" and previous is not None:
            # A byte right after CR equal to the frame's checksum is taken as one: leave it out.
            while noise and noise[0] & 0x7F == toledo_checksum(previous):
                noise = noise[1:]
        stream += noise + frame
        previous = frame
    stream += trailing
    decoder = DECODERS[name]()
    out = [f for chunk in chunked(data, stream) for f in decode(decoder, chunk)]
    assert out == [fields for _, (_, fields) in items]
    assert decoder.decoded == len(items)
    assert set(decoder.dropped) <= {"noise_bytes"}
    if not trailing:
        assert decoder.dropped["noise_bytes"] == len(stream) - sum(len(frame) for _, (frame, _) in items)


@given(st.lists(st.tuples(NOISE["toledo"], toledo_frames()), max_size=12), st.data())
def test_toledo_checksum_frames_among_noise_all_decoded(
    items: list[tuple[bytes, tuple[bytes, dict[str, FieldValue]]]], data: st.DataObject
) -> None:
    stream = b"".join(noise + frame + bytes([toledo_checksum(frame)]) for noise, (frame, _) in items)
    decoder = ToledoDecoder()
    out = [f for chunk in chunked(data, stream) for f in decode(decoder, chunk)]
    assert out == [fields for _, (_, fields) in items]
    # A checksum of 02 before detection locks in is read as an STX, which the next byte disproves.
    assert set(decoder.dropped) <= {"noise_bytes", "bad_frame"}


@pytest.mark.parametrize("name", NAMES)
@given(stream=st.binary(max_size=400), data=st.data())
def test_arbitrary_bytes_never_raise_and_chunking_does_not_matter(
    name: str, stream: bytes, data: st.DataObject
) -> None:
    def kept(decoder: Any) -> bytes:
        return decoder._line if isinstance(decoder, AndAsciiDecoder) else decoder._buf

    assert_chunking_does_not_matter(DECODERS[name], stream, data, kept, MAX_LINE)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("xk3190", {}),
        ("toledo", {}),
        ("toledo", {"checksum": True, "line_parity": True}),
        ("and-ascii", {}),
        ("and-ascii", {"unit": "t", "line_parity": True}),
    ],
)
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_simulator_noise_never_forms_a_frame(name: str, kwargs: dict[str, Any], seed: int) -> None:
    # decoded == emitted with noise on holds only if nothing the simulator inserts can combine with
    # the real frame after it into a valid-looking one.
    sim = SIMULATORS[name](seed=seed, speedup=50, capacity_kg=40_000, **kwargs)
    try:
        stream, expected = b"", []
        for _ in range(150):
            frame, fields = sim.next_frame()
            stream += sim.noise_bytes(frame) + frame
            expected.append(fields)
            if isinstance(sim, ToledoSimulator):
                sim._sent_check = toledo_checksum(frame[:17])  # emit_frame's bookkeeping
        assert decode(DECODERS[name](), stream) == expected
    finally:
        sim.stop()


# --- simulators on a real pty --------------------------------------------------------------------


def open_port(name: str, sim: ScaleSimulator) -> serial.Serial:
    line = registry.get(name).serial or registry.SerialSettings()
    return serial.serial_for_url(
        sim.port,
        line.baudrate,
        bytesize=line.bytesize,
        parity=line.parity,
        stopbits=line.stopbits,
        timeout=0.2,
    )


def read_decoded(port: serial.Serial, decoder: Decoder, n: int, within_s: float = 5.0) -> list[dict]:
    out: list[dict[str, FieldValue]] = []
    deadline = time.monotonic() + within_s
    while len(out) < n and time.monotonic() < deadline:
        out += decode(decoder, port.read(port.in_waiting or 1))
    return out


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("xk3190", {"noise": 0.0}),
        ("xk3190", {"noise": 0.4}),
        ("toledo", {"noise": 0.0}),
        ("toledo", {"noise": 0.4}),
        ("toledo", {"noise": 0.4, "checksum": True, "line_parity": True}),
        ("and-ascii", {"noise": 0.0}),
        ("and-ascii", {"noise": 0.4}),
        ("and-ascii", {"noise": 0.4, "unit": "t", "line_parity": True}),
    ],
)
def test_pty_decoded_equals_emitted(make_sim: Any, name: str, kwargs: dict[str, Any]) -> None:
    sim = make_sim(name, interval_s=0.005, seed=11, speedup=50, **kwargs)
    decoder = DECODERS[name]()
    # Open before start: pyserial flushes the input queue on open.
    with open_port(name, sim) as port, sim:
        out = read_decoded(port, decoder, 120)
    assert len(out) == 120
    assert out == [fields for _, fields in sim.emitted[:120]]
    if kwargs["noise"]:
        assert sim.noise_inserted > 0
        assert decoder.dropped["noise_bytes"] > 0
        assert set(decoder.dropped) <= {"noise_bytes", "bad_frame", "bad_checksum"}
    else:
        assert not decoder.dropped


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", NAMES)
def test_dropout_and_garbage_faults(make_sim: Any, name: str) -> None:
    sim = make_sim(name, interval_s=60.0, seed=9)  # not started: frames go out when the test says so
    decoder = DECODERS[name]()
    with open_port(name, sim) as port:
        for _ in range(3):
            assert sim.emit_frame()
        sim.set_fault("dropout")
        assert not any(sim.emit_frame() for _ in range(3))
        sim.set_fault("garbage")
        assert not any(sim.emit_frame() for _ in range(3))
        sim.set_fault(None)
        for _ in range(3):
            assert sim.emit_frame()
        out = read_decoded(port, decoder, 6)
    assert len(out) == 6
    assert out == [fields for _, fields in sim.emitted]
    assert sim.garbage_sent == 3
    assert decoder.dropped["noise_bytes"] > 0
    with pytest.raises(ValueError, match="unknown fault 'calibrating'"):
        sim.set_fault("calibrating")


@pytest.mark.parametrize("name", NAMES)
def test_stuck_repeats_one_frame_while_trucks_keep_coming(make_sim: Any, name: str) -> None:
    sim = make_sim(name, seed=4, speedup=50)
    for _ in range(20):
        sim.next_frame()
    sim.set_fault("stuck")
    frames = [sim.next_frame() for _ in range(400)]
    assert len({frame for frame, _ in frames}) == 1
    assert all(fields == frames[0][1] for _, fields in frames)
    assert len(sim.trucks) >= 3
    sim.set_fault(None)
    assert len({sim.next_frame()[0] for _ in range(300)}) > 1


@pytest.mark.parametrize("name", NAMES)
def test_overload_fault_loads_trucks_over_their_permit(make_sim: Any, name: str) -> None:
    normal, overloaded = make_sim(name, seed=6, speedup=50), make_sim(name, seed=6, speedup=50)
    overloaded.set_fault("overload")
    for _ in range(2000):
        normal.next_frame()
        overloaded.next_frame()
    assert len(normal.trucks) >= 10 and len(overloaded.trucks) >= 10
    # Permitted gross weights run from 16 t (2 axles) to 48 t (container semi-trailers).
    assert all(4_000 <= gross <= 48_000 for _, gross in normal.trucks)
    assert all(16_000 * 1.1 <= gross <= 48_000 * 1.6 for _, gross in overloaded.trucks)
    assert max(gross for _, gross in overloaded.trucks) > 48_000


@pytest.mark.parametrize("name", ["toledo", "and-ascii"])
def test_trucks_are_the_stable_weights_the_scale_showed(make_sim: Any, name: str) -> None:
    sim = make_sim(name, seed=8, speedup=20)
    decoder = DECODERS[name]()
    shown: list[float] = []
    stable_before = True
    for _ in range(3000):
        for fields in decode(decoder, sim.next_frame()[0]):
            if fields["stable"] and fields["weight_kg"] > 0 and not stable_before:
                shown.append(fields["weight_kg"])
            stable_before = bool(fields["stable"])
    assert len(sim.trucks) >= 5
    assert shown == [gross for _, gross in sim.trucks]
    times = [t for t, _ in sim.trucks]
    assert times == sorted(times)


def test_over_capacity_is_flagged(make_sim: Any) -> None:
    toledo = make_sim("toledo", seed=2, speedup=50, capacity_kg=20_000)
    and_ascii = make_sim("and-ascii", seed=2, speedup=50, capacity_kg=20_000)
    toledo_out = decode(ToledoDecoder(), b"".join(toledo.next_frame()[0] for _ in range(1000)))
    and_out = decode(AndAsciiDecoder(), b"".join(and_ascii.next_frame()[0] for _ in range(1000)))
    assert any(f["overload"] and f["weight_kg"] > 20_000 for f in toledo_out)
    assert all(f["overload"] == (f["weight_kg"] > 20_000) for f in toledo_out)
    assert {"overload": True, "net": False} in and_out


# --- registry -----------------------------------------------------------------------------------


SETTINGS = {"xk3190": "9600 8N1", "toledo": "9600 7E1", "and-ascii": "9600 8N1"}


@pytest.mark.parametrize("name", NAMES)
def test_registered_family(name: str) -> None:
    family = registry.get(name)
    assert family.measurement == "scale"
    assert family.transport == "serial"
    assert family.serial is not None
    bits = f"{family.serial.baudrate} {family.serial.bytesize}{family.serial.parity}{family.serial.stopbits}"
    assert bits == SETTINGS[name]
    assert isinstance(family.new_decoder(), registry.FrameDecoder)
    sim = family.new_simulator(interval_s=0.5, seed=1, noise=0.1)
    try:
        assert isinstance(sim, registry.Simulator)
        assert sim.port.startswith("/dev/")
        assert sim.faults == SCALE_FAULTS
    finally:
        sim.stop()


@pytest.mark.parametrize("name", NAMES)
def test_fields_fit_the_measurement_dictionary(make_sim: Any, name: str) -> None:
    sim = make_sim(name, seed=1, speedup=50, capacity_kg=30_000)
    sim.set_fault("overload")
    decoder = DECODERS[name]()
    tags = {"city": "bmt", "site": "tram-can-km12", "gateway": "g1", "device": "scale-1"}
    for _ in range(1000):
        for fields in decode(decoder, sim.next_frame()[0]):
            assert check_reading(Reading("scale", tags, fields, time.time_ns())) is None


@pytest.mark.parametrize("name", NAMES)
def test_sample_config_names_this_family(name: str) -> None:
    folder = resources.files(f"firmware_bridge.{name.replace('-', '_')}")
    sample = yaml.safe_load(folder.joinpath("sample.yaml").read_text(encoding="utf-8"))
    assert registry.get(sample["family"]) is registry.get(name)
    assert sample["port"].startswith("/dev/serial/by-id/")
    assert sample["poll_interval_s"] > 0 and sample["id"]
    assert SETTINGS[name] in folder.joinpath("README.md").read_text(encoding="utf-8")
