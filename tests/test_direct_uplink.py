"""Small sites write straight to InfluxDB: the same buffer, and nothing lost while it is away."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from edge.agent import AgentOptions, EdgeAgent
from tests.pipeline import Pipeline

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_direct_uplink_survives_an_influxdb_outage(tmp_path: Path, city_id: str) -> None:
    p = Pipeline(tmp_path, city_id, ["pm01"])
    try:
        options = AgentOptions(
            "unused", 0, state_dir=tmp_path / "edge", direct_influxdb=(p.influx.url, p.database)
        )
        agent = EdgeAgent(p.config, "gw01", options, {d: str(link) for d, link in p.links.items()})
        p.agent = agent.start()
        p.ready()
        p.start_devices()
        time.sleep(2)
        p.influx.stop()
        time.sleep(3)
        assert agent.buffer.depth() > 0
        p.influx.start()
        time.sleep(1)
        for sim in p.sims.values():
            sim.stop()
        p.wait_all_stored()
        p.assert_zero_loss()
        assert agent.uplink.reconnects >= 1
    finally:
        p.stop()
