"""The effect estimators on the shipped sample (seed 2025) against its ``truth.json`` (issue 3, "Done when").

Estimands (truth.json ``levels.<level>``)
    The recommended estimator is Callaway-Sant'Anna (``recommend`` sees staggered adoption) with the review's
    comparison group ``control="notyet"`` (``recommend(prefer_control=...)``; without a preference it would
    pick ``"never"``: never-covered schools exist, THCS 5, THPT 1) and the small-sample inference
    the inference ``recommend`` chooses (t(G-1), or the delete-one-school jackknife with a one- or two-school cohort;
    benchmarks/results/monte_carlo.md: coverage 0.945 THCS / 0.970 THPT against R's normal 0.925 / 0.875,
    and ``never`` with one never-covered THPT school 0.840). Unweighted, its simple
    aggregate estimates ``att_simple_pp_unit_weighted`` (each post-treatment ATT(g,t) weighted by the
    number of schools in g, R ``did::aggte(type="simple")``). With a school-level weight (the
    school's mean graduates per year: ``staggered_did`` needs a weight constant within the unit) it
    estimates ``att_simple_pp_graduate_weighted`` (truth.json weights by *expected* cohort sizes;
    on the noise-free panel the two differ by 0.002 pp for THCS and 0.011 pp for THPT, checked below).
    The school-year rate keeps ``unknown`` in the denominator (the data contract), so the measured
    effect is 0.97 x the true one: the truth compared is ``measured``; with ``unknown`` excluded the
    true (unscaled) effect is compared.

Which checks run on which level
    THPT has 7 schools (one never covered, 5 adoption cohorts of 1-2 schools). The ATT interval check
    runs on both levels. The event-time (e = 0, 1, 2 within 2.5 pp) and pre-period checks run on THCS
    only: on THPT each event-time ATT rests on 1-2 treated schools per cohort compared with a single
    never-covered school, whose own noise enters no analytic standard error (an influence function
    of one comparison unit has nothing to vary against), so the intervals there are too narrow and
    2.5 pp is within sampling noise (seed 2025, recommended ``never``: e = 2 is 6.80 pp against 3.88).
    In the 200-district Monte Carlo (benchmarks/results/monte_carlo.md) e = 0, 1 and 2 are all within
    2.5 pp in 90.5 % of districts for THCS but only 43 % for THPT (standard deviation of the e = 2
    estimate 2.6 pp), and the event-study F test rejects true parallel trends in 31.5 % of THPT
    districts (7 clusters) against 7 % for THCS. The trend check runs on both levels.

Pre-trend test used
    R ``did``'s Wald pre-test over every pre-treatment ATT(g,t) (``StaggeredDiDResults.pretest``, kept for
    parity) is not used: its chi2 reference is wrong when 15 cells' covariance is estimated from 28 schools
    (Monte Carlo under true parallel trends: 97-100 % rejections for THCS; never computable for THPT). The
    check here is ``pretest_small_sample``: Hotelling F over the 5 pre-period event-time aggregates with the
    jackknife covariance, F(5, G-5) (Monte Carlo size 10 % for THCS, the closest candidate to 5 %; see
    ``StaggeredDiDResults.pretest_small_sample``), plus each pre-period interval and the event study's F test
    of the leads with an F(q, G-1) reference (7 % rejections for THCS).
"""
from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from evaluation import sample as S
from evaluation.effects import event_study, recommend, staggered_did, twfe
from evaluation.params import ReviewParams
from evaluation.panel import school_year_panel
from evaluation.trends import fit_trend

LEVELS = ("THCS", "THPT")
#: The review's comparison group (ReviewParams.control_group default), passed to recommend(prefer_control=...).
REVIEW_CONTROL = ReviewParams.model_fields["control_group"].default
TOL_EVENT_PP = 2.5


