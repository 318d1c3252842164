"""load_city: one YAML file → a validated CityConfig, or one ConfigError listing every problem."""

from __future__ import annotations

import os
import typing
from collections.abc import Collection
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ioc.config.checks import cross_check
from ioc.config.errors import ConfigError, ConfigProblem, ProblemLog, suggest
from ioc.config.models import CityConfig
from ioc.config.yaml_lines import YamlPath, parse_yaml

_SCALARS = (str, int, float, bool, type(None))


def load_city(path: str | os.PathLike[str], families: Collection[str] | None = None) -> CityConfig:
    """families: the device family names that exist; None skips the family check."""
    file = os.fspath(path)
    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError([ConfigProblem(file, None, "", f"cannot read the file: {err}")]) from err
    return parse_city(text, file, families)


def parse_city(text: str, file: str = "<string>", families: Collection[str] | None = None) -> CityConfig:
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
    if log.problems or config is None:
        raise ConfigError(log.sorted())
    return config


def _add_validation_error(log: ProblemLog, error: ErrorDetails) -> None:
    loc: YamlPath = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        model = _model_at(CityConfig, loc[:-1])
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
    suggestion = suggest(value, _literal_choices(loc)) if kind == "literal_error" else None
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


def _literal_choices(loc: YamlPath) -> list[str]:
    model = _model_at(CityConfig, loc[:-1])
    field = model.model_fields.get(str(loc[-1])) if model else None
    if field is None or typing.get_origin(field.annotation) is not typing.Literal:
        return []
    return [str(choice) for choice in typing.get_args(field.annotation)]
