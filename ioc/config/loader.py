"""load_city: one YAML file → a validated CityConfig, or one ConfigError listing every problem."""

from __future__ import annotations

import os
import typing
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ioc.config.checks import cross_check
from ioc.config.errors import ConfigError, ConfigProblem, ProblemLog, suggest
from ioc.config.models import CityConfig
from ioc.config.yaml_lines import YamlPath, parse_yaml

_SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class FamilySpec:
    """What the config checks need to know of a device family (firmware_bridge.registry makes these)."""

    options: type[BaseModel] | None = None  # validates a device's ``options:``
    shares_bus: bool = False  # Modbus RTU: devices of several such families may share one RS-485 port


# The device families that exist: their names, or names → FamilySpec for the deeper checks.
Families = Collection[str] | Mapping[str, FamilySpec]


def load_city(path: str | os.PathLike[str], families: Families | None = None) -> CityConfig:
    """families: the device families that exist (names, or names → FamilySpec, which also checks
    every device's ``options:``); None skips the family checks."""
    file = os.fspath(path)
    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError([ConfigProblem(file, None, "", f"cannot read the file: {err}")]) from err
    return parse_city(text, file, families)


def parse_city(text: str, file: str = "<string>", families: Families | None = None) -> CityConfig:
    """Like load_city, for YAML that did not come from a file (e.g. pushed through the API)."""
    parsed = parse_yaml(text)
    log = ProblemLog(file, parsed.lines)
    for problem in parsed.problems:
        log.add(problem.path, problem.message, line=problem.line)
    if not parsed.syntax_ok:
        raise ConfigError(log.sorted())
    data = parsed.data
    if not isinstance(data, dict):
        log.add((), f"expected a mapping with city, sites and gateways at the top level (got {_show(data)})")
        raise ConfigError(log.sorted())
    config: CityConfig | None = None
    try:
        config = CityConfig.model_validate(data)
    except ValidationError as err:
        for error in err.errors():
            _add_validation_error(log, error)
    cross_check(data, log, families)
    if isinstance(families, Mapping):
        _check_device_options(data, log, families)
    if log.problems or config is None:
        raise ConfigError(log.sorted())
    return config


def _check_device_options(data: dict[str, Any], log: ProblemLog, families: Mapping[str, FamilySpec]) -> None:
    gateways = data.get("gateways")
    for g, gateway in enumerate(gateways if isinstance(gateways, list) else []):
        devices = gateway.get("devices") if isinstance(gateway, dict) else None
        for d, device in enumerate(devices if isinstance(devices, list) else []):
            spec = families.get(device.get("family")) if isinstance(device, dict) else None
            model = spec.options if spec else None
            if model is None:
                continue
            try:
                model.model_validate(device.get("options") or {})
            except ValidationError as err:
                prefix: YamlPath = ("gateways", g, "devices", d, "options")
                for error in err.errors():
                    _add_validation_error(log, error, model, prefix)


def _add_validation_error(
    log: ProblemLog, error: ErrorDetails, root: type[BaseModel] = CityConfig, prefix: YamlPath = ()
) -> None:
    """One pydantic error of ``root`` (validated at ``prefix`` in the file) as a problem."""
    rel: YamlPath = tuple(error["loc"])
    loc: YamlPath = (*prefix, *rel)
    kind = error["type"]
    if kind == "extra_forbidden":
        model = _model_at(root, rel[:-1])
        choices = list(model.model_fields) if model else []
        log.add(loc, "unknown key", suggest(loc[-1], choices))
        return
    if kind == "missing":
        log.add(loc, "required key is missing")
        return
    message = error["msg"]
    value = error.get("input")
    if isinstance(value, _SCALARS):
        message += f" (got {_show(value)})"
    suggestion = suggest(value, _literal_choices(root, rel)) if kind == "literal_error" else None
    log.add(loc, message, suggestion)


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, _SCALARS) else type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):  # list[Device], Device | None
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _model_at(root: type[BaseModel], loc: YamlPath) -> type[BaseModel] | None:
    model: type[BaseModel] | None = root
    for part in loc:
        if isinstance(part, int):
            continue  # a list index: the item model was already unwrapped from list[...]
        field = model.model_fields.get(part) if model else None
        if field is None:
            return None
        model = _model_in(field.annotation)
    return model


def _literal_choices(root: type[BaseModel], loc: YamlPath) -> list[str]:
    model = _model_at(root, loc[:-1])
    field = model.model_fields.get(str(loc[-1])) if model else None
    if field is None or typing.get_origin(field.annotation) is not typing.Literal:
        return []
    return [str(choice) for choice in typing.get_args(field.annotation)]
