"""Catalogue of hostile and broken inputs: each case -> one exact message, nothing written or lost.

Every case builds its input here (one small fixture per behaviour), runs the entry point a user
runs (validate a cohort folder, import a workbook, read a parameters file, start a review), and
asserts the exact message, that no traceback was printed, that no student's value appears in
it, and that nothing was written (the inputs are byte for byte as they were and no output
folder appeared). The README states the number of cases (``len(CASES)``).
"""
from __future__ import annotations

import os
import re
import shutil
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import openpyxl
import pandas as pd
import pytest

from evaluation.importer import ImportFailed, import_files, write_template
from evaluation.params import ParamsError, load_params
from evaluation.paths import PARAMS_DIR, ROOT
from evaluation.reference import commune_crosswalk
from evaluation.validation import plausible_years, validate_folder

PARAMS_FILE = PARAMS_DIR / "cang_long_2018_2025.yaml"
#: Personal values planted in the inputs: none may appear in a message.
NAME, BIRTH = "Nguyễn Thị Hoa", "12/03/2008"


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
    return folder


def set_cell(folder: Path, table: str, row: int, column: str, value) -> None:
    """Data row ``row`` (0-based; CSV line row + 2) of ``table`` gets ``value`` in ``column``."""
    df = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
    if column not in df.columns:
        df[column] = ""
    df.loc[row, column] = value
    df.to_csv(folder / f"{table}.csv", index=False)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------------------------------
# the cases
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    id: str
    kind: str  # validate | import | params | run
    build: Callable[[Path], object]  # makes the input under tmp; returns what the runner needs
    expected: str  # the exact line of the message


CASES: list[Case] = []


def case(id: str, kind: str, expected: str):
    def deco(fn):
        CASES.append(Case(id, kind, fn, expected))
        return fn
    return deco


Y_HI = plausible_years()[1]


# -- validation rules ----------------------------------------------------------------------------
@case("full_width_digits", "validate",
      "  error   line 2, column students, value '１２': expected a whole number written with the digits 0-9, at most "
      "15 digits (e.g. 12) [type]")
def _(tmp):
    d = clean_cohort(tmp / "cohort")
    set_cell(d, "graduates", 0, "students", "１２")
    return d


@case("huge_integer", "validate",
      "  error   line 2, column counselors, value '99999999999999999999': expected a whole number written with the "
      "digits 0-9, at most 15 digits (e.g. 12) [type]")
def _(tmp):
    d = clean_cohort(tmp / "cohort")
    set_cell(d, "counseling", 0, "counselors", "99999999999999999999")
    return d


@case("count_beyond_any_district", "validate",
      "  error   line 2, column places, value '123456789012': expected a count of at most 10000000 (a larger number is "
      "a typing error) [range]")
def _(tmp):
    d = clean_cohort(tmp / "cohort")
    set_cell(d, "vocational_supply", 0, "places", "123456789012")
    return d


@case("employed_above_graduated", "validate",
      "  error   line 2, column employed_12m, value '41': expected at most the number graduated on the same row "
      "(40) [range]")
def _(tmp):
    d = clean_cohort(tmp / "cohort")
    set_cell(d, "vocational_supply", 0, "employed_12m", "41")
    return d


@case("dash_as_merged_into_code", "validate",
      "  error   line 2, column merged_into_code, value '-': expected text that does not start with =, +, -, @, a tab "
      "or a line break (a spreadsheet would run it as a formula when the evidence is opened); remove the first "
      "character [formula_text]")
def _(tmp):
    d = clean_cohort(tmp / "cohort")
    set_cell(d, "communes", 0, "merged_into_code", "-")
    return d


@case("na_as_merged_into_code", "validate",
      "  error   line 3, column merged_into_code, value 'NA': expected a code: letters and digits (also _ . - /), no "
      "spaces, not a placeholder such as '-' or 'NA' (leave the cell empty when there is none) [code_form]")
def _(tmp):
    d = clean_cohort(tmp / "cohort")
    set_cell(d, "communes", 1, "merged_into_code", "NA")
    return d


@case("na_as_residence_commune", "validate",
      "  error   line 4, column residence_commune_code, value (not shown): expected a code: letters and digits (also _ "
      ". - /), no spaces, not a placeholder such as '-' or 'NA' (leave the cell empty when there is none) [code_form]")
