"""Problems found in schedule files: collected, never raised one at a time, so a contributor sees all at once."""

from __future__ import annotations

from dataclasses import dataclass

from bot.texthygiene import for_terminal


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    file: str
    line: int
    column: int
    severity: str
    """``error`` (the file is refused) or ``warning`` (accessibility and voice; an error with --strict)."""
    message: str
    hint: str | None = None
    code: str = ""

    def format(self, *, strict: bool = False) -> str:
        level = "error" if self.severity == "error" or strict else "warning"
        text = f"{self.file}:{self.line}:{self.column}: {level}: {self.message}"
        # A file name or a quoted value may hold escape sequences: never let them reach a terminal raw.
        return for_terminal(f"{text} (hint: {self.hint})" if self.hint else text)

    def is_error(self, *, strict: bool = False) -> bool:
        return self.severity == "error" or strict
