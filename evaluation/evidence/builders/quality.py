"""Builder of ``data_quality``."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from ..registry import EvidenceError
from ..table import EvidenceTable
from ._common import _make

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

