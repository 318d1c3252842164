"""Modbus RTU for the simulator: every unit of a bus answering on one pty, as on one RS-485 pair.

pymodbus's serial server opens its port by path; a pty's master side has none, so this uses the
shared ``PtySimulator`` base for the pty and pymodbus for everything Modbus: its RTU framer finds
request frames and checks their CRC, its PDU classes build the replies, and its framer adds the CRC.
"""

from __future__ import annotations

import time

from pymodbus.constants import ExcCodes
from pymodbus.exceptions import ModbusIOException
from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU, ExceptionResponse, ModbusPDU
from pymodbus.pdu.register_message import ReadHoldingRegistersResponse, ReadInputRegistersResponse

from firmware_bridge.modbus.sim_bus import SimulatedBus
from firmware_bridge.pty_simulator import PtySimulator
from ioc.reading import FieldValue

# RTU frames are delimited by line silence; bytes older than this start over (a host that wrote half
# a frame and gave up must not corrupt the next request).
_FRAME_GAP_S = 0.05
_RESPONSES = {3: ReadHoldingRegistersResponse, 4: ReadInputRegistersResponse}


class RtuPtyServer(PtySimulator):
    """Answers requests on ``port`` (the pty slave path); never sends anything unasked."""

    def __init__(self, bus: SimulatedBus) -> None:
        super().__init__()
        self.paused = True  # the base's periodic frames: a Modbus slave has none
        self.bus = bus
        self._framer = FramerRTU(DecodePDU(is_server=True))
        self._buffer = b""
        self._last_rx = 0.0

    def next_frame(self) -> tuple[bytes, dict[str, FieldValue]]:
        # Never called: ``paused`` stays set, a Modbus slave speaks only when asked.
        raise RuntimeError("a Modbus slave only answers requests")

    def on_host_bytes(self, data: bytes) -> bytes | None:
        now = time.monotonic()
        if now - self._last_rx > _FRAME_GAP_S:
            self._buffer = b""
        self._last_rx = now
        self._buffer += data
        replies = bytearray()
        while self._buffer:
            try:
                used, request = self._framer.handleFrame(self._buffer, 0, 0)
            except ModbusIOException:
                # A frame with a good CRC but a function pymodbus cannot decode: skip what is buffered.
                self._buffer = b""
                break
            self._buffer = self._buffer[used:]
            if request is None:
                break
            replies += self._answer(request)
        return bytes(replies) or None

    def _answer(self, request: ModbusPDU) -> bytes:
        unit, function = request.dev_id, request.function_code
        self.bus.log("request", unit, function, request.address, request.count)
        if unit == 0:
            return b""  # broadcast: slaves never answer it
        answer = self.bus.read(unit, function, request.address, request.count)
        if answer is None:
            return b""
        response: ModbusPDU
        if isinstance(answer, ExcCodes):
            response = ExceptionResponse(function, answer, device_id=unit)
        else:
            response = _RESPONSES[function](registers=answer, dev_id=unit)
        frame = self._framer.buildFrame(response)
        if self.bus.garble(unit):
            # Line noise: the frame arrives with a bad CRC and the host must discard it.
            frame = frame[:-1] + bytes([frame[-1] ^ 0xFF])
            self.bus.log("reply", unit, function, detail="garbage")
        else:
            detail = "exception" if isinstance(answer, ExcCodes) else "ok"
            self.bus.log("reply", unit, function, detail=detail)
        return frame
