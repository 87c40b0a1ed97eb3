"""Find the table inside a sheet: header rows, what each column means, which rows hold data.

District workbooks put a title above the table, one or two header rows (a parent header
merged over its sub-columns, or a header merged down over two rows), sometimes a row of column
numbers "(1) (2) (3)", then data rows interleaved with section rows ("I. Khối THCS"), subtotal
and total rows ("Cộng", "Tổng cộng"), blank rows, and notes and signatures below.

:func:`find_layout` decides, and says why, in a :class:`Layout`:

* the header row is the row (among the first 25) whose cells name the most known fields; the
  header block grows downwards while a header cell is merged down into the next row or a
  parent header is merged across sub-columns with text below them (at most three rows);
* a column's header is its header cells top to bottom (a merged cell's text repeated over its
  range), matched as :func:`evaluation.importer.headers.header_field` says;
* rows: ``blank``, ``note`` (no key cell and no number: titles, section rows, notes,
  signatures), ``total`` (the label starts "Tổng", "Cộng", "Toàn huyện", "Total"...), ``data``;
  a row with numbers but no key cell is an error, not a note.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from typing import Mapping

from .headers import COLUMNS, NOTE_WORDS, SCORE_WORDS, TOTAL_WORDS, match_header
from .issues import ImportIssue
from .vntext import decode_legacy, fold, nfc
from .workbook import Grid, col_letter

#: The key field(s) of each table: a data row has at least one of them filled.
KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "schools": ("school_id", "school_name"),
    "communes": ("commune_code", "commune_name"),
    "graduates": ("school_id", "school"),
    "counseling": ("school_id", "school"),
    "students": ("person_id", "person_name", "school_id", "school"),
    "labour_demand": ("enterprise_id",),
    "vocational_supply": ("institution_id", "institution_name"),
}
#: Numeric fields whose total rows are checked.
NUMERIC_FIELDS: dict[str, tuple[str, ...]] = {
    "schools": (), "communes": (), "students": (),
    "graduates": ("students", "total"),
    "counseling": ("counselors", "trained_counselors", "sessions", "students_counseled"),
    "labour_demand": ("workers_needed",),
    "vocational_supply": ("places", "enrolled", "graduated", "employed_12m"),
}
MAX_HEADER_SCAN = 25


@dataclass
class Column:
    """One column of the table: 1-based ``index``, ``header`` as written (header cells joined
    with " / "), ``field`` (``None`` = ignored) and ``how`` (the header text that matched)."""

    index: int
    header: str
    field: str | None
    how: str = ""
    score: int = 0
    candidates: tuple[str, ...] = ()
    hidden: bool = False

    @property
    def why(self) -> str:
        """Why the header was given its field (for the decision log)."""
        if self.candidates:
            return "tie between " + ", ".join(self.candidates)
        return SCORE_WORDS.get(self.score, "") if self.field else "no known header"

    @property
    def label(self) -> str:
        """``"D (Trung cấp)"``: the column letter and its header, as messages name it."""
        return f"{col_letter(self.index)} ({self.header})" if self.header else col_letter(self.index)


@dataclass
class Layout:
    """Where the table is in a sheet and what its rows are."""

    table: str
    header_rows: tuple[int, int]
    columns: list[Column]
    rows: list[tuple[int, str]] = field(default_factory=list)  # (excel row, kind)
    title: str = ""
    decisions: list[str] = field(default_factory=list)

    def by_field(self) -> dict[str, list[Column]]:
        out: dict[str, list[Column]] = {}
        for c in self.columns:
            if c.field:
                out.setdefault(c.field, []).append(c)
        return out

    @property
    def wide(self) -> bool:
        return any(c.field and c.field.startswith("dest:") for c in self.columns)


def _text(v: Any) -> str:
    return nfc(v) if isinstance(v, str) else ("" if v is None else str(v))


def _htext(v: Any) -> str:
    """A header cell's text, decoded from TCVN3/VNI when it was typed in a legacy font."""
    return decode_legacy(v).text if isinstance(v, str) else _text(v)


def _merged_lookup(grid: Grid) -> dict[tuple[int, int], tuple[int, int, int, int]]:
    out = {}
    for rng in grid.merged:
        r0, c0, r1, c1 = rng
        if (r1 - r0 + 1) * (c1 - c0 + 1) > 2000:  # a whole-row merge: only its first cells matter here
            c1 = min(c1, c0 + 60)
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                out[(r, c)] = rng
    return out


