"""Tests of evaluation.effects.staggered_did (Callaway & Sant'Anna 2021).

Known answers: saved output of R ``did`` (tests/data/mpdta, see SOURCE.md there), closed forms
(difference of mean changes and its standard error without covariates), and a simulated
staggered panel with a planted dynamic effect of 2 + e in event time e >= 0.
"""
from __future__ import annotations

import dataclasses
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from evaluation.effects import AggregateResults, DiDInputError, StaggeredDiDResults, staggered_did
from evaluation import results as results_module
from evaluation.results import EstimateResults

DATA = Path(__file__).parent / "data" / "mpdta"
#: Agreement with R did: relative 1e-6 with an absolute floor of 1e-8 (observed: < 1e-10).
RTOL, ATOL = 1e-6, 1e-8

MPDTA = dict(outcome="lemp", unit="countyreal", time="year", group="first.treat")
SIM = dict(outcome="Y", unit="id", time="period", group="G")
SCENARIOS = {
    "mpdta_nev_dr": ("mpdta", dict(MPDTA, control="never", est_method="dr")),
    "mpdta_nyt_dr": ("mpdta", dict(MPDTA, control="notyet", est_method="dr")),
    "mpdta_nev_ipw": ("mpdta", dict(MPDTA, control="never", est_method="ipw")),
    "mpdta_nev_reg_cov": ("mpdta", dict(MPDTA, control="never", est_method="reg", covariates=["lpop"])),
    "sim_nev_dr": ("sim", dict(SIM, control="never", est_method="dr", covariates=["X"])),
}


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return {"mpdta": pd.read_csv(DATA / "mpdta_tvw.csv"), "sim": pd.read_csv(DATA / "sim_data.csv"),
            "attgt": pd.read_csv(DATA / "ref_attgt.csv"), "aggte": pd.read_csv(DATA / "ref_aggte.csv"),
            "pretest": pd.read_csv(DATA / "ref_pretest.csv")}


@pytest.fixture(scope="module")
def fits(frames) -> dict[str, StaggeredDiDResults]:
    return {name: staggered_did(frames[d], **kw) for name, (d, kw) in SCENARIOS.items()}


def _panel(n=3000, T=6, seed=7, groups=(0, 3, 4, 5), x_shift=0.4):
    """Staggered panel: unit effect, period effect, a covariate-specific trend 0.3*x*t (x's mean
    differs by group, so trends are parallel only given x) and a planted effect 2 + e for
    e = t - g >= 0 (0 before treatment). Units 1..n, periods 1..T, cluster = 50 school districts
    each with its own shock in every period."""
    rng = np.random.default_rng(seed)
    g = rng.choice(np.array(groups), size=n)
    gi = np.searchsorted(np.array(groups), g)
    x = rng.normal(size=n) + x_shift * gi
    cl = rng.integers(0, 50, size=n)
    t = np.arange(1, T + 1)
    e = t[None, :] - g[:, None]
    eff = np.where((g[:, None] > 0) & (e >= 0), 2.0 + e, 0.0)
    shock = rng.normal(scale=0.5, size=(50, T))[cl]
    y = (rng.normal(size=n)[:, None] + 0.2 * t[None, :] + 0.3 * x[:, None] * t[None, :] + eff
         + shock + rng.normal(size=(n, T)))
    return pd.DataFrame({"school": np.repeat(np.arange(1, n + 1), T), "year": np.tile(t, n),
                         "first": np.repeat(g, T), "y": y.ravel(), "x": np.repeat(x, T),
                         "district": np.repeat(cl, T), "w": np.repeat(rng.uniform(0.5, 2.0, n), T)})


PANEL = dict(outcome="y", unit="school", time="year", group="first")


@pytest.fixture(scope="module")
def planted():
    d = _panel()
    return d, staggered_did(d, **PANEL, covariates=["x"])


