"""Writes honestdid_rm_fixture.json: the honestdid package's Delta^RM confidence sets on a few examples.

Not part of the project or its tests (the project does not depend on honestdid). Run with a throwaway
environment holding honestdid 0.1.1 from PyPI and numpy 2.3 (under numpy >= 2.4 the package's primal
conditional test fails converting a 1x1 array with float()):

    python -m venv hd && hd/bin/pip install honestdid==0.1.1 "numpy>=2.0.2,<2.4"
    hd/bin/python tests/data/honestdid_rm/make_fixture.py

Every set is ``honestdid.computeConditionalCS_DeltaRM(betahat, sigma, numPre, numPost, l_vec=l, Mbar=M)``
with the package defaults (alpha 0.05, hybrid_flag "LF" i.e. conditional-least-favourable, kappa = alpha/10,
postPeriodMomentsOnly, 1000 theta grid points on [-20 sdTheta, 20 sdTheta], seed 0); lb/ub are the smallest
and largest accepted grid points, as the package's createSensitivityResults_relativeMagnitudes reports them.
"""
from __future__ import annotations

import datetime
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import honestdid

HERE = Path(__file__).parent
SAMPLE_INPUTS = HERE / "sample_inputs.json"  # the review's event-study inputs on the shipped sample (see below)


def _example_cov(n: int, seed: int, scale: float) -> np.ndarray:
    a = np.random.default_rng(seed).normal(size=(n, n)) * scale
    return a @ a.T + np.diag(np.full(n, scale ** 2 * 4))


def examples() -> list[dict]:
    _a = np.random.default_rng(5).normal(size=(6, 6)) * 0.002  # tests/test_honest.py's example
    out = [
        {"name": "three_pre_three_post", "betahat": [0.004, -0.006, 0.003, 0.021, 0.030, 0.038],
         "sigma": (_a @ _a.T + np.diag(np.full(6, 0.004 ** 2))).tolist(), "num_pre": 3, "num_post": 3,
         "l_vecs": [[1.0, 0.0, 0.0], [1 / 3] * 3], "mbars": [0.0, 0.5, 1.0, 2.0]},
        {"name": "two_pre_one_post (no nuisance parameter)", "betahat": [0.006, -0.004, 0.025],
         "sigma": _example_cov(3, 11, 0.002).tolist(), "num_pre": 2, "num_post": 1,
         "l_vecs": [[1.0]], "mbars": [0.0, 1.0, 2.0]},
        {"name": "four_pre_two_post", "betahat": [-0.01, 0.002, -0.004, 0.005, 0.018, 0.026],
         "sigma": _example_cov(6, 12, 0.0025).tolist(), "num_pre": 4, "num_post": 2,
         "l_vecs": [[1.0, 0.0], [0.5, 0.5]], "mbars": [0.0, 1.0, 2.0]},
        {"name": "large pre-period changes (the package's grid cuts the set at Mbar = 2)",
         "betahat": [0.05, -0.05, 0.02, 0.03], "sigma": _example_cov(4, 13, 0.002).tolist(), "num_pre": 2,
         "num_post": 2, "l_vecs": [[1.0, 0.0]], "mbars": [0.5, 2.0]},
    ]
    if SAMPLE_INPUTS.exists():
        # the Callaway-Sant'Anna event study (universal base, e = -4..2) of the shipped sample, seed 2025, as
        # evaluation.effects.honest.cs_pretrend_sensitivity passes it to pretrend_sensitivity_frame
        for level, d in json.loads(SAMPLE_INPUTS.read_text(encoding="utf-8")).items():
            out.append({"name": f"sample {level} (post_average)", "betahat": d["betahat"], "sigma": d["sigma"],
                        "num_pre": d["num_pre"], "num_post": d["num_post"],
                        "l_vecs": [[1 / d["num_post"]] * d["num_post"]],
                        "mbars": [0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0]})
    return out


def main() -> None:
    warnings.simplefilter("ignore")  # the package warns "CI is open" when its grid cuts the set; recorded below
    cases = []
    for ex in examples():
        b, s = np.array(ex["betahat"]), np.array(ex["sigma"])
        npre, npost = ex["num_pre"], ex["num_post"]
        rows = []
        for l in ex["l_vecs"]:
            for m in ex["mbars"]:
                t0 = time.time()
                r = honestdid.computeConditionalCS_DeltaRM(b, s, npre, npost, l_vec=np.array(l), Mbar=m)
                acc = r.loc[r["accept"] == 1, "grid"]
                grid = r["grid"].to_numpy()
                rows.append({"l_vec": l, "Mbar": m, "lb": float(acc.min()), "ub": float(acc.max()),
                             "grid_lb": float(grid[0]), "grid_ub": float(grid[-1]), "grid_points": len(grid),
                             "open_low": bool(r["accept"].iloc[0] == 1), "open_high": bool(r["accept"].iloc[-1] == 1)})
                print(ex["name"], l, m, rows[-1]["lb"], rows[-1]["ub"], f"{time.time() - t0:.1f}s", file=sys.stderr)
        cases.append({k: ex[k] for k in ("name", "betahat", "sigma", "num_pre", "num_post")} | {"rm": rows})
    fixture = {
        "source": (f"honestdid {honestdid.__version__} (PyPI; Python port of the R package HonestDiD by Rambachan & "
                   f"Roth) with numpy {np.__version__}, generated {datetime.date.today().isoformat()} by "
                   "tests/data/honestdid_rm/make_fixture.py: computeConditionalCS_DeltaRM(betahat, sigma, num_pre, "
                   "num_post, l_vec, Mbar) with the package defaults (alpha 0.05, hybrid_flag 'LF' = C-LF, "
                   "hybrid_kappa alpha/10, postPeriodMomentsOnly True, gridPoints 1000 on +-20 sdTheta, seed 0); "
                   "lb/ub = smallest/largest accepted grid point; open_low/open_high: the grid's end point was "
                   "accepted (the package's set is cut by its grid there)"),
        "cases": cases,
    }
    (HERE / "honestdid_rm_fixture.json").write_text(json.dumps(fixture, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
