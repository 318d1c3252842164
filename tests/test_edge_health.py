"""Gateway health reaches InfluxDB like any reading; clock steps are noticed and marked."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from edge import health
from edge.agent import AgentOptions, EdgeAgent
from tests.pipeline import Pipeline, wait_for

pytestmark = pytest.mark.timeout(120)


@pytest.mark.integration
def test_health_points_for_the_agent_and_each_device(tmp_path: Path, city_id: str) -> None:
    p = Pipeline(tmp_path, city_id, ["pm01", "pm02"])
    try:
        p.start_worker()
        options = AgentOptions(
            p.broker.host, p.broker.port, state_dir=tmp_path / "edge", health_interval_s=0.5
        )
        p.agent = EdgeAgent(p.config, "gw01", options, {d: str(link) for d, link in p.links.items()}).start()
        p.ready()
        p.start_devices()
        rows = lambda: p.influx.rows('SELECT * FROM "gateway" GROUP BY "device"', p.database)  # noqa: E731
        wait_for(lambda: {"agent", "pm01", "pm02"} <= {r["device"] for r in rows()}, 30, "health points")
        time.sleep(1.5)
        agent_rows = [r for r in rows() if r["device"] == "agent"]
        latest = max(agent_rows, key=lambda r: r["time"])
        assert latest["uplink_connected"] is True
        assert latest["rss_mb"] > 10 and latest["disk_free_mb"] > 0 and latest["cpu_pct"] >= 0
        assert latest["produced"] > 0 and latest["dropped"] == 0 and latest["buffer_depth"] >= 0
        assert latest["city"] == city_id and latest["gateway"] == "gw01"
        device_rows = [r for r in rows() if r["device"] == "pm01"]
        assert max(r["produced"] for r in device_rows) > 0
    finally:
        p.stop()


def test_clock_watch_notices_a_step_and_marks_the_moment(monkeypatch: pytest.MonkeyPatch) -> None:
    watch = health.ClockWatch()
    assert watch.check() is False and watch.jumps == 0
    real = time.time_ns
    monkeypatch.setattr(health.time, "time_ns", lambda: real() + 3_600_000_000_000)  # NTP steps 1 h
    assert watch.check() is True
    assert watch.jumps == 1 and 3599 < watch.stepped_s < 3601
