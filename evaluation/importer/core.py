"""Import workbooks and CSV files into a validated cohort data folder.

Data moves one way: the user's files (never modified) -> grids of cells
(:mod:`.workbook`) -> tables found in each sheet (:mod:`.layout`) -> cells read as their
contract types (:mod:`.cells`), text decoded (:mod:`.vntext`) -> names matched to codes, student
records pseudonymised (:mod:`.students`) -> the same validation as any cohort folder
(:func:`evaluation.validation.check_tables`) -> CSV files written to a temporary folder,
validated again as a folder (:func:`evaluation.validation.validate_folder`) and only then moved
into place with the import report beside them. On any error nothing is written and
:class:`ImportFailed` lists every problem, each naming file, sheet, row, column and value.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import pandas as pd

from ..contract import ALL_DESTINATIONS, ALL_TABLES, DESTINATIONS, GEOGRAPHIES, REQUIRED_TABLES
from ..reference import commune_crosswalk
from ..contract import TABLE_SPECS
from ..fsutil import swap_into_place, would_delete
from ..validation import check_tables, validate_folder
from . import cells as C
from .headers import SKIP_SHEETS, sheet_table, sheet_tables
from .issues import ImportFailed, ImportIssue, KeyMissing
from .headers import map_choices as _map_choices_list
from .layout import KEY_FIELDS, NUMERIC_FIELDS, Column, Layout, _numeric_like, best_header_row, find_layout
from .students import DIRECT_IDENTIFIERS, PseudonymKey, graduates_from_students, identity, load_key
from .vntext import decode_column, fold, match_names, nfc
from .workbook import Grid, Unreadable, read_file

REPORT_MD = "import_report.md"
REPORT_JSON = "import_report.json"
#: Fields a table's rows need besides the contract columns while importing.
_YEAR_FIELDS = {"graduates": "year", "counseling": "year", "students": "year", "vocational_supply": "year",
                "labour_demand": "survey_year"}
_LEVEL_TABLES = ("graduates", "students")
#: Tables that may come as a sheet per school (no school column; the sheet's name is the school).
_SCHOOL_SHEET_TABLES = ("graduates", "counseling")
_PERSONAL = set(DIRECT_IDENTIFIERS)
#: Fields that hold no data: read, logged, never written.
_INERT = ("row_number", "note", "ignore", "personal_other", "rate")
#: The file beside the inputs that maps headers to fields (one "header = field" a line).
MAP_FILE = "import_map.txt"
#: Sort keys of the written tables (destination in contract order).
SORT_KEYS: dict[str, tuple[str, ...]] = {
    "schools": ("school_id",), "communes": ("commune_code",),
    "graduates": ("school_id", "year", "level", "sex", "ethnicity", "destination"),
    "counseling": ("school_id", "year"),
    "students": ("school_id", "year", "level", "student_key"),
    "labour_demand": ("survey_year", "enterprise_id", "commune_code", "sector", "trade", "qualification"),
    "vocational_supply": ("year", "institution_id", "trade", "level"),
}


# ------------------------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------------------------
@dataclass
class ImportResult:
    """What an import wrote: ``out`` (the cohort folder), ``tables`` (table -> rows written),
    ``report`` (the import report as a dict, also in ``import_report.json``), ``validation``
    (the folder's validation report: warnings and notes only, since it passed)."""

    out: Path
    tables: dict[str, int]
    report: dict[str, Any]
    validation: Any


@dataclass
class _Rec:
    """One output row while importing: ``values`` field -> value, ``src`` (file, sheet, row),
    ``cols`` field -> where the value came from (column label or a note)."""

    values: dict[str, Any]
    src: tuple[str, str | None, int | None]
    cols: dict[str, str] = field(default_factory=dict)


class _Log:
    """Decisions for the import report (grouped, counted) and problems (issues)."""

    def __init__(self) -> None:
        self.issues: list[ImportIssue] = []
        self.sheets: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.counts: dict[tuple[str, str], int] = {}
        self.failed: set[str] = set()  # tables a sheet of which could not be read at all

    def count(self, where: str, what: str, n: int = 1) -> None:
        self.counts[(where, what)] = self.counts.get((where, what), 0) + n

    def error(self, **kw: Any) -> None:
        self.issues.append(ImportIssue(**kw))


# ------------------------------------------------------------------------------------------------
# Reading one sheet
# ------------------------------------------------------------------------------------------------
def _reader(table: str, fld: str, col: Column | None) -> Callable[[Any, str], tuple[Any, str | None]]:
    if fld in ("year", "survey_year"):
        return C.read_year
    if fld in ("person_name", "person_id", "school", "commune", "residence_commune"):
        return C.read_text
    if fld == "birth_date":
        return lambda v, fmt="": (v, None)
    if fld == "female_mark":
        return C.read_bool
    if fld == "students" or fld.startswith("dest:") or fld == "total":
        return C.read_count
    spec = next((s for s in TABLE_SPECS[table] if s.name == fld), None)
    if spec is None:
        return C.read_text
    if spec.kind == "int":
        return C.read_count
    if spec.kind == "float":
        pct = col is not None and "%" in col.header
        return lambda v, fmt="": C.read_share(v, fmt, percent_header=pct)
    if spec.kind == "bool":
        return C.read_bool
    if fld == "levels":
        return C.read_school_levels
    if fld == "level":
        return C.read_voc_level if table == "vocational_supply" else C.read_level
    if fld == "sex":
        return C.read_sex
    if fld == "ethnicity":
        return C.read_ethnicity
    if fld == "destination":
        return C.read_destination
    if fld == "qualification":
        return C.read_qualification
    if fld == "sector":
        return C.read_sector
    return C.read_text


def _field_words(fld: str) -> str:
    return f"destination {fld[5:]}" if fld.startswith("dest:") else fld


def _map_word(fld: str) -> str:
    return fld[5:] if fld.startswith("dest:") else fld


def _map_choices(table: str) -> str:
    return ", ".join(_map_choices_list(table))


def _hint_year(text: str) -> tuple[int | None, str]:
    f = fold(text)
    m = re.search(r"\b((?:19|20)\d\d)\s+((?:19|20)\d\d)\b", f)
    if m and int(m.group(2)) == int(m.group(1)) + 1:
        return int(m.group(2)), f"school year {m.group(1)}-{m.group(2)}"
    ys = sorted(set(re.findall(r"\b(?:19|20)\d\d\b", f)))
    if len(ys) == 1:
        return int(ys[0]), ys[0]
    return None, ""


def _hint_level(text: str) -> str | None:
    words = set(fold(text).split())
    has = {lv for lv in ("thcs", "thpt") if lv in words}
    return has.pop().upper() if len(has) == 1 else None


def _sheet_label(grid: Grid) -> str:
    return f"{grid.file}" + (f" / {grid.sheet}" if grid.sheet is not None else "")


def _read_sheet(grid: Grid, table: str, lay: Layout, log: _Log, *, privacy: bool) -> list[_Rec]:
    by = lay.by_field()
    info: dict[str, Any] = {"file": grid.file, "sheet": grid.sheet, "table": table,
                            "header_rows": list(lay.header_rows), "layout": "wide" if lay.wide else "long",
                            "columns": [], "ignored_columns": [], "rows": {}, "decisions": list(lay.decisions)}
    for c in lay.columns:
        if c.field is None:
            if c.header:
                info["ignored_columns"].append(f"{c.label}: no known header, no numbers")
        elif c.field in _INERT:
            why = {"row_number": "row numbers", "note": "notes", "ignore": "left out as mapped",
                   "personal_other": "personal data outside the contract", "rate": "a rate worked out from counts"}
            info["ignored_columns"].append(f"{c.label}: {why[c.field]} ({c.why})")
        else:
            fld = c.field
            if lay.wide and fld in ("students", "total"):
                fld = "total of the row (checked against the destination columns, not written)"
            elif fld in _PERSONAL:
                fld = f"{fld} (used for the pseudonymous key, then dropped)"
            info["columns"].append({"column": c.label, "field": fld, "matched": c.how, "why": c.why})
    kinds = [k for _, k in lay.rows]
    for k in ("data", "total", "note", "blank", "numbering", "error"):
        if kinds.count(k):
            info["rows"][k] = kinds.count(k)
    log.sheets.append(info)
    # duplicated headers: two columns meaning one field (destination columns included)
    for fld, cols in by.items():
        if len(cols) > 1 and fld not in _INERT + ("total",):
            log.error(check="duplicate_header", file=grid.file, sheet=grid.sheet, row=lay.header_rows[0],
                      column=", ".join(c.label for c in cols), value=cols[0].how,
                      expected=f"one column for {fld.replace('dest:', 'destination ')}: {len(cols)} columns have a "
                               "header meaning it; delete or rename all but one")
    stop = any(len(cols) > 1 and f not in _INERT + ("total",) for f, cols in by.items())
    # nothing dropped silently: a header that fits two fields, or an unknown column holding numbers
    data_rows0 = [r for r, k in lay.rows if k == "data"]
    for c in lay.columns:
        if c.field is not None:
            continue
        if c.candidates:
            log.error(check="header_ambiguous", file=grid.file, sheet=grid.sheet, row=lay.header_rows[0],
                      column=c.label, value=c.header,
                      expected=f"one meaning for this header: it fits {' and '.join(_field_words(f) for f in c.candidates)}"
                               f" equally well; rename it, or say which with --map \"{c.header}={_map_word(c.candidates[0])}\""
                               f" (or that line in {MAP_FILE} beside the workbook)")
            stop = True
            continue
        n = sum(1 for r in data_rows0 if _numeric_like(grid.value(r, c.index)))
        if n:
            hid = " (a hidden column)" if c.hidden else ""
            if c.header:
                log.error(check="unmapped_column", file=grid.file, sheet=grid.sheet, row=lay.header_rows[0],
                          column=c.label, value=c.header,
                          expected=f"a known meaning for every column holding numbers: this column{hid} holds numbers "
                                   f"on {n} rows but its header fits no column of table {table}; map it with --map "
                                   f"\"{c.header}=FIELD\" or the line '{c.header}=FIELD' in {MAP_FILE} beside the "
                                   f"workbook (FIELD: {_map_choices(table)}; 'ignore' leaves it out knowingly)")
            else:
                log.error(check="unmapped_column", file=grid.file, sheet=grid.sheet, row=lay.header_rows[0],
                          column=c.label, value="",
                          expected=f"a header for every column holding numbers: this column{hid} has none and holds "
                                   f"numbers on {n} rows; write its header (e.g. one of: {_map_choices(table)}) or "
                                   "delete the column")
            stop = True
    if stop:
        return []
    # required fields of the layout
    keyf = [f for f in KEY_FIELDS[table] if f in by]
    school_sheet = None
    if not keyf and table in _SCHOOL_SHEET_TABLES and "year" in by and grid.sheet and not sheet_tables(grid.sheet):
        # a sheet per school: the sheet's name is the school, its rows are years
        school_sheet = nfc(grid.sheet)
        info["decisions"].append(f"a sheet per school: school '{school_sheet}' from the sheet name, rows by year")
        keyf = ["year"]
    if not keyf:
        want = " or ".join(f"'{f}'" for f in KEY_FIELDS[table] if f not in _PERSONAL) or "a student column"
        log.error(check="missing_column", file=grid.file, sheet=grid.sheet, row=lay.header_rows[0],
                  expected=f"a column for {want} in the header of table {table}; the header names: "
                           + ", ".join(c.label for c in lay.columns if c.header))
        return []
    if table == "graduates" and not lay.wide and not {"destination", "students"} <= set(by):
        miss = [f for f in ("destination", "students") if f not in by]
        log.error(check="missing_column", file=grid.file, sheet=grid.sheet, row=lay.header_rows[0],
                  expected=f"column(s) {', '.join(miss)} (long layout) or one column per destination (wide layout: "
                           "THPT, GDTX, Trung cấp, Sơ cấp, ...); the header names: "
                           + ", ".join(c.label for c in lay.columns if c.header))
        return []
    # every required column of the contract, or what stands for it
    alternatives = {"school_id": ("school",), "commune_code": ("commune",), "student_key": ("person_id", "person_name"),
                    "residence_commune_code": ("residence_commune",), "district_name": ("commune_code", "commune_name"),
                    "province_name": ("commune_code", "commune_name"), "sex": ("female_mark",),
                    "poor_household": (), "counseled": ()}
    optional_here = {"level", "year", "survey_year", "poor_household", "counseled", "residence_commune_code"}
    if lay.wide:
        optional_here |= {"destination", "students"}
    if school_sheet is not None:
        optional_here |= {"school_id"}
    missing = [s.name for s in TABLE_SPECS[table] if s.required and s.name not in by and s.name not in optional_here
               and not any(a in by for a in alternatives.get(s.name, ()))]
    if missing:
        log.error(check="missing_column", file=grid.file, sheet=grid.sheet, row=lay.header_rows[0],
                  expected=f"a column for {', '.join(missing)} (table {table}); the header names: "
                           + ", ".join(c.label for c in lay.columns if c.header))
        return []
    # text: decode every text cell of each used column (NFC, TCVN3, VNI), decided per column
    data_rows = [r for r, k in lay.rows if k in ("data", "total")]
    cellv: dict[tuple[int, int], Any] = {}
    for c in lay.columns:
        if not c.field or c.field in _INERT:
            continue
        vals = [grid.value(r, c.index) for r in data_rows]
        new, counts = decode_column(vals)
        for r, v in zip(data_rows, new):
            cellv[(r, c.index)] = v
        for what, n in counts.items():
            if n:
                log.count(f"{_sheet_label(grid)}, column {c.label}", {"nfc": "text normalised to Unicode NFC",
                          "tcvn3": "text converted from TCVN3 (ABC)", "vni": "text converted from VNI",
                          "ambiguous_kept": "text kept as Unicode (legacy reading no better)"}[what], n)
    # formulas without a saved result
    for (r, cidx) in sorted(grid.no_cached):
        if r in data_rows:
            col = next((c for c in lay.columns if c.index == cidx), None)
            log.error(check="formula_without_value", file=grid.file, sheet=grid.sheet, row=r,
                      column=col.label if col else None, value="(formula)",
                      expected="a value: the cell holds a formula whose result was never saved (the file was "
                               "written by a program that does not calculate); open the file in Excel or "
                               "LibreOffice and save it")
    # year and level from the sheet name or the title, when no column gives them
    hints: dict[str, tuple[Any, str]] = {}
    yf = _YEAR_FIELDS.get(table)
    if yf and yf not in by:
        y, why = _hint_year(grid.sheet or "")
        src = f"sheet name '{grid.sheet}'"
        if y is None:
            y, why = _hint_year(lay.title)
            src = "title above the table"
        if y is None:
            log.error(check="no_year", file=grid.file, sheet=grid.sheet,
                      expected="the graduation year: a column 'Năm tốt nghiệp', a sheet named by its year (e.g. "
                               "'2019' or '2018-2019'), or a title above the table naming the school year")
            return []
        hints[yf] = (y, f"{yf} {y} from the {src}")
        info["decisions"].append(f"{yf} {y} taken from the {src} ({why})")
    if table in _LEVEL_TABLES and "level" not in by:
        lv = _hint_level(grid.sheet or "") or _hint_level(lay.title)
        if lv is None and lay.wide:
            dests = {c.field[5:] for c in lay.columns if c.field and c.field.startswith("dest:")}
            only = {L for L, ds in DESTINATIONS.items() if dests <= set(ds)}
            if len(only) == 1:
                lv = only.pop()
                info["decisions"].append(f"level {lv} inferred from the destination columns")
        if lv is not None:
            hints["level"] = (lv, f"level {lv} from the sheet")
    if school_sheet is not None:
        hints["school"] = (school_sheet, f"sheet name '{grid.sheet}'")
    recs: list[_Rec] = []
    numeric = [c for c in lay.columns if c.field and (c.field in NUMERIC_FIELDS[table] or c.field.startswith("dest:"))]
    group_sum: dict[int, int] = {c.index: 0 for c in numeric}
    all_sum: dict[int, int] = {c.index: 0 for c in numeric}
    sum_ok = True
    for r, kind in lay.rows:
        if kind not in ("data", "total"):
            continue
        vals: dict[str, Any] = {}
        cols: dict[str, str] = {}
        nums: dict[int, int | None] = {}
        bad = False
        for c in lay.columns:
            if not c.field or c.field in _INERT:
                continue
            raw = cellv.get((r, c.index), grid.value(r, c.index))
            if kind == "total" and c not in numeric:
                continue
            try:
                v, note = _reader(table, c.field, c)(raw, grid.fmt(r, c.index))
            except C.CellError as e:  # a student list never shows a cell: what is typed may be a name, a birth date
                shown = "(not shown)" if privacy or c.field in _PERSONAL else C.shown(raw)
                log.error(check=e.check, file=grid.file, sheet=grid.sheet, row=r, column=c.label, value=shown,
                          expected=e.private if privacy else e.expected)
                bad = True
                sum_ok = False
                continue
            if note:
                log.count(f"{_sheet_label(grid)}, column {c.label}", note)
            if c in numeric:
                nums[c.index] = v
            if c.field.startswith("dest:") or c.field == "total" or (lay.wide and c.field == "students"):
                continue
            vals[c.field] = v
            cols[c.field] = c.label
        if kind == "total":
            _check_total(grid, r, numeric, nums, group_sum, all_sum, log, ok=sum_ok)
            for k in group_sum:
                group_sum[k] = 0
            continue
        for k, v in nums.items():
            if v is not None:
                group_sum[k] += v
                all_sum[k] += v
        if bad:
            continue
        for f, (v, why) in hints.items():
            vals.setdefault(f, v)
            cols.setdefault(f, why)
        if lay.wide:
            tot_cols = [c for c in numeric if c.field in ("students", "total")]
            dest_cols = [c for c in numeric if c.field.startswith("dest:")]
            s = sum(nums.get(c.index) or 0 for c in dest_cols)
            for tc in tot_cols:
                t = nums.get(tc.index)
                if t is not None and t != s:
                    log.error(check="total_column", file=grid.file, sheet=grid.sheet, row=r, column=tc.label,
                              value=str(t), expected=f"the sum of the destination columns on the same row ({s}); "
                                                     "the total and its parts disagree")
                    bad = True
            if bad:
                continue
            for c in dest_cols:
                n = nums.get(c.index)
                if n is None:
                    continue
                recs.append(_Rec(values={**vals, "destination": c.field[5:], "students": n},
                                 src=(grid.file, grid.sheet, r),
                                 cols={**cols, "destination": c.label, "students": c.label}))
        else:
            recs.append(_Rec(values=vals, src=(grid.file, grid.sheet, r), cols=cols))
    return recs


def _check_total(grid: Grid, r: int, numeric: list[Column], nums: dict[int, int | None], group_sum: dict,
                 all_sum: dict, log: _Log, *, ok: bool) -> None:
    """A total row must equal the sum of the rows since the previous total (a subtotal) or of all
    rows above (the grand total)."""
    for c in numeric:
        t = nums.get(c.index)
        if t is None or not ok:
            continue
        if t in (group_sum[c.index], all_sum[c.index]):
            log.count(f"{_sheet_label(grid)}", "total rows checked against their parts and left out")
            continue
        log.error(check="total_row", file=grid.file, sheet=grid.sheet, row=r, column=c.label, value=str(t),
                  expected=f"the sum of the rows it totals: the rows above sum to {all_sum[c.index]}"
                           + (f" (since the previous total: {group_sum[c.index]})"
                              if group_sum[c.index] not in (all_sum[c.index], 0) else "")
                           + "; the total row disagrees with its parts")


# ------------------------------------------------------------------------------------------------
# Which table does a sheet hold?
# ------------------------------------------------------------------------------------------------
def _sheet_kind(grid: Grid, kind: str | None, log: _Log, umap: Mapping[str, str] | None = None) -> str | None:
    name = grid.sheet if grid.sheet is not None else Path(grid.file).stem
    by_name = sheet_tables(name)
    if kind is not None:
        return kind if (not by_name or kind in by_name) else None
    if len(by_name) == 1:
        return by_name[0]
    pool = by_name or list(ALL_TABLES)
    scores = sorted(((best_header_row(grid, t, umap)[1], t) for t in pool), reverse=True)
    need = 1 if by_name else 3
    if scores[0][0] >= need and (len(scores) == 1 or scores[0][0] > scores[1][0]):
        log.notes.append(f"{_sheet_label(grid)}: read as table {scores[0][1]} (its header names "
                         f"{scores[0][0]} of that table's columns"
                         + (f"; its name fits {', '.join(by_name)})" if by_name else ")"))
        return scores[0][1]
    return None


# ------------------------------------------------------------------------------------------------
# Names -> codes, geography
# ------------------------------------------------------------------------------------------------
def _commune_registers(communes: list[_Rec] | None, base: dict[str, pd.DataFrame]) -> tuple[dict, dict, dict]:
    """(pre-2025 code -> name, post-2025 code -> name, post-2025 code -> [pre-2025 codes])."""
    pre: dict[str, str] = {}
    post: dict[str, str] = {}
    members: dict[str, list[str]] = {}
    cw = commune_crosswalk()
    rows: list[dict] = []
    if communes:
        rows = [r.values for r in communes]
    elif "communes" in base:
        rows = base["communes"].to_dict("records")
    if rows:
        for v in rows:
            code, name = v.get("commune_code"), v.get("commune_name")
            if code:
                pre[str(code)] = str(name or code)
    else:
        pre = dict(zip(cw["commune_code"], cw["commune_name"]))
    for src in (rows, cw.to_dict("records")):
        for v in src:
            mc, mn, c = v.get("merged_into_code"), v.get("merged_into_name"), v.get("commune_code")
            if isinstance(mc, str) and mc and isinstance(c, str):
                post.setdefault(mc, str(mn or mc))
                if c not in members.setdefault(mc, []):
                    members[mc].append(c)
    return pre, post, members


def _no_match(v: str):
    from .vntext import NameMatch

    return NameMatch(v, None, "unmatched")


def _resolve_communes(recs: list[_Rec], fields: tuple[str, str], target: str, pre: dict, post: dict,
                      members: dict, geography: str, log: _Log, table: str) -> None:
    """Set ``target`` (a pre-2025 commune code) from the code field or the name field."""
    code_f, name_f = fields
    values = {str(r.values[f]) for r in recs for f in (code_f, name_f) if r.values.get(f)}
    if not values:
        return
    m_pre = match_names(values, pre, kind="commune")
    m_post = match_names(values, post, kind="commune")
    pre_names = {c: n for c, n in pre.items()}
    for r in recs:
        f = code_f if r.values.get(code_f) else name_f
        v = r.values.pop(name_f, None) if f == name_f else r.values.get(code_f)
        if f == code_f:
            r.values.pop(name_f, None)
        elif name_f in r.cols:
            r.cols[target] = r.cols[name_f]
        if not v:
            continue
        v = str(v)
        mp, mq = m_pre[v], m_post[v]
        if f == code_f:  # a code is a code: only codes match it, never a name that folds alike
            mp = mp if mp.how.startswith("code") else _no_match(v)
            mq = mq if mq.how.startswith("code") else _no_match(v)
            if mp.code is None and mq.code is None:
                r.values[target] = v  # not a known code: the validation reports it against the communes table
                continue
        col = r.cols.get(f, f)
        if geography == "pre2025":
            if mp.code is not None:
                r.values[target] = mp.code
                if mp.how not in ("code",):
                    log.count(f"{table}: commune names matched to codes", f"'{v}' -> {mp.code} ({mp.how})")
                continue
            if mq.code is not None and mq.status == "matched":
                units = members.get(mq.code, [])
                alts = ", ".join(f"{c} ({pre_names.get(c, c)})" for c in units) or "the pre-2025 unit"
                log.error(check="commune_geography", file=r.src[0], sheet=r.src[1], row=r.src[2], column=col, value=v,
                          expected=f"a commune as it was before 1/7/2025 (geography pre2025): '{v}' is the commune "
                                   f"{mq.code} ({post.get(mq.code)}) formed by the 2025 reorganisation; use the "
                                   f"pre-2025 unit: {alts}")
                continue
        else:  # post2025: the input names communes after the reorganisation
            if mq.code is not None:
                units = members.get(mq.code, [])
                if len(units) == 1:
                    r.values[target] = units[0]
                    log.count(f"{table}: post-2025 communes mapped to their one pre-2025 unit",
                              f"'{v}' -> {units[0]}")
                    continue
                log.error(check="commune_geography", file=r.src[0], sheet=r.src[1], row=r.src[2], column=col, value=v,
                          expected=f"the pre-2025 unit: the post-2025 commune {mq.code} ({post.get(mq.code)}) was "
                                   f"formed from {len(units)} units ("
                                   + ", ".join(f"{c} {pre_names.get(c, '')}".strip() for c in units)
                                   + ") and the data contract keys communes by pre-2025 unit; which one cannot be "
                                     "inferred")
                continue
            if mp.code is not None and mp.status == "matched":
                merged = next((k for k, us in members.items() if mp.code in us), None)
                log.error(check="commune_geography", file=r.src[0], sheet=r.src[1], row=r.src[2], column=col, value=v,
                          expected=f"a commune after 1/7/2025 (geography post2025): '{v}' is the pre-2025 unit "
                                   f"{mp.code} ({pre_names.get(mp.code)})"
                                   + (f", part of {merged} ({post.get(merged)}) since 1/7/2025" if merged else ""))
                continue
        m = mp if geography == "pre2025" else mq
        word = "ambiguous" if m.status == "ambiguous" else "unmatched"
        log.error(check=f"commune_{word}", file=r.src[0], sheet=r.src[1], row=r.src[2], column=col, value=v,
                  expected=("exactly one commune: this name fits several, " if word == "ambiguous" else
                            "a commune of the register (communes table or the shipped 2025 crosswalk); ")
                           + f"candidates: {m.candidates_text()}")


def _resolve_schools(recs: list[_Rec], register: dict[str, str], log: _Log, table: str) -> None:
    names = {str(r.values["school"]) for r in recs if r.values.get("school") and not r.values.get("school_id")}
    if not names:
        for r in recs:
            r.values.pop("school", None)
        return
    if not register:
        r = next(r for r in recs if r.values.get("school"))
        log.error(check="no_school_register", file=r.src[0], sheet=r.src[1], row=r.src[2], column=r.cols.get("school"),
                  value=str(r.values["school"]),
                  expected="a schools table (a 'Trường học' sheet among the inputs, or --base) to match school "
                           "names to school codes")
        return
    m = match_names(names, register, kind="school")
    for r in recs:
        v = r.values.pop("school", None)
        if r.values.get("school_id") or not v:
            continue
        mm = m[str(v)]
        if mm.code is not None:
            r.values["school_id"] = mm.code
            r.cols["school_id"] = r.cols.get("school", "school")
            log.count(f"{table}: school names matched to codes", f"'{v}' -> {mm.code} ({mm.how})")
        else:
            log.error(check=f"school_{mm.status}", file=r.src[0], sheet=r.src[1], row=r.src[2],
                      column=r.cols.get("school"), value=str(v),
                      expected=("exactly one school: this name fits several; " if mm.status == "ambiguous" else
                                "a school of the schools table; ") + f"candidates: {mm.candidates_text()}")


# ------------------------------------------------------------------------------------------------
# Canonical text of a value (what is written and validated)
# ------------------------------------------------------------------------------------------------
def _canon(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return format(v, ".12g")
    return str(v)


def _frame(table: str, recs: list[_Rec], log: _Log) -> tuple[pd.DataFrame, list[_Rec]]:
    specs = [s.name for s in TABLE_SPECS[table]]
    present = [c for c in specs if any(r.values.get(c) is not None for r in recs)
               or any(s.name == c and s.required for s in TABLE_SPECS[table])]
    extra = sorted({k for r in recs for k in r.values} - set(specs))
    if extra:
        log.notes.append(f"{table}: import fields not written: {', '.join(extra)}")
    df = pd.DataFrame({c: [_canon(r.values.get(c)) for r in recs] for c in present}, dtype=object)
    keys = [k for k in SORT_KEYS[table] if k in df.columns]
    order = df.assign(_i=range(len(df)))
    if "destination" in keys:
        rank = {d: i for i, d in enumerate(ALL_DESTINATIONS)}
        order["destination"] = order["destination"].map(lambda d: rank.get(d, 99) if d is not None else 99)
    order = order.sort_values(keys + ["_i"], kind="stable", na_position="last")
    idx = order["_i"].tolist()
    df = df.iloc[idx].reset_index(drop=True)
    return df, [recs[i] for i in idx]


# ------------------------------------------------------------------------------------------------
# Entry point
# ------------------------------------------------------------------------------------------------
def import_files(files: Iterable[str | Path], out: str | Path, *, kind: str | None = None,
                 geography: str = "pre2025", years: Iterable[int] | None = None,
                 base: str | Path | None = None, key_file: str | Path | None = None,
                 overwrite: bool = False, environ: Mapping[str, str] | None = None,
                 mapping: Mapping[str, str] | Iterable[str] | None = None) -> ImportResult:
    """Import workbooks / CSV files into the cohort data folder ``out``.

    ``kind``: the table every sheet holds (``graduates``...) when sheet names do not say it.
    ``geography``: how the inputs name communes: ``pre2025`` (the units before 1/7/2025, as the
    contract keys them) or ``post2025`` (mapped back only where a post-2025 commune is a single
    pre-2025 unit). ``years``: graduation years of the review cycle (others are errors).
    ``base``: an existing cohort folder whose tables complete the inputs (e.g. schools and
    communes when importing a student list). ``key_file``: the pseudonymisation key file
    (student lists). ``overwrite``: replace an existing non-empty ``out``. ``mapping``: header
    text -> field for headers the importer does not know (``{"Đi học nước ngoài": "other"}``, or
    ``"HEADER=FIELD"`` strings as ``--map`` gives them); an ``import_map.txt`` file beside an input
    (one ``HEADER=FIELD`` a line, ``#`` comments) adds to it.

    Raises :class:`ImportFailed` (every problem listed, nothing written) or returns an
    :class:`ImportResult`.
    """
    files = [Path(f) for f in files]
    out = Path(out)
    log = _Log()
    if geography not in GEOGRAPHIES:
        raise ValueError(f"geography {geography!r}: expected one of {', '.join(GEOGRAPHIES)}")
    if kind is not None and kind not in ALL_TABLES:
        raise ValueError(f"kind {kind!r}: expected one of {', '.join(ALL_TABLES)}")
    refused = _refused_out(out, files, base=base, key_file=key_file)
    if refused is not None:
        raise ImportFailed([ImportIssue(check="output_protected", file=str(out), expected=refused)], out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise ImportFailed([ImportIssue(check="output_exists", file=str(out), expected=(
            "an output folder that does not exist yet or is empty: it already holds files; choose another "
            "folder or pass --overwrite to replace it"))], out)
    if not files:
        raise ImportFailed([ImportIssue(check="no_input", file="(none)", expected="at least one input file")], out)
    umap = _load_mapping(mapping, files, log)
    # 1. read every file and sheet
    per_table: dict[str, list[_Rec]] = {}
    empty_sheets: dict[str, list[Grid]] = {}
    layouts: list[tuple[Grid, str, Layout]] = []
    for path in files:
        try:
            grids = read_file(path)
        except Unreadable as exc:
            log.issues.append(exc.issue)
            continue
        used = 0
        for grid in grids:
            label = grid.sheet or ""
            if grid.sheet is not None and fold(label) in SKIP_SHEETS:
                log.notes.append(f"{_sheet_label(grid)}: instructions sheet, not read")
                continue
            if grid.hidden:
                log.notes.append(f"{_sheet_label(grid)}: hidden sheet, not read")
                continue
            if not any(v is not None for row in grid.values for v in row):
                log.notes.append(f"{_sheet_label(grid)}: empty sheet, not read")
                continue
            table = _sheet_kind(grid, kind, log, umap)
            if table is None:
                if kind is not None:
                    log.notes.append(f"{_sheet_label(grid)}: its name says it holds {sheet_table(label)}, not "
                                     f"{kind}; not read")
                    continue
                log.error(check="unknown_sheet", file=grid.file, sheet=grid.sheet, expected=(
                    "a sheet named after its table (Trường học, Xã, Tốt nghiệp, Tư vấn HN, Học sinh, Nhu cầu lao "
                    "động, Cơ sở GDNN, or the contract names schools, communes, graduates, ...) or --kind; this "
                    "sheet's name and header match no table"))
                continue
            lay = find_layout(grid, table, log.issues, umap)
            if lay is None:
                log.failed.add(table)
                continue
            if not any(k == "data" for _, k in lay.rows):
                if not any(k == "error" for _, k in lay.rows):
                    empty_sheets.setdefault(table, []).append(grid)
                    log.notes.append(f"{_sheet_label(grid)}: header of {table} but no data rows; not read")
                used += 1
                continue
            n_issues = len(log.issues)
            recs = _read_sheet(grid, table, lay, log, privacy=table == "students")
            if not recs and len(log.issues) > n_issues:
                log.failed.add(table)
            per_table.setdefault(table, []).extend(recs)
            layouts.append((grid, table, lay))
            used += 1
        if used == 0 and not any(i.file == path.name for i in log.issues):
            if kind is not None:
                names = ", ".join(f"'{g.sheet}'" for g in grids if g.sheet is not None) or "(a CSV file)"
                log.error(check="sheet_missing", file=path.name, expected=(
                    f"a sheet holding table {kind}; the sheets are: {names}"))
            else:
                names = ", ".join(f"'{g.sheet}'" for g in grids if g.sheet is not None)
                log.error(check="no_table", file=path.name, expected=(
                    f"at least one sheet with data of a contract table; the sheets are: {names or '(none)'}"))
    if umap:
        from .headers import canonical

        used = {canonical(c.how.split(" = ")[0]) for _, _, lay in layouts for c in lay.columns if c.score == 4}
        for head, target in umap.items():
            if canonical(head) not in used:
                log.notes.append(f"header mapping '{head}={target}' matched no column of the inputs")
    # 2. tables from the base folder
    base_tables: dict[str, pd.DataFrame] = {}
    base_files: dict[str, Path] = {}
    if base is not None:
        from ..data import read_table, table_files

        for name in ALL_TABLES:
            if name in per_table or not table_files(base, name):
                continue
            df, p = read_table(base, name)
            base_tables[name] = df
            base_files[name] = p
            log.notes.append(f"{name}: taken from the base folder ({p.name}, {len(df)} rows)")
    for name in REQUIRED_TABLES:
        if name in per_table or name in base_tables or (name == "graduates" and "students" in per_table):
            continue
        if name in empty_sheets:
            g = empty_sheets[name][0]
            log.error(check="no_data_rows", file=g.file, sheet=g.sheet, expected=(
                f"data rows below the header: table {name} is required and this sheet, the only one holding it, "
                "has none"))
        elif not log.issues:
            log.error(check="table_missing", file=", ".join(p.name for p in files), expected=(
                f"a sheet with table {name} (required by the data contract), or --base naming a cohort folder "
                f"that has it; the inputs hold: {', '.join(sorted(per_table)) or 'no table'}"))
    # every problem in one pass: the steps below run on what could be read, and their problems join
    # those above (a table whose sheet could not be read is left out of the checks that need it)
    # 3. names -> codes, geography
    pre, post, members = _commune_registers(per_table.get("communes"), base_tables)
    if "communes" in per_table:
        _fill_communes(per_table["communes"], log)
    if "schools" in per_table:
        _resolve_communes(per_table["schools"], ("commune_code", "commune"), "commune_code", pre, post, members,
                          geography, log, "schools")
    for t in ("labour_demand", "vocational_supply"):
        if t in per_table:
            _resolve_communes(per_table[t], ("commune_code", "commune"), "commune_code", pre, post, members,
                              geography, log, t)
    if "students" in per_table:
        _resolve_communes(per_table["students"], ("residence_commune_code", "residence_commune"),
                          "residence_commune_code", pre, post, members, geography, log, "students")
    school_reg: dict[str, str] = {}
    if "schools" in per_table:
        school_reg = {str(r.values["school_id"]): str(r.values.get("school_name") or r.values["school_id"])
                      for r in per_table["schools"] if r.values.get("school_id")}
    elif "schools" in base_tables:
        s = base_tables["schools"]
        school_reg = dict(zip(s["school_id"].astype(str), s["school_name"].astype(str)))
    for t in ("graduates", "counseling", "students"):
        if t in per_table:
            _resolve_schools(per_table[t], school_reg, log, t)
    # level from the only level a school teaches, where no column or sheet gives it
    school_levels = {}
    if "schools" in per_table:
        school_levels = {str(r.values.get("school_id")): r.values.get("levels") for r in per_table["schools"]}
    elif "schools" in base_tables:
        s = base_tables["schools"]
        school_levels = dict(zip(s["school_id"].astype(str), s["levels"].astype(str)))
    for t in _LEVEL_TABLES:
        for r in per_table.get(t, []):
            if r.values.get("level") is None:
                lv = school_levels.get(str(r.values.get("school_id")))
                if lv in ("THCS", "THPT"):
                    r.values["level"] = lv
                    r.cols["level"] = "level taught by the school"
                    log.count(f"{t}: level", f"level {lv} from the schools table (the school teaches only {lv})")
                else:
                    log.error(check="no_level", file=r.src[0], sheet=r.src[1], row=r.src[2],
                              expected="the level (THCS or THPT): a column 'Cấp học', a sheet or title naming THCS or "
                                       "THPT, or a school that teaches one level only")
    # 4. students: pseudonymise, drop identifiers
    key: PseudonymKey | None = None
    if "students" in per_table:
        try:
            key = load_key(key_file=key_file, out=out, environ=dict(environ) if environ is not None else None)
        except KeyMissing as exc:  # no student list is read without its key; the other problems come along
            raise KeyMissing(log.issues + exc.issues, out) from None
        _pseudonymise(per_table["students"], key, log)
    early = list(log.issues)
    # 5. frames, derived graduates, validation
    try:
        frames: dict[str, pd.DataFrame] = {}
        recs_of: dict[str, list[_Rec]] = {}
        for t, recs in per_table.items():
            frames[t], recs_of[t] = _frame(t, recs, log)
        if "students" in frames and "graduates" not in frames and "graduates" not in base_tables:
            st = frames["students"]
            g = graduates_from_students(st)
            g["students"] = g["students"].astype(str)
            gr = [_Rec(values={}, src=("(derived from students)", None, None)) for _ in range(len(g))]
            rank = {d: i for i, d in enumerate(ALL_DESTINATIONS)}
            g = g.assign(_d=g["destination"].map(rank)).sort_values(
                [k for k in SORT_KEYS["graduates"] if k in g.columns and k != "destination"] + ["_d"],
                kind="stable").drop(columns="_d").reset_index(drop=True)
            frames["graduates"], recs_of["graduates"] = g.astype(object), gr
            log.notes.append(f"graduates: derived from the student records ({len(g)} cells, "
                             f"{int(st.shape[0])} students)")
        all_frames = {**{k: v for k, v in base_tables.items() if k not in frames}, **frames}
        files_map = {t: Path(f"{t}.csv") for t in frames}
        files_map.update({t: p for t, p in base_files.items() if t not in frames})
        years_l = sorted({int(y) for y in years}) if years is not None else None
    except Exception:  # rows already refused can leave the rest unassembled: report what was found
        if not early:
            raise
        raise ImportFailed(early, out) from None
    if early:
        # the contract's checks on the rows that could be read, without tables whose sheets failed
        # (their absence is already reported), then every problem at once
        part = {t: f for t, f in all_frames.items() if len(f)}
        if {"schools", "graduates"} <= set(part) or {"schools", "counseling"} <= set(part):
            try:
                vreport, _ = check_tables(part, {t: p for t, p in files_map.items() if t in part}, years=years_l)
                more = _map_validation(vreport, recs_of, base_files)
            except Exception:  # the checks could not run on the partial tables: report what was found
                more = []
            skip = {"file_missing", "table_absent", "empty_table", "missing_column"}
            if log.failed & {"schools", "communes"}:  # a register not read whole: its references would mislead
                skip |= {"reference", "geography", "level_not_taught"}
            seen_rows = {(i.file, i.sheet, i.row) for i in early if i.row is not None}
            more = [i for i in more if i.check not in skip
                    and (i.file, i.sheet, i.row) not in seen_rows]  # one message per problem
            early += [i for i in more if i not in early]
        raise ImportFailed(early, out)
    vreport, _ = check_tables(all_frames, files_map, years=years_l)
    if not vreport.ok:
        raise ImportFailed(_map_validation(vreport, recs_of, base_files), out)
    # 6. write to a temporary folder, validate it as a folder, move into place
    report = _report(files, log, frames, key, geography, vreport, _shown_base(base, out), base_files)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.importing-", dir=out.parent))
    except OSError as exc:
        raise ImportFailed([_unwritable(out, exc)], out) from None
    try:
        for t, df in frames.items():
            df.to_csv(tmp / f"{t}.csv", index=False, lineterminator="\n", encoding="utf-8")
        for t, p in base_files.items():
            if t not in frames:
                shutil.copyfile(p, tmp / p.name)
        folder_report = validate_folder(tmp, years=years_l)
        if not folder_report.ok:  # cannot happen when check_tables passed; never write a bad folder
            raise ImportFailed([ImportIssue(check="folder_validation", file=t, expected=str(i))
                                for t, i in ((i.table, i) for i in folder_report.errors)], out)
        report["validation"] = {"errors": 0, "warnings": [str(w) for w in folder_report.warnings],
                                "notes": [str(n) for n in folder_report.notes]}
        (tmp / REPORT_JSON).write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        (tmp / REPORT_MD).write_text(_report_md(report), encoding="utf-8")
        os.chmod(tmp, 0o755)
        _move_into_place(tmp, out)
    except OSError as exc:  # a full or read-only disk: the temporary folder goes, the old out stays
        shutil.rmtree(tmp, ignore_errors=True)
        raise ImportFailed([_unwritable(out, exc)], out) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ImportResult(out=out, tables={t: len(df) for t, df in frames.items()}, report=report,
                        validation=folder_report)


def _unwritable(out: Path, exc: OSError) -> ImportIssue:
    return ImportIssue(check="output_unwritable", file=str(out), expected=(
        f"a folder the import can write: writing failed ({exc.strerror or exc}); free some space or choose another "
        "folder"))


def _refused_out(out: Path, files: list[Path], *, base: Any, key_file: Any) -> str | None:
    """Why ``out`` may not be replaced by an import, even with ``overwrite``, or None.

    Importing replaces the whole output folder, so it must not be, or contain, the root, the home
    folder, the repository, an input file, the base folder or the key file; inside the
    repository only ``data/`` and ``output/`` may hold a folder to replace."""
    from ..paths import DATA_DIR, OUTPUT_DIR, ROOT

    protected: list[tuple[Any, str]] = [(Path(os.path.abspath(out)).anchor or "/", "the root of the file system"),
                                        (Path.home(), "your home folder"), (ROOT, "the repository of the toolkit")]
    protected += [(f, f"the input file {Path(f).name}") for f in files]
    protected += [(p, what) for p, what in ((base, "the base folder (--base)"), (key_file, "the key file (--key-file)"))
                  if p is not None]
    hit = would_delete(out, protected)
    if hit is not None:
        what, inside = hit
        return (f"an output folder of its own: this one {'is' if inside is None else 'contains'} {what}; importing "
                "replaces the whole folder, so it would be deleted, even with --overwrite; choose a new folder")
    real, repo = Path(os.path.realpath(out)), Path(os.path.realpath(ROOT))
    if (repo in real.parents and real.is_dir() and any(real.iterdir())
            and not any(Path(os.path.realpath(d)) in (real, *real.parents) for d in (DATA_DIR, OUTPUT_DIR))):
        return ("an output folder of its own: this one is a folder of the toolkit's repository that holds files; "
                "importing replaces the whole folder, so they would be deleted, even with --overwrite; choose a "
                "folder under data/ or outside the repository")
    return None


def _parse_map_line(line: str) -> tuple[str, str] | None:
    line = line.strip()
    if not line or line.startswith("#"):
        return None
    head, sep, target = line.rpartition("=")
    if not sep or not head.strip() or not target.strip():
        raise ValueError(line)
    return nfc(head.strip().strip('"').strip("'")), target.strip().strip('"').strip("'")


def _load_mapping(mapping: Mapping[str, str] | Iterable[str] | None, files: list[Path], log: _Log) -> dict[str, str]:
    """Header -> field from ``mapping`` (a dict or ``"HEADER=FIELD"`` strings) and the
    ``import_map.txt`` files beside the inputs; a line that is not ``HEADER=FIELD`` or names no
    field of any table is an error."""
    from .headers import map_target

    out: dict[str, str] = {}
    items: list[tuple[str, str, int | None, str]] = []  # (line, source, row, shown source)
    if isinstance(mapping, Mapping):
        items += [(f"{k}={v}", "--map", None, "--map") for k, v in mapping.items()]
    elif mapping is not None:
        items += [(m, "--map", None, "--map") for m in mapping]
    for folder in dict.fromkeys(p.resolve().parent for p in files):
        mf = folder / MAP_FILE
        if mf.is_file():
            lines = mf.read_text(encoding="utf-8-sig").splitlines()
            items += [(ln, MAP_FILE, i, MAP_FILE) for i, ln in enumerate(lines, start=1)]
            log.notes.append(f"header mapping read from {MAP_FILE} beside the inputs")
    for line, src, row, _ in items:
        try:
            kv = _parse_map_line(line)
        except ValueError:
            log.error(check="map_syntax", file=src, row=row, value=line.strip(),
                      expected="HEADER=FIELD, e.g. \"Đi học nước ngoài=other\"")
            continue
        if kv is None:
            continue
        head, target = kv
        if not any(map_target(t, target) for t in ALL_TABLES):
            log.error(check="map_target", file=src, row=row, value=target,
                      expected=f"a column of the data contract, a destination code ({', '.join(ALL_DESTINATIONS)}), "
                               f"total, note or ignore, for header '{head}'")
            continue
        out[head] = target
    return out


def _move_into_place(tmp: Path, out: Path) -> None:
    swap_into_place(tmp, out, aside="replaced")


def _fill_communes(recs: list[_Rec], log: _Log) -> None:
    """district/province (and the 2025 merge) from the shipped crosswalk when the sheet lacks them."""
    cw = commune_crosswalk().set_index("commune_code")
    for r in recs:
        if not r.values.get("commune_code") and r.values.get("commune_name"):
            m = match_names([r.values["commune_name"]], dict(zip(cw.index, cw["commune_name"])))[r.values["commune_name"]]
            if m.code is not None:
                r.values["commune_code"] = m.code
                r.cols["commune_code"] = r.cols.get("commune_name", "commune_name")
                log.count("communes", f"commune code {m.code} from the shipped crosswalk for '{r.values['commune_name']}'")
        code = r.values.get("commune_code")
        if code in cw.index:
            for f in ("district_name", "province_name"):
                if not r.values.get(f):
                    r.values[f] = cw.at[code, f]
                    r.cols[f] = "shipped crosswalk"
                    log.count("communes", f"{f} from the shipped crosswalk")


def _pseudonymise(recs: list[_Rec], key: PseudonymKey, log: _Log) -> None:
    seen: dict[str, tuple] = {}
    for r in recs:
        v = r.values
        fm = v.pop("female_mark", None)
        if v.get("sex") is None and fm is not None:
            v["sex"] = "F" if fm else "M"
            log.count("students", "sex from the 'Nữ' tick column (ticked = F, empty = M)")
        pid = v.pop("person_id", None)
        name = v.pop("person_name", None)
        birth = C.read_date_key(v.pop("birth_date", None))
        ident = identity(pid, fold(name) if name else None, birth)
        if ident is None:
            log.error(check="student_identity", file=r.src[0], sheet=r.src[1], row=r.src[2], value="(not shown)",
                      expected="a student identifier (Mã học sinh / Mã định danh) or the name and date of birth, to "
                               "make the pseudonymous student_key")
            continue
        k = key.student_key(ident)
        if k in seen:
            first = seen[k]
            where = f"{first[2]}" + ("" if first[:2] == r.src[:2] else f" of {first[0]}"
                                     + (f", sheet '{first[1]}'" if first[1] is not None else ""))
            log.error(check="student_duplicate", file=r.src[0], sheet=r.src[1], row=r.src[2], value="(not shown)",
                      expected=f"each student once: this student (same identifier, or same name and date of birth) "
                               f"is already on row {where}")
            continue
        seen[k] = r.src
        v["student_key"] = k
        r.cols["student_key"] = "pseudonymous key"
        for f in ("poor_household", "counseled"):
            v.setdefault(f, None)
    log.count("students", "students pseudonymised (name, date of birth and identifiers dropped)", len(seen))


_LINE_REF = re.compile(r"(\d+) (?:line|row)s, first on (?:line|row) (\d+)")


def _source_rows(text: str, recs: list[_Rec], rec: _Rec) -> str:
    """A validation message's "first on line N" (a line of the assembled table) as the row Excel
    shows, with its sheet when it is another one."""
    def repl(m: re.Match) -> str:
        k = int(m.group(2)) - 2
        if not 0 <= k < len(recs):
            return m.group(0)
        src = recs[k].src
        where = f"row {src[2]}" if src[2] is not None else "another row"
        if src[:2] != rec.src[:2]:
            where += f" of {src[0]}" + (f", sheet '{src[1]}'" if src[1] is not None else "")
        return f"{m.group(1)} rows, first on {where}"
    return _LINE_REF.sub(repl, text)


def _map_validation(report: Any, recs_of: dict[str, list[_Rec]], base_files: dict[str, Path]) -> list[ImportIssue]:
    """Validation issues (rows of the assembled tables) -> issues naming the input file, sheet,
    row and column."""
    out = []
    for i in report.errors:
        recs = recs_of.get(i.table)
        if recs is not None and i.row is not None and 0 <= i.row - 2 < len(recs):
            rec = recs[i.row - 2]
            col = rec.cols.get(i.column or "", i.column) if i.column else None
            value = "(not shown)" if i.table == "students" and i.column in ("student_key",) else i.value
            out.append(ImportIssue(check=i.check, file=rec.src[0], sheet=rec.src[1], row=rec.src[2], column=col,
                                   value=value, expected=_source_rows(i.expected, recs, rec)))
        else:
            f = base_files.get(i.table)
            out.append(ImportIssue(check=i.check, file=f.name if f is not None and recs is None else f"{i.table} table",
                                   row=i.row if recs is None else None, column=i.column, value=i.value,
                                   expected=i.expected))
    return out


# ------------------------------------------------------------------------------------------------
# The import report
# ------------------------------------------------------------------------------------------------
def _shown_base(base: str | Path | None, out: Path) -> str | None:
    """The base folder as the import report names it: relative to the imported folder (the
    report's own folder) when both lie in one parent folder (``../cohort_2024``), else its name
    alone, so the report carries no machine path (a user name, a home folder) to whoever gets it."""
    if base is None:
        return None
    b = Path(os.path.abspath(base))
    o = Path(os.path.abspath(out))
    if o.parent == b or o.parent in b.parents:
        return Path(os.path.relpath(b, o)).as_posix()
    return b.name


def _sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _report(files: list[Path], log: _Log, frames: dict[str, pd.DataFrame], key: PseudonymKey | None,
            geography: str, vreport: Any, base: Any, base_files: dict[str, Path]) -> dict[str, Any]:
    decisions: dict[str, dict[str, int]] = {}
    for (where, what), n in sorted(log.counts.items()):
        decisions.setdefault(where, {})[what] = n
    return {
        "imported_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "inputs": [{"file": p.name, "sha256": _sha256(p), "bytes": p.stat().st_size} for p in files],
        "base": str(base) if base is not None else None,
        "geography_of_inputs": geography,
        "sheets": log.sheets,
        "decisions": decisions,
        "notes": log.notes,
        "pseudonymisation": None if key is None else {
            "method": "student_key = 'P' + first 20 hex digits of HMAC-SHA256(key, identity); identity = the "
                      "student's identifier, else folded name + date of birth",
            "key_source": key.source, "key_fingerprint": key.fingerprint,
            "dropped": "names, dates of birth, identifiers and every column outside the data contract"},
        "tables": {t: {"file": f"{t}.csv", "rows": int(len(df)), "columns": list(df.columns)}
                   for t, df in frames.items()},
        "tables_from_base": {t: p.name for t, p in base_files.items() if t not in frames},
    }


def _report_md(rep: dict[str, Any]) -> str:
    geo = rep["geography_of_inputs"]
    L = ["# Báo cáo nhập số liệu / Import report", "",
         f"Nhập lúc {rep['imported_at']}; mã xã trong tệp đầu vào theo địa giới **{geo}**.  ",
         f"Imported {rep['imported_at']}; communes in the inputs keyed as **{geo}**.", "",
         "## Tệp đầu vào / Inputs", "", "| tệp / file | byte / bytes | sha256 |", "|---|---|---|"]
    L += [f"| {i['file']} | {i['bytes']} | `{i['sha256'][:16]}…` |" for i in rep["inputs"]]
    if rep.get("base"):
        taken = ", ".join(f"{t} ({f})" for t, f in rep["tables_from_base"].items())
        L += ["", f"Thư mục gốc / base folder: `{rep['base']}`; bảng lấy từ đó / tables taken from it: "
              + (taken or "không có / none")]
    L += ["", "## Bảng đã ghi / Tables written", "", "| bảng / table | tệp / file | số dòng / rows | cột / columns |",
          "|---|---|---|---|"]
    L += [f"| {t} | {v['file']} | {v['rows']} | {', '.join(v['columns'])} |" for t, v in rep["tables"].items()]
    L += ["", "## Trang tính đã đọc / Sheets read", ""]
    for s in rep["sheets"]:
        where = s["file"] + (f", sheet '{s['sheet']}'" if s["sheet"] is not None else "")
        rows = ", ".join(f"{n} {k}" for k, n in s["rows"].items())
        L.append(f"- **{where}** -> {s['table']} ({s['layout']} layout; {'; '.join(s['decisions'])}; rows: {rows})")
        for c in s["columns"]:
            L.append(f"  - column {c['column']} -> `{c['field']}` (matched '{c['matched']}': {c.get('why', '')})")
        if s["ignored_columns"]:
            L.append(f"  - ignored columns: {', '.join(s['ignored_columns'])}")
    if rep["decisions"]:
        L += ["", "## Chuyển đổi và đối chiếu / Conversions and matches", ""]
        for where, d in rep["decisions"].items():
            L.append(f"- {where}:")
            L += [f"  - {what}: {n}" for what, n in d.items()]
    if rep["notes"]:
        L += ["", "## Ghi chú / Notes", ""] + [f"- {n}" for n in rep["notes"]]
    if rep["pseudonymisation"]:
        p = rep["pseudonymisation"]
        L += ["", "## Hồ sơ học sinh / Student records", "", f"- {p['method']}", f"- key from {p['key_source']} "
              f"(fingerprint `{p['key_fingerprint']}`)", f"- dropped: {p['dropped']}"]
    v = rep.get("validation", {})
    nw = len(v.get("warnings", []))
    L += ["", "## Kiểm tra / Validation", "",
          f"Thư mục đáp ứng quy định số liệu (0 lỗi, {nw} cảnh báo).  ",
          f"The folder meets the data contract (0 errors, {nw} warnings)."]
    L += [f"- {w}" for w in v.get("warnings", [])]
    return "\n".join(L) + "\n"
