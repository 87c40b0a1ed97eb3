"""Check a cohort data folder against the data contract and report every violation at once.

What is checked (the data contract, ``shared/data-contract.md``, rule by rule):

* files: each required table (``schools``, ``communes``, ``graduates``, ``counseling``) is present as
  ``NAME.csv`` or ``NAME.parquet`` (both at once is an error, so is an unreadable or empty file);
  an absent optional table (``students``, ``labour_demand``, ``vocational_supply``) is a note;
* columns: every required column present; every cell of the right type (whole number, number,
  true/false), every code from its code list, no empty cell where a value is required;
* ranges: counts >= 0 and at most ``MAX_COUNT``, ``0 <= trained_counselors <= counselors``,
  ``employed_12m <= graduated``, ``khmer_share`` in 0..1, graduation years inside the review cycle
  (when ``years`` is given) and every year plausible (1990 to next year); a level-year of
  ``graduates`` whose counts are all 0 (a sheet not filled in?) is a warning;
* numbers are written with the digits 0-9 (full-width digits such as "１２", typed with an Asian
  input method, are refused, not read as missing), at most 15 digits;
* codes (``merged_into_code``, ``residence_commune_code``, every id and code column) are codes:
  letters, digits, ``_ . -`` and no spaces; placeholders such as "-", "NA" or "N/A" are refused
  (leave the cell empty);
* formula-like text: no text cell starts with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage
  return): a spreadsheet opening an evidence CSV would run it as a formula ("CSV injection",
  OWASP). The toolkit refuses such input here rather than altering it on output, so every CSV
  it writes holds the user's text unchanged;
* keys: ``schools.school_id``, ``communes.commune_code``, ``counseling`` school_id+year and the
  ``graduates`` cell key (school_id, year, level, [sex], [ethnicity], destination) unique;
* references: schools -> communes, graduates/counseling/students -> schools,
  labour_demand/vocational_supply -> communes;
* consistency: a graduates row's level is one its school teaches; a destination belongs to the row's
  level; the ``students`` microdata, when given, agree cell by cell with ``graduates``; the microdata
  hold no column that looks like a name, a national ID or a birth date (personal data).

Warnings (printed, never fail): school-years with graduates but no counseling row (*missing*, which is
not *uncovered*); level-years and school-years whose share of ``unknown`` destinations exceeds
``unknown_share_warning``; schools that report in some years and then stop or skip a year. Notes: optional
tables absent.

Messages about the ``students`` table never show a cell's value (``(not shown)``): a name or a
birth date typed into the wrong column must not travel into a report or a terminal.

Row numbers are the ones the user sees: in a CSV file, data row ``i`` (0-based) is **line** ``i + 2``
(the header is line 1; blank lines are counted, quoted fields spanning several lines are not); in a
Parquet file it is **row** ``i + 1``.

Why pandera (0.35, pandas backend) for the per-column rules: the rules are declarative (a column, its
type, its code list, its range), and pandera's ``DataFrameSchema`` states them as data, runs each check
as one vectorised operation over the whole column, and with ``lazy=True`` collects *every* failing cell
with its index into one ``failure_cases`` frame instead of stopping at the first -- exactly the
"all violations at once, with row and value" the contract asks for, and fast enough for ten million
student rows. Its messages are written for programmers (``isin(['THCS', 'THPT'])``), so each check
carries our own name and a sentence in the user's terms, and the failure cases are translated back
through them. pydantic (row-by-row models) would be orders of magnitude slower on microdata; Great
Expectations is far heavier and reports aggregates rather than each cell. Rules that span rows or
tables (keys, references, level/destination pairs, microdata agreement) are vectorised pandas
operations (``duplicated``, ``isin``, merges, group-bys) -- no Python loop over rows anywhere.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
from pandas.api import types as ptypes

from .io import TableReadError, read_table, table_files
from .contract import (
    ALL_DESTINATIONS,
    ALL_TABLES,
    DESTINATIONS,
    ETHNICITIES,
    FORMULA_STARTS,
    LEVELS,
    QUALIFICATIONS,
    REQUIRED_TABLES,
    SEXES,
    UNKNOWN,
    VOC_LEVELS,
)

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[str, ...] = ("error", "warning", "info")

#: Columns of :meth:`ValidationReport.to_frame`, in order.
REPORT_COLUMNS: tuple[str, ...] = ("check", "table", "severity", "row", "column", "value", "expected")

#: The accepted spellings of a boolean cell (case-insensitive).
TRUE_WORDS: tuple[str, ...] = ("true", "1", "yes")
FALSE_WORDS: tuple[str, ...] = ("false", "0", "no")
#: ``schools.levels`` codes; "THPT,THCS" and spaces around the comma are read as "THCS,THPT".
SCHOOL_LEVELS: tuple[str, ...] = ("THCS", "THPT", "THCS,THPT")
#: VSIC 2018 section letters (``labour_demand.sector``).
VSIC_SECTIONS: tuple[str, ...] = tuple("ABCDEFGHIJKLMNOPQRSTU")
#: The widest range of years the toolkit names (the import template's year cells allow it).
PLAUSIBLE_YEARS: tuple[int, int] = (1990, 2100)


def plausible_years() -> tuple[int, int]:
    """Years a data row may carry, even when no review cycle is given: no cohort graduated
    before 1990 in the data this toolkit reads, and none after next year (2099 is a typo)."""
    import datetime as _dt

    return PLAUSIBLE_YEARS[0], min(PLAUSIBLE_YEARS[1], _dt.date.today().year + 1)
#: Largest count in one cell (students, places, workers): a district's cell is far below it,
#: and a larger number is a typing error (or would overflow sums).
MAX_COUNT = 10_000_000
#: A code or id: letters, digits, ``_ . - /``, starting with a letter or digit, no spaces.
_CODE_RE = r"[0-9A-Za-z][0-9A-Za-z_.\-/]{0,63}"
#: Words that stand for "no value" and must not be taken for a code (compared lower-cased).
PLACEHOLDERS: tuple[str, ...] = ("-", "--", "—", "na", "n/a", "n.a.", "nan", "null", "none", "nil", "x", "?",
                                 "không", "khong", "không có", "0")
#: Table shown instead of a value in messages about the students table.
NOT_SHOWN = "(not shown)"

#: A whole number; "12.0" (as pandas writes a float column) is accepted, "1.000" is not: in
#: Vietnamese number formatting that is one thousand, and reading it as 1 would be silently wrong.
_INT_RE = r"[+-]?[0-9]{1,15}(?:\.0)?"
#: Column names in ``students`` that betray personal data (after lower-casing, stripping accents
#: and turning every non-alphanumeric run into ``_``).
_PERSONAL_RE = re.compile(
    r"^(?:name|ten|ho|ho_ten|hoten|ho_va_ten|ten_hoc_sinh|ho_ten_hoc_sinh|first_name|last_name|"
    r"student_name|full_name|fullname|given_name|family_name|surname)$"
    r"|(?:^|_)(?:cccd|cmnd|can_cuoc|national_id|nationalid|id_number|id_card|identity|citizen_id|"
    r"passport|dob|date_of_birth|birth_date|birthdate|birthday|ngay_sinh|ngaysinh|"
    r"phone|so_dien_thoai|sdt|address|dia_chi|email)(?:$|_)"
)


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
    v = value if len(value) <= limit else value[: limit - 1] + "…"
    return f"'{v}'"


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
        from .messages import quote, translate, word

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

        self.parts.append(pd.DataFrame({
            "check": [check] * n, "table": [table] * n, "severity": [severity] * n, "row": row_col,
            "column": col(column), "value": col(value), "expected": col(expected),
        }))

    def frame(self) -> pd.DataFrame:
        parts = [p for p in self.parts if len(p)]
        return pd.concat(parts, ignore_index=True) if parts else _empty_issues()


def _as_text(s: pd.Series) -> pd.Series:
    """Cell values as the user wrote them (``""`` for empty)."""
    return s.astype("object").where(s.notna(), "").astype(str)


# ------------------------------------------------------------------------------------------------
# Column rules
# ------------------------------------------------------------------------------------------------
Kind = Literal["str", "int", "float", "bool"]


@dataclass(frozen=True)
class ColumnSpec:
    """The contract for one column.

    ``required``: the column must exist; ``nullable``: empty cells allowed; ``codes``: the code
    list (exact, case-sensitive); ``min``/``max``: inclusive bounds on the typed value;
    ``cycle_year``: the value must be a year of the review cycle when one is given.
    """

    name: str
    kind: Kind = "str"
    required: bool = True
    nullable: bool = False
    codes: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    cycle_year: bool = False
    year: bool = False
    code: bool = False
    max_count: bool = False


def _c(name: str, kind: Kind = "str", **kw: Any) -> ColumnSpec:
    return ColumnSpec(name, kind, **kw)


_COUNT = dict(kind="int", min=0, max_count=True)

#: The contract, table by table (order = order of checks and of columns in messages).
TABLE_SPECS: dict[str, tuple[ColumnSpec, ...]] = {
    "schools": (
        _c("school_id", code=True), _c("school_name"), _c("commune_code", code=True),
        _c("levels", codes=SCHOOL_LEVELS), _c("ethnic_boarding", "bool"),
    ),
    "communes": (
        _c("commune_code", code=True), _c("commune_name"), _c("district_name"), _c("province_name"),
        _c("khmer_share", "float", min=0, max=1), _c("disadvantaged", "bool"),
        _c("merged_into_code", required=False, nullable=True, code=True),
        _c("merged_into_name", required=False, nullable=True),
    ),
    "graduates": (
        _c("school_id", code=True), _c("year", "int", year=True, cycle_year=True), _c("level", codes=LEVELS),
        _c("sex", required=False, codes=SEXES), _c("ethnicity", required=False, codes=ETHNICITIES),
        _c("destination", codes=ALL_DESTINATIONS), _c("students", **_COUNT),
    ),
    "counseling": (
        _c("school_id", code=True), _c("year", "int", year=True, cycle_year=True),
        _c("counselors", **_COUNT), _c("trained_counselors", **_COUNT),
        _c("sessions", required=False, nullable=True, **_COUNT),
        _c("students_counseled", required=False, nullable=True, **_COUNT),
    ),
    "students": (
        _c("student_key"), _c("school_id", code=True), _c("year", "int", year=True, cycle_year=True),
        _c("level", codes=LEVELS), _c("sex", codes=SEXES), _c("ethnicity", codes=ETHNICITIES),
        _c("poor_household", "bool"), _c("residence_commune_code", nullable=True, code=True),
        _c("counseled", "bool"), _c("destination", codes=ALL_DESTINATIONS),
    ),
    "labour_demand": (
        _c("survey_year", "int", year=True), _c("enterprise_id"), _c("commune_code", code=True),
        _c("sector", codes=VSIC_SECTIONS), _c("trade"), _c("qualification", codes=QUALIFICATIONS),
        _c("workers_needed", **_COUNT),
    ),
    "vocational_supply": (
        _c("year", "int", year=True), _c("institution_id"), _c("institution_name"), _c("commune_code", code=True),
        _c("trade"), _c("level", codes=VOC_LEVELS), _c("places", **_COUNT), _c("enrolled", **_COUNT),
        _c("graduated", **_COUNT), _c("employed_12m", nullable=True, **_COUNT),
    ),
}

#: Unique keys (graduates' key also takes sex/ethnicity when the file has those columns).
KEYS: dict[str, tuple[str, ...]] = {
    "schools": ("school_id",),
    "communes": ("commune_code",),
    "counseling": ("school_id", "year"),
    "graduates": ("school_id", "year", "level", "sex", "ethnicity", "destination"),
}
_OPTIONAL_KEY_PARTS = {"graduates": ("sex", "ethnicity")}

#: (table, column) -> (parent table, parent key)
REFERENCES: tuple[tuple[str, str, str, str], ...] = (
    ("schools", "commune_code", "communes", "commune_code"),
    ("graduates", "school_id", "schools", "school_id"),
    ("counseling", "school_id", "schools", "school_id"),
    ("students", "school_id", "schools", "school_id"),
    ("labour_demand", "commune_code", "communes", "commune_code"),
    ("vocational_supply", "commune_code", "communes", "commune_code"),
)


# -- vectorised cell tests (each returns a boolean Series, True = fine; NA cells count as fine) ---
def _true(s: pd.Series) -> pd.Series:
    return pd.Series(True, index=s.index)


def _is_textual(s: pd.Series) -> bool:
    return not (ptypes.is_numeric_dtype(s) or ptypes.is_bool_dtype(s))


def _int_ok(s: pd.Series) -> pd.Series:
    if ptypes.is_bool_dtype(s):
        return s.isna()
    if ptypes.is_integer_dtype(s):
        return _true(s)
    if ptypes.is_float_dtype(s):
        v = s.to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            return pd.Series(np.isnan(v) | (np.isfinite(v) & (v == np.floor(v))), index=s.index)
    return s.astype("str").str.fullmatch(_INT_RE).fillna(True).astype(bool)


def _float_ok(s: pd.Series) -> pd.Series:
    if ptypes.is_bool_dtype(s):
        return s.isna()
    if ptypes.is_numeric_dtype(s):
        return _true(s)
    t = s.astype("str")
    ascii_ = t.str.fullmatch(r"[\x00-\x7f]*").fillna(True).astype(bool)
    return ((pd.to_numeric(t.where(ascii_), errors="coerce").notna() & ascii_) | t.isna()).astype(bool)


def _bool_ok(s: pd.Series) -> pd.Series:
    if ptypes.is_bool_dtype(s):
        return _true(s)
    if ptypes.is_numeric_dtype(s):
        return (s.isin([0, 1]) | s.isna()).astype(bool)
    t = s.astype("str").str.lower()
    return (t.isin(TRUE_WORDS + FALSE_WORDS) | t.isna()).astype(bool)


def _codes_ok(codes: tuple[str, ...], *, school_levels: bool = False) -> Callable[[pd.Series], pd.Series]:
    def check(s: pd.Series) -> pd.Series:
        if not _is_textual(s):
            return s.isna()
        t = s.astype("str")
        if school_levels:
            t = _normalise_school_levels(t)
        return (t.isin(codes) | t.isna()).astype(bool)

    return check


def _by_value(s: pd.Series, test: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``test`` run once per distinct value of ``s`` (codes and names repeat: a column of two
    million school ids holds a few dozen values); True where the cell is missing."""
    codes, uniques = pd.factorize(s)
    ok_u = test(pd.Series(np.asarray(uniques, dtype=object)).astype(str)).to_numpy(dtype=bool)
    ok = np.ones(len(s), dtype=bool)
    have = codes >= 0
    ok[have] = ok_u[codes[have]]
    return pd.Series(ok, index=s.index)


