"""Config loading: YAML → pydantic models, with every problem reported at once, each with its line."""

from ioc.config.errors import ConfigError, ConfigProblem, format_problems
from ioc.config.loader import FamilySpec, load_city, parse_city
from ioc.config.models import (
    CityConfig,
    CityInfo,
    CloudApi,
    Device,
    Gateway,
    InfluxTarget,
    MqttUplink,
    Site,
    TlsFiles,
)

__all__ = [
    "CityConfig",
    "CityInfo",
    "CloudApi",
    "ConfigError",
    "ConfigProblem",
    "Device",
    "FamilySpec",
    "Gateway",
    "InfluxTarget",
    "MqttUplink",
    "Site",
    "TlsFiles",
    "format_problems",
    "load_city",
    "parse_city",
]
