"""The Vietnamese template prevents mistakes: checks on every data row with error alerts, whole
numbers for years and counts, locked headers, a Vietnamese comment on every column, labelled
drop-downs (economic sector too), and `template --data` writing the labels the importer reads
back."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from evaluation.contract import ALL_TABLES
from evaluation.importer import import_files, write_template
from evaluation.importer.headers import SHEET_TITLES, template_columns
from evaluation.importer.template import TEMPLATE_ROWS
from evaluation.reference import commune_crosswalk
from evaluation.contract import TABLE_SPECS


@pytest.fixture(scope="module")
def blank(tmp_path_factory) -> openpyxl.Workbook:
    return openpyxl.load_workbook(write_template(tmp_path_factory.mktemp("tpl") / "mau.xlsx"))


def _checks(ws) -> dict[str, object]:
    """Column letter -> its data validation (the one covering rows 2..)."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            a, b = rng.split(":")
            assert a[1:] == "2"
            out[a[0]] = (dv, int(b[1:]))
    return out


@pytest.mark.parametrize("table", ALL_TABLES)
def test_every_column_has_a_vietnamese_comment_and_its_checks(blank, table):
    ws = blank[SHEET_TITLES[table]]
    specs = {s.name: s for s in TABLE_SPECS[table]}
    checks = _checks(ws)
    cols = template_columns(table)
    if table == "students":
        cols = [("student_key", "Mã học sinh")] + [c for c in cols if c[0] != "student_key"]
    for j, (col, head) in enumerate(cols, start=1):
        cell = ws.cell(row=1, column=j)
        L = cell.column_letter
        assert cell.value == head
        text = cell.comment.text
        # Vietnamese first, never the bare column name twice ("places: places")
        assert text.startswith(f"{head} (") and f"{col}: {col}" not in text and len(text) > len(head) + 30, text
        assert cell.protection.locked  # the header is locked ...
        assert ws.column_dimensions[L].protection.locked is False  # ... the data cells are not
        spec = specs[col]
        if col in checks or spec.kind in ("int", "float", "bool") or spec.codes is not None:
            dv, last = checks[L]
            assert last >= TEMPLATE_ROWS + 1 >= 100_001, (col, last)
            assert dv.showErrorMessage and dv.errorStyle == "stop" and dv.error, col
            if spec.kind == "int" and spec.year:
                assert (dv.type, dv.operator, dv.formula1, dv.formula2) == ("whole", "between", "1990", "2100")
            elif spec.kind == "int":
                assert (dv.type, dv.operator, dv.formula1) == ("whole", "greaterThanOrEqual", "0"), col
            elif spec.kind == "float":
                assert (dv.type, dv.formula1, dv.formula2) == ("decimal", "0", "1")
            else:
                assert dv.type == "list"
    assert ws.protection.sheet and not ws.protection.insertRows and not ws.protection.sort


def test_vocational_level_and_sector_are_described_and_labelled(blank):
    ws = blank["Cơ sở GDNN"]
    lv = next(c for c in ws[1] if c.value == "Trình độ")
    assert "sơ cấp, trung cấp hoặc cao đẳng" in lv.comment.text and "THCS" not in lv.comment.text
    ws = blank["Nhu cầu lao động"]
    L = next(c.column_letter for c in ws[1] if c.value == "Ngành kinh tế (VSIC)")
    ref = _checks(ws)[L][0].formula1  # ='Danh mục'!$X$1:$X$21
    col = ref.split("!$")[1].split("$")[0]
    lists = blank["Danh mục"]
    items = [lists[f"{col}{i}"].value for i in range(1, 22)]
    assert items[0] == "A - Nông nghiệp, lâm nghiệp và thủy sản" and items[5] == "F - Xây dựng"
    assert all(len(x) > 4 for x in items)  # never a bare letter