def _(tmp):
    d = clean_cohort(tmp / "cohort")
    set_cell(d, "students", 2, "residence_commune_code", "N/A")
    return d


@case("name_and_birth_date_in_residence_commune", "validate",
      "  error   line 5, column residence_commune_code, value (not shown): expected a code: letters and digits (also "
      "_ . - /), no spaces, not a placeholder such as '-' or 'NA' (leave the cell empty when there is none) "
      "[code_form]")
def _(tmp):
    d = clean_cohort(tmp / "cohort")
    set_cell(d, "students", 3, "residence_commune_code", f"{NAME} {BIRTH}")
    return d


@case("name_in_the_sex_column", "validate",
      "  error   line 6, column sex, value (not shown): expected one of: F, M [code]")
def _(tmp):
    d = clean_cohort(tmp / "cohort")
    set_cell(d, "students", 4, "sex", NAME)
    return d


@case("birth_date_in_the_year_column", "validate",
      "  error   line 7, column year, value (not shown): expected a whole number written with the digits 0-9, at "
      "most 15 digits (e.g. 12) [type]")
def _(tmp):
    d = clean_cohort(tmp / "cohort")
    set_cell(d, "students", 5, "year", BIRTH)
    return d


@case("duplicated_column_header", "validate",
      "  error   value 'graduates.csv': expected a readable CSV file (UTF-8, comma-separated, header row); column "
      "'students' appears twice in the header (columns 5 and 6); keep one of them [file_unreadable]")
