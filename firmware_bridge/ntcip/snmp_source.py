"""Polls an NTCIP 1202 controller with one SNMP GET per interval (pysnmp 7 asyncio high-level API)."""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    Udp6TransportTarget,
    UdpTransportTarget,
    get_cmd,
)
from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject

from firmware_bridge.ntcip.decode import decode_ntcip
from firmware_bridge.ntcip.oids import SCALARS, poll_table
from firmware_bridge.ntcip.options import NtcipOptions
from firmware_bridge.registry import DeviceContext, Sample

log = logging.getLogger(__name__)
DEFAULT_PORT = 161
_STOP_POLL_S = 0.05  # how often a wait between polls looks at the stop event
_EXCEPTIONS = (NoSuchObject, NoSuchInstance, EndOfMibView)


class NtcipError(RuntimeError):
    """The controller did not answer, or answered without an object the decoder needs."""


def parse_address(port: str | None) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port`` → (host, port); UDP 161 by default."""
    if not port:
        raise ValueError("ntcip1202 needs the controller address as port: host or host:port")
    if port.startswith("["):
        host, _, rest = port[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else DEFAULT_PORT
    host, sep, number = port.rpartition(":")
    if not sep:
        return port, DEFAULT_PORT
    if not number.isdigit() or not 0 < int(number) < 65536:
        raise ValueError(f"ntcip1202 port {port!r}: expected host:port with a UDP port 1..65535")
    return host, int(number)


class NtcipSource:
    """One controller. ``dropped`` counts poll values it could not use (``bad_value``) and optional
    objects the controller does not have (``unsupported_<name>``, counted once, then no longer polled)."""

    def __init__(self, ctx: DeviceContext) -> None:
        options = ctx.options
        self.options = (
            options if isinstance(options, NtcipOptions) else NtcipOptions.model_validate(options or {})
        )
        self.host, self.udp_port = parse_address(ctx.port)
        self.address = f"{self.host}:{self.udp_port}"
        self.device_id = ctx.device_id
        self.interval_s = ctx.poll_interval_s
        self.dropped: collections.Counter[str] = collections.Counter()
        self.polls = 0
        self._table = poll_table(self.options.phases, self.options.oids)

    def run(self, emit: Callable[[Sample], None], stop: threading.Event) -> None:
        asyncio.run(self._run(emit, stop))

    async def _run(self, emit: Callable[[Sample], None], stop: threading.Event) -> None:
        # The engine owns a UDP socket and timers bound to this loop; it lives exactly as long as run().
        engine = SnmpEngine()
        try:
            target_type = Udp6TransportTarget if ":" in self.host else UdpTransportTarget
            target = await target_type.create(
                (self.host, self.udp_port), timeout=self.options.timeout_s, retries=self.options.retries
            )
            auth = CommunityData(self.options.community, mpModel=0 if self.options.snmp_version == "1" else 1)
            loop = asyncio.get_running_loop()
            next_due = loop.time()
            while not stop.is_set():
                values = await self._poll(engine, auth, target)
                now_ns = time.time_ns()
                self.polls += 1
                if values is not None:
                    for sample in decode_ntcip(values, self.options.phases, self.options.conflicts, now_ns):
                        emit(sample)
                next_due += self.interval_s
                if next_due < loop.time():
                    next_due = loop.time()  # after a slow poll, keep the cadence rather than burst
                while not stop.is_set() and (wait := next_due - loop.time()) > 0:
                    await asyncio.sleep(min(wait, _STOP_POLL_S))
        finally:
            engine.close_dispatcher()

    async def _poll(self, engine: SnmpEngine, auth: CommunityData, target: Any) -> dict[str, int] | None:
        while True:
            keys = list(self._table)
            binds = [ObjectType(ObjectIdentity(self._table[k])) for k in keys]
            error_indication, error_status, error_index, var_binds = await get_cmd(
                engine, auth, target, ContextData(), *binds, lookupMib=False
            )
            if error_indication:
                tries = self.options.retries + 1
                raise NtcipError(
                    f"controller {self.address} ({self.device_id}): {error_indication} "
                    f"({tries} tr{'y' if tries == 1 else 'ies'} of {self.options.timeout_s:g} s, "
                    f"SNMP v{self.options.snmp_version}; check address, community and that UDP reaches it)"
                )
            if error_status:
                # SNMPv1 fails the whole GET on one unknown object (noSuchName): drop it if optional.
                key = keys[int(error_index) - 1] if 0 < int(error_index) <= len(keys) else None
                if key in SCALARS and str(error_status.prettyPrint()) == "noSuchName":
                    self._unsupported(key)
                    continue
                where = f" at {key} ({self._table[key]})" if key else ""
                raise NtcipError(f"controller {self.address}: SNMP error {error_status.prettyPrint()}{where}")
            return self._values(keys, var_binds)

    def _values(self, keys: list[str], var_binds: Any) -> dict[str, int] | None:
        """The poll's integers; None when a phase status value is unusable, because decoding the
        rest would show that phase dark, a state the controller never reported."""
        values: dict[str, int] = {}
        for key, (_, value) in zip(keys, var_binds, strict=False):
            if isinstance(value, _EXCEPTIONS):
                if key not in SCALARS:
                    raise NtcipError(
                        f"controller {self.address} has no {key} ({self._table[key]}): "
                        "is it an NTCIP 1202 controller, and does options.phases match its phases?"
                    )
                self._unsupported(key)
                continue
            try:
                values[key] = int(value)
            except (TypeError, ValueError):
                self.dropped["bad_value"] += 1
                if key not in SCALARS:
                    return None
        return values

    def _unsupported(self, key: str) -> None:
        log.info("controller %s has no %s (%s); no longer polled", self.address, key, self._table[key])
        self.dropped[f"unsupported_{key}"] += 1
        del self._table[key]
