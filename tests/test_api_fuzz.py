"""Schemathesis against the API's own OpenAPI schema, without a token and as admin (with the real
city and camera in the paths, so the config, fleet and snapshot code runs on generated input):
no request may get a server error.

Each operation is its own pytest item, driven through schemathesis' strategies with Hypothesis:
schemathesis' pytest plugin (4.32) does not run under pytest 9 (it reads the removed
``Function._nodeid``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from cloud.api import create_app, create_token
from cloud.api.roles import ENDPOINTS, Endpoint
from ioc.services import InfluxDB, Mosquitto
from tests.test_api import settings_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
# Modest: 46 items of this many examples each keep the file well under 60 s.
FUZZ = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)


@dataclass
class Target:
    app: FastAPI
    schema: Any
    city: str
    admin_token: str


@pytest.fixture
def target(tmp_path: Path, city_id: str, influx: InfluxDB, database: str, broker: Mosquitto) -> Target:
    # A rate high enough that the fuzzer meets the code behind the limiter, not only 429s.
    app = create_app(settings_for(tmp_path, city_id, influx, database, broker, rate_per_minute=1_000_000))
    token = create_token(app.state.services.state, "fuzz", "admin", 1)
    return Target(app, schemathesis.openapi.from_asgi("/openapi.json", app), city_id, token)


def _ids(e: Endpoint) -> str:
    return f"{e.method} {e.path}"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_ids)
def test_no_server_error_without_token(target: Target, endpoint: Endpoint) -> None:
    @given(case=target.schema[endpoint.path][endpoint.method].as_strategy())
    @FUZZ
    def run(case: Any) -> None:
        case.call_and_validate(checks=[not_a_server_error])

    run()


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_ids)
def test_no_server_error_as_admin(target: Target, endpoint: Endpoint) -> None:
    headers = {"Authorization": f"Bearer {target.admin_token}"}

    @given(case=target.schema[endpoint.path][endpoint.method].as_strategy())
    @FUZZ
    def run(case: Any) -> None:
        params = case.path_parameters or {}
        if "city" in params:
            params["city"] = target.city
        if "device" in params:
            params["device"] = "cam01"
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    run()
