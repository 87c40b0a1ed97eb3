"""The review runner: bundle written atomically, failures and kills leave the previous bundle.

Each test runs a tiny set of notebooks made here (one small fixture per behaviour) on a small
synthetic cohort (``write_sample(scale=0.1)``), so the file stays fast.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from evaluation.notebook import parameters_cell_source
from evaluation.params import load_params
from evaluation.paths import PARAMS_DIR, ROOT
from evaluation.runner import run_review

PARAMS_FILE = PARAMS_DIR / "cang_long_2018_2025.yaml"

HEAD = "import evaluation.notebook as enb\nparams = enb.parameters(globals())"
PUBLISH = """import pandas as pd
from evaluation.evidence import EvidenceTable
table = EvidenceTable("data_quality", pd.DataFrame({"check": ["rows"], "table": ["graduates"], "severity": ["info"],
                      "count": [params.min_cell], "detail": ["written by a test notebook"]}), notebook="01_write")
enb.publish(table, stage_dir)"""
SUMMARY = """from pathlib import Path
print(sorted(p.name for p in (Path(stage_dir) / "evidence").iterdir()))"""


def make_notebook(folder: Path, name: str, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    first = nbformat.v4.new_code_cell(parameters_cell_source())
    first.metadata["tags"] = ["parameters"]
    nb.cells = [first, nbformat.v4.new_code_cell(HEAD), *(nbformat.v4.new_code_cell(c) for c in cells)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def small_cohort(tmp_path_factory) -> Path:
    from evaluation.sample import write_sample

    return write_sample(tmp_path_factory.mktemp("cohort") / "small", seed=7, scale=0.1)


@pytest.fixture()
def previous_bundle(tmp_path) -> Path:
    """A bundle from an earlier run, to be left byte for byte as it is by a failed run."""
    out = tmp_path / "out" / "review"
    (out / "evidence").mkdir(parents=True)
    (out / "evidence" / "uptake_by_year.csv").write_text("level,year,rate\nTHCS,2018,0.2\n", encoding="utf-8")
    (out / "manifest.json").write_text('{"cycle": "earlier"}\n', encoding="utf-8")
    return out


def params_for(data: Path, out: Path):
    return load_params(PARAMS_FILE, data=str(data), out=str(out))


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.glob(f".{out.name}.*"))


def test_run_writes_the_bundle_with_a_manifest_of_inputs(tmp_path, small_cohort, previous_bundle):
    nbs = tmp_path / "nbs"
    make_notebook(nbs, "01_write", PUBLISH)
    make_notebook(nbs, "02_optional", 'enb.skip("table labour_demand is absent", reason_vi="không có bảng")',
                  'raise RuntimeError("cells after a skip must not run")')
    make_notebook(nbs, "99_summary", SUMMARY)
    out = previous_bundle
    code = run_review(params_for(small_cohort, out), params_file=PARAMS_FILE, notebooks=nbs, jobs=2,
                      progress=False, report=False)
    assert code == 0
    assert leftovers(out) == [], "staging or the previous bundle left behind"
    files = snapshot(out)
    assert "evidence/uptake_by_year.csv" not in files, "the previous bundle was not replaced"
    assert {"manifest.json", "evidence/index.json", "evidence/data_quality.csv", "notebooks/01_write.ipynb",
            "notebooks/02_optional.ipynb", "notebooks/99_summary.ipynb"} <= set(files)
    assert not any(f.startswith(".") or "/." in f for f in files), "runner-private files in the bundle"

    m = json.loads(files["manifest.json"])
    status = {n["notebook"]: (n["status"], n["reason"]) for n in m["notebooks"]}
    assert status == {"01_write.ipynb": ("ok", None),
                      "02_optional.ipynb": ("skipped", "table labour_demand is absent"),
                      "99_summary.ipynb": ("ok", None)}
    assert all(n["wall_time_s"] > 0 for n in m["notebooks"])
    assert m["cycle"] == "cang_long_2018_2025" and m["parameters"]["data"] == str(small_cohort)
    assert m["duration_s"] > 0 and m["started"] <= m["finished"]
    assert m["packages"]["pandas"] and m["packages"]["papermill"]
    assert m["code_version"]["package_version"]
    # every input file hashed, and the hashes are those of the files
    data_files = sorted(p.relative_to(small_cohort).as_posix() for p in small_cohort.rglob("*") if p.is_file())
    inputs = {(i["role"], i["path"]): i["sha256"] for i in m["inputs"]}
    assert sorted(p for r, p in inputs if r == "data") == data_files
    for rel in data_files:
        assert inputs[("data", rel)] == hashlib.sha256((small_cohort / rel).read_bytes()).hexdigest()
    assert inputs[("params", str(PARAMS_FILE))] == hashlib.sha256(PARAMS_FILE.read_bytes()).hexdigest()

    # the parameters reached the notebooks, the summary ran after the others and saw their evidence
    nb = nbformat.read(out / "notebooks" / "99_summary.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "data_quality.csv" in printed
    assert b"5" in files["evidence/data_quality.csv"].split(b"\n")[1]
    skipped = nbformat.read(out / "notebooks" / "02_optional.ipynb", as_version=4)
    assert not any("papermill-error-cell-tag" in c.metadata.get("tags", []) for c in skipped.cells)
    skip_cell, after = [c for c in skipped.cells if "enb.skip(" in c.source or "RuntimeError" in c.source]
    assert "Skipped" in json.dumps(skip_cell.outputs) and after.outputs == []


def test_failing_notebook_leaves_previous_bundle_and_keeps_the_error(tmp_path, small_cohort, previous_bundle, capsys):
    nbs = tmp_path / "nbs"
    make_notebook(nbs, "01_write", PUBLISH)
    make_notebook(nbs, "02_broken", "x = 1", 'raise ValueError("planted failure 42")')
    make_notebook(nbs, "99_summary", SUMMARY)
    before = snapshot(previous_bundle)
    code = run_review(params_for(small_cohort, previous_bundle), params_file=PARAMS_FILE, notebooks=nbs, jobs=2,
                      progress=False, report=False)
    err = capsys.readouterr().err
    assert code == 1
    assert snapshot(previous_bundle) == before
    assert leftovers(previous_bundle) == []
    assert "02_broken.ipynb" in err and "ValueError: planted failure 42" in err
    (kept,) = (previous_bundle.parent / "failed-runs").iterdir()
    assert kept.name.startswith("cang_long_2018_2025-") and str(kept) in err
    nb = nbformat.read(kept / "notebooks" / "02_broken.ipynb", as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert [(e.ename, e.evalue) for e in errors] == [("ValueError", "planted failure 42")]
    assert any("papermill-error-cell-tag" in c.metadata.get("tags", []) for c in nb.cells)
    m = json.loads((kept / "manifest.json").read_text(encoding="utf-8"))
    status = {n["notebook"]: n["status"] for n in m["notebooks"]}
    assert status == {"01_write.ipynb": "ok", "02_broken.ipynb": "failed", "99_summary.ipynb": "not_run"}


def test_invalid_data_stops_before_any_notebook(tmp_path, small_cohort, capsys):
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in small_cohort.iterdir():
        if f.name != "schools.csv":
            (bad / f.name).write_bytes(f.read_bytes())
    marker = tmp_path / "ran"
    nbs = tmp_path / "nbs"
    make_notebook(nbs, "01_marker", f"open({str(marker)!r}, 'w').close()")
    out = tmp_path / "out" / "review"
    code = run_review(params_for(bad, out), notebooks=nbs, progress=False, report=False)
    err = capsys.readouterr().err
    assert code == 1
    assert "schools" in err and "No notebook was run" in err
    assert not marker.exists() and not out.parent.exists()


RUN_SCRIPT = """
import sys
from evaluation.params import load_params
from evaluation.runner import run_review
params = load_params(sys.argv[1], data=sys.argv[2], out=sys.argv[3])
sys.exit(run_review(params, notebooks=sys.argv[4], jobs=2, progress=False, report=False))
"""


def _start_run_and_wait_for_kernel(tmp_path, small_cohort, out):
    nbs = tmp_path / "nbs"
    pid_file = tmp_path / "kernel.pid"
    make_notebook(nbs, "01_slow", f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(120)")
    make_notebook(nbs, "99_summary", SUMMARY)
    proc = subprocess.Popen([sys.executable, "-c", RUN_SCRIPT, str(PARAMS_FILE), str(small_cohort), str(out), str(nbs)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (pid_file.is_file() and pid_file.read_text()):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the notebook never started"
        time.sleep(0.2)
    return proc, int(pid_file.read_text())


def _gone(pid: int, within: float = 15.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


def test_killed_run_leaves_previous_bundle_and_the_next_run_cleans_up(tmp_path, small_cohort, previous_bundle):
    before = snapshot(previous_bundle)
    proc, kernel_pid = _start_run_and_wait_for_kernel(tmp_path, small_cohort, previous_bundle)
    # the running review holds the bundle's lock file beside its staging folder
    assert [n.split("-")[0] for n in leftovers(previous_bundle)] == [".review.lock", ".review.staging"]
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert snapshot(previous_bundle) == before
    assert _gone(kernel_pid), "the notebook's kernel outlived the killed run"
    # the dead run's staging folder is never moved into place; the next run removes it
    nbs = tmp_path / "nbs2"
    make_notebook(nbs, "01_write", PUBLISH)
    assert run_review(params_for(small_cohort, previous_bundle), notebooks=nbs, progress=False, report=False) == 0
    assert leftovers(previous_bundle) == []
    assert "evidence/data_quality.csv" in snapshot(previous_bundle)


def test_sigterm_midway_is_reported_and_leaves_previous_bundle(tmp_path, small_cohort, previous_bundle):
    before = snapshot(previous_bundle)
    proc, kernel_pid = _start_run_and_wait_for_kernel(tmp_path, small_cohort, previous_bundle)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143
    assert "interrupted (SIGTERM)" in err and "unchanged" in err
    assert snapshot(previous_bundle) == before
    assert leftovers(previous_bundle) == []
    assert _gone(kernel_pid)


# --------------------------------------------------------------------------- the output folder
def _refused(params, capsys, **kw) -> str:
    code = run_review(params, progress=False, report=False, **kw)
    assert code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("which", ["data", "data_parent", "root", "repo", "inside_data", "home"])
def test_out_that_would_delete_what_the_user_keeps_is_refused(tmp_path, small_cohort, capsys, monkeypatch, which):
    import shutil

    data = tmp_path / "inputs" / "cohort"
    shutil.copytree(small_cohort, data)
    (data / "notes.txt").write_text("my notes\n", encoding="utf-8")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    out = {"data": data, "data_parent": data.parent, "root": Path("/"), "repo": ROOT,
           "inside_data": data / "bundle", "home": tmp_path / "home"}[which]
    before = snapshot(data)
    err = _refused(params_for(data, out), capsys, overwrite=True)
    assert "Nothing was run or written" in err and "Traceback" not in err
    assert {"data": "is the data folder", "data_parent": "contains the data folder",
            "root": "the root of the file system", "repo": "is the repository",
            "inside_data": "inside the data folder", "home": "is your home folder"}[which] in err
    assert snapshot(data) == before


def test_existing_folder_that_is_not_a_bundle_needs_overwrite(tmp_path, small_cohort, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"not yours")
    err = _refused(params_for(small_cohort, out), capsys)
    assert "holds files that are not an evidence bundle" in err and "--overwrite" in err
    assert (out / "thesis.docx").read_bytes() == b"not yours"
    f = tmp_path / "afile"
    f.write_text("x")
    assert "exists and is not a folder" in _refused(params_for(small_cohort, f), capsys)


def test_read_only_disk_and_too_long_names_are_refused_before_any_work(tmp_path, small_cohort, capsys, monkeypatch):
    import errno

    from evaluation import runner

    err = _refused(params_for(small_cohort, tmp_path / ("x" * 300)), capsys)
    assert "longer than the file system allows" in err and "Traceback" not in err
    real_open = os.open

    def read_only(path, *a, **k):
        if ".probe-" in str(path):
            raise OSError(errno.EROFS, "Read-only file system")
        return real_open(path, *a, **k)

    monkeypatch.setattr(runner.os, "open", read_only)
    err = _refused(params_for(small_cohort, tmp_path / "out"), capsys)
    assert "cannot write in" in err and "Read-only file system" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_second_run_into_the_same_bundle_stops_at_once(tmp_path, small_cohort, capsys):
    from evaluation.runner import OutputLocked, out_lock

    out = tmp_path / "out" / "review"
    out.parent.mkdir(parents=True)
    with out_lock(out):
        with pytest.raises(OutputLocked, match="another run"):
            with out_lock(out):
                pass
        err = _refused(params_for(small_cohort, out), capsys)
        assert "another run (process" in err and not out.exists()
    assert not (out.parent / ".review.lock").exists()
    with out_lock(out):  # released: the next run takes it
        pass


def test_full_disk_when_keeping_a_failed_run_leaves_no_empty_copies(tmp_path, monkeypatch):
    from evaluation import runner

    params = params_for(tmp_path / "d", tmp_path / "out" / "review")
    stage = tmp_path / "stage"
    (stage / "notebooks").mkdir(parents=True)
    nb = stage / "notebooks" / "01.ipynb"
    nb.write_text("{}")
    run = runner.NotebookRun("01.ipynb", status="failed", output=nb)

    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runner.shutil, "copy2", full)
    with pytest.raises(OSError):
        runner._keep_failed(stage, params.out_path, params, [run], {"cycle": "x"})
    assert not (tmp_path / "out" / "failed-runs").exists()


def _bundle_copy(src: Path, dest: Path, **manifest) -> Path:
    import shutil

    shutil.copytree(src, dest)
    m = json.loads((dest / "manifest.json").read_text(encoding="utf-8"))
    m.update({k: v for k, v in manifest.items() if k != "parameters"})
    m["parameters"].update(manifest.get("parameters", {}))
    (dest / "manifest.json").write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")
    return dest


def test_previous_bundle_reaches_the_report(tmp_path, sample_bundle, sample_dir):
    """``previous_bundle`` in the parameters: the run's report gets the 'since the last review' part."""
    from evaluation import runner

    prev = _bundle_copy(sample_bundle, tmp_path / "midterm", cycle="cang_long_2018_2022")
    stage = tmp_path / "stage"
    import shutil

    shutil.copytree(sample_bundle, stage)
    shutil.rmtree(stage / "report")
    params = load_params(PARAMS_FILE, data=str(sample_dir), out=str(tmp_path / "out"), previous_bundle=str(prev))
    assert runner._check_previous_bundle(params) is None
    assert runner._build_outputs(stage, params, report=True) is None
    html = next((stage / "report").glob("*.html")).read_text(encoding="utf-8")
    assert "So với kỳ sơ kết trước" in html
    params = load_params(PARAMS_FILE, data=str(sample_dir), out=str(tmp_path / "out2"))
    shutil.rmtree(stage / "report")
    assert runner._build_outputs(stage, params, report=True) is None
    assert "So với kỳ sơ kết trước" not in next((stage / "report").glob("*.html")).read_text(encoding="utf-8")


@pytest.mark.parametrize("case", ["missing", "same_cycle", "other_district"])
def test_unusable_previous_bundle_stops_before_any_notebook(tmp_path, small_cohort, sample_bundle, capsys, case):
    prev = {"missing": lambda: tmp_path / "nowhere",
            "same_cycle": lambda: _bundle_copy(sample_bundle, tmp_path / "p"),
            "other_district": lambda: _bundle_copy(sample_bundle, tmp_path / "p", cycle="tieu_can_2018_2022",
                                                   parameters={"district": "Huyện Tiểu Cần"})}[case]()
    out = tmp_path / "out" / "review"
    params = load_params(PARAMS_FILE, data=str(small_cohort), out=str(out), previous_bundle=str(prev))
    nbs = tmp_path / "nbs"
    make_notebook(nbs, "01_write", PUBLISH)
    assert run_review(params, notebooks=nbs, progress=False) == 1
    err = capsys.readouterr().err
    assert f"previous bundle {prev} (parameter 'previous_bundle')" in err
    assert {"missing": "not an evidence bundle", "same_cycle": "is of this cycle",
            "other_district": "'Huyện Tiểu Cần', this review of 'Huyện Càng Long'"}[case] in err
    assert not out.exists()
