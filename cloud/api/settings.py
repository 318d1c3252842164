"""What a deployment chooses for the API: where the configs and the state live, which InfluxDB and
broker to talk to, and the limits."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

MIB = 1024 * 1024


class BrokerAddress(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)


class ApiSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The deployment's configs folder: every ``cities/*.yaml`` in it is a city the API serves.
    configs_dir: Path = Path("configs")
    # The SQLite file for tokens, config versions and the audit log; snapshots go to a
    # ``snapshots`` folder beside it.
    state_path: Path = Path("var/api/state.db")
    # The alert engine's store (`ioc cloud alerts --state`, same default): alerts are listed from
    # it and acknowledged into it. The API never creates it; until the engine has, alerts are 503.
    alerts_state_path: Path = Path("var/alerts.sqlite")
    influxdb_url: str = "http://127.0.0.1:8086"
    influxdb_token: SecretStr = SecretStr("")  # for InfluxDB 2.x/3.x through their v1 query API
    database: str = "ioc"
    broker: BrokerAddress | None = None  # None: config versions are stored but not published
    max_body_bytes: int = Field(default=MIB, ge=1)
    max_snapshot_bytes: int = Field(default=2 * MIB, ge=1)
    snapshots_per_camera: int = Field(default=100, ge=1)
    rate_per_minute: int = Field(default=600, ge=1)
    # A gateway sends its health every 10 s; six missed reports and it shows offline.
    online_within_s: float = Field(default=60.0, gt=0)
    # Gateway enrolment (`ioc cloud enrol-gateway`'s folder: the CA and the broker accounts); None: off.
    security_dir: Path | None = None
    broker_pid_file: Path | None = None  # the broker's pid, to reload its accounts without a restart

    @property
    def snapshots_dir(self) -> Path:
        return self.state_path.parent / "snapshots"
