"""Real services for the integration tests: one Mosquitto and one InfluxDB per test session, on
free ports with data in pytest's temporary folder. Tests isolate themselves with their own city
id (MQTT topics) and their own database, so several sessions can run side by side."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

from ioc.services import InfluxDB, Mosquitto

_ids = itertools.count(1)


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    with Mosquitto(tmp_path_factory.mktemp("mosquitto")) as service:
        yield service


@pytest.fixture(scope="session")
def influx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxDB]:
    with InfluxDB(tmp_path_factory.mktemp("influxdb")) as service:
        yield service


@pytest.fixture
def city_id() -> str:
    """A city id no other test (or parallel session) uses, so topics do not cross."""
    return f"t{os.getpid()}x{next(_ids)}"


@pytest.fixture
def database(influx: InfluxDB, city_id: str) -> Iterator[str]:
    name = f"db_{city_id}"
    influx.create_database(name)
    yield name
    influx.query(f'DROP DATABASE "{name}"')
