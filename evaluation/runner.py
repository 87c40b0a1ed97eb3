"""Run a review cycle: validate the data, execute the notebooks, write the evidence bundle atomically.

``run_review(params)`` is what ``python -m evaluation run`` and ``make review`` call:

1. the data folder is resolved (the synthetic sample is generated when it is the default and
   missing) and validated with ``evaluation.data.load_cohort``; invalid data stops the run with
   the validation report before any notebook runs and before anything is written;
2. a staging folder is made next to the bundle (``OUT.parent/.<name>.staging-<pid>``);
3. the notebooks are executed by papermill, each in its own process (its own kernel), at most
   ``jobs`` at a time; ``99_*`` notebooks (the summary, which reads what the others wrote) run
   after all the others. Executed notebooks go to ``stage/notebooks/``;
4. the evidence index and the human report are built (``evaluation.evidence.build_index``,
   ``evaluation.report.build_report``) and ``manifest.json`` is written;
5. only then the previous bundle is moved aside, the staging folder renamed to ``OUT`` and the
   old bundle deleted.

A failed notebook, a failed report step, Ctrl-C or SIGTERM leave ``OUT`` as it was: the failed
executed notebooks (with papermill's error cell) and the manifest go to
``OUT.parent/failed-runs/<cycle>-<timestamp>/``, the staging folder is removed and the exit
code is non-zero. A run killed outright (SIGKILL, power cut) leaves its staging folder behind;
the next run of the same bundle removes it.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata as metadata
import json
import multiprocessing
import multiprocessing.connection
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .fsutil import swap_into_place, would_delete
from .params import ReviewParams
from .paths import NOTEBOOKS_DIR, OUTPUT_DIR, ROOT

#: Kernel every notebook runs in (``make lab`` / ``make review`` install it into the venv).
KERNEL_NAME = "python3"
#: Notebooks whose name starts with this run after all the others (they read their evidence).
LAST_PREFIX = "99_"
#: Folder of the staging area holding each notebook process's log (not part of the bundle).
LOG_DIR = ".logs"
#: Log of the index and report steps (their traceback when one fails), kept in failed-runs/.
OUTPUTS_LOG = "outputs.log"
#: Packages whose versions the manifest records besides the project's own dependencies.
_ALWAYS_RECORDED = ("evaluation", "numpy", "pandas", "scipy", "statsmodels", "papermill", "nbclient", "ipykernel")


@dataclass
class NotebookRun:
    """Outcome of one notebook: ``status`` is ok, failed, skipped or not_run."""

    name: str
    status: str = "not_run"
    reason: str | None = None
    wall_time_s: float | None = None
    cell: int | None = None
    output: Path | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        d = {"notebook": self.name, "status": self.status, "reason": self.reason,
             "wall_time_s": None if self.wall_time_s is None else round(self.wall_time_s, 2)}
        if self.cell is not None:
            d["cell"] = self.cell
        return d


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during a run."""


# --------------------------------------------------------------------------- helpers
def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _now() -> datetime:
    return datetime.now(timezone.utc).astimezone()


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes, hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def discover_notebooks(folder: Path | str | None = None) -> list[Path]:
    """The notebooks of a review in run order: ``*.ipynb`` of the folder, sorted by name."""
    folder = Path(folder) if folder is not None else NOTEBOOKS_DIR
    return sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))


