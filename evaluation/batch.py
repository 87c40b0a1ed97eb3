"""Batch review cycles: every district and cycle in one command, on one machine or a Dask cluster.

A batch is a list of :class:`CycleSpec` (a name, a parameters file and overrides). Each cycle is
an independent :func:`evaluation.runner.run_review` call writing its own bundle ``OUT/<name>/``
(atomically, as a single run does); failed runs keep their executed notebooks under
``OUT/failed-runs/``. Cycles are spread over Dask workers, one task per cycle:

* by default a ``distributed.LocalCluster`` sized to the machine (one single-threaded worker
  process per core, at most one per cycle);
* ``scheduler="tcp://host:8786"`` submits the same tasks to an existing cluster (started with
  ``dask scheduler`` and ``dask worker``); the workers must see the data, parameters and
  output folders at the same paths (a shared file system) and have this package installed;
* ``workers=1`` without a scheduler runs the cycles one after the other in this process.

Inside a cycle the notebooks run one at a time (``jobs=1``): the parallelism is across cycles.
A cycle that fails does not stop the others. Known kernel-start failures of papermill/jupyter
(``Kernel died before replying to kernel_info``, ZMQ port errors, time-outs while the kernel
starts) are retried up to ``retries`` times. With ``skip_done`` a cycle whose bundle manifest
already records the same parameters and the same SHA-256 of every input file is not run again.

Grid file (YAML), expanding one template parameters file into many cycles::

    template: params/cang_long_2018_2025.yaml   # relative paths: against the grid file's folder,
    defaults:                                   #   then the current folder, then the repository
      bootstrap_reps: 199                       # overrides applied to every cycle (optional)
    cycles:
      - name: d001_2018_2025                    # bundle folder name and the cycle's ``cycle``
        data: data/national/districts/D001      # cohort data folder of this cycle
        district: "Huyện mô phỏng 001"          # any other parameter override
      - name: d001_2022_2025
        data: data/national/districts/D001
        year_start: 2022

Every key of ``defaults`` and of a cycle other than ``name`` must be a parameter of
:class:`evaluation.params.ReviewParams`; unknown keys are errors naming the grid file and cycle.
"""
from __future__ import annotations

import contextlib
import io
import json
import multiprocessing
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .params import ParamsError, ReviewParams, load_params, parse_params, read_params_file, read_yaml_mapping
from .paths import OUTPUT_DIR, ROOT

__all__ = ["CycleSpec", "CycleResult", "load_grid", "cycles_from_params", "bundle_is_current", "run_cycle",
           "run_batch", "summary_frame", "format_summary", "is_kernel_start_failure", "KERNEL_START_FAILURES"]

#: Reasons of a failed notebook that mean the kernel did not start (worth a retry): papermill /
#: nbclient / jupyter_client messages seen when many kernels start at once on a busy machine.
KERNEL_START_FAILURES: tuple[str, ...] = (
    r"Kernel died before replying to kernel_info",
    r"Kernel didn't respond in \d+ seconds",
    r"Timeout waiting for kernel_info reply",
    r"TimeoutError.*kernel",
    r"ZMQError",
    r"Address already in use",
    r"Too many open files",
)
_KERNEL_START_RE = re.compile("|".join(KERNEL_START_FAILURES), re.IGNORECASE)
SUMMARY_NAME = "batch_summary.csv"
LOG_DIR_NAME = "batch-logs"


# --------------------------------------------------------------------------- specs
@dataclass(frozen=True)
class CycleSpec:
    """One cycle of a batch: ``name`` (bundle folder under OUT and the ``cycle`` parameter),
    the parameters file it starts from (absolute path, or None for the defaults) and the
    overrides applied on top (absolute ``data`` folder, other parameters)."""

    name: str
    params_file: str | None
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def params(self, out: Path) -> ReviewParams:
        """The validated parameters of this cycle with its bundle at ``out/<name>``."""
        values = read_params_file(self.params_file) if self.params_file else {}
        values.update(self.overrides)
        values["cycle"] = self.overrides.get("cycle", self.name)
        values["out"] = str(Path(out) / self.name)
        return parse_params(values, source=f"cycle {self.name} ({self.params_file or 'defaults'})")


