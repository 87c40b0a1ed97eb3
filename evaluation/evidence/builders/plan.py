"""Builders of the labour, network and projection tables."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from ..registry import TABLES
from ...disclosure import primary_mask
from ..table import EvidenceTable
from ._common import (_make, _require)

def labour_alignment_table(frame: pd.DataFrame, *, min_cell: int = 5, notebook: str = "", synthetic: bool = False,
                           findings: Mapping[str, Iterable[str]] | None = None,
                           notes_vi: Iterable[str] = (), notes_en: Iterable[str] = ()) -> EvidenceTable:
    """``labour_alignment``: one row per survey year, trade and qualification
    (``labour.labour_alignment``); ``findings`` (``findings.labour_findings``) go into the notes.
    Demand and places are counts of workers and training places; graduates and employed_12m are
    outcomes of people: a row of fewer than ``min_cell`` graduates must come protected
    (``disclosure.protect_labour``: ``suppressed``, graduates and employed_12m empty), which
    ``EvidenceTable.check`` verifies."""
    tid = "labour_alignment"
    _require(frame, TABLES[tid].columns, tid)
    df = frame.copy()
    if "suppressed" not in df.columns:
        df["suppressed"] = False
    yrs = sorted(int(y) for y in df["survey_year"].unique())
    n = int(df["suppressed"].astype("boolean").fillna(False).sum())
    vi = [f"Các năm khảo sát: {', '.join(map(str, yrs))}; {df['trade'].nunique()} ngành nghề.",
          f"Ngưỡng tối thiểu min_cell = {min_cell} người; số dòng bị ẩn số tốt nghiệp và số có việc làm: {n} trên {len(df)}."]
    en = [f"Survey years: {', '.join(map(str, yrs))}; {df['trade'].nunique()} trades.",
          f"Minimum cell min_cell = {min_cell} people; rows with graduates and employment suppressed: {n} of {len(df)}."]
    vi += list((findings or {}).get("vi", ()))
    en += list((findings or {}).get("en", ()))
    return _make(tid, df, notebook=notebook, min_cell=min_cell, synthetic=synthetic, extra_vi=vi, extra_en=en,
                 notes_vi=notes_vi, notes_en=notes_en)


def vocational_network_table(frame: pd.DataFrame, *, min_cell: int = 5, notebook: str = "", synthetic: bool = False,
                             findings: Mapping[str, Iterable[str]] | None = None,
                             notes_vi: Iterable[str] = (), notes_en: Iterable[str] = ()) -> EvidenceTable:
    """``vocational_network``: one row per year, institution, trade and level
    (``labour.vocational_network``). Completion and employment are outcomes of people: where
    fewer than ``min_cell`` enrolled (completion) or graduated (employment), the rate and the
    counts behind it are left empty and ``suppressed`` is true. ``findings``
    (``findings.network_findings``, with the access of communes) go into the notes."""
    tid = "vocational_network"
    _require(frame, TABLES[tid].columns, tid)
    df = frame.copy()
    grad = df["graduated"] if "graduated" in df.columns else df["enrolled"]
    # the toolkit's one primary rule (an unknown count is small too)
    small = pd.Series(primary_mask(df["enrolled"], min_cell) | primary_mask(grad, min_cell), index=df.index)
    if "suppressed" in df.columns:  # complementary suppression already applied (disclosure.protect_network)
        small = small | df["suppressed"].astype("boolean").fillna(False).astype(bool)
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
    (``findings.projection_findings``) go into the notes."""
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
