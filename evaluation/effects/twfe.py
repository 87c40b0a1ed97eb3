"""Two-way fixed-effects (school and year) estimators of the effect of counseling coverage.

Public entry points
-------------------
``twfe``            graduate-weighted linear probability model (``model="lpm"``) or binomial logit
                    with average marginal effect (``model="logit"``), unit and time effects absorbed.

The estimation engine (absorption, CRV1 with fixest's small-sample correction, singletons) is
:mod:`evaluation.effects.fixed_effects`; the dose-response and heterogeneity estimators are in
:mod:`evaluation.effects.dose` and :mod:`evaluation.effects.heterogeneity`.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import special

from evaluation.results import EstimateResults, TestResult

__all__ = ["twfe", "TwfeResults", "ESTIMAND_TWFE", "small_sample_factor", "FixedEffectsFit"]
from evaluation.effects.bootstrap import wild_cluster_bootstrap
from evaluation.effects.fixed_effects import (DEFAULT_TOL, Absorber, FixedEffectsFit, _codes, _crv1, _fit_lpm, _info,
                                             _prepare, _py, _replace, _wald_F, small_sample_factor)


ESTIMAND_TWFE = "ATT under homogeneous effects; biased under staggered adoption with dynamic effects"


# ----------------------------------------------------------------------------------------
# results
# ----------------------------------------------------------------------------------------
class TwfeResults(EstimateResults):
    """Results of :func:`twfe` / :func:`dose_response` (read-only).

    Beyond ``EstimateResults``: ``vcov`` (cluster-robust covariance of the reported terms),
    ``wald_test(terms)`` and ``wild_bootstrap(...)`` (wild cluster bootstrap-t per term, linear
    model only). ``model`` is the :class:`FixedEffectsFit` (estimation sample and arrays).
    """

    @property
    def vcov(self) -> pd.DataFrame:
        """Cluster-robust covariance of the reported terms (logit: the AME's variance)."""
        if self.info.get("model") == "logit":
            se = self.std_errors
            return pd.DataFrame(np.diag(se.to_numpy() ** 2), index=se.index, columns=se.index)
        return self.model.vcov.copy()

    def wald_test(self, terms: Sequence[str] | None = None, *, name: str = "joint Wald test") -> TestResult:
        """F test that the given terms are all zero (cluster-robust vcov, F(q, G-1))."""
        terms = list(terms or self.params.index)
        return _wald_F(self.params[terms], self.vcov.loc[terms, terms], int(self.info["n_clusters"]), name=name,
                       null=f"{', '.join(terms)} all zero")

    def wild_bootstrap(self, *, reps: int = 999, seed: int = 2025, weights_type: str = "rademacher",
                       level: float = 0.95, impose_null: bool = True, pp: bool = False) -> pd.DataFrame:
        """Wild cluster bootstrap-t (WCR by default) for every term, beside the analytic interval.

        Columns: term, estimate(_pp), ci_low, ci_high, p_value (bootstrap), analytic_ci_low,
        analytic_ci_high, analytic_p_value, reps, weights_type. See
        :func:`evaluation.effects.bootstrap.wild_cluster_bootstrap`.
        """
        if self.info.get("model") == "logit":
            raise ValueError("wild_bootstrap: the wild cluster bootstrap is implemented for the linear model "
                             "(model='lpm'); refit with model='lpm'")
        return _bootstrap_table(self, reps=reps, seed=seed, weights_type=weights_type, level=level,
                                impose_null=impose_null, pp=pp)


def _bootstrap_table(res: EstimateResults, *, reps: int, seed: int, weights_type: str, level: float,
                     impose_null: bool, pp: bool, terms: Sequence[str] | None = None) -> pd.DataFrame:
    fit: FixedEffectsFit = res.model
    n = fit.names
    rows = []
    k = 100.0 if pp else 1.0
    if int(reps) == 0:  # bootstrap_reps: 0 means no bootstrap: an empty table with the same columns
        cols = ["term", "estimate_pp" if pp else "estimate", "ci_low", "ci_high", "p_value", "analytic_ci_low",
                "analytic_ci_high", "analytic_p_value", "reps", "weights_type"]
        return pd.DataFrame(columns=cols)
    for term in (terms or list(res.params.index)):
        b = wild_cluster_bootstrap(fit.frame, outcome=n["outcome"], regressors=n["regressors"], unit="_fe_unit",
                                   time="_fe_time", weights=n["weights"], cluster="_cluster", param=term,
                                   reps=reps, weights_type=weights_type, seed=seed, impose_null=impose_null,
                                   level=level, ssc_fixef_k=fit.ssc_fixef_k, drop_singletons=False)
        ci = res.conf_int(level).loc[term]
        rows.append({"term": term, "estimate": b.estimate * k, "ci_low": b.ci_low * k, "ci_high": b.ci_high * k,
                     "p_value": b.p_value, "analytic_ci_low": ci["ci_low"] * k,
                     "analytic_ci_high": ci["ci_high"] * k, "analytic_p_value": float(res.pvalues[term]),
                     "reps": b.reps, "weights_type": b.weights_type})
    out = pd.DataFrame(rows)
    return out.rename(columns={"estimate": "estimate_pp"}) if pp else out




# ----------------------------------------------------------------------------------------
# twfe
# ----------------------------------------------------------------------------------------
def twfe(data: pd.DataFrame, *, outcome: str = "rate", treatment: str = "treated", unit: str = "school_id",
         time: str = "year", weights: str | None = "graduates", cluster: str | None = "school_id",
         model: str = "lpm", covariates: Sequence[str] = (), cov_type: str = "cluster",
         ssc_fixef_k: str = "nested", drop_singletons: bool = True, tol: float = DEFAULT_TOL) -> TwfeResults:
    """Two-way (unit and time) fixed-effects estimate of the effect of ``treatment`` on ``outcome``.

    ``model="lpm"``: weighted least squares of the rate (a fraction 0..1) on the treatment with
    unit and time effects absorbed; weights are the graduates of the school-year, so the
    estimate is the effect on the probability that a graduate goes to vocational training,
    in outcome units (``to_frame(pp=True)`` for percentage points).

    ``model="logit"``: binomial logit on (successes = rate x weights, trials = weights) with unit
    and time effects, fitted by IRLS with the effects absorbed in the working regression at every
    step (no dummies, scales to national panels). Units whose rate is 0 or 1 in every year (their
    effect is infinite) are dropped first. The reported ``treated`` term is the *average marginal
    effect* in probability units: the trials-weighted mean over all school-years of
    ``Lambda(eta with treatment=1) - Lambda(eta with treatment=0)`` (a binary treatment), or of
    ``beta * Lambda'(eta)`` (a continuous one). Its standard error is the delta method on the
    cluster-robust covariance of the log-odds coefficient with the fixed effects profiled out
    (d eta / d beta = the IRLS-weighted within-transformed regressor), conditional on the sample's
    covariates, as Stata's ``margins``. The coefficient on the log-odds scale is in
    ``info["coef_logodds"]``/``info["se_logodds"]``.

    Covariance: ``cov_type="cluster"`` (CRV1, by ``cluster``; the only type offered), with the
    small-sample factor described in the module docstring (``ssc_fixef_k``). The estimand is the
    ATT only when effects are homogeneous; under staggered adoption with effects that change
    with exposure TWFE is biased (use ``staggered_did``).
    """
    where = "twfe"
    if model not in ("lpm", "logit"):
        raise ValueError(f"{where}: model must be 'lpm' or 'logit', got {model!r}")
    if cov_type != "cluster":
        raise ValueError(f"{where}: cov_type must be 'cluster' (cluster-robust CRV1), got {cov_type!r}")
    cluster = cluster or unit
    regressors = [treatment, *covariates]
    frame, dropped = _prepare(data, outcome=outcome, regressors=regressors, unit=unit, time=time, weights=weights,
                              cluster=cluster, drop_singletons=drop_singletons, where=where)
    if model == "lpm":
        fit = _fit_lpm(frame, outcome=outcome, regressors=regressors, unit=unit, time=time, weights=weights,
                       cluster=cluster, ssc_fixef_k=ssc_fixef_k, tol=tol, where=where)
        fit = _replace(fit, n_dropped=dropped)
        params, se = fit.beta, np.sqrt(np.diag(fit.vcov.to_numpy()))
        info = _info(fit.frame, unit=unit, cluster=cluster, weights=weights, cov_type="CRV1", fit_ssc=fit.ssc,
                     ssc_k=fit.ssc_k, ssc_fixef_k=ssc_fixef_k, dropped=dropped, model="lpm",
                     iterations=fit.fe_iterations)
        info["estimand"] = ESTIMAND_TWFE
        return TwfeResults(estimator="twfe", estimand=ESTIMAND_TWFE, params=params,
                           std_errors=pd.Series(se, index=params.index), df=info["n_clusters"] - 1,
                           cov_type="cluster-robust (CRV1) by " + cluster, info=info,
                           notes=(f"Graduate-weighted linear probability model; {unit} and {time} effects absorbed; "
                                  f"t({info['n_clusters'] - 1}) reference distribution.",),
                           model=fit)
    return _twfe_logit(frame, dropped, outcome=outcome, regressors=regressors, unit=unit, time=time,
                       weights=weights, cluster=cluster, ssc_fixef_k=ssc_fixef_k, tol=tol)




def _drop_perfect_fit(frame: pd.DataFrame, y: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Rows kept after iteratively dropping unit/time levels whose outcome is all 0 or all 1."""
    keep = np.ones(len(frame), dtype=bool)
    codes = [frame["_fe_unit"].to_numpy(), frame["_fe_time"].to_numpy()]
    while True:
        changed = False
        for c in codes:
            L = c.max() + 1
            succ = np.bincount(c[keep], weights=(n * y)[keep], minlength=L)
            tot = np.bincount(c[keep], weights=n[keep], minlength=L)
            bad = (succ <= 1e-12 * np.maximum(tot, 1)) | (succ >= tot * (1 - 1e-12))
            rows = keep & bad[c]
            if rows.any():
                keep &= ~rows
                changed = True
        if not changed:
            return keep


def _twfe_logit(frame: pd.DataFrame, dropped: dict, *, outcome: str, regressors: list[str], unit: str, time: str,
                weights: str | None, cluster: str, ssc_fixef_k: str, tol: float) -> TwfeResults:
    where = "twfe(model='logit')"
    y = frame[outcome].to_numpy(dtype=float)
    bad = np.flatnonzero((y < 0) | (y > 1))
    if bad.size:
        r = bad[0]
        raise ValueError(f"{where}: outcome {outcome!r} must be a proportion in 0..1; row "
                         f"{_py(frame['_row'].iloc[r])!r} has value {_py(y[r])!r}")
    n = frame[weights].to_numpy(dtype=float) if weights else np.ones(len(frame))
    keep = _drop_perfect_fit(frame, y, n)
    dropped["perfect_fit"] = int((~keep).sum())
    if not keep.all():
        frame = frame.loc[keep].reset_index(drop=True)
        frame["_fe_unit"] = _codes(frame[unit])
        frame["_fe_time"] = _codes(frame[time])
        frame["_cluster"] = _codes(frame[cluster])
        y, n = y[keep], n[keep]
    X = frame[regressors].to_numpy(dtype=float)
    fe = [frame["_fe_unit"].to_numpy(), frame["_fe_time"].to_numpy()]
    cl = frame["_cluster"].to_numpy()
    eta = special.logit((n * y + 0.5) / (n + 1.0))
    dev_old = np.inf
    sweeps = 0
    for it in range(1, 201):
        p = special.expit(eta)
        v = np.clip(p * (1 - p), 1e-12, None)
        W = n * v
        z = eta + (y - p) / v
        ab = Absorber(fe, W, tol=tol)
        Z = ab.demean(np.column_stack([z, X]))
        sweeps += ab.iterations
        zt, Xt = Z[:, 0], Z[:, 1:]
        XtWX = Xt.T @ (Xt * W[:, None])
        beta = np.linalg.solve(XtWX, Xt.T @ (W * zt))
        eta = z - (zt - Xt @ beta)
        p = special.expit(eta)
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = 2 * np.sum(n * (special.xlogy(y, y) - special.xlogy(y, p)
                                  + special.xlogy(1 - y, 1 - y) - special.xlogy(1 - y, 1 - p)))
        if abs(dev - dev_old) / (0.1 + abs(dev)) < 1e-12:
            break
        dev_old = dev
    else:
        raise RuntimeError(f"{where}: IRLS did not converge in 200 iterations")
    # final quantities at the converged linear predictor
    p = special.expit(eta)
    W = n * p * (1 - p)
    Xt = Absorber(fe, W, tol=tol).demean(X)
    Xt = Xt.reshape(len(frame), -1)
    bread = np.linalg.inv(Xt.T @ (Xt * W[:, None]))
    factor, K = small_sample_factor(n_obs=len(frame), k=X.shape[1], fe_codes=fe, cluster_codes=cl,
                                    convention=ssc_fixef_k)
    V = _crv1(Xt, n * (y - p), bread, cl, factor)
    # average marginal effect of the first regressor (the treatment), trials-weighted
    d = X[:, 0]
    b = beta[0]
    binary = bool(np.all(np.isin(d, (0.0, 1.0))))
    dl = Xt[:, 0]  # d eta / d beta for the fitted linear predictor (fixed effects profiled out)
    if binary:
        eta1, eta0 = eta + b * (1 - d), eta - b * d
        p1, p0 = special.expit(eta1), special.expit(eta0)
        ame = np.sum(n * (p1 - p0)) / n.sum()
        grad0 = np.sum(n * (p1 * (1 - p1) * (dl - d + 1) - p0 * (1 - p0) * (dl - d))) / n.sum()
        # gradient with respect to the other regressors' coefficients (their own profiled paths)
        grad = np.zeros(len(beta))
        grad[0] = grad0
        for j in range(1, len(beta)):
            dj = Xt[:, j]
            grad[j] = np.sum(n * (p1 * (1 - p1) - p0 * (1 - p0)) * dj) / n.sum()
    else:
        lam1 = p * (1 - p)
        lam2 = lam1 * (1 - 2 * p)
        ame = b * np.sum(n * lam1) / n.sum()
        grad = np.zeros(len(beta))
        grad[0] = np.sum(n * (lam1 + b * lam2 * dl)) / n.sum()
        for j in range(1, len(beta)):
            grad[j] = b * np.sum(n * lam2 * Xt[:, j]) / n.sum()
    se_ame = float(np.sqrt(grad @ V @ grad))
    names = list(regressors)
    fit = FixedEffectsFit(frame=frame, names=dict(outcome=outcome, regressors=names, unit=unit, time=time,
                                                  weights=weights, cluster=cluster),
                          beta=pd.Series(beta, index=names), vcov=pd.DataFrame(V, index=names, columns=names),
                          resid=y - p, fitted=p, ssc=factor, ssc_k=K, ssc_fixef_k=ssc_fixef_k,
                          fe_iterations=sweeps, n_dropped=dropped,
                          extra={"eta": eta, "irls_iterations": it, "deviance": float(dev), "ame_gradient": grad})
    info = _info(frame, unit=unit, cluster=cluster, weights=weights, cov_type="CRV1", fit_ssc=factor, ssc_k=K,
                 ssc_fixef_k=ssc_fixef_k, dropped=dropped, model="logit", iterations=sweeps)
    info.update({"estimand": ESTIMAND_TWFE + " (average marginal effect of a logit with unit and time effects)",
                 "coef_logodds": float(b), "se_logodds": float(np.sqrt(V[0, 0])), "irls_iterations": it,
                 "ame": "binary treatment: mean of Lambda(eta|d=1)-Lambda(eta|d=0)" if binary
                        else "continuous: mean of beta*Lambda'(eta)"})
    return TwfeResults(estimator="twfe_logit", estimand=info["estimand"],
                       params=pd.Series({regressors[0]: ame}), std_errors=pd.Series({regressors[0]: se_ame}),
                       df=info["n_clusters"] - 1, cov_type="cluster-robust (CRV1) by " + cluster + ", delta method",
                       info=info, notes=("Binomial logit on (vocational, graduates) counts with absorbed unit and "
                                         "time effects; the estimate is the average marginal effect in "
                                         "probability units.",), model=fit)


