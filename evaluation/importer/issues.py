"""Import problems: one message per problem naming file, sheet, row, column and value."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ImportIssue:
    """One problem found while importing.

    ``file`` is the input file's name, ``sheet`` the worksheet (``None`` for a CSV file or a
    problem with the whole file), ``row`` the row number Excel shows (CSV: the line number),
    ``column`` the column letter and its header as written (``"D (Trung cấp)"``), ``value`` the
    cell as written (``None`` when the problem has no single cell; ``"(not shown)"`` for personal
    data), ``expected`` what the importer needs there, ``check`` a short name of the rule.
    """

    check: str
    file: str
    expected: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    severity: str = "error"

    def __post_init__(self) -> None:
        from ..contract import shown

        object.__setattr__(self, "value", shown(self.value))  # never a value that looks like personal data

    def __str__(self) -> str:
        return self.text("en")

    def text(self, lang: str = "vi") -> str:
        """The problem as one line in ``lang`` (``"vi"``, the default for people, or ``"en"``)."""
        from ..messages import issue_text

        return issue_text(self, lang)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("check", "severity", "file", "sheet", "row", "column", "value",
                                             "expected")}


class ImportFailed(ValueError):
    """The inputs cannot be imported; nothing was written. ``issues`` lists every problem found
    (all of them, not the first only); the message lists them one per line."""

    def __init__(self, issues: list[ImportIssue], out: Path | None = None) -> None:
        self.issues = list(dict.fromkeys(issues))  # one message per problem, in the order found
        self.out = out
        n = len(self.issues)
        where = f" to {out}" if out is not None else ""
        lines = [f"Import failed: {n} error{'s' * (n != 1)}; nothing was written{where}."]
        lines += ["  " + str(i) for i in self.issues]
        super().__init__("\n".join(lines))

    @property
    def messages(self) -> list[str]:
        """Each issue as one line of text (English)."""
        return [str(i) for i in self.issues]

    def format(self, lang: str = "vi") -> str:
        """Every problem, one a line, in ``lang`` (Vietnamese by default; ``"en"`` as ``str()``)."""
        from ..messages import word

        n = len(self.issues)
        where = word("to_out", lang, out=self.out) if self.out is not None else ""
        head = word("failed_head", lang, n=n, s="s" * (n != 1), where=where)
        return "\n".join([head] + ["  " + i.text(lang) for i in self.issues])


class KeyMissing(ImportFailed):
    """Student records cannot be pseudonymised: no usable key (the import refuses to run)."""