def _(tmp):
    d = clean_cohort(tmp / "cohort")
    text = (d / "graduates.csv").read_text(encoding="utf-8").splitlines()
    text = [text[0] + ",students"] + [line + ",0" for line in text[1:]]
    (d / "graduates.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    return d


@case("year_of_zero_counts", "validate",
      "  warning column students: expected at least one graduate of THCS in 2020: all 2 rows of this level and year "
      "have 0 students; fill in the counts, or delete the rows of a year without data [zero_year]")
def _(tmp):
    d = clean_cohort(tmp / "cohort")
    (d / "students.csv").unlink()  # graduates alone (they would no longer agree with the microdata)
    g = pd.read_csv(d / "graduates.csv")
    g.loc[(g["year"] == 2020) & (g["level"] == "THCS"), "students"] = 0
    g.to_csv(d / "graduates.csv", index=False)
    return d


@case("year_2099", "validate",
      f"  error   line 2, column year, value '2099': expected a calendar year between 1990 and {Y_HI} [year_range]")
def _(tmp):
    d = clean_cohort(tmp / "cohort")
    set_cell(d, "vocational_supply", 0, "year", "2099")
    return d


@case("formula_in_a_school_name", "validate",
      "  error   line 3, column school_name, value '=HYPERLINK(\"http://x\",\"Trường\")': expected text that does not "
      "start with =, +, -, @, a tab or a line break (a spreadsheet would run it as a formula when the evidence is "
      "opened); remove the first character [formula_text]")
def _(tmp):
    d = clean_cohort(tmp / "cohort")
    set_cell(d, "schools", 1, "school_name", '=HYPERLINK("http://x","Trường")')
    return d


@case("at_sign_in_a_trade", "validate",
      "  error   line 2, column trade, value '@SUM(1+1)': expected text that does not start with =, +, -, @, a tab or "
      "a line break (a spreadsheet would run it as a formula when the evidence is opened); remove the first "
      "character [formula_text]")
def _(tmp):
    d = clean_cohort(tmp / "cohort")
    set_cell(d, "vocational_supply", 0, "trade", "@SUM(1+1)")
    return d


# -- workbooks ----------------------------------------------------------------------------------
def _template(tmp: Path) -> Path:
    src = clean_cohort(tmp / "tpl_src")
    (src / "students.csv").unlink()
    (src / "vocational_supply.csv").unlink()
    wb = write_template(tmp / "mau.xlsx", data=src)
    shutil.rmtree(src)
    return wb


def _rezip(path: Path, edit: Callable[[str, bytes], bytes]) -> None:
    with zipfile.ZipFile(path) as z:
        parts = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in parts:
            z.writestr(info.filename, edit(info.filename, data))


@case("zip_bomb", "import",
      "mau.xlsx: expected an .xlsx workbook of ordinary data: part xl/worksheets/bomb.xml unpacks 1028 times its "
      "packed size (more than 200); the file is damaged or built to exhaust memory [workbook_too_large]")
def _(tmp):
    p = _template(tmp)
    with zipfile.ZipFile(p, "a", zipfile.ZIP_DEFLATED) as z:
        with z.open("xl/worksheets/bomb.xml", "w", force_zip64=True) as f:
            chunk = b" " * (1 << 20)
            for _ in range(64):
                f.write(chunk)
    return [p]


@case("damaged_deflate_stream", "import",
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
    return [p]


@case("file_over_100_mb", "import",
      "big.xlsx: expected an input file of at most 100 MB: this one has 101 MB; split it by year or school "
      "[file_too_large]")
def _(tmp):
    p = tmp / "big.xlsx"
    with open(p, "wb") as f:
        f.truncate(101 * 1024 * 1024)  # sparse: no disk used
    return [p]


# -- parameters files -----------------------------------------------------------------------------
@case("yaml_alias_bomb", "params",
      "laughs.yaml: its aliases (*name) expand to more than 10000 values; write the values out instead of nesting "
      "aliases")
def _(tmp):
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]" for i in range(8)]
    (tmp / "laughs.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp / "laughs.yaml"


@case("yaml_duplicate_key", "params",
      "dup.yaml, line 3: key 'min_cell' is given twice (first on line 1); keep one")
def _(tmp):
    (tmp / "dup.yaml").write_text("min_cell: 5\ncycle: x\nmin_cell: 1\n", encoding="utf-8")
    return tmp / "dup.yaml"


@case("formula_in_the_district_name", "params",
      "  - key 'district': Value error, must not start with =, +, -, @, a tab or a line break (a spreadsheet opening "
      "the evidence would run it as a formula) (value '=1+1')")
def _(tmp):
    (tmp / "f.yaml").write_text("district: '=1+1'\n", encoding="utf-8")
    return tmp / "f.yaml"


# -- the review run's output folder ---------------------------------------------------------------
def _run_params(tmp: Path, out_of: Callable[[Path], Path]):
    data = clean_cohort(tmp / "inputs" / "cohort")
    (data / "notes.txt").write_text("the user's own notes\n", encoding="utf-8")
    return load_params(PARAMS_FILE, data=str(data), out=str(out_of(data)))


for _id, _where, _msg in [
    ("out_is_the_data_folder", lambda d: d, "is the data folder (parameter 'data')"),
    ("out_is_a_parent_of_the_data", lambda d: d.parent, "contains the data folder (parameter 'data') ({data})"),
    ("out_is_root", lambda d: Path("/"), "is the root of the file system"),
    ("out_is_the_repository", lambda d: ROOT, "is the repository of the toolkit"),
]:
    exp = (f"error: output folder {{out}} (parameter 'out' / --out) {_msg}; a run replaces its output folder, "
           "so it would be deleted. Choose a folder of its own, e.g. output/<cycle>")
    CASES.append(Case(_id, "run", (lambda where: lambda tmp: _run_params(tmp, where))(_where), exp))


@case("out_holds_other_files", "run",
      "error: output folder {out} (parameter 'out' / --out) holds files that are not an evidence bundle (no "
      "manifest.json of an earlier run); a run replaces the whole folder. Choose an empty or new folder, or pass "
      "--overwrite to replace it")
def _(tmp):
    out = tmp / "thesis"
    out.mkdir()
    (out / "chapter1.docx").write_bytes(b"a user's work")
    return _run_params(tmp, lambda d: out)


@case("out_name_too_long", "run",
      "error: output folder {out}: a name in the path is longer than the file system allows (255 bytes); shorten the "
      "folder name (parameter 'out') or the cycle name (parameter 'cycle')")
def _(tmp):
    return _run_params(tmp, lambda d: tmp / ("x" * 300))


@case("second_run_into_the_same_bundle", "run",
      "error: another run (process {pid}) is writing the bundle {out}; wait for it to finish, or choose another "
      "output folder")
def _(tmp):
    return _run_params(tmp, lambda d: tmp / "out" / "review")


# ------------------------------------------------------------------------------------------------
# the runner of the catalogue
# ------------------------------------------------------------------------------------------------
def _no_personal_value(text: str) -> None:
    assert NAME not in text and BIRTH not in text


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_catalogue(c: Case, tmp_path, capsys):
    made = c.build(tmp_path)
    before = snapshot(tmp_path)
    t0 = time.perf_counter()
    if c.kind == "validate":
        text = validate_folder(made).format()
        assert c.expected in text.splitlines(), text
    elif c.kind == "import":
        out = tmp_path / "imported"
        with pytest.raises(ImportFailed) as e:
            import_files(made, out)
        text = str(e.value)
        assert c.expected in e.value.messages, text
        assert not out.exists()
    elif c.kind == "params":
        with pytest.raises(ParamsError) as e:
            load_params(made)
        text = str(e.value)
        assert c.expected.replace(made.name, str(made), 1) in text.splitlines(), text
    else:
        from evaluation.runner import out_lock, run_review

        params = made
        out = params.out_path
        lock = None
        if c.id == "second_run_into_the_same_bundle":
            out.parent.mkdir(parents=True, exist_ok=True)
            lock = out_lock(out)
            lock.__enter__()
            before = snapshot(tmp_path)
        try:
            code = run_review(params, progress=False, report=False, overwrite=c.id not in (
                "out_holds_other_files", "second_run_into_the_same_bundle"))
        finally:
            if lock is not None:
                lock.__exit__(None, None, None)
        text = capsys.readouterr().err
        assert code == 2
        expected = c.expected.format(out=os.path.abspath(out), data=os.path.realpath(params.data_path),
                                     pid=os.getpid())
        assert expected in text.splitlines(), text
    assert "Traceback" not in text
    _no_personal_value(text)
    assert time.perf_counter() - t0 < 30
    after = snapshot(tmp_path)
    if c.id == "second_run_into_the_same_bundle":
        after = {k: v for k, v in after.items() if not k.endswith(".lock")}
        before = {k: v for k, v in before.items() if not k.endswith(".lock")}
    assert after == before, "the case wrote or changed a file"


def test_workbook_declaring_the_largest_dimension_imports_as_the_plain_one(tmp_path):
    """A 27 KB workbook declaring A1:XFD1048576 ran out of memory; it is the same data."""
    plain = _template(tmp_path)
    wide = tmp_path / "wide.xlsx"
    shutil.copy(plain, wide)
    _rezip(wide, lambda name, data: re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:XFD1048576"/>', data)
           if name.startswith("xl/worksheets/") else data)
    assert b"A1:XFD1048576" in zipfile.ZipFile(wide).read("xl/worksheets/sheet1.xml")
    t0 = time.perf_counter()
    a = import_files([plain], tmp_path / "a")
    took = time.perf_counter() - t0
    t0 = time.perf_counter()
    b = import_files([wide], tmp_path / "b")
    assert time.perf_counter() - t0 < took + 5
    assert a.tables == b.tables
    for f in sorted((tmp_path / "a").glob("*.csv")):
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes()


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


def test_readme_states_the_number_of_cases():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"{len(CASES)} cases" in readme


@pytest.mark.parametrize("where", ["beside", "elsewhere"])
def test_import_report_names_the_base_folder_without_a_machine_path(tmp_path, where):
    """``--base`` was written into import_report.md/.json as an absolute path (user and home folder)."""
    base = clean_cohort(tmp_path / "inputs" / "cohort")
    (base / "students.csv").unlink()
    (tmp_path / "wb").mkdir()
    shutil.move(base / "graduates.csv", tmp_path / "wb" / "graduates.csv")
    out = tmp_path / ("inputs" if where == "beside" else "elsewhere") / "imported"
    res = import_files([tmp_path / "wb" / "graduates.csv"], out, base=base)
    shown = {"beside": "../cohort", "elsewhere": "cohort"}[where]
    assert res.report["base"] == shown
    md = (out / "import_report.md").read_text(encoding="utf-8")
    assert f"Base folder: `{shown}`" in md
    for f in out.iterdir():
        assert str(tmp_path) not in f.read_text(encoding="utf-8"), f.name
