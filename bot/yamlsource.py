"""Read YAML files into values that remember where they came from (file, line, column).

Contributors need ``path:line:column`` in every message, so we read PyYAML's event stream (C parser when
available) and build our own light tree instead of calling ``yaml.safe_load``, which forgets positions.
Scalars are resolved with PyYAML's safe resolver and constructor (so ``true``, ``3`` and ``2026-12-03`` mean
what they mean in ``safe_load``) but the raw text is kept too: ``10:00`` unquoted is the integer 600 in YAML
1.1, and we would rather read it as a time.

The tree is built in a loop, not by recursion, so no file can exhaust the stack (PyYAML's C composer crashes
the interpreter on a few hundred thousand nested brackets). Nesting deeper than ``MAX_DEPTH`` is refused, with
the same message whether our check or PyYAML's own limit (6.0.4's C scanner, while reading ahead) stops first.
Aliases share the node they point to, but count at their full expanded size, so a "billion laughs" file is
refused without ever being expanded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MAX_NODES = 200_000
MAX_DEPTH = 50
MAX_FILE_BYTES = 2_000_000

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MAP_TAGS = {None, "!", "tag:yaml.org,2002:map"}
_SEQ_TAGS = {None, "!", "tag:yaml.org,2002:seq"}
_TOO_DEEP = f"values nested more than {MAX_DEPTH} levels deep"
_DEEP_HINT = "schedule files need only a few levels"
_SIZE_HINT = "schedule files never need more than a few hundred values; remove the anchors and aliases"


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
    style: str = ""
    """Scalar style: "" plain, "'" or '"' quoted, "|" or ">" block (where the text's characters are)."""
    size: int = 1
    """Number of values in this subtree, aliases counted in full."""

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
        raise YamlProblem(f"cannot read file: {exc.strerror or exc}", start) from exc
    return parse(data, display)


def parse(data: bytes, display: str) -> Node | None:
    """Parse YAML bytes (see ``load``)."""
    start = Where(display, 1, 1)
    if len(data) > MAX_FILE_BYTES:
        raise YamlProblem(f"file is {len(data)} bytes; schedule files must be under {MAX_FILE_BYTES}", start)
    if b"\x00" in data:
        raise YamlProblem("this is a binary file, not YAML text", start, "save it as UTF-8 text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlProblem(
            f"file is not valid UTF-8 (byte {exc.start})",
            Where(display, line, column),
            "save the file with UTF-8 encoding",
        ) from exc
    try:
        return _Builder(display, text).build()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Where(display, mark.line + 1, mark.column + 1) if mark else start
        problem = exc.problem or str(exc)
        if "nesting depth" in problem:
            # PyYAML 6.0.4's C scanner has a nesting limit of its own (1,000 flow levels) and may reach it while
            # reading ahead, before our MAX_DEPTH check sees the events: same message for the contributor.
            raise YamlProblem(_TOO_DEEP, where, _DEEP_HINT) from exc
        if "\t" in text and ("tab" in problem or "found character" in problem):
            hint = "YAML does not allow tabs for indentation: use spaces"
        else:
            hint = (
                "check indentation, and put text in quotes if it starts with '{', '[', '*', '&' or a quote,"
                " or contains ': ' or ' #'"
            )
        raise YamlProblem(f"not valid YAML: {problem}", where, hint) from exc
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise YamlProblem(f"not valid YAML: {first}", start, "save the file as plain UTF-8 text") from exc


_STR_TAG = "tag:yaml.org,2002:str"


class _Frame:
    """A mapping or sequence being filled in."""

    __slots__ = ("anchor", "key", "node")

    def __init__(self, node: Node, anchor: str | None) -> None:
        self.node = node
        self.anchor = anchor
        self.key: Node | None = None


class _Builder:
    def __init__(self, display: str, text: str) -> None:
        self.display = display
        self.loader = _Loader(text)
        self.anchors: dict[str, Node] = {}
        self.total = 0

    def where(self, mark: Any) -> Where:
        return Where(self.display, mark.line + 1, mark.column + 1)

    def build(self) -> Node | None:
        try:
            return self._build()
        finally:
            self.loader.dispose()

    def _build(self) -> Node | None:
        loader = self.loader
        stack: list[_Frame] = []
        root: Node | None = None
        documents = 0
        while loader.check_event():
            event = loader.get_event()
            if type(event) is yaml.ScalarEvent:  # the common case first: most events are plain values
                node = self.scalar(event)
                if event.anchor is not None:
                    self.anchors[event.anchor] = node
                if not stack:
                    root = node
                else:
                    self.attach(stack[-1], node)
                continue
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise YamlProblem(
                        "more than one YAML document in the file ('---')",
                        self.where(event.start_mark),
                        "keep one document per file",
                    )
                continue
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                is_map = isinstance(event, yaml.MappingStartEvent)
                if event.tag not in (_MAP_TAGS if is_map else _SEQ_TAGS):
                    raise YamlProblem(
                        f"YAML tags such as {event.tag!r} are not supported",
                        self.where(event.start_mark),
                        "remove the tag",
                    )
                if len(stack) >= MAX_DEPTH:
                    raise YamlProblem(_TOO_DEEP, self.where(event.start_mark), _DEEP_HINT)
                self.count(1, event.start_mark)
                stack.append(_Frame(Node({} if is_map else [], self.where(event.start_mark)), event.anchor))
                continue
            if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                frame = stack.pop()
                if frame.anchor is not None:
                    self.anchors[frame.anchor] = frame.node
                node = frame.node
            elif isinstance(event, yaml.ScalarEvent):
                node = self.scalar(event)
                if event.anchor is not None:
                    self.anchors[event.anchor] = node
            elif isinstance(event, yaml.AliasEvent):
                target = self.anchors.get(event.anchor or "")
                if target is None:
                    raise YamlProblem(
                        f"alias *{event.anchor} refers to no finished anchor",
                        self.where(event.start_mark),
                        "define '&name' before using '*name'",
                    )
                self.count(target.size, event.start_mark)
                node = target
            else:  # stream start/end, document end
                continue
            if not stack:
                root = node
            else:
                self.attach(stack[-1], node)
        return root

    def count(self, size: int, mark: Any) -> None:
        self.total += size
        if self.total > MAX_NODES:
            raise YamlProblem(
                "file expands to too many values (aliases nested too deep?)", self.where(mark), _SIZE_HINT
            )

    def attach(self, frame: _Frame, node: Node) -> None:
        parent = frame.node
        parent.size += node.size
        if isinstance(parent.value, list):
            parent.value.append(node)
            return
        if frame.key is None:
            if node.kind != "scalar" or node.value is None:
                raise YamlProblem("a key must be plain text", node.where, "write 'key: value'")
            frame.key = node
            return
        key, frame.key = frame.key, None
        name = (
            key.value if isinstance(key.value, str) else (key.raw if key.raw is not None else str(key.value))
        )
        if name in parent.value:
            raise YamlProblem(f"key '{name}' appears twice in the same block", key.where, "keep one")
        parent.key_where[name] = key.where
        parent.value[name] = node

    def scalar(self, event: Any) -> Node:
        self.count(1, event.start_mark)
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        where = self.where(event.start_mark)
        if tag == "tag:yaml.org,2002:merge":
            raise YamlProblem("'<<' merge keys are not supported", where, "write the keys out")
        if tag == _STR_TAG:  # most values: text needs no constructing
            return Node(event.value, where, raw=event.value, style=event.style or "")
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            value = self.loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError, TypeError) as exc:
            if event.tag is None and isinstance(exc, ValueError | OverflowError):
                # A plain scalar that only looks like a date (2026-02-30): keep the text, so the field's own
                # check reports it and the rest of the file still loads.
                value = event.value
            else:
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise YamlProblem(f"cannot read value {_short(event.value)!r}: {first}", where) from exc
        return Node(value, where, raw=event.value, style=event.style or "")


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."
