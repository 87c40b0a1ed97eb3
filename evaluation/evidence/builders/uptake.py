"""Builders of the uptake and coverage tables (sections uptake_and_targets, counseling_coverage)."""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ...reference import label
from ..registry import TABLES
from ..table import EvidenceTable
from ._common import (_int, _make, _require, _suppression_notes, _target_notes, apply_suppression)

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
            n_met = int((g["target_met"].astype("string") == "met").fillna(False).sum())
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


