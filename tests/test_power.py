"""Power: the closed-form MDE, monotonicity, the t variant, and the ANOVA ICC."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from evaluation.power import estimate_icc, mde_table, minimum_detectable_effect


def closed_form(*, n_schools, cohort_size, icc, years=1, share_treated=0.5, alpha=0.05, power=0.8, baseline_rate=0.25):
    m = cohort_size * years
    deff = 1 + (m - 1) * icc
    n1, n0 = share_treated * n_schools * m, (1 - share_treated) * n_schools * m
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return z * np.sqrt(deff * baseline_rate * (1 - baseline_rate) * (1 / n1 + 1 / n0))


@pytest.mark.parametrize("kw", [
    dict(n_schools=35, cohort_size=150, icc=0.02, years=1),
    dict(n_schools=35, cohort_size=150, icc=0.02, years=4, share_treated=0.3, baseline_rate=0.3),
    dict(n_schools=13000, cohort_size=80, icc=0.05, years=2, alpha=0.01, power=0.9),
    dict(n_schools=10, cohort_size=30, icc=0.0, baseline_rate=0.1),
])
def test_mde_matches_closed_form(kw):
    out = minimum_detectable_effect(**kw)
    assert_allclose(out["mde"], closed_form(**kw), atol=1e-6, rtol=0)
    assert_allclose(out["mde_pp"], 100 * out["mde"])
    m = kw["cohort_size"] * kw.get("years", 1)
    assert_allclose(out["design_effect"], 1 + (m - 1) * kw["icc"])
    assert_allclose(out["effective_n"], kw["n_schools"] * m / out["design_effect"])


def test_mde_monotone():
    base = dict(n_schools=35, cohort_size=150, icc=0.03, years=2)
    f = lambda **kw: minimum_detectable_effect(**{**base, **kw})["mde"]  # noqa: E731
    assert f(n_schools=70) < f() < f(n_schools=20)
    assert f(cohort_size=300) < f() < f(cohort_size=50)
    assert f(icc=0.0) < f() < f(icc=0.1)
    assert f(power=0.7) < f() < f(power=0.9)
    assert f(alpha=0.10) < f() < f(alpha=0.01)
    assert f(share_treated=0.5) < f(share_treated=0.2)
    assert f(baseline_rate=0.5) > f(baseline_rate=0.1)
    # with a high ICC more students per school hardly help: the bound sigma * z * sqrt(icc * (1/k1 + 1/k0))
    big = minimum_detectable_effect(n_schools=35, cohort_size=1e6, icc=0.1)["mde"]
    assert_allclose(big, (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * np.sqrt(0.1 * 0.25 * 0.75 * 4 / 35), rtol=1e-4)


def test_t_variant_wider_with_few_schools_and_converges():
    few = dict(n_schools=8, cohort_size=300, icc=0.03)
    assert minimum_detectable_effect(**few, method="t")["mde"] > 1.1 * minimum_detectable_effect(**few)["mde"]
    many = dict(n_schools=4000, cohort_size=100, icc=0.03)
    assert_allclose(minimum_detectable_effect(**many, method="t")["mde"], minimum_detectable_effect(**many)["mde"], rtol=2e-3)
    # the t variant by hand: noncentral t with df = k - 2
    out = minimum_detectable_effect(**few, method="t")
    k1 = k0 = 4
    se = np.sqrt(0.25 * 0.75 * out["design_effect"] / 300 * (1 / k1 + 1 / k0))
    nc = out["mde"] / se
    crit = stats.t.ppf(0.975, 6)
    achieved = stats.nct.sf(crit, 6, nc) + stats.nct.cdf(-crit, 6, nc)
    assert_allclose(achieved, 0.8, atol=1e-6)


def test_mde_errors_and_table():
    with pytest.raises(ValueError, match="icc = 1.5"):
        minimum_detectable_effect(n_schools=30, cohort_size=100, icc=1.5)
    with pytest.raises(ValueError, match="share_treated"):
        minimum_detectable_effect(n_schools=30, cohort_size=100, icc=0.1, share_treated=1.0)
    with pytest.raises(ValueError, match="method"):
        minimum_detectable_effect(n_schools=30, cohort_size=100, icc=0.1, method="exact")
    t = mde_table(n_schools=[20, 35, 70], cohort_size=150, icc=[0.01, 0.05], years=[1, 4])
    assert len(t) == 12 and {"mde_pp", "design_effect", "n_schools", "icc"} <= set(t.columns)
    assert (t.groupby(["icc", "years"])["mde"].apply(lambda s: s.is_monotonic_decreasing)).all()


def test_icc_anova_matches_expanded_one_way_anova():
    d = pd.DataFrame({"school_id": ["a", "a", "b", "c", "c"], "year": [1, 2, 1, 1, 2],
                      "graduates": [10, 12, 15, 8, 9], "vocational": [2, 5, 9, 1, 2]})
    det = estimate_icc(d, details=True)
    g = d.groupby("school_id")[["vocational", "graduates"]].sum()
    samples = [np.r_[np.ones(y), np.zeros(n - y)] for y, n in zip(g["vocational"], g["graduates"])]
    F = stats.f_oneway(*samples).statistic
    assert_allclose(det["msb"] / det["msw"], F, rtol=1e-12)
    N = g["graduates"].sum()
    n0 = (N - (g["graduates"] ** 2).sum() / N) / 2
    assert_allclose(det["icc"], (F - 1) / (F + n0 - 1), rtol=1e-12)
    assert estimate_icc(d, group=["school_id", "year"]) != det["icc"]


def test_icc_recovers_beta_binomial():
    """p_j ~ Beta(a, b) gives ICC = 1 / (a + b + 1) for the binary outcomes in a group."""
    rng = np.random.default_rng(8)
    a, b = 2.0, 6.0  # ICC = 1/9
    k = 3000
    n = rng.integers(30, 120, k)
    y = rng.binomial(n, rng.beta(a, b, k))
    icc = estimate_icc(pd.DataFrame({"school_id": np.arange(k), "graduates": n, "vocational": y}))
    assert abs(icc - 1 / 9) < 0.01
    y0 = rng.binomial(n, 0.3)
    assert abs(estimate_icc(pd.DataFrame({"school_id": np.arange(k), "graduates": n, "vocational": y0}))) < 0.005
    with pytest.raises(ValueError, match="at least 2 groups"):
        estimate_icc(pd.DataFrame({"school_id": [1], "graduates": [10], "vocational": [3]}))


def test_power_on_sample(request):
    from evaluation.panel import school_year_panel

    cohort = request.getfixturevalue("sample_cohort")
    p = school_year_panel(cohort, level="THCS")
    icc = estimate_icc(p, group=["school_id", "year"])
    # the sample's school sd of the base rate is 0.04 around 0.22: ICC of the order 0.04^2 / (0.22 * 0.78) ~ 0.01
    assert 0.0 < icc < 0.05
    out = minimum_detectable_effect(n_schools=p["school_id"].nunique(), cohort_size=p["graduates"].mean(),
                                    icc=icc, years=1)
    assert 0.5 < out["mde_pp"] < 10
