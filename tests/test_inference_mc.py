"""The choose-and-report Monte Carlo (benchmarks/mc_inference.py): its processes plant what they claim, and a
small run of the chosen rules covers (the full tables are in benchmarks/results/{trend,effects}_monte_carlo.md).

Fast tests: the processes' truths and shapes, and the scoring arithmetic. Slow (``make bench``): 60 districts per
cell of the REPORT processes at THCS size; the chosen rules must cover at least 51 of 60 (if the true coverage
were 0.93, fewer than 51 happens with probability ~0.03)."""
from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pandas as pd
import pytest

from evaluation.paths import BENCHMARKS_DIR


def _load():
    if "mc_inference" in sys.modules:
        return sys.modules["mc_inference"]
    if str(BENCHMARKS_DIR) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS_DIR))
    spec = importlib.util.spec_from_file_location("mc_inference", BENCHMARKS_DIR / "mc_inference.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["mc_inference"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_effect_processes_plant_their_truth_and_designs():
    M = _load()
    d, truth = M.simulate_effect_panel("R1_ar1_het_onecohort", "THCS", 7)
    assert d["school_id"].nunique() == 28 and truth["n_small_cohorts"] == 2  # the 2021 (1) and 2023 (2) cohorts
    # R did's simple weights on tau(e) = 2, 3, 4, 4, ... pp: by hand for the unequal THCS design
    num = sum(k * sum(M.tau(np.arange(2026 - g)) * 100) for g, k in M.DESIGNS[("THCS", "unequal")] if g)
    den = sum(k * (2026 - g) for g, k in M.DESIGNS[("THCS", "unequal")] if g)
    assert truth["att_pp"] == pytest.approx(num / den)
    u, _ = M.simulate_effect_panel("R2_strong_unbalanced", "THPT", 3)
    assert len(u) == 7 * 8 - 2  # two never-covered school-years removed
    # noise-free check of the planted effect: with no noise at all the CS estimate is the truth
    M.EFFECT_PROCESSES["_exact"] = ("choose", dict(sd_e=0.0, ar=0.0, sd_year=0.0, het=0.0, design="equal",
                                                   sizes="uniform", unbalanced=False))
    try:
        d, truth = M.simulate_effect_panel("_exact", "THPT", 1)
        d["rate"] = (0.25 + 0.005 * (d["year"] - 2018) - 0.02 * d["year"].isin((2020, 2021))
                     + M.tau(np.where(d["first_covered"] > 0, d["year"] - d["first_covered"], -1)))
        from evaluation.effects import staggered_did
        r = staggered_did(d, outcome="rate", unit="school_id", time="year", group="first_covered", control="notyet")
        assert 100 * float(r.params["ATT"]) == pytest.approx(truth["att_pp"], abs=1e-9)
    finally:
        del M.EFFECT_PROCESSES["_exact"]


def test_trend_process_and_scoring():
    M = _load()
    d, truth = M.simulate_trend_panel("R_ar1_unbal_year1pp", "THPT", 11)
    assert d["year"].max() == 2025 and truth["slope_pp"] == 1.0 and 0 < truth["rate_2030"] < 1
    assert len(d) < 7 * 8  # school-years missing at random
    rows = M.trend_district(("C_iid_year0pp", "THPT", 5))
    est = {r["estimator"] for r in rows if r["kind"] == "trend"}
    assert {"a_annual_ols_t", "b_twoway_cluster_t", "old_lpm_school_cluster"} <= est
    raw = pd.DataFrame([{"set": "choose", "process": "p", "level": "L", "kind": "trend", "estimator": e,
                         "estimate": 1.0, "se": 1.0, "lo": lo, "hi": hi, "truth": 1.0}
                        for e, lo, hi in (("x", 0, 2), ("x", 2, 3), ("y", 0, 2), ("y", 0, 2))])
    s = M.summarise(raw).set_index("estimator")
    assert s.loc["x", "coverage"] == 0.5 and s.loc["y", "coverage"] == 1.0 and s.loc["x", "width"] == 1.5
    best, score = M.choose(s.reset_index(), "trend")
    assert best == "y"  # |1 - 0.95| < |0.5 - 0.95|


@pytest.mark.slow
@pytest.mark.parametrize("process", ["R1_ar1_het_onecohort", "R2_strong_unbalanced"])
def test_recommended_effect_interval_covers_out_of_sample(process):
    from evaluation.effects.did import RECOMMENDED_INFERENCE, SMALL_COHORT_INFERENCE

    M = _load()
    hits = 0
    for s in range(60):
        rows = M.effects_district((process, "THCS", 900_000 + s))
        inf = SMALL_COHORT_INFERENCE if rows[0]["n_small_cohorts"] else RECOMMENDED_INFERENCE
        r = next(x for x in rows if x["estimator"] == f"cs_notyet_{inf}")
        hits += r["lo"] <= r["truth"] <= r["hi"]
    assert hits >= 51


@pytest.mark.slow
@pytest.mark.parametrize("process", ["R_ar1_unbal_year1pp", "R_ar1_unbal_year2pp"])
def test_recommended_trend_and_projection_intervals_cover_out_of_sample(process):
    M = _load()
    hits = {"a_annual_ols_t": 0, "annual_ols_prediction": 0}
    for s in range(60):
        for r in M.trend_district((process, "THCS", 800_000 + s)):
            if r["estimator"] in hits and r["kind"] in ("trend", "projection_2030"):
                hits[r["estimator"]] += r["lo"] <= r["truth"] <= r["hi"]
    assert min(hits.values()) >= 51, hits
