"""Power for the next review: minimum detectable effect on vocational uptake, and the ICC.

Design assumed
    Schools are the units that adopt (a trained counselor), students are nested in schools.
    A share ``share_treated`` of ``n_schools`` schools is treated; each school contributes
    ``m = cohort_size * years`` graduates over the period. The comparison is the difference
    in uptake between treated and comparison graduates, a two-sided test at level ``alpha``.
    The intra-school correlation ``icc`` inflates the variance by the design effect
    ``deff = 1 + (m - 1) * icc`` (Kish), so the effective sample is n / deff.
Minimum detectable effect (MDE) [fraction; ``mde_pp`` in percentage points]
    ``method="normal"`` (statsmodels ``NormalIndPower`` on the effective samples):
        MDE = (z_{1-alpha/2} + z_{power}) * sqrt(deff * p(1-p) * (1/n1 + 1/n0))
    with n1, n0 the treated and comparison graduates and p the baseline rate (statsmodels
    also counts the tiny opposite-tail rejection probability, a difference below 1e-6).
    ``method="t"`` (statsmodels ``TTestIndPower`` on school means, df = schools - 2): the
    same variance, sigma^2 deff / m per school mean, with a t instead of a normal reference;
    it is larger, and the honest choice with few schools.
    Treating the cohorts of several years as one cluster with the same ICC ignores the
    school fixed effects a difference-in-differences design would remove: the MDE is
    conservative for such a design.
ICC (``estimate_icc``)
    One-way ANOVA estimator for a binary outcome from group counts (sufficient statistics):
    with groups j of n_j graduates, y_j vocational, p_j = y_j/n_j, p = sum y / N, k groups:
    MSB = sum n_j (p_j - p)^2 / (k - 1), MSW = sum n_j p_j (1 - p_j) / (N - k),
    n0 = (N - sum n_j^2 / N) / (k - 1), ICC = (MSB - MSW) / (MSB + (n0 - 1) MSW).
    It can be negative in small samples (then no clustering is detectable); by the usual
    convention ``minimum_detectable_effect`` then uses 0 (``icc_estimated`` keeps the value given).
Not estimable (``evaluation.status.NotEstimable``, a ``ValueError`` with a reason in Vietnamese and
English): fewer than 2 schools (``method="t"``: fewer than 3), or for the ICC fewer than 2 schools
with graduates.
"""
from __future__ import annotations

from itertools import product
from typing import Any, Sequence

import numpy as np
import pandas as pd
from statsmodels.stats.power import NormalIndPower, TTestIndPower

from .status import NotEstimable

METHODS = ("normal", "t")


def _check(name: str, value: float, lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False) -> float:
    v = float(value)
    bad = (v <= lo if lo_open else v < lo) or (v >= hi if hi_open else v > hi) or not np.isfinite(v)
    if bad:
        lb, rb = ("(" if lo_open else "["), (")" if hi_open else "]")
        raise ValueError(f"minimum_detectable_effect: {name} = {value!r}: expected a value in {lb}{lo}, {hi}{rb}")
    return v


def minimum_detectable_effect(*, n_schools: int, cohort_size: float, icc: float, years: int = 1,
                              share_treated: float = 0.5, alpha: float = 0.05, power: float = 0.8,
                              baseline_rate: float = 0.25, method: str = "normal") -> dict[str, Any]:
    """The smallest true difference in uptake the design detects with the given power.

    Parameters (see the module docstring for the design): ``n_schools`` schools,
    ``cohort_size`` graduates per school and year, ``years`` cohorts, ``icc`` the intra-school
    correlation (``estimate_icc``), ``share_treated`` of the schools treated, two-sided test at
    ``alpha`` with ``power``, ``baseline_rate`` p (fraction) of the comparison group.

    Returns a dict: mde [fraction], mde_pp [percentage points], design_effect,
    students_per_school (m), n_students, effective_n (n / deff), n_treated_schools,
    n_control_schools, and the inputs.
    """
    if method not in METHODS:
        raise ValueError(f"minimum_detectable_effect: method {method!r}: expected one of {', '.join(METHODS)}")
    n_schools = _check("n_schools", n_schools, 0, np.inf)
    if n_schools < 2:
        raise NotEstimable(f"cần ít nhất 2 trường để tính hiệu quả tối thiểu phát hiện được (có {n_schools:g})",
                           f"the minimum detectable effect needs at least 2 schools ({n_schools:g} given)",
                           code="too_few_schools")
    cohort_size = _check("cohort_size", cohort_size, 0, np.inf, lo_open=True)
    years = _check("years", years, 1, np.inf)
    icc_estimated = _check("icc", icc, -1, 1)
    icc = max(icc_estimated, 0.0)  # an ANOVA estimate below 0 means no detectable clustering: 0 by convention
    share = _check("share_treated", share_treated, 0, 1, lo_open=True, hi_open=True)
    alpha = _check("alpha", alpha, 0, 1, lo_open=True, hi_open=True)
    power = _check("power", power, alpha, 1, lo_open=True, hi_open=True)
    p = _check("baseline_rate", baseline_rate, 0, 1, lo_open=True, hi_open=True)
    m = cohort_size * years
    deff = 1.0 + (m - 1.0) * icc
    sigma = np.sqrt(p * (1.0 - p))
    k1, k0 = share * n_schools, (1.0 - share) * n_schools
    n1, n0 = k1 * m, k0 * m
    if method == "normal":
        d = NormalIndPower().solve_power(effect_size=None, nobs1=n1 / deff, alpha=alpha, power=power,
                                         ratio=n0 / n1, alternative="two-sided")
        mde = float(d) * sigma
    else:
        if k1 + k0 < 3:
            raise NotEstimable(f"phương pháp 't' cần ít nhất 3 trường (có {k1 + k0:g})",
                               f"minimum_detectable_effect: method 't' needs at least 3 schools ({k1 + k0:g} given)",
                               code="too_few_schools")
        d = TTestIndPower().solve_power(effect_size=None, nobs1=k1, alpha=alpha, power=power, ratio=k0 / k1,
                                        alternative="two-sided")
        mde = float(d) * sigma * np.sqrt(deff / m)
    return {"mde": mde, "mde_pp": 100.0 * mde, "design_effect": deff, "students_per_school": m,
            "n_students": n1 + n0, "effective_n": (n1 + n0) / deff, "n_treated_schools": k1,
            "n_control_schools": k0, "n_schools": n_schools, "cohort_size": cohort_size, "years": years,
            "icc": icc, "icc_estimated": icc_estimated, "share_treated": share, "alpha": alpha, "power": power, "baseline_rate": p,
            "method": method}