# ---------------------------------------------------------------- golden tests against R did
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_att_gt_matches_r_did(scenario, fits, frames):
    ref = frames["attgt"].query("scenario == @scenario")
    got = fits[scenario].att_gt()
    m = got.merge(ref, left_on=["group", "time"], right_on=["group", "t"], how="outer", indicator=True)
    assert (m["_merge"] == "both").all(), m.loc[m["_merge"] != "both", ["group", "time", "t"]]
    assert_allclose(m["estimate"], m["att"], rtol=RTOL, atol=ATOL)
    assert_allclose(m["std_error"], m["se"], rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("kind", ["simple", "group", "dynamic", "calendar"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_aggregations_match_r_did(scenario, kind, fits, frames):
    ref = frames["aggte"].query("scenario == @scenario and type == @kind")
    agg = fits[scenario].aggregate(kind)
    assert_allclose(agg.overall.params["ATT"], ref["overall_att"].iloc[0], rtol=RTOL, atol=ATOL)
    assert_allclose(agg.overall.std_errors["ATT"], ref["overall_se"].iloc[0], rtol=RTOL, atol=ATOL)
    if kind != "simple":
        got = agg.to_frame()
        assert len(got) == len(ref)
        assert_allclose(got[agg.key], ref["egt"])
        assert_allclose(got["estimate"], ref["att_egt"], rtol=RTOL, atol=ATOL)
        assert_allclose(got["std_error"], ref["se_egt"], rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_pretest_matches_r_did(scenario, fits, frames):
    ref = frames["pretest"].query("scenario == @scenario").iloc[0]
    test = fits[scenario].pretest
    assert_allclose(test.statistic, ref["W"], rtol=RTOL)
    # R rounds Wpval to 5 decimals
    assert abs(test.p_value - ref["Wpval"]) <= 5e-6 + 1e-12
    assert test.df == len(fits[scenario].att_gt().query("time < group"))


# ---------------------------------------------------------------- closed forms
def test_no_covariates_every_method_is_the_difference_of_mean_changes(frames):
    d = frames["mpdta"]
    wide = d.pivot(index="countyreal", columns="year", values="lemp")
    g = d.groupby("countyreal")["first.treat"].first()
    dy = wide[2006] - wide[2003]  # ATT(2004, 2006): base period 2003
    treat, ctrl = dy[g == 2004], dy[g == 0]
    att = treat.mean() - ctrl.mean()
    se = np.sqrt(treat.var(ddof=0) / len(treat) + ctrl.var(ddof=0) / len(ctrl))
    for method in ("dr", "ipw", "reg"):
        row = staggered_did(d, **MPDTA, control="never", est_method=method).att_gt().query(
            "group == 2004 and time == 2006").iloc[0]
        assert_allclose([row["estimate"], row["std_error"]], [att, se], rtol=1e-10)


def test_weighted_no_covariates_is_the_weighted_difference(frames):
    d = frames["mpdta"].copy()
    d["wu"] = d.groupby("countyreal")["lpop"].transform("first")  # a unit-constant weight
    wide = d.pivot(index="countyreal", columns="year", values="lemp")
    u = d.groupby("countyreal")[["first.treat", "wu"]].first()
    dy = wide[2007] - wide[2005]  # ATT(2006, 2007): base 2005
    t, c = u["first.treat"] == 2006, u["first.treat"] == 0
    att = np.average(dy[t], weights=u["wu"][t]) - np.average(dy[c], weights=u["wu"][c])
    res = staggered_did(d, **MPDTA, control="never", weights="wu")
    row = res.att_gt().query("group == 2006 and time == 2007").iloc[0]
    assert_allclose(row["estimate"], att, rtol=1e-10)
    assert res.info["weights"] == "wu"


def test_universal_base_period_compares_with_the_last_pre_period(frames):
    d = frames["mpdta"]
    res = staggered_did(d, **MPDTA, control="never", base_period="universal")
    tab = res.att_gt().set_index(["group", "time"])
    ref_cell = tab.loc[(2006, 2005)]
    assert ref_cell["estimate"] == 0 and np.isnan(ref_cell["std_error"])
    wide = d.pivot(index="countyreal", columns="year", values="lemp")
    g = d.groupby("countyreal")["first.treat"].first()
    dy = wide[2003] - wide[2005]  # pre cell (2006, 2003) against the fixed base 2005
    assert_allclose(tab.loc[(2006, 2003), "estimate"], dy[g == 2006].mean() - dy[g == 0].mean(), rtol=1e-10)
    # the base-period cells (zero variance) are left out of the pre-test, as in R
    assert res.pretest.df == len(tab.query("time < group - 1"))


# ---------------------------------------------------------------- planted effect
def test_dynamic_aggregation_recovers_the_planted_effect(planted):
    d, res = planted
    dyn = res.aggregate("dynamic").to_frame()
    truth = np.where(dyn["event_time"] >= 0, 2.0 + dyn["event_time"], 0.0)
    # stated tolerance: within 4 standard errors and 0.25 outcome units of the planted effect
    err = np.abs(dyn["estimate"] - truth)
    assert (err < 4 * dyn["std_error"]).all() and (err < 0.25).all(), dyn.assign(truth=truth)
    assert res.pretest.p_value > 0.01
    # overall dynamic ATT = mean of 2 + e over the post event times
    post = dyn["event_time"] >= 0
    assert abs(res.aggregate("dynamic").overall.params["ATT"] - truth[post].mean()) < 0.15


def test_without_the_covariate_the_pretest_detects_the_trend(planted):
    d, _ = planted
    res = staggered_did(d, **PANEL)  # trends are parallel only given x
    assert res.pretest.p_value < 1e-6


def test_group_and_calendar_targets(planted):
    d, res = planted
    grp = res.aggregate("group").to_frame().set_index("group")
    T = d["year"].max()
    for g, row in grp.iterrows():  # group g: mean of 2 + e over e = 0..T-g
        assert abs(row["estimate"] - np.mean(2.0 + np.arange(T - g + 1))) < 0.25
    assert abs(res.params["ATT"] - res.simple.overall.params["ATT"]) == 0


def test_bootstrap_is_reproducible_and_close_to_analytic(planted):
    _, res = planted
    a = res.aggregate("dynamic", bootstrap=True, reps=499, seed=11).to_frame()
    b = res.aggregate("dynamic", bootstrap=True, reps=499, seed=11).to_frame()
    c = res.aggregate("dynamic", bootstrap=True, reps=499, seed=12).to_frame()
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["std_error"], c["std_error"])
    analytic = res.aggregate("dynamic").to_frame()
    assert_allclose(a["std_error"], analytic["std_error"], rtol=0.15)  # 499 draws: IQR SE within 15 %
    assert ((a["band_low"] <= a["ci_low"]) & (a["band_high"] >= a["ci_high"])).all()
    agg = res.aggregate("dynamic", bootstrap=True, reps=499, seed=11)
    assert agg.critical_value > 1.96 and agg.bootstrap["reps"] == 499
    assert "analytic_std_error" in agg.overall.info
    gt = res.att_gt(bootstrap=True, reps=499, seed=3)
    assert {"band_low", "band_high"} <= set(gt.columns)
    assert_allclose(gt["std_error"], res.att_gt()["std_error"], rtol=0.2)


def test_clustered_bootstrap(planted):
    d, res = planted
    unit = res.aggregate("simple", bootstrap=True, reps=499, seed=5)
    # clustering on the unit id itself reproduces the unit-level draws exactly
    same = res.aggregate("simple", bootstrap=True, reps=499, seed=5, cluster="school")
    assert_allclose(same.overall.std_errors, unit.overall.std_errors, rtol=1e-12)
    # known answer: the cluster-robust variance of the mean, sum over districts of the squared
    # within-district sums of the influence function, over n^2
    clu = res.aggregate("simple", bootstrap=True, reps=999, seed=5, cluster="district")
    inf = res.aggregate("simple").influence_function[:, 0]
    district = d.drop_duplicates("school").sort_values("school")["district"].to_numpy()
    analytic = np.sqrt((pd.Series(inf).groupby(district).sum() ** 2).sum()) / len(inf)
    assert_allclose(clu.overall.std_errors["ATT"], analytic, rtol=0.15)
    assert clu.bootstrap["n_clusters"] == 50
    # when whole districts adopt together, their common shocks make clustered SEs much larger
    d2 = d.assign(first=np.random.default_rng(3).choice([0, 3, 4, 5], size=50)[d["district"]])
    r2 = staggered_did(d2, **PANEL, covariates=["x"])
    clu2 = r2.aggregate("simple", bootstrap=True, reps=499, seed=5, cluster="district")
    assert clu2.overall.std_errors["ATT"] > 1.5 * r2.std_errors["ATT"]
    with pytest.raises(ValueError, match="bootstrap=True"):
        res.aggregate("simple", cluster="district")
    bad = d.copy()
    bad.loc[bad.index[1], "district"] = 99
    with pytest.raises(DiDInputError, match=r"'district'.*school=1"):
        staggered_did(bad, **PANEL).aggregate("simple", bootstrap=True, reps=9, cluster="district")


@pytest.mark.slow
def test_speed_13000_units_8_periods():
    d = _panel(n=13000, T=8, groups=(0, 3, 4, 5, 6, 7, 8), x_shift=0.1)
    t0 = time.perf_counter()
    res = staggered_did(d, **PANEL, covariates=["x"])
    res.aggregate("dynamic")
    assert time.perf_counter() - t0 < 10


# ---------------------------------------------------------------- data handling
def test_unbalanced_missing_and_early_units_are_dropped_and_recorded(frames):
    d = frames["mpdta"].copy()
    ids = d["countyreal"].unique()
    d = d[~((d["countyreal"] == ids[0]) & (d["year"] == 2005))]  # unit not observed in 2005
    d.loc[d["countyreal"] == ids[1], "lemp"] = np.where(d.loc[d["countyreal"] == ids[1], "year"] == 2004, np.nan,
                                                        d.loc[d["countyreal"] == ids[1], "lemp"])
    early = d["countyreal"] == ids[2]
    d.loc[early, "first.treat"] = 2003  # treated in the first period
    res = staggered_did(d, **MPDTA, control="never", allow_unbalanced_panel=False)  # R did's default
    assert res.info["dropped_units"] == {"missing_values": 1, "unbalanced": 1, "treated_in_first_period": 1}
    assert res.info["n_units"] == 497 and res.info["n_obs"] == 497 * 5
    assert any("not observed in all 5 periods" in n for n in res.notes)
    clean = frames["mpdta"][~frames["mpdta"]["countyreal"].isin(ids[:3])]
    pd.testing.assert_frame_equal(res.att_gt(), staggered_did(clean, **MPDTA, control="never").att_gt())


def test_nan_group_means_never_treated(frames):
    d = frames["mpdta"].copy()
    d["first.treat"] = d["first.treat"].replace(0, np.nan)
    a = staggered_did(d, **MPDTA, control="never").att_gt()
    pd.testing.assert_frame_equal(a, staggered_did(frames["mpdta"], **MPDTA, control="never").att_gt())


def test_no_never_treated_units_uses_the_last_group_as_in_r(frames):
    d = frames["mpdta"].query("`first.treat` > 0")
    with pytest.warns(UserWarning, match="No never-treated units"):
        res = staggered_did(d, **MPDTA, control="notyet")
    assert res.info["groups"] == [2004, 2006]
    assert res.att_gt()["time"].max() == 2006


# ---------------------------------------------------------------- bad input
def test_missing_column_is_named(frames):
    with pytest.raises(DiDInputError, match="outcome column 'employment' not found"):
        staggered_did(frames["mpdta"], **dict(MPDTA, outcome="employment"))
    with pytest.raises(DiDInputError, match="covariate column 'pop' not found"):
        staggered_did(frames["mpdta"], **MPDTA, covariates=["pop"])


def test_group_not_constant_within_unit_names_column_and_value(frames):
    d = frames["mpdta"].copy()
    d.loc[(d["countyreal"] == 8001) & (d["year"] == 2007), "first.treat"] = 2006
    with pytest.raises(DiDInputError, match=r"group column 'first.treat'.*countyreal=8001.*\[2006.0, 2007.0\]"):
        staggered_did(d, **MPDTA)


def test_other_bad_input(frames):
    d = frames["mpdta"].copy()
    d["lemp"] = d["lemp"].astype(object)
    d.loc[3, "lemp"] = "n/a "
    with pytest.raises(DiDInputError, match=r"outcome column 'lemp' must be numeric; row 3 has value 'n/a '"):
        staggered_did(d, **MPDTA)
    dup = pd.concat([frames["mpdta"], frames["mpdta"].iloc[[0]]])
    with pytest.raises(DiDInputError, match="more than one row for unit countyreal=8001 and year=2003"):
        staggered_did(dup, **MPDTA)
    neg = frames["mpdta"].copy()
    neg.loc[5, "first.treat"] = -1
    with pytest.raises(DiDInputError, match="row 5 has value -1"):
        staggered_did(neg, **MPDTA)
    w = frames["mpdta"]
    with pytest.raises(DiDInputError, match="weights column 'wt' must be constant"):
        staggered_did(w, **MPDTA, weights="wt")  # the fixture's wt varies over years
    with pytest.raises(ValueError, match="control must be"):
        staggered_did(w, **MPDTA, control="later")
    with pytest.raises(ValueError, match="est_method"):
        staggered_did(w, **MPDTA, est_method="ols")


# ---------------------------------------------------------------- results object
def test_results_object_checker(fits):
    res = fits["mpdta_nev_dr"]
    gt = res.att_gt()
    assert list(gt.columns) == ["group", "time", "event_time", "estimate", "std_error", "ci_low", "ci_high", "p_value"]
    assert_allclose(gt["ci_high"] - gt["estimate"], 1.959963984540054 * gt["std_error"])
    assert res.influence_function.shape == (res.info["n_units"], len(gt))
    assert not res.influence_function.flags.writeable
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.alpha = 0.1
    for key in ("n_units", "n_obs", "n_groups", "control_group", "dropped_units", "est_method"):
        assert key in res.info
    assert res.info["n_units"] == 500 and res.info["n_obs"] == 2500 and res.info["n_groups"] == 3
    assert isinstance(res.pretest, results_module.TestResult) and "parallel trends" in str(res.pretest)
    # delegation to the simple aggregation
    simple = res.aggregate("simple")
    assert_allclose(res.params, simple.overall.params)
    assert_allclose(res.std_errors, simple.overall.std_errors)
    assert_allclose(res.pvalues, simple.overall.pvalues)
    assert_allclose(res.conf_int(0.9), simple.overall.conf_int(0.9))
    assert list(res.params.index) == ["ATT"]
    pp = res.to_frame(pp=True)
    assert list(pp.columns) == ["group", "time", "event_time", "estimate_pp", "std_error", "ci_low", "ci_high", "p_value"]
    assert_allclose(pp["estimate_pp"], 100 * gt["estimate"])
    assert_allclose(pp["p_value"], gt["p_value"])
    text, page = str(res), res._repr_html_()
    assert "ATT(g,t)" in text and "Wald" in text and "never treated" in text
    assert page.startswith("<div>") and "<table" in page
    assert str(res.summary) == text
    for kind, key in [("simple", None), ("dynamic", "event_time"), ("group", "group"), ("calendar", "time")]:
        agg = res.aggregate(kind)
        assert isinstance(agg, AggregateResults) and isinstance(agg.overall, EstimateResults)
        assert agg.key == key and agg.kind == kind
        f = agg.to_frame()
        cols = ([key] if key else []) + ["estimate", "std_error", "ci_low", "ci_high", "p_value"]
        assert list(f.columns) == cols
        assert list(agg.to_frame(pp=True).columns) == [c if c != "estimate" else "estimate_pp" for c in cols]
        assert agg.influence_function.shape[0] == 500 and not agg.influence_function.flags.writeable
        assert_allclose(agg.params, agg.overall.params)
        assert_allclose(agg.std_errors, agg.overall.std_errors)
        assert agg.pvalues["ATT"] == agg.overall.pvalues["ATT"]
        assert list(agg.conf_int().columns) == ["ci_low", "ci_high"]
        assert list(agg.overall.to_frame()["term"]) == ["ATT"]
        assert kind in str(agg) and "<table" in agg._repr_html_()
        assert agg.bootstrap is None and agg.critical_value == pytest.approx(1.959963984540054)
    with pytest.raises(ValueError, match="kind must be one of"):
        res.aggregate("yearly")
    boot = res.aggregate("group", bootstrap=True, reps=99, seed=1)
    assert list(boot.to_frame().columns)[-2:] == ["band_low", "band_high"]
    assert "multiplier bootstrap" in boot.overall.cov_type and "critical value" in str(boot)


def test_cells_without_overlap_are_nan_and_left_out_of_aggregations():
    d = _panel(n=2000, T=6, groups=(0, 3, 4, 5, 6), x_shift=1.2, seed=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = staggered_did(d, **PANEL, covariates=["x"])
    assert any("ATT(g=6, t=6) not estimable: propensity score overlap" in str(w.message) for w in caught)
    gt = res.att_gt()
    missing = gt[gt["estimate"].isna()]
    assert len(missing) == res.info["n_cells_not_estimable"] == 4
    assert missing["std_error"].isna().all()
    assert np.isnan(res.influence_function[:, missing.index]).all()
    dyn = res.aggregate("dynamic")
    assert any("left out of the aggregation" in n for n in dyn.notes)
    assert dyn.to_frame()["estimate"].notna().all()
    # the remaining cells aggregate as if the missing ones had never been estimated
    e0 = gt.query("event_time == 0 and estimate.notna()")
    pg = d.drop_duplicates("school")["first"].value_counts()
    assert_allclose(dyn.to_frame().query("event_time == 0")["estimate"].iloc[0],
                    np.average(e0["estimate"], weights=pg[e0["group"]].to_numpy()), rtol=1e-12)


def test_anticipation_shifts_the_base_period(frames):
    d = frames["mpdta"]
    res = staggered_did(d, **MPDTA, control="never", anticipation=1)
    assert res.info["dropped_units"]["treated_in_first_period"] == d.query("`first.treat` == 2004")["countyreal"].nunique()
    gt = res.att_gt().set_index(["group", "time"])
    wide = d.pivot(index="countyreal", columns="year", values="lemp")
    g = d.groupby("countyreal")["first.treat"].first()
    dy = wide[2006] - wide[2004]  # group 2006 with one period of anticipation: base 2004
    assert_allclose(gt.loc[(2006, 2006), "estimate"], dy[g == 2006].mean() - dy[g == 0].mean(), rtol=1e-10)
    assert res.pretest.df == len(res.att_gt().query("time + 1 < group"))


# ---------------------------------------------------------------- small-sample inference (opt-in)
SMALL = dict(outcome="y", unit="school", time="year", group="first")


@pytest.fixture(scope="module")
def small_panel():
    """36 schools in 9 districts, groups 0 (never), 3, 4, 5 with 9 schools each, 6 periods, no covariate."""
    d = _panel(n=36, T=6, seed=21, groups=(0, 3, 4, 5))
    g = np.repeat(np.array([0, 3, 4, 5]), 9)
    d["first"] = np.repeat(g, 6)
    d["district"] = np.repeat(np.arange(36) % 9, 6)
    return d


def _quiet(d, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return staggered_did(d, **kw)


def test_t_inference_uses_the_same_errors_with_t_critical_values(small_panel):
    r = staggered_did(small_panel, **SMALL)
    t = staggered_did(small_panel, **SMALL, inference="t")
    h = staggered_did(small_panel, **SMALL, inference="t_hc1")
    G = 36
    assert t.df == G - 1 and r.df is None and t.n_clusters == G
    assert_allclose(t.params, r.params, rtol=0, atol=0)  # estimates never change
    assert_allclose(t.std_errors, r.std_errors, rtol=1e-12)
    assert_allclose(h.std_errors, r.std_errors * np.sqrt(G / (G - 1)), rtol=1e-12)
    q = 2.0301079282503425  # scipy.stats.t.ppf(0.975, 35)
    for res in (t, h):
        ci = res.conf_int(0.95).iloc[0]
        assert_allclose(ci["ci_high"] - res.params["ATT"], q * res.std_errors["ATT"], rtol=1e-10)
        gt = res.att_gt()
        assert_allclose(gt["ci_high"] - gt["estimate"], q * gt["std_error"], rtol=1e-10)
        dyn = res.aggregate("dynamic")
        assert dyn.critical_value == pytest.approx(q) and dyn.overall.df == G - 1
        f = dyn.to_frame()
        from scipy import stats as st
        assert_allclose(f["p_value"], 2 * st.t.sf(np.abs(f["estimate"] / f["std_error"]), G - 1), rtol=1e-10)
    assert_allclose(h.att_gt()["std_error"], r.att_gt()["std_error"] * np.sqrt(G / (G - 1)), rtol=1e-12)
    assert "t(G-1)" in h.info["inference"] and h.info["n_clusters"] == G


def test_jackknife_equals_brute_force_leave_one_out(small_panel):
    """Known answer: refit on the data without each school and apply (G-1)/G * sum (est_-i - mean)^2."""
    d = small_panel
    jk = staggered_did(d, **SMALL, inference="jackknife")
    ids = np.sort(d["school"].unique())
    loo_simple, loo_dyn, loo_gt = [], [], []
    for i in ids:
        r = _quiet(d.loc[d["school"] != i], **SMALL)
        loo_simple.append(float(r.params["ATT"]))
        loo_dyn.append(r.aggregate("dynamic").to_frame()["estimate"].to_numpy())
        loo_gt.append(r.att_gt()["estimate"].to_numpy())
    G = len(ids)

    def jse(x):
        x = np.asarray(x)
        return np.sqrt((G - 1) / G * ((x - x.mean(axis=0)) ** 2).sum(axis=0))

    assert_allclose(jk.std_errors["ATT"], jse(loo_simple), rtol=1e-10)
    assert_allclose(jk.aggregate("dynamic").to_frame()["std_error"], jse(loo_dyn), rtol=1e-10)
    assert_allclose(jk.att_gt()["std_error"], jse(loo_gt), rtol=1e-10)
    # covariance of the components: the jackknife one
    V = jk.aggregate("dynamic").vcov
    x = np.asarray(loo_dyn)
    assert_allclose(V, (G - 1) / G * (x - x.mean(0)).T @ (x - x.mean(0)), rtol=1e-10)
    assert jk.conf_int().iloc[0]["ci_high"] - jk.params["ATT"] == pytest.approx(
        2.0301079282503425 * jk.std_errors["ATT"], rel=1e-10)


def test_jackknife_by_cluster_and_when_a_cluster_carries_the_only_comparison(small_panel):
    d = small_panel
    jk = staggered_did(d, **SMALL, inference="jackknife", cluster="district")
    loo = [float(_quiet(d.loc[d["district"] != c], **SMALL).params["ATT"]) for c in range(9)]
    x = np.array(loo)
    assert jk.n_clusters == 9 and jk.df == 8
    assert jk.std_errors["ATT"] == pytest.approx(np.sqrt(8 / 9 * ((x - x.mean()) ** 2).sum()), rel=1e-10)
    # a single never-treated school: leaving it out leaves no comparison for control="never"
    one = d.loc[(d["first"] > 0) | (d["school"] == 1)]
    r = _quiet(one, **SMALL, control="never", inference="jackknife")
    assert np.isnan(r.std_errors["ATT"]) and np.isfinite(r.params["ATT"])
    assert any("jackknife" in n for n in r.simple.notes)


def test_clustered_analytic_errors(small_panel):
    d = small_panel
    r = staggered_did(d, **SMALL)
    c = staggered_did(d, **SMALL, inference="t_hc1", cluster="district")
    inf = r.aggregate("simple").influence_function[:, 0]
    district = d.drop_duplicates("school").sort_values("school")["district"].to_numpy()
    V = (pd.Series(inf).groupby(district).sum() ** 2).sum() / len(inf) ** 2 * 9 / 8
    assert c.std_errors["ATT"] == pytest.approx(np.sqrt(V), rel=1e-12)
    assert c.df == 8 and c.info["cluster"] == "district"
    same = staggered_did(d, **SMALL, inference="t", cluster="school")
    assert_allclose(same.std_errors, r.std_errors, rtol=1e-12)
    # the bootstrap takes the fit's cluster by default and keeps the t critical value
    b = c.aggregate("simple", bootstrap=True, reps=999, seed=4)
    assert b.bootstrap["n_clusters"] == 9 and b.overall.df == 8
    assert b.overall.std_errors["ATT"] == pytest.approx(c.std_errors["ATT"], rel=0.25)


def test_hotelling_pretest_known_answer_and_power(small_panel, planted):
    r = staggered_did(small_panel, **SMALL)
    dyn = r.aggregate("dynamic")
    f = dyn.to_frame()
    pre = (f["event_time"] < 0).to_numpy()
    a = f["estimate"].to_numpy()[pre]
    G, q = 36, int(pre.sum())
    V = dyn.vcov[np.ix_(pre, pre)] * G / (G - 1)
    F = (G - q) / (q * (G - 1)) * float(a @ np.linalg.solve(V, a))
    t = r.pretest_small_sample
    assert t.distribution == "F" and t.df == (q, G - q)
    assert t.statistic == pytest.approx(F, rel=1e-10)
    from scipy import stats as st
    assert t.p_value == pytest.approx(st.f.sf(F, q, G - q), rel=1e-10)
    # cells version: the R did cells, same construction
    cells = r.hotelling_pretest(over="cells")
    assert cells.df[0] == r.pretest.df
    # power: trends parallel only given x, and x is left out (3000 units)
    d, _ = planted
    assert staggered_did(d, **PANEL).pretest_small_sample.p_value < 1e-6
    # too few clusters for the number of pre-period estimates: no test
    few = staggered_did(small_panel.assign(region=small_panel["school"] % 6), **SMALL, inference="t", cluster="region")
    assert few.hotelling_pretest(over="cells") is None  # 6 clusters <= 6 pre-treatment cells
    assert few.hotelling_pretest(over="event_time").df == (3, 3)  # 3 pre-period event times
    with pytest.raises(ValueError, match="over must be"):
        r.hotelling_pretest(over="leads")


def test_small_sample_bad_input(small_panel):
    with pytest.raises(ValueError, match="inference must be one of"):
        staggered_did(small_panel, **SMALL, inference="z")
    with pytest.raises(ValueError, match="cluster needs inference"):
        staggered_did(small_panel, **SMALL, cluster="district")
    jk = staggered_did(small_panel, **SMALL, inference="jackknife")
    with pytest.raises(ValueError, match="cannot be combined"):
        jk.aggregate("simple", bootstrap=True, reps=9)
    with pytest.raises(DiDInputError, match="cluster column 'nope' not found"):
        staggered_did(small_panel, **SMALL, inference="t", cluster="nope")


def test_small_sample_results_are_read_only(small_panel):
    res = staggered_did(small_panel, **SMALL, inference="jackknife")
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.inference = "normal"
    agg = res.aggregate("dynamic")
    assert not agg.vcov.flags.writeable
    with pytest.raises(ValueError):
        agg.vcov[0, 0] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        agg.vcov = None
    assert isinstance(res.pretest_small_sample, results_module.TestResult)
    with pytest.raises(AttributeError):
        res.pretest_small_sample = None
    assert agg.overall.tests["pretest_small_sample"] is res.pretest_small_sample
    with pytest.raises(TypeError):
        agg.overall.tests["x"] = None
    assert "jackknife" in agg.overall.cov_type and "jackknife" in str(res)


def test_small_sample_pretest_not_computable_is_a_status_not_the_chi2(small_panel):
    """Too few clusters for the pre-period estimates: a not_estimable test with reasons, never R did's chi2."""
    few = staggered_did(small_panel.assign(region=small_panel["school"] % 3), **SMALL, inference="t", cluster="region")
    t = few.pretest_small_sample
    assert few.hotelling_pretest(over="event_time") is None
    assert t.status == "not_estimable" and not t.computable
    assert np.isnan(t.p_value) and np.isnan(t.statistic) and t.distribution == "F"
    assert "3 independent units" in t.reason_en and "3 đơn vị" in t.reason_vi
    assert "not computable" in str(t)
    agg = few.aggregate("simple")
    assert agg.overall.tests["pretest_small_sample"] is t
    from evaluation.evidence.builders.estimates import _find_pretrend, _test_text
    assert _find_pretrend(agg) is t  # the evidence builders do not fall back to the chi2 pretest
    assert _test_text(t, "en") == t.reason_en and _test_text(t, "vi") == t.reason_vi


def test_multiplier_bootstrap_default_is_rademacher(small_panel):
    """Default draws are Rademacher (R did's mboot); Mammen is an option with a different draw sequence."""
    res = staggered_did(small_panel, **SMALL)
    a = res.aggregate("simple", bootstrap=True, reps=199, seed=3)
    r = res.aggregate("simple", bootstrap=True, reps=199, seed=3, multiplier="rademacher")
    m = res.aggregate("simple", bootstrap=True, reps=199, seed=3, multiplier="mammen")
    assert a.bootstrap["multiplier"] == "rademacher"
    assert float(a.std_errors["ATT"]) == float(r.std_errors["ATT"])
    assert float(m.std_errors["ATT"]) != float(a.std_errors["ATT"])
    # both are consistent for the analytic standard error (within 20 % with 199 draws)
    se = float(res.aggregate("simple").std_errors["ATT"])
    for x in (a, m):
        assert float(x.std_errors["ATT"]) == pytest.approx(se, rel=0.2)
