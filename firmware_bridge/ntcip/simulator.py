"""An NTCIP 1202 signal controller as an SNMP agent (pysnmp command responder) on 127.0.0.1:<free UDP>.

The agent runs its own asyncio loop in a thread. It answers GET from the values of the latest
snapshot of the simulated intersection (signal_plan.py), so what a client reads is always a state
the controller really showed; ``emitted`` gets an entry each time those values change.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from typing import Any, Final

from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.entity import config, engine
from pysnmp.entity.rfc3413 import cmdrsp, context
from pysnmp.proto import rfc1902, rfc1905
from pysnmp.proto.api import v2c

from firmware_bridge.ntcip.oids import (
    MAX_PHASE_GROUPS,
    MAX_PHASES,
    SCALARS,
    STATUS_COLUMNS,
    STATUS_ENTRY,
    STATUS_GROUP_NUMBER_COLUMN,
    group_of,
    status_oid,
    timing_oid,
)
from firmware_bridge.ntcip.signal_plan import (
    ALL_RED_S,
    CONFLICTS,
    MIN_GREEN_S,
    PHASES,
    SIDE,
    YELLOW_S,
    Snapshot,
)
from firmware_bridge.ntcip.signal_plan import (
    FAULTS as PLAN_FAULTS,
)
from firmware_bridge.ntcip.sim_base import SignalSimulator

FAULTS: Final = PLAN_FAULTS
_READY_S = 5.0


def snapshot_values(snapshot: Snapshot, main_green_s: int, side_green_s: int) -> dict[str, int]:
    """OID → integer for everything the agent serves."""
    masks: dict[str, int] = dict.fromkeys(STATUS_COLUMNS, 0)
    for phase in PHASES:
        bit = 1 << group_of(phase)[1]
        colour = snapshot.colours[phase]
        if colour:
            masks[f"{colour}s"] |= bit
        if phase in snapshot.walks:
            masks["walks"] |= bit
        elif phase in snapshot.ped_clears:
            masks["ped_clears"] |= bit
        elif any(snapshot.colours.values()):  # the pedestrian heads are dark with the rest of the cabinet
            masks["dont_walks"] |= bit
        if phase in snapshot.vehicle_calls:
            masks["vehicle_calls"] |= bit
        if phase in snapshot.ped_calls:
            masks["ped_calls"] |= bit
    values = {status_oid(column, 1): masks[column] for column in STATUS_COLUMNS}
    values[f"{STATUS_ENTRY}.{STATUS_GROUP_NUMBER_COLUMN}.1"] = 1
    values[MAX_PHASES] = 8
    values[MAX_PHASE_GROUPS] = 1
    values[SCALARS["unitControlStatus"]] = snapshot.unit_control
    values[SCALARS["unitFlashStatus"]] = snapshot.flash_status
    values[SCALARS["shortAlarmStatus"]] = snapshot.short_alarm
    values[SCALARS["coordPatternStatus"]] = snapshot.plan
    for phase in range(1, 9):
        used = phase in PHASES
        green = (side_green_s if phase in SIDE else main_green_s) if used else 0
        values[timing_oid("min_green", phase)] = MIN_GREEN_S if used else 0
        values[timing_oid("max1", phase)] = green
        values[timing_oid("yellow_change", phase)] = YELLOW_S * 10 if used else 0  # tenths of a second
        values[timing_oid("red_clear", phase)] = ALL_RED_S * 10 if used else 0
    return values


class _Responder(cmdrsp.GetCommandResponder):
    """Answers GET from the simulator's current values instead of a MIB tree: the values change every
    tick, and a lookup in one dict is all a status poll needs."""

    def __init__(
        self, snmp_engine: engine.SnmpEngine, snmp_context: context.SnmpContext, sim: NtcipSimulator
    ):
        super().__init__(snmp_engine, snmp_context)
        self.sim = sim

    def handle_management_operation(
        self, snmpEngine: Any, stateReference: Any, contextName: Any, PDU: Any
    ) -> None:
        sim = self.sim
        sim.requests += 1
        if sim.fault == "dropout":
            self.release_state_information(stateReference)
            return
        if sim.noise and sim.noise_rng.random() < sim.noise:
            sim.noise_inserted += 1  # a lost UDP datagram: the client's retry must cover it
            self.release_state_information(stateReference)
            return
        values = sim.values
        answer = []
        for name, _ in v2c.apiPDU.get_varbinds(PDU):
            value = values.get(str(name))
            answer.append((name, rfc1905.noSuchObject if value is None else rfc1902.Integer32(value)))
        self.send_varbinds(snmpEngine, stateReference, 0, 0, answer)
        self.release_state_information(stateReference)


class NtcipSimulator(SignalSimulator):
    """Extra keywords: ``time_scale`` (simulated seconds per real second), ``start_s`` (simulated local
    time of day in seconds at start; default now in Vietnam), ``community`` (default "public").
    ``noise`` is the probability that a request is lost, as UDP datagrams are on a 4G link."""

    FAULTS = FAULTS
    CONFLICTS = CONFLICTS
    PHASES = PHASES

    def __init__(
        self,
        *,
        interval_s: float = 1.0,
        seed: int | None = None,
        noise: float = 0.0,
        time_scale: float = 1.0,
        start_s: float | None = None,
        community: str = "public",
    ) -> None:
        super().__init__(
            interval_s=interval_s, seed=seed, noise=noise, time_scale=time_scale, start_s=start_s
        )
        self.community = community
        self.requests = 0
        self.values: dict[str, int] = {}
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port = f"127.0.0.1:{self._sock.getsockname()[1]}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._agent: threading.Thread | None = None
        self._ready = threading.Event()
        self._agent_error: BaseException | None = None

    def options(self) -> dict[str, Any]:
        """The device ``options:`` that match this simulator."""
        return {
            "community": self.community,
            "phases": list(PHASES),
            "conflicts": [list(p) for p in CONFLICTS],
        }

    def publish(self, snapshot: Snapshot) -> None:
        plan = self.controller.plan
        values = snapshot_values(snapshot, plan.main_green_s, plan.side_green_s)
        if values != self.values:
            # Recorded before it is served, so every value a client can get is in emitted.
            self.record(time.time_ns(), snapshot)
            self.values = values

    def open(self) -> None:
        self.publish(self.controller.snapshot())  # something to answer from the first request on
        self._agent = threading.Thread(target=self._serve, name=f"ntcip-agent:{self.port}", daemon=True)
        self._agent.start()
        if not self._ready.wait(_READY_S) or self._agent_error is not None:
            raise RuntimeError(f"SNMP agent on {self.port} did not start: {self._agent_error}")

    def close(self) -> None:
        if self._loop is not None and self._agent is not None and self._agent.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._agent.join(timeout=2.0)
        with contextlib.suppress(OSError):
            self._sock.close()

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        snmp_engine = engine.SnmpEngine()
        try:
            transport = udp.UdpAsyncioTransport(loop=loop).open_server_mode(sock=self._sock)
            config.add_transport(snmp_engine, udp.DOMAIN_NAME, transport)
            config.add_v1_system(snmp_engine, "ioc-sim", self.community)  # v1 and v2c
            _Responder(snmp_engine, context.SnmpContext(snmp_engine), self)
            self._loop = loop
        except BaseException as exc:  # reported by open(), in the caller's thread
            self._agent_error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            snmp_engine.close_dispatcher()
            # Let the dispatcher's cancelled timer task finish before the loop goes away.
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()