def mde_table(*, n_schools: Sequence[int] | int, cohort_size: Sequence[float] | float, icc: Sequence[float] | float,
              years: Sequence[int] | int = 1, share_treated: float = 0.5, alpha: float = 0.05, power: float = 0.8,
              baseline_rate: float = 0.25, method: str = "normal") -> pd.DataFrame:
    """``minimum_detectable_effect`` over every combination of the listed values, one row each
    (columns as the dict's keys), for a table or figure of the next review's design."""
    def seq(v):
        return list(v) if isinstance(v, (list, tuple, np.ndarray, pd.Series)) else [v]

    rows = [minimum_detectable_effect(n_schools=s, cohort_size=c, icc=i, years=y, share_treated=share_treated,
                                      alpha=alpha, power=power, baseline_rate=baseline_rate, method=method)
            for s, c, i, y in product(seq(n_schools), seq(cohort_size), seq(icc), seq(years))]
    return pd.DataFrame(rows)


def estimate_icc(panel: pd.DataFrame, *, successes: str = "vocational", trials: str = "graduates",
                 group: str | Sequence[str] = "school_id", details: bool = False) -> float | dict[str, float]:
    """Intra-group correlation of the binary vocational outcome, one-way ANOVA estimator.

    ``panel``: a school-year panel (or cells); its counts are summed within ``group``
    (default ``school_id``: a school's cohorts pooled, the cluster of ``minimum_detectable_effect``
    with ``years`` > 1; ``["school_id", "year"]``: one cohort). Returns the ICC (dimensionless,
    may be negative), or with ``details=True`` a dict with icc, msb, msw, n0, n_groups,
    n_students.
    """
    keys = [group] if isinstance(group, str) else list(group)
    missing = [c for c in [*keys, successes, trials] if c not in panel.columns]
    if missing:
        raise ValueError(f"estimate_icc: the frame has no column(s) {', '.join(missing)}")
    g = panel.groupby(keys, observed=True)[[successes, trials]].sum()
    g = g[g[trials] > 0]
    n = g[trials].to_numpy(dtype="float64")
    y = g[successes].to_numpy(dtype="float64")
    k, N = len(n), n.sum()
    if k < 2 or N - k <= 0:
        raise NotEstimable(f"cần ít nhất 2 trường có học sinh tốt nghiệp để ước lượng hệ số tương quan nội trường "
                           f"(có {k} trường, {N:g} học sinh)",
                           f"estimate_icc: need at least 2 groups with graduates and more graduates than groups "
                           f"(groups {k}, graduates {N:g})", code="too_few_schools")
    pj, p = y / n, y.sum() / N
    msb = float(np.sum(n * (pj - p) ** 2) / (k - 1))
    msw = float(np.sum(n * pj * (1 - pj)) / (N - k))
    n0 = float((N - np.sum(n ** 2) / N) / (k - 1))
    denom = msb + (n0 - 1) * msw
    icc = float((msb - msw) / denom) if denom > 0 else float("nan")
    if details:
        return {"icc": icc, "msb": msb, "msw": msw, "n0": n0, "n_groups": int(k), "n_students": float(N)}
    return icc
