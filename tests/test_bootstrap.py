"""Wild cluster bootstrap: agreement with the analytic t, with ``wildboottest`` under full enumeration,
with the analytic p-value when clusters are many, interval/test duality, and (slow) uniform p-values
under the null with 12 clusters."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from evaluation.effects import BootstrapResult, twfe, wild_cluster_bootstrap
from evaluation.effects.bootstrap import draw_weights


def simulate(*, schools=35, seed=1, effect=0.03, grads=(50, 300), cohorts=(0, 2020, 2021, 2022), school_sd=0.05,
             shock_sd=0.02):
    """Panel with school-level serially correlated shocks (so that clustering matters)."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(schools):
        g = int(rng.choice(cohorts))
        a = rng.normal(0, school_sd)
        ar = 0.0
        for t in range(2018, 2026):
            ar = 0.6 * ar + rng.normal(0, shock_sd)
            n = int(rng.integers(*grads))
            d = int(g > 0 and t >= g)
            p = float(np.clip(0.25 + a + 0.01 * (t - 2018) + effect * d + ar, 0.01, 0.99))
            v = int(rng.binomial(n, p))
            rows.append(dict(school_id=f"S{s:03d}", year=t, graduates=n, vocational=v, rate=v / n, treated=d,
                             first_covered=g))
    return pd.DataFrame(rows)


def test_observed_t_and_analytic_inference_equal_twfe():
    df = simulate(seed=2)
    res = twfe(df)
    b = wild_cluster_bootstrap(df, regressors=["treated"], reps=199, seed=1)
    assert_allclose(b.estimate, res.params["treated"], rtol=1e-10)
    assert_allclose(b.std_error, res.std_errors["treated"], rtol=1e-10)
    assert_allclose(b.t_stat, res.tvalues["treated"], rtol=1e-10)
    assert_allclose(b.analytic_p_value, res.pvalues["treated"], rtol=1e-8)
    ci = res.conf_int().loc["treated"]
    assert_allclose([b.analytic_ci_low, b.analytic_ci_high], ci.to_numpy(), rtol=1e-10)


