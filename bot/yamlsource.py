"""Read YAML files into values that remember where they came from (file, line, column).

Contributors need ``path:line:column`` in every message, so we compose PyYAML nodes (C loader when available)
and build our own light tree instead of calling ``yaml.safe_load``, which forgets positions. Scalars are resolved
with PyYAML's safe constructor (so ``true``, ``3`` and ``2026-12-03`` mean what they mean in ``safe_load``) but the
raw text is kept too: ``10:00`` unquoted is the integer 600 in YAML 1.1, and we would rather read it as a time.
Aliases are followed, but the total size of the tree is capped, so a "billion laughs" file is refused, not expanded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MAX_NODES = 200_000
MAX_FILE_BYTES = 2_000_000

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class Where:
    file: str
    line: int
    column: int


@dataclass(slots=True)
class Node:
    """A YAML value with its position. ``value`` is a dict[str, Node], a list[Node] or a plain scalar."""

    value: Any
    where: Where
    raw: str | None = None
    """The scalar exactly as written (None for mappings and sequences)."""
    key_where: dict[str, Where] = field(default_factory=dict)
    """For mappings: where each key is written (unknown-key messages point at the key)."""

    @property
    def kind(self) -> str:
        if isinstance(self.value, dict):
            return "mapping"
        if isinstance(self.value, list):
            return "list"
        return "scalar"


class YamlProblem(Exception):
    """The file cannot be read as YAML at all; carries the position when PyYAML knows it."""

    def __init__(self, message: str, where: Where, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint


def load(path: Path, display: str) -> Node | None:
    """Parse one YAML file. Returns None for an empty document; raises YamlProblem for anything unreadable."""
    start = Where(display, 1, 1)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise YamlProblem(f"cannot read file: {exc.strerror}", start) from exc
    if len(data) > MAX_FILE_BYTES:
        raise YamlProblem(f"file is {len(data)} bytes; schedule files must be under {MAX_FILE_BYTES}", start)
    if b"\x00" in data:
        raise YamlProblem("this is a binary file, not YAML text", start, "save it as UTF-8 text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise YamlProblem(
            f"file is not valid UTF-8 (byte {exc.start})", start, "save the file with UTF-8 encoding"
        ) from exc
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Where(display, mark.line + 1, mark.column + 1) if mark else start
        problem = exc.problem or str(exc)
        hint = None
        if "\t" in text and ("tab" in problem or "found character" in problem):
            hint = "YAML does not allow tabs for indentation: use spaces"
        else:
            hint = "check indentation and quoting; text containing ': ' or starting with a quote must be quoted"
        raise YamlProblem(f"not valid YAML: {problem}", where, hint) from exc
    except yaml.YAMLError as exc:
        raise YamlProblem(f"not valid YAML: {exc}", start) from exc
    if root is None:
        return None
    return _Builder(display).build(root)


class _Builder:
    def __init__(self, display: str) -> None:
        self.display = display
        self.count = 0
        self.constructor = yaml.constructor.SafeConstructor()

    def where(self, node: yaml.Node) -> Where:
        return Where(self.display, node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: yaml.Node, depth: int = 0) -> Node:
        self.count += 1
        if self.count > MAX_NODES or depth > 50:
            raise YamlProblem(
                "file expands to too many values (aliases nested too deep?)",
                self.where(node),
                "schedule files never need more than a few hundred values; remove the anchors and aliases",
            )
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Node] = {}
            keys: dict[str, Where] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise YamlProblem("'<<' merge keys are not supported", self.where(key_node), "write the keys out")
                key = self.build(key_node, depth + 1)
                if not isinstance(key.value, (str, int, float, bool)) or isinstance(key.value, (dict, list)):
                    raise YamlProblem("a key must be plain text", key.where)
                name = str(key.value) if not isinstance(key.value, str) else key.value
                if name in out:
                    raise YamlProblem(f"key '{name}' appears twice in the same block", key.where, "keep one")
                keys[name] = key.where
                out[name] = self.build(value_node, depth + 1)
            return Node(out, self.where(node), key_where=keys)
        if isinstance(node, yaml.SequenceNode):
            return Node([self.build(item, depth + 1) for item in node.value], self.where(node))
        try:
            value = self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise YamlProblem(f"cannot read value {node.value!r}: {exc}", self.where(node)) from exc
        except ValueError as exc:  # e.g. an impossible date like 2026-02-30
            raise YamlProblem(f"cannot read value {node.value!r}: {exc}", self.where(node)) from exc
        raw = node.value if isinstance(node.value, str) else None
        return Node(value, self.where(node), raw=raw)
