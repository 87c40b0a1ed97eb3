"""Benchmark: time and peak memory to load and validate a cohort data folder.

Prints numbers; it is not a test. Two folders:

(a) the synthetic sample (``evaluation.sample.write_sample``, scale 1, CSV);   target < 2 s
(b) a synthetic cohort of about 10 million students (``write_sample`` at scale
    N / 56,000, students and graduates as Parquet);                          target < 60 s, < 4 GB

Each measurement runs in a fresh Python process, so that its peak resident memory
(``VmHWM`` on Linux, else ``resource.getrusage(RUSAGE_SELF).ru_maxrss``) belongs to that step alone; the memory of the
interpreter with pandas, pyarrow and pandera imported is printed beside it. ``load`` is
``evaluation.data.load_cohort`` (read + validate + type); ``validate`` is
``evaluation.validation.validate_folder`` alone.

Usage::

    python benchmarks/bench_load.py                      # sample + 10 million students
    python benchmarks/bench_load.py --students 2000000   # a smaller big folder
    python benchmarks/bench_load.py --workdir /tmp/bench --keep   # keep the generated folders
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

YEARS = (2018, 2025)
STUDENTS_PER_SCALE = 56_000  # evaluation.sample: "about 56,000 students per unit of scale"


def _rss_mb() -> float:
    """Peak resident memory of this process, MB.

    Linux: ``VmHWM`` of /proc/self/status, which starts afresh at exec (``ru_maxrss`` does not: a
    child inherits the parent's peak). Elsewhere ``ru_maxrss`` (kilobytes on Linux, bytes on macOS).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1024 / (1024 if sys.platform == "darwin" else 1)


def measure(folder: str, what: str) -> dict:
    """Run one step in this process and return its numbers (called in a child process)."""
    import pandas  # noqa: F401  (imports are counted in the baseline, not in the step)
    import pandera.pandas  # noqa: F401
    import pyarrow  # noqa: F401

    from evaluation.data import load_cohort
    from evaluation.validation import validate_folder

    base = _rss_mb()
    years = range(YEARS[0], YEARS[1] + 1)
    t0 = time.perf_counter()
    if what == "load":
        cohort = load_cohort(folder, years=years)
        report = cohort.report
        n_students = 0 if cohort.students is None else len(cohort.students)
        n_graduate_rows = len(cohort.graduates)
    else:
        report = validate_folder(folder, years=years)
        n_students = n_graduate_rows = None
    seconds = time.perf_counter() - t0
    return {"step": what, "seconds": round(seconds, 2), "peak_rss_mb": round(_rss_mb()), "baseline_rss_mb": round(base),
            "errors": report.n_errors, "warnings": report.n_warnings, "students": n_students,
            "graduates_rows": n_graduate_rows}


def _child(folder: Path, what: str) -> dict:
    res = subprocess.run([sys.executable, __file__, "--measure", str(folder), "--what", what],
                         capture_output=True, text=True, cwd=REPO)
    if res.returncode != 0:
        raise RuntimeError(f"measuring {what} on {folder} failed:\n{res.stdout}\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def _row(label: str, r: dict, target_s: float | None, target_mb: float | None) -> str:
    ok_t = "" if target_s is None else ("  PASS" if r["seconds"] < target_s else "  FAIL") + f" (< {target_s:g} s)"
    ok_m = "" if target_mb is None else ("  PASS" if r["peak_rss_mb"] < target_mb else "  FAIL") + f" (< {target_mb:g} MB)"
    extra = f", {r['students']:,} students" if r.get("students") else ""
    return (f"{label:<34} {r['step']:<9} {r['seconds']:>7.2f} s{ok_t:<16}  peak RSS {r['peak_rss_mb']:>6,} MB"
            f"{ok_m:<20} (baseline {r['baseline_rss_mb']} MB){extra}; {r['errors']} errors, {r['warnings']} warnings")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=10_000_000, help="students in the big folder (about)")
    ap.add_argument("--workdir", default=None, help="where to write the folders (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the generated folders")
    ap.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--what", default="load", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.measure:  # child process
        print(json.dumps(measure(args.measure, args.what)))
        return 0

    from evaluation.sample import write_sample

    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bench_load_"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
          f"folders in {work}")
    lines = []
    try:
        sample = write_sample(work / "sample", seed=2025)
        for what in ("validate", "load"):
            lines.append(_row("(a) sample (CSV)", _child(sample, what), 2.0, None))
            print(lines[-1], flush=True)

        scale = args.students / STUDENTS_PER_SCALE
        t0 = time.perf_counter()
        big = write_sample(work / "big", seed=2025, scale=scale, table_format="parquet")
        gen_s = time.perf_counter() - t0
        print(f"(b) generated {big} at scale {scale:.1f} in {gen_s:.1f} s "
              f"(students.parquet {(big / 'students.parquet').stat().st_size / 1e6:.0f} MB)", flush=True)
        for what in ("validate", "load"):
            lines.append(_row(f"(b) {args.students / 1e6:g}M students (Parquet)", _child(big, what), 60.0, 4096.0))
            print(lines[-1], flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
