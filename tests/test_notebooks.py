"""The notebooks: thin, committed without outputs, parameters cell equal to the schema's.

Also the parameter mechanics every notebook relies on (``evaluation.notebook``): the cell
papermill documents, the unknown-key error under plain papermill, the skip note.
"""
from __future__ import annotations

import ast
import re
import subprocess
import sys

import nbformat
import pytest

from evaluation import notebook as enb
from evaluation.params import ParamsError, ReviewParams
from evaluation.paths import NOTEBOOKS_DIR, PARAMS_DIR

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
EXPECTED = ["01_data_quality", "02_uptake_and_targets", "03_counseling_coverage", "04_trends_and_projections",
            "05_counseling_effects", "06_equity", "07_labour_and_network", "99_review_summary"]


def code_cells(path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def test_the_review_notebooks_are_there_in_run_order():
    assert [p.stem for p in NOTEBOOKS] == EXPECTED
    assert all(re.fullmatch(r"\d\d_[a-z0-9_]+", p.stem) for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, c in enumerate(nb.cells):
        if c.cell_type == "code":
            assert c.outputs == [], f"{path.name}: cell {i} has outputs"
            assert c.execution_count is None, f"{path.name}: cell {i} has an execution count"
        assert "execution" not in c.metadata and "papermill" not in c.metadata, f"{path.name}: cell {i} metadata"
    assert "papermill" not in nb.metadata
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_thin(path):
    """No def, class or lambda: logic lives in evaluation/ where it is tested."""
    for i, c in enumerate(code_cells(path)):
        for node in ast.walk(ast.parse(c.source)):
            assert not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda), \
                f"{path.name}: code cell {i} defines {type(node).__name__} at line {node.lineno}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_matches_the_schema(path):
    cells = code_cells(path)
    first = cells[0]
    assert first.metadata.get("tags") == ["parameters"], f"{path.name}: first code cell not tagged parameters"
    assert first.source == enb.parameters_cell_source(), (
        f"{path.name}: parameters cell differs from evaluation.notebook.parameters_cell_source(); "
        "paste the generated source into the notebook")
    assert "nb.parameters(globals())" in cells[1].source
    assert all("parameters" not in c.metadata.get("tags", []) for c in cells[1:])


def test_parameters_cell_has_every_field_and_papermill_documents_them():
    from papermill.translators import PythonTranslator

    src = enb.parameters_cell_source()
    ns: dict = {}
    exec(src, ns)  # annotated literals only: runs without imports
    assert ReviewParams(**{k: ns[k] for k in ReviewParams.model_fields}) == ReviewParams()
    documented = {p.name: p for p in PythonTranslator.inspect(nbformat.v4.new_code_cell(src))}
    assert list(documented) == [*ReviewParams.model_fields, "stage_dir"]
    assert all(p.help for p in documented.values())
    assert documented["min_cell"].inferred_type_name == "int" and documented["min_cell"].default == "5"
    assert documented["targets_file"].inferred_type_name == "Optional[str]"


def _namespace(**overrides):
    ns: dict = {}
    exec(enb.parameters_cell_source(), ns)
    ns.update(overrides)
    return ns


def test_parameters_reads_the_namespace_and_validates():
    ns = _namespace(min_cell=7, lang="en")
    p = enb.parameters(ns)
    assert isinstance(p, ReviewParams) and p.min_cell == 7 and p.lang == "en"
    with pytest.raises(ParamsError, match="min_cell"):
        enb.parameters(_namespace(min_cell="five"))
    ns = _namespace()
    del ns["seed"]
    with pytest.raises(ParamsError, match="missing 'seed'"):
        enb.parameters(ns)


def test_injected_unknown_key_is_an_error_naming_it():
    injected = "# Parameters\nmin_cell = 3\nmin_cel = 4\n"
    ns = _namespace(min_cell=3, min_cel=4, In=["", enb.parameters_cell_source(), injected, "params = ..."])
    with pytest.raises(ParamsError, match="unknown parameter 'min_cel'"):
        enb.parameters(ns)
    # only the most recent injected cell counts, and known keys pass
    ns["In"].append("# Parameters\nmin_cell = 3\nstage_dir = ''\n")
    assert enb.parameters(ns).min_cell == 3


def test_skip_and_require_tables_stop_with_the_reason():
    class Cohort:
        folder = "data/x"
        labour_demand = None
        vocational_supply = object()

    with pytest.raises(enb.NotebookSkipped, match="labour_demand"):
        enb.require_tables(Cohort(), "labour_demand", "vocational_supply")
    enb.require_tables(Cohort(), "vocational_supply")


def test_unknown_key_under_plain_papermill_fails_naming_the_key(tmp_path):
    """``papermill NB OUT -f params.yaml`` with a misspelt key: papermill only warns, the notebook errors."""
    params = tmp_path / "typo.yaml"
    params.write_text((PARAMS_DIR / "cang_long_2018_2025.yaml").read_text(encoding="utf-8") + "min_cel: 3\n",
                      encoding="utf-8")
    out = tmp_path / "out.ipynb"
    run = subprocess.run([sys.executable, "-m", "papermill", str(NOTEBOOKS_DIR / "01_data_quality.ipynb"), str(out),
                          "-f", str(params), "--cwd", str(NOTEBOOKS_DIR), "--no-progress-bar"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert "ParamsError" in run.stderr and "unknown parameter 'min_cel'" in run.stderr
    errors = [o for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert errors and errors[0].ename == "ParamsError" and "min_cel" in errors[0].evalue


def test_every_notebook_runs_on_the_sample_and_the_bundle_is_complete(sample_bundle):
    """Smoke test (about 40 s on 2 cores): the real notebooks through the runner on the sample."""
    import json

    from evaluation.evidence import CONTRACT_TABLE_IDS, TABLES

    out = sample_bundle
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {n["notebook"]: n["status"] for n in manifest["notebooks"]} == {f"{s}.ipynb": "ok" for s in EXPECTED}
    for tid in CONTRACT_TABLE_IDS:
        header = (out / "evidence" / f"{tid}.csv").read_text(encoding="utf-8").split("\n", 1)[0].split(",")
        assert list(TABLES[tid].columns) == header[: len(TABLES[tid].columns)], tid
    assert {e["id"] for e in json.loads((out / "evidence" / "index.json").read_text(encoding="utf-8"))} >= set(CONTRACT_TABLE_IDS)
    assert sorted(p.suffix for p in (out / "report").iterdir()) == [".docx", ".html", ".xlsx"]
    assert len(list((out / "figures").glob("*.png"))) >= 5
