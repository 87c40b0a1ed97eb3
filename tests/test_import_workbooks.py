"""Importing workbooks: the messy district workbook and the clean template give the same folder.

Every workbook is built here at run time with openpyxl (no binary fixture is committed). The
data are small and made up: six schools of Càng Long (real commune names and codes), three
graduation years, one school with more than a thousand graduates so that Vietnamese thousands
separators ("1.234") occur.
"""
from __future__ import annotations

import filecmp
import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.styles import Font

from evaluation.contract import DESTINATIONS
from evaluation.data import load_cohort
from evaluation.importer import ImportFailed, import_files, write_template
from evaluation.importer.vntext import unicode_to_tcvn3, unicode_to_vni
from evaluation.paths import ROOT
from evaluation.reference import commune_crosswalk

YEARS = (2019, 2020, 2021)
SCHOOLS = [  # id, name, commune, levels, DTNT
    ("S01", "Trường THCS Thị trấn Càng Long", "29266", "THCS", False),
    ("S02", "Trường THCS Mỹ Cẩm", "29269", "THCS", False),
    ("S03", "Trường THCS Nhị Long Phú", "29299", "THCS", False),
    ("S04", "Trường THCS Đại Phước", "29296", "THCS", False),
    ("S05", "Trường THPT Càng Long", "29266", "THPT", False),
    ("S06", "Trường PT Dân tộc nội trú THCS và THPT Càng Long", "29266", "THCS,THPT", True),
]
COMMUNE_SPELLING = {"29266": "TT Càng Long", "29269": "X. Mỹ Cẩm", "29299": "xã nhi long phu", "29296": "Đại Phước"}


def clean_tables() -> dict[str, pd.DataFrame]:
    cw = commune_crosswalk()
    communes = pd.DataFrame({
        "commune_code": cw["commune_code"], "commune_name": cw["commune_name"],
        "district_name": cw["district_name"], "province_name": cw["province_name"],
        "khmer_share": [0.025, 0.04, 0.31, 0.05, 0.02, 0.2, 0.03, 0.06, 0.07, 0.015, 0.18, 0.05, 0.01, 0.035],
        "disadvantaged": [False, False, True, False, False, True, False, False, False, False, True, False, False,
                          False],
        "merged_into_code": cw["merged_into_code"], "merged_into_name": cw["merged_into_name"],
    })
    schools = pd.DataFrame(SCHOOLS, columns=["school_id", "school_name", "commune_code", "levels", "ethnic_boarding"])
    rows, couns = [], []
    k = 0
    for sid, _, _, levels, _ in SCHOOLS:
        for level in levels.split(","):
            for y in YEARS:
                for j, d in enumerate(DESTINATIONS[level]):
                    k += 1
                    n = (k * 37) % 150 + 1
                    if sid == "S05" and d == "university":
                        n = 1234 + y - 2019  # thousands
                    if (k % 5) == 0:
                        continue  # a cell not reported
                    rows.append((sid, y, level, d, n))
    for i, (sid, *_rest) in enumerate(SCHOOLS):
        for y in YEARS:
            c = 1 + (i + y) % 3
            couns.append((sid, y, c, min(c, max(0, y - 2019 + i % 2)), 3 + i + y % 4))
    graduates = pd.DataFrame(rows, columns=["school_id", "year", "level", "destination", "students"])
    counseling = pd.DataFrame(couns, columns=["school_id", "year", "counselors", "trained_counselors", "sessions"])
    return {"schools": schools, "communes": communes, "graduates": graduates, "counseling": counseling}


