"""The registry of evidence tables: ids, keys, minimum columns, titles, notes, column formats.

Column labels and formats are data (``reference_data/columns.csv``); each table's spec is a
``TableSpec`` registered in ``TABLES`` (the contract's tables in :mod:`.specs`).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from ..paths import REFERENCE_DIR

FLOAT_FORMAT = "%.10g"
EVIDENCE_DIR = "evidence"
INDEX_NAME = "index.json"
META_SUFFIX = ".meta.json"
#: A file of this name in the staging folder marks the run's data as synthetic.
SYNTHETIC_MARKER = "SYNTHETIC"

#: Column names that would carry a student's identity; no evidence table may have one.
_FORBIDDEN_COLUMN = re.compile(r"(student|hoc_sinh|ho_ten|full_?name|^name$|^ten$|cccd|birth|ngay_sinh)", re.I)


class EvidenceError(ValueError):
    """An evidence table that breaks the output contract; the message names table, row, column, value."""


# ---------------------------------------------------------------------------------------
# Column metadata (reference_data/columns.csv)
# ---------------------------------------------------------------------------------------
FORMATS = ("text", "year", "int", "count", "rate", "pp", "p", "bool", "number")


@lru_cache(maxsize=None)
def _columns_csv() -> pd.DataFrame:
    df = pd.read_csv(REFERENCE_DIR / "columns.csv", dtype=str, keep_default_na=False)
    bad = df.loc[~df["format"].isin(FORMATS)]
    if len(bad):
        i = bad.index[0]
        raise ValueError(f"reference_data/columns.csv: row {i + 2}, column format, value {bad['format'].iloc[0]!r}: "
                         f"expected one of {', '.join(FORMATS)}")
    return df.set_index("column")


def column_info(column: str, series: pd.Series | None = None) -> dict[str, str]:
    """Label (vi/en), description (vi/en) and number format of a column.

    Formats: ``rate`` (fraction 0..1, shown as a percentage), ``pp`` (percentage points),
    ``count`` (whole number), ``int``, ``year``, ``p`` (p-value), ``bool``, ``number``, ``text``.
    A column not listed in ``columns.csv`` gets its own name as label and a format guessed
    from ``series``'s dtype.
    """
    df = _columns_csv()
    if column in df.index:
        row = df.loc[column]
        return {"name": column, "format": row["format"], "label_vi": row["label_vi"], "label_en": row["label_en"],
                "description_vi": row["description_vi"], "description_en": row["description_en"]}
    fmt = "text"
    if series is not None:
        if pd.api.types.is_bool_dtype(series):
            fmt = "bool"
        elif pd.api.types.is_integer_dtype(series):
            fmt = "int"
        elif pd.api.types.is_float_dtype(series):
            fmt = "rate" if column.endswith(("_rate", "_share")) else ("pp" if column.endswith("_pp") else "number")
    return {"name": column, "format": fmt, "label_vi": column, "label_en": column,
            "description_vi": "", "description_en": ""}


# ---------------------------------------------------------------------------------------
# The registry of table ids
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TableSpec:
    """A registered evidence table: keys, minimum columns (in the contract's order), titles, notes.

    ``keys`` identify a row (rows are sorted by them); they are usually the first minimum
    columns (``equity_gaps`` also keys on its ``adjusted`` flag: one raw and one adjusted row).

    ``short_vi``/``short_en`` name the workbook sheet (at most 31 characters).
    ``extra_check`` is called with the table's data and raises ``EvidenceError`` on a rule
    specific to the table (e.g. one recommended estimate per level).
    """

    id: str
    keys: tuple[str, ...]
    columns: tuple[str, ...]
    title_vi: str
    title_en: str
    short_vi: str
    short_en: str
    notes_vi: tuple[str, ...] = ()
    notes_en: tuple[str, ...] = ()
    extra_check: Callable[[pd.DataFrame, str], None] | None = None
    #: (column, format) pairs where this table's column differs from reference_data/columns.csv
    #: (e.g. ``ci_low`` of a projected rate is a rate, not percentage points).
    formats: tuple[tuple[str, str], ...] = ()
    #: The columns a suppressed row leaves empty, where they are not every count, rate and flag
    #: but the size (``graduates``) and the target: ``labour_alignment`` hides the outcomes of its
    #: graduates and keeps the enterprises' demand and the training places.
    suppression_blank: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        missing = [k for k in self.keys if k not in self.columns]
        if missing:
            raise ValueError(f"table {self.id}: key column(s) {', '.join(missing)} are not among the minimum columns")
        for s in (self.short_vi, self.short_en):
            if len(s) > 31:
                raise ValueError(f"table {self.id}: sheet name {s!r} is longer than 31 characters")


TABLES: dict[str, TableSpec] = {}


def register_table(spec: TableSpec, *, replace: bool = False) -> TableSpec:
    """Register a table id (a later issue adds labour_alignment, vocational_network, ...)."""
    if spec.id in TABLES and not replace:
        raise ValueError(f"table id {spec.id!r} is already registered")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", spec.id):
        raise ValueError(f"table id {spec.id!r}: use lower-case letters, digits and underscores")
    TABLES[spec.id] = spec
    return spec


_RATE_NOTE_VI = "Tỷ lệ là phân số từ 0 đến 1 (trong báo cáo hiển thị dạng %)."
_RATE_NOTE_EN = "Rates are fractions from 0 to 1 (shown as % in the report)."
_PP_NOTE_VI = "Tác động, chênh lệch và xu hướng tính bằng điểm phần trăm (điểm %); khoảng tin cậy (KTC) 95 %."
_PP_NOTE_EN = "Effects, gaps and trends are in percentage points (pp); confidence intervals (CI) are 95 %."
_SUPP_NOTE_VI = ("Ô tính từ ít học sinh hơn ngưỡng tối thiểu (min_cell) được ẩn: tỷ lệ và các số có thể làm lộ "
                 "thông tin để trống, cột 'Ẩn' = có.")
_SUPP_NOTE_EN = ("A cell computed from fewer students than the minimum (min_cell) is suppressed: its rate and any "
                 "revealing count are left empty and 'suppressed' is true.")
_TARGET_NOTE_VI = ("'Tỷ lệ học nghề' tính mọi trình độ nghề (sơ cấp, trung cấp kể cả 9+, cao đẳng); 'Tỷ lệ theo định "
                   "nghĩa chỉ tiêu' tính đúng trình độ mà chỉ tiêu quy định (Quyết định 522/QĐ-TTg: sau THCS sơ cấp và "
                   "trung cấp; sau THPT chỉ cao đẳng) và được so với chỉ tiêu.")
_TARGET_NOTE_EN = ("'Vocational uptake' counts every vocational level (elementary, intermediate incl. 9+, college); "
                   "'rate as the target defines it' counts the levels the target names (Decision 522/QĐ-TTg: after "
                   "THCS elementary and intermediate; after THPT college only) and is the one compared with the target.")

