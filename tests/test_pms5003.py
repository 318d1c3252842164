"""PMS5003 codec, simulator on a real pty, host commands, faults and registration."""

from __future__ import annotations

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
from firmware_bridge.pms5003 import FAMILY
from firmware_bridge.pms5003.codec import (
    CMD_MODE,
    CMD_READ,
    CMD_SLEEP,
    FRAME_LEN,
    PARTICLE_FIELDS,
    Pms5003Decoder,
    encode_command,
    encode_frame,
    encode_reply,
)
from firmware_bridge.pms5003.simulator import FAULTS, Pms5003Simulator
from ioc.measurements import check_reading
from ioc.reading import FieldValue, Reading
from tests.codec_checks import assert_chunking_does_not_matter, chunked, decode

# By hand: CF=1 12/18/21, atmospheric 12/18/21 µg/m³, counts 2100/600/120/8/2/1, reserved 0x9100.
# Sum of bytes 0..29: 42+4D+00+1C = AB; 2 × (0C+12+15) = 66; 08+34 + 02+58 + 78 + 08 + 02 + 01 = 111;
# 91 → AB+66+111+91 = 0x2BB.
HAND_FRAME = bytes.fromhex(
    "42 4D 00 1C 00 0C 00 12 00 15 00 0C 00 12 00 15 08 34 02 58 00 78 00 08 00 02 00 01 91 00 02 BB"
)
HAND_FIELDS = {
    "pm1": 12.0,
    "pm25": 18.0,
    "pm10": 21.0,
    "particles03": 2100,
    "particles05": 600,
    "particles10": 120,
    "particles25": 8,
    "particles50": 2,
    "particles100": 1,
}
HAND_WORDS = (12, 18, 21, 12, 18, 21, 2100, 600, 120, 8, 2, 1, 0x9100)
# A polluted morning: CF=1 differs from atmospheric, which is what must come out (pm25 = 0x96 = 150).
# Sum: 8F+1C = AB; 00+B4 + 01+0E + 01+40 = 104; 00+64 + 00+96 + 00+C8 = 1C2; 4E+20 + 13+88 + 03+E8
# + 00+64 + 00+0A + 00+03 = 265; 91 → AB+104+1C2+265+91 = 0x667.
POLLUTED_FRAME = bytes.fromhex(
    "42 4D 00 1C 00 B4 01 0E 01 40 00 64 00 96 00 C8 4E 20 13 88 03 E8 00 64 00 0A 00 03 91 00 06 67"
)
# The acknowledgement of "passive mode" as the datasheet shows it: 42+4D+00+04+E1+00 = 0x174.
PASSIVE_REPLY = bytes.fromhex("42 4D 00 04 E1 00 01 74")


def fields_of(sim: Pms5003Simulator, n: int | None = None) -> list[dict[str, FieldValue]]:
    return [fields for _, fields in sim.emitted[:n]]


def read_decoded(port: serial.Serial, decoder: Pms5003Decoder, n: int, within_s: float = 5.0) -> list[dict]:
    out: list[dict[str, FieldValue]] = []
    deadline = time.monotonic() + within_s
    while len(out) < n and time.monotonic() < deadline:
        out += decode(decoder, port.read(port.in_waiting or 1))
    return out


@pytest.fixture
def make_sim() -> Iterator[Any]:
    sims: list[Pms5003Simulator] = []

    def make(**kwargs: Any) -> Pms5003Simulator:
        kwargs.setdefault("start_hour", 8.0)
        sim = Pms5003Simulator(**kwargs)
        sims.append(sim)
        return sim

    yield make
    for sim in sims:
        sim.stop()


# --- codec -------------------------------------------------------------------------------------


