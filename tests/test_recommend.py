"""The estimator recommendation: one test per rule, on small hand-built adoption patterns."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.effects import Recommendation, recommend


def panel(first: dict[str, int], years=range(2018, 2026)) -> pd.DataFrame:
    return pd.DataFrame([{"school_id": s, "year": t, "first_covered": g} for s, g in first.items() for t in years])


def test_staggered_adoption_with_never_treated_recommends_callaway_santanna_never():
    r = recommend(panel({"A": 2020, "B": 2022, "C": 0, "D": 0}))
    assert isinstance(r, Recommendation)
    assert (r.estimator, r.control, r.rule, r.cohorts) == ("callaway_santanna", "never", "staggered", (2020, 2022))
    assert "staggered" in r.reason_en and "2020, 2022" in r.reason_en
    assert "Callaway-Sant'Anna" in r.reason_vi and "2020, 2022" in r.reason_vi


def test_staggered_without_never_treated_uses_not_yet_treated():
    r = recommend(panel({"A": 2020, "B": 2022, "C": 2024}))
    assert (r.estimator, r.control, r.n_never_treated) == ("callaway_santanna", "notyet", 0)
    assert "not-yet-covered" in r.reason_en


def test_single_cohort_with_never_treated_recommends_callaway_santanna_not_twfe():
    r = recommend(panel({"A": 2021, "B": 2021, "C": 0}))
    assert (r.estimator, r.control, r.rule) == ("callaway_santanna", "never", "single_cohort")
    assert "diagnostic" in r.reason_en and "đối chiếu" in r.reason_vi


def test_single_cohort_cs_average_is_not_the_twfe_estimate():
    """The old claim "the single-cohort CS simple average equals TWFE" holds only without noise.

    One cohort (2021), never-covered comparisons, school + year terms + an effect 2 + 1 * e pp. Without noise both
    give the mean post effect (4 pp: e = 0..4). CS compares each post year with the year before coverage, TWFE
    with the mean of all pre years: add school-year noise and the two numbers differ (by more than 0.2 pp here),
    while both stay near 4 pp on average.
    """
    from evaluation.effects import staggered_did, twfe

    rng = np.random.default_rng(7)
    rows = []
    for s in range(8):
        g = 2021 if s < 4 else 0
        for t in range(2018, 2026):
            e = t - g if g else -1
            eff = (2.0 + 1.0 * e) / 100 if g and e >= 0 else 0.0
            rows.append({"school_id": f"S{s}", "year": t, "first_covered": g, "treated": int(g > 0 and e >= 0),
                         "clean": 0.2 + 0.01 * s + 0.005 * (t - 2018) + eff, "graduates": 100})
    d = pd.DataFrame(rows)
    kw = dict(unit="school_id", time="year", group="first_covered", control="never")
    assert float(staggered_did(d, outcome="clean", **kw).params["ATT"]) == pytest.approx(0.04, abs=1e-12)
    assert float(twfe(d, outcome="clean", weights=None).params["treated"]) == pytest.approx(0.04, abs=1e-12)
    d["rate"] = d["clean"] + rng.normal(0, 0.02, len(d))
    cs = float(staggered_did(d, outcome="rate", **kw).params["ATT"])
    tw = float(twfe(d, weights=None).params["treated"])
    assert abs(cs - tw) > 0.002
    assert recommend(d).estimator == "callaway_santanna"


def test_no_comparison_when_everyone_adopts_together():
    r = recommend(panel({"A": 2021, "B": 2021}))
    assert (r.estimator, r.rule) == ("none", "no_comparison")
    assert "No credible comparison" in r.reason_en and "Không có nhóm so sánh" in r.reason_vi


def test_no_comparison_when_treated_units_are_always_treated():
    r = recommend(panel({"A": 2018, "B": 2015}))  # covered from (before) the first year
    assert (r.estimator, r.rule) == ("none", "no_comparison")
    assert "no pre-period" in r.reason_en


def test_adoption_after_the_panel_counts_as_never_treated_and_no_treated_gives_none():
    r = recommend(panel({"A": 2021, "B": 2030}))
    assert (r.estimator, r.control, r.n_never_treated) == ("callaway_santanna", "never", 1)
    r = recommend(panel({"A": 0, "B": 0}))
    assert (r.estimator, r.rule) == ("none", "no_treated")


def test_rendering_and_input_errors():
    r = recommend(panel({"A": 2021, "B": 0}))
    assert str(r).startswith("callaway_santanna: ") and "<strong>callaway_santanna</strong>" in r._repr_html_()
    bad = panel({"A": 2021, "B": 0})
    bad.loc[0, "first_covered"] = 2019
    with pytest.raises(ValueError, match="constant within school_id; school_id='A'"):
        recommend(bad)
    with pytest.raises(ValueError, match="not in the data"):
        recommend(bad, first_treated="nope")


def test_preferred_control_is_used_when_the_data_allow_it():
    """The review's control_group parameter wins when possible; 'never' needs never-treated units."""
    rows = [(u, t, g) for u, g in enumerate([0, 0, 2020, 2020, 2022, 2022]) for t in range(2018, 2025)]
    panel = pd.DataFrame(rows, columns=["school_id", "year", "first_covered"])
    assert recommend(panel).control == "never"
    assert recommend(panel, prefer_control="notyet").control == "notyet"
    assert "never-covered ones included" in recommend(panel, prefer_control="notyet").reason_en
    no_never = panel[panel["first_covered"] > 0]
    assert recommend(no_never, prefer_control="never").control == "notyet"
    with pytest.raises(ValueError, match="prefer_control"):
        recommend(panel, prefer_control="sometimes")


def test_inference_rule_is_the_jackknife_and_small_cohorts_are_named():
    """The delete-one-school jackknife (chosen out of sample); a cohort of one or two schools is named."""
    from evaluation.effects import recommend as _  # noqa: F401
    from evaluation.effects.recommend import effect_status, recommended_inference, small_cohorts

    big = panel({**{f"A{i}": 2020 for i in range(3)}, **{f"B{i}": 2022 for i in range(3)}, "C": 0})
    r = recommend(big)
    assert r.inference == "jackknife" and r.small_cohorts == () and recommended_inference(big) == "jackknife"
    small = panel({**{f"A{i}": 2020 for i in range(3)}, "B": 2022, "C": 0})
    r = recommend(small)
    assert r.inference == "jackknife" and r.small_cohorts == ((2022, 1),) and small_cohorts(small) == {2022: 1}
    assert "2022 (1)" in r.reason_en and "jackknife" in r.reason_en and "2022 (1)" in r.reason_vi
    # status: MDE = (t_.975 + t_.80)(df) x SE against the plausible 5 pp
    ok = effect_status(4.0, 1.0, 27)
    assert ok["status"] == "ok" and ok["mde_pp"] == pytest.approx(2.0518 + 0.8551, abs=1e-3)
    wide = effect_status(4.0, 3.0, 6)
    assert wide["status"] == "not_informative" and "pp" in wide["reason_en"] and "điểm %" in wide["reason_vi"]
    assert effect_status(float("nan"), 1.0, 6)["status"] == "not_estimable"