def write_folder(tables: dict[str, pd.DataFrame], folder: Path) -> Path:
    folder.mkdir(parents=True)
    for t, df in tables.items():
        df.to_csv(folder / f"{t}.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def clean_folder(tmp_path_factory) -> Path:
    return write_folder(clean_tables(), tmp_path_factory.mktemp("clean") / "cohort")


def nfd(s: str) -> str:
    return unicodedata.normalize("NFD", s)


def vn_thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def messy_workbook(path: Path, tables: dict[str, pd.DataFrame]) -> Path:
    """The same data the way a district office sends it."""
    wb = openpyxl.Workbook()
    # -- schools: TCVN3 header and names, commune names instead of codes, ticks for DTNT
    ws = wb.active
    ws.title = "DS truong"
    ws["A1"] = unicode_to_tcvn3("DANH SÁCH TRƯỜNG THCS, THPT HUYỆN CÀNG LONG".lower())
    ws.merge_cells("A1:F1")
    ws.append([])
    ws.append(["STT", unicode_to_tcvn3("Mã trường"), unicode_to_tcvn3("Tên trường"), unicode_to_tcvn3("Xã, thị trấn"),
               unicode_to_tcvn3("Cấp học"), "DTNT"])
    for i, (sid, name, commune, levels, dtnt) in enumerate(SCHOOLS, start=1):
        ws.append([i, sid, unicode_to_tcvn3(name) if i % 2 else nfd(name), nfd(COMMUNE_SPELLING[commune]),
                   levels.replace(",", ", "), "x" if dtnt else None])
    # -- communes: NFD names, shares as "2,5%", disadvantaged as ticks, a note at the bottom
    ws = wb.create_sheet("Xã")
    ws.append(["Mã xã", "Tên xã, thị trấn", "Huyện", "Tỉnh", "Tỷ lệ dân số Khmer", "Vùng khó khăn",
               "Mã xã sau sáp nhập", "Xã sau sáp nhập"])
    for r in tables["communes"].itertuples(index=False):
        share = f"{r.khmer_share * 100:g}%".replace(".", ",")
        ws.append([int(r.commune_code), nfd(r.commune_name), unicode_to_vni(r.district_name), nfd(r.province_name),
                   share, "x" if r.disadvantaged else "", r.merged_into_code, nfd(r.merged_into_name)])
    ws.append([])
    ws.append(["Ghi chú: tỷ lệ người Khmer theo số liệu của xã"])
    # -- graduates: a sheet per level and year, wide, merged two-row header, numbering row, total row
    g = tables["graduates"]
    names = dict(zip(tables["schools"]["school_id"], tables["schools"]["school_name"]))
    heads = {"thpt": "Học THPT", "gdtx": "GDTX", "voc_intermediate": "Trung cấp (9+)", "voc_elementary": "Sơ cấp",
             "employment": "Đi làm", "other": "Khác", "unknown": "Không rõ", "university": "Đại học",
             "voc_college": "Cao đẳng"}
    for level in ("THCS", "THPT"):
        dests = DESTINATIONS[level]
        for y in YEARS:
            ws = wb.create_sheet(f"Tốt nghiệp {level} {y}")
            ws["A1"] = (f"BÁO CÁO KẾT QUẢ PHÂN LUỒNG HỌC SINH SAU TỐT NGHIỆP {level} NĂM HỌC {y - 1}-{y}")
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=3 + len(dests))
            ws["A1"].font = Font(bold=True)
            ws["A3"], ws["B3"], ws["C3"], ws["D3"] = "STT", "Tên trường", "Số HS tốt nghiệp", "Hướng đi sau tốt nghiệp"
            for c in "ABC":
                ws.merge_cells(f"{c}3:{c}4")
            ws.merge_cells(start_row=3, start_column=4, end_row=3, end_column=3 + len(dests))
            for j, d in enumerate(dests, start=4):
                ws.cell(row=4, column=j, value=unicode_to_tcvn3(heads[d]) if j % 2 else heads[d])
            for j in range(1, 4 + len(dests)):
                ws.cell(row=5, column=j, value=f"({j})")
            r = 6
            tot = [0] * len(dests)
            sub = g[(g["level"] == level) & (g["year"] == y)]
            for i, (sid, grp) in enumerate(sub.groupby("school_id", sort=True), start=1):
                counts = dict(zip(grp["destination"], grp["students"]))
                name = names[sid].replace("Trường ", "") if i % 2 else names[sid]
                ws.cell(row=r, column=1, value=i)
                ws.cell(row=r, column=2, value=unicode_to_tcvn3(name) if i % 3 == 1 else nfd(name))
                ws.cell(row=r, column=3, value=vn_thousands(int(sum(counts.values()))))
                for j, d in enumerate(dests):
                    if d in counts:
                        n = int(counts[d])
                        tot[j] += n
                        ws.cell(row=r, column=4 + j, value=vn_thousands(n) if (n > 999 or j % 2) else n)
                r += 1
            ws.cell(row=r, column=2, value="Tổng cộng")
            ws.cell(row=r, column=3, value=sum(tot))
            for j, n in enumerate(tot):
                ws.cell(row=r, column=4 + j, value=vn_thousands(n))
            ws.cell(row=r + 2, column=2, value="Người lập biểu")
            ws.cell(row=r + 2, column=6, value="Trưởng phòng")
    # -- counseling: school names, school years "2018-2019", numbers as text
    ws = wb.create_sheet("Tư vấn hướng nghiệp")
    ws.append(["STT", "Đơn vị", "Năm học", "Số GV tư vấn", "Trong đó đã qua đào tạo", "Số buổi tư vấn", "Ghi chú"])
    for i, r in enumerate(tables["counseling"].itertuples(index=False), start=1):
        ws.append([i, nfd(names[r.school_id]), f"{r.year - 1}-{r.year}", str(r.counselors),
                   str(r.trained_counselors), r.sessions, "" if i % 4 else "đủ"])
    wb.save(path)
    return path


