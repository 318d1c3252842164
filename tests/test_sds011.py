"""SDS011 codec, simulator on a real pty, and the device-family registry."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest
import serial
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge import registry
from firmware_bridge.sds011 import FAMILY
from firmware_bridge.sds011.codec import (
    FRAME_LEN,
    Sds011Decoder,
    encode_command,
    encode_data_frame,
    encode_reply,
)
from firmware_bridge.sds011.simulator import Sds011Simulator
from ioc.measurements import dictionary
from ioc.reading import FieldValue
from tests.codec_checks import assert_chunking_does_not_matter, chunked, decode

# From the Nova Fitness control protocol datasheet: PM2.5 123.6, PM10 261.8, device id A160.
DATASHEET_FRAME = bytes.fromhex("AA C0 D4 04 3A 0A A1 60 1D AB")
# By hand: 123 = 7B 00, 456 = C8 01, id A1 60; cs = 7B+00+C8+01+A1+60 = 0x245 -> 45.
HAND_FRAME = bytes.fromhex("AA C0 7B 00 C8 01 A1 60 45 AB")
# Reply to "set query mode" from the datasheet: cs = 02+01+01+00+A1+60 = 0x105 -> 05.
DATASHEET_REPLY = bytes.fromhex("AA C5 02 01 01 00 A1 60 05 AB")


def fields_of(sim: Sds011Simulator, n: int | None = None) -> list[dict[str, FieldValue]]:
    return [fields for _, fields in sim.emitted[:n]]


def read_decoded(port: serial.Serial, decoder: Sds011Decoder, n: int, within_s: float = 5.0) -> list[dict]:
    out: list[dict[str, FieldValue]] = []
    deadline = time.monotonic() + within_s
    while len(out) < n and time.monotonic() < deadline:
        out += decode(decoder, port.read(port.in_waiting or 1))
    return out


@pytest.fixture
def make_sim() -> Iterator[Any]:
    sims: list[Sds011Simulator] = []

    def make(**kwargs: Any) -> Sds011Simulator:
        sim = Sds011Simulator(**kwargs)
        sims.append(sim)
        return sim

    yield make
    for sim in sims:
        sim.stop()


# --- codec -------------------------------------------------------------------------------------


def test_known_frames_decode() -> None:
    decoder = Sds011Decoder()
    assert decode(decoder, DATASHEET_FRAME + HAND_FRAME) == [
        {"pm25": 123.6, "pm10": 261.8},
        {"pm25": 12.3, "pm10": 45.6},
    ]
    assert decoder.decoded == 2
    assert decoder.device_id == 0xA160
    assert not decoder.dropped


def test_encode_matches_hand_written_bytes() -> None:
    assert encode_data_frame(123.6, 261.8, 0xA160) == DATASHEET_FRAME
    assert encode_data_frame(12.3, 45.6, 0xA160) == HAND_FRAME
    assert encode_reply(2, b"\x01\x01", 0xA160) == DATASHEET_REPLY
    # Datasheet "set query mode" command to every sensor: cs = 02+01+01+FF+FF = 0x202 -> 02.
    assert encode_command(2, b"\x01\x01") == bytes.fromhex("AA B4 02 01 01" + " 00" * 10 + " FF FF 02 AB")


def test_encode_rounds_and_clamps() -> None:
    decoder = Sds011Decoder()
    frames = (
        encode_data_frame(12.34, 12.36, 1)
        + encode_data_frame(-5, 1e9, 1)
        + encode_data_frame(0, float("inf"), 1)
    )
    assert decode(decoder, frames) == [
        {"pm25": 12.3, "pm10": 12.4},
        {"pm25": 0.0, "pm10": 6553.5},
        {"pm25": 0.0, "pm10": 6553.5},
    ]
    with pytest.raises(ValueError):
        encode_data_frame(float("nan"), 1, 1)
    with pytest.raises(ValueError):
        encode_data_frame(1, 1, 0x10000)


def test_split_at_every_offset() -> None:
    stream = DATASHEET_FRAME + b"\x00\x13" + HAND_FRAME + DATASHEET_FRAME
    expected = decode(Sds011Decoder(), stream)
    assert len(expected) == 3
    for cut in range(len(stream) + 1):
        decoder = Sds011Decoder()
        assert decode(decoder, stream[:cut]) + decode(decoder, stream[cut:]) == expected, cut
    decoder = Sds011Decoder()
    assert [f for b in stream for f in decode(decoder, bytes([b]))] == expected


def test_dropped_counts_what_and_why() -> None:
    bad_checksum = bytearray(HAND_FRAME)
    bad_checksum[8] ^= 0xFF
    bad_tail = bytearray(HAND_FRAME)
    bad_tail[9] = 0x00
    stream = (
        b"\x01\x02\x03"  # 3 noise bytes
        + b"\xaa\x10"  # a header byte not followed by C0/C5: 2 noise bytes
        + bad_checksum  # 1 bad_checksum, its other 9 bytes are noise (none is AA)
        + HAND_FRAME
        + DATASHEET_REPLY  # 1 command_reply
        + bad_tail  # 1 bad_tail, 9 noise bytes
        + DATASHEET_FRAME
        + DATASHEET_FRAME[:7]  # a partial frame is kept, not dropped
    )
    decoder = Sds011Decoder()
    assert decode(decoder, stream) == [{"pm25": 12.3, "pm10": 45.6}, {"pm25": 123.6, "pm10": 261.8}]
    assert decoder.dropped == {
        "noise_bytes": 3 + 2 + 9 + 9,
        "bad_checksum": 1,
        "bad_tail": 1,
        "command_reply": 1,
    }
    assert decode(decoder, DATASHEET_FRAME[7:]) == [{"pm25": 123.6, "pm10": 261.8}]
    assert decoder.decoded == 3


def test_frame_inside_rejected_candidate_is_found() -> None:
    # A truncated frame whose 10-byte window swallows the start of the real one.
    for cut in range(1, FRAME_LEN):
        decoder = Sds011Decoder()
        assert decode(decoder, HAND_FRAME[:cut] + DATASHEET_FRAME) == [{"pm25": 123.6, "pm10": 261.8}], cut


raw_frames = st.tuples(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.integers(0, 0xFFFF))
# Noise without 0xAA cannot start a frame, so exactly the valid frames must come out.
clean_noise = st.binary(max_size=40).map(lambda b: b.replace(b"\xaa", b""))


@given(st.lists(st.tuples(clean_noise, raw_frames), max_size=20), clean_noise, st.data())
def test_frames_among_noise_all_decoded_in_order(
    items: list[tuple[bytes, tuple[int, int, int]]], trailing: bytes, data: st.DataObject
) -> None:
    stream = b"".join(noise + encode_data_frame(p25 / 10, p10 / 10, dev) for noise, (p25, p10, dev) in items)
    stream += trailing
    decoder = Sds011Decoder()
    out = [f for chunk in chunked(data, stream) for f in decode(decoder, chunk)]
    assert out == [{"pm25": p25 / 10, "pm10": p10 / 10} for _, (p25, p10, _) in items]
    assert decoder.decoded == len(items)
    assert decoder.dropped["noise_bytes"] == len(stream) - FRAME_LEN * len(items)
    assert set(decoder.dropped) <= {"noise_bytes"}


@given(st.binary(max_size=400), st.data())
def test_arbitrary_bytes_never_raise_and_chunking_does_not_matter(stream: bytes, data: st.DataObject) -> None:
    assert_chunking_does_not_matter(Sds011Decoder, stream, data, lambda d: d._buf, FRAME_LEN - 1)


@settings(max_examples=300)
@given(st.lists(st.tuples(st.integers(0, 9999), st.integers(0, 9999)), min_size=1, max_size=10))
def test_simulator_noise_never_forms_a_frame(values: list[tuple[int, int]]) -> None:
    # The pty tests compare decoded == emitted with noise on; that holds only if no corruption the
    # simulator inserts can combine with the real frame after it into a valid-looking frame.
    sim = Sds011Simulator(seed=len(values) * 7919 + values[0][0])
    try:
        for device_id in (sim.device_id, 0xAAC0, 0xC0AA, 0xAAAB, 0xAAC5, 0xABAA):
            stream = b""
            for p25, p10 in values:
                frame = encode_data_frame(p25 / 10, p10 / 10, device_id)
                stream += sim.noise_bytes(frame) + frame
            assert decode(Sds011Decoder(), stream) == [{"pm25": a / 10, "pm10": b / 10} for a, b in values]
    finally:
        sim.stop()


# --- simulator on a real pty --------------------------------------------------------------------


@pytest.mark.timeout(20)
@pytest.mark.parametrize("noise", [0.0, 0.4])
def test_pty_decoded_equals_emitted(make_sim: Any, noise: float) -> None:
    sim = make_sim(interval_s=0.02, seed=11, noise=noise)
    decoder = Sds011Decoder()
    # Open before start: pyserial flushes the input queue on open.
    with serial.Serial(sim.port, 9600, timeout=0.2) as port, sim:
        out = read_decoded(port, decoder, 40)
    assert len(out) == 40
    assert out == fields_of(sim, 40)
    assert decoder.device_id == sim.device_id
    for fields in out:
        assert 0 <= fields["pm25"] <= fields["pm10"] <= 999.9
    if noise:
        assert sim.noise_inserted > 0
        assert decoder.dropped["noise_bytes"] > 0
        assert set(decoder.dropped) <= {"noise_bytes", "bad_checksum", "bad_tail"}
    else:
        assert not decoder.dropped


def test_simulator_values_vary_slowly_and_repeat_with_seed(make_sim: Any) -> None:
    a, b = make_sim(seed=3), make_sim(seed=3)
    series = [a.next_frame()[1] for _ in range(500)]
    assert series == [b.next_frame()[1] for _ in range(500)]
    assert a.device_id == b.device_id
    pm25 = [float(f["pm25"]) for f in series]
    assert max(abs(x - y) for x, y in itertools.pairwise(pm25)) < 10
    assert len(set(pm25)) > 20
    assert all(f["pm10"] >= f["pm25"] for f in series)


@pytest.mark.timeout(20)
def test_host_commands_query_mode_and_replies(make_sim: Any) -> None:
    sim = make_sim(interval_s=0.05, seed=5, device_id=0xA160)
    decoder = Sds011Decoder()
    with serial.Serial(sim.port, 9600, timeout=0.2) as port, sim:
        assert len(read_decoded(port, decoder, 2)) == 2
        port.write(encode_command(2, b"\x01\x01"))  # switch to query mode
        deadline = time.monotonic() + 5
        while not decoder.dropped["command_reply"] and time.monotonic() < deadline:
            decode(decoder, port.read(port.in_waiting or 1))
        assert decoder.dropped["command_reply"] == 1
        quiet_from = len(sim.emitted)
        time.sleep(0.3)
        assert len(sim.emitted) == quiet_from  # no periodic frames in query mode
        port.reset_input_buffer()

        port.write(encode_command(7, device_id=0x1234))  # another sensor's id: ignored
        port.write(encode_command(7, device_id=0xA160))
        assert port.read(10) == encode_reply(7, bytes([18, 11, 16]), 0xA160)

        port.write(encode_command(4))  # query data
        assert decode(decoder, port.read(10)) == fields_of(sim)[-1:]
        assert len(sim.emitted) == quiet_from + 1


@pytest.mark.timeout(20)
def test_nobody_reading_overflows_without_hanging(make_sim: Any) -> None:
    sim = make_sim(interval_s=60.0, seed=2)
    attempts = 20_000  # far more than a pty buffers
    for _ in range(attempts):
        sim.emit_frame()
    assert sim.overflowed > 0
    assert len(sim.emitted) + sim.overflowed == attempts
    accepted = len(sim.emitted)
    # Raw os.open (unlike pyserial) does not flush, so everything buffered must still be whole frames.
    reader = os.open(sim.port, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        sim.start()
        decoder, out = Sds011Decoder(), []
        deadline = time.monotonic() + 10
        while len(out) < accepted and time.monotonic() < deadline:
            try:
                out += decode(decoder, os.read(reader, 65536))
            except BlockingIOError:
                time.sleep(0.01)
        assert out[:accepted] == fields_of(sim, accepted)
        assert not decoder.dropped
        started = time.monotonic()
        sim.stop()
        assert time.monotonic() - started < 1
    finally:
        os.close(reader)


# --- registry -----------------------------------------------------------------------------------


def test_registry_has_sds011() -> None:
    assert "sds011" in registry.names()
    family = registry.get("sds011")
    assert family is FAMILY
    assert family.serial == registry.SerialSettings(9600, 8, "N", 1)
    assert isinstance(family.new_decoder(), registry.FrameDecoder)
    sim = family.new_simulator(interval_s=0.5, seed=1, device_id=7)
    try:
        assert isinstance(sim, registry.Simulator)
        assert sim.port.startswith("/dev/")
    finally:
        sim.stop()


def test_fields_fit_the_measurement_dictionary() -> None:
    measurement = dictionary()[FAMILY.measurement]
    sim = Sds011Simulator(seed=1)
    try:
        assert set(sim.next_frame()[1]) <= set(measurement.fields)
    finally:
        sim.stop()


def test_unknown_family_names_the_known_ones() -> None:
    with pytest.raises(KeyError) as err:
        registry.get("sds01")
    message = str(err.value)
    assert message.startswith("unknown device family 'sds01'; known: ")
    assert "sds011" in message
    assert "did you mean 'sds011'?" in message
    with pytest.raises(KeyError, match=r"unknown device family 'modbus-xyz'; known: .*sds011"):
        registry.get("modbus-xyz")


def test_duplicate_registration_is_an_error() -> None:
    with pytest.raises(ValueError, match="already registered"):
        registry.register(FAMILY)
    assert registry.get("sds011") is FAMILY


def test_sample_config_names_this_family() -> None:
    folder = resources.files("firmware_bridge.sds011")
    sample = yaml.safe_load(folder.joinpath("sample.yaml").read_text(encoding="utf-8"))
    assert registry.get(sample["family"]) is FAMILY
    assert sample["port"].startswith("/dev/serial/by-id/")
    assert sample["poll_interval_s"] > 0 and sample["id"]
    assert "9600 8N1" in folder.joinpath("README.md").read_text(encoding="utf-8")
