"""What a technician sees of a running agent: one status document, shared by the local web page
and `ioc edge status`."""

from __future__ import annotations

import time

from pydantic import BaseModel

from edge.agent import EdgeAgent
from ioc.reading import FieldValue


class DeviceState(BaseModel):
    id: str
    family: str
    port: str | None
    connected: bool
    produced: int
    last_fields: dict[str, FieldValue]
    last_age_s: float | None
    errors: int
    last_error: str
    decoder_drops: dict[str, int]


class AgentState(BaseModel):
    city: str
    gateway: str
    uplink_connected: bool
    reconnects: int
    buffer_depth: int
    oldest_unsent_s: float
    sent: int
    acked: int
    quota_drops: dict[str, int]
    devices: list[DeviceState]


def agent_state(agent: EdgeAgent) -> AgentState:
    now = time.time_ns()
    devices = [
        DeviceState(
            id=d.ctx.device_id,
            family=d.family.name,
            port=d.ctx.port,
            connected=d.status.connected,
            produced=d.status.produced,
            last_fields=d.status.last_fields,
            last_age_s=round((now - d.status.last_time_ns) / 1e9, 1) if d.status.last_time_ns else None,
            errors=d.status.errors,
            last_error=d.status.last_error,
            decoder_drops=dict(d.status.dropped),
        )
        for d in agent.devices
    ]
    drops = {f"{device}/{reason}": n for (device, reason), n in agent.buffer.drops().items()}
    return AgentState(
        city=agent.uplink.city,
        gateway=agent.gateway.id,
        uplink_connected=agent.uplink.connected.is_set(),
        reconnects=agent.uplink.reconnects,
        buffer_depth=agent.buffer.depth(),
        oldest_unsent_s=round(agent.buffer.oldest_unsent_age_s(now), 1),
        sent=agent.uplink.sent_readings,
        acked=agent.uplink.acked_readings,
        quota_drops=drops,
        devices=devices,
    )