def test_hand_written_frames_decode_to_atmospheric_values() -> None:
    decoder = Pms5003Decoder()
    polluted = dict(zip(PARTICLE_FIELDS, (20000, 5000, 1000, 100, 10, 3), strict=True))
    assert decode(decoder, HAND_FRAME + POLLUTED_FRAME) == [
        HAND_FIELDS,
        {"pm1": 100.0, "pm25": 150.0, "pm10": 200.0, **polluted},
    ]
    assert decoder.decoded == 2
    assert (decoder.version, decoder.error_code) == (0x91, 0)
    assert not decoder.dropped


def test_encode_matches_hand_written_bytes() -> None:
    assert encode_frame(HAND_WORDS) == HAND_FRAME
    assert encode_reply(CMD_MODE, 0) == PASSIVE_REPLY
    # Datasheet host commands; cs = 42+4D+cmd+dataH+dataL.
    assert encode_command(CMD_MODE, 0) == bytes.fromhex("42 4D E1 00 00 01 70")
    assert encode_command(CMD_MODE, 1) == bytes.fromhex("42 4D E1 00 01 01 71")
    assert encode_command(CMD_READ) == bytes.fromhex("42 4D E2 00 00 01 71")
    assert encode_command(CMD_SLEEP, 0) == bytes.fromhex("42 4D E4 00 00 01 73")
    assert encode_command(CMD_SLEEP, 1) == bytes.fromhex("42 4D E4 00 01 01 74")
    with pytest.raises(ValueError):
        encode_frame(HAND_WORDS[:12])
    with pytest.raises(ValueError):
        encode_frame((*HAND_WORDS[:12], 0x10000))


def test_split_at_every_offset() -> None:
    stream = HAND_FRAME + b"\x00\x42\x13" + POLLUTED_FRAME + PASSIVE_REPLY + HAND_FRAME
    expected = decode(Pms5003Decoder(), stream)
    assert len(expected) == 3
    for cut in range(len(stream) + 1):
        decoder = Pms5003Decoder()
        assert decode(decoder, stream[:cut]) + decode(decoder, stream[cut:]) == expected, cut
    decoder = Pms5003Decoder()
    assert [f for b in stream for f in decode(decoder, bytes([b]))] == expected


def test_dropped_counts_what_and_why() -> None:
    bad_checksum = bytearray(HAND_FRAME)
    bad_checksum[-1] ^= 0x01
    pms3003 = bytes.fromhex("42 4D 00 14")  # a PMS3003 header: 24-byte frames, length 20
    stream = (
        b"\x01\x02\x03"  # 3 noise bytes
        + b"\x42\x10"  # a 42 not followed by 4D: 2 noise bytes
        + pms3003  # 1 bad_length, then 3 noise bytes
        + bad_checksum  # 1 bad_checksum, its other 31 bytes are noise (no 42 inside)
        + HAND_FRAME
        + PASSIVE_REPLY  # 1 command_reply
        + POLLUTED_FRAME[:20]  # a partial frame is kept, not dropped
    )
    decoder = Pms5003Decoder()
    assert decode(decoder, stream) == [HAND_FIELDS]
    assert decoder.dropped == {
        "noise_bytes": 3 + 2 + 3 + 31,
        "bad_length": 1,
        "bad_checksum": 1,
        "command_reply": 1,
    }
    assert len(decode(decoder, POLLUTED_FRAME[20:])) == 1
    assert decoder.decoded == 2


def test_frame_inside_rejected_candidate_is_found() -> None:
    for cut in range(1, FRAME_LEN):
        decoder = Pms5003Decoder()
        assert decode(decoder, POLLUTED_FRAME[:cut] + HAND_FRAME) == [HAND_FIELDS], cut


words = st.lists(st.integers(0, 0xFFFF), min_size=13, max_size=13)
# Noise without 0x42 cannot start a frame, so exactly the valid frames must come out.
clean_noise = st.binary(max_size=40).map(lambda b: b.replace(b"\x42", b""))


def fields_for(ws: list[int]) -> dict[str, FieldValue]:
    return {"pm1": float(ws[3]), "pm25": float(ws[4]), "pm10": float(ws[5])} | dict(
        zip(PARTICLE_FIELDS, ws[6:12], strict=True)
    )


