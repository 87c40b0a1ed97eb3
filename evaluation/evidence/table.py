"""``EvidenceTable``: one table's data, titles and notes; its contract checks and canonical CSV bytes."""
from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .registry import (FLOAT_FORMAT, TABLES, EvidenceError, TableSpec, column_info, _FORBIDDEN_COLUMN)

# ---------------------------------------------------------------------------------------
# EvidenceTable
# ---------------------------------------------------------------------------------------
#: Columns a suppressed row keeps: the cell size, the policy target and facts about the area, not the students.
_SUPPRESSION_KEEP = {"graduates", "target", "suppressed", "schools", "disadvantaged"}

#: Text columns computed from a row's students (the target verdict): empty in a suppressed row too.
_SUPPRESSION_BLANK_TEXT: tuple[str, ...] = ("target_met",)


def _reveals(c: str, col: pd.Series, tid: str | None = None) -> bool:
    """Whether column ``c`` holds something computed from the row's students (left empty when suppressed)."""
    return c in _SUPPRESSION_BLANK_TEXT or _fmt_of(c, col, tid) in ("rate", "count", "int", "number", "bool", "pp", "p")



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
        if self.spec.suppression_blank is not None:
            revealing = [c for c in self.spec.suppression_blank if c in df.columns]
        else:
            revealing = [c for c in df.columns if c not in keys and c not in _SUPPRESSION_KEEP
                         and _reveals(c, df[c], tid)]
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