def _folder(root: Path) -> Path:
    cw = commune_crosswalk()
    f = root / "src"
    f.mkdir()
    pd.DataFrame({"commune_code": cw["commune_code"], "commune_name": cw["commune_name"],
                  "district_name": cw["district_name"], "province_name": cw["province_name"],
                  "khmer_share": 0.05, "disadvantaged": False}).to_csv(f / "communes.csv", index=False)
    pd.DataFrame([("S01", "Trường THCS Mỹ Cẩm", "29269", "THCS", False),
                  ("S02", "Trường THPT Càng Long", "29266", "THPT", False)],
                 columns=["school_id", "school_name", "commune_code", "levels", "ethnic_boarding"]
                 ).to_csv(f / "schools.csv", index=False)
    pd.DataFrame([("S01", 2019, "THCS", "F", "khmer", "gdtx", 12), ("S01", 2019, "THCS", "M", "kinh", "thpt", 80),
                  ("S02", 2019, "THPT", "F", "hoa", "voc_college", 9), ("S02", 2019, "THPT", "M", "kinh",
                                                                         "university", 40)],
                 columns=["school_id", "year", "level", "sex", "ethnicity", "destination", "students"]
                 ).to_csv(f / "graduates.csv", index=False)
    pd.DataFrame([("S01", 2019, 2, 1), ("S02", 2019, 1, 1)],
                 columns=["school_id", "year", "counselors", "trained_counselors"]).to_csv(f / "counseling.csv",
                                                                                           index=False)
    pd.DataFrame([(2019, "DN01", "29266", "F", "Nề", "elementary", 5), (2019, "DN02", "29269", "C", "May",
                                                                      "intermediate", 12)],
                 columns=["survey_year", "enterprise_id", "commune_code", "sector", "trade", "qualification",
                          "workers_needed"]).to_csv(f / "labour_demand.csv", index=False)
    pd.DataFrame([(2019, "GD01", "Trung tâm GDNN-GDTX", "29266", "May", "intermediate", 30, 28, 20, 15)],
                 columns=["year", "institution_id", "institution_name", "commune_code", "trade", "level", "places",
                          "enrolled", "graduated", "employed_12m"]).to_csv(f / "vocational_supply.csv", index=False)
    return f


def test_template_with_data_shows_labels_and_imports_back_to_the_same_folder(tmp_path):
    src = _folder(tmp_path)
    p = write_template(tmp_path / "mau.xlsx", data=src)
    wb = openpyxl.load_workbook(p)
    g = wb["Tốt nghiệp"]
    assert [c.value for c in g[2]] == ["S01", 2019, "THCS", "Nữ", "Khmer", "Giáo dục thường xuyên cấp THPT", 12]
    ld = wb["Nhu cầu lao động"]
    assert ld["D2"].value == "F - Xây dựng" and ld["F2"].value == "Sơ cấp"
    assert wb["Cơ sở GDNN"]["F2"].value == "Trung cấp"
    assert g["A2"].protection.locked is False  # filled cells stay editable
    res = import_files([p], tmp_path / "out")
    for t in ("graduates", "labour_demand", "vocational_supply", "counseling"):
        a = pd.read_csv(src / f"{t}.csv", dtype=str)
        b = pd.read_csv(res.out / f"{t}.csv", dtype=str)[list(a.columns)]
        key = list(a.columns)
        pd.testing.assert_frame_equal(a.sort_values(key).reset_index(drop=True),
                                      b.sort_values(key).reset_index(drop=True), check_dtype=False, obj=t)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_instructions_sheet_reads_in_libreoffice(tmp_path):
    """LibreOffice renders the instructions page: every line of text fits the page width."""
    p = write_template(tmp_path / "mau.xlsx")
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(p)], check=True, capture_output=True, timeout=300)
    text = subprocess.run(["pdftotext", "-layout", "-f", "1", "-l", "1", str(tmp_path / "mau.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "Mẫu nhập số liệu sơ kết phân luồng" in text
    assert "EVALUATION_PSEUDONYM_KEY" in text and "Cách dùng" in text


def test_template_never_replaces_an_existing_workbook_unless_told(tmp_path, capsys):
    """A filled-in workbook with the template's name is kept: the command refuses, writes nothing; --overwrite
    replaces a file (never a folder)."""
    from evaluation.cli import main

    filled = tmp_path / "mau.xlsx"
    filled.write_bytes(b"the district's filled-in workbook")
    assert main(["template", "--out", str(filled)]) == 2
    assert "mau.xlsx already exists; nothing was written" in capsys.readouterr().err
    assert filled.read_bytes() == b"the district's filled-in workbook"
    assert main(["template", "--out", str(filled), "--overwrite"]) == 0
    assert openpyxl.load_workbook(filled).sheetnames[0]
    (tmp_path / "d.xlsx").mkdir()
    assert main(["template", "--out", str(tmp_path / "d.xlsx"), "--overwrite"]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.xlsx", "mau.xlsx"]  # no temporary file left
