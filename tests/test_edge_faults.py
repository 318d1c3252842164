"""Nothing lost: real broker, database, ptys and processes, each taken away mid-stream and brought
back; every reading the simulators emitted while an agent read them must be in InfluxDB exactly
once (point by point). Outages are short (seconds) to keep the suite fast; `make bench` soaks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ioc.services import REPO_ROOT
from tests.pipeline import Pipeline, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
OUTAGE_S = 4.0


@pytest.fixture
def pipeline(tmp_path: Path, city_id: str) -> Iterator[Pipeline]:
    p = Pipeline(tmp_path, city_id, ["pm01", "pm02"])
    try:
        yield p
    finally:
        p.stop()


def run_for(seconds: float) -> None:
    time.sleep(seconds)


def test_broker_outage_loses_nothing(pipeline: Pipeline) -> None:
    pipeline.start_worker()
    pipeline.start_agent()
    pipeline.ready()
    pipeline.start_devices()
    run_for(2)
    pipeline.broker.stop()
    run_for(OUTAGE_S)  # devices keep sending; the agent buffers
    assert pipeline.agent is not None and pipeline.agent.buffer.depth() > 0
    pipeline.broker.start()
    run_for(2)
    for sim in pipeline.sims.values():
        sim.stop()
    pipeline.wait_all_stored()
    pipeline.assert_zero_loss()
    assert pipeline.agent.uplink.reconnects >= 1


def test_influxdb_outage_behind_ingest_loses_nothing(pipeline: Pipeline) -> None:
    worker = pipeline.start_worker()
    pipeline.start_agent()
    pipeline.ready()
    pipeline.start_devices()
    run_for(2)
    pipeline.influx.stop()
    run_for(OUTAGE_S)  # ingest keeps retrying the same batch and acknowledges nothing
    pipeline.influx.start()
    run_for(1)
    for sim in pipeline.sims.values():
        sim.stop()
    pipeline.wait_all_stored()
    pipeline.assert_zero_loss()
    assert worker.stats.write_retries >= 1


def test_ingest_worker_killed_loses_nothing(pipeline: Pipeline) -> None:
    worker = pipeline.spawn_worker()
    pipeline.start_agent()
    pipeline.ready()
    time.sleep(1.5)  # the worker process starts and subscribes
    pipeline.start_devices()
    run_for(2)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    run_for(OUTAGE_S)  # the broker keeps the worker's persistent session and queues for it
    worker = pipeline.spawn_worker()
    try:
        run_for(1)
        for sim in pipeline.sims.values():
            sim.stop()
        pipeline.wait_all_stored()
        pipeline.assert_zero_loss()
    finally:
        worker.terminate()
        worker.wait(10)


def test_serial_adapter_unplugged_and_replugged_is_picked_up_again(pipeline: Pipeline) -> None:
    pipeline.start_worker()
    agent = pipeline.start_agent()
    pipeline.ready()
    pipeline.start_devices()
    run_for(2)
    pipeline.unplug("pm01")
    wait_for(lambda: not agent.devices[0].status.connected, 10, "the agent to notice the unplug")
    run_for(1)
    pipeline.plug("pm01", start=False)
    # The agent finds the adapter again at the same path, without a restart.
    wait_for(lambda: agent.devices[0].status.connected, 30, "the agent to reopen the replugged adapter")
    pipeline.sims["pm01"].start()
    run_for(2)
    for sim in pipeline.sims.values():
        sim.stop()
    pipeline.wait_all_stored()
    pipeline.assert_zero_loss()
    assert agent.devices[0].status.errors >= 1


def test_agent_sigkill_loses_at_most_the_last_commit_interval(pipeline: Pipeline, tmp_path: Path) -> None:
    """kill -9 mid-stream: what it had committed arrives; what is missing is at most the readings
    of the last commit interval plus what the device sent while no agent ran."""
    pipeline.start_worker()
    config = tmp_path / "city.yaml"
    config.write_text(pipeline.config_text)
    args = [
        sys.executable,
        "-m",
        "ioc",
        "edge",
        "run",
        str(config),
        "--gateway",
        "gw01",
        "--broker",
        f"{pipeline.broker.host}:{pipeline.broker.port}",
        "--state-dir",
        str(tmp_path / "edge"),
        "--status",
        "off",
        *[a for d, link in pipeline.links.items() for a in ("--port", f"{d}={link}")],
    ]

    def spawn() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            args,
            cwd=REPO_ROOT,
            stdout=(tmp_path / "agent.log").open("ab"),
            stderr=subprocess.STDOUT,
            env=dict(os.environ),
        )

    agent = spawn()
    time.sleep(3)  # the agent opens its ports
    pipeline.start_devices()
    run_for(3)
    killed_ns = time.time_ns()
    agent.send_signal(signal.SIGKILL)
    agent.wait()
    run_for(1)
    agent = spawn()
    try:
        run_for(4)
        for sim in pipeline.sims.values():
            sim.stop()
        pipeline.wait_all_stored_or_settled()
        commit_interval_ns = 250_000_000
        for device in pipeline.devices:
            stored_values = [(p["pm25"], p["pm10"]) for p in pipeline.stored(device)]
            emitted = pipeline.emitted(device)
            missing = [(t, f) for t, f in emitted if (f["pm25"], f["pm10"]) not in stored_values]
            # After the restart, readings flow again.
            resumed = [t for t, f in emitted if t > killed_ns and (f["pm25"], f["pm10"]) in stored_values]
            assert resumed, f"{device}: nothing arrived after the restart"
            first_after = min(resumed)
            # Every missing reading falls in the window: the last commit interval before the kill
            # (plus one read of slack) up to the moment the restarted agent read again ...
            window_start = killed_ns - commit_interval_ns - 2 * int(pipeline.interval_s * 1e9)
            assert all(window_start <= t < first_after for t, _ in missing), (device, missing)
            # ... and their number is at most that bound, measured.
            down = sum(1 for t, _ in emitted if killed_ns <= t < first_after)
            per_commit = commit_interval_ns / (pipeline.interval_s * 1e9) + 2
            assert len(missing) <= per_commit + down
    finally:
        agent.terminate()
        agent.wait(15)


def test_readings_wait_at_the_edge_while_no_ingest_is_subscribed(pipeline: Pipeline) -> None:
    """A broker acknowledges a publish nobody subscribes to ("no matching subscribers", as after
    a Mosquitto restart, which forgets shared subscriptions): the gateway must keep those readings."""
    agent = pipeline.start_agent()
    pipeline.ready()
    pipeline.start_devices()
    run_for(3)  # no ingest worker yet
    assert agent.uplink.refused_batches >= 1 and agent.buffer.depth() > 0
    pipeline.start_worker()
    run_for(2)
    for sim in pipeline.sims.values():
        sim.stop()
    pipeline.wait_all_stored()
    pipeline.assert_zero_loss()
