"""Catalogue of hostile and broken inputs and of faults: each case -> one exact message (or the
correct result), no traceback, no student value, nothing written or lost.

The list is built from the eight numbered points of issue 13 ("Nothing lost, nothing leaked"),
each covered by several concrete, distinct cases as an adversary would try them; the adversarial
pass that measured the issue (82 cases) did not keep its own list. ``Case.point`` names the point:

1. the output folder of a run (and of an import): what it may replace, and when it cannot write;
2. small cells: recomputed from a total minus the published cells, or from what a notebook shows;
3. workbooks and CSV files built to exhaust memory, damaged, or of the wrong kind;
4. parameters files: alias bombs, keys given twice, wrong keys, types and values;
5. validation holes: digits, numbers, codes, headers and years that used to pass;
6. personal data typed where it does not belong;
7. text that a spreadsheet would run as a formula;
8. faults: a late failure, a disk error while swapping, two runs at once, a kill, reruns.

Every case builds its input here (one small fixture per behaviour) and runs the entry point a user
runs (validate a cohort folder, import files, read a parameters file, start a review, attack the
published tables). A bad input must give its exact message line; where a correct result is the
right answer (a CSV with a byte-order mark, an existing bundle replaced) the case checks that
result instead. The inputs stay byte for byte as they were (``snapshot``), no output folder
appears, and no planted personal value (``PERSONAL``) is in any message. Faults check what must
survive them. The README states the number of cases (``len(CASES)``, bad inputs and faults).
"""
from __future__ import annotations

import errno
import functools
import os
import re
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import openpyxl
import pandas as pd
import pytest

from evaluation.importer import ImportFailed, import_files, write_template
from evaluation.importer.workbook import OLE2_MAGIC
from evaluation.params import ParamsError, load_params
from evaluation.paths import NOTEBOOKS_DIR, PARAMS_DIR, ROOT
from evaluation.reference import commune_crosswalk
from evaluation.validation import plausible_years, validate_folder

PARAMS_FILE = PARAMS_DIR / "cang_long_2018_2025.yaml"
#: Personal values planted in the inputs: none may appear in a message.
NAME, BIRTH, PHONE, NATIONAL_ID = "Nguyễn Thị Hoa", "12/03/2008", "0912345678", "079208001234"
PERSONAL = (NAME, BIRTH, PHONE, NATIONAL_ID)
Y_HI = plausible_years()[1]


# ------------------------------------------------------------------------------------------------
# a small valid cohort folder (with students and vocational_supply) that each case breaks
# ------------------------------------------------------------------------------------------------
def clean_cohort(folder: Path) -> Path:
    cw = commune_crosswalk()
    folder.mkdir(parents=True)
    pd.DataFrame({"commune_code": cw["commune_code"], "commune_name": cw["commune_name"],
                  "district_name": cw["district_name"], "province_name": cw["province_name"],
                  "khmer_share": 0.05, "disadvantaged": False}).to_csv(folder / "communes.csv", index=False)
    pd.DataFrame([("S01", "Trường THCS Mỹ Cẩm", "29269", "THCS", False),
                  ("S02", "Trường THPT Càng Long", "29266", "THPT", False)],
                 columns=["school_id", "school_name", "commune_code", "levels", "ethnic_boarding"]
                 ).to_csv(folder / "schools.csv", index=False)
    st = []
    for y in (2019, 2020):
        for i in range(12):
            st.append((f"k{y}{i:02d}", "S01", y, "THCS", "FM"[i % 2], "kinh", False, "29269", i % 3 == 0,
                       "voc_intermediate" if i % 4 == 0 else "thpt"))
            st.append((f"p{y}{i:02d}", "S02", y, "THPT", "FM"[i % 2], "khmer" if i % 5 == 0 else "kinh", i % 6 == 0,
                       "29266", True, "voc_college" if i % 3 == 0 else "university"))
    students = pd.DataFrame(st, columns=["student_key", "school_id", "year", "level", "sex", "ethnicity",
                                         "poor_household", "residence_commune_code", "counseled", "destination"])
    students.to_csv(folder / "students.csv", index=False)
    students.groupby(["school_id", "year", "level", "destination"]).size().rename("students").reset_index().to_csv(
        folder / "graduates.csv", index=False)
    pd.DataFrame([(s, y, 2, 1) for s in ("S01", "S02") for y in (2019, 2020)],
                 columns=["school_id", "year", "counselors", "trained_counselors"]).to_csv(
        folder / "counseling.csv", index=False)
    pd.DataFrame([(2020, "T1", "Trường Trung cấp Trà Vinh", "29266", "Điện dân dụng", "intermediate", 60, 55, 40, 30)],
                 columns=["year", "institution_id", "institution_name", "commune_code", "trade", "level", "places",
                          "enrolled", "graduated", "employed_12m"]).to_csv(folder / "vocational_supply.csv", index=False)
    pd.DataFrame([(2020, "DN1", "29266", "C", "Điện dân dụng", "intermediate", 25)],
                 columns=["survey_year", "enterprise_id", "commune_code", "sector", "trade", "qualification",
                          "workers_needed"]).to_csv(folder / "labour_demand.csv", index=False)
    return folder


def set_cell(folder: Path, table: str, row: int, column: str, value) -> None:
    """Data row ``row`` (0-based; CSV line row + 2, Parquet row + 1) of ``table`` gets ``value``."""
    csv = folder / f"{table}.csv"
    df = (pd.read_csv(csv, dtype=str, keep_default_na=False) if csv.exists()
          else pd.read_parquet(folder / f"{table}.parquet"))
    if column not in df.columns:
        df[column] = ""
    df.loc[row, column] = value
    if csv.exists():
        df.to_csv(csv, index=False)
    else:
        df.to_parquet(folder / f"{table}.parquet", index=False)


def as_parquet(folder: Path, table: str) -> None:
    """``table`` as Parquet (text kept exactly: a CSV reader trims the spaces and tabs around a cell)."""
    df = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
    (folder / f"{table}.csv").unlink()
    df.to_parquet(folder / f"{table}.parquet", index=False)


def edit_text(path: Path, edit: Callable[[str], str]) -> None:
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------------------------------
# cases
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One input of the adversary (or one fault) and what it must give.

    ``kind``: the entry point run (validate | import | params | run | cli | disclosure | fault).
    ``expected``: the exact line of the message; ``None`` where a correct result is the right
    answer, which ``check`` asserts. ``point``: the issue's numbered point (1-8)."""

    id: str
    point: int
    kind: str
    build: Callable[..., Any]
    expected: str | None = None
    check: Callable[..., None] | None = None

    @property
    def fault(self) -> bool:
        return self.kind == "fault"


CASES: list[Case] = []


def case(id: str, point: int, kind: str, expected: str | None = None, check: Callable[..., None] | None = None):
    def deco(fn):
        CASES.append(Case(id, point, kind, fn, expected, check))
        return fn
    return deco


def cell_case(id: str, point: int, table: str, row: int, column: str, value: str, expected: str,
              parquet: bool = False) -> None:
    """A validate case: a clean cohort with one cell of ``table`` changed (in a Parquet file: text
    exactly as given, a CSV reader trims the spaces and tabs around a cell)."""
    def build(tmp: Path) -> Path:
        d = clean_cohort(tmp / "cohort")
        if parquet:
            as_parquet(d, table)
        set_cell(d, table, row, column, value)
        return d
    CASES.append(Case(id, point, "validate", build, expected))


def yaml_case(id: str, point: int, text: str | bytes, expected: str | None, check=None) -> None:
    """A params case: a parameters file holding ``text`` (``{file}`` in ``expected`` is its path)."""
    def build(tmp: Path) -> Path:
        p = tmp / f"{id}.yaml"
        p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        return p
    CASES.append(Case(id, point, "params", build, expected, check))


@dataclass
class ImportInput:
    files: list[Path]
    out: Path
    kwargs: dict = field(default_factory=dict)
    patch: Callable[[pytest.MonkeyPatch], None] | None = None


@dataclass
class CliInput:
    """A command line (``python -m evaluation ARGV``) and the exit code it must give."""

    argv: list[str]
    code: int = 2


@dataclass
class RunInput:
    params: Any
    params_file: Path | None = None
    overwrite: bool = False
    code: int = 2
    patch: Callable[[pytest.MonkeyPatch], None] | None = None
    notebooks: list[Path] | None = None


def _type_msg(line: int, column: str, value: str) -> str:
    return (f"  error   line {line}, column {column}, value {value}: expected a whole number written with the digits "
            "0-9, at most 15 digits (e.g. 12) [type]")


CODE_FORM = ("expected a code: letters and digits (also _ . - /), no spaces, not a placeholder such as '-' or 'NA' "
             "(leave the cell empty when there is none) [code_form]")
FORMULA = ("expected text that does not start with =, +, -, @, a tab or a line break (a spreadsheet would run it as a "
           "formula when the evidence is opened); remove the first character [formula_text]")


# ================================================================================================
# 1. The output folder: never deleted when it is not the run's own, and nothing starts that cannot finish
# ================================================================================================
REFUSED = "; a run replaces its output folder, so it would be deleted. Choose a folder of its own, e.g. output/<cycle>"


def _run_params(tmp: Path, out_of: Callable[[Path], Path | str], **kw) -> RunInput:
    data = clean_cohort(tmp / "inputs" / "cohort")
    (data / "notes.txt").write_text("the user's own notes\n", encoding="utf-8")
    overwrite = kw.pop("overwrite", True)
    patch = kw.pop("patch", None)
    return RunInput(load_params(PARAMS_FILE, data=str(data), out=str(out_of(data)), **kw), overwrite=overwrite,
                    patch=patch)


def _home(tmp: Path) -> Path:
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    (home / "notes.txt").write_text("mine\n", encoding="utf-8")
    return home


def _link_to_data(d: Path) -> Path:
    link = d.parent.parent / "link"
    link.symlink_to(d, target_is_directory=True)
    return link


# (id, out given the data folder, the message after "output folder {out} (parameter 'out' / --out) ")
for _id, _where, _msg in [
    ("out_is_the_data_folder", lambda d: d, "is the data folder (parameter 'data')" + REFUSED),
    ("out_is_the_data_folder_with_a_trailing_slash", lambda d: f"{d}/", "is the data folder (parameter 'data')"
     + REFUSED),
    ("out_is_a_symlink_to_the_data_folder", _link_to_data, "is the data folder (parameter 'data')" + REFUSED),
    ("out_is_a_parent_of_the_data", lambda d: d.parent, "contains the data folder (parameter 'data') ({data})"
     + REFUSED),
    ("out_is_a_parent_of_the_data_spelt_with_dots", lambda d: f"{d}/..", "contains the data folder (parameter "
     "'data') ({data})" + REFUSED),
    ("out_is_root", lambda d: Path("/"), "is the root of the file system" + REFUSED),
    ("out_is_root_spelt_with_dots", lambda d: "/tmp/..", "is the root of the file system" + REFUSED),
    ("out_is_the_repository", lambda d: ROOT, "is the repository of the toolkit" + REFUSED),
    ("out_is_a_parent_of_the_repository", lambda d: ROOT.parent, f"contains the repository of the toolkit ({ROOT})"
     + REFUSED),
    ("out_is_the_notebooks_folder", lambda d: NOTEBOOKS_DIR, "is the notebooks folder" + REFUSED),
    ("out_is_inside_the_data_folder", lambda d: d / "bundle", "is inside the data folder {data}; the bundle would "
     "become input of the next run. Choose a folder outside the data folder"),
    ("out_is_the_package_with_overwrite", lambda d: ROOT / "evaluation", "is a folder of the toolkit's repository "
     "(evaluation/) holding files that are not an evidence bundle; a run replaces its output folder, so they would be "
     "deleted (--overwrite does not apply to the repository). Choose a folder under output/ or outside the "
     "repository"),
    ("out_is_the_parameters_folder_with_overwrite", lambda d: PARAMS_DIR, "is a folder of the toolkit's repository "
     "(params/) holding files that are not an evidence bundle; a run replaces its output folder, so they would be "
     "deleted (--overwrite does not apply to the repository). Choose a folder under output/ or outside the "
     "repository"),
]:
    CASES.append(Case(_id, 1, "run", (lambda where: lambda tmp: _run_params(tmp, where))(_where),
                      "error: output folder {out} (parameter 'out' / --out) " + _msg))


