"""Two-way fixed-effects estimators: pyfixest/statsmodels references, planted effects, closed forms.

References used here:
* pyfixest ``feols(..., weights=, vcov={"CRV1": ...})`` on the same data (dev dependency) for the
  weighted LPM point estimates and clustered standard errors (1e-8), both small-sample conventions;
* statsmodels ``GLM(Binomial)`` on a dummy design (exact MLE) for the logit coefficient and its
  clustered error, rescaled from statsmodels' K (all dummies) to ours;
* simulated panels with planted effects (ATT, logit AME computed from the DGP, dose slope, group gap).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import special, stats

from evaluation.effects import TwfeResults, dose_response, heterogeneity, twfe
from evaluation.effects.twfe import ESTIMAND_TWFE, small_sample_factor
from evaluation import results as results_mod
from evaluation.results import TIDY_COLUMNS, TIDY_COLUMNS_PP

import pyfixest as pf  # a dev dependency (pyproject [dev]): the reference the estimators are held to
from pyfixest.demeaners import MapDemeaner  # noqa: E402

#: pyfixest demeaned to 1e-13 so that its own tolerance does not limit the comparison
TIGHT = MapDemeaner(fixef_tol=1e-13)


def simulate_panel(*, schools=35, years=range(2018, 2026), effect=0.05, seed=1, missing=0.0,
                   cohorts=(0, 2019, 2020, 2021, 2022), trend=0.01, grads=(40, 300), logit=False):
    """School x year panel in the analysis-panel layout with a planted homogeneous effect.

    Linear DGP: p = 0.2 + a_school + trend*(year-2018) + effect*treated. Logit DGP: logit(p) =
    -1.2 + a_school + 0.05*(year-2018) + effect*treated (then ``effect`` is on the log-odds scale).
    """
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(schools):
        g = int(rng.choice(cohorts))
        a = rng.normal(0, 0.05 if not logit else 0.4)
        dose_level = rng.uniform(0.5, 3.0)
        for t in years:
            if missing and rng.random() < missing:
                continue
            n = int(rng.integers(*grads))
            d = int(g > 0 and t >= g)
            if logit:
                p = special.expit(-1.2 + a + 0.05 * (t - 2018) + effect * d)
            else:
                p = float(np.clip(0.2 + a + trend * (t - 2018) + effect * d, 0.01, 0.99))
            v = int(rng.binomial(n, p))
            rows.append(dict(school_id=f"S{s:04d}", year=t, graduates=n, vocational=v, rate=v / n, treated=d,
                             first_covered=g, counselors_per_100=dose_level * d, x=rng.normal(),
                             ethnic_boarding=bool(s % 3 == 0)))
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def panel():
    df = simulate_panel(missing=0.1, seed=7)
    # one singleton school (a single year): dropped by twfe and by pyfixest's default alike
    extra = df.iloc[[0]].assign(school_id="SINGLE", year=2021)
    return pd.concat([df, extra], ignore_index=True)


# ---------------------------------------------------------------------------------- LPM
@pytest.mark.parametrize("convention,k_fixef", [("nested", "nonnested"), ("none", "none")])
def test_lpm_matches_pyfixest_point_and_clustered_se(panel, convention, k_fixef):
    res = twfe(panel, covariates=["x"], ssc_fixef_k=convention)
    ref = pf.feols("rate ~ treated + x | school_id + year", data=panel, weights="graduates",
                   vcov={"CRV1": "school_id"}, ssc=pf.ssc(k_fixef=k_fixef), demeaner=TIGHT)
    assert_allclose(res.params.to_numpy(), ref.coef().to_numpy(), rtol=0, atol=1e-8)
    assert_allclose(res.std_errors.to_numpy(), ref.se().to_numpy(), rtol=0, atol=1e-8)
    assert_allclose(res.pvalues.to_numpy(), ref.pvalue().to_numpy(), rtol=0, atol=1e-8)
    assert_allclose(res.conf_int().to_numpy(), ref.confint().to_numpy(), rtol=0, atol=1e-8)
    assert res.info["n_obs"] == ref._N
    assert res.info["dropped_rows"].endswith("singletons=1")


def test_lpm_cluster_coarser_than_unit_matches_pyfixest():
    df = simulate_panel(schools=60, seed=3)
    df["commune"] = "C" + (df["school_id"].str[1:].astype(int) // 4).astype(str)
    res = twfe(df, cluster="commune")
    ref = pf.feols("rate ~ treated | school_id + year", data=df, weights="graduates", vcov={"CRV1": "commune"}, demeaner=TIGHT)
    assert_allclose(res.std_errors.to_numpy(), ref.se().to_numpy(), rtol=0, atol=1e-8)
    assert res.info["n_clusters"] == 15 and res.df == 14


def test_small_sample_factor_closed_form():
    # 3 schools x 4 years, clustered by school: school effects nested -> K = k + T = 1 + 4
    unit = np.repeat(np.arange(3), 4)
    year = np.tile(np.arange(4), 3)
    f, K = small_sample_factor(n_obs=12, k=1, fe_codes=[unit, year], cluster_codes=unit)
    assert K == 5
    assert_allclose(f, 3 / 2 * 11 / 7, rtol=1e-15)
    f0, K0 = small_sample_factor(n_obs=12, k=1, fe_codes=[unit, year], cluster_codes=unit, convention="none")
    assert K0 == 1 and np.isclose(f0, 3 / 2 * 11 / 11)
    # clusters by year: years nested, schools not -> K = 1 + 3 + 4 - 1 - 4 + 1 = 4
    assert small_sample_factor(n_obs=12, k=1, fe_codes=[unit, year], cluster_codes=year)[1] == 4
    with pytest.raises(ValueError, match="ssc_fixef_k"):
        small_sample_factor(n_obs=12, k=1, fe_codes=[unit], cluster_codes=unit, convention="full")


def test_dummy_design_count_inflates_errors_by_the_documented_amount(panel):
    """statsmodels on a dummy design counts every dummy in K; ours does not (the issue's 7-8 %)."""
    res = twfe(panel)
    n, G, T = res.info["n_obs"], res.info["n_clusters"], res.info["n_periods"]
    K_dummy = 1 + (G - 1) + (T - 1) + 1
    ratio = np.sqrt((n - 1) / (n - K_dummy) / ((n - 1) / (n - (1 + T))))
    assert 1.05 < ratio < 1.10


def test_lpm_recovers_planted_effect():
    df = simulate_panel(schools=400, effect=0.05, seed=11, grads=(200, 400))
    res = twfe(df)
    assert abs(res.params["treated"] - 0.05) < 3 * res.std_errors["treated"]
    assert abs(res.params["treated"] - 0.05) < 0.01
    lo, hi = res.conf_int().loc["treated"]
    assert_allclose(hi - lo, 2 * stats.t(399).ppf(0.975) * res.std_errors["treated"], rtol=1e-12)


def test_balanced_panel_absorbs_in_two_sweeps_and_single_cohort_equals_2x2_did():
    df = simulate_panel(schools=40, cohorts=(0, 2021), seed=5)
    res = twfe(df, weights=None)
    assert res.info["fe_sweeps"] <= 2
    # closed form: with one adoption date, a balanced panel and no weights TWFE = 2x2 DiD of means
    m = df.assign(post=df.year >= 2021, tr=df.first_covered > 0).groupby(["tr", "post"])["rate"].mean()
    did = (m[True, True] - m[True, False]) - (m[False, True] - m[False, False])
    assert_allclose(res.params["treated"], did, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------------- logit
def test_logit_matches_statsmodels_dummy_glm():
    sm = pytest.importorskip("statsmodels.api")
    df = simulate_panel(schools=25, seed=2, logit=True, effect=0.3, missing=0.05)
    res = twfe(df, model="logit")
    dummies = pd.get_dummies(df[["school_id"]].assign(year=df.year.astype(str)), drop_first=True, dtype=float)
    X = sm.add_constant(pd.concat([df[["treated"]], dummies], axis=1))
    endog = np.column_stack([df.vocational, df.graduates - df.vocational])
    fit = sm.GLM(endog, X, family=sm.families.Binomial()).fit(
        tol=1e-14, cov_type="cluster", cov_kwds={"groups": pd.factorize(df.school_id)[0], "use_correction": True,
                                                 "df_correction": True})
    n, K_sm, K = len(df), X.shape[1], 1 + df.year.nunique()
    assert_allclose(res.info["coef_logodds"], fit.params["treated"], rtol=0, atol=1e-8)
    assert_allclose(res.info["se_logodds"], fit.bse["treated"] * np.sqrt((n - K_sm) / (n - K)), rtol=1e-8)
    # AME at the MLE: trials-weighted mean of the discrete change, from statsmodels' own fitted index
    eta = X.to_numpy() @ fit.params.to_numpy()
    b, d, w = fit.params["treated"], df.treated.to_numpy(), df.graduates.to_numpy()
    ame = np.sum(w * (special.expit(eta + b * (1 - d)) - special.expit(eta - b * d))) / w.sum()
    assert_allclose(res.params["treated"], ame, rtol=0, atol=1e-10)


def test_logit_ame_recovers_planted_effect_and_delta_se_is_sane():
    beta = 0.35
    df = simulate_panel(schools=300, seed=4, logit=True, effect=beta, grads=(200, 400))
    res = twfe(df, model="logit")
    # true AME from the DGP: rebuild each school's true index from the simulation's seeds is not
    # possible after the fact, so use the fitted index minus the estimated effect plus the true one
    eta_hat = res.model.extra["eta"]
    fr = res.model.frame
    d, w = fr["treated"].to_numpy(), fr["graduates"].to_numpy()
    eta0 = eta_hat - res.info["coef_logodds"] * d
    true_ame = np.sum(w * (special.expit(eta0 + beta) - special.expit(eta0))) / w.sum()
    assert abs(res.params["treated"] - true_ame) < 3 * res.std_errors["treated"]
    assert abs(res.info["coef_logodds"] - beta) < 3 * res.info["se_logodds"]
    # delta-method SE close to the log-odds SE times the average derivative
    lam = np.sum(w * special.expit(eta_hat) * (1 - special.expit(eta_hat))) / w.sum()
    assert 0.7 < res.std_errors["treated"] / (lam * res.info["se_logodds"]) < 1.3


def test_logit_ame_against_known_dgp_ame():
    """AME planted in the DGP: the index is known exactly, so the true AME is a closed form."""
    rng = np.random.default_rng(21)
    S, years, beta = 200, np.arange(2018, 2026), 0.4
    a = rng.normal(-1.0, 0.5, S)
    gam = np.linspace(0, 0.3, len(years))
    g = rng.choice([0, 2020, 2022], S)
    rows = []
    for s in range(S):
        for j, t in enumerate(years):
            n = int(rng.integers(300, 600))
            d = int(g[s] > 0 and t >= g[s])
            eta0 = a[s] + gam[j]
            v = rng.binomial(n, special.expit(eta0 + beta * d))
            rows.append((f"S{s}", t, n, v, v / n, d, eta0))
    df = pd.DataFrame(rows, columns=["school_id", "year", "graduates", "vocational", "rate", "treated", "eta0"])
    true_ame = np.sum(df.graduates * (special.expit(df.eta0 + beta) - special.expit(df.eta0))) / df.graduates.sum()
    res = twfe(df, model="logit")
    assert abs(res.params["treated"] - true_ame) < 3 * res.std_errors["treated"]
    assert abs(res.params["treated"] - true_ame) < 0.01


def test_logit_drops_units_with_all_zero_outcomes():
    df = simulate_panel(schools=20, seed=8, logit=True, effect=0.2)
    df.loc[df.school_id == "S0003", ["vocational", "rate"]] = 0
    res = twfe(df, model="logit")
    assert "perfect_fit=" in res.info["dropped_rows"]
    assert res.info["n_units"] == 19
    with pytest.raises(ValueError, match="wild cluster bootstrap is implemented for the linear model"):
        res.wild_bootstrap(reps=9)


# ---------------------------------------------------------------------------------- dose
def test_dose_response_recovers_planted_slope_and_states_assumptions():
    rng = np.random.default_rng(9)
    df = simulate_panel(schools=300, seed=9, effect=0.0, grads=(200, 400))
    slope = 0.012
    p = np.clip(df["rate"] + slope * df["counselors_per_100"] + rng.normal(0, 0.002, len(df)), 0, 1)
    df["rate"] = p
    df.loc[df.sample(frac=0.05, random_state=1).index, "counselors_per_100"] = np.nan  # missing counseling rows
    res = dose_response(df)
    assert abs(res.params["counselors_per_100"] - slope) < 3 * res.std_errors["counselors_per_100"]
    assert "missing=" in res.info["dropped_rows"] and not res.info["dropped_rows"].startswith("missing=0")
    text = str(res)
    for word in ("linearity", "no anticipation", "strong parallel trends"):
        assert word in text


# ---------------------------------------------------------------------------------- heterogeneity
def test_heterogeneity_planted_difference_and_pyfixest_interaction_test():
    df = simulate_panel(schools=120, seed=12, effect=0.0, grads=(200, 400))
    boost = np.where(df.ethnic_boarding, 0.08, 0.02) * df.treated
    df["rate"] = np.clip(df["rate"] + boost, 0, 1)
    out = heterogeneity(df, by="ethnic_boarding")
    assert list(out.columns) == ["by", "group", "term", "estimate", "std_error", "ci_low", "ci_high", "p_value",
                                 "n_obs", "n_units", "n_clusters", "equal_effects_statistic", "equal_effects_p_value",
                                 "note"]
    est = out.set_index("group")["estimate"]
    assert abs(est[True] - 0.08) < 0.015 and abs(est[False] - 0.02) < 0.015
    test = out.attrs["equal_effects_test"]
    assert isinstance(test, results_mod.TestResult) and test.p_value < 0.001
    # the split estimates equal a separate twfe on each group (known answer)
    sub = twfe(df[df.ethnic_boarding])
    assert_allclose(est[True], sub.params["treated"], atol=1e-12)
    # the interaction F equals pyfixest's fully interacted model with its own CRV1 vcov
    d = df.assign(tA=df.treated * ~df.ethnic_boarding, tB=df.treated * df.ethnic_boarding,
                  fu=df.school_id + "_" + df.ethnic_boarding.astype(str),
                  ft=df.year.astype(str) + "_" + df.ethnic_boarding.astype(str))
    ref = pf.feols("rate ~ tA + tB | fu + ft", data=d, weights="graduates", vcov={"CRV1": "school_id"}, demeaner=TIGHT)
    b, V = ref.coef().to_numpy(), ref._vcov
    F = (b[1] - b[0]) ** 2 / (V[0, 0] + V[1, 1] - 2 * V[0, 1])
    assert_allclose(test.statistic, F, rtol=1e-7)
    assert test.df == (1, df.school_id.nunique() - 1)
    assert_allclose(out["equal_effects_p_value"], stats.f.sf(F, 1, df.school_id.nunique() - 1), rtol=1e-6)


def test_heterogeneity_equal_effects_not_rejected_when_equal():
    df = simulate_panel(schools=150, seed=13, effect=0.05, grads=(200, 400))
    out = heterogeneity(df, by="ethnic_boarding")
    assert out.attrs["equal_effects_test"].p_value > 0.01
    single = heterogeneity(df.assign(k=1), by="k")
    assert len(single) == 1 and single["note"].iloc[0] == "nothing to compare: every row has k = 1"
    assert np.isnan(single["estimate"].iloc[0]) and single.attrs["equal_effects_test"] is None
    # a group with a single school is reported as not estimable, without a test
    one = heterogeneity(df.assign(k=np.where(df.school_id == "S0001", "a", "b")), by="k").set_index("group")
    assert np.isnan(one.loc["a", "estimate"]) and one.loc["a", "note"].startswith("not estimable")
    assert np.isfinite(one.loc["b", "estimate"]) and np.isnan(one.loc["b", "equal_effects_p_value"])


# ---------------------------------------------------------------------------------- input errors
def test_bad_input_messages_name_column_row_and_value(panel):
    with pytest.raises(ValueError, match=r"column\(s\) \['nope'\] not in the data"):
        twfe(panel, treatment="nope")
    bad = panel.copy()
    bad.loc[5, "graduates"] = -3
    with pytest.raises(ValueError, match=r"'graduates'.*row 5 has value -3"):
        twfe(bad)
    bad = panel.astype({"rate": object})
    bad.loc[7, "rate"] = "n/a"
    with pytest.raises(ValueError, match=r"'rate' must be numeric; row 7 has value 'n/a'"):
        twfe(bad)
    with pytest.raises(ValueError, match="model must be"):
        twfe(panel, model="probit")
    with pytest.raises(ValueError, match="do not vary within units and years"):
        twfe(panel.assign(z=pd.factorize(panel.school_id)[0]), treatment="z")
    bad = panel.copy()
    bad.loc[3, "rate"] = 1.5
    with pytest.raises(ValueError, match="proportion in 0..1; row 3"):
        twfe(bad, model="logit")
    with pytest.raises(TypeError):
        twfe(panel, "rate")  # keyword-only


# ---------------------------------------------------------------------------------- results checker
@pytest.mark.parametrize("model", ["lpm", "logit"])
def test_results_object_every_public_attribute(panel, model):
    res = twfe(panel, model=model)
    assert isinstance(res, TwfeResults)
    assert res.estimator in ("twfe", "twfe_logit") and ESTIMAND_TWFE in res.estimand
    assert list(res.params.index) == ["treated"]
    assert res.std_errors.index.equals(res.params.index)
    assert res.df == res.info["n_clusters"] - 1
    assert_allclose(res.tvalues, res.params / res.std_errors)
    assert_allclose(res.pvalues, 2 * stats.t(res.df).sf(np.abs(res.tvalues)))
    ci = res.conf_int(0.9)
    assert list(ci.columns) == ["ci_low", "ci_high"] and (ci["ci_low"] < res.params).all()
    assert tuple(res.to_frame().columns) == TIDY_COLUMNS
    pp = res.to_frame(pp=True)
    assert tuple(pp.columns) == TIDY_COLUMNS_PP
    assert_allclose(pp["estimate_pp"], res.params * 100)
    for key in ("n_obs", "n_units", "n_clusters", "cov_type", "weights", "estimand", "ssc"):
        assert key in res.info
    assert res.info["weights"] == "graduates" and res.info["cov_type"] == "CRV1"
    assert res.cov_type.startswith("cluster-robust")
    assert res.vcov.shape == (1, 1)
    assert_allclose(np.sqrt(res.vcov.iloc[0, 0]), res.std_errors.iloc[0])
    wt = res.wald_test(["treated"])
    assert_allclose(wt.statistic, res.tvalues.iloc[0] ** 2, rtol=1e-10)
    assert_allclose(wt.p_value, res.pvalues.iloc[0], rtol=1e-8)
    assert res.notes and isinstance(res.tests, type(res.info))
    assert res.model.frame.shape[0] == res.info["n_obs"]
    text, page = str(res), res._repr_html_()
    assert "treated" in text and "n_clusters" in text
    assert "<table" in page and "treated" in page
    assert res.summary.as_html() == page
    with pytest.raises(Exception):
        res.params.iloc[0] = 1.0
    with pytest.raises(Exception):
        res.estimator = "x"
    with pytest.raises(TypeError):
        res.info["n_obs"] = 1
    if model == "lpm":
        wb = res.wild_bootstrap(reps=199, seed=3, pp=True)
        assert list(wb.columns) == ["term", "estimate_pp", "ci_low", "ci_high", "p_value", "analytic_ci_low",
                                    "analytic_ci_high", "analytic_p_value", "reps", "weights_type"]
        assert_allclose(wb["estimate_pp"], pp["estimate_pp"])
        assert_allclose(wb["analytic_ci_low"], pp["ci_low"])