def _no_formula(s: pd.Series) -> pd.Series:
    if not _is_textual(s):
        return _true(s)
    return _by_value(s, lambda t: ~t.str.startswith(FORMULA_STARTS))


def _code_ok(s: pd.Series) -> pd.Series:
    if not _is_textual(s):
        return _true(s)

    def test(t: pd.Series) -> pd.Series:
        formula = t.str.startswith(FORMULA_STARTS)  # reported once, by _no_formula
        return t.str.fullmatch(_CODE_RE) & ~t.str.lower().isin(PLACEHOLDERS) | formula

    return _by_value(s, test)


def _normalise_school_levels(t: pd.Series) -> pd.Series:
    t = t.str.replace(" ", "", regex=False)
    return t.where(t != "THPT,THCS", "THCS,THPT")


_KIND_TEST = {"int": _int_ok, "float": _float_ok, "bool": _bool_ok}
_KIND_EXPECTED = {
    "int": "a whole number written with the digits 0-9, at most 15 digits (e.g. 12)",
    "float": "a number with a decimal point, written with the digits 0-9 (e.g. 0.25)",
    "bool": "true or false (also accepted: 1/0, yes/no)",
}


def _codes_text(codes: Iterable[str]) -> str:
    return "one of: " + ", ".join(codes)


