"""YAML → plain Python data, plus the source line of every key and list item.

PyYAML's loaders drop positions and silently keep the last of duplicate keys, so the file is composed
into nodes and walked here instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

YamlPath: TypeAlias = tuple[str | int, ...]
MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass
class StructureProblem:
    line: int | None
    path: YamlPath
    message: str


@dataclass
class ParsedYaml:
    data: Any
    lines: dict[YamlPath, int] = field(default_factory=dict)
    problems: list[StructureProblem] = field(default_factory=list)
    syntax_ok: bool = True


def format_path(path: YamlPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def line_of(lines: Mapping[YamlPath, int], path: YamlPath) -> int | None:
    """The line of path, else of its nearest ancestor that appears in the file (a missing key
    is best shown where its parent mapping starts)."""
    for end in range(len(path), -1, -1):
        line = lines.get(tuple(path[:end]))
        if line is not None:
            return line
    return None


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def parse_yaml(text: str) -> ParsedYaml:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        message = f"YAML syntax error: {err.problem or err.context}"
        if err.context and err.problem and err.context_mark is not None:
            message += f" ({err.context} at line {err.context_mark.line + 1})"
        line = mark.line + 1 if mark is not None else None
        return ParsedYaml(None, problems=[StructureProblem(line, (), message)], syntax_ok=False)
    except yaml.YAMLError as err:  # e.g. a ReaderError for bytes that are not text
        return ParsedYaml(None, problems=[StructureProblem(None, (), f"YAML error: {err}")], syntax_ok=False)
    if root is None:
        return ParsedYaml(None)
    walker = _Walker()
    walker.lines[()] = _line(root)
    data = walker.value(root, ())
    return ParsedYaml(data, walker.lines, walker.problems)


class _Walker:
    def __init__(self) -> None:
        self.lines: dict[YamlPath, int] = {}
        self.problems: list[StructureProblem] = []
        self._constructor = SafeConstructor()
        self._open: set[int] = set()  # nodes being walked: an alias back to one of them is a cycle

    def value(self, node: Node, path: YamlPath) -> Any:
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if id(node) in self._open:
            self.problems.append(StructureProblem(_line(node), path, "recursive alias"))
            return None
        self._open.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                items = []
                for index, item in enumerate(node.value):
                    self.lines[(*path, index)] = _line(item)
                    items.append(self.value(item, (*path, index)))
                return items
            return self._mapping(node, path)
        finally:
            self._open.discard(id(node))

    def _scalar(self, node: ScalarNode, path: YamlPath) -> Any:
        try:
            return self._constructor.construct_object(node)
        except yaml.YAMLError as err:
            problem = getattr(err, "problem", None) or str(err)
            self.problems.append(StructureProblem(_line(node), path, problem))
            return node.value  # the raw text keeps string fields from also failing validation

    def _mapping(self, node: MappingNode, path: YamlPath) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        # Merged entries ('<<: *defaults') go in first so the mapping's own keys override them.
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                for source in reversed(self._merge_sources(value_node, path)):
                    merged = self.value(source, path)
                    if isinstance(merged, dict):
                        out.update(merged)
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                continue
            if not isinstance(key_node, ScalarNode):
                self.problems.append(StructureProblem(_line(key_node), path, "keys must be plain scalars"))
                continue
            key = self._scalar(key_node, path)
            key_path = (*path, key)
            if key in first_line:
                message = f"duplicate key '{key}' (first defined at line {first_line[key]})"
                self.problems.append(StructureProblem(_line(key_node), key_path, message))
                continue
            first_line[key] = _line(key_node)
            self.lines[key_path] = _line(key_node)
            out[key] = self.value(value_node, key_path)
        return out

    def _merge_sources(self, node: Node, path: YamlPath) -> list[MappingNode]:
        if isinstance(node, MappingNode):
            return [node]
        if isinstance(node, SequenceNode) and all(isinstance(item, MappingNode) for item in node.value):
            return list(node.value)
        message = "'<<' needs a mapping or a list of mappings"
        self.problems.append(StructureProblem(_line(node), path, message))
        return []
