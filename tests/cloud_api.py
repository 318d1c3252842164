"""The real cloud API under uvicorn on a free port, for tests that talk to it over HTTP (snapshot
uploads from the edge): one definition for every test module that needs it."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3
import uvicorn

from cloud.api import ApiSettings, create_app, create_token
from ioc.services import free_port
from tests.pipeline import wait_for


@dataclass
class Cloud:
    url: str
    settings: ApiSettings
    upload_token: str  # a technician's: may upload snapshots
    read_token: str  # an operator's: may read them
    server: uvicorn.Server
    thread: threading.Thread

    def get(self, path: str) -> urllib3.BaseHTTPResponse:
        headers = {"Authorization": f"Bearer {self.read_token}"}
        return urllib3.request("GET", self.url + path, headers=headers, timeout=10, retries=False)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def start_cloud(root: Path, city_yaml: str, port: int | None = None, **overrides: Any) -> Cloud:
    """The API knowing the cities in ``city_yaml`` (the same config the agent runs), state in ``root``."""
    cities = root / "configs" / "cities"
    cities.mkdir(parents=True, exist_ok=True)
    (cities / "city.yaml").write_text(city_yaml, encoding="utf-8")
    settings = ApiSettings(
        configs_dir=root / "configs",
        state_path=root / "state" / "api.db",
        influxdb_url="http://127.0.0.1:9",  # never queried by the snapshot routes
        alerts_state_path=root / "alerts.sqlite",
        **overrides,
    )
    app = create_app(settings)
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started or not thread.is_alive(), 15, "uvicorn started")
    assert server.started, "uvicorn did not start"
    state = app.state.services.state
    return Cloud(
        f"http://127.0.0.1:{port}",
        settings,
        create_token(state, "gw01@ioc.test", "technician", 30),
        create_token(state, "wall@ioc.test", "operator", 30),
        server,
        thread,
    )