def _n(v: float) -> str:
    """A bound as people write it: 10000000, not 1e+07."""
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _range_text(spec: ColumnSpec) -> str:
    if spec.min is not None and spec.max is not None:
        return f"a value between {_n(spec.min)} and {_n(spec.max)}"
    if spec.min is not None:
        return f"a value of at least {spec.min:g}" if spec.min else "a value of 0 or more"
    return f"a value of at most {spec.max:g}"


# -- coercion (one column to its contract type; cells that do not parse become missing) ----------
def coerce_column(s: pd.Series, kind: Kind) -> pd.Series:
    """``s`` converted to the contract type of ``kind``.

    str -> pandas string dtype; int -> int64 (``Int64`` when a cell is missing or does not parse);
    float -> float64; bool -> bool (``boolean`` when a cell is missing or does not parse). Already
    typed columns pass through without a copy.
    """
    if kind == "str":
        if ptypes.is_string_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype) and s.dtype != object:
            return s
        if ptypes.is_float_dtype(s):
            ok = _int_ok(s) & s.notna()
            if bool(ok.sum() == s.notna().sum()):
                return s.astype("Int64").astype("str")
        return s.astype("str")
    if kind == "int":
        if ptypes.is_integer_dtype(s) and not ptypes.is_bool_dtype(s):
            if s.dtype == np.dtype("int64"):
                return s
            return s.astype("int64") if not s.hasnans else s.astype("Int64")
        ok = _int_ok(s)
        if ptypes.is_numeric_dtype(s) and not ptypes.is_bool_dtype(s):
            num = s.astype("float64").where(ok)
        elif ptypes.is_bool_dtype(s):
            num = pd.Series(np.nan, index=s.index)
        else:
            num = pd.to_numeric(s.astype("str").where(ok), errors="coerce")
        if num.notna().all():
            return num.astype("int64")
        return num.round().astype("Int64")
    if kind == "float":
        if ptypes.is_bool_dtype(s):
            return pd.Series(np.nan, index=s.index, dtype="float64")
        if ptypes.is_numeric_dtype(s):
            return s.astype("float64")
        return pd.to_numeric(s.astype("str"), errors="coerce").astype("float64")
    if kind == "bool":
        if ptypes.is_bool_dtype(s):
            return s if s.dtype == np.dtype(bool) or s.hasnans else s.astype(bool)
        if ptypes.is_numeric_dtype(s):
            out = pd.Series(pd.NA, index=s.index, dtype="boolean")
            out[s == 1] = True
            out[s == 0] = False
        else:
            t = s.astype("str").str.lower()
            out = pd.Series(pd.NA, index=s.index, dtype="boolean")
            out[t.isin(TRUE_WORDS)] = True
            out[t.isin(FALSE_WORDS)] = False
        return out.astype(bool) if out.notna().all() else out
    raise ValueError(f"unknown column kind {kind!r}")