def _waves(notebooks: Sequence[Path]) -> list[list[Path]]:
    first = [p for p in notebooks if not p.name.startswith(LAST_PREFIX)]
    last = [p for p in notebooks if p.name.startswith(LAST_PREFIX)]
    return [w for w in (first, last) if w]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _cleanup_leftovers(out: Path) -> None:
    """Remove staging folders of runs that died; put back a bundle a killed swap left aside."""
    for d in out.parent.glob(f".{out.name}.staging-*"):
        m = re.fullmatch(rf"\.{re.escape(out.name)}\.staging-(\d+)", d.name)
        if m and (int(m.group(1)) == os.getpid() or not _pid_alive(int(m.group(1)))):
            shutil.rmtree(d, ignore_errors=True)
    for d in sorted(out.parent.glob(f".{out.name}.previous-*")):
        m = re.fullmatch(rf"\.{re.escape(out.name)}\.previous-(\d+)", d.name)
        if not m or _pid_alive(int(m.group(1))):
            continue
        if not out.exists():
            os.replace(d, out)  # killed between the two renames of a swap: the old bundle returns
        else:
            shutil.rmtree(d, ignore_errors=True)


def _swap_into_place(stage: Path, out: Path) -> None:
    """Replace ``out`` by ``stage`` with renames on one filesystem; the old bundle is deleted last."""
    swap_into_place(stage, out, aside="previous")


# --------------------------------------------------------------------------- the output folder
#: Longest file name the run writes below the bundle (``report/<cycle>_<lang>.xlsx``, notebooks,
#: figures) beyond the cycle name; a margin for the path-length check.
_PATH_MARGIN = 120
#: Least free space (bytes) the parent of the bundle needs before a run starts.
MIN_FREE_BYTES = 50 * 1024 * 1024


