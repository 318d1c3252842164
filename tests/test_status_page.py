"""The technician's status page, loaded in a real headless Chromium (Debian `chromium`) from a
running agent: it shows every device, and the run keeps a phone-sized screenshot."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from edge.agent import AgentOptions, EdgeAgent
from edge.status import agent_state
from edge.status_server import StatusServer
from ioc.services import REPO_ROOT, free_port
from tests.pipeline import Pipeline, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
SCREENSHOTS = REPO_ROOT / "var" / "screenshots"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("chromium")
    assert binary, "Debian package 'chromium' is missing: `make test` installs it"
    return subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_status_page_in_headless_chromium(tmp_path: Path, city_id: str) -> None:
    p = Pipeline(tmp_path, city_id, ["pm01", "pm02"])
    server = None
    try:
        p.start_worker()
        options = AgentOptions(p.broker.host, p.broker.port, state_dir=tmp_path / "edge")
        agent = EdgeAgent(p.config, "gw01", options, {d: str(link) for d, link in p.links.items()}).start()
        p.agent = agent
        p.ready()
        p.start_devices()
        port = free_port()
        server = StatusServer(lambda: agent_state(agent), "127.0.0.1", port).start()
        url = f"http://127.0.0.1:{port}/"
        wait_for(lambda: server.started, 10, "the status page")
        assert server.server is None, "the web server loads only when someone looks"

        wait_for(lambda: all(d.status.produced for d in agent.devices), 10, "first readings")

        with urllib.request.urlopen(url + "api/status", timeout=5) as response:
            state = json.load(response)
        assert [d["id"] for d in state["devices"]] == ["pm01", "pm02"]
        assert state["uplink_connected"] is True

        dom = chromium("--dump-dom", url, profile=tmp_path / "profile-dom")
        assert 'id="device-pm01"' in dom.stdout and 'id="device-pm02"' in dom.stdout, dom.stderr[-2000:]
        assert "connected" in dom.stdout and "pm25 = " in dom.stdout

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / "status-page.png"
        shot.unlink(missing_ok=True)
        chromium(f"--screenshot={shot}", "--window-size=412,915", url, profile=tmp_path / "profile-shot")
        assert shot.exists() and shot.stat().st_size > 5000 and shot.read_bytes()[:4] == b"\x89PNG"
    finally:
        if server:
            server.stop()
        p.stop()