def test_messy_workbook_imports_to_exactly_the_clean_template_folder(tmp_path, clean_folder):
    tables = clean_tables()
    messy = messy_workbook(tmp_path / "bao_cao_phong_gd.xlsx", tables)
    template = write_template(tmp_path / "mau.xlsx", data=clean_folder)
    a = import_files([messy], tmp_path / "from_messy")
    b = import_files([template], tmp_path / "from_template")
    written = sorted(p.name for p in (tmp_path / "from_template").glob("*.csv"))
    assert written == ["communes.csv", "counseling.csv", "graduates.csv", "schools.csv"]
    assert sorted(p.name for p in (tmp_path / "from_messy").glob("*.csv")) == written
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "from_messy", tmp_path / "from_template", written,
                                               shallow=False)
    assert mismatch == [] and errors == [], {f: (tmp_path / "from_messy" / f).read_text()[:400] for f in mismatch}
    # and the folder holds the data it was built from
    got, want = load_cohort(tmp_path / "from_messy"), load_cohort(clean_folder)
    for t in ("schools", "communes", "graduates", "counseling"):
        g = getattr(got, t).sort_values(list(getattr(got, t).columns[:2])).reset_index(drop=True)
        w = getattr(want, t).sort_values(list(getattr(want, t).columns[:2])).reset_index(drop=True)
        g = g.sort_values(list(g.columns[:4]) if t == "graduates" else list(g.columns[:2])).reset_index(drop=True)
        w = w.sort_values(list(w.columns[:4]) if t == "graduates" else list(w.columns[:2])).reset_index(drop=True)
        pd.testing.assert_frame_equal(g[w.columns], w, check_dtype=False)
    # the report says what was done to the messy workbook
    rep = a.report
    text = json.dumps(rep["decisions"], ensure_ascii=False)
    assert "text converted from TCVN3 (ABC)" in text and "text normalised to Unicode NFC" in text
    assert "text converted from VNI" in text
    assert "Vietnamese thousands separator '.' read (e.g. '1.234' = 1234)" in text
    assert "total rows checked against their parts and left out" in text
    assert "school year read as its graduation year (2018-2019 -> 2019)" in text
    sheet = next(s for s in rep["sheets"] if s["sheet"] == "Tốt nghiệp THPT 2020")
    assert sheet["layout"] == "wide" and sheet["header_rows"] == [3, 4]
    assert sheet["rows"] == {"data": 2, "total": 1, "note": 1, "blank": 1, "numbering": 1}
    assert "year 2020 taken from the sheet name 'Tốt nghiệp THPT 2020' (2020)" in sheet["decisions"]
    md = (tmp_path / "from_messy" / "import_report.md").read_text(encoding="utf-8")
    assert "'X. Mỹ Cẩm' -> 29269 (name without its prefix)" in md
    assert b.tables == a.tables


def test_template_has_a_sheet_per_table_instructions_and_drop_downs(tmp_path):
    p = write_template(tmp_path / "mau.xlsx")
    wb = openpyxl.load_workbook(p)
    assert wb.sheetnames == ["Hướng dẫn", "Danh mục", "Trường học", "Xã", "Tốt nghiệp", "Tư vấn HN", "Học sinh",
                             "Nhu cầu lao động", "Cơ sở GDNN"]
    ws = wb["Tốt nghiệp"]
    assert [c.value for c in ws[1]] == ["Mã trường", "Năm tốt nghiệp", "Cấp học", "Giới tính", "Dân tộc", "Hướng đi",
                                        "Số học sinh"]
    assert ws["F1"].comment.text.startswith("Hướng đi (bắt buộc): Hướng đi sau tốt nghiệp")
    formulas = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    assert formulas["A2:A100001"] == "='Trường học'!$A$2:$A$100001"
    lists = wb["Danh mục"]
    dest_col = next(dv.formula1 for sq, dv in ((str(d.sqref), d) for d in ws.data_validations.dataValidation)
                    if sq == "F2:F100001")
    col = dest_col.split("!$")[1][0]
    assert [lists[f"{col}{i}"].value for i in range(1, 4)] == ["Học tiếp THPT", "Giáo dục thường xuyên cấp THPT",
                                                              "Trung cấp (kể cả 9+)"]
    assert wb["Xã"]["B2"].value == "Thị trấn Càng Long" and wb["Xã"]["E2"].value is None
    # the blank template is not data: importing it says which required tables have no rows
    with pytest.raises(ImportFailed) as e:
        import_files([p], tmp_path / "out")
    assert "mau.xlsx, sheet 'Trường học': expected data rows below the header: table schools is required" in str(e.value)
    assert not (tmp_path / "out").exists()