def is_bundle(folder: Path) -> bool:
    """True when ``folder`` is an evidence bundle this runner wrote: it holds a ``manifest.json``
    that is a JSON object with a ``cycle``."""
    m = Path(folder) / "manifest.json"
    try:
        doc = json.loads(m.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and "cycle" in doc


def _contains(outer: Path, inner: Path) -> bool:
    """``outer`` is ``inner`` or one of its parents."""
    return outer == inner or outer in inner.parents


def check_out_folder(params: ReviewParams, *, params_file: str | Path | None = None,
                     overwrite: bool = False) -> str | None:
    """None when the run may write its bundle at ``params.out_path``, else the message.

    Replacing ``out`` deletes what it holds, so ``out`` must not be, or contain, the file system
    root, the home folder, the repository, the notebooks, the data folder, the parameters or
    targets file; it must not lie inside the data folder (the bundle would become input). An
    existing ``out`` must be a bundle (a ``manifest.json`` of an earlier run) or empty, unless
    ``overwrite``; inside the repository (the toolkit's own code, parameters, tests), outside
    ``output/``, even ``overwrite`` does not let a run replace a folder that is not a bundle. Its parent must be writable, have ``MIN_FREE_BYTES`` free and allow the
    bundle's path lengths. Nothing is written except a probe file, removed at once.
    """
    out = Path(os.path.abspath(params.out_path))
    real = Path(os.path.realpath(out))
    protected: list[tuple[Path, str]] = [
        (Path(real.anchor or "/"), "the root of the file system"),
        (Path.home(), "your home folder"),
        (ROOT, "the repository of the toolkit"),
        (NOTEBOOKS_DIR, "the notebooks folder"),
        (params.data_path, "the data folder (parameter 'data')"),
    ]
    for given, what in ((params_file, "the parameters file"), (params.targets_path, "the targets file")):
        if given:
            protected.append((Path(given), what))
    hit = would_delete(real, protected)
    if hit is not None:
        what, inside = hit
        return (f"output folder {out} (parameter 'out' / --out) is {what}" if inside is None else
                f"output folder {out} (parameter 'out' / --out) contains {what} ({inside})") + (
            "; a run replaces its output folder, so it would be deleted. Choose a folder of its own, "
            "e.g. output/<cycle>")
    data_real = Path(os.path.realpath(params.data_path))
    if _contains(data_real, real):
        return (f"output folder {out} (parameter 'out' / --out) is inside the data folder {params.data_path}; "
                "the bundle would become input of the next run. Choose a folder outside the data folder")
    parent = out.parent
    while not os.path.exists(parent) and parent != parent.parent:  # never raises (a name too long)
        parent = parent.parent
    try:
        name_max = os.pathconf(parent, "PC_NAME_MAX")
        path_max = os.pathconf(parent, "PC_PATH_MAX")
    except (OSError, ValueError):
        name_max, path_max = 255, 4096
    longest_name = max([len(part.encode()) for part in out.parts[1:]] or [0])
    staging = len(f".{out.name}.staging-{os.getpid()}".encode())
    cycle_file = len(f"{params.cycle}_{params.lang}.xlsx".encode())
    if max(longest_name, staging, cycle_file) > name_max:
        return (f"output folder {out}: a name in the path is longer than the file system allows ({name_max} bytes); "
                "shorten the folder name (parameter 'out') or the cycle name (parameter 'cycle')")
    if len(str(out).encode()) + _PATH_MARGIN + len(params.cycle.encode()) > path_max:
        return (f"output folder {out}: the path is too long for the files of the bundle (the file system allows "
                f"{path_max} bytes); choose a shorter path")
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            return (f"output folder {out} (parameter 'out' / --out) exists and is not a folder; "
                    "choose another path or remove the file")
        foreign = not is_bundle(out) and any(out.iterdir())
        repo = Path(os.path.realpath(ROOT))
        if foreign and repo in real.parents and not _contains(Path(os.path.realpath(OUTPUT_DIR)), real):
            return (f"output folder {out} (parameter 'out' / --out) is a folder of the toolkit's repository "
                    f"({real.relative_to(repo).as_posix()}/) holding files that are not an evidence bundle; a run "
                    "replaces its output folder, so they would be deleted (--overwrite does not apply to the "
                    "repository). Choose a folder under output/ or outside the repository")
        if not overwrite and foreign:
            return (f"output folder {out} (parameter 'out' / --out) holds files that are not an evidence bundle "
                    "(no manifest.json of an earlier run); a run replaces the whole folder. Choose an empty or new "
                    "folder, or pass --overwrite to replace it")
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"output folder {out}: cannot write in {parent} (permission denied or read-only file system)"
    try:
        probe = parent / f".{out.name}.probe-{os.getpid()}"
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(probe)
    except OSError as exc:
        return f"output folder {out}: cannot write in {parent} ({exc.strerror or exc})"
    with contextlib.suppress(OSError):
        free = shutil.disk_usage(parent).free
        if free < MIN_FREE_BYTES:
            return (f"output folder {out}: only {free // (1024 * 1024)} MB free on the disk of {parent}; a run needs "
                    f"at least {MIN_FREE_BYTES // (1024 * 1024)} MB. Free some space or choose another disk")
    return None


class OutputLocked(RuntimeError):
    """Another run is writing the same bundle."""


@contextlib.contextmanager
def out_lock(out: Path):
    """Hold an exclusive lock on ``OUT.parent/.<name>.lock`` for the run; raise
    :class:`OutputLocked` at once (no waiting) when another run holds it. The lock file is
    removed when the run ends."""
    import fcntl

    path = out.parent / f".{out.name}.lock"
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = ""
            with contextlib.suppress(OSError, ValueError):
                holder = os.pread(fd, 32, 0).decode().strip()
            os.close(fd)
            raise OutputLocked(f"another run{f' (process {holder})' if holder else ''} is writing the bundle {out}; "
                               "wait for it to finish, or choose another output folder") from None
        # the file may have been removed by the run that held it just before: lock the current one
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


# --------------------------------------------------------------------------- provenance
def input_files(params: ReviewParams, params_file: str | Path | None = None) -> list[dict[str, Any]]:
    """Every input of the run with its SHA-256: each file of the data folder, the parameters
    file and the targets file. Data files are named relative to the data folder."""
    rows: list[dict[str, Any]] = []
    data = params.data_path
    if data.is_dir():
        for p in sorted(q for q in data.rglob("*") if q.is_file()):
            rows.append({"role": "data", "path": p.relative_to(data).as_posix(),
                         "bytes": p.stat().st_size, "sha256": sha256_file(p)})
    for role, given in (("params", params_file), ("targets", params.targets_file)):
        if given:
            p = Path(given)
            p = p if p.is_absolute() else (Path.cwd() / p if (Path.cwd() / p).is_file() else ROOT / p)
            rows.append({"role": role, "path": str(given), "bytes": p.stat().st_size, "sha256": sha256_file(p)})
    return rows


def package_versions() -> dict[str, str | None]:
    """Installed versions of the project's dependencies (from its metadata) and the key packages."""
    names = list(_ALWAYS_RECORDED)
    with contextlib.suppress(metadata.PackageNotFoundError):
        for req in metadata.requires("evaluation") or []:
            if "extra ==" in req:
                continue
            names.append(re.split(r"[\s;<>=!~\[(]", req, maxsplit=1)[0])
    versions: dict[str, str | None] = {"python": sys.version.split()[0]}
    for name in dict.fromkeys(names):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def code_version() -> dict[str, Any]:
    """The code that ran: git commit and ``describe`` (``dirty`` when tracked files changed),
    else the package version alone."""
    from . import __version__

    info: dict[str, Any] = {"package_version": __version__, "git_commit": None, "git_describe": None, "dirty": None}
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        return info
    try:
        def git(*args: str) -> str:
            return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                                  check=True, timeout=20).stdout.strip()
        info["git_commit"] = git("rev-parse", "HEAD")
        info["git_describe"] = git("describe", "--always", "--tags", "--dirty")
        info["dirty"] = info["git_describe"].endswith("-dirty")
    except (subprocess.SubprocessError, OSError):
        pass
    return info


