"""Benchmark: the effect estimators on a national-sized aggregated panel (13,000 schools x 8 years).

Run: ``.venv/bin/python benchmarks/bench_estimators.py [--schools 13000] [--seed 1]``.

Prints, for each estimator, the wall time and the peak memory allocated while it ran (traced by
``tracemalloc``: Python and numpy allocations), the process's peak resident memory at the end,
and pyfixest's ``feols`` time on the same weighted model (when pyfixest is installed) for
comparison. The target (issue 3): the whole set, bootstraps aside, in under 30 s and 4 GB.

The panel is synthetic (see ``national_panel``): staggered adoption of counseling between 2019
and 2024 in 70 % of schools, a planted effect growing with exposure, school-year counts of
graduates and vocational entrants, 3 % of school-years missing.
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
import warnings

import numpy as np
import pandas as pd

from evaluation.effects import event_study, twfe

YEARS = np.arange(2018, 2026)


def national_panel(*, schools: int = 13_000, seed: int = 1, missing: float = 0.03) -> pd.DataFrame:
    """Synthetic analysis panel (columns as ``evaluation.panel.school_year_panel``'s used by the estimators)."""
    rng = np.random.default_rng(seed)
    T = len(YEARS)
    cohort = np.where(rng.random(schools) < 0.3, 0, rng.choice(np.arange(2019, 2025), schools))
    a = rng.normal(-1.2, 0.5, schools)
    sid = np.repeat(np.arange(schools), T)
    year = np.tile(YEARS, schools)
    g = cohort[sid]
    e = np.where(g > 0, year - g, -99)
    treated = ((g > 0) & (e >= 0)).astype(np.int64)
    effect = np.where(treated == 1, 0.10 + 0.03 * np.minimum(e, 3), 0.0)  # log-odds, growing with exposure
    eta = a[sid] + 0.04 * (year - 2018) + effect
    n = rng.integers(30, 400, schools * T)
    v = rng.binomial(n, 1 / (1 + np.exp(-eta)))
    keep = rng.random(schools * T) >= missing
    df = pd.DataFrame({"school_id": pd.Series([f"S{i:05d}" for i in range(schools)])[sid].to_numpy(),
                       "year": year, "graduates": n, "vocational": v, "rate": v / n, "treated": treated,
                       "first_covered": g, "counselors_per_100": treated * rng.uniform(0.2, 2.0, schools)[sid]})
    return df.loc[keep].reset_index(drop=True)


def measure(label: str, fn, results: list) -> object:
    tracemalloc.start()
    tracemalloc.reset_peak()
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    results.append((label, dt, peak / 2**20))
    print(f"  {label:<44s} {dt:7.2f} s   peak {peak / 2**20:8.0f} MiB", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schools", type=int, default=13_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    df = national_panel(schools=args.schools, seed=args.seed)
    print(f"panel: {df.school_id.nunique():,} schools x {df.year.nunique()} years = {len(df):,} rows "
          f"(built in {time.perf_counter() - t0:.1f} s)")
    ours: list = []
    print("evaluation.effects:")
    lpm = measure("twfe(model='lpm')", lambda: twfe(df), ours)
    logit = measure("twfe(model='logit')  [AME]", lambda: twfe(df, model="logit"), ours)
    es = measure("event_study(window=(-4, 4))", lambda: event_study(df), ours)
    measure("dose_response(counselors_per_100)",
            lambda: __import__("evaluation.effects", fromlist=["dose_response"]).dose_response(df), ours)
    try:
        from evaluation.effects import staggered_did
    except ImportError:  # pragma: no cover - the module is another part of the toolkit
        staggered_did = None
    if staggered_did is not None:
        measure("staggered_did(control='notyet')",
                lambda: staggered_did(df, outcome="rate", unit="school_id", time="year", group="first_covered",
                                      control="notyet"), ours)
    total_t = sum(r[1] for r in ours)
    max_peak = max(r[2] for r in ours)
    print(f"  {'total (bootstraps aside)':<44s} {total_t:7.2f} s   max peak {max_peak:6.0f} MiB")
    print(f"  twfe lpm {lpm.params['treated']:.5f} (se {lpm.std_errors['treated']:.5f}), logit AME "
          f"{logit.params['treated']:.5f} (se {logit.std_errors['treated']:.5f}), pre-trend p "
          f"{es.pretrend.p_value:.3f}")

    aside: list = []
    measure("aside: lpm.wild_bootstrap(reps=999)", lambda: lpm.wild_bootstrap(reps=999, seed=1), aside)

    try:
        import pyfixest as pf
    except ImportError:
        print("pyfixest not installed: no comparison")
    else:
        print("pyfixest (same data, same weighted models, CRV1 by school):")
        ref: list = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()  # first call compiles pyfixest's kernels: warm up on a small subset
            pf.feols("rate ~ treated | school_id + year", data=df.iloc[:2000], weights="graduates",
                     vcov={"CRV1": "school_id"})
            print(f"  (warm-up on 2,000 rows, compiling: {time.perf_counter() - t0:.2f} s)")
            m = measure("feols(rate ~ treated | school_id + year)",
                        lambda: pf.feols("rate ~ treated | school_id + year", data=df, weights="graduates",
                                         vcov={"CRV1": "school_id"}), ref)
            d = df.copy()
            rel = np.where(d.first_covered > 0, np.clip(d.year - d.first_covered, -4, 4), -1000)
            names = []
            for k in [-4, -3, -2, 0, 1, 2, 3, 4]:
                nm = f"e_m{-k}" if k < 0 else f"e_p{k}"
                d[nm] = (rel == k).astype(float)
                names.append(nm)
            measure("feols(rate ~ 8 event dummies | FE)",
                    lambda: pf.feols(f"rate ~ {' + '.join(names)} | school_id + year", data=d,
                                     weights="graduates", vcov={"CRV1": "school_id"}), ref)
        print(f"  same lpm estimate: |diff| = {abs(m.coef().iloc[0] - lpm.params['treated']):.2e}, "
              f"se |diff| = {abs(m.se().iloc[0] - lpm.std_errors['treated']):.2e} (pyfixest at its default "
              "fixef_tol 1e-6)")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak resident memory: {rss:,.0f} MiB")
    ok = total_t < 30 and rss < 4096
    print("target (< 30 s and < 4 GB):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
