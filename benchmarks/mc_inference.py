"""Monte Carlo: which interval the review reports, chosen on one set of processes and reported on another.

Run: ``.venv/bin/python benchmarks/monte_carlo.py --study trend|effects [--reps N] [--workers 2]``
(or this file directly with the same flags). Writes ``benchmarks/results/trend_monte_carlo.{csv,md}`` or
``benchmarks/results/effects_monte_carlo.{csv,md}``.

Why two sets. The previous benchmark chose the delete-one-school jackknife among 8 candidates on the same 200
districts it was scored on, all from one process (pure binomial noise, equal effects, exact parallel trends);
its lead was about one Monte Carlo s.e. Here every candidate is scored on the CHOOSE processes, the rule is
picked there (worst |coverage - 0.95| over the choose cells, ties to the narrower interval), and the table
that the README cites is the REPORT processes', which the rule never saw: AR(1) school noise, larger year
shocks, school-varying effects, unequal and one-school cohorts, unequal school sizes and unbalanced panels.

Processes (school-year rates on the probability scale, binomial counts; 2018-2025; THCS 28 schools, THPT 7)
--------------------------------------------------------------------------------------------------------
rate_st = 0.25 + a_s + b (t - 2018) - 0.02 dip_t + u_t + e_st + tau_s(e),  y_st ~ Binomial(n_st, rate_st)

- a_s ~ N(0, 0.05^2) school level; u_t ~ N(0, sd_year^2) a district-wide year shock (every school at once);
- e_st school-year noise: iid N(0, sd_e^2) or AR(1) with coefficient ``ar`` and stationary SD sd_e;
- tau_s(e) = (2 + 1 min(e, 2)) pp x (1 + h_s) from the first covered year on, h_s ~ N(0, het^2) (school-
  varying effects); the truth is the population ATT (h_s averaged out): the simple ATT of R did's
  ``aggte(type = "simple")`` weights (group size x post period) applied to tau(e);
- n_st ~ U(60, 160) graduates, or lognormal (mean ~100, CV ~0.6) for unequal school sizes;
- unbalanced: the report process R2 removes one school-year of two never-covered schools (R did's balanced
  estimator then leaves these schools out; the truth is unchanged because they are comparisons).

Trend study: the same equation without coverage (tau = 0), b = 1 pp/year; shocks sd_year in {0, 1, 2} pp.
Truth for the trend: b; for the projections: the realised district rate of 2030 (a new year's shock and
noise drawn from the process).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import os
import subprocess
import sys
import time
import warnings
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from evaluation import projections as P  # noqa: E402
from evaluation.effects import staggered_did, twfe  # noqa: E402
from evaluation.effects.recommend import effect_status  # noqa: E402
from evaluation.trends import annual_trend, fit_trend, random_year_trend, twoway_cluster_trend  # noqa: E402

RESULTS_DIR = REPO / "benchmarks" / "results"
YEARS = np.arange(2018, 2026)
TARGET = 0.95
SIZES = {"THCS": 28, "THPT": 7}

# ------------------------------------------------------------------------------------------------------------
# processes
# ------------------------------------------------------------------------------------------------------------
#: name -> (set, parameters). ``design``: "equal" cohorts or "unequal" (one- and two-school cohorts).
EFFECT_PROCESSES: dict[str, tuple[str, dict[str, Any]]] = {
    "C1_binomial": ("choose", dict(sd_e=0.0, ar=0.0, sd_year=0.0, het=0.0, design="equal", sizes="uniform",
                                   unbalanced=False)),
    "C2_iid_shocks": ("choose", dict(sd_e=0.015, ar=0.0, sd_year=0.01, het=0.0, design="equal", sizes="uniform",
                                     unbalanced=False)),
    "R1_ar1_het_onecohort": ("report", dict(sd_e=0.02, ar=0.5, sd_year=0.01, het=0.5, design="unequal",
                                            sizes="lognormal", unbalanced=False)),
    "R2_strong_unbalanced": ("report", dict(sd_e=0.03, ar=0.7, sd_year=0.02, het=0.5, design="unequal",
                                            sizes="lognormal", unbalanced=True)),
}
#: level, design -> [(first covered year, schools)], 0 = never covered in the period
DESIGNS: dict[tuple[str, str], list[tuple[int, int]]] = {
    ("THCS", "equal"): [(2019, 4), (2020, 4), (2021, 4), (2022, 4), (2023, 4), (2024, 4), (0, 4)],
    ("THCS", "unequal"): [(2019, 4), (2020, 5), (2021, 1), (2022, 6), (2023, 2), (2024, 4), (0, 6)],
    ("THPT", "equal"): [(2020, 2), (2022, 2), (0, 3)],
    ("THPT", "unequal"): [(2020, 2), (2022, 1), (2023, 1), (0, 3)],
}
TREND_PROCESSES: dict[str, tuple[str, dict[str, Any]]] = {
    f"{kind}_year{int(sd * 100)}pp": (kind_set, dict(sd_year=sd, **pars))
    for kind, kind_set, pars in (
        ("C_iid", "choose", dict(sd_e=0.02, ar=0.0, sizes="uniform", missing=0.0)),
        ("R_ar1_unbal", "report", dict(sd_e=0.025, ar=0.6, sizes="lognormal", missing=0.1)))
    for sd in (0.0, 0.01, 0.02)
}


def tau(e: np.ndarray) -> np.ndarray:
    """The planted effect by years since coverage [fraction]: 2 + 1 min(e, 2) pp from e = 0 on."""
    e = np.asarray(e, dtype=float)
    return np.where(e >= 0, (2.0 + np.minimum(e, 2.0)) / 100.0, 0.0)


def _noise(rng: np.random.Generator, G: int, T: int, sd: float, ar: float) -> np.ndarray:
    if sd <= 0:
        return np.zeros((G, T))
    e = np.empty((G, T))
    e[:, 0] = rng.normal(0, sd, G)
    for j in range(1, T):
        e[:, j] = ar * e[:, j - 1] + rng.normal(0, sd * np.sqrt(1 - ar ** 2), G)
    return e


def _sizes(rng: np.random.Generator, shape, kind: str) -> np.ndarray:
    if kind == "lognormal":
        return np.maximum(15, np.round(rng.lognormal(np.log(100) - 0.17, 0.58, shape))).astype(int)
    return rng.integers(60, 160, shape)


def simulate_effect_panel(process: str, level: str, seed: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """A school-year panel (school_id, year, first_covered, graduates, vocational, rate, treated) and its truth
    (``att_pp``: population simple ATT; ``att_e0_pp``), from ``EFFECT_PROCESSES[process]``."""
    _, par = EFFECT_PROCESSES[process]
    rng = np.random.default_rng(seed)
    design = DESIGNS[(level, par["design"])]
    fc = np.concatenate([[g] * k for g, k in design])
    G, T = len(fc), len(YEARS)
    a = rng.normal(0, 0.05, G)
    u = rng.normal(0, par["sd_year"], T) if par["sd_year"] > 0 else np.zeros(T)
    e = _noise(rng, G, T, par["sd_e"], par["ar"])
    h = rng.normal(0, par["het"], G) if par["het"] > 0 else np.zeros(G)
    n = _sizes(rng, (G, T), par["sizes"])
    ev = np.where(fc[:, None] > 0, YEARS[None, :] - fc[:, None], -1)
    p = np.clip(0.25 + a[:, None] + 0.005 * (YEARS - 2018)[None, :] - 0.02 * np.isin(YEARS, (2020, 2021))[None, :]
                + u[None, :] + e + tau(ev) * (1 + h[:, None]), 0.0, 1.0)
    y = rng.binomial(n, p)
    d = pd.DataFrame({"school_id": np.repeat(np.arange(G), T), "year": np.tile(YEARS, G),
                      "first_covered": np.repeat(fc, T), "graduates": n.ravel(), "vocational": y.ravel()})
    d["rate"] = d["vocational"] / d["graduates"]
    d["treated"] = ((d["first_covered"] > 0) & (d["year"] >= d["first_covered"])).astype(int)
    if par["unbalanced"]:
        never = np.flatnonzero(fc == 0)[:2]
        drop = d["school_id"].isin(never) & (d["year"] == 2019)
        d = d.loc[~drop].reset_index(drop=True)
    # truth: R did's simple ATT weights (group size per post cell) on tau(e), h averaged out
    num = den = 0.0
    for g, k in design:
        if g == 0:
            continue
        post = YEARS[YEARS >= g]
        num += k * float(tau(post - g).sum())
        den += k * len(post)
    return d, {"att_pp": 100 * num / den, "att_e0_pp": 100 * float(tau(np.array([0.0]))[0]),
               "n_small_cohorts": int(sum(1 for g, k in design if g and k <= 2))}


def simulate_trend_panel(process: str, level: str, seed: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """A school-year panel 2018-2025 without coverage and the truth: slope 1 pp/year, and the realised
    pooled rate of 2026 and 2030 in the same schools (new shocks and noise, the process continued)."""
    _, par = TREND_PROCESSES[process]
    rng = np.random.default_rng(seed)
    G = SIZES[level]
    yrs = np.arange(2018, 2031)
    T = len(yrs)
    a = rng.normal(0, 0.05, G)
    u = rng.normal(0, par["sd_year"], T) if par["sd_year"] > 0 else np.zeros(T)
    e = _noise(rng, G, T, par["sd_e"], par["ar"])
    n = _sizes(rng, (G, T), par["sizes"])
    p = np.clip(0.25 + a[:, None] + 0.01 * (yrs - 2018)[None, :] - 0.02 * np.isin(yrs, (2020, 2021))[None, :]
                + u[None, :] + e, 0.0, 1.0)
    y = rng.binomial(n, p)
    d = pd.DataFrame({"school_id": np.repeat(np.arange(G), T), "level": level, "year": np.tile(yrs, G),
                      "graduates": n.ravel(), "vocational": y.ravel(), "first_covered": 0, "event_time": np.nan})
    keep = np.ones(len(d), dtype=bool)
    if par["missing"] > 0:  # school-years missing at random in the observed period (never the last year)
        obs = (d["year"] < 2025).to_numpy()
        keep &= ~(obs & (rng.random(len(d)) < par["missing"]))
    fut = {yr: d.loc[d["year"] == yr] for yr in (2026, 2030)}
    past = d.loc[keep & (d["year"] <= 2025).to_numpy()].reset_index(drop=True)
    truth = {"slope_pp": 1.0, **{f"rate_{yr}": float(f["vocational"].sum() / f["graduates"].sum())
                                 for yr, f in fut.items()}}
    return past, truth


# ------------------------------------------------------------------------------------------------------------
# one district
# ------------------------------------------------------------------------------------------------------------
def _row(**kw) -> dict[str, Any]:
    return kw


def trend_district(args: tuple[str, str, int]) -> list[dict[str, Any]]:
    """Every trend and projection candidate on one simulated district."""
    process, level, seed = args
    d, truth = simulate_trend_panel(process, level, seed)
    rows = []
    base = {"process": process, "set": TREND_PROCESSES[process][0], "level": level, "seed": seed}
    q = lambda df: stats.t(df).ppf(0.975) if df is not None else stats.norm.ppf(0.975)  # noqa: E731
    an = annual_trend(d)
    lo, hi = an.conf_int()
    rows.append({**base, "kind": "trend", "estimator": "a_annual_ols_t", "estimate": 100 * an.slope,
                 "se": 100 * an.se, "lo": 100 * lo, "hi": 100 * hi, "truth": truth["slope_pp"]})
    b, se, df = twoway_cluster_trend(d)
    rows.append({**base, "kind": "trend", "estimator": "b_twoway_cluster_t", "estimate": 100 * b, "se": 100 * se,
                 "lo": 100 * (b - q(df) * se), "hi": 100 * (b + q(df) * se), "truth": truth["slope_pp"]})
    try:
        b, se, _ = random_year_trend(d)
        rows.append({**base, "kind": "trend", "estimator": "c_random_year_normal", "estimate": 100 * b,
                     "se": 100 * se, "lo": 100 * (b - q(None) * se), "hi": 100 * (b + q(None) * se),
                     "truth": truth["slope_pp"]})
        k = 3
        rows.append({**base, "kind": "trend", "estimator": "c_random_year_t", "estimate": 100 * b, "se": 100 * se,
                     "lo": 100 * (b - q(len(YEARS) - k) * se), "hi": 100 * (b + q(len(YEARS) - k) * se),
                     "truth": truth["slope_pp"]})
    except (ValueError, np.linalg.LinAlgError):  # pragma: no cover - recorded as missing
        pass
    res = fit_trend(d)
    ci = res.conf_int()
    for m, name in (("lpm", "old_lpm_school_cluster"), ("glm_binomial", "old_glm_school_cluster")):
        rows.append({**base, "kind": "trend", "estimator": name, "estimate": 100 * res.params[m],
                     "se": 100 * res.std_errors[m], "lo": 100 * ci.loc[m, "ci_low"], "hi": 100 * ci.loc[m, "ci_high"],
                     "truth": truth["slope_pp"]})
    # projections: prediction intervals for the realised rate
    pr = an.predict([2026, 2030])
    for r in pr.itertuples(index=False):
        rows.append({**base, "kind": f"projection_{r.year}", "estimator": "annual_ols_prediction",
                     "estimate": 100 * r.estimate, "se": 100 * r.std_error, "lo": 100 * r.ci_low,
                     "hi": 100 * r.ci_high, "truth": 100 * truth[f"rate_{r.year}"]})
    m = P.fit_projection(d)
    pj = m.project([2026, 2030])
    for r in pj.itertuples(index=False):
        rows.append({**base, "kind": f"projection_{r.year}", "estimator": "projection_lpm_prediction",
                     "estimate": 100 * r.estimate, "se": 100 * r.std_error, "lo": 100 * r.ci_low,
                     "hi": 100 * r.ci_high, "truth": 100 * truth[f"rate_{r.year}"]})
        c = m.model["weights"] @ (m._school_x(int(r.year), m.model["first_covered"]) - m.model["xbar"])
        se_old = float(np.sqrt(c @ m.model["cov_school"] @ c + m.model["mean_noise"]))
        qq = stats.t(m.df).ppf(0.975)
        rows.append({**base, "kind": f"projection_{r.year}", "estimator": "old_projection_lpm_school_cluster",
                     "estimate": 100 * r.estimate, "se": 100 * se_old, "lo": 100 * (r.estimate - qq * se_old),
                     "hi": 100 * (r.estimate + qq * se_old), "truth": 100 * truth[f"rate_{r.year}"]})
        # the projection interval of the previous round: the parameters' covariance (school-clustered plus
        # the year-shock component) plus a new year's noise, t(min(G - 1, T - k))
        se_ys = float(np.sqrt(c @ m.model["cov"] @ c + m.model["mean_noise"] + m.model["new_year_noise"]))
        qq = stats.t(min(m.df, m.model["df_year"])).ppf(0.975)
        rows.append({**base, "kind": f"projection_{r.year}", "estimator": "old_projection_lpm_year_shocks",
                     "estimate": 100 * r.estimate, "se": 100 * se_ys, "lo": 100 * (r.estimate - qq * se_ys),
                     "hi": 100 * (r.estimate + qq * se_ys), "truth": 100 * truth[f"rate_{r.year}"]})
    gp = res.project([2026, 2030], model="glm_binomial")
    for r in gp.itertuples(index=False):
        rows.append({**base, "kind": f"projection_{r.year}", "estimator": "old_glm_confidence",
                     "estimate": 100 * r.estimate, "se": np.nan, "lo": 100 * r.ci_low, "hi": 100 * r.ci_high,
                     "truth": 100 * truth[f"rate_{r.year}"]})
    return rows


EFFECT_INFERENCES = ("normal", "t", "t_hc1", "jackknife")


def effects_district(args: tuple[str, str, int]) -> list[dict[str, Any]]:
    """Every effect candidate (CS not-yet x inference, TWFE) on one simulated district."""
    process, level, seed = args
    d, truth = simulate_effect_panel(process, level, seed)
    base = {"process": process, "set": EFFECT_PROCESSES[process][0], "level": level, "seed": seed,
            "n_small_cohorts": truth["n_small_cohorts"]}
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for inf in EFFECT_INFERENCES:
            try:
                r = staggered_did(d, outcome="rate", unit="school_id", time="year", group="first_covered",
                                  control="notyet", inference=inf)
            except ValueError:
                continue
            est, se = float(r.params["ATT"]), float(r.std_errors["ATT"])
            lo, hi = r.conf_int().iloc[0]
            st = effect_status(100 * est, 100 * se, r.df)
            rows.append({**base, "kind": "att_simple", "estimator": f"cs_notyet_{inf}", "estimate": 100 * est,
                         "se": 100 * se, "lo": 100 * lo, "hi": 100 * hi, "truth": truth["att_pp"],
                         "status": st["status"], "mde_pp": st["mde_pp"]})
        tw = twfe(d)
        lo, hi = tw.conf_int().iloc[0]
        rows.append({**base, "kind": "att_simple", "estimator": "twfe_lpm_diagnostic",
                     "estimate": 100 * float(tw.params["treated"]), "se": 100 * float(tw.std_errors["treated"]),
                     "lo": 100 * lo, "hi": 100 * hi, "truth": truth["att_pp"], "status": "", "mde_pp": np.nan})
    return rows


# ------------------------------------------------------------------------------------------------------------
# summaries
# ------------------------------------------------------------------------------------------------------------
def with_rule(raw: pd.DataFrame) -> pd.DataFrame:
    """Add the review's effect rule as its own rows (``cs_notyet_rule``): ``did.SMALL_COHORT_INFERENCE`` when the
    district has a cohort of one or two schools, else ``did.RECOMMENDED_INFERENCE``
    (``recommend.recommended_inference``; both the jackknife since the 400-district run)."""
    from evaluation.effects.did import RECOMMENDED_INFERENCE, SMALL_COHORT_INFERENCE

    if "n_small_cohorts" not in raw.columns:
        return raw
    small = raw["n_small_cohorts"].fillna(0) > 0
    pick = (((raw["estimator"] == f"cs_notyet_{SMALL_COHORT_INFERENCE}") & small)
            | ((raw["estimator"] == f"cs_notyet_{RECOMMENDED_INFERENCE}") & ~small))
    return pd.concat([raw, raw.loc[pick].assign(estimator="cs_notyet_rule")], ignore_index=True)


def summarise(raw: pd.DataFrame) -> pd.DataFrame:
    """Coverage, width, bias (with Monte Carlo s.e.) per set, process, level, kind and estimator."""
    raw = with_rule(raw)
    rows = []
    keys = ["set", "process", "level", "kind", "estimator"]
    for k, g in raw.groupby(keys, sort=True):
        ok = g["lo"].notna() & g["hi"].notna() & np.isfinite(g["lo"]) & np.isfinite(g["hi"])
        h = g.loc[ok]
        cov = ((h["lo"] <= h["truth"]) & (h["truth"] <= h["hi"])).mean() if len(h) else np.nan
        err = g["estimate"] - g["truth"]
        row = dict(zip(keys, k))
        row.update({"n": int(len(g)), "n_with_interval": int(ok.sum()), "coverage": cov,
                    "mc_se_coverage": float(np.sqrt(cov * (1 - cov) / max(len(h), 1))) if len(h) else np.nan,
                    "width": float((h["hi"] - h["lo"]).mean()) if len(h) else np.nan,
                    "bias": float(err.mean()), "mc_se_bias": float(err.std(ddof=1) / np.sqrt(len(g))),
                    "sd": float(g["estimate"].std(ddof=1)), "mean_se": float(g["se"].mean()),
                    "excludes_zero": float(((h["lo"] > 0) | (h["hi"] < 0)).mean()) if len(h) else np.nan})
        if "status" in g.columns and g["status"].astype(str).str.len().gt(0).any():
            row["share_not_informative"] = float((g["status"] == "not_informative").mean())
            inf_ok = h.loc[h["status"] == "ok"]
            row["coverage_when_ok"] = (float(((inf_ok["lo"] <= inf_ok["truth"]) & (inf_ok["truth"] <= inf_ok["hi"])).mean())
                                       if len(inf_ok) else np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def choose(summary: pd.DataFrame, kind: str, *, candidates: list[str] | None = None) -> tuple[str, pd.DataFrame]:
    """The rule: among ``candidates`` (default all) the estimator whose worst |coverage - 0.95| over the CHOOSE
    cells of ``kind`` is smallest (ties: narrower mean width). Returns (name, its scoring table)."""
    s = summary.loc[(summary["set"] == "choose") & (summary["kind"] == kind)]
    if candidates is not None:
        s = s.loc[s["estimator"].isin(candidates)]
    score = (s.assign(dev=(s["coverage"] - TARGET).abs()).groupby("estimator")
             .agg(worst_dev=("dev", "max"), min_coverage=("coverage", "min"), max_coverage=("coverage", "max"),
                  mean_width=("width", "mean")).reset_index().sort_values(["worst_dev", "mean_width"]))
    return str(score["estimator"].iloc[0]), score


# ------------------------------------------------------------------------------------------------------------
# running and writing
# ------------------------------------------------------------------------------------------------------------
def run(study: str, reps: int, workers: int, levels=("THCS", "THPT"), progress: bool = True) -> pd.DataFrame:
    procs = TREND_PROCESSES if study == "trend" else EFFECT_PROCESSES
    fn = trend_district if study == "trend" else effects_district
    offset = 100_000 if study == "trend" else 200_000
    tasks = [(p, lv, offset + 1000 * i + s) for i, p in enumerate(procs) for lv in levels for s in range(reps)]
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    if workers <= 1:
        it = map(fn, tasks)
        for k, r in enumerate(it, 1):
            rows += r
    else:
        with get_context("spawn").Pool(workers) as pool:
            for k, r in enumerate(pool.imap_unordered(fn, tasks, chunksize=4), 1):
                rows += r
                if progress and k % 100 == 0:
                    print(f"  {k}/{len(tasks)} districts, {time.perf_counter() - t0:.0f} s", flush=True)
    return pd.DataFrame(rows)


def _md(df: pd.DataFrame, digits: int = 3) -> str:
    def f(v):
        if isinstance(v, (float, np.floating)):
            return "" if np.isnan(v) else f"{v:.{digits}f}"
        return str(v)
    out = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * len(df.columns)]
    out += ["| " + " | ".join(f(v) for v in r) + " |" for r in df.itertuples(index=False)]
    return "\n".join(out)


def _commit() -> str:
    try:
        return subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def write(study: str, raw: pd.DataFrame, *, reps: int, workers: int, wall: float, out: Path = RESULTS_DIR,
          run_commit: str | None = None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    summ = summarise(raw)
    summ.to_csv(out / f"{study}_monte_carlo.csv", index=False, float_format="%.4f", lineterminator="\n")
    md = [f"# Monte Carlo ({study}): rule chosen on the CHOOSE processes, reported on the REPORT processes", "",
          f"Generated by `benchmarks/monte_carlo.py --study {study}` on {_dt.date.today().isoformat()} at commit "
          f"`{_commit()}`" + (f" from the raw rows of a run at commit `{run_commit}` (the estimators are that "
                              "commit's; the rule and the summary this one's)" if run_commit else "")
          + f": {reps} districts per process and level, {workers} workers, wall time {wall:.0f} s. "
          "Processes: see `benchmarks/mc_inference.py`. Units: percentage points (trend: pp per year).", ""]
    cols = ["set", "process", "level", "estimator", "n", "coverage", "mc_se_coverage", "width", "bias", "mc_se_bias",
            "sd", "mean_se"]
    kinds = ["trend", "projection_2026", "projection_2030"] if study == "trend" else ["att_simple"]
    for kind in kinds:
        s = summ.loc[summ["kind"] == kind]
        cand = None
        if kind == "trend":
            cand = [e for e in s["estimator"].unique() if not e.startswith("old_")]
        elif kind.startswith("projection"):
            cand = ["annual_ols_prediction", "projection_lpm_prediction"]
        else:
            cand = [f"cs_notyet_{i}" for i in EFFECT_INFERENCES]
        best, score = choose(summ, kind, candidates=cand)
        md += [f"## {kind}", "", f"**Rule chosen on the CHOOSE set: `{best}`** (worst |coverage - 0.95| over the "
               f"choose cells = {score['worst_dev'].iloc[0]:.3f}).", "", "Scoring on the CHOOSE set:", "",
               _md(score), ""]
        shown = [best] + (["cs_notyet_rule"] if kind == "att_simple" else [])
        if kind.startswith("projection"):
            shown = list(dict.fromkeys([best, "projection_lpm_prediction"]))
        for est in shown:
            rep = s.loc[(s["set"] == "report") & (s["estimator"] == est)]
            if len(rep):
                md += [f"Out of sample (REPORT set), `{est}`: " + "; ".join(
                    f"{r.process} {r.level}: coverage {r.coverage:.3f} (MC s.e. {r.mc_se_coverage:.3f}), width {r.width:.2f}"
                    + (f", not_informative {r.share_not_informative:.2f}" if "share_not_informative" in s.columns
                       and pd.notna(r.share_not_informative) else "")
                    for r in rep.itertuples()) + ".", ""]
        if kind.startswith("projection"):
            md += ["The projections table (`projections.fit_projection(...).project`) reports "
                   "`projection_lpm_prediction`: the model's district line (needed for the coverage plans) with the "
                   "chosen annual regression's year-level prediction variance, plus the counseling effects' "
                   "uncertainty; on these processes (no coverage) it has the annual regression's width. "
                   "`old_projection_lpm_year_shocks` is the previous round's interval.", ""]
        if kind == "att_simple":
            from evaluation.effects.did import RECOMMENDED_INFERENCE, SMALL_COHORT_INFERENCE

            md += [f"The review's rule (`cs_notyet_rule`, `recommend.recommended_inference`): `{RECOMMENDED_INFERENCE}`, "
                   f"and `{SMALL_COHORT_INFERENCE}` for a district with a cohort of one or two schools (decided a "
                   "priori from the audit: a one-school cohort's true SD was 4.8x the analytic SE; the choose set has "
                   "equal cohorts, so it cannot speak to them). "
                   + ("It is the rule chosen above." if f"cs_notyet_{RECOMMENDED_INFERENCE}" == best else
                      f"It is NOT the rule chosen above (`{best}`): rerun and update `did.RECOMMENDED_INFERENCE`.")
                   + " THPT-sized designs are mostly `not_informative` (`effect_status`: MDE above 5 pp).", ""]
        extra = [c for c in ("share_not_informative", "coverage_when_ok", "excludes_zero") if c in s.columns]
        md += ["All estimators:", "", _md(s.loc[:, [c for c in cols if c in s.columns] + extra]), ""]
    md += ["## How to read", "",
           "- `coverage`: share of 95 % intervals containing the truth; `mc_se_coverage` its Monte Carlo s.e. "
           "`width`: mean interval width. `bias` = mean(estimate - truth) with `mc_se_bias`.",
           "- A coverage above 0.97 is a conservative interval (wider than needed); below 0.93 too narrow.",
           "- `old_*` rows are the intervals the review reported before (school clustering only), for comparison.",
           ""]
    path = out / f"{study}_monte_carlo.md"
    path.write_text("\n".join(md), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="choose-and-report Monte Carlo of the review's intervals")
    ap.add_argument("--study", choices=("trend", "effects"), required=True)
    ap.add_argument("--reps", type=int, default=300)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=RESULTS_DIR)
    ap.add_argument("--raw", type=Path, default=None, help="also write the raw rows (CSV)")
    ap.add_argument("--from-raw", type=Path, default=None, help="re-summarise raw rows written by --raw")
    ap.add_argument("--wall", type=float, default=float("nan"), help="with --from-raw: the original wall time (s)")
    ap.add_argument("--run-commit", default=None, help="with --from-raw: the commit the raw rows were made at")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    if a.from_raw:
        raw, wall = pd.read_csv(a.from_raw), a.wall
    else:
        raw = run(a.study, a.reps, a.workers)
        wall = time.perf_counter() - t0
    if a.raw and not a.from_raw:
        raw.to_csv(a.raw, index=False)
    path = write(a.study, raw, reps=a.reps, workers=a.workers, wall=wall, out=a.out,
                 run_commit=a.run_commit if a.from_raw else None)
    print(path.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    raise SystemExit(main())