# --------------------------------------------------------------------------- execution
def _die_with_runner() -> None:
    """End this process as soon as the runner that started it is gone, even killed by SIGKILL.

    ``multiprocessing.parent_process()`` is the runner (not the fork server) and its sentinel
    becomes ready when the runner dies. The notebook's kernel then ends too: ipykernel exits
    when its parent process disappears.
    """
    import threading

    runner = multiprocessing.parent_process()
    if runner is None:  # pragma: no cover - always set in a multiprocessing child
        return

    def watch() -> None:
        runner.join()
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="runner-watch", daemon=True).start()


def _execute_one(src: str, dst: str, parameters: dict[str, Any], cwd: str, log: str, conn) -> None:
    """Child process: execute one notebook with papermill and send back its outcome.

    The kernel's own chatter (stdout/stderr of papermill and the kernel process) goes to ``log``;
    what the notebook prints is in the executed notebook.
    """
    os.setsid()  # Ctrl-C goes to the runner, which stops its children itself
    _die_with_runner()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    import papermill as pm
    from papermill.execute import remove_error_markers

    result: dict[str, Any]
    try:
        pm.execute_notebook(src, dst, parameters=parameters, kernel_name=KERNEL_NAME, language="python",
                            cwd=cwd, progress_bar=False, log_output=False, request_save_on_cell_execute=False)
        result = {"status": "ok"}
    except pm.PapermillExecutionError as exc:
        if exc.ename == "NotebookSkipped":
            import nbformat

            nb = remove_error_markers(nbformat.read(dst, as_version=4))
            nbformat.write(nb, dst)
            result = {"status": "skipped", "reason": exc.evalue}
        else:
            result = {"status": "failed", "reason": f"{exc.ename}: {exc.evalue}".rstrip(": "),
                      "cell": exc.exec_count}
    except BaseException as exc:  # kernel died, kernel not found, bad notebook file
        result = {"status": "failed", "reason": f"{type(exc).__name__}: {exc}".strip()}
    conn.send(result)
    conn.close()


