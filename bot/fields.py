"""Typed field readers for schedule YAML: each reads one node and reports a ``file:line:column`` problem
instead of raising, so one load reports every problem at once.

The schedule loader, the settings reader and the post checks all build on ``FieldReader``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from datetime import date, datetime, time
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from bot import lint, texthygiene
from bot.compose import SINCE_PLACEHOLDERS, TemplateError, placeholders
from bot.models import Settings
from bot.problems import Problem
from bot.yamlsource import Node, Where, YamlProblem, load

HASHTAG_PATTERN = re.compile(r"^\w+$")
TIME_PATTERN = re.compile(r"^(\d{1,2}):(\d{2})$")


class FieldReader:
    """State shared by every reader of one load: where files are, today's date, the problems found so far."""

    def __init__(self, root: Path, content: Path, today: date, text_checks: bool = True) -> None:
        self.root = root
        self.text_checks = text_checks
        self.root_display: str | None = None
        self.today = today
        self.content = content
        self.problems: list[Problem] = []
        self.files = 0
        self.settings = Settings()

    # ---------------------------------------------------------------- reporting helpers

    def problem(
        self, where: Where, message: str, hint: str | None = None, *, warning: bool = False, code: str = ""
    ) -> None:
        severity = "warning" if warning else "error"
        self.problems.append(Problem(where.file, where.line, where.column, severity, message, hint, code))

    def display(self, path: Path) -> str:
        """The path as messages show it: relative to the working directory when inside it."""
        text, root = str(path), str(self.root)
        if not text.startswith(root + os.sep):
            return _display(path)
        if self.root_display is None:  # resolving every path costs ~0.1 ms: do it once, for the root
            self.root_display = _display(self.root)
        return os.path.normpath(os.path.join(self.root_display, text[len(root) + 1 :]))

    def read(self, path: Path) -> Node | None:
        self.files += 1
        display = self.display(path)
        try:
            node = load(path, display)
        except YamlProblem as exc:
            self.problem(exc.where, exc.message, exc.hint)
            return None
        if node is None:
            self.problem(
                Where(display, 1, 1), "file is empty", "delete it or fill it in (see schedules/README.md)"
            )
            return None
        if node.kind != "mapping":
            self.problem(
                node.where,
                f"expected a mapping of keys at the top of the file, found a {node.kind}",
                "see the examples in schedules/README.md",
            )
            return None
        return node

    def keys(self, node: Node, allowed: Iterable[str], what: str) -> bool:
        ok = True
        allowed = list(allowed)
        for key, where in node.key_where.items():
            if key not in allowed:
                import difflib

                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean '{close[0]}'?" if close else "allowed keys: " + ", ".join(allowed)
                self.problem(where, f"unknown key '{key}' in {what}", hint)
                ok = False
        return ok

    def text(
        self,
        node: Node | None,
        what: str,
        *,
        required: bool = True,
        parent: Node | None = None,
        key: str = "",
        empty_hint: str | None = None,
    ) -> str | None:
        """Plain text; ``empty_hint`` says how to fill it in when it is missing or empty."""
        if node is None:
            if required and parent is not None:
                self.problem(
                    parent.where,
                    f"{what} is missing",
                    f"add '{key}:'" + (f"; {empty_hint}" if empty_hint else ""),
                )
            return None
        if node.kind != "scalar":
            self.problem(
                node.where,
                f"{what} must be plain text, found a {node.kind}",
                "put text that starts with '{' or '[' or contains ': ' in quotes",
            )
            return None
        if node.value is None:
            if required:
                self.problem(node.where, f"{what} is empty", empty_hint)
            return None
        value = node.raw if node.raw is not None else str(node.value)
        if not value.strip():
            if required:
                self.problem(node.where, f"{what} is empty", empty_hint)
            return None
        if not self.clean_text(value, node.where, what):
            return None
        return value

    def optional_text(self, node: Node | None, what: str) -> str | Literal[False] | None:
        """An optional text: None when absent or empty, False when present but refused (reported)."""
        if node is None or node.value is None or (isinstance(node.value, str) and not node.value.strip()):
            return None
        value = self.text(node, what, required=False)
        return False if value is None else value

    def clean_text(self, value: str, where: Where, what: str) -> bool:
        """False (an error) for control characters; a warning for bidi overrides and zero-width characters."""
        bad = texthygiene.control_characters(value)
        if bad:
            self.problem(
                where,
                f"{what} contains control characters ({', '.join(bad)})",
                "delete them: they do not show in a post, and in a terminal they can disguise the text",
            )
            return False
        hidden = texthygiene.hidden_characters(value)
        if hidden:
            self.problem(
                where,
                f"{what} contains invisible characters ({', '.join(hidden)}) that can hide or reorder words",
                "delete them unless you know the text needs them",
                warning=True,
                code="invisible-characters",
            )
        return True

    def integer(self, node: Node | None, what: str, default: int, *, minimum: int = 0) -> int:
        if node is None:
            return default
        if isinstance(node.value, bool) or not isinstance(node.value, int):
            self.problem(node.where, f"{what} must be a whole number, found {node.raw!r}")
            return default
        if node.value < minimum:
            self.problem(node.where, f"{what} must be at least {minimum}")
            return default
        return int(node.value)

    def number(self, node: Node | None, what: str, default: float) -> float:
        if node is None:
            return default
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
            self.problem(node.where, f"{what} must be a number of zero or more, found {node.raw!r}")
            return default
        return float(node.value)

    def boolean(self, node: Node | None, what: str, default: bool) -> bool:
        if node is None:
            return default
        if not isinstance(node.value, bool):
            self.problem(node.where, f"{what} must be true or false, found {node.raw!r}")
            return default
        return node.value

    def clock(self, node: Node | None, what: str) -> time | None:
        if node is None:
            return None
        if node.raw is None:
            self.problem(
                node.where,
                f"{what} must be a time of day, found a {node.kind}",
                'write 24-hour time in quotes, e.g. "09:30"',
            )
            return None
        raw = node.raw
        match = TIME_PATTERN.match(raw.strip())
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            self.problem(
                node.where,
                f"{what} {raw!r} is not a time of day",
                'write 24-hour time in quotes, e.g. "09:30"',
            )
            return None
        return time(int(match.group(1)), int(match.group(2)))

    def a_date(self, node: Node | None, what: str) -> date | None:
        if node is None:
            return None
        if isinstance(node.value, date) and not isinstance(node.value, datetime):
            return node.value
        if node.kind != "scalar" or node.raw is None:
            self.problem(
                node.where, f"{what} must be a date, found a {node.kind}", "write YYYY-MM-DD, e.g. 2026-12-03"
            )
            return None
        raw = node.raw
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            self.problem(node.where, f"{what} {raw!r} is not a date", "write YYYY-MM-DD, e.g. 2026-12-03")
            return None

    def url(self, node: Node | None, what: str) -> str | None:
        value = self.text(node, what, required=False)
        if value is None or node is None:
            return None
        try:
            parts = urlsplit(value.strip())
            valid = parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in value.strip()
        except ValueError:  # e.g. "https://[::1" (an unclosed IPv6 address)
            valid = False
        if not valid:
            self.problem(
                node.where,
                f"{what} {value!r} is not a web address",
                "write a full URL starting with https://",
            )
            return None
        return value.strip()

    def string_list(self, node: Node | None, what: str) -> list[tuple[str, Where]]:
        if node is None or node.value is None:
            return []
        if node.kind == "mapping":
            self.problem(node.where, f"{what} must be a list, found a mapping", "write [first, second]")
            return []
        items = node.value if isinstance(node.value, list) else [node]
        out: list[tuple[str, Where]] = []
        for item in items:
            if isinstance(item.value, (dict, list)) or item.value is None:
                self.problem(item.where, f"each of {what} must be text")
                continue
            out.append((str(item.raw if item.raw is not None else item.value), item.where))
        return out

    def hashtags(self, node: Node | None) -> list[str]:
        tags: list[str] = []
        for raw, where in self.string_list(node, "hashtags"):
            tag = raw.strip().lstrip("#")
            if not tag or not HASHTAG_PATTERN.match(tag) or tag.isdigit():
                self.problem(
                    where, f"{raw!r} is not a hashtag", "letters, digits and _ only, e.g. EndSeclusion"
                )
                continue
            finding = lint.lint_hashtag(tag)
            if finding:
                self.problem(where, finding.message, finding.hint, warning=True, code=finding.code)
            tags.append(tag)
        return tags

    def template(self, text: str, where: Where, fields: set[str]) -> None:
        if "{" not in text and "}" not in text:
            return  # nothing to fill in (most texts): skip the parse
        try:
            names = placeholders(text)
        except TemplateError as exc:
            self.problem(where, f"broken template: {exc}", "write {{ and }} for literal braces")
            return
        for name in names:
            base, _, since = name.partition(":")
            if since and base in SINCE_PLACEHOLDERS and "year" in fields:
                if int(since) > self.today.year:
                    self.problem(
                        where, f"{{{name}}} counts from a year still to come", "write the year it began"
                    )
                continue
            if name not in fields:
                self.problem(
                    where,
                    f"unknown placeholder {{{name}}}",
                    "available: "
                    + ", ".join("{" + f + "}" for f in sorted(fields))
                    + (", {years_since:YYYY}, {anniversary:YYYY}" if "year" in fields else ""),
                )


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)
