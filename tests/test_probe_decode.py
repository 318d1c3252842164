"""Technician commands against every stream family's simulator on a real pty: `ioc probe` names
the device, `ioc decode` turns a raw capture back into exactly the readings the device sent."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import serial

from firmware_bridge import registry
from ioc.measurements import dictionary

pytestmark = pytest.mark.timeout(120)

STREAM_FAMILIES = [
    n
    for n in registry.names()
    if registry.get(n).new_decoder is not None and registry.get(n).transport == "serial"
]


def ioc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ioc", *args], capture_output=True, text=True, timeout=90)


@pytest.mark.parametrize("family", STREAM_FAMILIES)
def test_probe_names_the_family_on_the_port(family: str) -> None:
    sim = registry.get(family).new_simulator(interval_s=0.1, seed=3)
    with sim:
        result = ioc("probe", sim.port, "--timeout", "1.5")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Found {family} at "), result.stdout


def test_probe_says_when_nothing_answers(tmp_path: Path) -> None:
    import os
    import pty

    master, slave = pty.openpty()
    try:
        result = ioc("probe", os.ttyname(slave), "--timeout", "0.3")
    finally:
        os.close(master)
        os.close(slave)
    assert result.returncode == 1
    assert "No known device answered" in result.stderr and "heard nothing" in result.stderr
    missing = ioc("probe", str(tmp_path / "ttyUSB9"))
    assert missing.returncode == 2 and "cannot open" in missing.stderr


@pytest.mark.parametrize("family", STREAM_FAMILIES)
def test_decode_turns_a_capture_back_into_the_readings_sent(family: str, tmp_path: Path) -> None:
    spec = registry.get(family)
    sim = spec.new_simulator(interval_s=0.02, seed=5, noise=0.2)
    capture = tmp_path / f"{family}.bin"
    with serial.Serial(sim.port, timeout=0.1) as port, sim:
        data = bytearray()
        deadline = time.monotonic() + 20
        while len(sim.emitted) < 40 and time.monotonic() < deadline:
            data += port.read(port.in_waiting or 1)
        settle = time.monotonic() + 0.3
        while time.monotonic() < settle:
            data += port.read(port.in_waiting or 1)
        emitted = [fields for _t, fields in sim.emitted]
    capture.write_bytes(bytes(data))
    result = ioc("decode", "--protocol", family, str(capture))
    assert result.returncode == 0, result.stderr
    decoded = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(decoded) >= 40
    assert [d["fields"] for d in decoded] == emitted[: len(decoded)]
    for d in decoded:
        assert set(d["fields"]) <= set(dictionary()[d["measurement"]].fields)
    assert "readings; dropped:" in result.stderr


def test_decode_rejects_unknown_protocol_with_suggestion(tmp_path: Path) -> None:
    capture = tmp_path / "x.bin"
    capture.write_bytes(b"\x00")
    result = ioc("decode", "--protocol", "sds01", str(capture))
    assert result.returncode == 2 and "did you mean 'sds011'" in " ".join(result.stderr.split())


def test_decode_reads_a_station_file_with_status_as_quality(tmp_path: Path) -> None:
    station_file = tmp_path / "LS_KCN_NUOC01_20260115083000.txt"
    station_file.write_text(
        "pH 7.25 pH 20260115083000 00\nCOD 18,5 mg/L 20260115083000 01\nBogus 1 x 20260115083000 00\n"
    )
    result = ioc("decode", "--protocol", "tt10", str(station_file))
    assert result.returncode == 0, result.stderr
    decoded = [json.loads(line) for line in result.stdout.splitlines()]
    by_quality = {d["quality"]: d["fields"] for d in decoded}
    assert by_quality == {"good": {"pH": 7.25}, "calibrating": {"cod": 18.5}}
    assert all(d["measurement"] == "water_quality" and d["time_ns"] for d in decoded)
    assert "dropped:" in result.stderr and "1 readings" not in result.stderr


def test_probe_asks_a_silent_modbus_rtu_slave() -> None:
    sim = registry.get("modbus-water").new_simulator(interval_s=0.5, seed=2, units=[3], transport="rtu")
    with sim:
        result = ioc("probe", sim.port, "--timeout", "0.5")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Found modbus-water at 9600 8N1: Modbus RTU slave(s): unit 3"), (
        result.stdout
    )
