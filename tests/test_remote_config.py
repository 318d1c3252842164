"""Remote config through the real broker: applied without a restart, refused with reasons,
rolled back by the agent itself when it leaves a device unread, and the last versions kept."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from cloud.config_push import push_config
from edge.agent import AgentOptions, EdgeAgent
from edge.remote_config import ConfigStore, RemoteConfig
from ioc.config import ConfigError
from tests.pipeline import Pipeline, city_yaml, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture
def running(tmp_path: Path, city_id: str):
    p = Pipeline(tmp_path, city_id, ["pm01", "pm02"])
    one_device = p.config.model_copy(deep=True)
    one_device.gateways[0].devices = one_device.gateways[0].devices[:1]
    p.start_worker()
    options = AgentOptions(p.broker.host, p.broker.port, state_dir=tmp_path / "edge")
    agent = EdgeAgent(one_device, "gw01", options, {d: str(link) for d, link in p.links.items()})
    p.agent = agent
    remote = RemoteConfig(agent, one_device, rollback_after_s=3.0)
    agent.apply(remote.restore())
    remote.start()
    agent.start()
    p.start_devices()
    wait_for(lambda: agent.uplink.connected.is_set() and agent.devices[0].status.produced > 0, 20, "agent")
    try:
        yield p, agent, remote
    finally:
        remote.stop()
        p.stop()


def push(p: Pipeline, tmp_path: Path, text: str, version: str) -> dict:
    path = tmp_path / f"{version}.yaml"
    path.write_text(text)
    ack = push_config(path, p.broker.host, p.broker.port, version, wait_s=15)["gw01"]
    assert ack is not None, "the agent answered"
    return ack


def test_new_device_applied_without_restart(running, tmp_path: Path) -> None:
    p, agent, _remote = running
    first_runner = agent.devices[0]
    ack = push(p, tmp_path, p.config_text, "v2")
    assert ack["status"] == "applied" and ack["devices"] == ["pm02"]
    assert agent.devices[0] is first_runner, "the unchanged device kept running"
    wait_for(lambda: len(p.stored("pm02")) > 5, 30, "readings of the added device in InfluxDB")


def test_broken_config_is_refused_with_every_problem(running, tmp_path: Path) -> None:
    p, agent, remote = running
    bad = p.config_text.replace("lat: 12.6675", "lattitude: 12.6675").replace(
        "family: sds011", "family: sds01", 1
    )
    with pytest.raises(ConfigError):  # the cloud side refuses before publishing ...
        push(p, tmp_path, bad, "v3")
    ack = remote.handle(json.dumps({"version": "v3", "yaml": bad}).encode())
    assert ack is not None and ack["status"] == "rejected"
    problems = " ".join(ack["problems"])  # ... and so does the agent, when it gets one anyway
    assert "did you mean 'lat'" in problems and "did you mean 'sds011'" in problems
    assert [d.ctx.device_id for d in agent.devices] == ["pm01"] and remote.version == "file"


def test_config_that_leaves_a_device_unread_is_rolled_back(running, tmp_path: Path) -> None:
    p, agent, remote = running
    broken = city_yaml(p.city, ["pm01", "pm09"])  # pm09's adapter is nowhere
    ack = push(p, tmp_path, broken, "v4")
    assert ack["status"] == "applied"
    wait_for(lambda: remote.version == "file", 20, "the automatic rollback")
    assert [d.ctx.device_id for d in agent.devices] == ["pm01"]
    assert remote.store.is_bad("v4")
    # The retained v4 comes again after a reconnect: refused, not applied again.
    again = remote.handle(b'{"version": "v4", "yaml": "city: {}"}')
    assert again is not None and again["status"] == "rejected"
    before = agent.devices[0].status.produced
    time.sleep(1)
    assert agent.devices[0].status.produced > before, "pm01 kept reading through it all"


def test_store_keeps_the_last_ten_versions(tmp_path: Path) -> None:
    store = ConfigStore(tmp_path)
    for i in range(14):
        store.save(f"v{i}", f"text {i}")
    assert store.versions() == [f"v{i}" for i in range(4, 14)]
    assert store.text("v13") == "text 13" and store.text("v2") is None
    store.current = "v13"
    assert ConfigStore(tmp_path).current == "v13"
