"""Trend estimator: analytic delta method, the reference software's fit, planted trends."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from numpy.testing import assert_allclose
from scipy.special import expit

from evaluation.results import EstimateResults
from evaluation.trends import (PROJECTION_COLUMNS, TREND_COLUMNS, TREND_EXTRA, TrendResults, ame_and_gradient,
                               annual_series, annual_trend, fit_trend, random_year_trend, trend_by_group,
                               twoway_cluster_trend)

YEARS = np.arange(2018, 2026)


def simulate(*, n_schools=40, a=-1.0, b=0.08, c=-0.3, sigma_u=0.0, size=(60, 140), seed=1, level="THCS"):
    """School-year counts with logit(p) = a + u_school + b (year - 2018) + c dip(2020, 2021)."""
    rng = np.random.default_rng(seed)
    school = np.repeat(np.arange(n_schools), len(YEARS))
    year = np.tile(YEARS, n_schools)
    u = rng.normal(0, sigma_u, n_schools)[school] if sigma_u > 0 else 0.0
    dip = np.isin(year, (2020, 2021)).astype(float)
    p = expit(a + u + b * (year - 2018) + c * dip)
    n = rng.integers(size[0], size[1], len(year))
    y = rng.binomial(n, p)
    return pd.DataFrame({"school_id": [f"S{s:03d}" for s in school], "level": level, "year": year.astype("int64"),
                         "graduates": n.astype("int64"), "vocational": y.astype("int64")})


def true_ame(panel, *, a, b, c, sigma_u=0.0):
    """The DGP's graduate-weighted AME of the year on the population-averaged (marginal) rate.

    With school effects u ~ N(0, sigma_u^2) the marginal rate is E_u expit(a + u + b t + c dip);
    its derivative in t, E_u[b p(1-p)], is computed by Gauss-Hermite integration."""
    t = panel["year"].to_numpy() - 2018.0
    dip = panel["year"].isin((2020, 2021)).to_numpy().astype(float)
    x, wq = np.polynomial.hermite_e.hermegauss(60)
    wq = wq / wq.sum()
    eta = a + b * t + c * dip
    p = expit(eta[:, None] + sigma_u * x[None, :])
    deriv = (b * p * (1 - p)) @ wq
    n = panel["graduates"].to_numpy(dtype=float)
    return float(np.sum(n * deriv) / n.sum())


def test_analytic_gradient_matches_numerical():
    rng = np.random.default_rng(3)
    X = np.column_stack([np.ones(50), rng.normal(size=50), rng.integers(0, 2, 50)])
    w = rng.integers(10, 100, 50).astype(float)
    b = np.array([-0.4, 0.3, -0.2])
    ame, grad = ame_and_gradient(b, X, w, col=1)
    h = 1e-6
    num = np.array([(ame_and_gradient(b + h * e, X, w, 1)[0] - ame_and_gradient(b - h * e, X, w, 1)[0]) / (2 * h)
                    for e in np.eye(3)])
    assert_allclose(grad, num, rtol=1e-7, atol=1e-10)
    p = expit(X @ b)
    assert_allclose(ame, np.sum(w * 0.3 * p * (1 - p)) / w.sum(), rtol=1e-14)


def test_glm_matches_student_level_logit_with_clusters():
    """Same MLE as a logit on the expanded 0/1 student records; cluster SEs equal up to the
    (N-1)/(N-K) factor, which counts school-years in one fit and students in the other."""
    p = simulate(n_schools=12, size=(20, 40), seed=5, b=0.1)
    res = fit_trend(p)
    glm = res.model["glm_binomial"]
    rows = p.loc[p.index.repeat(p["graduates"])].reset_index(drop=True)
    ones = np.concatenate([np.r_[np.ones(k), np.zeros(n - k)] for k, n in zip(p["vocational"], p["graduates"])])
    X = pd.DataFrame({"const": 1.0, "year": rows["year"] - 2018.0, "dip": rows["year"].isin((2020, 2021)).astype(float)})
    logit = sm.Logit(ones, X).fit(disp=0, cov_type="cluster", cov_kwds={"groups": pd.factorize(rows["school_id"])[0]})
    assert_allclose(np.asarray(glm.params), np.asarray(logit.params), rtol=1e-6)
    n_sy, n_st, k = len(p), len(rows), 3
    factor = np.sqrt(((n_sy - 1) / (n_sy - k)) / ((n_st - 1) / (n_st - k)))
    assert_allclose(np.asarray(glm.bse), np.asarray(logit.bse) * factor, rtol=1e-5)
    # the reported AME equals statsmodels' own average marginal effect when every cell has one student
    single = p.assign(graduates=1, vocational=(p["vocational"] > p["graduates"] / 3).astype("int64"))
    r1 = fit_trend(single)
    lg = sm.Logit(single["vocational"].to_numpy(), pd.DataFrame({
        "const": 1.0, "year": single["year"] - 2018.0, "dip": single["year"].isin((2020, 2021)).astype(float)})).fit(
        disp=0, cov_type="cluster", cov_kwds={"groups": pd.factorize(single["school_id"])[0]})
    me = lg.get_margeff(at="overall", method="dydx")
    n = len(single)
    assert_allclose(r1.params["glm_binomial"], me.margeff[0], rtol=1e-6)
    # statsmodels applies the correction for n rows in both fits: same AME standard error
    assert_allclose(r1.std_errors["glm_binomial"], me.margeff_se[0], rtol=1e-5)
    assert n > 0


def test_recovers_planted_trend_and_dip():
    a, b, c = -1.0, 0.08, -0.3
    p = simulate(n_schools=60, size=(400, 600), seed=11, a=a, b=b, c=c)
    res = fit_trend(p)
    truth = true_ame(p, a=a, b=b, c=c)
    est, se = res.params["glm_binomial"], res.std_errors["glm_binomial"]
    assert abs(est - truth) < 3 * se and se < 0.001
    assert abs(res.params["lpm"] - truth) < 0.002  # the linear model is close on this range
    assert_allclose(res.model["glm_binomial"].params, [a, b, c], atol=0.03)
    assert res.info["n_obs"] == len(p) and res.info["n_clusters"] == 60 and res.info["dip_in_model"]
    assert res.df == 59 and isinstance(res, EstimateResults)
    tf = res.trend_frame()
    assert tuple(tf.columns) == (*TREND_COLUMNS, *TREND_EXTRA)
    assert list(tf["model"]) == ["annual_ols", "glm_binomial", "lpm"]
    assert tf["recommended"].tolist() == [True, False, False]
    assert_allclose(tf["estimate_pp_per_year"].iloc[1], 100 * est)
    assert (tf["ci_low"] < tf["estimate_pp_per_year"]).all() and (tf["level"] == "THCS").all()
    assert res.info["dip_ame_pp"] < 0
    with pytest.raises((TypeError, ValueError, AttributeError)):
        res.params.iloc[0] = 1.0
    assert "glm_binomial" in str(res.summary) and "<table" in res._repr_html_()


def test_projection_delta_method_and_truth():
    a, b, c = -1.0, 0.08, -0.3
    p = simulate(n_schools=60, size=(400, 600), seed=12, a=a, b=b, c=c)
    res = fit_trend(p)
    proj = res.project([2025, 2030], model="glm_binomial")
    assert tuple(proj.columns) == (*PROJECTION_COLUMNS, "interval") and (proj["interval"] == "confidence").all()
    assert (proj["ci_low"] < proj["estimate"]).all() and (proj["estimate"] < proj["ci_high"]).all()
    # interval widens away from the data
    assert (proj["ci_high"] - proj["ci_low"]).iloc[1] > (proj["ci_high"] - proj["ci_low"]).iloc[0]
    for yr, row in zip((2025, 2030), proj.itertuples()):
        true_rate = expit(a + b * (yr - 2018))
        assert row.ci_low < true_rate < row.ci_high
    # by hand: the logit-scale delta method
    g = res.model["glm_binomial"]
    x = np.array([1.0, 2030 - 2018, 0.0])
    se = np.sqrt(x @ np.asarray(g.cov_params()) @ x)
    assert_allclose(proj["se_logit"].iloc[1], se, rtol=1e-12)
    assert_allclose(proj["estimate"].iloc[1], expit(x @ np.asarray(g.params)), rtol=1e-12)
    assert res.project([2021], dip=True)["estimate"].iloc[0] < res.project([2021])["estimate"].iloc[0]
    for m in ("annual_ols", "glm_binomial"):
        assert (res.project([2021], dip=True, model=m)["estimate"].iloc[0]
                < res.project([2021], model=m)["estimate"].iloc[0])
    with pytest.raises(ValueError, match="expected 'annual_ols'"):
        res.project([2030], model="lpm")


def test_trend_by_group_and_start_year_and_errors():
    thcs = simulate(seed=21, b=0.10, n_schools=30, size=(300, 400))
    thpt = simulate(seed=22, b=-0.05, n_schools=30, size=(300, 400), level="THPT")
    both = pd.concat([thcs, thpt], ignore_index=True)
    t = trend_by_group(both, by="level").set_index(["level", "model"])
    assert t.loc[("THCS", "glm_binomial"), "estimate_pp_per_year"] > 0 > t.loc[("THPT", "glm_binomial"), "estimate_pp_per_year"]
    assert_allclose(t.loc[("THCS", "glm_binomial"), "estimate_pp_per_year"],
                    100 * true_ame(thcs, a=-1.0, b=0.10, c=-0.3), atol=0.4)
    # a group with one school cannot be fitted: NaN and the reason
    odd = both.assign(grp=np.where(both["school_id"] == "S000", "one", "many"))
    g = trend_by_group(odd[odd["level"] == "THCS"], by="grp").set_index(["grp", "model"])
    assert np.isnan(g.loc[("one", "glm_binomial"), "estimate_pp_per_year"]) and "single cluster" in g.loc[("one", "lpm"), "note"]
    assert g.loc[("one", "annual_ols"), "recommended"] and g.loc[("one", "annual_ols"), "status"] == "not_estimable"
    assert g.groupby(level="grp")["recommended"].sum().tolist() == [1, 1]  # exactly one recommended row per group
    assert g.loc[("many", "lpm"), "level"] == "THCS"
    # start_year drops earlier years; the dip leaves the model when no year falls in it
    late = fit_trend(thcs, start_year=2022)
    assert late.info["n_obs"] == 30 * 4 and not late.info["dip_in_model"] and late.info["years"] == "2022-2025"
    assert late.project([2030])["dip"].iloc[0] == np.False_
    assert late.project([2030], model="glm_binomial")["dip"].iloc[0] == np.False_
    with pytest.raises(ValueError, match="no column"):
        fit_trend(thcs, successes="nope")
    with pytest.raises(ValueError, match="single value"):
        fit_trend(thcs[thcs["year"] == 2020])
    with pytest.raises(ValueError, match="vocational"):
        fit_trend(thcs.assign(vocational=thcs["graduates"] + 1))


def test_coverage_monte_carlo_with_school_effects():
    """200 districts of 35 schools with school effects: the interval covers the population-averaged
    AME (by Gauss-Hermite integration) about 95 % of the time."""
    a, b, c, s = -1.2, 0.06, -0.25, 0.5
    hits = []
    for rep in range(200):
        p = simulate(n_schools=35, a=a, b=b, c=c, sigma_u=s, seed=1000 + rep)
        res = fit_trend(p)
        lo, hi = res.conf_int().loc["glm_binomial"]
        hits.append(lo <= true_ame(p, a=a, b=b, c=c, sigma_u=s) <= hi)
    assert 0.90 <= np.mean(hits) <= 0.99


@pytest.mark.parametrize("level", ["THCS", "THPT"])
def test_trend_on_sample_covers_truth(request, level):
    """truth.json levels.<level>.measured: the district trend (pp/year) as measured with
    ``unknown`` in the denominator, and among known destinations."""
    from evaluation.panel import school_year_panel

    cohort = request.getfixturevalue("sample_cohort")
    truth = json.loads((cohort.folder / "truth.json").read_text(encoding="utf-8"))["levels"][level]["measured"]
    for unknown_in, key in ((True, "district_trend_pp_per_year"),
                            (False, "district_trend_pp_per_year_unknown_excluded")):
        res = fit_trend(school_year_panel(cohort, level=level, unknown_in_denominator=unknown_in))
        tf = res.trend_frame().set_index("model")
        for model in ("annual_ols", "glm_binomial", "lpm"):
            row = tf.loc[model]
            assert row["ci_low"] <= truth[key] <= row["ci_high"], (level, model, key, row.to_dict())
        assert res.info["level"] == level


def test_annual_trend_is_ols_on_annual_rates_with_t_intervals():
    """The recommended row: statsmodels OLS on the 8 pooled annual rates, t(T - 3) (dip in the model)."""
    p = simulate(n_schools=12, seed=31, b=0.05)
    a = annual_series(p)
    assert len(a) == 8 and a["trials"].sum() == p["graduates"].sum()
    X = sm.add_constant(pd.DataFrame({"t": a["year"] - 2018.0, "dip": a["year"].isin((2020, 2021)).astype(float)}))
    ols = sm.OLS(a["rate"], X).fit()
    an = annual_trend(p)
    assert an.df == 5 and an.dip_in_model
    assert_allclose([an.slope, an.se], [ols.params["t"], ols.bse["t"]], rtol=1e-10)
    assert_allclose(an.conf_int(), ols.conf_int().loc["t"].to_numpy(), rtol=1e-10)
    assert_allclose(an.p_value(), ols.pvalues["t"], rtol=1e-8)
    # prediction interval = statsmodels' obs interval (new year's noise included)
    pr = an.predict([2030])
    sf = ols.get_prediction(np.array([[1.0, 12.0, 0.0]])).summary_frame(alpha=0.05)
    assert_allclose(pr["estimate"].iloc[0], sf["mean"].iloc[0], rtol=1e-10)
    assert_allclose([pr["ci_low"].iloc[0], pr["ci_high"].iloc[0]],
                    np.clip([sf["obs_ci_lower"].iloc[0], sf["obs_ci_upper"].iloc[0]], 0, 1), rtol=1e-10)
    res = fit_trend(p)
    pj = res.project([2030])
    assert pj["interval"].iloc[0] == "prediction" and np.isnan(pj["se_logit"].iloc[0])
    assert_allclose(pj["ci_low"].iloc[0], pr["ci_low"].iloc[0])
    # two years: not estimable, with reasons, still one recommended row
    two = fit_trend(p[p["year"] >= 2024]).trend_frame()
    r = two.set_index("model").loc["annual_ols"]
    assert r["recommended"] and r["status"] == "not_estimable" and np.isnan(r["ci_low"])
    assert "3 years" in r["reason_en"] and "3 năm" in r["reason_vi"]
    # four years with a dip year: the dip leaves the annual model (2 residual df kept)
    assert not annual_trend(p[p["year"] >= 2019]).dip_in_model or annual_trend(p[p["year"] >= 2019]).df >= 2


def _shocked(seed, *, n_schools, sd_year, b=0.01):
    """Linear-rate panel with school effects, district-wide year shocks (sd_year) and binomial noise."""
    rng = np.random.default_rng(seed)
    school = np.repeat(np.arange(n_schools), len(YEARS))
    year = np.tile(YEARS, n_schools)
    u = rng.normal(0, sd_year, len(YEARS))[year - 2018]
    a = rng.normal(0.25, 0.05, n_schools)[school]
    p = np.clip(a + b * (year - 2018) - 0.02 * np.isin(year, (2020, 2021)) + u + rng.normal(0, 0.02, len(year)), 0, 1)
    n = rng.integers(60, 140, len(year))
    return pd.DataFrame({"school_id": school, "year": year, "graduates": n, "vocational": rng.binomial(n, p)})


def test_year_shocks_annual_interval_covers_where_school_clustering_fails():
    """With 2 pp district-wide year shocks and 28 schools, the school-clustered LPM interval misses the true
    slope far more often than 5 %; the annual regression's t(5) interval keeps about 95 % (120 districts:
    the bounds leave ~3 Monte Carlo s.e. of room). The candidates (b) and (c) run on the same data."""
    hit_a, hit_s = [], []
    for rep in range(120):
        p = _shocked(500 + rep, n_schools=28, sd_year=0.02)
        lo, hi = annual_trend(p).conf_int()
        hit_a.append(lo <= 0.01 <= hi)
        res = fit_trend(p)
        lo, hi = res.conf_int().loc["lpm"]
        hit_s.append(lo <= 0.01 <= hi)
    assert 0.88 <= np.mean(hit_a) <= 0.995
    assert np.mean(hit_s) < 0.8
    b, se, df = twoway_cluster_trend(p)
    assert df == 7 and se > 0 and abs(b - res.params["lpm"]) < 1e-12
    b2, se2, _ = random_year_trend(p)
    assert se2 > 0 and abs(b2 - 0.01) < 0.03
