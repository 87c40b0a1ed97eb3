"""Every valid district gets a complete review (issue 11): the sections run in process on generated districts
of every family (``evaluation.generator``) and each estimate table says what it could and could not estimate.

Fast: one small district per family (CI). Slow (``make bench``): 13 seeds per family, 221 districts, seeds
the fast test never uses.
"""
from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

from evaluation.generator import FAMILIES, family_spec, write_district
from evaluation.sections import evidence_tables
from evaluation.status import NOT_ESTIMABLE, STATUSES

#: estimate table -> (estimate column, scale of the interval check)
ESTIMATE_TABLES = {"trend": "estimate_pp_per_year", "effect_overall": "estimate_pp", "event_study": "estimate_pp",
                   "equity_gaps": "gap_pp", "projections": "estimate"}


def check_district(tables: dict[str, pd.DataFrame], truth: dict, family: str) -> None:
    """The properties every review must have, whatever the district."""
    levels = [lv for lv, t in truth["levels"].items() if t["n_schools"] > 0]
    grads = tables["uptake_by_year"].groupby("level")["graduates"].sum()
    present = sorted(lv for lv in levels if grads.get(lv, 0) > 0)
    for tid, est in ESTIMATE_TABLES.items():
        df = tables[tid]
        assert {"status", "reason_vi", "reason_en"} <= set(df.columns), tid
        assert df["status"].isin(STATUSES).all(), (tid, df["status"].unique())
        ok = df[df["status"] == "ok"]
        assert np.isfinite(ok[[est, "ci_low", "ci_high"]].to_numpy(float)).all(), tid
        assert (ok["ci_low"] <= ok[est] + 1e-9).all() and (ok[est] <= ok["ci_high"] + 1e-9).all(), tid
        bad = df[df["status"] == NOT_ESTIMABLE]
        assert bad["reason_vi"].fillna("").str.len().gt(0).all() and bad["reason_en"].fillna("").str.len().gt(0).all(), tid
    eff = tables["effect_overall"]
    rec = eff[eff["recommended"].astype(bool)]
    assert sorted(rec["level"]) == present, (family, rec)  # exactly one recommended row per level present
    assert sorted(tables["trend"]["level"].unique()) == present
    n_schools = tables["uptake_by_year"].groupby("level")["graduates"].size()  # rows per level (years)
    for r in rec.itertuples(index=False):
        t = truth["levels"][r.level]
        covered_after_first = t["att_simple_pp"] is not None
        if t["n_schools"] < 2 or not covered_after_first:  # nothing to compare: the data cannot give an effect
            assert r.status == NOT_ESTIMABLE, (family, r.level, r.status)
        if family == "baseline" and r.level == "THCS":
            assert r.status != NOT_ESTIMABLE, (family, r.reason_en)
    assert len(n_schools)
    words = " ".join(tables["findings"]["sentence_en"].astype(str))
    assert "nan" not in words.lower().split(), words  # never a number that is not one
    for r in rec[rec["status"] == NOT_ESTIMABLE].itertuples(index=False):
        assert f"{r.level}: the effect of a trained counselor on uptake cannot be estimated" in words


def run_family(tmp_path, family: str, seed: int, *, small: bool) -> None:
    spec = family_spec(family, seed)
    if small:  # CI: at most 10 THCS schools keeps the jackknife cheap; every knob of the family stays
        spec = dataclasses.replace(spec, n_thcs=min(spec.n_thcs, 10))
    path = write_district(tmp_path / f"{family}_{seed}", spec)
    import json

    truth = json.loads((path / "truth.json").read_text(encoding="utf-8"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tables = evidence_tables(path, bootstrap_reps=9)
    check_district(tables, truth, family)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_gets_a_complete_review(tmp_path, family):
    run_family(tmp_path, family, 11, small=True)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(100, 113))
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_gets_a_complete_review_many_seeds(tmp_path, family, seed):
    run_family(tmp_path, family, seed, small=False)


def test_one_thpt_school_gets_thcs_findings_and_an_honest_thpt_line(tmp_path):
    from evaluation.generator import DistrictSpec

    path = write_district(tmp_path / "d", DistrictSpec(seed=21, n_thcs=10, n_thpt=1, n_never=(2, 0), size=0.6))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = evidence_tables(path, bootstrap_reps=0)
    eff = t["effect_overall"].set_index(["level", "estimator"])
    assert eff.loc[("THCS", "callaway_santanna"), "status"] != NOT_ESTIMABLE
    thpt = eff.loc[("THPT", "callaway_santanna")]
    assert thpt["recommended"] and thpt["status"] == NOT_ESTIMABLE
    assert "only 1 THPT school" in thpt["reason_en"] and "chỉ có 1 trường THPT" in thpt["reason_vi"]
    f = t["findings"]
    thcs_words = " ".join(f.loc[(f["level"] == "THCS") & (f["topic"] == "effect"), "sentence_en"])
    assert "THCS" in thcs_words and "cannot be estimated" not in thcs_words
    thpt_vi = " ".join(f.loc[(f["level"] == "THPT") & (f["topic"] == "effect"), "sentence_vi"])
    assert "chưa đủ số trường để ước lượng tác động" in thpt_vi
    assert "wild_ci_low" not in t["effect_overall"].columns  # bootstrap_reps 0: no bootstrap anywhere