def _context():
    """Processes forked from a fresh server that has imported papermill once (no per-notebook
    import cost, no threads of the runner inherited); plain spawn where there is no fork."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        # replaces the default ["__main__"]: the CLI's __main__ must not be re-imported
        ctx.set_forkserver_preload(["papermill", "nbformat", "evaluation.runner"])
        return ctx
    return multiprocessing.get_context("spawn")


@contextlib.contextmanager
def _caller_main_hidden():
    """While children start, hide the caller's ``__main__`` from multiprocessing.

    A forkserver/spawn child re-imports the parent's main script unless it is guarded by
    ``if __name__ == "__main__"``; an unguarded script calling ``run_review`` would start the
    review again in every child. The children only run ``_execute_one`` of this module, so
    they do not need the caller's main module at all.
    """
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if k in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__dict__["__spec__"] = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


def _execute(notebooks: Sequence[Path], *, stage: Path, parameters: dict[str, Any], cwd: Path,
             jobs: int, progress: bool) -> list[NotebookRun]:
    """Run the notebooks in waves, at most ``jobs`` processes at a time; stop at a failed wave."""
    runs = {p.name: NotebookRun(p.name) for p in notebooks}
    ctx = _context()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(notebooks), desc="notebooks", unit="nb", file=sys.stderr, dynamic_ncols=True)
    running: dict[Any, tuple[Path, Any, Any, float]] = {}  # sentinel -> (nb, process, conn, t0)

    def show() -> None:
        if bar is not None:
            bar.set_postfix_str(", ".join(sorted(nb.stem for nb, *_ in running.values())), refresh=True)

    try:
        for wave in _waves(notebooks):
            queue = list(wave)
            while queue or running:
                while queue and len(running) < jobs:
                    nb = queue.pop(0)
                    dst = stage / "notebooks" / nb.name
                    log = stage / LOG_DIR / f"{nb.stem}.log"
                    recv, send = ctx.Pipe(duplex=False)
                    proc = ctx.Process(target=_execute_one, name=f"review:{nb.name}",
                                       args=(str(nb), str(dst), parameters, str(cwd), str(log), send))
                    with _caller_main_hidden():
                        proc.start()
                    send.close()
                    running[proc.sentinel] = (nb, proc, recv, time.perf_counter())
                    show()
                for sentinel in multiprocessing.connection.wait(list(running), timeout=1.0):
                    nb, proc, recv, t0 = running.pop(sentinel)
                    result: dict[str, Any] = {}
                    with contextlib.suppress(EOFError, OSError):
                        if recv.poll():
                            result = recv.recv()
                    proc.join()
                    run = runs[nb.name]
                    run.wall_time_s = time.perf_counter() - t0
                    run.output = stage / "notebooks" / nb.name
                    if result:
                        run.status, run.reason, run.cell = result["status"], result.get("reason"), result.get("cell")
                    else:
                        run.status, run.reason = "failed", f"notebook process ended without a result (exit code {proc.exitcode})"
                    if bar is not None:
                        bar.update(1)
                    show()
            if any(r.status == "failed" for r in runs.values()):
                for r in runs.values():
                    if r.status == "not_run":
                        r.reason = "not run: an earlier notebook failed"
                break
    except KeyboardInterrupt:
        for nb, proc, recv, _ in running.values():
            proc.terminate()
        for nb, proc, recv, _ in running.values():
            proc.join(10)
            if proc.is_alive():
                proc.kill()
                proc.join()
            runs[nb.name].reason = "interrupted"
        raise
    finally:
        if bar is not None:
            bar.close()
    return list(runs.values())


# --------------------------------------------------------------------------- inputs and outputs
def _validate_inputs(params: ReviewParams) -> str | None:
    """None when the data folder and the targets are usable, else the message to show."""
    from .data import CohortValidationError, load_cohort
    from .sample import ensure_sample

    try:
        ensure_sample(params)
    except ValueError as exc:  # the default sample folder holds the user's own files
        return f"data folder {params.data_path}: {exc}"
    if params.data_path.exists() and not params.data_path.is_dir():
        return f"data folder {params.data_path} is a file, not a folder (parameter 'data')"
    if not params.data_path.is_dir():
        return f"data folder {params.data_path} does not exist (parameter 'data')"
    try:
        cohort = load_cohort(params.data_path, years=params.years,
                             unknown_share_warning=params.unknown_share_warning)
    except CohortValidationError as exc:
        report = getattr(exc, "report", None)
        return f"data folder {params.data_path} breaks the data contract:\n" + (
            report.format(lang=params.lang) if report is not None and hasattr(report, "format") else str(exc))
    report = getattr(cohort, "report", None)
    warnings = getattr(report, "warnings", None)
    if warnings:
        _say(f"data: {len(warnings)} warning(s) in {params.data_path} (shown in 01_data_quality)")
    if params.targets_file and not (params.targets_path and params.targets_path.is_file()):
        return f"targets file {params.targets_file} not found (parameter 'targets_file')"
    from .reference import load_targets

    try:
        load_targets(params.target_sets, params.targets_path, [t.model_dump() for t in params.targets])
    except (ValueError, KeyError) as exc:
        return f"targets: {exc}"
    return _check_previous_bundle(params)


def _check_previous_bundle(params: ReviewParams) -> str | None:
    """None when ``previous_bundle`` is unset or a readable bundle of the same district and another cycle, else
    the message (before any work: the comparison is the report's last step)."""
    prev = params.previous_bundle_path
    if prev is None:
        return None
    from .compare import CompareError, load_bundle

    try:
        b = load_bundle(prev)
    except (CompareError, OSError, ValueError, KeyError) as exc:
        return f"previous bundle {prev} (parameter 'previous_bundle'): {exc}"
    if b.cycle == params.cycle:
        return (f"previous bundle {prev} (parameter 'previous_bundle') is of this cycle ({b.cycle!r}); give the bundle "
                "of the previous review")
    if b.district != params.district:
        return (f"previous bundle {prev} (parameter 'previous_bundle') is of {b.district!r}, this review of "
                f"{params.district!r}: 'since the last review' compares one district")
    return None


# --------------------------------------------------------------------------- the run
def run_review(params: ReviewParams, *, params_file: str | Path | None = None, jobs: int | None = None,
               notebooks: Path | str | Sequence[Path | str] | None = None, progress: bool = True,
               report: bool = True, overwrite: bool = False) -> int:
    """Run one review cycle and write its evidence bundle at ``params.out_path``; the exit code.

    ``notebooks`` is a folder (default ``notebooks/``) or a list of notebook files; ``jobs`` the
    number of notebooks executed at once (default: the CPU count); ``report=False`` leaves out the
    human report (the evidence index is always built); ``overwrite`` lets the run replace an
    existing folder that is not a bundle (never a protected one, see :func:`check_out_folder`).
    Two runs into the same bundle do not overlap: the second stops at once. Returns 0 when the bundle was
    written, 1 when the data was invalid or a notebook or report step failed (the previous
    bundle untouched), 130 / 143 when interrupted by Ctrl-C / SIGTERM.
    """
    started, t0 = _now(), time.perf_counter()
    out = params.out_path
    if notebooks is None or isinstance(notebooks, str | Path):
        nb_list = discover_notebooks(notebooks)
        nb_dir = Path(notebooks) if notebooks is not None else NOTEBOOKS_DIR
    else:
        nb_list = [Path(p) for p in notebooks]
        nb_dir = nb_list[0].parent if nb_list else NOTEBOOKS_DIR
    if not nb_list:
        _say(f"error: no notebooks found in {nb_dir}")
        return 2
    nb_list = [p.resolve() for p in nb_list]
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(nb_list)))

    problem = check_out_folder(params, params_file=params_file, overwrite=overwrite)
    if problem:
        _say(f"error: {problem}\nNothing was run or written.")
        return 2
    problem = _validate_inputs(params)
    if problem:
        _say(f"error: {problem}\nNo notebook was run; the bundle at {out} is unchanged.")
        return 1
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        lock = out_lock(out)
        lock.__enter__()
    except OutputLocked as exc:
        _say(f"error: {exc}\nNothing was run or written.")
        return 2
    except OSError as exc:
        _say(f"error: output folder {out}: cannot write in {out.parent} ({exc.strerror or exc})\nNothing was run.")
        return 2
    try:
        return _run_locked(params, out=out, nb_list=nb_list, nb_dir=nb_dir, jobs=jobs, params_file=params_file,
                           progress=progress, report=report, full_review=notebooks is None, started=started, t0=t0)
    finally:
        lock.__exit__(None, None, None)