@pytest.mark.parametrize("impose_null", [True, False])
def test_matches_wildboottest_under_full_enumeration(impose_null):
    """G = 8 clusters and 999 > 2**8 reps: both enumerate all 256 sign vectors -> identical p-values.

    wildboottest takes a statsmodels OLS; the weighted FE model is passed as OLS on sqrt(weight)-scaled
    data with school and year dummies. Its t uses K = all columns, ours K = k + T: t differs by
    exactly sqrt((N-K_ours)/(N-K_theirs)).
    """
    wbt = pytest.importorskip("wildboottest.wildboottest")
    sm = pytest.importorskip("statsmodels.api")
    df = simulate(schools=8, seed=4, effect=0.02)
    ours = wild_cluster_bootstrap(df, regressors=["treated"], reps=999, impose_null=impose_null)
    assert ours.enumerated and ours.reps == 256
    dummies = pd.get_dummies(df[["school_id"]].assign(year=df.year.astype(str)), drop_first=True, dtype=float)
    X = sm.add_constant(pd.concat([df[["treated"]], dummies], axis=1))
    sw = np.sqrt(df.graduates.to_numpy(dtype=float))
    model = sm.OLS(df.rate.to_numpy() * sw, X.mul(sw, axis=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = wbt.wildboottest(model, param="treated", cluster=pd.factorize(df.school_id)[0], B=999, seed=1,
                               impose_null=impose_null, show=False, parallel=False)
    N, K_theirs, K_ours = len(df), X.shape[1], 1 + df.year.nunique()
    assert_allclose(ours.t_stat, ref["statistic"].iloc[0] * np.sqrt((N - K_ours) / (N - K_theirs)), rtol=1e-9)
    # same exceedances; the two sign vectors v = +-1 reproduce the observed t exactly under WCR (a tie):
    # we count ties, wildboottest's strict float comparison counts them or not depending on rounding
    tb, t = np.abs(ours.t_boot), abs(ours.t_stat)
    strict = np.mean(tb > t * (1 + 1e-9))
    ties = np.mean(np.abs(tb - t) <= 1e-9 * t)
    assert ours.p_value == pytest.approx(strict + ties, abs=1e-12)
    assert ties == (2 / 256 if impose_null else 0)
    assert ref["p-value"].iloc[0] in (pytest.approx(strict, abs=1e-12), pytest.approx(strict + ties, abs=1e-12))


def test_agrees_with_analytic_inference_when_clusters_are_many():
    df = simulate(schools=400, seed=5, effect=0.01, grads=(100, 200))
    b = wild_cluster_bootstrap(df, regressors=["treated"], reps=999, seed=11)
    assert abs(b.p_value - b.analytic_p_value) < 0.04
    width, awidth = b.ci_high - b.ci_low, b.analytic_ci_high - b.analytic_ci_low
    assert abs(width / awidth - 1) < 0.1
    assert abs((b.ci_low + b.ci_high) / 2 - b.estimate) < 0.1 * awidth


def test_interval_is_the_inverted_test():
    """At each bound the WCR p-value (same draws) crosses 1 - level; inside it is above, outside below."""
    df = simulate(seed=6)
    b = wild_cluster_bootstrap(df, regressors=["treated"], reps=399, seed=3)
    eps = 1e-6 * (b.ci_high - b.ci_low)
    for bound, inward in ((b.ci_low, +1), (b.ci_high, -1)):
        inside = wild_cluster_bootstrap(df, regressors=["treated"], reps=399, seed=3, null=bound + inward * eps)
        outside = wild_cluster_bootstrap(df, regressors=["treated"], reps=399, seed=3, null=bound - inward * eps)
        assert inside.p_value >= 0.05 > outside.p_value
    assert b.ci_low < b.estimate < b.ci_high


def test_wcu_interval_is_symmetric_percentile_t():
    df = simulate(seed=7)
    b = wild_cluster_bootstrap(df, regressors=["treated"], reps=499, seed=2, impose_null=False)
    q = np.quantile(np.abs(b.t_boot), 0.95)
    assert_allclose([b.ci_low, b.ci_high], [b.estimate - q * b.std_error, b.estimate + q * b.std_error])
    assert b.ci_method == "WCU symmetric percentile-t"


def test_seeded_and_reproducible_and_weights():
    df = simulate(seed=8, schools=20)
    a = wild_cluster_bootstrap(df, regressors=["treated"], reps=299, seed=42, weights_type="webb")
    b = wild_cluster_bootstrap(df, regressors=["treated"], reps=299, seed=42, weights_type="webb")
    c = wild_cluster_bootstrap(df, regressors=["treated"], reps=299, seed=43, weights_type="webb")
    assert np.array_equal(a.t_boot, b.t_boot) and a.ci_low == b.ci_low
    assert not np.array_equal(a.t_boot, c.t_boot)
    w = draw_weights("webb", 2000, 50, np.random.default_rng(0))
    assert set(np.round(np.unique(w) ** 2, 12)) == {0.5, 1.0, 1.5}
    assert abs(w.mean()) < 0.02 and abs(w.var() - 1) < 0.02
    r = draw_weights("rademacher", 2000, 50, np.random.default_rng(0))
    assert set(np.unique(r)) == {-1.0, 1.0}
    with pytest.raises(ValueError, match="weights_type"):
        wild_cluster_bootstrap(df, regressors=["treated"], weights_type="mammen")
    with pytest.raises(ValueError, match="param"):
        wild_cluster_bootstrap(df, regressors=["treated"], param="other")


def test_event_study_lead_lag_regressors_and_result_object():
    from evaluation.effects import event_study

    df = simulate(seed=9)
    es = event_study(df, window=(-2, 2))
    term = "event_time=0"
    b = wild_cluster_bootstrap(es.model.frame, outcome="rate", regressors=list(es.params.index), param=term,
                               reps=199, seed=5)
    assert isinstance(b, BootstrapResult)
    assert_allclose(b.t_stat, es.tvalues[term], rtol=1e-9)
    text = str(b)
    assert "WCR" in text and "bootstrap p" in text and "<pre>" in b._repr_html_()
    assert b.to_dict()["param"] == term and "t_boot" not in b.to_dict()
    fr = b.to_frame(pp=True)
    assert_allclose(fr["estimate_pp"], b.estimate * 100)
    assert b.n_clusters == df.school_id.nunique() and b.n_obs == len(df)
    assert b.level == 0.95 and b.seed == 5 and b.weights_type == "rademacher" and b.impose_null
    with pytest.raises(ValueError):
        b.t_boot[0] = 1.0
    with pytest.raises(Exception):
        b.p_value = 0.5


@pytest.mark.slow
def test_null_p_values_are_uniform_with_12_clusters():
    """Monte Carlo: 300 districts of 12 schools with no effect; WCR p-values ~ U(0,1), rejection at 5 %
    within Monte Carlo error, while the analytic t(G-1) test is reported alongside."""
    p_boot, p_an = [], []
    for r in range(300):
        df = simulate(schools=12, seed=1000 + r, effect=0.0, cohorts=(0, 2020, 2022), shock_sd=0.03)
        b = wild_cluster_bootstrap(df, regressors=["treated"], reps=399, seed=r, weights_type="webb")
        p_boot.append(b.p_value)
        p_an.append(b.analytic_p_value)
    p_boot = np.array(p_boot)
    assert stats.kstest(p_boot, "uniform").pvalue > 0.01
    assert 0.02 <= np.mean(p_boot < 0.05) <= 0.09
    print(f"rejection at 5%: bootstrap {np.mean(p_boot < 0.05):.3f}, analytic {np.mean(np.array(p_an) < 0.05):.3f}")
