"""The shape of a city deployment file (configs/cities/*.yaml)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from ioc.topics import ID_PATTERN


def _check_id(value: str) -> str:
    if not ID_PATTERN.match(value):
        # Ids become MQTT topic levels and InfluxDB tag values, hence the narrow alphabet.
        raise PydanticCustomError(
            "id_pattern",
            "ids use lowercase letters, digits, '-' and '_' (at most 64, starting with a letter or digit)",
        )
    return value


Id = Annotated[str, AfterValidator(_check_id)]
# A gateway's state folder holds one folder per device next to the agent's own ones.
RESERVED_DEVICE_IDS = frozenset({"config"})


def _check_device_id(value: str) -> str:
    if value in RESERVED_DEVICE_IDS:
        raise PydanticCustomError(
            "reserved_id", "'{id}' is the agent's own folder; name the device otherwise", {"id": value}
        )
    return value


DeviceId = Annotated[Id, AfterValidator(_check_device_id)]
SiteKind = Literal["air", "water", "traffic", "weigh", "camera", "mixed"]


class _Strict(BaseModel):
    # Unknown keys are errors: a typo must never silently fall back to a default.
    model_config = ConfigDict(extra="forbid")


class CityInfo(_Strict):
    id: Id
    name: str
    province: str
    timezone: str = "Asia/Ho_Chi_Minh"


class Site(_Strict):
    id: Id
    name: str
    kind: SiteKind
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Device(_Strict):
    id: DeviceId
    family: str
    site: str | None = None  # None: the gateway's site
    port: str | None = None  # serial port path, or host:port for devices on the LAN
    baudrate: int | None = Field(default=None, gt=0)  # None: the family's default
    poll_interval_s: float = Field(default=1.0, gt=0)
    options: dict[str, Any] = Field(default_factory=dict)


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
        raise PydanticCustomError("api_url", "expected the API's base URL, e.g. https://ioc.example.vn")
    return value


class CloudApi(_Strict):
    """The cloud API a gateway sends what MQTT does not carry: the JPEG behind each camera event."""

    url: Annotated[str, AfterValidator(_check_url)]
    # A bearer token of a role allowed to upload snapshots (technician), in a file of mode 0600 on the
    # gateway, never in this YAML; it is re-read on every upload pass, so replacing it needs no restart.
    token_file: str
    ca_file: str | None = None  # the CA that signed the API's certificate, when not a public one
    # The token travels in clear over http://; only when a config says so (a loopback API, a lab).
    plain: bool = False

    @model_validator(mode="after")
    def _tls_unless_plain(self) -> CloudApi:
        if self.url.startswith("http://") and not self.plain:
            raise PydanticCustomError(
                "plain_api", "url: http:// sends the token in clear; use https://, or set plain: true"
            )
        return self


class Gateway(_Strict):
    id: Id
    site: str
    devices: list[Device] = Field(default_factory=list)
    cloud_api: CloudApi | None = None  # None: camera snapshots stay on the gateway (bounded store)


class TlsFiles(_Strict):
    ca_file: str  # the deployment CA that signed the broker's certificate
    cert_file: str | None = None  # the gateway's own certificate, for mutual TLS
    key_file: str | None = None


class MqttUplink(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    batch_max_readings: int = Field(default=500, ge=1, le=5000)
    # How often the edge buffer commits (fsyncs) a group of readings and sends it: the most a
    # crash can lose, and the floor of the latency to the wall.
    commit_interval_s: float = Field(default=0.25, ge=0.01, le=5)
    tls: TlsFiles | None = None
    # Plain TCP only when a config says so: a loopback broker, a lab. Otherwise set `tls`.
    plain: bool = False
    # The gateway's broker account (`ioc cloud enrol-gateway`); the password lives in a file of
    # mode 0600 on the gateway, never in this YAML.
    username: str | None = None
    password_file: str | None = None


class InfluxTarget(_Strict):
    url: str = "http://127.0.0.1:8086"
    database: str = "ioc"


class CityConfig(_Strict):
    city: CityInfo
    sites: list[Site]
    gateways: list[Gateway]
    mqtt: MqttUplink = Field(default_factory=MqttUplink)
    influxdb: InfluxTarget = Field(default_factory=InfluxTarget)

    def site(self, id: str) -> Site:
        for site in self.sites:
            if site.id == id:
                return site
        raise KeyError(f"no site {id!r} in city {self.city.id!r}")

    def devices(self) -> Iterator[tuple[Gateway, Device]]:
        for gateway in self.gateways:
            for device in gateway.devices:
                yield gateway, device

    def device_site(self, gateway: Gateway, device: Device) -> str:
        return device.site or gateway.site