def _run_locked(params: ReviewParams, *, out: Path, nb_list: list[Path], nb_dir: Path, jobs: int, params_file,
                progress: bool, report: bool, full_review: bool, started: datetime, t0: float) -> int:
    """The run proper, while this process holds the lock of the bundle."""
    _cleanup_leftovers(out)
    stage = out.parent / f".{out.name}.staging-{os.getpid()}"
    try:
        (stage / "notebooks").mkdir(parents=True)
        (stage / LOG_DIR).mkdir()
    except OSError as exc:
        shutil.rmtree(stage, ignore_errors=True)
        _say(f"error: output folder {out}: cannot write in {out.parent} ({exc.strerror or exc})\nNothing was run; "
             f"the bundle at {out} is unchanged.")
        return 2
    parameters = {**params.to_yaml_dict(), "stage_dir": str(stage)}

    def on_sigterm(signum, frame):  # noqa: ARG001
        raise RunInterrupted("SIGTERM")

    old_handler = signal.signal(signal.SIGTERM, on_sigterm) if _is_main_thread() else None
    runs: list[NotebookRun] = []
    failure: str | None = None
    exit_code = 1
    try:
        _say(f"review {params.cycle}: {len(nb_list)} notebooks, {jobs} at a time; data {params.data_path}")
        runs = _execute(nb_list, stage=stage, parameters=parameters, cwd=nb_dir.resolve(), jobs=jobs,
                        progress=progress)
        failed = [r for r in runs if r.status == "failed"]
        if failed:
            failure = "; ".join(f"notebook {r.name} failed" + (f" at cell [{r.cell}]" if r.cell else "")
                                + f": {r.reason}" for r in failed)
        else:
            failure = _build_outputs(stage, params, report=report, full_review=full_review)
        manifest = _manifest(params, params_file=params_file, runs=runs, started=started, t0=t0, jobs=jobs,
                             report_error=failure if not any(r.status == "failed" for r in runs) else None)
        if failure is None:
            try:
                shutil.rmtree(stage / LOG_DIR, ignore_errors=True)
                (stage / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                                     encoding="utf-8")
                _swap_into_place(stage, out)
            except OSError as exc:  # full disk, read-only remount, folder busy: the bundle stays as it was
                _say(f"error: review {params.cycle}: the bundle could not be written to {out} "
                     f"({exc.strerror or exc}); the bundle at {out} is unchanged.")
                return 1
            n_skip = sum(r.status == "skipped" for r in runs)
            _say(f"evidence bundle written to {out} ({len(runs) - n_skip} notebooks ok, {n_skip} skipped"
                 + "".join(f"\n  skipped {r.name}: {r.reason}" for r in runs if r.status == "skipped")
                 + f") in {time.perf_counter() - t0:.1f} s")
            return 0
        try:
            kept = _keep_failed(stage, out, params, runs, manifest)
            where = f"The executed notebooks with the error are in {kept}"
            if (kept / OUTPUTS_LOG).is_file():
                where += f" and the step's traceback in {kept / OUTPUTS_LOG}"
        except OSError as exc:  # e.g. the disk is full: say so, never leave empty copies behind
            where = f"The failed notebooks could not be kept ({exc.strerror or exc})"
        _say(f"error: review {params.cycle} failed: {failure}\n{where}; the bundle at {out} is unchanged.")
        return 1
    except KeyboardInterrupt as exc:
        why = "SIGTERM" if isinstance(exc, RunInterrupted) else "Ctrl-C"
        _say(f"\nerror: review {params.cycle} interrupted ({why}); the bundle at {out} is unchanged.")
        exit_code = 143 if isinstance(exc, RunInterrupted) else 130
        return exit_code
    finally:
        if old_handler is not None:
            signal.signal(signal.SIGTERM, old_handler)
        shutil.rmtree(stage, ignore_errors=True)


