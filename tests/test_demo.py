"""`make demo` is the product's front door: it must keep bringing a whole pilot city up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from firmware_bridge import registry
from ioc.config import load_city
from ioc.services import REPO_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


@pytest.mark.parametrize("city", ["buon-ma-thuot", "lang-son", "phan-thiet"])
def test_demo_brings_every_device_of_the_city_to_influxdb(tmp_path: Path, city: str) -> None:
    config = REPO_ROOT / "configs" / "cities" / f"{city}.yaml"
    devices = [d.id for _g, d in load_city(config, families=registry.names()).devices()]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ioc",
            "demo",
            "--city",
            str(config),
            "--data",
            str(tmp_path),
            "--duration",
            "10",
        ],
        capture_output=True,
        text=True,
        timeout=150,
        cwd=REPO_ROOT,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin:/usr/sbin"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"Points arrived from all {len(devices)} simulated devices" in result.stdout
    for device in devices:
        assert device in result.stdout  # each device is listed in the live table