@pytest.fixture(scope="module")
def truth(sample_dir) -> dict:
    return json.loads((sample_dir / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def panels(sample_cohort) -> dict[str, pd.DataFrame]:
    out = {}
    for level in LEVELS:
        p = school_year_panel(sample_cohort, level=level)
        p["w_school"] = p.groupby("school_id")["graduates"].transform("mean")
        out[level] = p
    return out


def _cs(panel: pd.DataFrame, control: str, weights: str | None = None, inference: str = "normal",
        unbalanced: bool = True):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # R did's notes on dropped units (always covered, incomplete)
        return staggered_did(panel, outcome="rate", unit="school_id", time="year", group="first_covered",
                             control=control, weights=weights, inference=inference,
                             allow_unbalanced_panel=unbalanced)


@pytest.fixture(scope="module")
def recommended(panels) -> dict:
    """Per level: the recommendation (the review's comparison group) and the recommended Callaway-Sant'Anna
    fit (unweighted, small-sample inference ``Recommendation.inference``)."""
    out = {}
    for level, p in panels.items():
        rec = recommend(p, prefer_control=REVIEW_CONTROL)
        out[level] = (rec, _cs(p, rec.control, inference=rec.inference))
    return out


def _noise_free(panel: pd.DataFrame, truth: dict, level: str, *, effect_scale: float = 0.97) -> pd.DataFrame:
    """The panel with ``rate`` replaced by the DGP's expected measured rate (no sampling noise)."""
    T = truth["levels"][level]
    e = np.where(panel["first_covered"] > 0, panel["year"] - panel["first_covered"], -1)
    base = panel["school_id"].map(lambda s: truth["school_base_rate"][f"{s}|{level}"]).to_numpy(dtype=float)
    q = panel.copy()
    q["rate"] = effect_scale * (base + (T["trend_pp_per_year"] * (q["year"] - 2018)
                                        + T["dip_pp"] * q["year"].isin(T["dip_years"]) + S.effect_pp(e)) / 100)
    return q


# ---------------------------------------------------------------------------------------------
# the recommendation and the estimands
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("level", LEVELS)
def test_recommendation_is_callaway_santanna(recommended, panels, truth, level):
    rec, _ = recommended[level]
    assert rec.estimator == "callaway_santanna" and rec.rule == "staggered"
    groups = tuple(int(g) for g in truth["levels"][level]["groups"])
    assert rec.cohorts == groups
    assert rec.control == REVIEW_CONTROL and rec.n_never_treated == truth["levels"][level]["n_never_covered"]
    assert recommend(panels[level]).control == "never"  # no preference: never-covered schools exist


@pytest.mark.parametrize("level", LEVELS)
def test_estimators_recover_truth_on_noise_free_panel(panels, truth, level):
    """Without sampling noise the CS estimators return truth.json's estimands: unweighted exactly the
    unit-weighted ATT; with the school's mean graduates as weight the graduate-weighted ATT up to the
    gap between realised and expected cohort sizes (< 0.05 pp). This pins which estimand each spec has."""
    q = _noise_free(panels[level], truth, level)
    m = truth["levels"][level]["measured"]
    for control in ("never", "notyet"):
        # truth.json's estimands are over the schools observed every year (the sample's flaw schools sit outside
        # them), i.e. the balanced panel; the review's unbalanced-panel estimate (R did, repeated cross-sections)
        # keeps the never-covered THCS school that stops after 2023, whose absence in 2024-2025 shifts the
        # comparison mean: noise-free, that composition change moves the THCS ATT by 0.25 pp
        assert 100 * float(_cs(q, control, unbalanced=False).params["ATT"]) == pytest.approx(
            m["att_simple_pp_unit_weighted"], abs=1e-5)
        assert 100 * float(_cs(q, control).params["ATT"]) == pytest.approx(m["att_simple_pp_unit_weighted"], abs=0.3)
        gw = 100 * float(_cs(q, control, "w_school", unbalanced=False).params["ATT"])
        assert gw == pytest.approx(m["att_simple_pp_graduate_weighted"], abs=0.05)
        dyn = (_cs(q, control, unbalanced=False).aggregate("dynamic").to_frame(pp=True)
               .set_index("event_time")["estimate_pp"])
        for e, v in m["att_dynamic_pp"].items():
            if int(e) in dyn.index:
                assert dyn[int(e)] == pytest.approx(v, abs=1e-5), (control, e)


# ---------------------------------------------------------------------------------------------
# the ATT interval
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("level", LEVELS)
def test_recommended_interval_covers_true_att(recommended, truth, level):
    """Recommended CS (``recommend(prefer_control=REVIEW_CONTROL)``, ``inference=rec.inference``),
    unweighted: 95 % interval covers the unit-weighted ATT as measured (unknown in the denominator)."""
    _, res = recommended[level]
    lo, hi = (100 * res.conf_int(0.95).iloc[0]).to_numpy()
    att = truth["levels"][level]["measured"]["att_simple_pp_unit_weighted"]
    assert lo <= att <= hi, (level, lo, hi, att)
    # Not asserted: lo > 0. The small-sample interval is honest and wide (seed 2025, jackknife: THCS -0.64 to
    # 7.52 pp around 3.44; R's normal interval 0.25 to 6.63 undercovers, 0.925 in the Monte Carlo). Across
    # 200 districts the recommended interval excludes 0 in 86 % (THCS) and 24 % (THPT) of districts.
    assert hi - lo < 15.0, (level, lo, hi)  # still informative: narrower than 15 pp


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("control, weighted", [("notyet", False), ("notyet", True), ("never", True)])
def test_other_cs_specifications_cover_their_estimand(panels, truth, level, control, weighted):
    """The brief's specification (``control="notyet"``) and the graduate-weighted ones cover the
    estimand that matches their weighting."""
    res = _cs(panels[level], control, "w_school" if weighted else None)
    lo, hi = (100 * res.conf_int(0.95).iloc[0]).to_numpy()
    m = truth["levels"][level]["measured"]
    att = m["att_simple_pp_graduate_weighted" if weighted else "att_simple_pp_unit_weighted"]
    assert lo <= att <= hi, (level, control, weighted, lo, hi, att)


@pytest.mark.parametrize("level", LEVELS)
def test_unknown_excluded_covers_the_true_effect(sample_cohort, truth, level):
    """With ``unknown`` left out of the denominator the rates are unbiased (destinations are lost at
    random), so the interval covers the unscaled ATT; the measured one is 0.97 x it."""
    p = school_year_panel(sample_cohort, level=level, unknown_in_denominator=False)
    res = _cs(p, recommend(p).control)
    lo, hi = (100 * res.conf_int(0.95).iloc[0]).to_numpy()
    T = truth["levels"][level]
    assert lo <= T["att_simple_pp_unit_weighted"] <= hi
    assert T["measured"]["att_simple_pp_unit_weighted"] == pytest.approx(0.97 * T["att_simple_pp_unit_weighted"],
                                                                         abs=1e-5)


# ---------------------------------------------------------------------------------------------
# event time and pre-periods (THCS: see the module docstring for THPT)
# ---------------------------------------------------------------------------------------------
def test_event_time_estimates_within_tolerance(recommended, truth):
    """THCS, recommended CS: ATT at e = 0, 1, 2 within 2.5 pp of ``measured.att_dynamic_pp``."""
    _, res = recommended["THCS"]
    dyn = res.aggregate("dynamic").to_frame(pp=True).set_index("event_time")
    true = truth["levels"]["THCS"]["measured"]["att_dynamic_pp"]
    for e in (0, 1, 2):
        est = float(dyn.loc[e, "estimate_pp"])
        assert abs(est - true[str(e)]) <= TOL_EVENT_PP, (e, est, true[str(e)])
        assert dyn.loc[e, "ci_low"] <= true[str(e)] <= dyn.loc[e, "ci_high"], e


def test_pre_period_estimates_indistinguishable_from_zero(recommended):
    """THCS, recommended CS: each event-time pre-period (e = -5..-1) interval covers 0 and the review's
    pre-test (``pretest_small_sample``: Hotelling F over the 5 pre-period event-time aggregates, F(5, G-5))
    has p > 0.05."""
    _, res = recommended["THCS"]
    dyn = res.aggregate("dynamic")
    f = dyn.to_frame()
    pre = (f["event_time"] < 0).to_numpy()
    assert pre.sum() == 5
    assert ((f.loc[pre, "ci_low"] <= 0) & (f.loc[pre, "ci_high"] >= 0)).all(), f.loc[pre]
    V = dyn.vcov[np.ix_(pre, pre)]
    assert np.allclose(np.sqrt(np.diag(V)), f.loc[pre, "std_error"].to_numpy())  # the reported errors
    test = res.pretest_small_sample
    assert test.distribution == "F" and test.df == (5, res.n_clusters - 5), str(test)
    assert test.p_value > 0.05, str(test)


def test_event_study_pretrend_test_does_not_reject(panels):
    """THCS, TWFE event study (window -4..4): the F test of the leads has p > 0.05 and each lead's
    interval covers 0."""
    es = event_study(panels["THCS"], window=(-4, 4))
    assert es.pretrend.p_value > 0.05, str(es.pretrend)
    f = es.to_frame()
    leads = f.loc[(f["event_time"] < -1)]
    assert len(leads) == 3 and ((leads["ci_low"] <= 0) & (leads["ci_high"] >= 0)).all(), leads


# ---------------------------------------------------------------------------------------------
# trend
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("level", LEVELS)
def test_trend_interval_covers_district_trend(panels, truth, level):
    """``fit_trend``'s binomial GLM average marginal effect (pp per year) covers the district trend
    as measured (slope of the expected district rate, counseling effect included, unknown in the
    denominator)."""
    row = fit_trend(panels[level]).trend_frame().set_index("model").loc["glm_binomial"]
    true = truth["levels"][level]["measured"]["district_trend_pp_per_year"]
    assert row["ci_low"] <= true <= row["ci_high"], (level, row.to_dict(), true)


# ---------------------------------------------------------------------------------------------
# TWFE against the robust estimator
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("level", LEVELS)
def test_twfe_estimand_is_biased_down_with_growing_effects(panels, truth, level):
    """Literature (Goodman-Bacon 2021; de Chaisemartin & D'Haultfoeuille 2020; Sun & Abraham 2021):
    with staggered adoption and an effect that grows with exposure, TWFE uses already-covered
    schools as controls, whose growing effect is subtracted, so it understates the ATT.

    Robust check (no sampling noise): TWFE's estimand on this design, the graduate-weighted LPM on
    the noise-free panel, is well below the graduate-weighted ATT (THCS 1.72 vs 3.88 pp, THPT 2.02
    vs 4.02 pp), while CS recovers the ATT (test_estimators_recover_truth_on_noise_free_panel).
    Monte Carlo (200 districts): TWFE bias -2.15 pp (THCS) and -1.98 pp (THPT).
    """
    q = _noise_free(panels[level], truth, level)
    tw_nf = 100 * float(twfe(q).params["treated"])
    att = truth["levels"][level]["measured"]["att_simple_pp_graduate_weighted"]
    assert tw_nf < att - 1.5, (tw_nf, att)


def test_twfe_below_robust_estimate_on_sample(panels, recommended):
    """On the sample, THCS: TWFE 0.55 pp against the recommended CS 3.64 pp. Asserted for THCS only,
    where the sign is robust (TWFE < CS in 99 % of the 200 Monte Carlo districts); on THPT (7 schools)
    it holds in 86 % of districts, so it is documented, not asserted: seed 2025 gives 2.30 vs 4.64 pp."""
    tw = 100 * float(twfe(panels["THCS"]).params["treated"])
    cs = 100 * float(recommended["THCS"][1].params["ATT"])
    assert tw < cs - 1.0, (tw, cs)