def coerce_table(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """A copy of table ``name`` with every contract column converted to its type (bad cells
    missing); extra columns are kept as they are."""
    out = df.copy(deep=False)
    for spec in TABLE_SPECS[name]:
        if spec.name in out.columns:
            col = coerce_column(out[spec.name], spec.kind)
            if spec.codes is SCHOOL_LEVELS:
                col = _normalise_school_levels(col)
            out[spec.name] = col
    return out


# -- pandera schemas -----------------------------------------------------------------------------
@dataclass
class _CheckMeta:
    check: str
    expected: str


@dataclass
class _Schema:
    schema: pa.DataFrameSchema
    meta: dict[str, list[_CheckMeta]] = field(default_factory=dict)


def _raw_schema(name: str) -> _Schema:
    """Presence, emptiness, type and code rules on the table as read (strings for CSV)."""
    cols, meta = {}, {}
    for spec in TABLE_SPECS[name]:
        checks, m = [], []
        if spec.kind in _KIND_TEST:
            checks.append(pa.Check(_KIND_TEST[spec.kind], name=f"type_{spec.kind}"))
            m.append(_CheckMeta("type", _KIND_EXPECTED[spec.kind]))
        if spec.codes is not None:
            checks.append(pa.Check(_codes_ok(spec.codes, school_levels=spec.codes is SCHOOL_LEVELS), name="code"))
            m.append(_CheckMeta("code", _codes_text(spec.codes)))
        if spec.kind == "str" and spec.codes is None and spec.name != "student_key":  # keys never leave the toolkit
            checks.append(pa.Check(_no_formula, name="formula"))
            m.append(_CheckMeta("formula_text", "text that does not start with =, +, -, @, a tab or a line break (a "
                                                "spreadsheet would run it as a formula when the evidence is opened); "
                                                "remove the first character"))
        if spec.code:
            checks.append(pa.Check(_code_ok, name="code_form"))
            m.append(_CheckMeta("code_form", "a code: letters and digits (also _ . - /), no spaces, not a placeholder "
                                             "such as '-' or 'NA' (leave the cell empty when there is none)"))
        cols[spec.name] = pa.Column(None, checks=checks, nullable=spec.nullable, required=spec.required,
                                    name=spec.name)
        meta[spec.name] = m
    return _Schema(pa.DataFrameSchema(cols, strict=False, coerce=False, name=name), meta)


def _typed_schema(name: str, years: list[int] | None) -> _Schema | None:
    """Range rules on the typed table (cells that did not parse are missing and skipped here)."""
    cols, meta = {}, {}
    for spec in TABLE_SPECS[name]:
        checks, m = [], []
        if spec.min is not None or spec.max is not None:
            lo, hi = spec.min, spec.max
            checks.append(pa.Check(lambda s, lo=lo, hi=hi: _in_range(s, lo, hi), name="range"))
            m.append(_CheckMeta("range", _range_text(spec)))
        if spec.max_count:
            checks.append(pa.Check(lambda s: _in_range(s, None, MAX_COUNT), name="max_count"))
            m.append(_CheckMeta("range", f"a count of at most {MAX_COUNT} (a larger number is a typing error)"))
        if spec.year and not (spec.cycle_year and years):  # the cycle's own years say more
            lo, hi = plausible_years()
            checks.append(pa.Check(lambda s, lo=lo, hi=hi: _in_range(s, lo, hi), name="year"))
            m.append(_CheckMeta("year_range", f"a calendar year between {lo} and {hi}"))
        if spec.cycle_year and years:
            ys = sorted({int(y) for y in years})
            span = f"{ys[0]}-{ys[-1]}" if ys == list(range(ys[0], ys[-1] + 1)) else ", ".join(map(str, ys))
            checks.append(pa.Check(lambda s, ys=ys: s.isin(ys) | s.isna(), name="cycle"))
            m.append(_CheckMeta("year_range", f"a graduation year of the review cycle ({span})"))
        if checks:
            cols[spec.name] = pa.Column(None, checks=checks, nullable=True, required=False, name=spec.name)
            meta[spec.name] = m
    if not cols:
        return None
    return _Schema(pa.DataFrameSchema(cols, strict=False, coerce=False, name=name), meta)


def _in_range(s: pd.Series, lo: float | None, hi: float | None) -> pd.Series:
    ok = pd.Series(True, index=s.index)
    if lo is not None:
        ok &= (s >= lo).fillna(True).astype(bool)
    if hi is not None:
        ok &= (s <= hi).fillna(True).astype(bool)
    return ok


def _run_schema(sch: _Schema, df: pd.DataFrame, table: str, raw: pd.DataFrame, out: _Collector) -> None:
    """Run a pandera schema lazily and translate its failure cases into issues."""
    try:
        sch.schema.validate(df, lazy=True, inplace=True)
        return
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
    fc = fc.reset_index(drop=True)
    for (ctx, column, check, num), g in fc.groupby(
            [fc["schema_context"], fc["column"].fillna(""), fc["check"].astype(str),
             fc["check_number"].fillna(-1).astype(int)], sort=False, dropna=False):
        if check == "column_in_dataframe":
            for missing in g["failure_case"].astype(str):
                out.add(check="missing_column", table=table, column=missing, value=None,
                        expected=f"a column named '{missing}' (see the data contract for table {table})")
            continue
        rows = pd.to_numeric(g["index"], errors="coerce")
        have_rows = rows.notna()
        idx = rows[have_rows].astype("int64").to_numpy()
        if check == "not_nullable":
            out.add(check="missing_value", table=table, rows=idx, column=column, value="",
                    expected="a value (this column may not be empty)")
            continue
        metas = sch.meta.get(column, [])
        if 0 <= num < len(metas):
            meta = metas[num]
            values = _as_text(raw.loc[idx, column]) if column in raw.columns else g.loc[have_rows, "failure_case"].astype(str)
            out.add(check=meta.check, table=table, rows=idx, column=column, value=values.to_numpy(),
                    expected=meta.expected)
        else:  # a pandera failure we did not foresee: keep its own words rather than hide it
            out.add(check="schema", table=table, rows=idx if len(idx) else None, column=column or None,
                    value=g.loc[have_rows, "failure_case"].astype(str).to_numpy() if len(idx) else None,
                    expected=f"to pass pandera check {check}")


# ------------------------------------------------------------------------------------------------
# Cross-row and cross-table rules (vectorised)
# ------------------------------------------------------------------------------------------------
def _present(df: pd.DataFrame | None, *cols: str) -> bool:
    return df is not None and all(c in df.columns for c in cols)


def _check_personal(raw: pd.DataFrame, out: _Collector) -> None:
    norm = [_normalise_name(c) for c in raw.columns]
    for col, n in zip(raw.columns, norm):
        if n != "student_key" and _PERSONAL_RE.search(n):
            out.add(check="personal_data", table="students", column=col, value="(values not shown)",
                    expected="no name, national ID, birth date or contact column in student microdata "
                             "(personal data): delete this column and keep only the pseudonymous student_key")


def _normalise_name(col: str) -> str:
    s = unicodedata.normalize("NFKD", str(col).replace("đ", "d").replace("Đ", "D"))
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "_", s).strip("_")


