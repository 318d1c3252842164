"""Modbus over TCP for the simulator: pymodbus's own server, in its own thread and event loop.

Modbus TCP (MBAP framing) as an Ethernet analyser or gateway speaks it, or RTU frames over TCP as a
serial-to-Ethernet server passes them through.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from functools import partial

from pymodbus.constants import ExcCodes
from pymodbus.framer import FramerType
from pymodbus.pdu import ModbusPDU
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from firmware_bridge.modbus.regmap import plan_reads
from firmware_bridge.modbus.sim_bus import SimulatedBus, SimulatedUnit

_START_TIMEOUT_S = 5.0
_MBAP_LEN = 7  # transaction id, protocol id, length, unit id


class TcpServer:
    """Serves every unit of ``bus`` on 127.0.0.1:<free port>; ``port`` is known after ``start()``."""

    def __init__(self, bus: SimulatedBus, framer: FramerType = FramerType.SOCKET) -> None:
        self.bus = bus
        self.framer = framer
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: ModbusTcpServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="modbus-sim-tcp", daemon=True)
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT_S) or self._error is not None:
            self.stop()
            raise RuntimeError(f"Modbus TCP simulator did not start: {self._error}")

    def stop(self) -> None:
        loop, server, thread = self._loop, self._server, self._thread
        if loop is not None and server is not None and loop.is_running():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(server.shutdown(), loop).result(timeout=_START_TIMEOUT_S)
        if thread is not None:
            thread.join(timeout=_START_TIMEOUT_S)
        if loop is not None and not loop.is_running() and not loop.is_closed():
            loop.close()
        self._server = None

    def _run(self) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start(); the thread must not die silently
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        devices = [self._device(unit) for unit in self.bus.units.values()]
        # Unit 0 catches ids no simulated slave has; its replies are dropped in _trace_packet, so
        # an absent slave stays silent as on a real bus (pymodbus would log a traceback otherwise).
        devices.append(SimDevice(id=0, simdata=[SimData(0, datatype=DataType.REGISTERS)]))
        self._server = ModbusTcpServer(
            devices,
            framer=self.framer,
            address=("127.0.0.1", 0),
            trace_packet=self._trace_packet,
            trace_pdu=self._trace_pdu,
        )
        await self._server.serve_forever(background=True)
        transport = self._server.transport
        self.port = transport.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self._ready.set()
        await self._server.serving

    def _device(self, unit: SimulatedUnit) -> SimDevice:
        tables: dict[str, list[SimData]] = {"holding": [], "input": []}
        for block in plan_reads(unit.map.registers, limit=0x10000):
            tables[block.function].append(
                SimData(block.address, count=block.count, datatype=DataType.REGISTERS, readonly=True)
            )
        bits = [SimData(0, values=False, datatype=DataType.BITS)]
        # Separate tables as on a real sonde: holding 0x0000 and input 0x0000 are different registers.
        simdata = (
            bits,
            list(bits),
            tables["holding"] or [SimData(0, datatype=DataType.INVALID)],
            tables["input"] or [SimData(0, datatype=DataType.INVALID)],
        )
        return SimDevice(id=unit.unit, simdata=simdata, action=partial(self._action, unit.unit))

    async def _action(
        self,
        unit: int,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        _set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        """pymodbus asks before it answers: fill in the unit's current words, or refuse."""
        answer = self.bus.read(unit, function_code, address, count)
        if answer is None:
            return None  # dropout: the reply is dropped in _trace_packet
        if isinstance(answer, ExcCodes):
            return answer
        registers[address - start_address : address - start_address + count] = answer
        return None

    def _trace_pdu(self, sending: bool, pdu: ModbusPDU) -> ModbusPDU:
        if not sending:
            self.bus.log("request", pdu.dev_id, pdu.function_code, pdu.address, pdu.count)
        return pdu

    def _trace_packet(self, sending: bool, data: bytes) -> bytes:
        rtu = self.framer == FramerType.RTU
        if not sending or len(data) <= (2 if rtu else _MBAP_LEN):
            return data
        unit, function = (data[0], data[1]) if rtu else (data[6], data[7])
        if unit not in self.bus.units or self.bus.fault(unit) == "dropout":
            return b""  # an empty write sends nothing: the client times out
        if self.bus.garble(unit):
            self.bus.log("reply", unit, function & 0x7F, detail="garbage")
            if rtu:
                return data[:-1] + bytes([data[-1] ^ 0xFF])  # a bad CRC, as line noise makes it
            # Modbus TCP has no checksum: noise shows as a PDU the client cannot decode. The header
            # stays intact so the stream stays in step, as TCP would deliver it.
            rng = self.bus.noise_rng
            return (
                data[:_MBAP_LEN]
                + bytes([rng.randrange(0x41, 0x80)])
                + rng.randbytes(len(data) - _MBAP_LEN - 1)
            )
        self.bus.log("reply", unit, function & 0x7F, detail="exception" if function & 0x80 else "ok")
        return data
