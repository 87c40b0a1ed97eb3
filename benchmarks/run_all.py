"""Run every benchmark script in turn and print its numbers (``make bench``).

Each script prints its own figures; this only runs them one after the other in fresh
processes, so that one's memory does not count in the next one's peak. Scripts of later
issues (batch, national aggregation) are picked up when they exist.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ("bench_load.py", "bench_estimators.py", "bench_review.py", "bench_batch.py", "bench_national.py",
         "bench_completion.py",
         "monte_carlo.py")


def main() -> int:
    failed = []
    for name in ORDER:
        script = HERE / name
        if not script.is_file():
            continue
        print(f"\n=== {name} ===", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        print(f"=== {name}: exit {rc}, {time.perf_counter() - t0:.1f} s ===", flush=True)
        if rc:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
