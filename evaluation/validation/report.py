"""The validation report: one issue per violation, with file, row, column and value; formatting."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..contract import (ALL_TABLES, NOT_SHOWN, PERSONAL_VALUE)

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[str, ...] = ("error", "warning", "info")

#: Columns of :meth:`ValidationReport.to_frame`, in order.
REPORT_COLUMNS: tuple[str, ...] = ("check", "table", "severity", "row", "column", "value", "expected")

# ------------------------------------------------------------------------------------------------
# The report
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Issue:
    """One violation of the data contract (or one warning about the data).

    ``row`` is the row as the user sees it in the file: the line number for a CSV file (header =
    line 1), the 1-based row number for a Parquet file; ``None`` when the issue concerns a whole
    table, column or group of rows. ``value`` is the offending cell as written (``""`` for an empty
    cell); ``expected`` says in plain words what the contract wants there.
    """

    table: str
    row: int | None
    column: str | None
    value: str | None
    expected: str
    severity: Severity
    check: str
    file: str | None = None

    @property
    def location(self) -> str:
        """``"line 5, column year"`` / ``"row 5, column year"`` / ``"column year"`` / ``""``."""
        parts = []
        if self.row is not None:
            word = "row" if (self.file or "").endswith(".parquet") else "line"
            parts.append(f"{word} {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.location
        value = "" if self.value is None else f"value {_quote(self.value)}"
        head = ", ".join(x for x in (where, value) if x)
        return f"{self.severity:<7} {head + ': ' if head else ''}expected {self.expected} [{self.check}]"


def _quote(value: str, limit: int = 80) -> str:
    if value == "":
        return "(empty)"
    if value == NOT_SHOWN:
        return value
    from ..messages import visible

    v = value if len(value) <= limit else value[: limit - 1] + "…"
    return f"'{visible(v)}'"


class ValidationReport:
    """Every issue found in one cohort data folder (or one set of tables).

    ``ok`` is True when there is no error (warnings and notes do not count). Issues are held as one
    frame, so a report on ten million rows stays cheap; ``issues``/``errors``/``warnings`` build
    :class:`Issue` objects on demand.
    """

    def __init__(self, frame: pd.DataFrame | None = None, *, folder: Path | None = None,
                 files: dict[str, Path] | None = None) -> None:
        self.folder = Path(folder) if folder is not None else None
        self.files: dict[str, Path] = dict(files or {})
        self._frame = _sort_issues(frame if frame is not None else _empty_issues())

    # -- access ------------------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """One row per issue: check, table, severity, row (Int64, as seen in the file), column,
        value, expected."""
        return self._frame.copy()

    def _objects(self, mask: pd.Series | None = None) -> list[Issue]:
        f = self._frame if mask is None else self._frame[mask]
        names = {t: p.name for t, p in self.files.items()}
        rows = f["row"].astype("object").where(f["row"].notna(), None)
        out = []
        for chk, tab, sev, row, col, val, exp in zip(f["check"], f["table"], f["severity"], rows,
                                                     f["column"], f["value"], f["expected"]):
            out.append(Issue(table=tab, row=None if row is None else int(row),
                             column=None if pd.isna(col) else col, value=None if pd.isna(val) else val,
                             expected=exp, severity=sev, check=chk, file=names.get(tab)))
        return out

    @property
    def issues(self) -> list[Issue]:
        return self._objects()

    @property
    def errors(self) -> list[Issue]:
        return self._objects(self._frame["severity"] == "error")

    @property
    def warnings(self) -> list[Issue]:
        return self._objects(self._frame["severity"] == "warning")

    @property
    def notes(self) -> list[Issue]:
        """Informational issues (an optional table absent)."""
        return self._objects(self._frame["severity"] == "info")

    @property
    def n_errors(self) -> int:
        return int((self._frame["severity"] == "error").sum())

    @property
    def n_warnings(self) -> int:
        return int((self._frame["severity"] == "warning").sum())

    @property
    def ok(self) -> bool:
        return self.n_errors == 0

    def __len__(self) -> int:
        return len(self._frame)

    def __bool__(self) -> bool:  # a report is a report, even an empty one
        return True

    # -- rendering ---------------------------------------------------------------------------
    def format(self, *, limit: int | None = None, lang: str = "en") -> str:
        """The report as text for a person: a verdict, then every issue grouped by table.

        ``limit``: list at most this many issues per table and check, then say how many more
        there are (``None``, the default, lists every one). A table with more than one kind of
        issue starts with a count per check. ``lang``: ``"en"`` or ``"vi"`` (the message
        catalogue :mod:`evaluation.messages`, shared with the importer).
        """
        from ..messages import quote, translate, word

        f = self._frame
        counts = f["severity"].value_counts()
        ne, nw, ni = (int(counts.get(s, 0)) for s in SEVERITIES)
        lines = []
        if self.folder is not None:
            lines.append(word("folder", lang, folder=self.folder))
        summary = word("summary", lang, e=ne, es="s" * (ne != 1), w=nw, ws="s" * (nw != 1), i=ni,
                       is_="s" * (ni != 1))
        lines.append(word("failed" if ne else "ok", lang, summary=summary))
        names = {t: p.name for t, p in self.files.items()}
        for table, g in f.groupby("table", sort=False):
            c = g["severity"].value_counts()
            parts = [f"{int(c[s])} {word(w, lang)}" for s, w in zip(SEVERITIES, ("errors_n", "warnings_n", "notes_n"))
                     if c.get(s, 0)]
            fname = names.get(table)
            lines.append("")
            lines.append(f"== {table}{f' ({fname})' if fname else ''}: {', '.join(parts)} ==")
            by_check = g.groupby(["severity", "check"], sort=False).size()
            if len(by_check) > 1:
                lines.append(f"  {word('by_check', lang)}: " + "; ".join(f"{chk} {n:,}" for (_, chk), n in by_check.items()))
            if limit is not None:
                rank = g.groupby(["severity", "check"], sort=False).cumcount()
                hidden = g[rank >= limit].groupby(["severity", "check"], sort=False).size()
                g = g[rank < limit]
            word_row = word("row" if (fname or "").endswith(".parquet") else "line", lang)
            rows = g["row"].astype("object").where(g["row"].notna(), None)
            for sev, row, col, val, exp, chk in zip(g["severity"], rows, g["column"], g["value"],
                                                    g["expected"], g["check"]):
                where = []
                if row is not None:
                    where.append(f"{word_row} {int(row)}")
                if isinstance(col, str) and col:
                    where.append(f"{word('column', lang)} {col}")
                if isinstance(val, str):
                    where.append(f"{word('value', lang)} {quote(val, lang) if lang != 'en' else _quote(val)}")
                head = ", ".join(where)
                sev_w = sev if lang == "en" else word(sev, lang)
                lines.append(f"  {sev_w:<7} {head + ': ' if head else ''}{word('expected', lang)} "
                             f"{translate(exp, lang)} [{chk}]")
            if limit is not None:
                for (sev, chk), n in hidden.items():
                    sev_w = sev if lang == "en" else word(sev, lang)
                    lines.append(f"  {sev_w:<7} {word('more', lang, n=f'{n:,}', check=chk)}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()

    def __repr__(self) -> str:
        return f"<ValidationReport {self.n_errors} errors, {self.n_warnings} warnings, folder={self.folder}>"

    def _repr_html_(self) -> str:  # pragma: no cover - JupyterLab display
        import html

        return "<pre>" + html.escape(self.format()) + "</pre>"


def _empty_issues() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="Int64" if c == "row" else "object") for c in REPORT_COLUMNS})


def _sort_issues(frame: pd.DataFrame) -> pd.DataFrame:
    f = frame.loc[:, list(REPORT_COLUMNS)].copy()
    f["row"] = f["row"].astype("Int64")
    for c in ("check", "table", "severity", "column", "value", "expected"):
        f[c] = f[c].astype("object").where(f[c].notna(), None)
    order_t = {t: i for i, t in enumerate(("(folder)",) + ALL_TABLES)}
    order_s = {s: i for i, s in enumerate(SEVERITIES)}
    key = pd.DataFrame({
        "t": f["table"].map(order_t).fillna(len(order_t)).astype(int),
        "s": f["severity"].map(order_s).astype(int),
        "r": f["row"].fillna(-1).astype("int64"),
        "i": np.arange(len(f)),
    }, index=f.index)
    key = key.sort_values(["t", "s", "r", "i"], kind="stable")
    return f.loc[key.index].reset_index(drop=True)


class _Collector:
    """Gathers issues as small frames (vectorised), never one Python object per bad cell."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.files = files
        self.parts: list[pd.DataFrame] = []

    def row_offset(self, table: str) -> int:
        p = self.files.get(table)
        return 2 if (p is not None and p.suffix.lower() == ".csv") else 1

    def add(self, *, check: str, table: str, severity: Severity = "error", rows: Any = None,
            column: Any = None, value: Any = None, expected: Any) -> None:
        """Add issues. ``rows`` are frame index labels (0-based positions in the file) or None;
        ``column``/``value``/``expected`` may be scalars or aligned sequences."""
        if rows is None:
            n = max((len(x) for x in (column, value, expected) if isinstance(x, (list, pd.Series, np.ndarray, pd.Index))),
                    default=1)
            row_col = pd.array([pd.NA] * n, dtype="Int64")
        else:
            r = np.asarray(rows, dtype="int64")
            n = len(r)
            if n == 0:
                return
            row_col = pd.array(r + self.row_offset(table), dtype="Int64")

        def col(x: Any) -> Any:
            if isinstance(x, (pd.Series, pd.Index, np.ndarray, list)):
                return pd.Series(list(x) if not isinstance(x, pd.Series) else x.to_numpy(), dtype="object").to_numpy()
            return [x] * n

        if table == "students" and rows is not None and value is not None:
            # personal data: never echo a cell
            value = NOT_SHOWN
        elif value is not None:  # nor, in any table, a value that looks like personal data
            value = _masked(value)

        self.parts.append(pd.DataFrame({
            "check": [check] * n, "table": [table] * n, "severity": [severity] * n, "row": row_col,
            "column": col(column), "value": col(value), "expected": col(expected),
        }))

    def frame(self) -> pd.DataFrame:
        parts = [p for p in self.parts if len(p)]
        return pd.concat(parts, ignore_index=True) if parts else _empty_issues()


def _masked(value: Any) -> Any:
    """``value`` (a scalar or a sequence) with every text that looks like personal data
    (``contract.PERSONAL_VALUE``: a date of birth, an identity or phone number) as ``NOT_SHOWN``."""
    if isinstance(value, str):
        return NOT_SHOWN if PERSONAL_VALUE.search(value) else value
    if isinstance(value, (list, np.ndarray, pd.Series, pd.Index)):
        v = pd.Series(list(value) if not isinstance(value, pd.Series) else value.to_numpy(), dtype="object")
        hit = v.map(lambda x: isinstance(x, str) and bool(PERSONAL_VALUE.search(x)))
        return v.where(~hit.astype(bool), NOT_SHOWN).to_numpy()
    return value


def _as_text(s: pd.Series) -> pd.Series:
    """Cell values as the user wrote them (``""`` for empty)."""
    return s.astype("object").where(s.notna(), "").astype(str)
