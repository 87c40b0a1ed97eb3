"""Evidence tables: the machine-readable tables of an evidence bundle and their metadata.

Every table the output contract lists has an id registered in ``TABLES`` with its key columns,
its minimum columns (in order, keys first), a Vietnamese and English title and default notes
that say what each number is. Notebooks build ``EvidenceTable`` objects with the builders
below (from indicator frames and results objects, never from copied numbers) and write them
into the run's staging folder with ``write_table``; the runner then calls ``build_index``.

Units: rates are fractions 0..1; effects, gaps and trends are percentage points (columns
ending in ``_pp``, and ``std_error``, ``ci_low``, ``ci_high`` beside them); intervals are 95 %.

Files written (``stage_dir`` is the run's staging folder):

* ``evidence/<id>.csv``: UTF-8 without BOM, ``\\n`` line ends, one header row, minimum
  columns first then extras, rows sorted by the table's keys, floats as ``%.10g``, booleans as
  ``true``/``false``, missing values empty. Two writes of the same table give the same bytes.
* ``evidence/<id>.meta.json``: a sidecar with the titles, notes, notebook and columns.
  ``build_index`` gathers the sidecars into ``evidence/index.json`` and deletes them, so the
  finished bundle holds exactly the files the contract lists.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .paths import REFERENCE_DIR
from .reference import label

__all__ = [
    "TableSpec", "TABLES", "CONTRACT_TABLE_IDS", "register_table", "EvidenceTable", "EvidenceError",
    "column_info", "uptake_by_year_table", "uptake_by_commune_table", "uptake_by_group_table",
    "coverage_by_year_table", "trend_table", "effect_overall_table", "event_study_table",
    "equity_gaps_table", "data_quality_table", "write_table", "build_index", "read_index",
    "read_table", "apply_suppression", "SYNTHETIC_MARKER", "mark_synthetic", "value_label",
    "PLAN_TABLE_IDS", "labour_alignment_table", "vocational_network_table", "projections_table",
]

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


def _check_one_recommended(df: pd.DataFrame, table_id: str) -> None:
    rec = df["recommended"].astype("boolean").fillna(False)
    for level, n in rec.groupby(df["level"].astype(str)).sum().items():
        if int(n) != 1:
            raise EvidenceError(f"evidence table {table_id}: level {level} has {int(n)} rows with recommended = true; "
                                "exactly one estimate per level must be the one the review reports")


def _register_contract_tables() -> None:
    specs = [
        TableSpec(
            "uptake_by_year", ("level", "year"),
            ("level", "year", "graduates", "vocational", "rate", "unknown_share", "target_rate", "target", "target_met"),
            "Tỷ lệ học nghề sau tốt nghiệp theo năm và cấp học, so với chỉ tiêu",
            "Vocational uptake after graduation by year and level, against the target",
            "Học nghề theo năm", "Uptake by year",
            (_RATE_NOTE_VI, _TARGET_NOTE_VI,
             "Mẫu số là toàn bộ học sinh tốt nghiệp của khóa; 'Tỷ lệ không rõ hướng đi' cho biết độ tin cậy của tỷ lệ."),
            (_RATE_NOTE_EN, _TARGET_NOTE_EN,
             "The denominator is every graduate of the cohort; the share with unknown destination tells how far the rate can be trusted.")),
        TableSpec(
            "uptake_by_commune", ("level", "year", "commune_code"),
            ("level", "year", "commune_code", "commune_name", "graduates", "vocational", "rate", "target_rate", "target",
             "target_met", "suppressed"),
            "Tỷ lệ học nghề theo xã, năm và cấp học, so với chỉ tiêu",
            "Vocational uptake by commune, year and level, against the target",
            "Học nghề theo xã", "Uptake by commune",
            (_RATE_NOTE_VI, _TARGET_NOTE_VI, _SUPP_NOTE_VI,
             "Học sinh được tính theo xã của trường nơi các em tốt nghiệp."),
            (_RATE_NOTE_EN, _TARGET_NOTE_EN, _SUPP_NOTE_EN,
             "Students are counted in the commune of the school they graduated from.")),
        TableSpec(
            "uptake_by_group", ("level", "year", "group_var", "group"),
            ("level", "year", "group_var", "group", "graduates", "vocational", "rate", "suppressed"),
            "Tỷ lệ học nghề theo giới tính và dân tộc",
            "Vocational uptake by sex and ethnicity",
            "Học nghề theo nhóm", "Uptake by group",
            (_RATE_NOTE_VI, "Tỷ lệ học nghề tính mọi trình độ nghề.", _SUPP_NOTE_VI),
            (_RATE_NOTE_EN, "Vocational uptake counts every vocational level.", _SUPP_NOTE_EN)),
        TableSpec(
            "coverage_by_year", ("level", "year"),
            ("level", "year", "schools", "covered", "missing", "coverage_rate", "target"),
            "Tỷ lệ trường có giáo viên tư vấn hướng nghiệp đã qua đào tạo",
            "Schools with a trained career-counseling teacher",
            "Phủ GV tư vấn theo năm", "Counselor coverage by year",
            (_RATE_NOTE_VI,
             "Một trường được tính là có GV tư vấn khi có ít nhất một giáo viên tư vấn hướng nghiệp đã qua đào tạo trong năm.",
             "'Số trường thiếu số liệu' là trường không có dòng số liệu tư vấn hướng nghiệp trong năm."),
            (_RATE_NOTE_EN,
             "A school counts as covered when it has at least one trained career-counseling teacher in the year.",
             "'Schools with missing data' have no counseling row for the year.")),
        TableSpec(
            "trend", ("level", "model"),
            ("level", "model", "estimate_pp_per_year", "std_error", "ci_low", "ci_high", "p_value"),
            "Xu hướng tỷ lệ học nghề (điểm phần trăm mỗi năm)",
            "Trend of vocational uptake (percentage points per year)",
            "Xu hướng", "Trend",
            (_PP_NOTE_VI, "Xu hướng là thay đổi trung bình của tỷ lệ học nghề khi tăng thêm một năm (hiệu ứng biên trung bình)."),
            (_PP_NOTE_EN, "The trend is the average change of the uptake rate for one more year (average marginal effect).")),
        TableSpec(
            "effect_overall", ("level", "estimator"),
            ("level", "estimator", "estimate_pp", "std_error", "ci_low", "ci_high", "p_value", "n_units", "n_obs", "recommended"),
            "Tác động của việc có giáo viên tư vấn hướng nghiệp đã qua đào tạo đến tỷ lệ học nghề",
            "Effect of having a trained career-counseling teacher on vocational uptake",
            "Tác động tổng thể", "Overall effect",
            (_PP_NOTE_VI,
             "Ước lượng là chênh lệch tỷ lệ học nghề (điểm %) ở các trường đã có GV tư vấn so với khi chưa có, "
             "trung bình trên các trường và năm đã có GV tư vấn.",
             "Mỗi cấp học có đúng một ước lượng được báo cáo (cột 'Ước lượng được báo cáo'); lý do ghi ở dưới."),
            (_PP_NOTE_EN,
             "The estimate is the difference in uptake (pp) at schools with a trained counselor compared with "
             "without, averaged over covered schools and years.",
             "Each level has exactly one reported estimate (column 'recommended'); the reason is given below."),
            _check_one_recommended),
        TableSpec(
            "event_study", ("level", "estimator", "event_time"),
            ("level", "estimator", "event_time", "estimate_pp", "std_error", "ci_low", "ci_high"),
            "Tác động theo số năm kể từ khi trường có giáo viên tư vấn (nghiên cứu sự kiện)",
            "Effect by years since the school's first trained counselor (event study)",
            "Tác động theo năm", "Event study",
            (_PP_NOTE_VI,
             "Năm 0 là khóa đầu tiên trường có GV tư vấn; các năm âm là kiểm tra xu hướng trước: "
             "nếu giả định so sánh đúng, các hệ số này gần 0."),
            (_PP_NOTE_EN,
             "Year 0 is the school's first covered cohort; negative years are pre-trend checks: "
             "if the comparison is valid they are close to zero.")),
        TableSpec(
            "equity_gaps", ("level", "dimension", "group", "adjusted"),
            ("level", "dimension", "group", "reference", "gap_pp", "adjusted", "ci_low", "ci_high"),
            "Chênh lệch tỷ lệ học nghề giữa các nhóm (công bằng tiếp cận)",
            "Gaps in vocational uptake between groups (equal access)",
            "Chênh lệch giữa nhóm", "Equity gaps",
            (_PP_NOTE_VI,
             "Chênh lệch = tỷ lệ của nhóm trừ tỷ lệ của nhóm so sánh; số âm nghĩa là nhóm học nghề ít hơn.",
             "Mỗi nhóm có một dòng chênh lệch thô (so sánh trực tiếp) và, khi tính được, một dòng đã điều chỉnh "
             "('Đã điều chỉnh' = có): so sánh học sinh trong cùng trường và cùng năm (hiệu ứng cố định trường và năm)."),
            (_PP_NOTE_EN,
             "Gap = group rate minus reference-group rate; negative means the group enters vocational education less.",
             "Each group has a raw gap row (direct comparison) and, where it can be estimated, an adjusted row "
             "(adjusted = true): students of the same school and year compared (school and year fixed effects).")),
        TableSpec(
            "data_quality", ("check", "table", "severity"),
            ("check", "table", "severity", "count", "detail"),
            "Kiểm tra chất lượng dữ liệu đầu vào",
            "Checks of the input data",
            "Chất lượng dữ liệu", "Data quality",
            ("Mỗi dòng là một quy tắc kiểm tra trên một tệp: 'Lỗi' làm dừng phân tích, 'Cảnh báo' cần xem lại nhưng "
             "không dừng.", "Chi tiết không chứa mã hoặc tên học sinh."),
            ("Each row is one check on one file: an 'error' stops the analysis, a 'warning' needs a look but does "
             "not stop it.", "Details contain no student key or name.")),
    ]
    for spec in specs:
        register_table(spec, replace=True)


_register_contract_tables()
#: The ids every full run writes (output contract).
CONTRACT_TABLE_IDS: tuple[str, ...] = tuple(TABLES)


# ---------------------------------------------------------------------------------------
# EvidenceTable
# ---------------------------------------------------------------------------------------
#: Columns a suppressed row keeps: the cell size, the policy target and facts about the area, not the students.
_SUPPRESSION_KEEP = {"graduates", "target", "suppressed", "schools", "disadvantaged"}


def _fmt_of(col: str, s: pd.Series, tid: str | None = None) -> str:
    if tid is not None and tid in TABLES:
        own = dict(TABLES[tid].formats).get(col)
        if own:
            return own
    return column_info(col, s)["format"]


def _row_label(df: pd.DataFrame, i: int, keys: Sequence[str]) -> str:
    parts = [f"{k}={df[k].iloc[i]}" for k in keys if k in df.columns]
    return f"row {i + 1}" + (f" ({', '.join(parts)})" if parts else "")


def _plain(v: Any) -> Any:
    """A numpy scalar as the plain Python value (for readable messages)."""
    return v.item() if isinstance(v, np.generic) else v


def _is_empty(v: Any) -> bool:
    return v is None or (not isinstance(v, str) and bool(pd.isna(v)))


@dataclass(frozen=True, eq=False)
class EvidenceTable:
    """One evidence table: contract id, data, notebook that made it, titles and notes in vi/en.

    Notes are tuples of sentences for people: the table's default notes (what each number is)
    come first, then the specifics the builder adds (estimand, method, N, clusters, comparison
    group, pre-trend test, suppressed cells, synthetic data). ``min_cell`` is the run's
    smallest publishable cell; ``synthetic`` marks tables made from synthetic data.
    """

    id: str
    data: pd.DataFrame
    notebook: str = ""
    title_vi: str = ""
    title_en: str = ""
    notes_vi: tuple[str, ...] = ()
    notes_en: tuple[str, ...] = ()
    min_cell: int = 5
    synthetic: bool = False

    def __post_init__(self) -> None:
        spec = self.spec
        object.__setattr__(self, "data", self.data.copy().reset_index(drop=True))
        object.__setattr__(self, "title_vi", self.title_vi or spec.title_vi)
        object.__setattr__(self, "title_en", self.title_en or spec.title_en)
        object.__setattr__(self, "notes_vi", _merge_notes(spec.notes_vi, self.notes_vi,
                                                          _SYNTH_VI if self.synthetic else None))
        object.__setattr__(self, "notes_en", _merge_notes(spec.notes_en, self.notes_en,
                                                          _SYNTH_EN if self.synthetic else None))

    @property
    def spec(self) -> TableSpec:
        try:
            return TABLES[self.id]
        except KeyError:
            raise EvidenceError(f"unknown evidence table id {self.id!r}; known ids: {', '.join(sorted(TABLES))} "
                                "(register a new one with evidence.register_table)") from None

    @property
    def columns(self) -> list[str]:
        """Minimum columns in the contract's order, then the extra columns in their order."""
        mins = list(self.spec.columns)
        return mins + [c for c in self.data.columns if c not in mins]

    def check(self) -> "EvidenceTable":
        """Raise ``EvidenceError`` when the table breaks the output contract; return ``self``.

        Checks: every minimum column present; no column that could carry a student's identity;
        key columns complete and unique; rates within 0..1; percentage points within -100..100;
        no infinite numbers; every row with 0 < graduates < ``min_cell`` suppressed, and every
        suppressed row without its rate or any revealing count; the table's own rule.
        """
        spec, df, tid = self.spec, self.data, self.id
        missing = [c for c in spec.columns if c not in df.columns]
        if missing:
            raise EvidenceError(f"evidence table {tid}: missing minimum column(s) {', '.join(missing)}; "
                                f"the contract asks for {', '.join(spec.columns)}")
        for c in df.columns:
            if _FORBIDDEN_COLUMN.search(str(c)):
                raise EvidenceError(f"evidence table {tid}: column {c!r} looks like a student identifier or name; "
                                    "no student key or name may leave the toolkit")
        for k in spec.keys:
            na = df[k].isna()
            if na.any():
                i = int(np.flatnonzero(na.to_numpy())[0])
                raise EvidenceError(f"evidence table {tid}: {_row_label(df, i, spec.keys)}, key column {k} is empty")
        dup = df.duplicated(list(spec.keys), keep=False)
        if dup.any():
            i = int(np.flatnonzero(dup.to_numpy())[0])
            raise EvidenceError(f"evidence table {tid}: {_row_label(df, i, spec.keys)} appears more than once; "
                                f"one row per {', '.join(spec.keys)}")
        for c in df.columns:
            fmt = _fmt_of(c, df[c], tid)
            if fmt in ("rate", "pp", "p", "count", "int", "year", "number"):
                vals = pd.to_numeric(df[c], errors="coerce")
                bad_type = vals.isna() & df[c].notna()
                if bad_type.any():
                    i = int(np.flatnonzero(bad_type.to_numpy())[0])
                    raise EvidenceError(f"evidence table {tid}: {_row_label(df, i, spec.keys)}, column {c}, value "
                                        f"{_plain(df[c].iloc[i])!r}: expected a number")
                arr = vals.to_numpy(dtype=float, na_value=np.nan)
                lo, hi, what = {"rate": (0.0, 1.0, "a rate must be a fraction in 0..1 (not a percentage)"),
                                "p": (0.0, 1.0, "a p-value must be in 0..1"),
                                "pp": (-100.0, 100.0, "percentage points must lie in -100..100"),
                                "count": (0.0, np.inf, "a count cannot be negative")}.get(fmt, (-np.inf, np.inf, ""))
                bad = np.isinf(arr) | (arr < lo) | (arr > hi)
                if bad.any():
                    i = int(np.flatnonzero(bad)[0])
                    raise EvidenceError(f"evidence table {tid}: {_row_label(df, i, spec.keys)}, column {c}, value "
                                        f"{float(arr[i])!r}: {what or 'must be finite'}")
        self._check_privacy()
        if spec.extra_check is not None:
            spec.extra_check(df, tid)
        return self

    def _check_privacy(self) -> None:
        df, tid, keys = self.data, self.id, self.spec.keys
        if "graduates" not in df.columns:
            return
        grads = pd.to_numeric(df["graduates"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        supp = (df["suppressed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
                if "suppressed" in df.columns else np.zeros(len(df), dtype=bool))
        small = (grads > 0) & (grads < self.min_cell)
        bad = small & ~supp
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise EvidenceError(f"evidence table {tid}: {_row_label(df, i, keys)}, column graduates, value "
                                f"{grads[i]:g}: a cell below min_cell = {self.min_cell} must be suppressed "
                                "(rate and revealing counts empty, suppressed = true)")
        revealing = [c for c in df.columns if c not in keys and c not in _SUPPRESSION_KEEP
                     and _fmt_of(c, df[c], tid) in ("rate", "count", "int", "number", "bool", "pp", "p")]
        for c in revealing:
            filled = df[c].notna().to_numpy(dtype=bool) & supp
            if filled.any():
                i = int(np.flatnonzero(filled)[0])
                raise EvidenceError(f"evidence table {tid}: {_row_label(df, i, keys)} is suppressed but column {c} "
                                    f"holds {_plain(df[c].iloc[i])!r}; leave it empty")

    # -- canonical bytes -----------------------------------------------------------------
    def canonical_frame(self) -> pd.DataFrame:
        """The data as written: columns in order, rows sorted by the keys, values as strings."""
        df = self.data.loc[:, self.columns].copy()
        df = df.sort_values(list(self.spec.keys), kind="mergesort", na_position="last").reset_index(drop=True)
        out = {}
        for c in df.columns:
            out[c] = _canonical_column(c, df[c], self.id)
        return pd.DataFrame(out, columns=list(df.columns))

    def to_csv_bytes(self) -> bytes:
        """The CSV bytes of the table (deterministic: same data, same bytes)."""
        buf = io.StringIO()
        self.canonical_frame().to_csv(buf, index=False, lineterminator="\n", na_rep="")
        return buf.getvalue().encode("utf-8")

    def meta(self) -> dict[str, Any]:
        """The metadata written beside the CSV and gathered into index.json."""
        cols = []
        for c in self.columns:
            info = column_info(c, self.data[c])
            cols.append({"name": c, "label_vi": info["label_vi"], "label_en": info["label_en"],
                         "format": _fmt_of(c, self.data[c], self.id)})
        n_supp = int(self.data["suppressed"].astype("boolean").fillna(False).sum()) if "suppressed" in self.data else 0
        return {"id": self.id, "title_vi": self.title_vi, "title_en": self.title_en, "notebook": self.notebook,
                "notes": {"vi": list(self.notes_vi), "en": list(self.notes_en)}, "columns": cols,
                "keys": list(self.spec.keys), "rows": int(len(self.data)), "suppressed_rows": n_supp,
                "min_cell": int(self.min_cell), "synthetic": bool(self.synthetic)}


_SYNTH_VI = "DỮ LIỆU MÔ PHỎNG: bảng này được tính từ dữ liệu mô phỏng, không phải số liệu thực của địa phương."
_SYNTH_EN = "SYNTHETIC DATA: this table is computed from synthetic data, not the district's real figures."


def _merge_notes(defaults: Iterable[str], given: Iterable[str], synth: str | None) -> tuple[str, ...]:
    out: list[str] = []
    for n in (*defaults, *given, *([synth] if synth else [])):
        n = str(n).strip()
        if n and n not in out:
            out.append(n)
    return tuple(out)


def _fmt_float(v: float) -> str:
    if math.isnan(v):
        return ""
    s = FLOAT_FORMAT % v
    return "0" if s in ("-0", "0") else s


def _canonical_column(col: str, s: pd.Series, tid: str) -> pd.Series:
    fmt = _fmt_of(col, s, tid)
    if fmt == "bool" or pd.api.types.is_bool_dtype(s):
        b = s.astype("boolean")
        return pd.Series(["" if pd.isna(v) else ("true" if v else "false") for v in b], index=s.index, dtype=object)
    if fmt in ("count", "int", "year"):
        v = pd.to_numeric(s, errors="raise").astype("Float64")
        frac = (v - v.round()).abs()
        if (frac.fillna(0) > 1e-9).any():
            i = int(np.flatnonzero((frac.fillna(0) > 1e-9).to_numpy())[0])
            raise EvidenceError(f"evidence table {tid}: row {i + 1}, column {col}, value {s.iloc[i]!r}: expected a whole number")
        return pd.Series(["" if pd.isna(x) else str(int(round(float(x)))) for x in v], index=s.index, dtype=object)
    if fmt in ("rate", "pp", "p", "number") or pd.api.types.is_float_dtype(s):
        v = pd.to_numeric(s, errors="raise").to_numpy(dtype=float, na_value=np.nan)
        return pd.Series([_fmt_float(float(x)) for x in v], index=s.index, dtype=object)
    return pd.Series(["" if _is_empty(x) else str(x) for x in s], index=s.index, dtype=object)


# ---------------------------------------------------------------------------------------
# Suppression (idempotent; indicators.suppress may already have applied it)
# ---------------------------------------------------------------------------------------
def apply_suppression(frame: pd.DataFrame, *, min_cell: int, keys: Sequence[str] = ()) -> pd.DataFrame:
    """Suppress every row computed from fewer than ``min_cell`` students.

    A row with 0 < graduates < min_cell (or already marked ``suppressed``) gets
    ``suppressed = True`` and every rate, count (other than graduates) and flag left empty;
    keys, text columns, graduates and the policy target stay. Returns a new frame.
    """
    df = frame.copy()
    grads = pd.to_numeric(df["graduates"], errors="coerce")
    small = (grads > 0) & (grads < min_cell)
    prev = df["suppressed"].astype("boolean").fillna(False) if "suppressed" in df.columns else False
    supp = (small.fillna(False) | prev).astype(bool)
    df["suppressed"] = supp
    for c in df.columns:
        if c in keys or c in _SUPPRESSION_KEEP:
            continue
        fmt = _fmt_of(c, df[c])
        if fmt in ("rate", "count", "int", "number", "bool", "pp", "p") and supp.any():
            if fmt == "bool":
                df[c] = df[c].astype("boolean")
            elif not pd.api.types.is_float_dtype(df[c]):
                df[c] = pd.to_numeric(df[c], errors="coerce").astype("Float64")
            df.loc[supp, c] = pd.NA
    return df


# ---------------------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------------------
def _require(frame: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise EvidenceError(f"{what}: the frame lacks column(s) {', '.join(missing)} "
                            f"(it has {', '.join(map(str, frame.columns))})")


def _order(frame: pd.DataFrame, table_id: str) -> pd.DataFrame:
    mins = list(TABLES[table_id].columns)
    return frame.loc[:, mins + [c for c in frame.columns if c not in mins]]


def _pct(v: float, lang: str, digits: int = 1) -> str:
    s = f"{v * 100:.{digits}f}"
    return (s.replace(".", ",") if lang == "vi" else s) + " %"


def _num(v: float, lang: str, digits: int = 1) -> str:
    s = f"{v:.{digits}f}"
    return s.replace(".", ",") if lang == "vi" else s


def _int(v: float, lang: str) -> str:
    s = f"{int(round(v)):,}"
    return s.replace(",", ".") if lang == "vi" else s


def _p(v: float, lang: str) -> str:
    if pd.isna(v):
        return "–"
    s = "< 0.001" if v < 0.001 else f"{v:.3f}"
    return s.replace(".", ",") if lang == "vi" else s


def _make(table_id: str, data: pd.DataFrame, *, notebook: str, min_cell: int, synthetic: bool,
          extra_vi: Iterable[str], extra_en: Iterable[str], notes_vi: Iterable[str], notes_en: Iterable[str]) -> EvidenceTable:
    table = EvidenceTable(table_id, _order(data, table_id), notebook=notebook,
                          notes_vi=(*extra_vi, *notes_vi), notes_en=(*extra_en, *notes_en),
                          min_cell=min_cell, synthetic=synthetic)
    return table.check()


def _suppression_notes(df: pd.DataFrame, min_cell: int) -> tuple[list[str], list[str]]:
    n = int(df["suppressed"].sum()) if "suppressed" in df.columns else 0
    return ([f"Ngưỡng tối thiểu min_cell = {min_cell} học sinh; số ô bị ẩn: {n} trên {len(df)}."],
            [f"Minimum cell min_cell = {min_cell} students; suppressed cells: {n} of {len(df)}."])


def _target_notes(targets: pd.DataFrame | None, indicator: str, levels: Iterable[str],
                  years: Iterable[int]) -> tuple[list[str], list[str]]:
    if targets is None or not len(targets):
        return ([], [])
    years = [int(y) for y in years]
    if not years:
        return ([], [])
    lo, hi = min(years), max(years)
    t = targets[(targets["indicator"] == indicator) & targets["level"].isin(list(levels))
                & (targets["year_to"] >= lo) & (targets["year_from"] <= hi)]
    t = t.assign(_general=t["area_type"] != "general").sort_values(["level", "_general", "year_from"], kind="stable")
    vi, en = [], []
    for _, r in t.iterrows():
        period = f"{int(r['year_from'])}-{int(r['year_to'])}"
        if pd.isna(r["target"]):
            vi.append(f"Chỉ tiêu {r['level']} ({label('area_type', r['area_type'], 'vi')}), {period}: chưa có số liệu "
                      f"({r['source']}; {label('standing', r['standing'], 'vi')}).")
            en.append(f"Target {r['level']} ({label('area_type', r['area_type'], 'en')}), {period}: not known "
                      f"({r['source']}; {label('standing', r['standing'], 'en')}).")
            continue
        vi.append(f"Chỉ tiêu {r['level']} ({label('area_type', r['area_type'], 'vi')}), {period}: "
                  f">= {_pct(r['target'], 'vi', 0)} theo {r['source']} (mức độ xác thực: {label('standing', r['standing'], 'vi')}).")
        en.append(f"Target {r['level']} ({label('area_type', r['area_type'], 'en')}), {period}: "
                  f">= {_pct(r['target'], 'en', 0)} per {r['source']} (standing: {label('standing', r['standing'], 'en')}).")
    return vi, en


def uptake_by_year_table(frame: pd.DataFrame, *, min_cell: int = 5, targets: pd.DataFrame | None = None,
                         unknown_in_denominator: bool | None = None, notebook: str = "", synthetic: bool = False,
                         notes_vi: Iterable[str] = (), notes_en: Iterable[str] = ()) -> EvidenceTable:
    """``uptake_by_year``: one row per level and year (rates are fractions 0..1).

    ``frame`` has the contract's columns (``indicators.uptake_by_year``); extras are kept after
    them. ``targets`` (``reference.load_targets``) adds each target's source and standing to the
    notes. A level-year with fewer than ``min_cell`` graduates is suppressed (an extra
    ``suppressed`` column then appears).
    """
    tid = "uptake_by_year"
    _require(frame, TABLES[tid].columns, tid)
    df = frame.copy()
    grads = pd.to_numeric(df["graduates"], errors="coerce")
    if "suppressed" in df.columns or ((grads > 0) & (grads < min_cell)).any():
        df = apply_suppression(df, min_cell=min_cell, keys=TABLES[tid].keys)
    vi, en = [], []
    yrs = sorted(int(y) for y in df["year"].dropna().unique())
    if yrs:
        vi.append(f"Các khóa tốt nghiệp {yrs[0]}-{yrs[-1]}; tổng số học sinh tốt nghiệp: {_int(grads.sum(), 'vi')}.")
        en.append(f"Graduating cohorts {yrs[0]}-{yrs[-1]}; graduates in total: {_int(grads.sum(), 'en')}.")
    if unknown_in_denominator is not None:
        if unknown_in_denominator:
            vi.append("Học sinh không rõ hướng đi được giữ trong mẫu số (tỷ lệ thận trọng).")
            en.append("Graduates with unknown destination stay in the denominator (a conservative rate).")
        else:
            vi.append("Học sinh không rõ hướng đi được loại khỏi mẫu số.")
            en.append("Graduates with unknown destination are left out of the denominator.")
    tv, te = _target_notes(targets, "voc_uptake_target", df["level"].astype(str).unique(), yrs)
    sv, se = _suppression_notes(df, min_cell) if "suppressed" in df.columns else ([], [])
    return _make(tid, df, notebook=notebook, min_cell=min_cell, synthetic=synthetic, extra_vi=vi + tv + sv,
                 extra_en=en + te + se, notes_vi=notes_vi, notes_en=notes_en)


def uptake_by_commune_table(frame: pd.DataFrame, *, min_cell: int, geography: str | None = None,
                            targets: pd.DataFrame | None = None, notebook: str = "", synthetic: bool = False,
                            notes_vi: Iterable[str] = (), notes_en: Iterable[str] = ()) -> EvidenceTable:
    """``uptake_by_commune``: one row per level, year and commune; small cells suppressed.

    ``geography`` (``pre2025``/``post2025``) names the commune boundaries in the notes.
    """
    tid = "uptake_by_commune"
    cols = [c for c in TABLES[tid].columns if c != "suppressed"]
    _require(frame, cols, tid)
    df = apply_suppression(frame, min_cell=min_cell, keys=TABLES[tid].keys)
    df["commune_code"] = df["commune_code"].astype(str)
    vi, en = [], []
    if geography:
        vi.append(f"Địa giới: {label('geography', geography, 'vi')}.")
        en.append(f"Boundaries: {label('geography', geography, 'en')}.")
    known = df[df["target_met"].notna()]
    if len(known):
        last = int(known["year"].max())
        for lvl, g in known[known["year"] == last].groupby("level", sort=True):
            n_met = int(g["target_met"].astype(bool).sum())
            vi.append(f"Năm {last}, {lvl}: {n_met}/{len(g)} xã đạt chỉ tiêu (trong các xã không bị ẩn và có chỉ tiêu).")
            en.append(f"In {last}, {lvl}: {n_met} of {len(g)} communes meet the target (among communes not suppressed "
                      "and with a target).")
    yrs = sorted(int(y) for y in df["year"].dropna().unique())
    tv, te = _target_notes(targets, "voc_uptake_target", df["level"].astype(str).unique(), yrs)
    sv, se = _suppression_notes(df, min_cell)
    return _make(tid, df, notebook=notebook, min_cell=min_cell, synthetic=synthetic, extra_vi=vi + tv + sv,
                 extra_en=en + te + se, notes_vi=notes_vi, notes_en=notes_en)


def uptake_by_group_table(frame: pd.DataFrame, *, min_cell: int, notebook: str = "", synthetic: bool = False,
                          notes_vi: Iterable[str] = (), notes_en: Iterable[str] = ()) -> EvidenceTable:
    """``uptake_by_group``: one row per level, year, grouping variable (sex/ethnicity) and group."""
    tid = "uptake_by_group"
    cols = [c for c in TABLES[tid].columns if c != "suppressed"]
    _require(frame, cols, tid)
    df = apply_suppression(frame, min_cell=min_cell, keys=TABLES[tid].keys)
    gv = sorted(df["group_var"].astype(str).unique())
    vi = [f"Nhóm theo: {', '.join(label('group_var', g, 'vi') for g in gv)}; dữ liệu từ danh sách học sinh (students.csv)."]
    en = [f"Grouped by: {', '.join(label('group_var', g, 'en') for g in gv)}; from the student list (students.csv)."]
    sv, se = _suppression_notes(df, min_cell)
    return _make(tid, df, notebook=notebook, min_cell=min_cell, synthetic=synthetic, extra_vi=vi + sv,
                 extra_en=en + se, notes_vi=notes_vi, notes_en=notes_en)


def coverage_by_year_table(frame: pd.DataFrame, *, targets: pd.DataFrame | None = None, notebook: str = "",
                           synthetic: bool = False, notes_vi: Iterable[str] = (), notes_en: Iterable[str] = ()) -> EvidenceTable:
    """``coverage_by_year``: schools, covered, missing and coverage rate by level and year.

    The note states the denominator of ``coverage_rate`` as found in the data (all schools, or
    schools with counseling data).
    """
    tid = "coverage_by_year"
    _require(frame, TABLES[tid].columns, tid)
    df = frame.copy()
    s = pd.to_numeric(df["schools"], errors="coerce")
    c = pd.to_numeric(df["covered"], errors="coerce")
    m = pd.to_numeric(df["missing"], errors="coerce")
    r = pd.to_numeric(df["coverage_rate"], errors="coerce")
    ok = r.notna()
    vi, en = [], []
    if ok.any():
        if np.allclose(r[ok], (c / s)[ok], atol=1e-9):
            vi.append("Tỷ lệ = số trường có GV tư vấn / tổng số trường (trường thiếu số liệu tính là chưa có).")
            en.append("Coverage rate = covered schools / all schools (a school with missing data counts as not covered).")
        elif np.allclose(r[ok], (c / (s - m))[ok], atol=1e-9):
            vi.append("Tỷ lệ = số trường có GV tư vấn / số trường có số liệu (trường thiếu số liệu không tính).")
            en.append("Coverage rate = covered schools / schools with counseling data (schools with missing data left out).")
    yrs = sorted(int(y) for y in df["year"].dropna().unique())
    tv, te = _target_notes(targets, "counselor_coverage", df["level"].astype(str).unique(), yrs)
    return _make(tid, df, notebook=notebook, min_cell=1, synthetic=synthetic, extra_vi=vi + tv, extra_en=en + te,
                 notes_vi=notes_vi, notes_en=notes_en)


# -- results objects ----------------------------------------------------------------------
_TERM_CANDIDATES = ("treated", "covered", "att", "ATT", "simple", "overall", "year", "trend", "slope", "ame_year")


def _info(obj: Any) -> Mapping[str, Any]:
    if isinstance(obj, (pd.DataFrame, pd.Series)):
        return {}
    info = getattr(obj, "info", None)
    if not isinstance(info, Mapping) or not info:
        info = getattr(getattr(obj, "overall", None), "info", None)
    return info if isinstance(info, Mapping) else {}


def _resolve(obj: Any, kind: str, what: str) -> tuple[pd.DataFrame, Any]:
    """A tidy frame in percentage points from a results object, and the object holding its facts.

    ``kind`` is ``simple`` (one overall effect) or ``dynamic`` (by event time). Accepts a frame,
    Series or mapping (already in pp), a staggered-adoption results object (``aggregate(kind)``),
    an aggregation (``overall`` + ``to_frame``) or any ``EstimateResults`` (``to_frame(pp=True)``).
    """
    if isinstance(obj, pd.DataFrame):
        return obj.copy(), obj
    if isinstance(obj, pd.Series):
        return obj.to_frame().T.reset_index(drop=True), obj
    if isinstance(obj, Mapping):
        return pd.DataFrame([dict(obj)]), obj
    if hasattr(obj, "aggregate") and callable(obj.aggregate) and not hasattr(obj, "components"):
        return _resolve(obj.aggregate(kind), kind, what)
    if hasattr(obj, "overall") and hasattr(obj, "to_frame"):
        if kind == "simple":
            return obj.overall.to_frame(pp=True), obj.overall
        return obj.to_frame(pp=True), obj.overall
    if hasattr(obj, "to_frame"):
        return obj.to_frame(pp=True), obj
    raise EvidenceError(f"{what}: expected a results object (to_frame) or a frame with estimate_pp, got {type(obj).__name__}")


def _pick_row(frame: pd.DataFrame, term: str | None, what: str) -> pd.Series:
    if term is not None:
        if "term" not in frame.columns or not (frame["term"].astype(str) == term).any():
            raise EvidenceError(f"{what}: no term {term!r} in the results (terms: "
                                f"{', '.join(frame['term'].astype(str)) if 'term' in frame.columns else '-'})")
        return frame.loc[frame["term"].astype(str) == term].iloc[0]
    if len(frame) == 1:
        return frame.iloc[0]
    if "term" in frame.columns:
        for cand in _TERM_CANDIDATES:
            hit = frame["term"].astype(str) == cand
            if hit.sum() == 1:
                return frame.loc[hit].iloc[0]
    terms = ", ".join(frame["term"].astype(str)) if "term" in frame.columns else f"{len(frame)} rows"
    raise EvidenceError(f"{what}: the results hold several terms ({terms}); name the one to report with term=")


def _pp_row(obj: Any, term: str | None, what: str) -> tuple[pd.Series, Any]:
    """One row with estimate_pp, std_error, ci_low, ci_high, p_value (percentage points), and its source."""
    frame, src = _resolve(obj, "simple", what)
    if "estimate_pp" not in frame.columns:
        raise EvidenceError(f"{what}: the results frame has no estimate_pp column (columns: {', '.join(map(str, frame.columns))}); "
                            "effects must be in percentage points (to_frame(pp=True))")
    return _pick_row(frame, term, what), src


def _test_text(t: Any, lang: str) -> str:
    stat = getattr(t, "statistic", float("nan"))
    p = getattr(t, "p_value", float("nan"))
    dist = getattr(t, "distribution", "")
    df = getattr(t, "df", None)
    dfs = f" ({df[0]:g}, {df[1]:g})" if isinstance(df, tuple) else (f" ({df:g})" if df is not None else "")
    ps = _p(p, lang)
    base = f"{dist}{dfs} = {_num(stat, lang, 2)}, p {ps if ps.startswith('<') else '= ' + ps}"
    if lang == "vi":
        verdict = ("không có bằng chứng về khác biệt xu hướng trước khi có GV tư vấn (mức 5 %)" if p >= 0.05 else
                   "có khác biệt xu hướng trước khi có GV tư vấn (mức 5 %): cần thận trọng khi đọc tác động")
    else:
        verdict = ("no evidence of differing trends before coverage (5 % level)" if p >= 0.05 else
                   "trends differ before coverage (5 % level): read the effect with caution")
    return f"{base}: {verdict}"


def _find_pretrend(obj: Any) -> Any:
    """The joint pre-trend test a results object carries (``tests`` named pre*, ``pretrend``, ``pretest``)."""
    for o in (obj, getattr(obj, "overall", None)):
        if o is None:
            continue
        # a test corrected for few units wins over the large-sample one (R did's chi2 pre-test
        # rejects far too often with ~30 schools: benchmarks/results/monte_carlo.md)
        tests = getattr(o, "tests", None) or {}
        for t in (getattr(o, "pretest_small_sample", None), tests.get("pretest_small_sample")):
            if t is not None and hasattr(t, "p_value"):
                return t
        for name, t in tests.items():
            if t is not None and ("pre" in str(name).lower() or "pre" in str(getattr(t, "name", "")).lower()):
                return t
        for attr in ("pretrend", "pretest"):
            t = getattr(o, attr, None)
            if t is not None and hasattr(t, "p_value"):
                return t
    return None


def trend_table(results_by_level_model: Mapping[Any, Any] | pd.DataFrame, *, term: str | None = None,
                notebook: str = "", synthetic: bool = False, notes_vi: Iterable[str] = (),
                notes_en: Iterable[str] = ()) -> EvidenceTable:
    """``trend``: one row per (level, model), the trend in percentage points per year.

    ``results_by_level_model`` is one of: a mapping ``(level, model) -> results`` (the row is
    the term named ``model`` when the results have it, else ``term``, the only term, or a term
    named ``year``/``trend``/``slope``); a mapping ``level -> results`` whose every term is a
    model (``trends.TrendResults``: ``glm_binomial``, ``lpm``); or a frame with ``level, model,
    estimate_pp_per_year, std_error, ci_low, ci_high, p_value`` (``TrendResults.trend_frame()``).
    Extra columns ``n_obs`` and ``n_clusters`` come from the results' ``info``.
    """
    rows, vi, en = [], [], []
    if isinstance(results_by_level_model, pd.DataFrame):
        _require(results_by_level_model, TABLES["trend"].columns, "trend")
        df = results_by_level_model.copy()
        for _, r in df.iterrows():
            n = f" N = {_int(r['n_obs'], 'vi')}, {_int(r['n_clusters'], 'vi')} cụm." if {"n_obs", "n_clusters"} <= set(r.index) else ""
            m = f" N = {_int(r['n_obs'], 'en')}, {_int(r['n_clusters'], 'en')} clusters." if n else ""
            vi.append(f"{r['level']}, {r['model']}: {_num(r['estimate_pp_per_year'], 'vi', 2)} điểm %/năm "
                      f"(KTC 95 % {_num(r['ci_low'], 'vi', 2)} đến {_num(r['ci_high'], 'vi', 2)}).{n}")
            en.append(f"{r['level']}, {r['model']}: {_num(r['estimate_pp_per_year'], 'en', 2)} pp per year "
                      f"(95 % CI {_num(r['ci_low'], 'en', 2)} to {_num(r['ci_high'], 'en', 2)}).{m}")
        return _make("trend", df, notebook=notebook, min_cell=1, synthetic=synthetic, extra_vi=vi, extra_en=en,
                     notes_vi=notes_vi, notes_en=notes_en)
    items: list[tuple[str, str, Any, pd.Series]] = []
    for key, res in results_by_level_model.items():
        if isinstance(key, tuple):
            level, model = key
            tidy = _resolve(res, "simple", f"trend {level}/{model}")[0]
            t = model if (term is None and tidy is not None and "term" in tidy.columns
                          and (tidy["term"].astype(str) == str(model)).any()) else term
            row, src = _pp_row(res, t, f"trend {level}/{model}")
            items.append((str(level), str(model), src, row))
        else:
            tidy = res.to_frame(pp=True)
            for _, r in tidy.iterrows():
                items.append((str(key), str(r["term"]), res, r))
    for level, model, res, row in sorted(items, key=lambda x: (x[0], x[1])):
        info = _info(res)
        rows.append({"level": level, "model": model, "estimate_pp_per_year": float(row["estimate_pp"]),
                     "std_error": float(row["std_error"]), "ci_low": float(row["ci_low"]),
                     "ci_high": float(row["ci_high"]), "p_value": float(row["p_value"]),
                     "n_obs": info.get("n_obs", np.nan), "n_clusters": info.get("n_clusters", np.nan)})
        est = getattr(res, "estimand", "") or ""
        method = "; ".join(x for x in (getattr(res, "cov_type", ""),) if x)
        yrs = info.get("years", "")
        vi.append(f"{level}, {model}: {_num(row['estimate_pp'], 'vi', 2)} điểm %/năm (KTC 95 % {_num(row['ci_low'], 'vi', 2)} "
                  f"đến {_num(row['ci_high'], 'vi', 2)}); đại lượng: {est or 'thay đổi tỷ lệ mỗi năm'}; sai số: {method or '-'}; "
                  f"N = {_fact(info, 'n_obs', 'vi')} quan sát trường × năm, {_fact(info, 'n_clusters', 'vi')} cụm (trường)"
                  + (f"; các năm {yrs}" if yrs else "") + ".")
        en.append(f"{level}, {model}: {_num(row['estimate_pp'], 'en', 2)} pp per year (95 % CI {_num(row['ci_low'], 'en', 2)} "
                  f"to {_num(row['ci_high'], 'en', 2)}); estimand: {est or 'change of the rate per year'}; errors: {method or '-'}; "
                  f"N = {_fact(info, 'n_obs', 'en')} school-years, {_fact(info, 'n_clusters', 'en')} clusters (schools)"
                  + (f"; years {yrs}" if yrs else "") + ".")
        for n in getattr(res, "notes", ()) or ():
            if str(n) not in en:
                en.append(str(n))
    df = pd.DataFrame(rows).dropna(axis=1, how="all")
    return _make("trend", df, notebook=notebook, min_cell=1, synthetic=synthetic, extra_vi=vi, extra_en=en,
                 notes_vi=notes_vi, notes_en=notes_en)


def _fact(info: Mapping[str, Any], key: str, lang: str) -> str:
    v = info.get(key)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "?"
    return _int(float(v), lang) if isinstance(v, (int, float, np.integer, np.floating)) else str(v)


def _as_estimator_name(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, Mapping) and "estimator" in v:
        return str(v["estimator"])
    if hasattr(v, "estimator"):
        return str(v.estimator)
    raise EvidenceError(f"recommended: expected an estimator name per level, got {v!r}")


def _reason(v: Any, lang: str) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, Mapping):
        return str(v.get(lang) or v.get(f"reason_{lang}") or v.get("reason") or v.get("en") or "")
    for attr in (f"reason_{lang}", "reason"):
        if getattr(v, attr, None):
            return str(getattr(v, attr))
    return str(v)


def effect_overall_table(results: Sequence[tuple[str, str, Any, int, int]], recommended: Mapping[str, Any],
                         reasons: Mapping[str, Any] | None = None, *, term: str | Mapping[str, str] | None = None,
                         pretrend: Mapping[str, Any] | None = None,
                         wild_bootstrap: Mapping[tuple[str, str], Any] | None = None, notebook: str = "",
                         synthetic: bool = False, notes_vi: Iterable[str] = (),
                         notes_en: Iterable[str] = ()) -> EvidenceTable:
    """``effect_overall``: one row per (level, estimator), effects in percentage points.

    ``results``: ``(level, estimator, results, n_units, n_obs)`` tuples. ``results`` is a
    results object (``to_frame(pp=True)``; ``term`` picks the row, per estimator when a
    mapping), a staggered-adoption results object (its ``aggregate("simple")``), an aggregation
    (its ``overall``), or a frame/Series/mapping with ``estimate_pp, std_error, ci_low, ci_high,
    p_value``. ``recommended`` maps each level to the estimator the review reports (a name, or
    an object with ``.estimator`` such as ``effects.recommend``'s ``Recommendation``);
    ``reasons`` maps level to the reason (a string, ``{"vi": .., "en": ..}`` or an object with
    ``reason_vi``/``reason_en``; default: the recommendation's own reason). ``pretrend`` maps
    level to the joint pre-trend ``TestResult`` of the event study; tests carried by the results
    themselves are reported too. ``wild_bootstrap`` maps ``(level, estimator)`` to a
    wild-cluster-bootstrap result in percentage points (a frame such as
    ``TwfeResults.wild_bootstrap(pp=True)``, its first row or the row of ``term``), giving the
    extra columns ``wild_ci_low, wild_ci_high, wild_p_value``: the few-cluster interval beside
    the analytic one. Extra columns: ``n_clusters``, ``comparison_group``, ``method``,
    ``estimand`` when known.
    """
    rows, vi, en = [], [], []
    rec = {str(k): _as_estimator_name(v) for k, v in recommended.items()}
    reasons = dict(reasons or {})
    for k, v in recommended.items():
        if str(k) not in reasons and not isinstance(v, str):
            reasons[str(k)] = v
    pretrend = dict(pretrend or {})
    for level, estimator, res, n_units, n_obs in results:
        t = term.get(estimator) if isinstance(term, Mapping) else term
        row, src = _pp_row(res, t, f"effect_overall {level}/{estimator}")
        info = dict(_info(src)) or dict(_info(res))
        if isinstance(src, (pd.DataFrame, pd.Series, Mapping)):
            info.update({k: row[k] for k in ("n_clusters", "comparison_group", "method", "estimand") if k in row.index})
        comp = info.get("comparison_group", info.get("control_group", info.get("control")))
        method = info.get("method") or getattr(src, "cov_type", "") or ""
        estimand = info.get("estimand") or getattr(src, "estimand", "") or ""
        rows.append({"level": level, "estimator": estimator, "estimate_pp": float(row["estimate_pp"]),
                     "std_error": float(row["std_error"]), "ci_low": float(row["ci_low"]),
                     "ci_high": float(row["ci_high"]),
                     "p_value": float(row["p_value"]) if "p_value" in row.index else np.nan,
                     "n_units": n_units, "n_obs": n_obs, "recommended": rec.get(str(level)) == estimator,
                     "n_clusters": info.get("n_clusters", np.nan), "comparison_group": comp or "",
                     "method": str(method), "estimand": str(estimand)})
        facts_vi = [f"{level}, {estimator}: ước lượng {_num(row['estimate_pp'], 'vi')} điểm % "
                    f"(KTC 95 % {_num(row['ci_low'], 'vi')} đến {_num(row['ci_high'], 'vi')})"]
        facts_en = [f"{level}, {estimator}: estimate {_num(row['estimate_pp'], 'en')} pp "
                    f"(95 % CI {_num(row['ci_low'], 'en')} to {_num(row['ci_high'], 'en')})"]
        if estimand:
            facts_vi.append(f"đại lượng ước lượng: {estimand}")
            facts_en.append(f"estimand: {estimand}")
        if method:
            facts_vi.append(f"sai số: {method}")
            facts_en.append(f"errors: {method}")
        clusters = _fact(info, "n_clusters", "vi")
        facts_vi.append(f"N = {_int(n_obs, 'vi')} quan sát trường × năm, {_int(n_units, 'vi')} trường"
                        + (f", {clusters} cụm" if clusters != "?" else ""))
        facts_en.append(f"N = {_int(n_obs, 'en')} school-years, {_int(n_units, 'en')} schools"
                        + (f", {_fact(info, 'n_clusters', 'en')} clusters" if clusters != "?" else ""))
        if comp:
            facts_vi.append(f"nhóm đối chứng: {_comparison_label(comp, 'vi')}")
            facts_en.append(f"comparison group: {_comparison_label(comp, 'en')}")
        boot = (wild_bootstrap or {}).get((str(level), str(estimator)))
        if boot is not None:
            b = boot
            if isinstance(b, pd.DataFrame):
                b = b[b["term"] == t].iloc[0] if (t is not None and "term" in b.columns and (b["term"] == t).any()) else b.iloc[0]
            reps = f", {int(b['reps'])} lần lặp" if "reps" in b else ""
            reps_en = f", {int(b['reps'])} replications" if "reps" in b else ""
            lo, hi = float(b["ci_low"]), float(b["ci_high"])
            if np.isfinite(lo) and np.isfinite(hi) and -100 <= lo <= hi <= 100:
                rows[-1].update(wild_ci_low=lo, wild_ci_high=hi, wild_p_value=float(b["p_value"]))
                facts_vi.append(f"bootstrap hoang dã theo cụm (ít cụm){reps}: KTC 95 % {_num(lo, 'vi')} đến "
                                f"{_num(hi, 'vi')}, p = {_p(b['p_value'], 'vi')}")
                facts_en.append(f"wild cluster bootstrap (few clusters){reps_en}: 95 % CI {_num(lo, 'en')} to "
                                f"{_num(hi, 'en')}, p = {_p(b['p_value'], 'en')}")
            else:  # with very few schools the bootstrap cannot bound the effect within the possible range
                rows[-1].update(wild_p_value=float(b["p_value"]))
                facts_vi.append(f"bootstrap hoang dã theo cụm{reps}: khoảng tin cậy rộng hơn mọi giá trị có thể "
                                f"(quá ít trường để kết luận), p = {_p(b['p_value'], 'vi')}")
                facts_en.append(f"wild cluster bootstrap{reps_en}: the interval is wider than any possible effect "
                                f"(too few schools to conclude), p = {_p(b['p_value'], 'en')}")
        own = _find_pretrend(src) or (None if src is res else _find_pretrend(res))
        if own is not None:
            facts_vi.append(f"kiểm định xu hướng trước của phương pháp này: {_test_text(own, 'vi')}")
            facts_en.append(f"this estimator's pre-trend test: {_test_text(own, 'en')}")
        vi.append("; ".join(facts_vi) + ".")
        en.append("; ".join(facts_en) + ".")
    if not rows:
        raise EvidenceError("effect_overall: no results given")
    df = pd.DataFrame(rows)
    for c in ("comparison_group", "method", "estimand"):
        if (df[c] == "").all():
            df = df.drop(columns=c)
    if df["n_clusters"].isna().all():
        df = df.drop(columns="n_clusters")
    for c in ("wild_ci_low", "wild_ci_high", "wild_p_value"):
        if c not in df.columns:
            df[c] = np.nan
    if df[["wild_ci_low", "wild_ci_high", "wild_p_value"]].isna().all().all():
        df = df.drop(columns=["wild_ci_low", "wild_ci_high", "wild_p_value"])
    for level in sorted(df["level"].astype(str).unique()):
        est = rec.get(level)
        if est is None:
            raise EvidenceError(f"effect_overall: no recommended estimator for level {level}")
        if not ((df["level"].astype(str) == level) & (df["estimator"] == est)).any():
            raise EvidenceError(f"effect_overall: the recommended estimator {est!r} for level {level} is not among "
                                f"the results ({', '.join(df.loc[df['level'].astype(str) == level, 'estimator'])})")
        r_vi = _reason(reasons.get(level), "vi").strip().rstrip(".")
        r_en = _reason(reasons.get(level), "en").strip().rstrip(".")
        vi.append(f"Ước lượng được báo cáo cho {level}: {est}" + (f". Lý do: {r_vi}" if r_vi else "") + ".")
        en.append(f"Reported estimate for {level}: {est}" + (f". Reason: {r_en}" if r_en else "") + ".")
        if level in pretrend and pretrend[level] is not None:
            vi.append(f"Kiểm định đồng thời xu hướng trước (nghiên cứu sự kiện, {level}): {_test_text(pretrend[level], 'vi')}.")
            en.append(f"Joint pre-trend test (event study, {level}): {_test_text(pretrend[level], 'en')}.")
    return _make("effect_overall", df, notebook=notebook, min_cell=1, synthetic=synthetic, extra_vi=vi, extra_en=en,
                 notes_vi=notes_vi, notes_en=notes_en)


def _comparison_label(code: Any, lang: str) -> str:
    m = {"notyet": ("các trường chưa có GV tư vấn (kể cả trường sẽ có sau)", "schools not yet covered (including later-covered ones)"),
         "never": ("các trường chưa từng có GV tư vấn trong giai đoạn", "schools never covered in the period")}
    v = m.get(str(code))
    return (v[0] if lang == "vi" else v[1]) if v else str(code)


_EVENT_RE = re.compile(r"(-?\d+)(?!.*\d)")


def _event_time_of(term: str) -> int:
    m = _EVENT_RE.search(str(term))
    if not m:
        raise EvidenceError(f"event_study: cannot read an event time from term {term!r}; give a frame with an event_time column")
    e = int(m.group(1))
    low = str(term).lower()
    if e > 0 and ("lead" in low or "pre" in low):
        e = -e
    return e


def event_study_table(results: Sequence[tuple], *, reference_period: int | None = -1,
                      pretrend: Mapping[tuple[str, str], Any] | None = None, notebook: str = "",
                      synthetic: bool = False, notes_vi: Iterable[str] = (), notes_en: Iterable[str] = ()) -> EvidenceTable:
    """``event_study``: one row per (level, estimator, event_time), estimates in percentage points.

    ``results``: ``(level, estimator, obj)`` tuples, where ``obj`` is a frame with
    ``event_time, estimate_pp, std_error, ci_low, ci_high``, an object with
    ``aggregate("dynamic")``, or a results object whose ``to_frame(pp=True)`` terms end in the
    event time (``e-2``, ``event_time[-2]``; ``lead2`` reads as -2). When an estimator's output
    lacks ``reference_period`` (the normalised period of a regression event study) a row with
    estimate 0 and empty errors is added and the extra column ``reference_period`` marks it.
    ``pretrend`` maps ``(level, estimator)`` to the joint pre-trend test (else found in the
    results' ``tests``).
    """
    frames, vi, en = [], [], []
    pretrend = dict(pretrend or {})
    for item in results:
        level, estimator, obj = item[0], item[1], item[2]
        f, src = _resolve(obj, "dynamic", f"event_study {level}/{estimator}")
        if "event_time" not in f.columns:
            if "term" not in f.columns:
                raise EvidenceError(f"event_study {level}/{estimator}: the frame has neither event_time nor term")
            f["event_time"] = [_event_time_of(t) for t in f["term"]]
        _require(f, ["estimate_pp", "std_error", "ci_low", "ci_high"], f"event_study {level}/{estimator}")
        ref_flag = (f["reference"].astype("boolean").fillna(False).to_numpy(dtype=bool)
                    if "reference" in f.columns else np.zeros(len(f), dtype=bool))
        f = f.loc[:, ["event_time", "estimate_pp", "std_error", "ci_low", "ci_high"]].copy()
        f["event_time"] = pd.to_numeric(f["event_time"]).astype("int64")
        f["reference_period"] = ref_flag
        for e in f.loc[f["reference_period"], "event_time"]:
            vi.append(f"{level}, {estimator}: năm {int(e)} là kỳ tham chiếu (chuẩn hóa bằng 0).")
            en.append(f"{level}, {estimator}: year {int(e)} is the reference period (normalised to 0).")
        if reference_period is not None and not (f["event_time"] == reference_period).any():
            f = pd.concat([f, pd.DataFrame({"event_time": [reference_period], "estimate_pp": [0.0],
                                            "std_error": [np.nan], "ci_low": [np.nan], "ci_high": [np.nan],
                                            "reference_period": [True]})], ignore_index=True)
            vi.append(f"{level}, {estimator}: năm {reference_period} là kỳ tham chiếu (chuẩn hóa bằng 0).")
            en.append(f"{level}, {estimator}: year {reference_period} is the reference period (normalised to 0).")
        f.insert(0, "estimator", estimator)
        f.insert(0, "level", level)
        frames.append(f)
        t = pretrend.get((str(level), str(estimator)))
        if t is None and not isinstance(obj, pd.DataFrame):
            t = _find_pretrend(src) or _find_pretrend(obj)
        pre = f[(f["event_time"] < 0) & ~f["reference_period"]]
        if t is not None:
            vi.append(f"Kiểm định đồng thời xu hướng trước ({level}, {estimator}; {len(pre)} hệ số trước): {_test_text(t, 'vi')}.")
            en.append(f"Joint pre-trend test ({level}, {estimator}; {len(pre)} pre-period coefficients): {_test_text(t, 'en')}.")
        else:
            nz = int(((pre["ci_low"] > 0) | (pre["ci_high"] < 0)).sum())
            vi.append(f"{level}, {estimator}: {nz}/{len(pre)} hệ số trước có KTC 95 % không chứa 0 (chưa có kiểm định đồng thời).")
            en.append(f"{level}, {estimator}: {nz} of {len(pre)} pre-period coefficients have a 95 % CI excluding 0 "
                      "(no joint test given).")
    df = pd.concat(frames, ignore_index=True)
    if not df["reference_period"].any():
        df = df.drop(columns="reference_period")
    return _make("event_study", df, notebook=notebook, min_cell=1, synthetic=synthetic, extra_vi=vi, extra_en=en,
                 notes_vi=notes_vi, notes_en=notes_en)


def equity_gaps_table(frame: pd.DataFrame, *, notebook: str = "", synthetic: bool = False,
                      notes_vi: Iterable[str] = (), notes_en: Iterable[str] = ()) -> EvidenceTable:
    """``equity_gaps``: one row per level, dimension, group and ``adjusted`` (raw / adjusted).

    ``frame`` as ``equity.equity_table`` returns it: ``gap_pp`` (group minus reference, in
    percentage points) with its 95 % interval ``ci_low``/``ci_high``; ``adjusted`` is true for
    the gap within school and year. Extras (std_error, p_value, n, n_clusters, rates) are kept;
    the notes give each gap with its interval and number of clusters.
    """
    tid = "equity_gaps"
    _require(frame, TABLES[tid].columns, tid)
    df = frame.copy()
    adj = df["adjusted"]
    if not (pd.api.types.is_bool_dtype(adj) or isinstance(adj.dtype, pd.BooleanDtype)
            or set(pd.unique(adj.dropna())) <= {0, 1, True, False}):
        raise EvidenceError(f"{tid}: column adjusted, value {_plain(adj.iloc[0])!r}: expected true/false "
                            "(the gap itself goes in gap_pp, one row raw and one adjusted)")
    df["adjusted"] = adj.astype("boolean")
    vi, en = [], []
    for r in df.sort_values(["level", "dimension", "group", "adjusted"], kind="mergesort").itertuples(index=False):
        how_vi = "đã điều chỉnh" if r.adjusted else "thô"
        how_en = "adjusted" if r.adjusted else "raw"
        g_vi, g_en = value_label(r.dimension, r.group, "vi"), value_label(r.dimension, r.group, "en")
        ref_vi, ref_en = value_label(r.dimension, r.reference, "vi"), value_label(r.dimension, r.reference, "en")
        ncl = getattr(r, "n_clusters", None)
        vi.append(f"{r.level}, {g_vi} so với {ref_vi} ({how_vi}): {_num(r.gap_pp, 'vi')} điểm % "
                  f"(KTC 95 % {_num(r.ci_low, 'vi')} đến {_num(r.ci_high, 'vi')})"
                  + (f"; {_int(ncl, 'vi')} cụm (trường)" if ncl is not None and not pd.isna(ncl) else "") + ".")
        en.append(f"{r.level}, {g_en} vs {ref_en} ({how_en}): {_num(r.gap_pp, 'en')} pp "
                  f"(95 % CI {_num(r.ci_low, 'en')} to {_num(r.ci_high, 'en')})"
                  + (f"; {_int(ncl, 'en')} clusters (schools)" if ncl is not None and not pd.isna(ncl) else "") + ".")
    if "n_clusters" in df.columns and len(df) and pd.to_numeric(df["n_clusters"], errors="coerce").min() < 20:
        vi.append("Dưới 20 cụm: khoảng tin cậy theo cụm có thể quá hẹp, cần đọc thận trọng.")
        en.append("Fewer than 20 clusters: cluster-robust intervals can be too narrow; read them with care.")
    return _make(tid, df, notebook=notebook, min_cell=1, synthetic=synthetic, extra_vi=vi, extra_en=en,
                 notes_vi=notes_vi, notes_en=notes_en)


_VALUE_LABELS = {
    ("poverty", "poor"): ("Hộ nghèo", "Poor household"),
    ("poverty", "not_poor"): ("Không thuộc hộ nghèo", "Not poor"),
    ("disadvantaged", "disadvantaged"): ("Vùng khó khăn", "Disadvantaged area"),
    ("disadvantaged", "not_disadvantaged"): ("Vùng không khó khăn", "Not disadvantaged"),
    ("group_var", "poverty"): ("Hộ nghèo", "Poverty"),
    ("group_var", "poor_household"): ("Hộ nghèo", "Poverty"),
    ("group_var", "disadvantaged"): ("Vùng khó khăn", "Disadvantaged area"),
    ("poor_household", "poor"): ("Hộ nghèo", "Poor household"),
    ("poor_household", "not_poor"): ("Không thuộc hộ nghèo", "Not poor"),
    ("estimator", "twfe"): ("Hiệu ứng cố định hai chiều (TWFE)", "Two-way fixed effects (TWFE)"),
    ("estimator", "twfe_logit"): ("TWFE logit", "TWFE logit"),
    ("estimator", "callaway_santanna"): ("Callaway–Sant'Anna (áp dụng so le)", "Callaway–Sant'Anna (staggered)"),
    ("estimator", "event_study"): ("Nghiên cứu sự kiện (TWFE)", "Event study (TWFE)"),
}


def value_label(kind: str, code: Any, lang: str = "vi") -> str:
    """The label of a code in evidence tables: ``reference.label`` plus the codes of the
    estimators and of the poverty / disadvantaged-area groups; the code itself if none."""
    hit = _VALUE_LABELS.get((str(kind), str(code)))
    if hit:
        return hit[0] if lang == "vi" else hit[1]
    return label(kind, code, lang)


def data_quality_table(validation_report_frame: Any, *, notebook: str = "", synthetic: bool = False,
                       notes_vi: Iterable[str] = (), notes_en: Iterable[str] = ()) -> EvidenceTable:
    """``data_quality``: one row per check, file and severity with the number of cases.

    Accepts a frame (or an object with ``to_frame()``) of validation issues with a check name
    (``check``, ``rule`` or ``code``), ``table`` (file), ``severity`` and optionally ``count``,
    ``column``, ``expected``, ``message`` and ``row``. Issues are counted per check; the detail
    names the column, what was expected and the first rows, never the offending value (it
    could be a student key). With no issues the table holds one row saying all checks passed.
    """
    df = validation_report_frame.to_frame() if hasattr(validation_report_frame, "to_frame") else validation_report_frame
    df = pd.DataFrame(df).copy()
    check_col = next((c for c in ("check", "rule", "code", "name") if c in df.columns), None)
    if len(df) and (check_col is None or "severity" not in df.columns):
        raise EvidenceError("data_quality: the validation frame needs a check (or rule/code) and a severity column; "
                            f"it has {', '.join(map(str, df.columns))}")
    rows = []
    if len(df):
        if "table" not in df.columns:
            df["table"] = ""
        df["table"] = df["table"].fillna("").astype(str)
        for (chk, tbl, sev), g in df.groupby([check_col, "table", "severity"], sort=True, dropna=False):
            count = int(pd.to_numeric(g["count"], errors="coerce").fillna(1).sum()) if "count" in g else len(g)
            rows.append({"check": str(chk), "table": tbl, "severity": str(sev), "count": count,
                         "detail": _detail(g, tbl)})
    else:
        rows.append({"check": "all_checks", "table": "", "severity": "info", "count": 0,
                     "detail": "Không phát hiện vấn đề / no problems found"})
    out = pd.DataFrame(rows)
    n_err = int(out.loc[out["severity"] == "error", "count"].sum())
    n_warn = int(out.loc[out["severity"] == "warning", "count"].sum())
    vi = [f"Tổng số: {n_err} lỗi, {n_warn} cảnh báo."]
    en = [f"In total: {n_err} errors, {n_warn} warnings."]
    return _make("data_quality", out, notebook=notebook, min_cell=1, synthetic=synthetic, extra_vi=vi, extra_en=en,
                 notes_vi=notes_vi, notes_en=notes_en)


def _detail(g: pd.DataFrame, table: str) -> str:
    parts = []
    if "column" in g.columns:
        cols = sorted({str(c) for c in g["column"].dropna() if str(c)})
        if cols:
            parts.append("column " + ", ".join(cols[:5]) + (" …" if len(cols) > 5 else ""))
    if "expected" in g.columns:
        exp = [str(e) for e in dict.fromkeys(g["expected"].dropna()) if str(e)]
        if exp:
            parts.append("expected " + "; ".join(exp[:2]))
    elif "message" in g.columns and "students" not in table:
        msg = [str(m) for m in dict.fromkeys(g["message"].dropna()) if str(m)]
        if msg:
            parts.append(msg[0])
    if "row" in g.columns:
        r = pd.to_numeric(g["row"], errors="coerce").dropna().astype(int).tolist()
        if r:
            parts.append("rows " + ", ".join(map(str, r[:5])) + (" …" if len(r) > 5 else ""))
    return "; ".join(parts)


# ---------------------------------------------------------------------------------------
# Writing and the index
# ---------------------------------------------------------------------------------------
def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=2, allow_nan=False) + "\n").encode("utf-8")


def write_table(table: EvidenceTable, stage_dir: str | Path) -> Path:
    """Check ``table`` and write ``evidence/<id>.csv`` and ``evidence/<id>.meta.json``; return the CSV path."""
    table.check()
    ev = Path(stage_dir) / EVIDENCE_DIR
    csv = ev / f"{table.id}.csv"
    _atomic_write(csv, table.to_csv_bytes())
    _atomic_write(ev / f"{table.id}{META_SUFFIX}", _json_bytes(table.meta()))
    return csv


def mark_synthetic(stage_dir: str | Path) -> Path:
    """Mark a staging folder's data as synthetic (the report then says so on its first page)."""
    p = Path(stage_dir) / SYNTHETIC_MARKER
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("The evidence in this folder is computed from synthetic data.\n", encoding="utf-8")
    return p


def build_index(stage_dir: str | Path, *, require: Iterable[str] | None = None) -> Path:
    """Gather ``evidence/*.meta.json`` into ``evidence/index.json`` and delete the sidecars.

    ``index.json`` is a JSON list, one entry per table sorted by id: ``id, title_vi, title_en,
    notebook, notes {vi, en}, columns [{name, label_vi, label_en, format}], keys, rows,
    suppressed_rows, min_cell, synthetic, csv, sha256``. Entries of an existing index are kept
    (so the call can be repeated). Raises ``EvidenceError`` when a CSV has no metadata, a
    metadata file has no CSV, a CSV header differs from its metadata, or a table in
    ``require`` (e.g. ``CONTRACT_TABLE_IDS``) is missing.
    """
    ev = Path(stage_dir) / EVIDENCE_DIR
    ev.mkdir(parents=True, exist_ok=True)
    index_path = ev / INDEX_NAME
    entries: dict[str, dict] = {}
    if index_path.is_file():
        for e in json.loads(index_path.read_text(encoding="utf-8")):
            entries[e["id"]] = e
    sidecars = sorted(ev.glob(f"*{META_SUFFIX}"))
    for p in sidecars:
        meta = json.loads(p.read_text(encoding="utf-8"))
        entries[meta["id"]] = meta
    for csv in sorted(ev.glob("*.csv")):
        if csv.stem not in entries:
            raise EvidenceError(f"{csv}: no metadata for this table; write evidence tables with evidence.write_table")
    out = []
    for tid in sorted(entries):
        e = dict(entries[tid])
        csv = ev / f"{tid}.csv"
        if not csv.is_file():
            raise EvidenceError(f"{ev / (tid + META_SUFFIX)}: the table's CSV {csv.name} is missing")
        data = csv.read_bytes()
        header = data.split(b"\n", 1)[0].decode("utf-8").split(",")
        names = [c["name"] for c in e["columns"]]
        if header != names:
            raise EvidenceError(f"{csv}: header {header} differs from its metadata columns {names}")
        if tid in TABLES:
            missing = [c for c in TABLES[tid].columns if c not in header]
            if missing:
                raise EvidenceError(f"{csv}: missing minimum column(s) {', '.join(missing)}")
        e["csv"] = f"{EVIDENCE_DIR}/{tid}.csv"
        e["sha256"] = hashlib.sha256(data).hexdigest()
        out.append(e)
    if require is not None:
        missing_t = [t for t in require if t not in entries]
        if missing_t:
            raise EvidenceError(f"{ev}: evidence table(s) missing: {', '.join(missing_t)}")
    _atomic_write(index_path, _json_bytes(out))
    for p in sidecars:
        p.unlink()
    return index_path


def read_index(stage_dir: str | Path) -> list[dict]:
    """The entries of ``evidence/index.json``."""
    return json.loads((Path(stage_dir) / EVIDENCE_DIR / INDEX_NAME).read_text(encoding="utf-8"))


def read_table(stage_dir: str | Path, entry: Mapping[str, Any] | str) -> pd.DataFrame:
    """Read an evidence CSV back with typed columns (codes as text, counts Int64, booleans, floats)."""
    if isinstance(entry, str):
        entry = next(e for e in read_index(stage_dir) if e["id"] == entry)
    df = pd.read_csv(Path(stage_dir) / EVIDENCE_DIR / f"{entry['id']}.csv", dtype=str, keep_default_na=False,
                     na_values=[""], encoding="utf-8")
    for col in entry["columns"]:
        c, fmt = col["name"], col["format"]
        if fmt == "bool":
            df[c] = df[c].map({"true": True, "false": False}).astype("boolean")
        elif fmt in ("count", "int", "year"):
            df[c] = pd.to_numeric(df[c]).astype("Int64")
        elif fmt in ("rate", "pp", "p", "number"):
            df[c] = pd.to_numeric(df[c]).astype("float64")
    return df


# ---------------------------------------------------------------------------------------
# Labour demand, the vocational network and the next period (issue 7): extra tables, written
# when the optional tables are present; not part of CONTRACT_TABLE_IDS.
# ---------------------------------------------------------------------------------------
def _register_plan_tables() -> None:
    specs = [
        TableSpec(
            "labour_alignment", ("survey_year", "trade", "qualification"),
            ("survey_year", "trade", "qualification", "demand", "places", "graduates", "ratio", "gap"),
            "Nhu cầu lao động của doanh nghiệp so với chỗ đào tạo nghề theo ngành và trình độ",
            "Enterprises' labour demand against vocational training places by trade and qualification",
            "Cung cầu lao động", "Labour demand vs supply",
            ("Nhu cầu: số lao động các doanh nghiệp được khảo sát cần tuyển (chỉ doanh nghiệp trả lời, nên là cận dưới).",
             "Số chỗ và số tốt nghiệp: của các cơ sở GDNN cùng ngành, ở trình độ nghề bằng trình độ yêu cầu, trong năm khảo sát; "
             "trình độ 'không yêu cầu' và 'đại học' không có trình độ nghề tương ứng nên để trống.",
             "Tỷ số = số chỗ / nhu cầu; chênh lệch = nhu cầu - số chỗ (dương: thiếu chỗ đào tạo, âm: thừa so với nhu cầu khảo sát)."),
            ("Demand: workers the surveyed enterprises need (respondents only, so a lower bound).",
             "Places and graduates: of the vocational institutions in the same trade at the vocational level equal to "
             "the qualification, in the survey year; 'no qualification' and 'university' have no vocational level and "
             "are left empty.",
             "Ratio = places / demand; gap = demand - places (positive: too few places, negative: places beyond the "
             "surveyed demand)."),
            formats=(("ratio", "number"), ("gap", "number"))),
        TableSpec(
            "vocational_network", ("year", "institution_id", "trade", "level"),
            ("year", "institution_id", "trade", "level", "places", "enrolled", "fill_rate", "completion_rate",
             "employment_rate"),
            "Mạng lưới cơ sở GDNN: chỉ tiêu, tuyển sinh, hoàn thành và việc làm theo ngành, trình độ",
            "The vocational network: places, enrolment, completion and employment by trade and level",
            "Mạng lưới GDNN", "Vocational network",
            (_RATE_NOTE_VI,
             "Tỷ lệ tuyển đủ = tuyển mới / chỉ tiêu; tỷ lệ hoàn thành = tốt nghiệp / tuyển mới cùng năm (xấp xỉ khi quy mô ổn định); "
             "tỷ lệ có việc làm = có việc làm trong 12 tháng / tốt nghiệp."),
            (_RATE_NOTE_EN,
             "Fill rate = enrolled / places; completion rate = graduated / enrolled in the same year (an approximation "
             "when intake is stable); employment rate = employed within 12 months / graduated.")),
        TableSpec(
            "projections", ("level", "indicator", "year"),
            ("level", "indicator", "year", "estimate", "ci_low", "ci_high", "target"),
            "Dự báo tỷ lệ học nghề, học tiếp và tỷ lệ trường có GV tư vấn đến năm 2030, so với chỉ tiêu",
            "Projected uptake, transition and counselor coverage to 2030, against the targets",
            "Dự báo 2030", "Projections to 2030",
            (_RATE_NOTE_VI,
             "Dự báo nếu xu hướng và tác động của giai đoạn tiếp tục: mô hình xác suất tuyến tính có trọng số số học sinh, "
             "hiệu ứng cố định trường, xu hướng năm, năm dịch COVID và tác động theo số năm kể từ khi trường có GV tư vấn; "
             "KTC 95 % theo cụm trường.",
             "Hậu tố '_full_coverage': mọi trường chưa có GV tư vấn được bố trí từ năm kế hoạch; không hậu tố: giữ nguyên hiện trạng. "
             "'counselor_coverage' là số đếm (không có sai số); '_pace' giả định các trường chưa có GV tư vấn có GV với tốc độ "
             "trung bình của giai đoạn."),
            (_RATE_NOTE_EN,
             "Projection if the trend and effects of the period continued: graduate-weighted linear probability model "
             "with school fixed effects, a year trend, the COVID years and the effect by years since the school's first "
             "trained counselor; 95 % CIs clustered by school.",
             "Suffix '_full_coverage': every school without a trained counselor gets one from the plan year; no suffix: "
             "status quo. 'counselor_coverage' is counted (no sampling error); '_pace' assumes uncovered schools adopt "
             "at the period's average pace."),
            formats=(("estimate", "rate"), ("ci_low", "rate"), ("ci_high", "rate"), ("std_error", "number"))),
    ]
    for spec in specs:
        register_table(spec, replace=True)


_register_plan_tables()
#: The extra tables of the labour, network and next-period sections (skipped without their inputs).
PLAN_TABLE_IDS: tuple[str, ...] = ("labour_alignment", "vocational_network", "projections")


def labour_alignment_table(frame: pd.DataFrame, *, notebook: str = "", synthetic: bool = False,
                           findings: Mapping[str, Iterable[str]] | None = None,
                           notes_vi: Iterable[str] = (), notes_en: Iterable[str] = ()) -> EvidenceTable:
    """``labour_alignment``: one row per survey year, trade and qualification
    (``labour.labour_alignment``); ``findings`` (``labour.labour_findings``) go into the notes.
    Counts are of workers and training places of institutions, not of the cohort's students."""
    tid = "labour_alignment"
    _require(frame, TABLES[tid].columns, tid)
    yrs = sorted(int(y) for y in frame["survey_year"].unique())
    vi = [f"Các năm khảo sát: {', '.join(map(str, yrs))}; {frame['trade'].nunique()} ngành nghề."]
    en = [f"Survey years: {', '.join(map(str, yrs))}; {frame['trade'].nunique()} trades."]
    vi += list((findings or {}).get("vi", ()))
    en += list((findings or {}).get("en", ()))
    return _make(tid, frame, notebook=notebook, min_cell=1, synthetic=synthetic, extra_vi=vi, extra_en=en,
                 notes_vi=notes_vi, notes_en=notes_en)


def vocational_network_table(frame: pd.DataFrame, *, min_cell: int = 5, notebook: str = "", synthetic: bool = False,
                             findings: Mapping[str, Iterable[str]] | None = None,
                             notes_vi: Iterable[str] = (), notes_en: Iterable[str] = ()) -> EvidenceTable:
    """``vocational_network``: one row per year, institution, trade and level
    (``labour.vocational_network``). Completion and employment are outcomes of people: where
    fewer than ``min_cell`` enrolled (completion) or graduated (employment), the rate and the
    counts behind it are left empty and ``suppressed`` is true. ``findings``
    (``labour.network_findings``, with the access of communes) go into the notes."""
    tid = "vocational_network"
    _require(frame, TABLES[tid].columns, tid)
    df = frame.copy()
    enr = pd.to_numeric(df["enrolled"], errors="coerce")
    grad = pd.to_numeric(df["graduated"], errors="coerce") if "graduated" in df.columns else enr
    small = ((enr > 0) & (enr < min_cell)) | ((grad > 0) & (grad < min_cell))
    for c in ("completion_rate", "employment_rate", "graduated", "employed_12m"):
        if c in df.columns:
            df[c] = pd.to_numeric(df[c], errors="coerce").astype("Float64")
            df.loc[small.to_numpy(), c] = pd.NA
    df["suppressed"] = small.to_numpy(dtype=bool)
    vi = [f"Ngưỡng tối thiểu min_cell = {min_cell} người; số dòng bị ẩn tỷ lệ hoàn thành/việc làm: {int(small.sum())} trên {len(df)}."]
    en = [f"Minimum cell min_cell = {min_cell} people; rows with completion/employment suppressed: {int(small.sum())} of {len(df)}."]
    vi += list((findings or {}).get("vi", ()))
    en += list((findings or {}).get("en", ()))
    return _make(tid, df, notebook=notebook, min_cell=min_cell, synthetic=synthetic, extra_vi=vi, extra_en=en,
                 notes_vi=notes_vi, notes_en=notes_en)


def projections_table(frame: pd.DataFrame, *, notebook: str = "", synthetic: bool = False,
                      findings: Mapping[str, Iterable[str]] | None = None,
                      notes_vi: Iterable[str] = (), notes_en: Iterable[str] = ()) -> EvidenceTable:
    """``projections``: one row per level, indicator and year (``projections.projections``);
    estimate, ci_low, ci_high and target are fractions 0..1. ``findings``
    (``projections.projection_findings``) go into the notes."""
    tid = "projections"
    _require(frame, TABLES[tid].columns, tid)
    vi, en = [], []
    if "target_source" in frame.columns:
        for src in sorted({str(s) for s in frame["target_source"].dropna() if str(s)}):
            vi.append(f"Chỉ tiêu theo: {src}.")
            en.append(f"Targets per: {src}.")
    vi += list((findings or {}).get("vi", ()))
    en += list((findings or {}).get("en", ()))
    return _make(tid, frame, notebook=notebook, min_cell=1, synthetic=synthetic, extra_vi=vi, extra_en=en,
                 notes_vi=notes_vi, notes_en=notes_en)