def _filled(grid: Grid, merged: dict, r: int, c: int) -> Any:
    rng = merged.get((r, c))
    if rng is not None:
        return grid.value(rng[0], rng[1])
    return grid.value(r, c)


def _score_row(grid: Grid, merged: dict, r: int, table: str, mapping: Mapping[str, str] | None = None) -> int:
    """How many fields of ``table`` the cells of row ``r`` name (0 for a row holding numbers: a
    header row is text)."""
    row = [grid.value(r, c) for c in range(1, grid.n_cols + 1)]
    if sum(isinstance(v, (int, float)) and not isinstance(v, bool) for v in row) > 1:
        return 0
    seen, score = set(), 0
    for c in range(1, grid.n_cols + 1):
        v = _filled(grid, merged, r, c)
        if not isinstance(v, str) or not v.strip():
            continue
        f = match_header(table, [_htext(v)], mapping).field
        if f and f not in ("row_number", "note", "rate", "ignore") and (f, v) not in seen:
            seen.add((f, v))
            score += 1
    return score


def best_header_row(grid: Grid, table: str, mapping: Mapping[str, str] | None = None) -> tuple[int, int]:
    """(row, score) of the row that names the most fields of ``table`` (score 0: none)."""
    merged = _merged_lookup(grid)
    best = (0, 0)
    for r in range(1, min(grid.n_rows, MAX_HEADER_SCAN) + 1):
        s = _score_row(grid, merged, r, table, mapping)
        if s > best[1]:
            best = (r, s)
    return best


def find_layout(grid: Grid, table: str, issues: list[ImportIssue],
                mapping: Mapping[str, str] | None = None) -> Layout | None:
    """The :class:`Layout` of ``table`` in ``grid``, or ``None`` after adding an issue.
    ``mapping``: header text -> field given by the user (``--map``, ``import_map.txt``)."""
    merged = _merged_lookup(grid)
    r0, score = best_header_row(grid, table, mapping)
    if score == 0:
        known = ", ".join(dict.fromkeys(COLUMNS[table][f][0] for f in COLUMNS[table]))
        issues.append(ImportIssue(
            check="no_header", file=grid.file, sheet=grid.sheet,
            expected=f"a header row naming the columns of table {table} (e.g. {known}) in the first "
                     f"{MAX_HEADER_SCAN} rows; none was found"))
        return None
    # a header cell merged down from the row above: the header starts there
    tops = [merged[(r0, c)][0] for c in range(1, grid.n_cols + 1) if (r0, c) in merged]
    if tops and min(tops) < r0 and r0 - min(tops) <= 2:
        r0 = min(tops)
    r1 = r0
    while r1 < r0 + 2 and r1 < grid.n_rows:
        grow = False
        for c in range(1, grid.n_cols + 1):
            rng = merged.get((r1, c))
            if rng is None:
                continue
            mr0, mc0, mr1, mc1 = rng
            if mr1 > r1 and mr0 <= r1:  # merged down into the next row
                grow = True
            if mr0 == mr1 == r1 and mc1 > mc0:  # merged across: sub-headers below?
                if any(isinstance(grid.value(r1 + 1, cc), str) and grid.value(r1 + 1, cc).strip()
                       for cc in range(mc0, mc1 + 1)):
                    grow = True
        if not grow:
            break
        r1 += 1
    columns = []
    for c in range(1, grid.n_cols + 1):
        parts = []
        for r in range(r0, r1 + 1):
            t = _htext(_filled(grid, merged, r, c))
            if t and (not parts or parts[-1] != t):
                parts.append(t)
        m = match_header(table, parts, mapping) if parts else None
        columns.append(Column(index=c, header=" / ".join(parts), field=m.field if m else None,
                              how=m.how if m else "", score=m.score if m else 0,
                              candidates=m.candidates if m else (), hidden=c in grid.hidden_cols))
    title = " ".join(_htext(grid.value(r, c)) for r in range(1, r0) for c in range(1, grid.n_cols + 1)
                     if _text(grid.value(r, c)))
    lay = Layout(table=table, header_rows=(r0, r1), columns=columns, title=title)
    lay.decisions.append(f"header in row{'s' if r1 > r0 else ''} {r0}{f'-{r1}' if r1 > r0 else ''}")
    _classify_rows(grid, merged, lay, issues)
    return lay