def test_labels_in_drop_downs_are_read_as_codes(tmp_path, clean_folder):
    p = write_template(tmp_path / "mau.xlsx", data=clean_folder)
    wb = openpyxl.load_workbook(p)
    ws = wb["Tốt nghiệp"]
    label = {"thpt": "Học tiếp THPT", "voc_intermediate": "Trung cấp (kể cả 9+)", "university": "Đại học"}
    for r in range(2, ws.max_row + 1):
        if ws.cell(row=r, column=6).value in label:
            ws.cell(row=r, column=6).value = label[ws.cell(row=r, column=6).value]
    wb.save(p)
    import_files([p], tmp_path / "a")
    import_files([write_template(tmp_path / "mau2.xlsx", data=clean_folder)], tmp_path / "b")
    assert filecmp.cmp(tmp_path / "a" / "graduates.csv", tmp_path / "b" / "graduates.csv", shallow=False)


def test_long_csv_with_bom_and_semicolons(tmp_path, clean_folder):
    (tmp_path / "in").mkdir()
    for t in ("schools", "communes", "counseling"):
        df = pd.read_csv(clean_folder / f"{t}.csv", dtype=str)
        (tmp_path / "in" / f"{t}.csv").write_text(df.to_csv(index=False, sep=";"), encoding="utf-8-sig")
    g = pd.read_csv(clean_folder / "graduates.csv", dtype=str)
    (tmp_path / "in" / "graduates.csv").write_bytes(g.to_csv(index=False).encode("utf-8-sig"))
    import_files(sorted((tmp_path / "in").glob("*.csv")), tmp_path / "a")
    import_files([write_template(tmp_path / "mau.xlsx", data=clean_folder)], tmp_path / "b")
    for t in ("schools", "communes", "counseling", "graduates"):
        assert filecmp.cmp(tmp_path / "a" / f"{t}.csv", tmp_path / "b" / f"{t}.csv", shallow=False), t


def test_overwrite_replaces_a_folder_only_when_asked(tmp_path, clean_folder):
    p = write_template(tmp_path / "mau.xlsx", data=clean_folder)
    import_files([p], tmp_path / "out")
    before = (tmp_path / "out" / "import_report.json").read_bytes()
    with pytest.raises(ImportFailed, match="already holds files"):
        import_files([p], tmp_path / "out")
    assert (tmp_path / "out" / "import_report.json").read_bytes() == before
    import_files([p], tmp_path / "out", overwrite=True)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["mau.xlsx", "out"]  # no temporary folder left


def test_cli_template_and_import(tmp_path, clean_folder):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    t = tmp_path / "mau.xlsx"
    r = subprocess.run([sys.executable, "-m", "evaluation", "template", "--out", str(t), "--data", str(clean_folder)],
                       capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "evaluation", "import", str(t), "--out", str(tmp_path / "out"),
                        "--years", "2019-2021"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "đã nhập vào" in r.stdout and (tmp_path / "out" / "import_report.md").is_file()
    r = subprocess.run([sys.executable, "-m", "evaluation", "import", str(t), "--out", str(tmp_path / "out2"),
                        "--years", "2020-2021"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 1 and not (tmp_path / "out2").exists()
    # Vietnamese by default, every problem of the one pass; English with --lang en
    assert r.stderr.startswith("Không nhập được: ")
    assert "mau.xlsx, trang tính 'Tốt nghiệp', dòng 2, cột B (Năm tốt nghiệp): giá trị '2019': cần một năm tốt " \
           "nghiệp trong kỳ sơ kết (2020-2021) [year_range]" in r.stderr
    r = subprocess.run([sys.executable, "-m", "evaluation", "import", str(t), "--out", str(tmp_path / "out2"),
                        "--years", "2020-2021", "--lang", "en"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 1 and not (tmp_path / "out2").exists()
    assert "mau.xlsx, sheet 'Tốt nghiệp', row 2, column B (Năm tốt nghiệp): value '2019': expected a graduation " \
           "year of the review cycle (2020-2021) [year_range]" in r.stderr
