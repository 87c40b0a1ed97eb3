"""Batch of district cycles: ``evaluation.batch.run_batch`` on a 2-worker Dask LocalCluster against
the same cycles run one by one with the papermill command line, side by side in one run.

    .venv/bin/python benchmarks/bench_batch.py [--cycles 20] [--workers 2] [--scale 1]

Each district is a synthetic cohort ``write_sample(seed=1000+i, scale=SCALE)`` (scale 1 is a
Càng Long-sized district of about 56,000 graduates, the default; below 0.5 a district has only
3 THPT schools and the review's THPT estimates can fail). Both sides run the full set of
review notebooks of ``notebooks/`` with the same parameters:

* papermill CLI: for each cycle, for each notebook in run order, ``papermill NB OUT -f
  cycle.yaml -p stage_dir DIR -k python3 --cwd notebooks`` (one process per notebook, one
  at a time). It writes the executed notebooks and evidence only: no validation, index,
  report or manifest (less work than the batch);
* batch: ``run_batch`` with ``workers`` single-threaded Dask worker processes (cluster start
  included), each cycle a full ``run_review(jobs=1)``: validation, notebooks, evidence index,
  report, manifest, atomic bundle.

Prints both wall times, the speed-up (the issue's target: at least 1.6 with 2 workers on 2
cores) and the per-cycle overhead of the toolkit against the papermill CLI (one cycle alone,
``workers=1``, against the same cycle through the CLI).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from evaluation.batch import CycleSpec, run_batch  # noqa: E402
from evaluation.params import DEFAULT_PARAMS_FILE  # noqa: E402
from evaluation.paths import NOTEBOOKS_DIR  # noqa: E402
from evaluation.runner import KERNEL_NAME, _waves, discover_notebooks  # noqa: E402
from evaluation.sample import write_sample  # noqa: E402

PAPERMILL = str(Path(sys.executable).with_name("papermill"))


def papermill_cycle(spec: CycleSpec, out: Path) -> tuple[float, int]:
    """Run one cycle's notebooks one by one with the papermill CLI; (wall time in s, failed notebooks)."""
    params = spec.params(out)
    stage = out / spec.name
    (stage / "notebooks").mkdir(parents=True, exist_ok=True)
    pfile = out / f"{spec.name}.yaml"
    pfile.write_text(yaml.safe_dump({**params.to_yaml_dict(), "stage_dir": str(stage)}, allow_unicode=True),
                     encoding="utf-8")
    t0, failed = time.perf_counter(), 0
    for wave in _waves(discover_notebooks()):
        for nb in wave:
            failed += subprocess.run([PAPERMILL, str(nb), str(stage / "notebooks" / nb.name), "-f", str(pfile),
                                      "-k", KERNEL_NAME, "--cwd", str(NOTEBOOKS_DIR), "--no-progress-bar"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0
    return time.perf_counter() - t0, failed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cycles", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--no-overhead", action="store_true", help="skip the one-cycle overhead measurement")
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="bench_batch_"))
    try:
        specs = []
        for i in range(args.cycles):
            data = write_sample(tmp / "data" / f"d{i:03d}", seed=1000 + i, scale=args.scale)
            specs.append(CycleSpec(f"d{i:03d}_2018_2025", str(DEFAULT_PARAMS_FILE),
                                   {"data": str(data), "district": f"Huyện mô phỏng {i:03d}"}))
        n_nb = len(discover_notebooks())
        print(f"{args.cycles} district cycles (scale {args.scale:g}, {n_nb} notebooks each), "
              f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f} at start")

        t0 = time.perf_counter()
        nb_failed = sum(papermill_cycle(s, tmp / "papermill")[1] for s in specs)
        t_pm = time.perf_counter() - t0
        print(f"papermill CLI, one by one: {t_pm:7.1f} s  ({t_pm / args.cycles:.1f} s per cycle; "
              f"{nb_failed} notebook(s) failed)")

        t0 = time.perf_counter()
        results = run_batch(specs, out=tmp / "batch", workers=args.workers, progress=False)
        t_b = time.perf_counter() - t0
        failed = [r for r in results if r.status != "ok"]
        print(f"batch, {args.workers} Dask workers:   {t_b:7.1f} s  ({t_b / args.cycles:.1f} s per cycle; "
              f"{len(results) - len(failed)} ok, {len(failed)} failed)")
        for r in failed:
            print(f"  failed {r.name}: {r.reason}")
        print(f"speed-up: {t_pm / t_b:.2f}x (target >= 1.6)")

        if not args.no_overhead:
            one = specs[0]
            t_pm1 = papermill_cycle(one, tmp / "papermill1")[0]
            t0 = time.perf_counter()
            run_batch([one], out=tmp / "batch1", workers=1, progress=False)
            t_b1 = time.perf_counter() - t0
            print(f"one cycle alone: papermill CLI {t_pm1:.1f} s, toolkit (workers=1) {t_b1:.1f} s, "
                  f"overhead {t_b1 - t_pm1:+.1f} s per cycle ({t_b1 / t_pm1:.2f}x; includes validation, "
                  f"index, report, manifest)")
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
