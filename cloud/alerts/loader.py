"""Rule files → validated rules, or every problem at once as ``file:line: key: message — did you
mean …?``, the way the city config loader reports (it is reused for YAML lines and problems)."""

from __future__ import annotations

import os
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from cloud.alerts.model import CONDITIONS, Rule, RuleFile
from cloud.alerts.semantics import check_rule
from ioc.config.errors import ConfigError, ConfigProblem, ProblemLog, suggest
from ioc.config.yaml_lines import YamlPath, line_of, parse_yaml

_SCALARS = (str, int, float, bool, type(None))
_SEMANTIC_KEYS = {*CONDITIONS, "clear_at", "aggregate", "for", "event_key", "window", "quality", "where"}
_PLACEHOLDERS: dict[str, Any] = {"id": "x", "title": {"vi": "x", "en": "x"}, "severity": "info"}


def rule_files(path: str | os.PathLike[str]) -> list[Path]:
    """The YAML files of a rules folder (sorted, so ids are reported in a stable order), or the one file."""
    root = Path(path)
    if root.is_dir():
        return sorted(p for p in root.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return [root]


def check_rules(path: str | os.PathLike[str]) -> list[ConfigProblem]:
    """Every problem in a rules folder (or one file); empty when all rules load. For ``ioc config check``."""
    try:
        load_rules(path)
    except ConfigError as err:
        return err.problems
    return []


def load_rules(path: str | os.PathLike[str]) -> list[Rule]:
    """All rules of a folder's ``*.yaml`` files (or of one file); ConfigError lists every problem."""
    if not Path(path).exists():
        raise ConfigError([ConfigProblem(os.fspath(path), None, "", "no such file or folder")])
    files = rule_files(path)
    if not files:
        raise ConfigError([ConfigProblem(os.fspath(path), None, "", "no rule files (*.yaml) here")])
    rules: list[Rule] = []
    problems: list[ConfigProblem] = []
    first_seen: dict[str, str] = {}  # rule id → "file:line" where it was first defined
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            problems.append(ConfigProblem(str(file), None, "", f"cannot read the file: {err}"))
            continue
        try:
            loaded = parse_rules(text, str(file), first_seen)
        except ConfigError as err:
            problems.extend(err.problems)
            continue
        rules.extend(loaded)
    if problems:
        raise ConfigError(problems)
    return rules


def parse_rules(text: str, file: str = "<string>", first_seen: dict[str, str] | None = None) -> list[Rule]:
    """The rules of one file. ``first_seen`` carries rule ids across files so that duplicates are found."""
    parsed = parse_yaml(text)
    log = ProblemLog(file, parsed.lines)
    for problem in parsed.problems:
        log.add(problem.path, problem.message, line=problem.line)
    if not parsed.syntax_ok:
        raise ConfigError(log.sorted())
    data = parsed.data if parsed.data is not None else {}
    if not isinstance(data, dict):
        log.add((), f"expected a mapping with a 'rules:' list at the top level (got {_show(data)})")
        raise ConfigError(log.sorted())
    rules: list[tuple[int, Rule, set[Any]]] = []  # (index, rule, its keys that failed validation)
    try:
        rules = [(i, rule, set()) for i, rule in enumerate(RuleFile.model_validate(data).rules)]
    except ValidationError as err:
        for error in err.errors():
            _add_validation_error(log, error)
        rules = _salvage(data.get("rules"), err)
    seen = first_seen if first_seen is not None else {}
    for index, rule, bad in rules:
        path: YamlPath = ("rules", index)
        check_rule(rule, log, path, names_only=bool(bad & _SEMANTIC_KEYS))
        if "id" in bad:
            continue
        if rule.id in seen:
            log.add((*path, "id"), f"duplicate rule id '{rule.id}' (first defined at {seen[rule.id]})")
        else:
            seen[rule.id] = f"{file}:{line_of(parsed.lines, (*path, 'id'))}"
    if log.problems:
        raise ConfigError(log.sorted())
    return [rule for _, rule, _ in rules]


def _salvage(items: Any, err: ValidationError) -> list[tuple[int, Rule, set[Any]]]:
    """The rules of a file that failed validation, so that their other problems (a misspelt
    field, a duplicate id) are reported in the same run. A rule with bad keys is checked without
    them (placeholders stand in for its missing required keys), and by its names only when a
    key the semantic checks read is among them."""
    if not isinstance(items, list):
        return []
    bad: dict[int, set[Any]] = {}
    for error in err.errors():
        loc = error["loc"]
        if len(loc) >= 3 and loc[0] == "rules" and isinstance(loc[1], int):
            bad.setdefault(loc[1], set()).add(loc[2])
    out = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        keys = bad.get(index, set())
        kept = {k: v for k, v in item.items() if k not in keys}
        if keys:
            kept = {**_PLACEHOLDERS, **kept}
        try:
            out.append((index, Rule.model_validate(kept), keys | (_PLACEHOLDERS.keys() - item.keys())))
        except ValidationError:
            continue  # measurement or field itself is missing or bad: nothing more to check
    return out


def _add_validation_error(log: ProblemLog, error: ErrorDetails) -> None:
    # The city loader's converter does not know field aliases ('for', 'in' are Python keywords and
    # so aliases here), which its did-you-mean needs: hence this short alias-aware version.
    loc: YamlPath = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        log.add(loc, "unknown key", suggest(loc[-1], _keys(model)) if model else None)
        return
    if kind == "missing":
        log.add(loc, "required key is missing")
        return
    message = error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    if isinstance(value, _SCALARS) and "(got" not in message:
        message += f" (got {_show(value)})"
    choices = error.get("ctx", {}).get("expected", "") if kind == "literal_error" else ""
    suggestion = suggest(value, [c.strip(" '") for c in choices.replace(" or ", ",").split(",")])
    log.add(loc, message, suggestion if choices else None)


def _keys(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _model_at(loc: YamlPath) -> type[BaseModel] | None:
    """The model that validates the mapping at loc (a list index steps into the list's item model)."""
    model: type[BaseModel] | None = RuleFile
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        model = _model_in(field.annotation) if field else None
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, _SCALARS) else type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."