@case("out_is_the_home_folder", 1, "run", "error: output folder {out} (parameter 'out' / --out) is your home folder"
      + REFUSED)
def _(tmp):
    home = _home(tmp)
    return _run_params(tmp, lambda d: home, patch=lambda mp: mp.setenv("HOME", str(home)))


@case("out_holds_the_parameters_file", 1, "run", "error: output folder {out} (parameter 'out' / --out) contains the "
      "parameters file ({out}/review.yaml)" + REFUSED)
def _(tmp):
    folder = tmp / "my_params"
    folder.mkdir()
    shutil.copyfile(PARAMS_FILE, folder / "review.yaml")
    run = _run_params(tmp, lambda d: folder)
    run.params_file = folder / "review.yaml"
    return run


@case("out_holds_the_targets_file", 1, "run", "error: output folder {out} (parameter 'out' / --out) contains the "
      "targets file ({out}/targets.csv)" + REFUSED)
def _(tmp):
    folder = tmp / "targets"
    folder.mkdir()
    shutil.copyfile(ROOT / "evaluation" / "reference_data" / "targets.csv", folder / "targets.csv")
    return _run_params(tmp, lambda d: folder, targets_file=str(folder / "targets.csv"))


@case("out_holds_other_files", 1, "run",
      "error: output folder {out} (parameter 'out' / --out) holds files that are not an evidence bundle (no "
      "manifest.json of an earlier run); a run replaces the whole folder. Choose an empty or new folder, or pass "
      "--overwrite to replace it")
def _(tmp):
    out = tmp / "thesis"
    out.mkdir()
    (out / "chapter1.docx").write_bytes(b"a user's work")
    return _run_params(tmp, lambda d: out, overwrite=False)


@case("out_is_a_file", 1, "run", "error: output folder {out} (parameter 'out' / --out) exists and is not a folder; "
      "choose another path or remove the file")
def _(tmp):
    f = tmp / "report.docx"
    f.write_bytes(b"a user's report")
    return _run_params(tmp, lambda d: f)


@case("out_name_too_long", 1, "run",
      "error: output folder {out}: a name in the path is longer than the file system allows (255 bytes); shorten the "
      "folder name (parameter 'out') or the cycle name (parameter 'cycle')")
def _(tmp):
    return _run_params(tmp, lambda d: tmp / ("x" * 300))


@case("cycle_name_too_long_for_the_report_files", 1, "run",
      "error: output folder {out}: a name in the path is longer than the file system allows (255 bytes); shorten the "
      "folder name (parameter 'out') or the cycle name (parameter 'cycle')")
def _(tmp):
    return _run_params(tmp, lambda d: tmp / "out", cycle="c" * 250)


@case("out_path_too_long", 1, "run",
      "error: output folder {out}: the path is too long for the files of the bundle (the file system allows 4096 "
      "bytes); choose a shorter path")
def _(tmp):
    return _run_params(tmp, lambda d: tmp.joinpath(*[f"{i:02d}" + "y" * 200 for i in range(20)]))


def _probe_fails(err: int, text: str) -> Callable[[pytest.MonkeyPatch], None]:
    from evaluation import runner

    real_open = os.open

    def patch(mp: pytest.MonkeyPatch) -> None:
        def refuse(path, *a, **k):
            if ".probe-" in str(path):
                raise OSError(err, text)
            return real_open(path, *a, **k)
        mp.setattr(runner.os, "open", refuse)
    return patch


@case("out_on_a_read_only_file_system", 1, "run",
      "error: output folder {out}: cannot write in {parent} (Read-only file system)")
def _(tmp):
    return _run_params(tmp, lambda d: tmp / "review", patch=_probe_fails(errno.EROFS, "Read-only file system"))


@case("out_in_a_folder_without_permission", 1, "run",
      "error: output folder {out}: cannot write in {parent} (Permission denied)")
def _(tmp):
    return _run_params(tmp, lambda d: tmp / "review", patch=_probe_fails(errno.EACCES, "Permission denied"))


@case("out_on_a_full_disk", 1, "run",
      "error: output folder {out}: only 3 MB free on the disk of {parent}; a run needs at least 50 MB. Free some space "
      "or choose another disk")
def _(tmp):
    from evaluation import runner

    def patch(mp):
        mp.setattr(runner.shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10 << 30, (10 << 30) - (3 << 20),
                                                                                    3 << 20))
    (tmp / "out").mkdir()
    return _run_params(tmp, lambda d: tmp / "out" / "review", patch=patch)


# -- inputs a run finds missing or wrong before any notebook (points 4 and 7, run the same way) -----
@case("data_folder_that_does_not_exist", 4, "run", "error: data folder {data} does not exist (parameter 'data')")
def _(tmp):
    run = _run_params(tmp, lambda d: tmp / "out" / "review")
    run.params = load_params(PARAMS_FILE, data=str(tmp / "no_such_folder"), out=str(tmp / "out" / "review"))
    run.code = 1
    return run


