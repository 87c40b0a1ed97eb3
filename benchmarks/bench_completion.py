"""Completion of the review over generated districts (issue 11), and how often each status occurs.

For every family of ``evaluation.generator.FAMILIES`` and ``--seeds`` seeds (default 5; seeds from 20000,
which no test uses), write the district, run ``evaluation.sections.evidence_tables`` in process
(``bootstrap_reps`` 19) and count:

- completion: the run returned every table (a failure prints its exception);
- per estimate table (trend, effect_overall, event_study, equity_gaps, projections): rows by status;
- the recommended effect per level: ok / not_informative / not_estimable.

Usage: ``python benchmarks/bench_completion.py [--seeds N] [--reps R]``. Prints plain text tables.
"""
from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation.generator import FAMILIES, family_spec, write_district  # noqa: E402
from evaluation.sections import evidence_tables  # noqa: E402
from evaluation.status import STATUSES  # noqa: E402

TABLES = ("trend", "effect_overall", "event_study", "equity_gaps", "projections")
SEED0 = 20000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=19)
    a = ap.parse_args()
    done = collections.Counter()
    tried = collections.Counter()
    rows = collections.Counter()          # (table, status)
    rec = collections.Counter()           # (family, status)
    failures = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fam in FAMILIES:
            for k in range(a.seeds):
                seed = SEED0 + k
                tried[fam] += 1
                path = write_district(Path(tmp) / f"{fam}_{seed}", family_spec(fam, seed))
                try:
                    t = evidence_tables(path, bootstrap_reps=a.reps)
                except Exception as exc:  # noqa: BLE001 - a failure is what this counts
                    failures.append((fam, seed, f"{type(exc).__name__}: {exc}"[:300], traceback.format_exc(limit=3)))
                    continue
                done[fam] += 1
                for tid in TABLES:
                    for s, n in t[tid]["status"].value_counts().items():
                        rows[(tid, s)] += int(n)
                e = t["effect_overall"]
                for s in e.loc[e["recommended"].astype(bool), "status"]:
                    rec[(fam, s)] += 1
    secs = time.perf_counter() - t0
    n_all, n_done = sum(tried.values()), sum(done.values())
    print(f"completion: {n_done}/{n_all} districts ({100 * n_done / n_all:.1f} %), {len(FAMILIES)} families x "
          f"{a.seeds} seeds (from {SEED0}), bootstrap_reps {a.reps}, {secs:.0f} s ({secs / n_all:.1f} s per district)")
    fam_tab = pd.DataFrame([{"family": f, "completed": f"{done[f]}/{tried[f]}",
                             **{f"recommended_{s}": rec[(f, s)] for s in STATUSES}} for f in FAMILIES])
    print("\nper family (recommended effect rows, one per level present):")
    print(fam_tab.to_string(index=False))
    st = pd.DataFrame([{"table": tid, **{s: rows[(tid, s)] for s in STATUSES}} for tid in TABLES])
    tot = st[list(STATUSES)].sum(axis=1)
    for s in STATUSES:
        st[f"{s}_%"] = (100 * st[s] / tot).round(1)
    print("\nrows by status per estimate table:")
    print(st.to_string(index=False))
    for fam, seed, msg, tb in failures:
        print(f"\nFAILED {fam} seed {seed}: {msg}\n{tb}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
