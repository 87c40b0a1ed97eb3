"""Builder of ``equity_gaps``."""
from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from ..registry import TABLES, EvidenceError
from ...status import NOT_ESTIMABLE, TABLE_BOUNDS_PP, add_status, clip_interval_pp
from ..table import EvidenceTable, _plain
from ._common import (_int, _make, _num, _require, value_label)

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
    df = clip_interval_pp(add_status(df, estimate="gap_pp", bound_pp=TABLE_BOUNDS_PP["equity_gaps"]))
    vi, en = [], []
    if "suppressed" in df.columns:
        df["suppressed"] = df["suppressed"].astype("boolean").fillna(False).astype(bool)
        n_sup = int(df["suppressed"].sum())
        if n_sup:
            vi.append(f"{n_sup} dòng để trống: nhóm (hoặc nhóm so sánh) có ít học sinh hơn ngưỡng tối thiểu, hoặc bị ẩn "
                      "kèm để không suy ra được nhóm nhỏ từ tổng số.")
            en.append(f"{n_sup} rows left empty: the group (or the reference) has fewer students than the minimum, or "
                      "is hidden beside one so that the small group cannot be recomputed from the totals.")
    shown = df[~df["suppressed"]] if "suppressed" in df.columns else df
    for r in shown.sort_values(["level", "dimension", "group", "adjusted"], kind="mergesort").itertuples(index=False):
        how_vi = "đã điều chỉnh" if r.adjusted else "thô"
        how_en = "adjusted" if r.adjusted else "raw"
        g_vi, g_en = value_label(r.dimension, r.group, "vi"), value_label(r.dimension, r.group, "en")
        ref_vi, ref_en = value_label(r.dimension, r.reference, "vi"), value_label(r.dimension, r.reference, "en")
        ncl = getattr(r, "n_clusters", None)
        if r.status == NOT_ESTIMABLE:
            vi.append(f"{r.level}, {g_vi} so với {ref_vi} ({how_vi}): chưa ước lượng được ({r.reason_vi}).")
            en.append(f"{r.level}, {g_en} vs {ref_en} ({how_en}): not estimable ({r.reason_en}).")
            continue
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