@dataclass
class CycleResult:
    """Outcome of one cycle: ``status`` ok, failed or skipped (bundle already current)."""

    name: str
    status: str
    wall_time_s: float
    bundle: str | None
    attempts: int = 0
    exit_code: int | None = None
    reason: str | None = None
    log: str | None = None
    worker: str | None = None


def _find_file(given: str | Path, base: Path | None) -> Path:
    p = Path(given).expanduser()
    if p.is_absolute():
        return p
    for b in (base, Path.cwd(), ROOT):
        if b is not None and (b / p).exists():
            return (b / p).resolve()
    return ((base or Path.cwd()) / p).resolve()


def _is_name(v: Any) -> bool:
    return isinstance(v, str) and bool(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", v))


def cycles_from_params(files: Iterable[str | Path]) -> list[CycleSpec]:
    """One cycle per parameters file, named by its ``cycle`` key (data folder as the file says)."""
    specs = []
    for f in files:
        path = _find_file(f, None)
        if not path.is_file():
            raise ParamsError(f"{f}: parameters file not found")
        p = load_params(path)
        data = p.data_path
        specs.append(CycleSpec(name=p.cycle, params_file=str(path), overrides={"data": str(data)}))
    return specs


def load_grid(path: str | Path) -> list[CycleSpec]:
    """The cycles of a grid file (see the module docstring); errors name the file and the cycle."""
    gpath = _find_file(path, None)
    if not gpath.is_file():
        raise ParamsError(f"{path}: grid file not found")
    raw = read_yaml_mapping(gpath, expected="a mapping with 'template' and 'cycles'")
    unknown = sorted(set(raw) - {"template", "defaults", "cycles"})
    if unknown:
        raise ParamsError(f"{gpath}: unknown key(s) {', '.join(unknown)}; expected template, defaults, cycles")
    base = gpath.parent
    template = raw.get("template")
    tpath = None
    if template is not None:
        tpath = _find_file(template, base)
        if not tpath.is_file():
            raise ParamsError(f"{gpath}: template parameters file {template} not found")
    defaults = raw.get("defaults") or {}
    cycles = raw.get("cycles")
    if not isinstance(defaults, dict):
        raise ParamsError(f"{gpath}: 'defaults' must be a mapping of parameters")
    if not isinstance(cycles, list) or not cycles:
        raise ParamsError(f"{gpath}: 'cycles' must be a non-empty list of entries with a 'name'")
    known = set(ReviewParams.model_fields)
    specs: list[CycleSpec] = []
    for i, entry in enumerate(cycles, start=1):
        if not isinstance(entry, dict) or not _is_name(entry.get("name")):
            raise ParamsError(f"{gpath}: cycle #{i}: needs a 'name' made of letters, digits, '.', '_' or '-' "
                              f"(got {entry.get('name') if isinstance(entry, dict) else entry!r})")
        name = entry["name"]
        over = {**defaults, **{k: v for k, v in entry.items() if k != "name"}}
        bad = sorted(set(over) - known)
        if bad:
            raise ParamsError(f"{gpath}: cycle {name}: unknown parameter(s) {', '.join(bad)}; "
                              f"known keys: {', '.join(sorted(known))}")
        for key in ("data", "targets_file"):
            if over.get(key):
                over[key] = str(_find_file(over[key], base))
        if "out" in over:
            raise ParamsError(f"{gpath}: cycle {name}: 'out' is set by the batch (OUT/<name>); remove it")
        specs.append(CycleSpec(name=name, params_file=str(tpath) if tpath else None, overrides=over))
    return specs


def _check_unique(specs: Sequence[CycleSpec]) -> None:
    seen: dict[str, int] = {}
    for s in specs:
        seen[s.name] = seen.get(s.name, 0) + 1
    dup = sorted(n for n, k in seen.items() if k > 1)
    if dup:
        raise ParamsError(f"cycle name(s) used more than once: {', '.join(dup)} (each cycle writes OUT/<name>/)")


# --------------------------------------------------------------------------- one cycle
def bundle_is_current(params: ReviewParams, params_file: str | None) -> tuple[bool, str]:
    """Whether the bundle at ``params.out_path`` was made from these parameters and these
    inputs (same SHA-256 of every data file, the parameters file and the targets file) and
    completed; with the reason when not."""
    from .runner import input_files

    manifest = params.out_path / "manifest.json"
    if not manifest.is_file():
        return False, "no bundle yet"
    try:
        m = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return False, f"manifest unreadable: {exc}"
    if m.get("parameters") != params.to_yaml_dict():
        return False, "parameters changed"
    if m.get("report_error") or any(n.get("status") not in ("ok", "skipped") for n in m.get("notebooks", [])):
        return False, "previous run incomplete"
    if not params.data_path.is_dir():
        return False, "data folder missing"

    def key(rows: Iterable[Mapping[str, Any]]) -> list[tuple]:
        return sorted((r["role"], r["role"] == "data" and r["path"] or "", r["sha256"]) for r in rows)

    if key(m.get("inputs", [])) != key(input_files(params, params_file)):
        return False, "input files changed"
    return True, "bundle matches inputs and parameters"


def is_kernel_start_failure(reason: str | None) -> bool:
    """Whether a failed notebook's reason is a known kernel-start failure (worth a retry)."""
    return bool(reason) and bool(_KERNEL_START_RE.search(reason))


def _failed_manifest(out_root: Path, cycle: str, since: float) -> dict | None:
    """The manifest the runner kept for a failed run of ``cycle`` started after ``since``."""
    best = None
    for m in (out_root / "failed-runs").glob(f"{cycle}-*/manifest.json"):
        try:
            mt = m.stat().st_mtime
        except OSError:
            continue
        if mt >= since - 1 and (best is None or mt > best[0]):
            best = (mt, m)
    if best is None:
        return None
    try:
        return json.loads(best[1].read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _reason_from_log(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith("error:"):
            return line[len("error:"):].strip()
    tail = [ln for ln in text.splitlines() if ln.strip()]
    return tail[-1].strip() if tail else None


class _LogSink(io.TextIOBase):
    """Stand-in for stdout/stderr while a cycle runs: everything goes to the cycle's log."""

    def __init__(self, f):
        self.f = f

    def write(self, s: str) -> int:
        self.f.write(s)
        self.f.flush()
        return len(s)


def run_cycle(spec: CycleSpec, *, out: str | Path, skip_done: bool = False, retries: int = 2,
              notebooks: str | Sequence[str] | None = None, report: bool = True,
              runner: Callable[..., int] | None = None) -> CycleResult:
    """Run one cycle (validate, notebooks one at a time, bundle) in this process; never raises
    for a failed cycle: the result says what happened.

    The cycle's messages go to ``OUT/batch-logs/<name>.log``. A run that failed only because a
    kernel did not start is retried up to ``retries`` times. ``runner`` replaces
    ``run_review`` (tests). A daemonic process (a Dask worker under a nanny with the default
    ``distributed.worker.daemon: true``) cannot start the notebook processes; the cycle then
    runs in a child Python process instead (same code, same result).
    """
    out_root = Path(out).resolve()
    t0 = time.perf_counter()
    bundle = str(out_root / spec.name)
    worker = f"{os.uname().nodename}:{os.getpid()}"
    if runner is None and multiprocessing.current_process().daemon:
        return _run_cycle_in_child(spec, out=out_root, skip_done=skip_done, retries=retries,
                                   notebooks=notebooks, report=report, t0=t0)
    log_dir = out_root / LOG_DIR_NAME
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{spec.name}.log"
    try:
        params = spec.params(out_root)
    except ParamsError as exc:
        log_path.write_text(str(exc) + "\n", encoding="utf-8")
        return CycleResult(spec.name, "failed", time.perf_counter() - t0, None, 0, 2,
                           str(exc).splitlines()[0] + " (see log)", str(log_path), worker)
    if skip_done:
        current, why = bundle_is_current(params, spec.params_file)
        if current:
            return CycleResult(spec.name, "skipped", time.perf_counter() - t0, bundle, 0, 0, why, None, worker)
    if runner is None:
        from .runner import run_review as runner
    code, reason, attempt = 1, None, 0
    with open(log_path, "w", encoding="utf-8") as logf:
        for attempt in range(1, retries + 2):
            started = time.time()
            sink = _LogSink(logf)
            try:
                with contextlib.redirect_stderr(sink), contextlib.redirect_stdout(sink):
                    logf.write(f"--- attempt {attempt} of cycle {spec.name}\n")
                    code = runner(params, params_file=spec.params_file, jobs=1,
                                  notebooks=[Path(p) for p in notebooks] if isinstance(notebooks, list | tuple)
                                  else notebooks, progress=False, report=report)
            except Exception as exc:  # a bug or an environment failure: the cycle fails, the batch goes on
                import traceback

                logf.write(traceback.format_exc())
                code, reason = 1, f"{type(exc).__name__}: {exc}"
                break
            if code == 0:
                reason = None
                break
            manifest = _failed_manifest(out_root, params.cycle, started)
            failed = [n for n in (manifest or {}).get("notebooks", []) if n.get("status") == "failed"]
            reason = "; ".join(f"{n['notebook']}: {n.get('reason')}" for n in failed) or None
            if reason is None:
                logf.flush()
                reason = _reason_from_log(log_path.read_text(encoding="utf-8").split(f"--- attempt {attempt} ")[-1])
            retryable = failed and all(is_kernel_start_failure(n.get("reason")) and not n.get("cell") for n in failed)
            if not retryable or code in (130, 143):
                break
            logf.write(f"--- kernel did not start ({reason}); retrying\n")
    status = "ok" if code == 0 else "failed"
    return CycleResult(spec.name, status, time.perf_counter() - t0, bundle if code == 0 else None, attempt,
                       code, reason, str(log_path), worker)


def _run_cycle_in_child(spec: CycleSpec, *, out: Path, skip_done: bool, retries: int,
                        notebooks, report: bool, t0: float) -> CycleResult:
    payload = json.dumps({"spec": asdict(spec), "out": str(out), "skip_done": skip_done, "retries": retries,
                          "notebooks": notebooks if notebooks is None or isinstance(notebooks, str)
                          else [str(p) for p in notebooks], "report": report})
    proc = subprocess.run([sys.executable, "-m", "evaluation.batch"], input=payload, capture_output=True,
                          text=True, cwd=str(ROOT))
    try:
        result = CycleResult(**json.loads(proc.stdout.strip().splitlines()[-1]))
    except (ValueError, IndexError, TypeError):
        return CycleResult(spec.name, "failed", time.perf_counter() - t0, None, 1, proc.returncode,
                           f"cycle process ended without a result (exit code {proc.returncode}): "
                           f"{(proc.stderr.strip().splitlines() or [''])[-1]}")
    result.wall_time_s = time.perf_counter() - t0
    return result


def _child_main() -> int:
    """``python -m evaluation.batch``: run one cycle described by JSON on stdin, print the result."""
    args = json.loads(sys.stdin.read())
    spec = CycleSpec(**args.pop("spec"))
    res = run_cycle(spec, **args)
    print(json.dumps(asdict(res)))
    return 0


# --------------------------------------------------------------------------- the batch
def _local_cluster(n_workers: int):
    import dask
    from distributed import LocalCluster

    # a nanny's worker is a daemonic process by default, and a daemonic process may not
    # start the notebook processes; the runner's children end with it anyway
    with dask.config.set({"distributed.worker.daemon": False}):
        return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                            dashboard_address=None, memory_limit=0, silence_logs=40)


def run_batch(specs: Sequence[CycleSpec], *, out: str | Path = OUTPUT_DIR, workers: int | None = None,
              scheduler: str | None = None, skip_done: bool = False, retries: int = 2,
              notebooks: str | Path | Sequence[str | Path] | None = None, report: bool = True,
              progress: bool = True) -> list[CycleResult]:
    """Run every cycle, each into ``out/<name>/``; the results in the order of ``specs``.

    ``scheduler`` (``tcp://host:8786``) uses an existing Dask cluster; otherwise a LocalCluster of
    ``workers`` single-threaded processes (default: the CPU count, at most one per cycle), or,
    with ``workers=1``, this process. Writes ``out/batch_summary.csv``.
    """
    specs = list(specs)
    _check_unique(specs)
    out_root = Path(out).expanduser().resolve()
    out_root.mkdir(parents=True, exist_ok=True)
    nbs: str | list[str] | None
    if notebooks is None:
        nbs = None
    elif isinstance(notebooks, str | Path):
        nbs = str(Path(notebooks).resolve())
    else:
        nbs = [str(Path(p).resolve()) for p in notebooks]
    kwargs = dict(out=str(out_root), skip_done=skip_done, retries=retries, notebooks=nbs, report=report)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(specs), desc="cycles", unit="cycle", file=sys.stderr, dynamic_ncols=True)
    results: dict[str, CycleResult] = {}

    def done(r: CycleResult) -> None:
        results[r.name] = r
        if bar is not None:
            n_failed = sum(x.status == "failed" for x in results.values())
            bar.set_postfix_str(f"{r.name} {r.status}" + (f", {n_failed} failed" if n_failed else ""), refresh=False)
            bar.update(1)

    n_workers = max(1, min(workers or os.cpu_count() or 1, len(specs) or 1))
    try:
        if scheduler is None and n_workers == 1:
            for s in specs:
                done(run_cycle(s, **kwargs))
        else:
            _run_dask(specs, kwargs, scheduler=scheduler, n_workers=n_workers, done=done)
    finally:
        if bar is not None:
            bar.close()
    ordered = [results[s.name] for s in specs if s.name in results]
    if ordered:
        summary_frame(ordered).to_csv(out_root / SUMMARY_NAME, index=False, lineterminator="\n")
    return ordered


def _run_dask(specs: Sequence[CycleSpec], kwargs: dict, *, scheduler: str | None, n_workers: int,
              done: Callable[[CycleResult], None]) -> None:
    from distributed import Client, as_completed

    cluster = None
    if scheduler is None:
        cluster = _local_cluster(n_workers)
        client = Client(cluster)
    else:
        client = Client(scheduler, timeout="30s")
    try:
        futures = {client.submit(run_cycle, s, key=f"cycle-{s.name}-{time.time_ns()}", pure=False, **kwargs): s
                   for s in specs}
        for fut in as_completed(futures):
            s = futures[fut]
            try:
                done(fut.result())
            except Exception as exc:  # the worker died or the task could not run: this cycle fails
                done(CycleResult(s.name, "failed", float("nan"), None, 0, None,
                                 f"task failed on the cluster: {type(exc).__name__}: {exc}"))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --------------------------------------------------------------------------- summary
def summary_frame(results: Sequence[CycleResult]):
    """One row per cycle: cycle, status, wall_time_s, attempts, bundle, reason, log."""
    import pandas as pd

    return pd.DataFrame([{"cycle": r.name, "status": r.status, "wall_time_s": round(r.wall_time_s, 1),
                          "attempts": r.attempts, "bundle": r.bundle or "", "reason": r.reason or "",
                          "log": r.log or ""} for r in results],
                        columns=["cycle", "status", "wall_time_s", "attempts", "bundle", "reason", "log"])


def format_summary(results: Sequence[CycleResult], *, width: int = 70) -> str:
    """The final table printed by ``python -m evaluation batch`` (cycle, status, wall time,
    bundle path or the reason of the failure)."""
    rows = [("cycle", "status", "wall time", "bundle / reason")]
    for r in results:
        where = r.bundle if r.status != "failed" else f"{r.reason or 'failed'}" + (f" (log: {r.log})" if r.log else "")
        if len(where) > width and r.status == "failed":
            where = where[: width - 1] + "…" + (f" (log: {r.log})" if r.log else "")
        wall = "-" if r.wall_time_s != r.wall_time_s else f"{r.wall_time_s:.1f} s"
        rows.append((r.name, r.status + (f" ({r.attempts} tries)" if r.attempts > 1 else ""), wall, where or ""))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(row[i].ljust(widths[i]) for i in range(3)) + "  " + row[3] for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 15)
    n = {k: sum(r.status == k for r in results) for k in ("ok", "skipped", "failed")}
    lines.append(f"{len(results)} cycles: {n['ok']} ok, {n['skipped']} skipped (bundle current), {n['failed']} failed")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(_child_main())