def _is_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _build_outputs(stage: Path, params: ReviewParams, *, report: bool = True, full_review: bool = False) -> str | None:
    """Index the evidence and build the report; an error message or None.

    A full review (the shipped notebooks) must have written every table of the output contract.
    """
    from . import evidence
    from . import report as report_module

    steps: list[tuple[str, str, Any, tuple, dict]] = [
        ("evidence", "build_index", evidence.build_index, (stage,),
         {"require": evidence.CONTRACT_TABLE_IDS} if full_review else {})]
    if report:
        steps.append(("report", "build_report", report_module.build_report, (stage, params),
                      {"previous": params.previous_bundle_path}))
    for module, name, fn, args, kwargs in steps:
        try:
            fn(*args, **kwargs)
        except Exception as exc:  # the step is named; its traceback goes to failed-runs/, not the terminal
            import traceback

            with contextlib.suppress(OSError):
                (stage / LOG_DIR / OUTPUTS_LOG).write_text(traceback.format_exc(), encoding="utf-8")
            return f"evaluation.{module}.{name} failed: {type(exc).__name__}: {exc}"
    return None


def _manifest(params: ReviewParams, *, params_file, runs: Iterable[NotebookRun], started: datetime,
              t0: float, jobs: int, report_error: str | None) -> dict[str, Any]:
    finished = _now()
    return {
        "cycle": params.cycle,
        "title": params.title(),
        "parameters": params.to_yaml_dict(),
        "params_file": str(params_file) if params_file else None,
        "data_folder": str(params.data_path),
        "inputs": input_files(params, params_file),
        "packages": package_versions(),
        "code_version": code_version(),
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - t0, 2),
        "jobs": jobs,
        "notebooks": [r.to_dict() for r in runs],
        "report_error": report_error,
    }