@given(st.lists(st.tuples(clean_noise, words), max_size=15), clean_noise, st.data())
def test_frames_among_noise_all_decoded_in_order(
    items: list[tuple[bytes, list[int]]], trailing: bytes, data: st.DataObject
) -> None:
    stream = b"".join(noise + encode_frame(ws) for noise, ws in items) + trailing
    decoder = Pms5003Decoder()
    out = [f for chunk in chunked(data, stream) for f in decode(decoder, chunk)]
    assert out == [fields_for(ws) for _, ws in items]
    assert decoder.decoded == len(items)
    assert decoder.dropped["noise_bytes"] == len(stream) - FRAME_LEN * len(items)
    assert set(decoder.dropped) <= {"noise_bytes"}


@given(st.binary(max_size=400), st.data())
def test_arbitrary_bytes_never_raise_and_chunking_does_not_matter(stream: bytes, data: st.DataObject) -> None:
    assert_chunking_does_not_matter(Pms5003Decoder, stream, data, lambda d: d._buf, FRAME_LEN - 1)


@settings(max_examples=60)
@given(st.integers(0, 2**32), st.floats(1.0, 400.0))
def test_simulator_noise_never_forms_a_frame(seed: int, level: float) -> None:
    # decoded == emitted with noise on holds only if no corruption the simulator inserts can combine
    # with the real frame after it into a valid-looking frame.
    sim = Pms5003Simulator(seed=seed, pm25_level=level, start_hour=seed % 24)
    try:
        frames = [sim.next_frame() for _ in range(30)]
        stream = b"".join(sim.noise_bytes(frame) + frame for frame, _ in frames)
        assert decode(Pms5003Decoder(), stream) == [fields for _, fields in frames]
    finally:
        sim.stop()


# --- simulator on a real pty --------------------------------------------------------------------


def open_port(sim: Pms5003Simulator) -> serial.Serial:
    line = FAMILY.serial or registry.SerialSettings()
    return serial.serial_for_url(
        sim.port,
        line.baudrate,
        bytesize=line.bytesize,
        parity=line.parity,
        stopbits=line.stopbits,
        timeout=0.2,
    )


@pytest.mark.timeout(20)
@pytest.mark.parametrize("noise", [0.0, 0.4])
def test_pty_decoded_equals_emitted(make_sim: Any, noise: float) -> None:
    sim = make_sim(interval_s=0.01, seed=11, noise=noise)
    decoder = Pms5003Decoder()
    # Open before start: pyserial flushes the input queue on open.
    with open_port(sim) as port, sim:
        out = read_decoded(port, decoder, 40)
    assert len(out) == 40
    assert out == fields_of(sim, 40)
    for fields in out:
        assert 0 <= fields["pm1"] <= fields["pm25"] <= fields["pm10"] <= 1000
        counts = [fields[name] for name in PARTICLE_FIELDS]
        assert counts == sorted(counts, reverse=True)  # cumulative: > 0.3 µm includes > 0.5 µm …
    if noise:
        assert sim.noise_inserted > 0
        assert decoder.dropped["noise_bytes"] > 0
        assert set(decoder.dropped) <= {"noise_bytes", "bad_checksum", "bad_length"}
    else:
        assert not decoder.dropped