def _check_keys(table: str, df: pd.DataFrame, raw: pd.DataFrame, out: _Collector) -> None:
    key = [c for c in KEYS[table] if c in df.columns or c not in _OPTIONAL_KEY_PARTS.get(table, ())]
    if not _present(df, *key):
        return
    k = df[key]
    complete = k.notna().all(axis=1)
    k = k[complete]
    dup = k.duplicated(keep=False)
    if not dup.any():
        return
    d = k[dup]
    first = d.groupby(key, sort=False, observed=True, dropna=False).ngroup()
    first_row = pd.Series(d.index, index=d.index).groupby(first.to_numpy()).transform("min")
    off = out.row_offset(table)
    word = "row" if off == 1 else "line"
    values = _as_text(raw.loc[d.index, key[0]]).to_numpy(dtype=object) if len(key) == 1 else \
        _join_text(raw.loc[d.index, key])
    count = first.map(first.value_counts())
    expected = ("a unique " + " + ".join(key) + " (the same key is on " + count.astype(str) + " " + word
                + "s, first on " + word + " " + (first_row + off).astype(str) + ")")
    out.add(check="duplicate_key", table=table, rows=d.index.to_numpy(), column=", ".join(key),
            value=values, expected=expected.to_numpy())


def _join_text(df: pd.DataFrame) -> np.ndarray:
    cols = [_as_text(df[c]) for c in df.columns]
    s = cols[0]
    for c in cols[1:]:
        s = s + " / " + c
    return s.to_numpy(dtype=object)


def _post2025_units(communes: pd.DataFrame) -> pd.Series:
    """Post-2025 commune code -> the pre-2025 units it was formed from (text), from the communes
    table's ``merged_into_code`` and the shipped 2025 crosswalk."""
    from .reference import commune_crosswalk

    pairs = [commune_crosswalk()[["commune_code", "merged_into_code"]]]
    if _present(communes, "merged_into_code"):
        pairs.append(communes[["commune_code", "merged_into_code"]])
    both = pd.concat(pairs, ignore_index=True).dropna().astype(str).drop_duplicates()
    return both.groupby("merged_into_code")["commune_code"].agg(lambda s: ", ".join(sorted(s)))


def _check_references(tables: dict[str, pd.DataFrame], raws: dict[str, pd.DataFrame], out: _Collector) -> None:
    post = None
    for child, col, parent, pkey in REFERENCES:
        c, p = tables.get(child), tables.get(parent)
        if not (_present(c, col) and _present(p, pkey)):
            continue
        v = c[col]
        bad = v.notna() & ~v.isin(p[pkey].dropna().unique())
        if bad.any() and parent == "communes":
            # a commune of the other geography: the communes after 1/7/2025 in a folder keyed by
            # the units before it (the contract's key) gets its own message naming those units
            post = _post2025_units(p) if post is None else post
            other = bad & v.astype(str).isin(post.index)
            if other.any():
                idx = v.index[other.to_numpy()]
                formed = v[idx].astype(str).map(post)
                out.add(check="geography", table=child, rows=idx.to_numpy(), column=col,
                        value=_as_text(raws[child].loc[idx, col]).to_numpy(),
                        expected=("a commune before 1/7/2025 listed in communes (this is a commune after the "
                                  "2025 reorganisation, formed from " + formed + ")").to_numpy())
                bad &= ~other
        if bad.any():
            idx = v.index[bad.to_numpy()]
            out.add(check="reference", table=child, rows=idx.to_numpy(), column=col,
                    value=_as_text(raws[child].loc[idx, col]).to_numpy(),
                    expected=f"a {pkey} listed in {parent}")


def _check_levels_taught(tables: dict[str, pd.DataFrame], raws: dict[str, pd.DataFrame], out: _Collector) -> None:
    g, s = tables.get("graduates"), tables.get("schools")
    if not (_present(g, "school_id", "level") and _present(s, "school_id", "levels")):
        return
    sch = s.loc[s["levels"].isin(SCHOOL_LEVELS) & s["school_id"].notna(), ["school_id", "levels"]]
    sch = sch.drop_duplicates("school_id")
    lv = g["school_id"].map(pd.Series(sch["levels"].to_numpy(), index=sch["school_id"].to_numpy()))
    known = lv.notna() & g["level"].isin(LEVELS)
    taught = (lv == g["level"]) | (lv == "THCS,THPT")
    bad = known & ~taught.fillna(False).astype(bool)
    if bad.any():
        idx = g.index[bad.to_numpy()]
        expected = ("a level taught by school " + g.loc[idx, "school_id"].astype(str) + " (levels "
                    + lv[idx].astype(str) + " in schools)")
        out.add(check="level_not_taught", table="graduates", rows=idx.to_numpy(), column="level",
                value=_as_text(raws["graduates"].loc[idx, "level"]).to_numpy(), expected=expected.to_numpy())


