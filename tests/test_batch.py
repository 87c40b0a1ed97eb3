"""Batch runs: grid files, retries of kernel-start failures, --skip-done, and the Dask path.

The Dask test starts a LocalCluster of 2 worker processes and runs three cycles of a one-notebook
review (made here) on small synthetic cohorts (``write_sample(scale=0.1)``); one cycle's data
breaks the contract on purpose, the two others must complete.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from evaluation import batch
from evaluation.batch import CycleSpec, is_kernel_start_failure, load_grid, run_batch, run_cycle
from evaluation.cli import main
from evaluation.notebook import parameters_cell_source
from evaluation.params import ParamsError
from evaluation.paths import PARAMS_DIR

TEMPLATE = PARAMS_DIR / "cang_long_2018_2025.yaml"
PUBLISH = """import evaluation.notebook as enb
import pandas as pd
from evaluation.data import load_cohort
from evaluation.evidence import EvidenceTable
params = enb.parameters(globals())
cohort = load_cohort(params.data_path)
n = int(cohort.graduates["students"].sum())
table = EvidenceTable("data_quality", pd.DataFrame({"check": ["graduates"], "table": ["graduates"], "severity": ["info"],
                      "count": [n], "detail": [params.district]}), notebook="01_count")
enb.publish(table, stage_dir)"""


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("nbs")
    nb = nbformat.v4.new_notebook()
    first = nbformat.v4.new_code_cell(parameters_cell_source())
    first.metadata["tags"] = ["parameters"]
    nb.cells = [first, nbformat.v4.new_code_cell(PUBLISH)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "01_count.ipynb")
    return folder


@pytest.fixture(scope="module")
def cohorts(tmp_path_factory) -> dict[str, Path]:
    from evaluation.sample import write_sample

    root = tmp_path_factory.mktemp("cohorts")
    good = {f"d{i}": write_sample(root / f"d{i}", seed=100 + i, scale=0.1) for i in (1, 2)}
    broken = root / "broken"
    shutil.copytree(good["d1"], broken)
    (broken / "counseling.csv").unlink()  # a required table: the data breaks the contract
    return {**good, "broken": broken}


def write_grid(path: Path, cohorts: dict[str, Path], names=("d1", "d2", "broken")) -> Path:
    lines = [f"template: {TEMPLATE}", "defaults:", "  bootstrap_reps: 0", "cycles:"]
    for n in names:
        lines += [f"  - name: {n}_2018_2025", f"    data: {cohorts[n]}", f"    district: Huyện {n}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- grid files
def test_grid_expands_the_template_with_overrides(tmp_path):
    (tmp_path / "data" / "a").mkdir(parents=True)
    grid = tmp_path / "grid.yaml"
    grid.write_text(f"template: {TEMPLATE}\ndefaults:\n  lang: en\ncycles:\n"
                    "  - name: a_2018_2025\n    data: data/a\n    year_start: 2020\n"
                    "  - name: a_2022_2025\n    data: data/a\n    lang: vi\n", encoding="utf-8")
    specs = load_grid(grid)
    assert [s.name for s in specs] == ["a_2018_2025", "a_2022_2025"]
    p = specs[0].params(tmp_path / "out")
    assert p.cycle == "a_2018_2025" and p.year_start == 2020 and p.lang == "en"
    assert p.data_path == (tmp_path / "data" / "a").resolve(), "data is relative to the grid file's folder"
    assert p.out_path == (tmp_path / "out" / "a_2018_2025").resolve()
    assert p.district == "Huyện Càng Long", "template values are kept"
    assert specs[1].params(tmp_path).lang == "vi", "a cycle's override wins over the defaults"


@pytest.mark.parametrize("body, message", [
    ("cycles:\n  - name: x\n    bogus_key: 1\n", "cycle x: unknown parameter(s) bogus_key"),
    ("cycles:\n  - data: d\n", "cycle #1: needs a 'name'"),
    ("cycles:\n  - name: x\n    out: elsewhere\n", "'out' is set by the batch"),
    ("cycles: []\n", "'cycles' must be a non-empty list"),
    ("cycle:\n  - name: x\n", "unknown key(s) cycle"),
    ("template: nowhere.yaml\ncycles:\n  - name: x\n", "template parameters file nowhere.yaml not found"),
])
def test_bad_grid_names_file_and_cycle(tmp_path, body, message):
    grid = tmp_path / "g.yaml"
    grid.write_text(body, encoding="utf-8")
    with pytest.raises(ParamsError) as err:
        load_grid(grid)
    assert message in str(err.value) and str(grid) in str(err.value)


def test_duplicate_cycle_names_are_refused(tmp_path):
    specs = [CycleSpec("a", None, {}), CycleSpec("a", None, {})]
    with pytest.raises(ParamsError, match="used more than once: a"):
        run_batch(specs, out=tmp_path, workers=1, progress=False)


# --------------------------------------------------------------------------- retries
@pytest.mark.parametrize("reason, expected", [
    ("RuntimeError: Kernel died before replying to kernel_info", True),
    ("RuntimeError: Kernel didn't respond in 60 seconds", True),
    ("ZMQError: Address already in use (addr='tcp://127.0.0.1:53211')", True),
    ("TimeoutError: Timeout waiting for kernel_info reply from 1a2b", True),
    ("ValueError: column rate is missing", False),
    ("DeadKernelError: Kernel died", False),
    (None, False),
])
def test_kernel_start_failures_are_recognised(reason, expected):
    assert is_kernel_start_failure(reason) is expected


def fake_runner(outcomes: list[tuple[int, str | None, int | None]], calls: list):
    """A stand-in for run_review: each call takes the next (exit code, failed reason, cell) and,
    on failure, keeps a failed-run manifest where the runner keeps it."""
    def run(params, **kwargs):
        calls.append(kwargs)
        code, reason, cell = outcomes[len(calls) - 1]
        if code:
            kept = params.out_path.parent / "failed-runs" / f"{params.cycle}-2025010{len(calls)}T000000"
            kept.mkdir(parents=True)
            nb = {"notebook": "01.ipynb", "status": "failed", "reason": reason}
            if cell:
                nb["cell"] = cell
            (kept / "manifest.json").write_text(json.dumps({"notebooks": [nb]}), encoding="utf-8")
        return code
    return run


def test_kernel_start_failure_is_retried_then_succeeds(tmp_path):
    calls: list = []
    runner = fake_runner([(1, "RuntimeError: Kernel died before replying to kernel_info", None), (0, None, None)], calls)
    r = run_cycle(CycleSpec("c1", str(TEMPLATE), {"data": str(tmp_path)}), out=tmp_path / "out", retries=2, runner=runner)
    assert (r.status, r.attempts, r.exit_code, r.reason) == ("ok", 2, 0, None)
    assert r.bundle == str((tmp_path / "out" / "c1").resolve())
    assert all(c["jobs"] == 1 for c in calls), "notebooks of a cycle run one at a time in a batch"


def test_retries_are_bounded_and_real_failures_not_retried(tmp_path):
    calls: list = []
    kernel = (1, "ZMQError: Address already in use", None)
    r = run_cycle(CycleSpec("c1", str(TEMPLATE), {"data": str(tmp_path)}), out=tmp_path / "o1", retries=2,
                  runner=fake_runner([kernel] * 5, calls))
    assert (r.status, r.attempts, len(calls)) == ("failed", 3, 3)
    assert "Address already in use" in r.reason
    calls2: list = []
    r2 = run_cycle(CycleSpec("c2", str(TEMPLATE), {"data": str(tmp_path)}), out=tmp_path / "o2", retries=2,
                   runner=fake_runner([(1, "ValueError: bad value", 4)] * 3, calls2))
    assert (r2.status, r2.attempts, len(calls2)) == ("failed", 1, 1)
    assert r2.reason == "01.ipynb: ValueError: bad value"


def test_a_crashing_runner_fails_the_cycle_only(tmp_path):
    def boom(params, **kwargs):
        raise OSError("disk full")
    r = run_cycle(CycleSpec("c1", str(TEMPLATE), {"data": str(tmp_path)}), out=tmp_path, runner=boom)
    assert r.status == "failed" and r.reason == "OSError: disk full"
    assert "disk full" in Path(r.log).read_text(encoding="utf-8")


# --------------------------------------------------------------------------- Dask, skip-done, CLI
def test_dask_local_cluster_runs_cycles_and_survives_a_failing_one(tmp_path, cohorts, notebooks, capsys):
    specs = load_grid(write_grid(tmp_path / "grid.yaml", cohorts))
    out = tmp_path / "out"
    results = run_batch(specs, out=out, workers=2, notebooks=notebooks, report=False, progress=False)
    status = {r.name: r.status for r in results}
    assert status == {"d1_2018_2025": "ok", "d2_2018_2025": "ok", "broken_2018_2025": "failed"}
    assert len({r.worker for r in results}) >= 1 and all(":" in r.worker for r in results)
    broken = next(r for r in results if r.status == "failed")
    assert "breaks the data contract" in broken.reason and broken.bundle is None
    assert not (out / "broken_2018_2025").exists()
    for n, key in (("d1", "d1_2018_2025"), ("d2", "d2_2018_2025")):
        m = json.loads((out / key / "manifest.json").read_text(encoding="utf-8"))
        assert m["cycle"] == key and m["parameters"]["district"] == f"Huyện {n}" and m["jobs"] == 1
        dq = pd.read_csv(out / key / "evidence" / "data_quality.csv")
        truth = json.loads((cohorts[n] / "truth.json").read_text(encoding="utf-8"))
        grads = pd.read_parquet(cohorts[n] / "graduates.parquet")["students"].sum()
        assert dq["count"].iloc[0] == grads and truth  # each cycle read its own data
    summary = pd.read_csv(out / batch.SUMMARY_NAME, keep_default_na=False)
    assert list(summary["cycle"]) == [s.name for s in specs]
    assert list(summary["status"]) == ["ok", "ok", "failed"]

    # --skip-done through the CLI (in this process): current bundles are skipped, the failed
    # cycle runs again and the exit code says something failed; a changed input reruns its cycle
    grid = tmp_path / "grid.yaml"
    args = ["batch", "--grid", str(grid), "--workers", "1", "--skip-done", "--notebooks", str(notebooks),
            "--out", str(out)]
    assert main(args) == 1
    printed = capsys.readouterr().out
    assert "3 cycles: 0 ok, 2 skipped (bundle current), 1 failed" in printed
    assert "d1_2018_2025" in printed
    assert "data folder" in printed and "batch-logs/broken_2018_2025.log" in printed
    ok, why = batch.bundle_is_current(specs[0].params(out), specs[0].params_file)
    assert ok, why
    changed = specs[1].params(out).model_copy(update={"min_cell": 7})
    assert batch.bundle_is_current(changed, specs[1].params_file) == (False, "parameters changed")
    copy = tmp_path / "d2copy"
    shutil.copytree(cohorts["d2"], copy)
    (copy / "README.md").write_text("edited\n", encoding="utf-8")
    moved = specs[1].params(out).model_copy(update={"data": str(copy)})
    moved_manifest = json.loads((out / "d2_2018_2025" / "manifest.json").read_text(encoding="utf-8"))
    moved_manifest["parameters"]["data"] = str(copy)
    (out / "d2_2018_2025" / "manifest.json").write_text(json.dumps(moved_manifest), encoding="utf-8")
    assert batch.bundle_is_current(moved, specs[1].params_file) == (False, "input files changed")


def test_format_summary_lists_every_cycle():
    res = [batch.CycleResult("a", "ok", 12.34, "/o/a", 1, 0), batch.CycleResult("b", "failed", 3.0, None, 3, 1,
                                                                                 "01.ipynb: boom", "/o/batch-logs/b.log")]
    text = batch.format_summary(res)
    assert "a" in text and "12.3 s" in text and "/o/a" in text
    assert "failed (3 tries)" in text and "01.ipynb: boom (log: /o/batch-logs/b.log)" in text
    assert text.splitlines()[-1] == "2 cycles: 1 ok, 0 skipped (bundle current), 1 failed"


def test_daemonic_worker_runs_the_cycle_in_a_child_process(tmp_path, cohorts, notebooks, monkeypatch):
    """A nanny's default (daemonic) worker may not start processes itself: the cycle goes to a
    child Python process, and its result comes back the same."""
    import multiprocessing

    monkeypatch.setattr(multiprocessing.current_process(), "daemon", True)
    spec = CycleSpec("broken_x", str(TEMPLATE), {"data": str(cohorts["broken"])})
    r = run_cycle(spec, out=tmp_path, notebooks=str(notebooks), report=False)
    assert r.status == "failed" and r.exit_code == 1 and "breaks the data contract" in r.reason
    assert r.worker and int(r.worker.rsplit(":", 1)[1]) != __import__("os").getpid(), "ran in another process"
    assert Path(r.log).is_file()