@case("data_given_as_a_file", 4, "run", "error: data folder {tmp}/cohort.zip is a file, not a folder (parameter 'data')")
def _(tmp):
    run = _run_params(tmp, lambda d: tmp / "out" / "review")
    (tmp / "cohort.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    run.params = load_params(PARAMS_FILE, data=str(tmp / "cohort.zip"), out=str(tmp / "out" / "review"))
    run.code = 1
    return run


@case("targets_file_that_does_not_exist", 4, "run", "error: targets file {tmp}/targets.csv not found (parameter "
      "'targets_file')")
def _(tmp):
    run = _run_params(tmp, lambda d: tmp / "out" / "review", targets_file=str(tmp / "targets.csv"))
    run.code = 1
    return run


@case("formula_in_the_targets_file", 7, "run", "error: targets: {tmp}/targets.csv: row 2, column source, value "
      "'=HYPERLINK(\"http://x\")': expected text that does not start with =, +, -, @, a tab or a line break and holds "
      "no control character (a spreadsheet opening the evidence would run it as a formula)")
def _(tmp):
    t = pd.read_csv(ROOT / "evaluation" / "reference_data" / "targets.csv", dtype=str, keep_default_na=False).head(2)
    t.loc[0, "source"] = '=HYPERLINK("http://x")'
    t.to_csv(tmp / "targets.csv", index=False)
    run = _run_params(tmp, lambda d: tmp / "out" / "review", targets_file=str(tmp / "targets.csv"))
    run.code = 1
    return run


# -- correct results: an existing bundle and an empty folder are replaced, atomically ------------
def _bundle_replaced(out: Path, tmp: Path) -> None:
    import json

    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["cycle"] == "cang_long_2018_2025" and not (out / "evidence" / "old.csv").exists()
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")] == []


@case("out_is_an_existing_bundle", 1, "run", check=_bundle_replaced)
def _(tmp):
    out = tmp / "out" / "review"
    (out / "evidence").mkdir(parents=True)
    (out / "manifest.json").write_text('{"cycle": "earlier"}\n', encoding="utf-8")
    (out / "evidence" / "old.csv").write_text("a\n1\n", encoding="utf-8")
    run = _run_params(tmp, lambda d: out, overwrite=False)
    run.code, run.notebooks = 0, [_fake_notebook(tmp)]
    return run


@case("out_is_an_empty_folder", 1, "run", check=_bundle_replaced)
def _(tmp):
    out = tmp / "out" / "review"
    out.mkdir(parents=True)
    run = _run_params(tmp, lambda d: out, overwrite=False)
    run.code, run.notebooks = 0, [_fake_notebook(tmp)]
    return run


# -- the synthetic sample's folder: never written over the user's own data ---------------------
@case("sample_written_over_a_folder_of_real_data", 1, "cli",
      "error: {tmp}/cohort holds files and is not a synthetic sample (no truth.json); writing the sample there would "
      "replace its tables with synthetic ones. Choose a new or empty folder")
def _(tmp):
    return CliInput(["sample", "--out", str(clean_cohort(tmp / "cohort")), "--scale", "0.05"])


@case("sample_written_over_a_file", 1, "cli",
      "error: {tmp}/graduates.csv is a file, not a folder; choose a new folder for the synthetic sample")
def _(tmp):
    (tmp / "graduates.csv").write_text("school_id\nS01\n", encoding="utf-8")
    return CliInput(["sample", "--out", str(tmp / "graduates.csv"), "--scale", "0.05"])


# -- the importer's output folder -----------------------------------------------------------------
def _import_base(tmp: Path) -> tuple[Path, Path]:
    """A base folder (schools, communes, counseling, ...) and a graduates CSV to import beside it."""
    base = clean_cohort(tmp / "inputs" / "cohort")
    (base / "students.csv").unlink()
    (tmp / "wb").mkdir()
    shutil.move(base / "graduates.csv", tmp / "wb" / "graduates.csv")
    return base, tmp / "wb" / "graduates.csv"


@case("import_into_a_folder_that_holds_files", 1, "import",
      "{out}: expected an output folder that does not exist yet or is empty: it already holds files; choose another "
      "folder or pass --overwrite to replace it [output_exists]")
def _(tmp):
    base, g = _import_base(tmp)
    out = tmp / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n", encoding="utf-8")
    return ImportInput([g], out, {"base": base})


OWN = ("expected an output folder of its own: this one {} ; importing replaces the whole folder, so it would be "
       "deleted, even with --overwrite; choose a new folder [output_protected]")
for _id, _out, _what in [
    ("import_into_the_folder_of_its_inputs", lambda tmp: tmp / "wb", "contains the input file graduates.csv"),
    ("import_into_a_parent_of_its_inputs", lambda tmp: tmp, "contains the input file graduates.csv"),
    ("import_into_the_base_folder", lambda tmp: tmp / "inputs" / "cohort", "is the base folder (--base)"),
    ("import_into_root", lambda tmp: Path("/"), "is the root of the file system"),
    ("import_into_the_repository", lambda tmp: ROOT, "is the repository of the toolkit"),
]:
    def _b(tmp, out=_out):
        base, g = _import_base(tmp)
        (tmp / "wb" / "notes.txt").write_text("the user's notes\n", encoding="utf-8")
        return ImportInput([g], out(tmp), {"base": base, "overwrite": True})
    CASES.append(Case(_id, 1, "import", _b, "{out}: " + OWN.format(_what).replace(" ;", ";")))


@case("import_into_a_folder_of_the_repository", 1, "import",
      "{out}: expected an output folder of its own: this one is a folder of the toolkit's repository that holds files; "
      "importing replaces the whole folder, so they would be deleted, even with --overwrite; choose a folder under "
      "data/ or outside the repository [output_protected]")
def _(tmp):
    base, g = _import_base(tmp)
    return ImportInput([g], PARAMS_DIR, {"base": base, "overwrite": True})


# ================================================================================================
# 2. Small cells: nothing hidden comes back from a total minus the published cells
# ================================================================================================
MIN_CELL = 5


@functools.lru_cache(maxsize=None)
def _district_folder() -> Path:
    """A generated district of small communes (test_disclosure_tables), written once for the catalogue."""
    import atexit

    from test_disclosure_tables import small_communes_district

    folder = Path(tempfile.mkdtemp(prefix="catalogue-district-")) / "d"
    atexit.register(shutil.rmtree, folder.parent, ignore_errors=True)
    return small_communes_district(folder, seed=5, years=range(2019, 2022), thcs_sizes=(0, 0, 1, 2, 3, 6, 9, 15, 20))


@functools.lru_cache(maxsize=None)
def _small_district(min_cell: int = MIN_CELL) -> dict:
    """The published tables of the district as test_disclosure_tables attacks them."""
    from test_disclosure_tables import published_tables

    return published_tables(_district_folder(), min_cell=min_cell)


def _hidden_small(table: pd.DataFrame, true: pd.DataFrame, keys: list[str], min_cell: int = MIN_CELL) -> int:
    small = true[(true["graduates"] > 0) & (true["graduates"] < min_cell)]
    pub = small[keys].merge(table[keys + ["suppressed", "vocational", "rate"]], on=keys)
    assert len(pub) == len(small) and pub["suppressed"].all() and pub[["vocational", "rate"]].isna().all().all()
    return len(small)


@case("commune_below_min_cell", 2, "disclosure")
def _(tmp):
    from test_disclosure_tables import attack_communes

    t = _small_district()
    assert _hidden_small(t["uptake_by_commune"], t["_true"]["commune"], ["level", "year", "commune_code"]) >= 3
    return attack_communes(t)


@case("ethnic_group_below_min_cell", 2, "disclosure")
def _(tmp):
    from test_disclosure_tables import attack_groups

    t = _small_district()
    true = t["_true"]["group"]
    n = _hidden_small(t["uptake_by_group"], true[true["group_var"] == "ethnicity"], ["level", "year", "group_var",
                                                                                     "group"])
    assert n >= 1
    return attack_groups(t)


@case("school_below_min_cell", 2, "disclosure")
def _(tmp):
    """The per-school uptake notebook 02 shows (pooled over the years): a small school is hidden, and
    neither the level's total nor a commune's total (its years all published) minus the schools
    shown gives it back."""
    from test_disclosure_tables import _attack

    t = _small_district()
    sch, year, com = t["uptake_by_school"], t["uptake_by_year"], t["uptake_by_commune"]
    small = sch[(sch["graduates"] > 0) & (sch["graduates"] < MIN_CELL)]
    assert len(small) and small["suppressed"].all() and small["rate"].isna().all()
    hid = sch[sch["suppressed"] & (sch["graduates"] > 0)].reset_index(drop=True)
    eqs = []
    for lv, g in sch.groupby("level"):
        w = (hid["level"] == lv).to_numpy(float)
        eqs.append((w, year.loc[year["level"] == lv, "vocational"].sum() - g.loc[~g["suppressed"], "vocational"].sum()))
    for (lv, c), g in com.groupby(["level", "commune_code"]):
        w = ((hid["level"] == lv) & (hid["commune_code"] == c)).to_numpy(float)
        if w.any() and not g["suppressed"].any():
            shown = sch[(sch["level"] == lv) & (sch["commune_code"] == c) & ~sch["suppressed"]]["vocational"].sum()
            eqs.append((w, g["vocational"].sum() - shown))
    secrets = [(f"school {r.school_id}", np.eye(len(hid))[i]) for i, r in enumerate(hid.itertuples(index=False))]
    return _attack(pd.DataFrame({"size": hid["graduates"]}), eqs, secrets)


@case("ethnic_group_and_commune_with_min_cell_10", 2, "disclosure")
def _(tmp):
    from test_disclosure_tables import attack_communes, attack_groups

    t = _small_district(10)
    _hidden_small(t["uptake_by_commune"], t["_true"]["commune"], ["level", "year", "commune_code"], 10)
    return attack_communes(t) + attack_groups(t)


@case("pooled_group_equity_gaps_would_publish", 2, "disclosure")
def _(tmp):
    """equity_gaps publishes each group's rate pooled over the years: a pooled group of fewer than
    min_cell students is not published (its rate_group was 0.333 for a group of 3)."""
    t = _small_district()
    pooled = t["equity_pooled"]
    return [f"{r.level} {r.dimension}={r.group} ({r.n})" for r in pooled.itertuples(index=False)
            if 0 < r.n < MIN_CELL]


@case("trade_below_min_cell", 2, "disclosure")
def _(tmp):
    """labour_alignment and vocational_network: a trade of 3 graduates, and a trade one institution
    teaches, hidden; nothing comes back from the alignment, the institutions and the network summary."""
    from test_disclosure_tables import _labour_frames, attack_labour

    from evaluation import disclosure, labour

    demand, supply = _labour_frames()
    network = labour.vocational_network(supply)
    alignment, net = disclosure.protect_labour(labour.labour_alignment(demand, supply), network, min_cell=MIN_CELL)
    assert alignment.loc[alignment["graduates"].isna() & alignment["matched"], "suppressed"].all()
    assert alignment["suppressed"].sum() >= 2
    summary = disclosure.protect_network(labour.network_summary(supply, by=["trade", "level"]), min_cell=MIN_CELL,
                                         partitions=[["level"]])
    return attack_labour(alignment, net, summary, network)


@case("what_the_notebooks_show_keeps_small_cells_hidden", 2, "disclosure")
def _(tmp):
    """Every frame notebooks 02, 03 and 06 show (the sections' displays and tables, as the executed
    notebooks in the bundle hold them): no cell of 1 to min_cell - 1 students with its rate or counts."""
    from evaluation.data import load_cohort
    from evaluation.sections import counseling_coverage, equity, uptake_and_targets
    from evaluation.sections.base import Review

    params = load_params(PARAMS_FILE, data=str(_district_folder()), bootstrap_reps=0, year_start=2019,
                         year_end=2021)
    cohort = load_cohort(params.data_path, years=params.years)
    review = Review(cohort, params)
    shown = []
    for section in (uptake_and_targets, counseling_coverage, equity):
        res = section(cohort, params, review=review, figures=False)
        shown += [(f"{res.section}: {k}", v) for k, v in res.displays.items()]
        shown += [(f"{res.section}: {k}", t.data) for k, t in res.tables.items()]
    leaks, n_small = [], 0
    for name, frame in shown:
        if not isinstance(frame, pd.DataFrame) or "graduates" not in frame.columns:
            continue
        n = pd.to_numeric(frame["graduates"], errors="coerce")
        small = ((n > 0) & (n < MIN_CELL)).to_numpy()
        rates = [c for c in ("rate", "vocational", "target_rate", "unknown_share") if c in frame.columns]
        open_ = small & frame[rates].notna().any(axis=1).to_numpy()
        leaks += [f"{name}, row {i}" for i in np.flatnonzero(open_)]
        n_small += int(small.sum())
    assert len(shown) >= 6 and n_small >= 10  # small cells the frames had to hide
    return leaks


# ================================================================================================
# 3. Workbooks and CSV files
# ================================================================================================
def _template(tmp: Path) -> Path:
    src = clean_cohort(tmp / "tpl_src")
    for t in ("students", "vocational_supply", "labour_demand"):
        (src / f"{t}.csv").unlink()
    wb = write_template(tmp / "mau.xlsx", data=src)
    shutil.rmtree(src)
    return wb


def _rezip(path: Path, edit: Callable[[str, bytes], bytes]) -> None:
    with zipfile.ZipFile(path) as z:
        parts = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in parts:
            z.writestr(info.filename, edit(info.filename, data))


def _one_file(name: str, data: bytes) -> Callable[[Path], ImportInput]:
    def build(tmp: Path) -> ImportInput:
        (tmp / name).write_bytes(data)
        return ImportInput([tmp / name], tmp / "imported")
    return build


for _id, _name, _data, _msg in [
    ("empty_workbook_file", "mau.xlsx", b"", "mau.xlsx: expected a workbook or CSV file with data; this file is empty "
     "(0 bytes) [empty_file]"),
    ("text_file_named_xlsx", "mau.xlsx", b"school_id,year\nS01,2019\n", "mau.xlsx: expected an .xlsx workbook: the "
     "file does not start like one (it may be a renamed text, HTML or PDF file); open it in Excel and save it as "
     ".xlsx [not_a_workbook]"),
    ("password_protected_workbook", "mau.xlsx", OLE2_MAGIC + bytes(504) + "EncryptionInfo".encode("utf-16-le")
     + bytes(512), "mau.xlsx: expected a workbook without a password: this one is encrypted (password-protected); "
     "open it in Excel, remove the password (File > Info > Protect Workbook > Encrypt with Password, empty) and save "
     "it again [password_protected]"),
    ("excel_97_workbook", "mau.xls", OLE2_MAGIC + bytes(1024), "mau.xls: expected an Excel workbook in .xlsx format: "
     "this is an Excel 97-2003 (.xls) file; open it in Excel or LibreOffice and save it as .xlsx [old_excel_format]"),
    ("file_without_a_suffix", "data", b"a,b\n1,2\n", "data: expected an .xlsx workbook or a .csv file (this file ends "
     "in '(nothing)') [unsupported_format]"),
    ("csv_in_utf16", "graduates.csv", "school_id,year\nS01,2019\n".encode("utf-16"), "graduates.csv: expected a CSV "
     "file in UTF-8: this one is UTF-16 (Excel's 'Unicode Text'); save it from Excel as 'CSV UTF-8 (Comma "
     "delimited)' [csv_encoding]"),
]:
    CASES.append(Case(_id, 3, "import", _one_file(_name, _data), _msg))


@case("workbook_that_cannot_be_read", 3, "import",
      "mau.xlsx: expected a file the import can read: reading it failed (Permission denied) [file_unreadable]")
def _(tmp):
    p = _template(tmp)
    real = Path.read_bytes

    def denied(mp):
        mp.setattr(Path, "read_bytes", lambda self: (_ for _ in ()).throw(PermissionError(errno.EACCES,
                   "Permission denied")) if self.name == "mau.xlsx" else real(self))
    return ImportInput([p], tmp / "imported", patch=denied)


@case("student_list_csv_in_windows_1258", 3, "import",
      "hoc_sinh.csv, row 2: expected a CSV file in UTF-8: byte 34 (line 2) is not UTF-8, so the file was saved in "
      "another encoding (Windows-1258, TCVN3 or Latin-1?); save it from Excel as 'CSV UTF-8 (Comma delimited)' "
      "[csv_encoding]")
def _(tmp):
    """Its bytes are not shown either: they would be part of a student's name."""
    name = "Nguyễn Thị Hoa".encode("cp1258", "replace").replace(b"?", b"\xea\xde")  # e + combining tilde, as cp1258
    (tmp / "hoc_sinh.csv").write_bytes(b"Ho va ten,Ngay sinh,Ma truong\n" + name + b",12/03/2008,S01\n")
    return ImportInput([tmp / "hoc_sinh.csv"], tmp / "imported")


@case("zip_that_is_not_a_workbook", 3, "import",
      "mau.xlsx: expected an .xlsx workbook: the file is a zip archive but not an Excel workbook (a Word or "
      "OpenDocument file?) [not_a_workbook]")
def _(tmp):
    with zipfile.ZipFile(tmp / "mau.xlsx", "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return ImportInput([tmp / "mau.xlsx"], tmp / "imported")


@case("workbook_cut_short", 3, "import",
      "mau.xlsx: expected a readable .xlsx workbook: its zip container is damaged (a download or copy cut short?); "
      "get a fresh copy of the file [corrupt_workbook]")
def _(tmp):
    p = _template(tmp)
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    return ImportInput([p], tmp / "imported")


@case("zip_bomb", 3, "import",
      "mau.xlsx: expected an .xlsx workbook of ordinary data: part xl/worksheets/bomb.xml unpacks 1028 times its "
      "packed size (more than 200); the file is damaged or built to exhaust memory [workbook_too_large]")
def _(tmp):
    p = _template(tmp)
    with zipfile.ZipFile(p, "a", zipfile.ZIP_DEFLATED) as z:
        with z.open("xl/worksheets/bomb.xml", "w", force_zip64=True) as f:
            chunk = b" " * (1 << 20)
            for _ in range(64):
                f.write(chunk)
    return ImportInput([p], tmp / "imported")


@case("damaged_deflate_stream", 3, "import",
      "mau.xlsx: expected a readable .xlsx workbook: its compressed data is damaged (a download or copy cut short?); "
      "get a fresh copy of the file [corrupt_workbook]")
def _(tmp):
    p = _template(tmp)
    with zipfile.ZipFile(p) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    raw = bytearray(p.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(start + 10, start + min(info.compress_size, 200) - 10):
        raw[k] ^= 0x5A  # garble the deflate stream, keep the zip directory
    p.write_bytes(bytes(raw))
    return ImportInput([p], tmp / "imported")


@case("file_over_100_mb", 3, "import",
      "big.xlsx: expected an input file of at most 100 MB: this one has 101 MB; split it by year or school "
      "[file_too_large]")
def _(tmp):
    p = tmp / "big.xlsx"
    with open(p, "wb") as f:
        f.truncate(101 * 1024 * 1024)  # sparse: no disk used
    return ImportInput([p], tmp / "imported")


@case("sheet_of_5_million_cells_by_one_cell_in_the_last_column", 3, "import",
      "mau.xlsx: expected a sheet of at most 5,000,000 cells: sheet 'Trường học' has more (rows 315 and beyond); "
      "delete the empty or unused rows and columns [sheet_too_large]")
def _(tmp):
    p = _template(tmp)
    rows = b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>x</t></is></c><c r="XFD%d" t="inlineStr"><is>'
                    b'<t>y</t></is></c></row>' % (i, i, i) for i in range(10, 330))
    _rezip(p, lambda name, data: data.replace(b"</sheetData>", rows + b"</sheetData>")
           if name == "xl/worksheets/sheet3.xml" else data)
    return ImportInput([p], tmp / "imported")


@case("workbook_without_data", 3, "import",
      "blank.xlsx: expected at least one sheet with data of a contract table; the sheets are: 'Sheet1', 'Sheet2' "
      "[no_table]")
def _(tmp):
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    wb.create_sheet("Sheet2")
    wb.save(tmp / "blank.xlsx")
    return ImportInput([tmp / "blank.xlsx"], tmp / "imported")


@case("template_never_filled_in", 3, "import",
      "mau.xlsx, sheet 'Trường học': expected data rows below the header: table schools is required and this sheet, "
      "the only one holding it, has none [no_data_rows]")
def _(tmp):
    return ImportInput([write_template(tmp / "mau.xlsx")], tmp / "imported")


@case("formula_without_a_saved_result", 3, "import",
      "f.xlsx, sheet 'Tốt nghiệp', row 2, column E (students): value '(formula)': expected a value: the cell holds a "
      "formula whose result was never saved (the file was written by a program that does not calculate); open the "
      "file in Excel or LibreOffice and save it [formula_without_value]")
def _(tmp):
    base, g = _import_base(tmp)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tốt nghiệp"
    ws.append(["school_id", "year", "level", "destination", "students"])
    for r in pd.read_csv(g, dtype=str).itertuples(index=False):
        ws.append([r.school_id, int(r.year), r.level, r.destination, "=4+5"])
    wb.save(tmp / "f.xlsx")
    return ImportInput([tmp / "f.xlsx"], tmp / "imported", {"base": base})


def _same_as_the_plain_workbook(res, tmp: Path) -> None:
    plain = import_files([tmp / "mau.xlsx"], tmp / "plain")
    assert res.tables == plain.tables
    for f in sorted(plain.out.glob("*.csv")):
        assert f.read_bytes() == (res.out / f.name).read_bytes()


@case("workbook_declaring_a_million_rows_and_every_column", 3, "import", check=_same_as_the_plain_workbook)
def _(tmp):
    """A 27 KB workbook declaring A1:XFD1048576 (17 billion cells) ran out of memory: it is the same data."""
    wide = tmp / "wide.xlsx"
    shutil.copy(_template(tmp), wide)
    _rezip(wide, lambda name, data: re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:XFD1048576"/>', data)
           if name.startswith("xl/worksheets/") else data)
    assert b"A1:XFD1048576" in zipfile.ZipFile(wide).read("xl/worksheets/sheet1.xml")
    return ImportInput([wide], tmp / "imported")


def _imported_graduates(res, tmp: Path) -> None:
    got = pd.read_csv(res.out / "graduates.csv", dtype={"school_id": str})
    want = pd.read_csv(tmp / "wb" / "graduates.csv", dtype={"school_id": str})
    pd.testing.assert_frame_equal(got[list(want.columns)], want, check_dtype=False)


def _graduates_csv(encode: Callable[[str], bytes]) -> Callable[[Path], ImportInput]:
    def build(tmp: Path) -> ImportInput:
        base, g = _import_base(tmp)
        (tmp / "in").mkdir()
        (tmp / "in" / "graduates.csv").write_bytes(encode(g.read_text(encoding="utf-8")))
        return ImportInput([tmp / "in" / "graduates.csv"], tmp / "imported", {"base": base})
    return build


for _id, _enc in [
    ("csv_with_a_byte_order_mark", lambda t: t.encode("utf-8-sig")),
    ("csv_separated_by_semicolons", lambda t: t.replace(",", ";").encode("utf-8")),
    ("csv_separated_by_tabs", lambda t: t.replace(",", "\t").encode("utf-8")),
    ("csv_with_windows_line_ends", lambda t: t.replace("\n", "\r\n").encode("utf-8")),
]:
    CASES.append(Case(_id, 3, "import", _graduates_csv(_enc), None, _imported_graduates))


@case("workbook_with_a_merged_header", 3, "import", check=_imported_graduates)
def _(tmp):
    base, g = _import_base(tmp)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tốt nghiệp"
    ws.append(["Mã trường", "Năm", "Cấp học", "Hướng đi", "Số học sinh"])
    ws.append([None] * 5)
    for col in "ABCDE":
        ws.merge_cells(f"{col}1:{col}2")
    for r in pd.read_csv(g, dtype=str).itertuples(index=False):
        ws.append([r.school_id, int(r.year), r.level, r.destination, int(r.students)])
    wb.save(tmp / "gh.xlsx")
    return ImportInput([tmp / "gh.xlsx"], tmp / "imported", {"base": base})


# ================================================================================================
# 4. Parameters files
# ================================================================================================
def _alias_chain(n: int) -> str:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]" for i in range(n)]
    return "\n".join(lines) + "\n"


ALIASES = ("{file}: its aliases (*name) expand to more than 10000 values; write the values out instead of nesting "
           "aliases")
for _id, _text in [
    ("yaml_alias_bomb", _alias_chain(8)),
    ("yaml_alias_bomb_of_mappings", "a: &a {x: 1, y: 2, z: 3, w: 4, v: 5, u: 6, t: 7, s: 8, r: 9, q: 10}\n"
     + "".join(f"b{i}: &b{i} {{<<: *{'a' if i == 0 else f'b{i - 1}'}, k{i}: [*{'a' if i == 0 else f'b{i - 1}'}, "
               f"*{'a' if i == 0 else f'b{i - 1}'}]}}\n" for i in range(12))),
    ("yaml_alias_wide_not_deep", "a: &a [" + ", ".join(["x"] * 1000) + "]\nb: [" + ", ".join(["*a"] * 20) + "]\n"),
    ("yaml_alias_to_itself", "a: &a [*a]\n"),
]:
    yaml_case(_id, 4, _text, ALIASES)

for _id, _text, _msg in [
    ("yaml_duplicate_key", "min_cell: 5\ncycle: x\nmin_cell: 1\n",
     "{file}, line 3: key 'min_cell' is given twice (first on line 1); keep one"),
    ("yaml_duplicate_key_quoted", "min_cell: 5\n\"min_cell\": 1\n",
     "{file}, line 2: key 'min_cell' is given twice (first on line 1); keep one"),
    ("yaml_duplicate_key_nested", "targets:\n  - indicator: uptake\n    level: THCS\n    level: THPT\n",
     "{file}, line 4: key 'level' is given twice (first on line 3); keep one"),
    ("yaml_list_instead_of_a_mapping", "- min_cell\n- 5\n", "{file}: expected a mapping of parameter keys, got list"),
    ("yaml_plain_text", "review of 2025\n", "{file}: expected a mapping of parameter keys, got str"),
    ("yaml_two_documents", "min_cell: 5\n---\nmin_cell: 6\n", "{file}: not valid YAML: expected a single document in "
     "the stream"),
    ("yaml_python_object_tag", "cycle: !!python/object/apply:os.system ['echo hi']\n", "{file}: not valid YAML: could "
     "not determine a constructor for the tag 'tag:yaml.org,2002:python/object/apply:os.system'"),
    ("yaml_indented_with_a_tab", "cycle: x\n\tmin_cell: 5\n", "{file}: not valid YAML: while scanning for the next "
     "token"),
    ("yaml_list_as_a_key", "? [a, b]\n: 1\n", "{file}: not valid YAML: while constructing a mapping"),
    ("yaml_nested_too_deeply", "a: " + "[" * 5000 + "]" * 5000 + "\n",
     "{file}: nested too deeply to be a parameters or grid file"),
    ("yaml_over_1_mb", "title_vi: " + "x" * 1_100_000 + "\n",
     "{file}: 1100011 bytes; a parameters or grid file is at most 1000000 bytes"),
    ("yaml_not_utf8", b"district: Huy\xeen\n", "{file}: not UTF-8 text (byte 13); save it as UTF-8"),
    ("unknown_key", "min_cel: 5\n", "  - key 'min_cel': unknown parameter 'min_cel'; did you mean 'min_cell'? "
     "(value 5)"),
    ("min_cell_as_a_word", "min_cell: five\n", "  - key 'min_cell': Input should be a valid integer, unable to parse "
     "string as an integer (value 'five')"),
    ("min_cell_0", "min_cell: 0\n", "  - key 'min_cell': Input should be greater than or equal to 1 (value 0)"),
    ("min_cell_negative", "min_cell: -3\n", "  - key 'min_cell': Input should be greater than or equal to 1 "
     "(value -3)"),
    ("min_cell_with_a_fraction", "min_cell: 5.5\n", "  - key 'min_cell': Input should be a valid integer, got a "
     "number with a fractional part (value 5.5)"),
    ("min_cell_left_empty", "min_cell:\n", "  - key 'min_cell': Input should be a valid integer (value None)"),
    ("years_reversed", "year_start: 2025\nyear_end: 2018\n", "  - key '(file)': Value error, year_end (2018) is "
     "before year_start (2025) (value {{'year_start': 2025, 'year_end': 2018}})"),
    ("year_start_1900", "year_start: 1900\n", "  - key 'year_start': Input should be greater than or equal to 1990 "
     "(value 1900)"),
    ("language_not_offered", "lang: fr\n", "  - key 'lang': Input should be 'vi' or 'en' (value 'fr')"),
    ("level_not_offered", "levels: [THCS, 'THPT; DROP']\n", "  - key 'levels.1': Input should be 'THCS' or 'THPT' "
     "(value 'THPT; DROP')"),
    ("cycle_with_a_path", "cycle: ../../etc\n", "  - key 'cycle': Value error, must be a file-name-safe name without "
     "spaces or slashes (value '../../etc')"),
    ("data_as_a_number", "data: 5\n", "  - key 'data': Input should be a valid string (value 5)"),
    ("target_above_1", "targets:\n  - {indicator: uptake, level: THCS, year_from: 2018, year_to: 2025, target: 1.5}\n",
     "  - key 'targets.0.target': Input should be less than or equal to 1 (value 1.5)"),
    ("bootstrap_reps_negative", "bootstrap_reps: -1\n", "  - key 'bootstrap_reps': Input should be greater than or "
     "equal to 0 (value -1)"),
    ("share_not_a_number", "unknown_share_warning: .nan\n", "  - key 'unknown_share_warning': Input should be less "
     "than or equal to 1 (value nan)"),
    ("min_cell_written_on", "min_cell: on\n", "  - key 'min_cell': Value error, must be a number, not true or false "
     "(YAML reads yes, no, on and off as true or false) (value True)"),
    ("bootstrap_reps_written_no", "bootstrap_reps: no\n", "  - key 'bootstrap_reps': Value error, must be a number, "
     "not true or false (YAML reads yes, no, on and off as true or false) (value False)"),
    ("target_year_written_yes", "targets:\n  - {indicator: uptake, level: THCS, year_from: yes, year_to: 2025}\n",
     "  - key 'targets.0.year_from': Value error, must be a number, not true or false (YAML reads yes, no, on and off "
     "as true or false) (value True)"),
    ("yaml_with_a_null_byte", b"min_cell: 5\x00\n", "{file}: not valid YAML: unacceptable character #x0000: special "
     "characters are not allowed"),
    ("control_character_in_the_title", "title_vi: \"S\u01a1 k\u1ebft\\v2025\"\n", "  - key 'title_vi': Value error, "
     "must not hold control characters (invisible characters a workbook or Word file cannot hold); retype it (value "
     "'S\u01a1 k\u1ebft\\x0b2025')"),
]:
    yaml_case(_id, 4, _text, _msg)


def _params_ok(want: dict) -> Callable[[Any, Path], None]:
    def check(params, tmp):
        for k, v in want.items():
            assert getattr(params, k) == v, k
    return check


yaml_case("yaml_with_a_byte_order_mark", 4, "\ufeffmin_cell: 7\n", None, _params_ok({"min_cell": 7}))


# ================================================================================================
# 5. Validation holes
# ================================================================================================
for _id, _table, _row, _col, _value, _msg in [
    ("full_width_digits", "graduates", 0, "students", "１２", _type_msg(2, "students", "'１２'")),
    ("arabic_indic_digits", "graduates", 1, "students", "١٢", _type_msg(3, "students", "'١٢'")),
    ("thousands_with_a_dot", "graduates", 2, "students", "1.234", _type_msg(4, "students", "'1.234'")),
    ("thousands_with_a_comma", "graduates", 3, "students", "1,234", _type_msg(5, "students", "'1,234'")),
    ("decimal_count", "graduates", 0, "students", "12.5", _type_msg(2, "students", "'12.5'")),
    ("count_in_scientific_notation", "graduates", 0, "students", "1e3", _type_msg(2, "students", "'1e3'")),
    ("count_written_nan", "graduates", 0, "students", "nan", _type_msg(2, "students", "'nan'")),
    ("huge_integer", "counseling", 0, "counselors", "99999999999999999999",
     _type_msg(2, "counselors", "'99999999999999999999'")),
    ("integer_beyond_2_63", "counseling", 1, "counselors", str(2 ** 63 + 1),
     _type_msg(3, "counselors", f"'{2 ** 63 + 1}'")),
    ("negative_count", "counseling", 0, "counselors", "-3",
     "  error   line 2, column counselors, value '-3': expected a value of 0 or more [range]"),
    ("count_beyond_any_district", "vocational_supply", 0, "places", "99999999",
     "  error   line 2, column places, value '99999999': expected a count of at most 10000000 (a larger number is a "
     "typing error) [range]"),
    ("employed_above_graduated", "vocational_supply", 0, "employed_12m", "41",
     "  error   line 2, column employed_12m, value '41': expected at most the number graduated on the same row (40) "
     "[range]"),
    ("trained_above_counselors", "counseling", 0, "trained_counselors", "3",
     "  error   line 2, column trained_counselors, value '3': expected at most the number of counselors on the same "
     "row (2) [range]"),
    ("share_above_1", "communes", 0, "khmer_share", "1.5",
     "  error   line 2, column khmer_share, value '1.5': expected a value between 0 and 1 [range]"),
    ("share_as_a_percentage", "communes", 0, "khmer_share", "15%",
     "  error   line 2, column khmer_share, value '15%': expected a number with a decimal point, written with the "
     "digits 0-9 (e.g. 0.25) [type]"),
    ("share_infinite", "communes", 0, "khmer_share", "inf",
     "  error   line 2, column khmer_share, value 'inf': expected a value between 0 and 1 [range]"),
    ("yes_in_vietnamese", "schools", 0, "ethnic_boarding", "có",
     "  error   line 2, column ethnic_boarding, value 'có': expected true or false (also accepted: 1/0, yes/no) "
     "[type]"),
    ("dash_as_merged_into_code", "communes", 0, "merged_into_code", "-", f"  error   line 2, column merged_into_code, "
     f"value '-': {FORMULA}"),
    ("na_as_merged_into_code", "communes", 1, "merged_into_code", "NA",
     f"  error   line 3, column merged_into_code, value 'NA': {CODE_FORM}"),
    ("zero_as_merged_into_code", "communes", 2, "merged_into_code", "0",
     f"  error   line 4, column merged_into_code, value '0': {CODE_FORM}"),
    ("n_slash_a_as_merged_into_code", "communes", 3, "merged_into_code", "N/A",
     f"  error   line 5, column merged_into_code, value 'N/A': {CODE_FORM}"),
    ("na_as_residence_commune", "students", 2, "residence_commune_code", "N/A",
     f"  error   line 4, column residence_commune_code, value (not shown): {CODE_FORM}"),
    ("x_as_residence_commune", "students", 3, "residence_commune_code", "x",
     f"  error   line 5, column residence_commune_code, value (not shown): {CODE_FORM}"),
    ("year_2099", "vocational_supply", 0, "year", "2099",
     f"  error   line 2, column year, value '2099': expected a calendar year between 1990 and {Y_HI} [year_range]"),
    ("year_1900_in_a_table", "counseling", 0, "year", "1900",
     f"  error   line 2, column year, value '1900': expected a calendar year between 1990 and {Y_HI} [year_range]"),
    ("school_year_instead_of_a_year", "counseling", 0, "year", "2020-2021",
     _type_msg(2, "year", "'2020-2021'")),
    ("unknown_commune", "schools", 0, "commune_code", "99999",
     "  error   line 2, column commune_code, value '99999': expected a commune_code listed in communes [reference]"),
    ("destination_not_in_the_code_list", "graduates", 0, "destination", "vocational",
     "  error   line 2, column destination, value 'vocational': expected one of: thpt, gdtx, voc_intermediate, "
     "voc_elementary, employment, other, unknown, university, voc_college [code]"),
    ("destination_of_the_other_level", "graduates", 0, "destination", "university",
     "  error   line 2, column destination, value 'university': expected a destination after THCS: thpt, gdtx, "
     "voc_intermediate, voc_elementary, employment, other, unknown [destination_level]"),
    ("levels_separated_by_a_semicolon", "schools", 0, "levels", "THCS;THPT",
     "  error   line 2, column levels, value 'THCS;THPT': expected one of: THCS, THPT, THCS,THPT [code]"),
    ("graduates_disagree_with_the_student_list", "graduates", 0, "students", "99",
     "  error   line 2, column students, value '99': expected 9 = the number of students rows in the cell "
     "(school_id=S01, year=2019, level=THCS, destination=thpt) [microdata_mismatch]"),
]:
    cell_case(_id, 5, _table, _row, _col, _value, _msg)


CONTROL = ("expected text without control characters (invisible characters, often copied from a PDF or Word file, "
           "that the workbook and Word reports cannot hold); retype the cell [control_character]")
for _id, _table, _col, _value, _shown, _pq in [
    ("vertical_tab_in_a_commune_name", "communes", "commune_name", "Xã\x0bMỹ Cẩm", "Xã\\x0bMỹ Cẩm", False),
    ("form_feed_in_an_institution_name", "vocational_supply", "institution_name", "Trường\x0cTrung cấp",
     "Trường\\x0cTrung cấp", False),
    ("null_character_in_a_school_name", "schools", "school_name", "Trường\x00THCS", "Trường\\x00THCS", True),
]:
    cell_case(_id, 5, _table, 0, _col, _value, f"  error   {'row 1' if _pq else 'line 2'}, column {_col}, value "
              f"'{_shown}': {CONTROL}", _pq)


def _school_twice(d: Path) -> None:
    s = pd.read_csv(d / "schools.csv", dtype=str)
    pd.concat([s, s.iloc[[0]].assign(commune_code="29266")]).to_csv(d / "schools.csv", index=False)


@case("school_in_two_communes", 5, "validate",
      "  error   line 4, column school_id, value 'S01': expected a unique school_id (the same key is on 2 lines, "
      "first on line 2) [duplicate_key]")
def _(tmp):
    d = clean_cohort(tmp / "cohort")
    _school_twice(d)
    return d


@case("duplicated_column_header", 5, "validate",
      "  error   value 'graduates.csv': expected a readable CSV file (UTF-8, comma-separated, header row); column "
      "'students' appears twice in the header (columns 5 and 6); keep one of them [file_unreadable]")
def _(tmp):
    d = clean_cohort(tmp / "cohort")
    edit_text(d / "graduates.csv", lambda t: "\n".join(
        [line + (",students" if i == 0 else ",0") for i, line in enumerate(t.splitlines())]) + "\n")
    return d


@case("header_in_another_case", 5, "validate",
      "  error   column students: expected a column named 'students' (see the data contract for table graduates) "
      "[missing_column]")
def _(tmp):
    d = clean_cohort(tmp / "cohort")
    edit_text(d / "graduates.csv", lambda t: t.replace("students", "Students", 1))
    return d


@case("header_with_trailing_spaces", 5, "validate", check=lambda report, tmp: None)
def _(tmp):
    d = clean_cohort(tmp / "cohort")
    edit_text(d / "graduates.csv", lambda t: t.replace("students", "students  ", 1).replace("school_id", " school_id",
                                                                                                  1))
    return d


@case("year_of_zero_counts", 5, "validate",
      "  warning column students: expected at least one graduate of THCS in 2020: all 2 rows of this level and year "
      "have 0 students; fill in the counts, or delete the rows of a year without data [zero_year]")
def _(tmp):
    d = clean_cohort(tmp / "cohort")
    (d / "students.csv").unlink()  # graduates alone (they would no longer agree with the microdata)
    g = pd.read_csv(d / "graduates.csv")
    g.loc[(g["year"] == 2020) & (g["level"] == "THCS"), "students"] = 0
    g.to_csv(d / "graduates.csv", index=False)
    return d


@case("table_given_as_csv_and_parquet", 5, "validate",
      "  error   value 'graduates.csv, graduates.parquet': expected only one of graduates.csv or graduates.parquet "
      "(remove the other) [file_duplicate]")
def _(tmp):
    d = clean_cohort(tmp / "cohort")
    pd.read_csv(d / "graduates.csv").to_parquet(d / "graduates.parquet")
    return d


for _id, _data, _msg in [
    ("empty_table_file", b"", "the file is empty"),
    ("table_in_windows_1258", "school_id,school_name\nS01,Trường\n".encode("utf-8").replace(b"\xc6\xb0", b"\xad"),
     "its bytes are not UTF-8 (first bad byte at offset 28); save it from Excel as 'CSV UTF-8'"),
]:
    def _b(tmp, data=_data):
        d = clean_cohort(tmp / "cohort")
        (d / "schools.csv").write_bytes(data)
        return d
    CASES.append(Case(_id, 5, "validate", _b, "  error   value 'schools.csv': expected a readable CSV file (UTF-8, "
                      f"comma-separated, header row); {_msg} [file_unreadable]"))


for _id, _sep, _name in [("table_separated_by_semicolons", ";", "';'"), ("table_separated_by_tabs", "\t", "tabs")]:
    def _b(tmp, sep=_sep):
        d = clean_cohort(tmp / "cohort")
        edit_text(d / "counseling.csv", lambda t: t.replace(",", sep))
        return d
    CASES.append(Case(_id, 5, "validate", _b, "  error   value 'counseling.csv': expected a readable CSV file (UTF-8, "
                      f"comma-separated, header row); its columns are separated by {_name}, not commas (Excel saves CSV "
                      "so in a Vietnamese or European locale); save it from Excel as 'CSV UTF-8 (Comma delimited)' "
                      "[file_unreadable]"))


def _parquet_with(table: str, **columns) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        d = clean_cohort(tmp / "cohort")
        df = pd.read_csv(d / f"{table}.csv", dtype=str, keep_default_na=False)
        (d / f"{table}.csv").unlink()
        df.assign(**{k: v(len(df)) for k, v in columns.items()}).to_parquet(d / f"{table}.parquet", index=False)
        return d
    return build


PARQUET = "  error   value 'schools.parquet': expected a readable Parquet file; column 'school_name' holds {} values, " \
          "not one number, text or true/false per cell; write it as plain values [file_unreadable]"
for _id, _build, _msg in [
    ("parquet_column_of_lists", _parquet_with("schools", school_name=lambda n: [["a", "b"]] * n),
     PARQUET.format("list<element: string>")),
    ("parquet_column_of_raw_bytes", _parquet_with("schools", school_name=lambda n: [b"\xff\x00"] * n),
     PARQUET.format("binary")),
    ("parquet_count_beyond_int64", _parquet_with("counseling", counselors=lambda n: np.full(n, 2 ** 64 - 1, "uint64")),
     "  error   row 1, column counselors, value '18446744073709551615': expected a count of at most 10000000 (a larger "
     "number is a typing error) [range]"),
    ("parquet_count_of_1e300", _parquet_with("counseling", counselors=lambda n: np.full(n, 1e300)),
     "  error   row 1, column counselors, value '1e+300': expected a whole number written with the digits 0-9, at most "
     "15 digits (e.g. 12) [type]"),
]:
    CASES.append(Case(_id, 5, "validate", _build, _msg))


@case("damaged_parquet_file", 5, "validate",
      "  error   value 'graduates.parquet': expected a readable Parquet file; pyarrow could not read it: ArrowInvalid: "
      "Parquet file size is 15 bytes, smaller than the size reported by footer's (1701273954bytes) [file_unreadable]")
def _(tmp):
    d = clean_cohort(tmp / "cohort")
    (d / "graduates.csv").unlink()
    (d / "graduates.parquet").write_bytes(b"PAR1garbagePAR1")
    return d


@case("trailing_comma_on_every_data_line", 5, "validate", check=lambda report, tmp: None)
def _(tmp):
    """Excel and some exporters end data lines, not the header, with a comma: the values used to be read
    shifted one column left (the first column taken as the row index)."""
    d = clean_cohort(tmp / "cohort")
    edit_text(d / "counseling.csv", lambda t: "\n".join(line + ("," if i else "") for i, line in
                                                         enumerate(t.splitlines())) + "\n")
    return d


@case("unquoted_comma_in_the_first_row", 5, "validate",
      "  error   value 'schools.csv': expected a readable CSV file (UTF-8, comma-separated, header row); line 2 has more "
      "values than the header has columns (5); quote a value that holds a comma, or give the extra column a header "
      "[file_unreadable]")
def _(tmp):
    d = clean_cohort(tmp / "cohort")
    edit_text(d / "schools.csv", lambda t: t.replace("Trường THCS Mỹ Cẩm", "Trường THCS Mỹ Cẩm, Càng Long"))
    return d


@case("unquoted_comma_in_a_later_row", 5, "validate",
      "  error   value 'schools.csv': expected a readable CSV file (UTF-8, comma-separated, header row); pandas could "
      "not parse it: Error tokenizing data. C error: Expected 5 fields in line 3, saw 6 [file_unreadable]")
def _(tmp):
    d = clean_cohort(tmp / "cohort")
    edit_text(d / "schools.csv", lambda t: t.replace("Trường THPT Càng Long", "Trường THPT Càng Long, Trà Vinh"))
    return d


@case("header_without_rows", 5, "validate",
      "  error   value 'graduates.csv': expected at least one data row below the header [empty_table]")
def _(tmp):
    d = clean_cohort(tmp / "cohort")
    (d / "students.csv").unlink()
    (d / "graduates.csv").write_text("school_id,year,level,destination,students\n", encoding="utf-8")
    return d


@case("data_folder_missing", 5, "validate",
      "  error   value '{tmp}/cohort': expected an existing folder holding the cohort tables [folder_missing]")
def _(tmp):
    return tmp / "cohort"


# ================================================================================================
# 6. Personal data where it does not belong: named by file, row and column, never shown
# ================================================================================================
for _id, _table, _row, _col, _value, _msg in [
    ("name_and_birth_date_in_residence_commune", "students", 3, "residence_commune_code", f"{NAME} {BIRTH}",
     f"  error   line 5, column residence_commune_code, value (not shown): {CODE_FORM}"),
    ("name_in_the_sex_column", "students", 4, "sex", NAME,
     "  error   line 6, column sex, value (not shown): expected one of: F, M [code]"),
    ("birth_date_in_the_year_column", "students", 5, "year", BIRTH,
     "  error   line 7, column year, value (not shown): expected a whole number written with the digits 0-9, at "
     "most 15 digits (e.g. 12) [type]"),
    ("name_in_the_destination_column", "students", 6, "destination", NAME,
     "  error   line 8, column destination, value (not shown): expected one of: thpt, gdtx, voc_intermediate, "
     "voc_elementary, employment, other, unknown, university, voc_college [code]"),
    ("name_in_the_ethnicity_column", "students", 8, "ethnicity", NAME,
     "  error   line 10, column ethnicity, value (not shown): expected one of: kinh, khmer, hoa, other, unknown [code]"),
    ("name_and_birth_date_in_the_school_column", "students", 9, "school_id", f"{NAME} {BIRTH}",
     f"  error   line 11, column school_id, value (not shown): {CODE_FORM}"),
    ("phone_number_in_the_counseled_column", "students", 7, "counseled", PHONE,
     "  error   line 9, column counseled, value (not shown): expected true or false (also accepted: 1/0, yes/no) "
     "[type]"),
]:
    cell_case(_id, 6, _table, _row, _col, _value, _msg)


PERSONAL_HERE = ("expected no personal data here: the cell looks like a phone number, a citizen identity number or a "
                 "date of birth; remove it [personal_value]")
KEY_NOT_PSEUDONYMOUS = ("expected a pseudonymous key, not a person's identity number, phone number, date of birth or "
                        "name; make the keys with 'python -m evaluation import', which pseudonymises student lists "
                        "[personal_value]")
for _id, _table, _row, _col, _value, _msg in [
    ("phone_number_in_a_school_name", "schools", 0, "school_name", f"Trường THCS {PHONE}",
     f"  error   line 2, column school_name, value (not shown): {PERSONAL_HERE}"),
    ("spaced_phone_number_in_a_commune_name", "communes", 1, "commune_name", "Xã Mỹ Cẩm 0912 345 678",
     f"  error   line 3, column commune_name, value (not shown): {PERSONAL_HERE}"),
    ("national_id_in_an_institution_name", "vocational_supply", 0, "institution_name", NATIONAL_ID,
     f"  error   line 2, column institution_name, value (not shown): {PERSONAL_HERE}"),
    ("birth_date_in_a_trade", "labour_demand", 0, "trade", f"Điện {BIRTH}",
     f"  error   line 2, column trade, value (not shown): {PERSONAL_HERE}"),
    ("phone_number_as_residence_commune", "students", 0, "residence_commune_code", PHONE,
     f"  error   line 2, column residence_commune_code, value (not shown): {PERSONAL_HERE}"),
    ("national_id_as_student_key", "students", 1, "student_key", NATIONAL_ID,
     f"  error   line 3, column student_key, value (not shown): {KEY_NOT_PSEUDONYMOUS}"),
    ("name_as_student_key", "students", 2, "student_key", NAME,
     f"  error   line 4, column student_key, value (not shown): {KEY_NOT_PSEUDONYMOUS}"),
    ("name_and_birth_date_in_a_commune_code_of_schools", "schools", 0, "commune_code", f"{NAME} {BIRTH}",
     f"  error   line 2, column commune_code, value (not shown): {CODE_FORM}"),
    ("name_as_a_school_of_graduates", "graduates", 0, "school_id", NAME,
     f"  error   line 2, column school_id, value (not shown): {CODE_FORM}"),
    ("national_id_as_a_count", "graduates", 1, "students", NATIONAL_ID,
     "  error   line 3, column students, value (not shown): expected a count of at most 10000000 (a larger number is a "
     "typing error) [range]"),
]:
    cell_case(_id, 6, _table, _row, _col, _value, _msg)


def _student_list_with(cells: dict[str, Any]) -> Callable[[Path], ImportInput]:
    def build(tmp: Path) -> ImportInput:
        made = _student_list(tmp)
        wb = openpyxl.load_workbook(made.files[0])
        for ref, v in cells.items():
            wb.active[ref] = v
        wb.save(made.files[0])
        return made
    return build


for _id, _cells, _msg in [
    ("name_in_the_sex_column_of_a_student_list", {"D7": NAME}, "hoc_sinh.xlsx, sheet 'Học sinh', row 7, column D "
     "(Giới tính): value (not shown): expected a sex: one of F (nữ), M (nam) (or their Vietnamese names) [code]"),
    ("birth_date_in_the_year_column_of_a_student_list", {"G4": BIRTH}, "hoc_sinh.xlsx, sheet 'Học sinh', row 4, "
     "column G (Năm tốt nghiệp): value (not shown): expected a year such as 2019, not a date; write the year alone "
     "[date_as_year]"),
    ("birth_date_as_excel_serial_in_a_student_list", {"G5": 39519}, "hoc_sinh.xlsx, sheet 'Học sinh', row 5, column "
     "G (Năm tốt nghiệp): value (not shown): expected a year such as 2019, not a date; write the year alone "
     "[date_as_year]"),
    ("name_and_birth_date_as_residence_in_a_student_list", {"J3": f"{NAME} {BIRTH}"}, "hoc_sinh.xlsx, sheet 'Học "
     f"sinh', row 3, column J (Mã xã cư trú): value (not shown): {PERSONAL_HERE}"),
    ("name_as_the_school_in_a_student_list", {"F4": NAME}, f"hoc_sinh.xlsx, sheet 'Học sinh', row 4, column F (Mã "
     f"trường): value (not shown): {CODE_FORM}"),
]:
    CASES.append(Case(_id, 6, "import", _student_list_with(_cells), _msg))


@case("phone_number_in_a_count_of_a_graduates_workbook", 6, "import",
      "g.xlsx, sheet 'Tốt nghiệp', row 3, column E (students): value (not shown): expected a whole number (e.g. 12; "
      "thousands may be written '1.234') [type]")
def _(tmp):
    base, g = _import_base(tmp)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tốt nghiệp"
    ws.append(["school_id", "year", "level", "destination", "students"])
    for i, r in enumerate(pd.read_csv(g, dtype=str).itertuples(index=False)):
        ws.append([r.school_id, int(r.year), r.level, r.destination, "0912 345 678" if i == 1 else int(r.students)])
    wb.save(tmp / "g.xlsx")
    return ImportInput([tmp / "g.xlsx"], tmp / "imported", {"base": base})


for _id, _header in [("name_column_in_the_student_list", "Họ và tên"), ("birth_date_column", "ngay_sinh"),
                     ("phone_column", "Số điện thoại"), ("national_id_column", "CCCD")]:
    cell_case(_id, 6, "students", 0, _header, {"Họ và tên": NAME, "ngay_sinh": BIRTH, "Số điện thoại": PHONE,
                                               "CCCD": NATIONAL_ID}[_header],
              f"  error   column {_header}, value '(values not shown)': expected no name, national ID, birth date or "
              "contact column in student microdata (personal data): delete this column and keep only the pseudonymous "
              "student_key [personal_data]")


KEY = {"EVALUATION_PSEUDONYM_KEY": "a secret key of the district, long enough 2025"}


def _student_list(tmp: Path, residence_of_first: str | None = None) -> ImportInput:
    """A student list workbook with identifiers, names, birth dates and phone numbers (the first
    student's are the planted ones), to import beside a base folder."""
    base, _ = _import_base(tmp)
    students = clean_cohort(tmp / "src")
    rows = pd.read_csv(students / "students.csv", dtype=str)
    shutil.rmtree(students)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Học sinh"
    ws.append(["Mã định danh", "Họ và tên", "Ngày sinh", "Giới tính", "Dân tộc", "Mã trường", "Năm tốt nghiệp",
               "Cấp học", "Hộ nghèo", "Mã xã cư trú", "Được tư vấn", "Hướng đi", "Số điện thoại"])
    for i, r in enumerate(rows.itertuples(index=False)):
        first = i == 0
        ws.append([NATIONAL_ID if first else f"0792080{i:05d}", NAME if first else f"Học sinh {i}",
                   BIRTH if first else f"{1 + i % 28:02d}/05/2005", r.sex, r.ethnicity, r.school_id, int(r.year),
                   r.level, r.poor_household, residence_of_first if first and residence_of_first else
                   r.residence_commune_code, r.counseled, r.destination, PHONE if first else f"09{i:08d}"])
    wb.save(tmp / "hoc_sinh.xlsx")
    return ImportInput([tmp / "hoc_sinh.xlsx"], tmp / "imported", {"base": base, "environ": KEY})


def _nothing_personal_written(res, tmp: Path) -> None:
    texts = [p.read_text(encoding="utf-8") for p in res.out.iterdir()]
    assert [v for v in PERSONAL for t in texts if v in t] == []
    st = pd.read_csv(res.out / "students.csv", dtype=str)
    assert len(st) == 48 and st["student_key"].str.fullmatch(r"P[0-9a-f]{20}").all()


@case("student_list_with_names_is_imported_without_them", 6, "import", check=_nothing_personal_written)
def _(tmp):
    return _student_list(tmp)


# ================================================================================================
# 7. Formula-like text: refused in every text column that reaches an output
# ================================================================================================
def _formula_case(id: str, table: str, row: int, column: str, value: str, parquet: bool = False) -> None:
    where = f"row {row + 1}" if parquet else f"line {row + 2}"
    shown = value.replace("\t", "\\t").replace("\r", "\\r")  # shown escaped: raw, they would break the line
    cell_case(id, 7, table, row, column, value, f"  error   {where}, column {column}, value '{shown}': {FORMULA}",
              parquet)


for _id, _table, _col, _value, _pq in [
    ("formula_in_a_school_name", "schools", "school_name", '=HYPERLINK("http://x","Trường")', False),
    ("plus_in_a_commune_name", "communes", "commune_name", "+84 Xã", False),
    ("minus_in_a_district_name", "communes", "district_name", "-Huyện", False),
    ("at_sign_in_a_province_name", "communes", "province_name", "@Tỉnh", False),
    ("formula_in_a_merged_commune_name", "communes", "merged_into_name", "=1+1", False),
    ("at_sign_in_a_trade", "vocational_supply", "trade", "@SUM(1+1)", False),
    ("formula_in_an_institution_name", "vocational_supply", "institution_name", "=cmd|' /C calc'!A0", False),
    ("formula_in_an_institution_id", "vocational_supply", "institution_id", "=1", False),
    ("formula_in_an_enterprise_id", "labour_demand", "enterprise_id", "+1-1", False),
    ("formula_in_a_demanded_trade", "labour_demand", "trade", "=A1", False),
    ("tab_before_a_school_name", "schools", "school_name", "\t=1+1", True),
    ("carriage_return_before_a_trade", "vocational_supply", "trade", "\r=1+1", True),
]:
    _formula_case(_id, _table, 0, _col, _value, _pq)


@case("tab_before_a_name_in_a_csv_is_trimmed", 7, "validate", check=lambda report, tmp: None)
def _(tmp):
    """A CSV reader trims spaces and tabs around a cell: what reaches the evidence starts with the letter."""
    d = clean_cohort(tmp / "cohort")
    set_cell(d, "communes", 0, "commune_name", "\tXã Mỹ Cẩm")
    return d


for _id, _text, _key, _shown in [
    ("formula_in_the_district_name", "district: '=1+1'\n", "district", "'=1+1'"),
    ("at_sign_in_the_province", "province: '@SUM(1)'\n", "province", "'@SUM(1)'"),
    ("tab_before_the_vietnamese_title", "title_vi: \"\\t=1+1\"\n", "title_vi", "'\\t=1+1'"),
    ("carriage_return_before_the_english_title", "title_en: \"\\rReview\"\n", "title_en", "'\\rReview'"),
    ("formula_as_the_cycle_name", "cycle: '=1+1'\n", "cycle", "'=1+1'"),
    ("cycle_name_starting_with_a_dash", "cycle: '-rf'\n", "cycle", "'-rf'"),
    ("formula_as_the_source_of_a_target", "targets:\n  - {indicator: uptake, level: THCS, year_from: 2018, year_to: "
     "2025, target: 0.3, source: '=HYPERLINK(\"http://x\")'}\n", "targets.0.source", "'=HYPERLINK(\"http://x\")'"),
]:
    yaml_case(_id, 7, _text, f"  - key '{_key}': Value error, must not start with =, +, -, @, a tab or a line break (a "
              f"spreadsheet opening the evidence would run it as a formula) (value {_shown})")


# ================================================================================================
# 8. Faults: what a failure, a kill or a second run must leave as it was
# ================================================================================================
def _fake_notebook(tmp: Path) -> Path:
    """A notebook the faked execution "runs" (no kernel): see :func:`_fake_execute`."""
    nb = tmp / "nbs" / "01_fake.ipynb"
    nb.parent.mkdir(exist_ok=True)
    nb.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n', encoding="utf-8")
    return nb


def _fake_execute(*, fail: str | None = None, interrupt: bool = False):
    """``runner._execute`` without kernels: the notebooks "ran" and published the hand-made evidence of
    tests/evidence_fixtures (the runner's own steps, index, report, manifest and swap, are real)."""
    from evaluation import runner

    def execute(notebooks, *, stage, parameters, cwd, jobs, progress):
        import evidence_fixtures as fx

        if interrupt:
            raise KeyboardInterrupt
        fx.make_stage(stage, synthetic=True, figures=False)
        runs = []
        for nb in notebooks:
            shutil.copyfile(nb, stage / "notebooks" / nb.name)
            status = "failed" if fail else "ok"
            runs.append(runner.NotebookRun(nb.name, status=status, reason=fail, wall_time_s=0.01,
                                           output=stage / "notebooks" / nb.name))
        return runs
    return execute


def _previous_bundle(tmp: Path) -> Path:
    out = tmp / "out" / "review"
    (out / "evidence").mkdir(parents=True)
    (out / "evidence" / "uptake_by_year.csv").write_text("level,year,rate\nTHCS,2018,0.2\n", encoding="utf-8")
    (out / "manifest.json").write_text('{"cycle": "earlier"}\n', encoding="utf-8")
    return out


def _start(tmp: Path, mp: pytest.MonkeyPatch, capsys, *, execute=None, report: bool = False, out: Path | None = None,
           **kw) -> tuple[int, str]:
    from evaluation import runner

    data = tmp / "inputs" / "cohort"
    if not data.exists():
        clean_cohort(data)
    out = out or tmp / "out" / "review"
    mp.setattr(runner, "_execute", execute or _fake_execute())
    params = load_params(PARAMS_FILE, data=str(data), out=str(out), **kw)
    code = runner.run_review(params, notebooks=[_fake_notebook(tmp)], progress=False, report=report)
    return code, capsys.readouterr().err


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


@case("failure_in_the_last_step_leaves_the_previous_bundle", 8, "fault")
def _(tmp, mp, capsys):
    from evaluation import report

    out = _previous_bundle(tmp)
    before = snapshot(out)

    def broken(*a, **k):
        raise RuntimeError("planted failure of the last step")
    mp.setattr(report, "build_report", broken)
    code, err = _start(tmp, mp, capsys, report=True)
    assert code == 1 and snapshot(out) == before and _leftovers(out) == []
    (kept,) = (out.parent / "failed-runs").iterdir()
    assert (kept / "manifest.json").is_file() and "planted failure" in (kept / "outputs.log").read_text(encoding="utf-8")
    assert ("error: review cang_long_2018_2025 failed: evaluation.report.build_report failed: RuntimeError: planted "
            "failure of the last step") in err
    assert f"the step's traceback in {kept / 'outputs.log'}" in err
    return err


@case("notebook_failure_on_a_full_disk_leaves_no_empty_copies", 8, "fault")
def _(tmp, mp, capsys):
    from evaluation import runner

    out = _previous_bundle(tmp)
    before = snapshot(out)

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")
    mp.setattr(runner.shutil, "copy2", full)
    code, err = _start(tmp, mp, capsys, execute=_fake_execute(fail="ValueError: planted"))
    assert code == 1 and snapshot(out) == before and _leftovers(out) == []
    assert not (out.parent / "failed-runs").exists()
    assert "The failed notebooks could not be kept (No space left on device)" in err
    return err


@case("disk_error_while_swapping_the_bundle_into_place", 8, "fault")
def _(tmp, mp, capsys):
    from evaluation import fsutil

    out = _previous_bundle(tmp)
    before = snapshot(out)
    real = os.replace

    def failing(src, dst):
        if Path(src).name.startswith(".review.staging-"):
            raise OSError(errno.EIO, "Input/output error")
        return real(src, dst)
    mp.setattr(fsutil.os, "replace", failing)
    code, err = _start(tmp, mp, capsys)
    assert code == 1 and snapshot(out) == before and _leftovers(out) == []
    assert (f"error: review cang_long_2018_2025: the bundle could not be written to {out} (Input/output error); the "
            f"bundle at {out} is unchanged.") in err
    return err


@case("second_run_into_the_same_bundle", 8, "fault")
def _(tmp, mp, capsys):
    from evaluation.runner import out_lock

    out = _previous_bundle(tmp)
    before = snapshot(out)
    with out_lock(out):
        code, err = _start(tmp, mp, capsys)
    assert code == 2 and snapshot(out) == before
    assert (f"error: another run (process {os.getpid()}) is writing the bundle {out}; wait for it to finish, or choose "
            "another output folder") in err.splitlines()
    return err


@case("run_killed_outright_is_cleaned_up_by_the_next", 8, "fault")
def _(tmp, mp, capsys):
    """SIGKILL between the two renames of the swap: the old bundle set aside, a staging folder left;
    the next run puts nothing half-made in place and leaves one bundle, its own."""
    out = _previous_bundle(tmp)
    dead = 2 ** 22 + 12345  # a process id no process has
    os.replace(out, out.parent / f".review.previous-{dead}")
    (out.parent / f".review.staging-{dead}" / "evidence").mkdir(parents=True)
    code, err = _start(tmp, mp, capsys)
    assert code == 0 and _leftovers(out) == []
    assert (out / "manifest.json").is_file() and not (out / "evidence" / "uptake_by_year.csv").read_text(
        encoding="utf-8").startswith("level,year,rate\nTHCS,2018,0.2")
    return err


@case("ctrl_c_during_the_notebooks", 8, "fault")
def _(tmp, mp, capsys):
    out = _previous_bundle(tmp)
    before = snapshot(out)
    code, err = _start(tmp, mp, capsys, execute=_fake_execute(interrupt=True))
    assert code == 130 and snapshot(out) == before and _leftovers(out) == []
    assert f"error: review cang_long_2018_2025 interrupted (Ctrl-C); the bundle at {out} is unchanged." in err
    return err


@case("rerun_gives_byte_identical_reports_and_evidence", 8, "fault")
def _(tmp, mp, capsys):
    first, second = tmp / "out" / "first", tmp / "out" / "second"
    assert _start(tmp, mp, capsys, report=True, out=first)[0] == 0
    time.sleep(1.1)  # another second on the clock: zip entries and document properties must not carry it
    code, err = _start(tmp, mp, capsys, report=True, out=second)
    assert code == 0
    a, b = snapshot(first), snapshot(second)
    assert {k for k in a if k.startswith("report/")} >= {"report/cang_long_2018_2025_vi.docx",
                                                           "report/cang_long_2018_2025_vi.xlsx",
                                                           "report/cang_long_2018_2025_vi.html"}
    differ = [k for k in a if k != "manifest.json" and a[k] != b.get(k)]
    assert differ == [] and set(a) == set(b)
    return err


def _fails_writing(mp: pytest.MonkeyPatch, exc: BaseException) -> None:
    real = pd.DataFrame.to_csv

    def failing(self, path=None, *a, **k):
        if path is not None and ".importing-" in str(path):
            raise exc
        return real(self, path, *a, **k)
    mp.setattr(pd.DataFrame, "to_csv", failing)


@case("import_on_a_full_disk_writes_nothing", 8, "fault")
def _(tmp, mp, capsys):
    base, g = _import_base(tmp)
    out = tmp / "imported"
    (out / "old").mkdir(parents=True)  # an earlier import, replaced only by a complete one
    (out / "old" / "graduates.csv").write_text("school_id\nS01\n", encoding="utf-8")
    _fails_writing(mp, OSError(errno.ENOSPC, "No space left on device"))
    before = snapshot(tmp)
    with pytest.raises(ImportFailed) as e:
        import_files([g], out, base=base, overwrite=True)
    assert e.value.messages == [f"{out}: expected a folder the import can write: writing failed (No space left on "
                                "device); free some space or choose another folder [output_unwritable]"]
    assert snapshot(tmp) == before and [p.name for p in tmp.iterdir() if ".importing-" in p.name] == []
    return str(e.value)


@case("import_interrupted_while_writing_leaves_nothing", 8, "fault")
def _(tmp, mp, capsys):
    base, g = _import_base(tmp)
    _fails_writing(mp, KeyboardInterrupt())
    before = snapshot(tmp)
    with pytest.raises(KeyboardInterrupt):
        import_files([g], tmp / "imported", base=base)
    assert snapshot(tmp) == before and not (tmp / "imported").exists()
    assert [p.name for p in tmp.iterdir() if ".importing-" in p.name] == []
    return ""


# ------------------------------------------------------------------------------------------------
# the runner of the catalogue
# ------------------------------------------------------------------------------------------------
def _no_personal_value(text: str) -> None:
    leaked = [v for v in PERSONAL if v in text]
    assert not leaked, f"personal values in the message: {leaked}"


def _run_case(c: Case, tmp: Path, mp: pytest.MonkeyPatch, capsys) -> str:
    """Run the entry point of ``c`` on its input; the message text (the result checked by ``c.check``)."""
    made = c.build(tmp)
    before = snapshot(tmp)
    if c.kind == "validate":
        report = validate_folder(made)
        text = report.format()
        if c.expected is None:
            assert report.ok, text
            c.check(report, tmp)
        else:
            assert c.expected.format(tmp=tmp) in text.splitlines(), text
    elif c.kind == "import":
        existed = made.out.exists()
        if c.expected is None:
            res = import_files(made.files, made.out, **made.kwargs)
            c.check(res, tmp)
            return ""
        with pytest.raises(ImportFailed) as e, pytest.MonkeyPatch.context() as m:
            if made.patch is not None:
                made.patch(m)
            import_files(made.files, made.out, **made.kwargs)
        text = str(e.value)
        assert c.expected.format(out=made.out, tmp=tmp) in e.value.messages, text
        assert made.out.exists() == existed
    elif c.kind == "params":
        if c.expected is None:
            c.check(load_params(made), tmp)
            return ""
        with pytest.raises(ParamsError) as e:
            load_params(made)
        text = str(e.value)
        want = c.expected.format(file=made)
        assert any(line.startswith(want) for line in text.splitlines()), text
    elif c.kind == "run":
        from evaluation import runner

        if made.patch is not None:
            made.patch(mp)
        if made.notebooks is not None:
            mp.setattr(runner, "_execute", _fake_execute())
        out = made.params.out_path
        code = runner.run_review(made.params, params_file=made.params_file, overwrite=made.overwrite,
                                 progress=False, report=False, notebooks=made.notebooks)
        text = capsys.readouterr().err
        assert code == made.code, text
        if c.expected is None:
            c.check(out, tmp)
            return text
        shown = os.path.abspath(out)
        expected = c.expected.format(out=shown, data=os.path.realpath(made.params.data_path), tmp=tmp,
                                     parent=Path(shown).parent, pid=os.getpid())
        assert expected in text.splitlines(), text
    elif c.kind == "cli":
        from evaluation.cli import main

        code = main(made.argv)
        text = capsys.readouterr().err
        assert code == made.code, text
        assert c.expected.format(tmp=tmp) in text.splitlines(), text
    elif c.kind == "disclosure":
        found = made
        assert found == [], f"recovered: {found}"
        return ""
    else:
        raise AssertionError(f"unknown kind {c.kind}")
    assert snapshot(tmp) == before, "the case wrote or changed a file"
    return text


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_catalogue(c: Case, tmp_path, monkeypatch, capsys):
    t0 = time.perf_counter()
    if c.fault:
        text = c.build(tmp_path, monkeypatch, capsys)
    else:
        text = _run_case(c, tmp_path, monkeypatch, capsys)
    assert "Traceback" not in text
    _no_personal_value(text)
    assert time.perf_counter() - t0 < 30


def test_the_catalogue_covers_every_point_of_the_issue():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    per_point = {p: sum(c.point == p for c in CASES) for p in range(1, 9)}
    assert all(n >= 5 for n in per_point.values()), per_point
    assert sum(not c.fault for c in CASES) >= 77 and sum(c.fault for c in CASES) >= 5


def test_merged_range_to_the_last_cell_is_cut_at_the_data(tmp_path):
    from evaluation.importer.workbook import read_file

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["a", "b"])
    ws.append([1, 2])
    ws.merge_cells("A5:B6")
    wb.save(tmp_path / "m.xlsx")
    _rezip(tmp_path / "m.xlsx", lambda name, data: data.replace(b'ref="A5:B6"', b'ref="A5:XFD1048576"'))
    (g,) = read_file(tmp_path / "m.xlsx")
    assert all(r1 <= max(g.n_rows, 5) and c1 <= max(g.n_cols, 1) for _, _, r1, c1 in g.merged)


def test_clean_cohort_is_clean(tmp_path):
    report = validate_folder(clean_cohort(tmp_path / "c"))
    assert report.ok, report.format()


@pytest.mark.parametrize("where", ["beside", "elsewhere"])
def test_import_report_names_the_base_folder_without_a_machine_path(tmp_path, where):
    """``--base`` was written into import_report.md/.json as an absolute path (user and home folder)."""
    base, g = _import_base(tmp_path)
    out = tmp_path / ("inputs" if where == "beside" else "elsewhere") / "imported"
    res = import_files([g], out, base=base)
    shown = {"beside": "../cohort", "elsewhere": "cohort"}[where]
    assert res.report["base"] == shown
    md = (out / "import_report.md").read_text(encoding="utf-8")
    assert f"Thư mục gốc / base folder: `{shown}`" in md
    for f in out.iterdir():
        assert str(tmp_path) not in f.read_text(encoding="utf-8"), f.name


def test_readme_states_the_number_of_cases():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    n_fault = sum(c.fault for c in CASES)
    assert f"{len(CASES)} cases ({len(CASES) - n_fault} bad inputs, {n_fault} faults)" in readme