@pytest.mark.timeout(20)
def test_passive_mode_read_and_sleep(make_sim: Any) -> None:
    sim = make_sim(interval_s=0.05, seed=5)
    decoder = Pms5003Decoder()
    with open_port(sim) as port, sim:
        assert len(read_decoded(port, decoder, 2)) == 2
        port.write(encode_command(CMD_MODE, 0))  # passive mode
        deadline = time.monotonic() + 5
        while not decoder.dropped["command_reply"] and time.monotonic() < deadline:
            decode(decoder, port.read(port.in_waiting or 1))
        assert decoder.dropped["command_reply"] == 1
        assert sim.passive
        quiet_from = len(sim.emitted)
        time.sleep(0.3)
        assert len(sim.emitted) == quiet_from  # no periodic frames in passive mode
        port.reset_input_buffer()

        port.write(encode_command(CMD_READ)[:3])  # any chunking of a command works
        port.write(encode_command(CMD_READ)[3:])
        assert decode(decoder, port.read(FRAME_LEN)) == fields_of(sim)[-1:]
        assert len(sim.emitted) == quiet_from + 1

        port.write(encode_command(CMD_SLEEP, 0))
        assert port.read(8) == encode_reply(CMD_SLEEP, 0)
        port.write(encode_command(CMD_READ))  # asleep: not answered
        port.write(encode_command(CMD_SLEEP, 1) + encode_command(CMD_MODE, 1))  # wake, active again
        assert port.read(8) == encode_reply(CMD_MODE, 1)
        assert len(read_decoded(port, decoder, 2)) == 2
        assert not sim.sleeping and not sim.passive


@pytest.mark.timeout(20)
def test_dropout_and_garbage_faults(make_sim: Any) -> None:
    sim = make_sim(interval_s=60.0, seed=9)  # not started: frames go out only when the test says so
    decoder = Pms5003Decoder()
    with open_port(sim) as port:
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
    assert out == fields_of(sim)
    assert len(out) == 6
    assert sim.garbage_sent == 3
    assert decoder.dropped["noise_bytes"] == 3 * FRAME_LEN  # garbage never carries a 42
    with pytest.raises(ValueError, match="unknown fault 'stuck'"):
        sim.set_fault("stuck")
    assert FAULTS == ("dropout", "garbage")


def test_simulator_repeats_with_seed_and_follows_the_day(make_sim: Any) -> None:
    a, b = make_sim(seed=3, start_hour=19.0), make_sim(seed=3, start_hour=19.0)
    series = [a.next_frame()[1] for _ in range(300)]
    assert series == [b.next_frame()[1] for _ in range(300)]
    afternoon = make_sim(seed=3, start_hour=14.0)
    quiet = [afternoon.next_frame()[1] for _ in range(300)]
    mean = sum(float(f["pm25"]) for f in series[100:]) / 200
    assert mean > sum(float(f["pm25"]) for f in quiet[100:]) / 200  # evening rush vs early afternoon
    assert len({f["pm25"] for f in series}) > 10


# --- registry -----------------------------------------------------------------------------------


def test_registered_family() -> None:
    family = registry.get("pms5003")
    assert family is FAMILY
    assert family.measurement == "air_quality"
    assert family.serial == registry.SerialSettings(9600, 8, "N", 1)
    assert isinstance(family.new_decoder(), registry.FrameDecoder)
    sim = family.new_simulator(interval_s=0.5, seed=1)
    try:
        assert isinstance(sim, registry.Simulator)
        assert sim.port.startswith("/dev/")
    finally:
        sim.stop()


def test_fields_fit_the_measurement_dictionary(make_sim: Any) -> None:
    sim = make_sim(seed=1, pm25_level=400.0)
    tags = {"city": "bmt", "site": "s", "gateway": "g", "device": "d"}
    for _ in range(200):
        reading = Reading(FAMILY.measurement, tags, sim.next_frame()[1], time.time_ns())
        assert check_reading(reading) is None


def test_sample_config_names_this_family() -> None:
    folder = resources.files("firmware_bridge.pms5003")
    sample = yaml.safe_load(folder.joinpath("sample.yaml").read_text(encoding="utf-8"))
    assert registry.get(sample["family"]) is FAMILY
    assert sample["port"].startswith("/dev/serial/by-id/")
    assert sample["poll_interval_s"] > 0 and sample["id"]
    assert "9600 8N1" in folder.joinpath("README.md").read_text(encoding="utf-8")