def _check_destination_level(table: str, df: pd.DataFrame, raw: pd.DataFrame, out: _Collector) -> None:
    if not _present(df, "level", "destination"):
        return
    lev, dest = df["level"], df["destination"]
    bad = pd.Series(False, index=df.index)
    for level, allowed in DESTINATIONS.items():  # loop over the two levels, not over rows
        bad |= ((lev == level) & dest.isin(ALL_DESTINATIONS) & ~dest.isin(allowed)).fillna(False).astype(bool)
    if bad.any():
        idx = df.index[bad.to_numpy()]
        exp = {lv: f"a destination after {lv}: " + ", ".join(ds) for lv, ds in DESTINATIONS.items()}
        out.add(check="destination_level", table=table, rows=idx.to_numpy(), column="destination",
                value=_as_text(raw.loc[idx, "destination"]).to_numpy(),
                expected=lev[idx].map(exp).to_numpy())


def _check_trained(df: pd.DataFrame, raw: pd.DataFrame, out: _Collector) -> None:
    if not _present(df, "counselors", "trained_counselors"):
        return
    t, c = df["trained_counselors"], df["counselors"]
    bad = (t > c).fillna(False).astype(bool) & (c >= 0).fillna(False).astype(bool)
    if bad.any():
        idx = df.index[bad.to_numpy()]
        out.add(check="range", table="counseling", rows=idx.to_numpy(), column="trained_counselors",
                value=_as_text(raw.loc[idx, "trained_counselors"]).to_numpy(),
                expected=("at most the number of counselors on the same row ("
                          + c[idx].astype("int64").astype(str) + ")").to_numpy())


def _check_employed(df: pd.DataFrame, raw: pd.DataFrame, out: _Collector) -> None:
    """Graduates employed within 12 months cannot outnumber the graduates of the same row."""
    if not _present(df, "graduated", "employed_12m"):
        return
    e, g = df["employed_12m"], df["graduated"]
    bad = (e > g).fillna(False).astype(bool) & (g >= 0).fillna(False).astype(bool)
    if bad.any():
        idx = df.index[bad.to_numpy()]
        out.add(check="range", table="vocational_supply", rows=idx.to_numpy(), column="employed_12m",
                value=_as_text(raw.loc[idx, "employed_12m"]).to_numpy(),
                expected=("at most the number graduated on the same row ("
                          + g[idx].astype("int64").astype(str) + ")").to_numpy())


def _check_zero_years(df: pd.DataFrame, out: _Collector) -> None:
    """A level-year of graduates whose counts are all 0: a warning (the sheet may not have been
    filled in; the review reports that year's rate as not computable rather than 0/0)."""
    if not _present(df, "level", "year", "students"):
        return
    ok = df["level"].isin(LEVELS) & df["year"].notna() & df["students"].notna()
    d = df[ok.fillna(False).astype(bool).to_numpy()]
    if d.empty:
        return
    tot = d.groupby(["level", "year"], observed=True)["students"].agg(["sum", "size"])
    zero = tot[tot["sum"] == 0]
    for (level, year), r in zero.iterrows():  # one issue per level-year (a handful at most)
        out.add(check="zero_year", table="graduates", severity="warning", column="students", value=None,
                expected=f"at least one graduate of {level} in {int(year)}: all {int(r['size'])} rows of this level "
                         "and year have 0 students; fill in the counts, or delete the rows of a year without data")


def _arrow_column(s: pd.Series) -> "pyarrow.Array":
    """A column as an Arrow array without copying Arrow-backed text (dictionary text decoded)."""
    arr = pyarrow.array(s.array) if isinstance(s.array, pd.api.extensions.ExtensionArray) else pyarrow.array(s.to_numpy())
    if pyarrow.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    return arr


