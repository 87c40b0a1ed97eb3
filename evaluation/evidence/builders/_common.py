"""What every table builder shares: suppression of small cells, column order, number formats in
sentences, target notes and the final check."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from ... import i18n
from ...disclosure import primary_mask
from ...reference import label
from ..registry import TABLES, EvidenceError
from ..table import EvidenceTable, _fmt_of, _reveals, _SUPPRESSION_KEEP

# ---------------------------------------------------------------------------------------
# Suppression (idempotent; indicators.suppress may already have applied it)
# ---------------------------------------------------------------------------------------
def apply_suppression(frame: pd.DataFrame, *, min_cell: int, keys: Sequence[str] = ()) -> pd.DataFrame:
    """Suppress every row computed from fewer than ``min_cell`` students.

    A row that the toolkit's one primary rule flags (``disclosure.primary_mask``: at least one but
    fewer than ``min_cell`` students, or an unknown count), or already marked ``suppressed``, gets
    ``suppressed = True`` and every rate, count (other than graduates) and flag left empty;
    keys, text columns, graduates and the policy target stay. Returns a new frame.
    """
    df = frame.copy()
    small = pd.Series(primary_mask(df["graduates"], min_cell), index=df.index)
    prev = df["suppressed"].astype("boolean").fillna(False) if "suppressed" in df.columns else False
    supp = (small | prev).astype(bool)
    df["suppressed"] = supp
    for c in df.columns:
        if c in keys or c in _SUPPRESSION_KEEP:
            continue
        fmt = _fmt_of(c, df[c])
        if _reveals(c, df[c]) and supp.any():
            if fmt == "text":
                df[c] = df[c].astype("string")
            elif fmt == "bool":
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
    return i18n.pct(v, lang, digits)  # every number format lives in evaluation.i18n


def _num(v: float, lang: str, digits: int = 1) -> str:
    return i18n.num(v, lang, digits)


def _int(v: float, lang: str) -> str:
    return i18n.integer(v, lang)


def _p(v: float, lang: str) -> str:
    return i18n.pvalue(v, lang)


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


def value_label(kind: str, code: Any, lang: str = "vi") -> str:
    """The label of a code in evidence tables (``evaluation.i18n.value_label``: labels.csv plus the
    codes of estimators, models, plans, groups, validation checks); the code itself if none."""
    return i18n.value_label(kind, code, lang)