_NUMBERING = re.compile(r"^\(?([0-9]+|[A-Za-z]|[IVXivx]+)\)?$")


def _is_numbering_row(values: list[Any]) -> bool:
    texts = [_text(v) for v in values if _text(v)]
    if len(texts) < 3:
        return False
    if not all(_NUMBERING.match(t.replace(" ", "")) for t in texts):
        return False
    nums = [int(re.sub(r"\D", "", t)) for t in texts if re.sub(r"\D", "", t)]
    return len(nums) >= 3 and nums == list(range(nums[0], nums[0] + len(nums)))


def _numeric_like(v: Any) -> bool:
    """A number, or text that holds one ("1.234", "25%")."""
    if isinstance(v, bool) or v is None:
        return False
    if isinstance(v, (int, float)):
        return True
    return isinstance(v, str) and bool(re.fullmatch(r"[\d.,\s%+-]*\d[\d.,\s%+-]*", v.strip()))


def _starts_with(f: str, words: tuple[str, ...]) -> bool:
    return any(f == w or f.startswith(w + " ") for w in words)


def _classify_rows(grid: Grid, merged: dict, lay: Layout, issues: list[ImportIssue]) -> None:
    by = lay.by_field()
    keys = [c for f in KEY_FIELDS[lay.table] for c in by.get(f, [])]
    if not keys and lay.table in ("graduates", "counseling"):
        keys = by.get("year", [])  # a sheet per school: rows are years
    num_cols = [c for c in lay.columns if c.field and (c.field in NUMERIC_FIELDS[lay.table]
                                                      or c.field.startswith("dest:"))]
    label_cols = keys + by.get("row_number", [])
    first = lay.header_rows[1] + 1
    for r in range(first, grid.n_rows + 1):
        row = [grid.value(r, c) for c in range(1, grid.n_cols + 1)]
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            lay.rows.append((r, "blank"))
            continue
        if r == first and _is_numbering_row(row):
            lay.rows.append((r, "numbering"))
            lay.decisions.append(f"row {r} skipped: column numbers below the header")
            continue
        labels = [fold(_text(grid.value(r, c.index))) for c in label_cols]
        texts = [fold(_text(v)) for v in row if isinstance(v, str) and v.strip()]
        if any(_starts_with(t, TOTAL_WORDS) for t in labels + texts[:2] if t):
            lay.rows.append((r, "total"))
            continue
        has_key = any(_text(_filled(grid, merged, r, c.index)) for c in keys)
        has_num = any(_numeric_like(grid.value(r, c.index)) for c in num_cols)
        if texts and _starts_with(texts[0], NOTE_WORDS) and not has_num:
            lay.rows.append((r, "note"))
            continue
        if not has_key:
            if has_num:
                c = next(c for c in keys) if keys else None
                issues.append(ImportIssue(
                    check="row_without_key", file=grid.file, sheet=grid.sheet, row=r,
                    column=c.label if c else None, value="",
                    expected="the school (or other key) of a row that holds numbers; fill it in, or mark the row "
                             "as a total ('Tổng cộng')"))
                lay.rows.append((r, "error"))
            else:
                lay.rows.append((r, "note"))
            continue
        if lay.wide and not has_num and not any(c.field in ("students", "total") and grid.value(r, c.index)
                                                is not None for c in lay.columns):
            lay.rows.append((r, "note"))  # a section row ("I. Khối THCS") or a school without figures
            continue
        lay.rows.append((r, "data"))
    data_rows = {r for r, k in lay.rows if k in ("data", "total")}
    for rng in grid.merged:
        mr0, mc0, mr1, mc1 = rng
        if mr0 == mr1 and mc0 == mc1:
            continue
        hit = [r for r in range(mr0, mr1 + 1) if r in data_rows]
        if hit and mr1 > lay.header_rows[1]:
            # the merged rows are not read (their problem is this one message, not one per empty cell)
            lay.rows = [(r, "error" if r in hit else k) for r, k in lay.rows]
            issues.append(ImportIssue(
                check="merged_cells", file=grid.file, sheet=grid.sheet, row=mr0,
                column=f"{col_letter(mc0)}{mr0}:{col_letter(mc1)}{mr1}",
                value=_text(grid.value(mr0, mc0)),
                expected="one value per cell in the data rows: these cells are merged; unmerge them and write "
                         "the value in every row it applies to"))
