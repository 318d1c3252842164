"""Config problems and the error that carries all of them at once."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ioc.config.yaml_lines import YamlPath, format_path, line_of


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    line: int | None
    path: str
    message: str
    suggestion: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        return f"{text} — did you mean '{self.suggestion}'?" if self.suggestion else text


def format_problems(problems: Iterable[ConfigProblem]) -> str:
    problems = list(problems)
    if not problems:
        return "Config OK: no problems"
    files = ", ".join(dict.fromkeys(p.file for p in problems))
    noun = "problem" if len(problems) == 1 else "problems"
    header = f"Failed config: {len(problems)} {noun} in {files}"
    return "\n".join([header, *(f"  {p}" for p in problems)])


class ConfigError(Exception):
    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems: list[ConfigProblem] = list(problems)
        # The problems are the args so the error pickles across processes.
        super().__init__(self.problems)

    def __str__(self) -> str:
        return format_problems(self.problems)


def suggest(word: object, choices: Iterable[str]) -> str | None:
    """The closest choice, or None. The cutoff is below difflib's default so that short
    field names still match their long spellings ('lattitude' → 'lat')."""
    if not isinstance(word, str):
        return None
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return matches[0] if matches else None


class ProblemLog:
    """Collects problems for one file, placing each on the line of its YAML path."""

    def __init__(self, file: str, lines: Mapping[YamlPath, int]) -> None:
        self.file = file
        self.lines = lines
        self.problems: list[ConfigProblem] = []

    def add(
        self, path: YamlPath, message: str, suggestion: str | None = None, line: int | None = None
    ) -> None:
        where = line if line is not None else line_of(self.lines, path)
        self.problems.append(ConfigProblem(self.file, where, format_path(path), message, suggestion))

    def sorted(self) -> list[ConfigProblem]:
        # Stable: problems on one line keep the order they were found in.
        return sorted(self.problems, key=lambda p: (p.line is None, p.line or 0))