def _keep_failed(stage: Path, out: Path, params: ReviewParams, runs: Sequence[NotebookRun],
                 manifest: dict[str, Any]) -> Path:
    """Copy the failed (or all, when the report step failed) executed notebooks and the manifest
    to ``OUT.parent/failed-runs/<cycle>-<timestamp>/``."""
    stamp = _now().strftime("%Y%m%dT%H%M%S")
    dest = out.parent / "failed-runs" / f"{params.cycle}-{stamp}"
    n = 1
    while dest.exists():
        n += 1
        dest = out.parent / "failed-runs" / f"{params.cycle}-{stamp}-{n}"
    try:
        (dest / "notebooks").mkdir(parents=True)
        failed = [r for r in runs if r.status == "failed"] or list(runs)
        for r in failed:
            if r.output is not None and r.output.is_file():
                shutil.copy2(r.output, dest / "notebooks" / r.name)
            log = stage / LOG_DIR / f"{Path(r.name).stem}.log"
            if log.is_file() and log.stat().st_size:
                shutil.copy2(log, dest / "notebooks" / log.name)
        if (stage / LOG_DIR / OUTPUTS_LOG).is_file():
            shutil.copy2(stage / LOG_DIR / OUTPUTS_LOG, dest / OUTPUTS_LOG)
        (dest / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                            encoding="utf-8")
    except OSError:
        shutil.rmtree(dest, ignore_errors=True)  # a partial copy (0-byte files) would hide the real error
        with contextlib.suppress(OSError):
            (dest.parent).rmdir()  # only when empty
        raise
    return dest