def _count_rows(df: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """Rows per distinct ``key`` (missing values form their own groups), as a small frame with a
    ``rows`` column. Arrow's multi-threaded hash aggregation: a few seconds for 10 million rows,
    no copy of the big frame."""
    tbl = pyarrow.table({c: _arrow_column(df[c]) for c in key})
    res = tbl.group_by(key).aggregate([([], "count_all")]).rename_columns(key + ["rows"])
    out = res.to_pandas()
    for c in key:
        if c == "year":
            out[c] = out[c].astype("Int64")
        else:
            out[c] = out[c].astype("str")
    out["rows"] = out["rows"].astype("int64")
    return out


def _check_microdata(tables: dict[str, pd.DataFrame], out: _Collector) -> None:
    """Where students and graduates both cover a school-year-level, their cell counts must agree.

    Cells are school_id x year x level (x sex, x ethnicity when graduates has them) x destination;
    a school-year-level is compared when both tables have rows for it and none of its rows on
    either side has an unreadable key or count (those are reported already).
    """
    g, st = tables.get("graduates"), tables.get("students")
    base = ["school_id", "year", "level", "destination"]
    if not (_present(g, *base, "students") and _present(st, *base)):
        return
    key = base[:3] + [c for c in ("sex", "ethnicity") if c in g.columns and c in st.columns] + ["destination"]
    grp = base[:3]
    sagg = _count_rows(st, key).rename(columns={"rows": "microdata"})
    s_bad = sagg[key].isna().any(axis=1)
    g_bad = g[key + ["students"]].isna().any(axis=1)
    bad_groups = pd.concat([g.loc[g_bad, grp], sagg.loc[s_bad, grp].astype({"year": "Int64"})])
    bad_groups = bad_groups.dropna().astype({"year": "int64"}).drop_duplicates()
    sagg = sagg[~s_bad].astype({"year": "int64"})
    gv = g.loc[~g_bad, key + ["students"]].astype({"year": "int64"})
    gv = gv.assign(_row=gv.index.to_numpy())
    gagg = (gv.groupby(key, observed=True, sort=False)
            .agg(graduates=("students", "sum"), _row=("_row", "min")).reset_index())
    both = gagg.merge(sagg, on=key, how="outer")
    common = gv[grp].drop_duplicates().merge(sagg[grp].drop_duplicates(), on=grp)
    if len(bad_groups):
        common = common.merge(bad_groups.assign(_bad=1), on=grp, how="left")
        common = common[common["_bad"].isna()].drop(columns="_bad")
    both = both.merge(common, on=grp)
    both["graduates"] = both["graduates"].fillna(0).astype("int64")
    both["microdata"] = both["microdata"].fillna(0).astype("int64")
    diff = both[both["graduates"] != both["microdata"]]
    if diff.empty:
        return
    cell = pd.Series("", index=diff.index, dtype=object)
    for i, c in enumerate(key):
        cell = cell + ("" if i == 0 else ", ") + c + "=" + diff[c].astype(str)
    expected = (diff["microdata"].astype(str) + " = the number of students rows in the cell (" + cell + ")")
    has_row = diff["_row"].notna()
    if has_row.any():
        d = diff[has_row]
        out.add(check="microdata_mismatch", table="graduates", rows=d["_row"].astype("int64").to_numpy(),
                column="students", value=d["graduates"].astype(str).to_numpy(), expected=expected[has_row].to_numpy())
    if (~has_row).any():
        d = diff[~has_row]
        out.add(check="microdata_mismatch", table="graduates", rows=None, column="students",
                value=["(no row)"] * len(d),
                expected=("a graduates row with students " + expected[~has_row]).to_numpy())


# -- warnings ------------------------------------------------------------------------------------
def _warn_counseling_missing(tables: dict[str, pd.DataFrame], out: _Collector) -> None:
    g, c = tables.get("graduates"), tables.get("counseling")
    if not (_present(g, "school_id", "year") and _present(c, "school_id", "year")):
        return
    sy = g[["school_id", "year"]].dropna().drop_duplicates()
    m = sy.merge(c[["school_id", "year"]].dropna().drop_duplicates(), how="left", indicator=True)
    miss = m[m["_merge"] == "left_only"].sort_values(["school_id", "year"])
    if miss.empty:
        return
    out.add(check="counseling_missing", table="counseling", severity="warning", column="school_id, year",
            value=(miss["school_id"].astype(str) + " / " + miss["year"].astype("int64").astype(str)).to_numpy(),
            expected="a counseling row for each school-year with graduates (the school-year counts as "
                     "missing, not as uncovered)")


def _warn_unknown_share(g: pd.DataFrame | None, threshold: float, out: _Collector) -> None:
    if not _present(g, "school_id", "year", "level", "destination", "students"):
        return
    v = g.dropna(subset=["school_id", "year", "level", "destination", "students"])
    v = v.assign(_unk=v["students"].where(v["destination"] == UNKNOWN, 0))
    for by, label in ((["level", "year"], None), (["school_id", "level", "year"], "school ")):
        a = v.groupby(by, observed=True, sort=True)[["students", "_unk"]].sum()
        a = a[a["students"] > 0]
        share = a["_unk"] / a["students"]
        hi = a[share > threshold].reset_index()
        if hi.empty:
            continue
        sh = share[share > threshold].to_numpy()
        who = hi["level"].astype(str) + " " + hi["year"].astype("int64").astype(str)
        if label:
            who = "school " + hi["school_id"].astype(str) + ", " + who
        value = (who + ": " + pd.Series(np.round(sh * 100, 1)).astype(str).to_numpy() + "% unknown ("
                 + hi["_unk"].astype("int64").astype(str) + " of " + hi["students"].astype("int64").astype(str) + ")")
        out.add(check="unknown_share", table="graduates", severity="warning", column="destination",
                value=value.to_numpy(),
                expected=f"at most {threshold:.0%} of graduates with destination 'unknown' "
                         f"({'per school, level and year' if label else 'per level and year, whole district'})")


def _warn_reporting_gaps(g: pd.DataFrame | None, out: _Collector) -> None:
    if not _present(g, "school_id", "year", "level"):
        return
    v = g[["school_id", "level", "year"]].dropna().drop_duplicates()
    if v.empty:
        return
    last = int(v["year"].max())
    a = v.groupby(["school_id", "level"], observed=True).agg(first=("year", "min"), lastr=("year", "max"),
                                                             n=("year", "nunique"))
    flagged = a[(a["lastr"] < last) | (a["n"] < a["lastr"] - a["first"] + 1)]
    if flagged.empty:
        return
    f = flagged.reset_index()
    span = (last - f["first"] + 1).to_numpy()
    grid = pd.DataFrame({
        "school_id": np.repeat(f["school_id"].to_numpy(), span),
        "level": np.repeat(f["level"].to_numpy(), span),
        "year": np.concatenate([np.arange(a0, last + 1) for a0 in f["first"].to_numpy()]),
    })
    grid = grid.merge(v.assign(_has=1), on=["school_id", "level", "year"], how="left")
    missing = grid[grid["_has"].isna()]
    gaps = (missing.groupby(["school_id", "level"], observed=True)["year"]
            .agg(lambda y: _year_ranges(y.to_numpy())))  # one call per flagged school, not per row
    present = (v.merge(f[["school_id", "level"]], on=["school_id", "level"])
               .groupby(["school_id", "level"], observed=True)["year"].agg(lambda y: _year_ranges(y.to_numpy())))
    idx = gaps.index
    value = ("school " + idx.get_level_values(0).astype(str) + " (" + idx.get_level_values(1).astype(str)
             + "): graduates reported for " + present.reindex(idx).to_numpy() + ", none for " + gaps.to_numpy())
    out.add(check="reporting_gap", table="graduates", severity="warning", column="year", value=np.asarray(value),
            expected=f"graduates rows in every year from the school's first year to the last year of data ({last})")


def _year_ranges(years: np.ndarray) -> str:
    ys = sorted(int(y) for y in set(years.tolist()))
    parts, start = [], None
    for i, y in enumerate(ys):
        if start is None:
            start = y
        if i + 1 == len(ys) or ys[i + 1] != y + 1:
            parts.append(str(start) if start == y else f"{start}-{y}")
            start = None
    return ", ".join(parts)


# ------------------------------------------------------------------------------------------------
# Entry points
# ------------------------------------------------------------------------------------------------
def check_tables(tables: dict[str, pd.DataFrame], files: dict[str, Path] | None = None, *,
                 years: Iterable[int] | None = None, unknown_share_warning: float = 0.10,
                 folder: Path | None = None, prior: _Collector | None = None,
                 ) -> tuple[ValidationReport, dict[str, pd.DataFrame]]:
    """Validate tables and also return them typed (cells that failed are missing).

    The engine behind :func:`validate_tables` and :func:`evaluation.data.load_cohort`. Each frame's
    index must be the 0-based data-row position in its file (``evaluation.data.read_table`` reads
    them so); row numbers in the report are derived from it.
    """
    files = dict(files or {})
    out = prior if prior is not None else _Collector(files)
    out.files = files
    years_l = sorted({int(y) for y in years}) if years is not None else None
    raws: dict[str, pd.DataFrame] = {}
    typed: dict[str, pd.DataFrame] = {}
    for name in ALL_TABLES:
        df = tables.get(name)
        if df is None:
            continue
        if df.index.has_duplicates or not ptypes.is_integer_dtype(df.index):
            df = df.reset_index(drop=True)
        df = df.rename(columns=lambda c: str(c).strip())
        raws[name] = df
        if name == "students":
            _check_personal(df, out)
        _run_schema(_raw_schema(name), df, name, df, out)
        t = coerce_table(name, df)
        ts = _typed_schema(name, years_l)
        if ts is not None:
            _run_schema(ts, t, name, df, out)
        typed[name] = t
    for name in KEYS:
        if name in typed:
            _check_keys(name, typed[name], raws[name], out)
    _check_references(typed, raws, out)
    _check_levels_taught(typed, raws, out)
    for name in ("graduates", "students"):
        if name in typed:
            _check_destination_level(name, typed[name], raws[name], out)
    if "counseling" in typed:
        _check_trained(typed["counseling"], raws["counseling"], out)
    if "vocational_supply" in typed:
        _check_employed(typed["vocational_supply"], raws["vocational_supply"], out)
    if "graduates" in typed:
        _check_zero_years(typed["graduates"], out)
    _check_microdata(typed, out)
    reported = _tables_with_file_issues(out)
    for name in REQUIRED_TABLES:
        if name not in tables and name not in reported and "(folder)" not in reported:
            out.add(check="file_missing", table=name, expected=f"a table {name} ({name}.csv or {name}.parquet)")
    # warnings look only at rows that passed the code and year rules (errors are reported already)
    g = typed.get("graduates")
    if _present(g, "level", "year"):
        keep = g["level"].isin(LEVELS) & g["year"].notna()
        if years_l:
            keep &= g["year"].isin(years_l)
        g = g[keep.fillna(False).astype(bool).to_numpy()]
    _warn_counseling_missing({**typed, "graduates": g} if g is not None else typed, out)
    _warn_unknown_share(g, unknown_share_warning, out)
    _warn_reporting_gaps(g, out)
    return ValidationReport(out.frame(), folder=folder, files=files), typed


def _tables_with_file_issues(out: _Collector) -> set[str]:
    checks = ["file_missing", "file_duplicate", "file_unreadable", "empty_table", "folder_missing"]
    return {t for p in out.parts for t in p.loc[p["check"].isin(checks), "table"]}


def validate_tables(tables: dict[str, pd.DataFrame], files: dict[str, Path] | None = None, *,
                    years: Iterable[int] | None = None, unknown_share_warning: float = 0.10) -> ValidationReport:
    """Check tables already in memory (name -> frame as read, index = 0-based row in the file).

    ``files`` (name -> path) decides how rows are numbered in the report (CSV line vs Parquet row);
    a table without a file is numbered like Parquet (1-based). A required table missing from
    ``tables`` is an error.
    """
    return check_tables(tables, files, years=years, unknown_share_warning=unknown_share_warning)[0]


def read_folder(folder: str | Path) -> tuple[dict[str, pd.DataFrame], dict[str, Path], _Collector]:
    """Read every contract table found in ``folder``; problems with files become issues."""
    folder = Path(folder)
    files: dict[str, Path] = {}
    tables: dict[str, pd.DataFrame] = {}
    out = _Collector(files)
    if not folder.is_dir():
        out.add(check="folder_missing", table="(folder)", value=str(folder),
                expected="an existing folder holding the cohort tables")
        return tables, files, out
    for name in ALL_TABLES:
        found = table_files(folder, name)
        if len(found) > 1:
            out.add(check="file_duplicate", table=name, value=", ".join(p.name for p in found),
                    expected=f"only one of {name}.csv or {name}.parquet (remove the other)")
            continue
        if not found:
            if name in REQUIRED_TABLES:
                xl = [p.name for p in folder.glob(f"{name}.xls*")]
                hint = f"; {xl[0]} must first be converted to CSV or Parquet" if xl else ""
                out.add(check="file_missing", table=name, value=None,
                        expected=f"a file {name}.csv or {name}.parquet in the folder (required table){hint}")
            else:
                out.add(check="table_absent", table=name, severity="info", value=None,
                        expected=f"optional table {name}.csv or {name}.parquet; the report sections that need "
                                 "it are skipped")
            continue
        try:
            df, path = read_table(folder, name)
        except TableReadError as exc:
            files[name] = exc.path
            kind = "Parquet file" if exc.path.suffix == ".parquet" else "CSV file (UTF-8, comma-separated, header row)"
            out.add(check="file_unreadable", table=name, value=exc.path.name, expected=f"a readable {kind}; {exc.reason}")
            continue
        files[name] = path
        if len(df) == 0:
            out.add(check="empty_table", table=name, severity="error", value=path.name,
                    expected="at least one data row below the header")
            continue
        tables[name] = df
    return tables, files, out


def validate_folder(folder: str | Path, *, years: Iterable[int] | None = None,
                    unknown_share_warning: float = 0.10) -> ValidationReport:
    """Check a cohort data folder against the data contract and return every issue found.

    ``years``: the graduation years of the review cycle (graduates, counseling and students
    years outside them are errors); ``None`` checks only that years are plausible.
    ``unknown_share_warning``: warn when more than this fraction (0..1) of a level-year's or a
    school-year's graduates have destination ``unknown``.
    """
    tables, files, out = read_folder(folder)
    report, _ = check_tables(tables, files, years=years, unknown_share_warning=unknown_share_warning,
                             folder=Path(folder), prior=out)
    return report
