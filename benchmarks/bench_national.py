"""National aggregation: ``evaluation.national.national_indicators`` against a bare DuckDB group-by.

    .venv/bin/python benchmarks/bench_national.py [--data DIR] [--scale 180] [--repeat 3]

Generates the national synthetic cohort (``write_national``, about 10 million graduates at
scale 180) into ``data/generated/national`` when it is not there yet, then times, each in a
fresh Python process (peak memory is the process's own high-water mark, VmHWM):

* bare: one DuckDB query over students.parquet, ``GROUP BY school_id, level, year`` counting
  graduates and vocational destinations, fetched as a pandas frame (the floor);
* toolkit: ``national_indicators(DIR)``: the same group-by plus unknown counts, the counseling
  coverage, the join to schools, communes, districts and provinces and the rates.

Prints the median wall time of each (query only, not the interpreter start), their ratio (the
issue's target: at most 1.5) and the peak memory (target: under 4 GB).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BARE_SQL = """SELECT school_id, level, year, COUNT(*) AS graduates,
       COUNT(*) FILTER (WHERE starts_with(destination, 'voc_')) AS vocational
FROM read_parquet(?) GROUP BY ALL"""


def child(kind: str, data: str) -> None:
    import duckdb  # noqa: F401  (imports are not timed)
    import pandas  # noqa: F401

    from evaluation.national import national_indicators

    t0 = time.perf_counter()
    if kind == "bare":
        con = duckdb.connect(config={"threads": os.cpu_count() or 1})
        df = con.execute(BARE_SQL, [str(Path(data) / "students.parquet")]).df()
        con.close()
    else:
        df = national_indicators(data)
    secs = time.perf_counter() - t0
    hwm_kb = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
                  if line.startswith("VmHWM:"))
    print(f"{secs:.4f} {len(df)} {hwm_kb}")


def run_child(kind: str, data: Path) -> tuple[float, int, float]:
    """(seconds, rows, peak MB) of one fresh process (peak = its VmHWM: ru_maxrss would carry
    over the memory of this parent across fork and exec)."""
    proc = subprocess.Popen([sys.executable, __file__, "--child", kind, str(data)], stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    proc.stdout.close()
    proc.wait()
    if proc.returncode:
        raise SystemExit(f"{kind} child failed (exit code {proc.returncode})")
    secs, rows, hwm_kb = out.split()
    return float(secs), int(rows), int(hwm_kb) / 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ROOT / "data" / "generated" / "national"))
    ap.add_argument("--scale", type=float, default=180.0)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--child", nargs=2, metavar=("KIND", "DATA"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0

    data = Path(args.data)
    if not (data / "truth.json").is_file():
        from evaluation.national import write_national

        t0 = time.perf_counter()
        write_national(data, scale=args.scale)
        print(f"generated {data} in {time.perf_counter() - t0:.1f} s")
    import pyarrow.parquet as pq

    n = pq.ParquetFile(data / "students.parquet").metadata.num_rows
    size = sum(p.stat().st_size for p in data.iterdir() if p.is_file()) / 1e6
    print(f"national cohort: {n:,} graduates, {size:.0f} MB on disk, {os.cpu_count()} CPU(s)")
    res: dict[str, list[tuple[float, int, float]]] = {"bare": [], "toolkit": []}
    for _ in range(args.repeat):
        for kind in ("bare", "toolkit"):  # interleaved: both see the same machine load
            res[kind].append(run_child(kind, data))
    med = {k: statistics.median(r[0] for r in v) for k, v in res.items()}
    peak = {k: max(r[2] for r in v) for k, v in res.items()}
    for k in ("bare", "toolkit"):
        print(f"{k:8s} median {med[k]:6.2f} s  (runs: {', '.join(f'{r[0]:.2f}' for r in res[k])})  "
              f"rows {res[k][0][1]:,}  peak {peak[k]:,.0f} MB")
    ratio = med["toolkit"] / med["bare"]
    print(f"ratio toolkit/bare: {ratio:.2f} (target <= 1.5); toolkit peak {peak['toolkit'] / 1024:.2f} GB (target < 4 GB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
