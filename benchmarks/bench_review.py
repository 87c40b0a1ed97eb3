"""Wall time of the full review against its floor: the same library calls in one Python process.

    .venv/bin/python benchmarks/bench_review.py [--params params/X.yaml] [--jobs N]

* review: ``evaluation.runner.run_review`` on the cycle's data (the sample by default) into a
  temporary bundle folder: data validation, every notebook in its own kernel (``jobs`` at a
  time), evidence index, report, manifest, atomic move.
* floor: a fresh Python process that executes the code cells of the same notebooks, in order,
  in one shared namespace (parameters cell, then the values papermill would inject, then the
  rest), writing into a temporary staging folder, then the evidence index and the report. No
  kernels, no papermill, no parallelism: what the analysis itself costs.

Prints both times and their ratio (the issue's target: at most 3 on 2 cores).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from evaluation.params import DEFAULT_PARAMS_FILE, load_params  # noqa: E402
from evaluation.paths import NOTEBOOKS_DIR  # noqa: E402


def floor(params_file: str, out: str) -> float:
    """Execute every notebook's code cells in this process; return the wall time (s)."""
    import contextlib
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import nbformat

    t0 = time.perf_counter()
    from evaluation.evidence import build_index
    from evaluation.report import build_report
    from evaluation.runner import discover_notebooks, _waves
    from evaluation.sample import ensure_sample

    params = load_params(params_file, out=out)
    ensure_sample(params)
    stage = Path(out)
    stage.mkdir(parents=True, exist_ok=True)
    injected = {**params.to_yaml_dict(), "stage_dir": str(stage)}
    cwd = os.getcwd()
    os.chdir(NOTEBOOKS_DIR)
    try:
        for wave in _waves(discover_notebooks()):
            for path in wave:
                cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
                # a notebook kernel has IPython's display() as a builtin; give the floor the same
                from IPython.display import display

                ns: dict = {"__name__": "__main__", "display": display}
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(compile(cells[0].source, f"{path.name}:parameters", "exec"), ns)
                    ns.update(injected)
                    for i, cell in enumerate(cells[1:], start=1):
                        exec(compile(cell.source, f"{path.name}:cell{i}", "exec"), ns)
                plt.close("all")
    finally:
        os.chdir(cwd)
    build_index(stage)
    build_report(stage, params)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--params", default=str(DEFAULT_PARAMS_FILE))
    ap.add_argument("--jobs", type=int, default=None, help="notebooks at once (default: CPU count)")
    ap.add_argument("--floor-only", metavar="OUT", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.floor_only:
        print(json.dumps({"floor_s": floor(args.params, args.floor_only)}))
        return 0

    from evaluation.runner import run_review

    with tempfile.TemporaryDirectory(prefix="bench_review_") as tmp:
        params = load_params(args.params, out=str(Path(tmp) / "review"))
        t0 = time.perf_counter()
        code = run_review(params, params_file=args.params, jobs=args.jobs, progress=False)
        review_s = time.perf_counter() - t0
        if code != 0:
            print(f"review failed (exit {code})", file=sys.stderr)
            return code
        t0 = time.perf_counter()
        run = subprocess.run([sys.executable, __file__, "--params", args.params, "--floor-only",
                              str(Path(tmp) / "floor")], capture_output=True, text=True, cwd=ROOT)
        floor_process_s = time.perf_counter() - t0
        if run.returncode != 0:
            print(run.stderr, file=sys.stderr)
            return run.returncode
    jobs = args.jobs or os.cpu_count()
    print(f"cores: {os.cpu_count()}, jobs: {jobs}")
    print(f"review (run_review, notebooks in kernels):        {review_s:7.1f} s")
    print(f"floor (same cells in one fresh Python process):   {floor_process_s:7.1f} s (imports included)")
    print(f"ratio review / floor:                             {review_s / floor_process_s:7.2f}  (target <= 3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
