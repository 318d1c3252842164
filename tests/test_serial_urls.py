"""Serial devices behind a serial-to-Ethernet server: the port is a pyserial URL (socket://)."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from edge.devices import DeviceRunner
from firmware_bridge import registry
from firmware_bridge.registry import DeviceContext
from firmware_bridge.sds011.codec import encode_data_frame
from ioc.reading import Reading
from tests.pipeline import wait_for

pytestmark = pytest.mark.timeout(30)


def test_sds011_through_a_serial_server_url(tmp_path: Path) -> None:
    frames = [(12.3 + i, 40.0 + i) for i in range(5)]
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def serial_server() -> None:  # what a Moxa/USR serial server does: the line's bytes over TCP
        conn, _ = server.accept()
        with conn:
            conn.sendall(b"\x00\x13" + b"".join(encode_data_frame(p25, p10, 0xA160) for p25, p10 in frames))
            threading.Event().wait(2)

    threading.Thread(target=serial_server, daemon=True).start()
    got: list[Reading] = []
    ctx = DeviceContext("pm01", f"socket://127.0.0.1:{port}", None, 1.0, {}, tmp_path)
    runner = DeviceRunner(
        registry.get("sds011"), ctx, {"city": "c", "site": "s", "gateway": "g", "device": "pm01"}, got.append
    ).start()
    try:
        wait_for(lambda: len(got) == len(frames), 10, "the frames through socket://")
    finally:
        runner.stop()
        server.close()
    assert [(r.fields["pm25"], r.fields["pm10"]) for r in got] == frames
    assert runner.status.dropped["noise_bytes"] == 2
