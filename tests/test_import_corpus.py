"""The corpus of district workbook shapes (tests/workbook_corpus.py): each imports to its exact
counts; each deliberately broken variant is refused with one message naming sheet, row and
column, in Vietnamese by default, and nothing is written."""
from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from evaluation.importer import ImportFailed, import_files
import workbook_corpus as W


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return W.base_folder(tmp_path_factory.mktemp("corpus"))


def test_the_corpus_has_the_shapes_districts_use():
    assert len(W.SHAPES) >= 12
    assert len({s.name for s in W.SHAPES}) == len(W.SHAPES)


@pytest.mark.parametrize("shape", W.SHAPES, ids=[s.name for s in W.SHAPES])
def test_shape_imports_to_its_exact_counts(shape, base, tmp_path):
    files = shape.build(tmp_path)
    res = import_files(files, tmp_path / "out", base=base, years=W.YEARS, **shape.kwargs)
    got = pd.read_csv(res.out / "graduates.csv", dtype={"school_id": str})
    want = shape.expected()
    got = got[["school_id", "year", "level", "destination", "students"]].sort_values(
        ["school_id", "year", "level", "destination"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    # the counts stated per level and year, as the review will use them
    assert got.groupby(["level", "year"])["students"].sum().to_dict() == \
        want.groupby(["level", "year"])["students"].sum().to_dict()
    # the decision log names every column placed and why
    rep = json.loads((res.out / "import_report.json").read_text(encoding="utf-8"))
    placed = [c for s in rep["sheets"] for c in s["columns"]]
    assert placed and all(c["why"] for c in placed)


def test_decision_log_says_why_a_header_went_where(base, tmp_path):
    res = import_files(W.headers_by_meaning(tmp_path), tmp_path / "out", base=base)
    cols = {c["column"]: c for s in res.report["sheets"] for c in s["columns"]}
    gd = next(c for k, c in cols.items() if k.startswith("F "))
    assert gd["field"] == "destination gdtx (wide layout)" or "gdtx" in gd["field"]
    assert "abbreviated" in gd["why"] or "meaningful" in gd["why"]
    md = (res.out / "import_report.md").read_text(encoding="utf-8")
    assert "Học giáo dục thường xuyên" in md and "gdtx" in md


def _refused(files: list[Path], out: Path, base: Path, **kw) -> ImportFailed:
    with pytest.raises(ImportFailed) as e:
        import_files(files, out, base=base, years=W.YEARS, **kw)
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")]
    return e.value


@pytest.mark.parametrize("name", list(W.BROKEN))
def test_broken_variant_is_refused_with_one_message(name, base, tmp_path):
    build, check, sheet, row, col = W.BROKEN[name]
    files = build(tmp_path)
    err = _refused(files, tmp_path / "out", base)
    assert len(err.issues) == 1, err.messages
    i = err.issues[0]
    row = row if row is not None else W.BROKEN_ROWS[name]
    assert (i.check, i.sheet, i.row) == (check, sheet, row), i
    assert i.column.split(" ")[0] == col, i
    vi = err.format("vi")
    assert f"trang tính '{sheet}'" in vi and f"dòng {row}" in vi and f"cột {col}" in vi, vi
    assert "Không nhập được" in vi and "không ghi gì" in vi


def test_total_mismatch_names_both_numbers(base, tmp_path):
    err = _refused(W.broken_total_column(tmp_path), tmp_path / "out", base)
    wb = openpyxl.load_workbook(tmp_path / "bad_total_column.xlsx")
    ws = wb["Tốt nghiệp THCS"]
    total = ws["D6"].value
    parts = sum(ws.cell(6, c).value for c in range(5, ws.max_column + 1))
    msg = err.format("vi")
    assert str(total) in msg and str(parts) in msg and total != parts


def test_every_problem_of_every_file_in_one_pass(base, tmp_path):
    a = W.broken_total_column(tmp_path)  # THCS and THPT 2019-2021, one bad total
    wb = openpyxl.load_workbook(a[0])
    del wb["Tốt nghiệp THPT"]
    wb.save(a[0])
    # THPT in a long file, with a typo in a school code and one in a destination
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Số liệu tốt nghiệp"
    ws.append(["Mã trường", "Năm tốt nghiệp", "Cấp học", "Hướng đi", "Số học sinh"])
    t = W.truth()
    for r in t[(t["level"] == "THPT") & (t["year"] < 2021)].itertuples(index=False):
        ws.append([r.school_id, r.year, r.level, W.LONG_WORDS[r.destination], r.students])
    ws["A4"] = "S5O"
    ws["D7"] = "Cao đẳg"
    b = tmp_path / "thpt_long.xlsx"
    wb.save(b)
    # THPT 2021 with a column nobody can place
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tốt nghiệp THPT 2021"
    W._wide_sheet(ws, "THPT", (2021,), heads={**W.HEAD, "other": "Đi học nước ngoài"}, year_col=False)
    c = tmp_path / "thpt_2021.xlsx"
    wb.save(c)
    err = _refused(a + [b, c], tmp_path / "out", base)
    got = sorted((i.file, i.check, i.row, i.column.split(" ")[0]) for i in err.issues)
    assert got == sorted([("bad_total_column.xlsx", "total_column", 6, "D"), ("thpt_long.xlsx", "code", 7, "D"),
                          ("thpt_long.xlsx", "reference", 4, "A"), ("thpt_2021.xlsx", "unmapped_column", 1, "I")]), got


def test_a_mapping_file_beside_the_data(base, tmp_path):
    files = W.mapped_column(tmp_path)
    (tmp_path / "import_map.txt").write_text("# cột lạ\nĐi học nước ngoài = khác\n", encoding="utf-8")
    res = import_files(files, tmp_path / "out", base=base)
    g = pd.read_csv(res.out / "graduates.csv")
    assert g.loc[g["destination"] == "other", "students"].sum() == \
        W.truth().query("level == 'THPT' and destination == 'other'")["students"].sum()
    cols = [c for s in res.report["sheets"] for c in s["columns"] if c["why"] == "mapped by the user"]
    assert [c["column"].split(" ")[0] for c in cols] == ["J"]


def test_a_header_that_fits_two_fields_is_an_error(base, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tốt nghiệp THPT"
    W._wide_sheet(ws, "THPT", W.YEARS, heads={**W.HEAD, "voc_college": "Học TC, CĐ"}, total_col=False)
    p = tmp_path / "tie.xlsx"
    wb.save(p)
    err = _refused([p], tmp_path / "out", base)
    assert [(i.check, i.column.split(" ")[0]) for i in err.issues] == [("header_ambiguous", "E")]
    assert "voc_intermediate" in err.messages[0] and "voc_college" in err.messages[0]


def test_duplicate_rows_are_named_as_excel_shows_them(base, tmp_path):
    files = W.long_layout(tmp_path)
    wb = openpyxl.load_workbook(files[0])
    ws = wb.active
    ws.append([ws.cell(43, c).value for c in range(1, 6)])  # row 43 again, at the bottom
    last = ws.max_row
    wb.save(files[0])
    err = _refused(files, tmp_path / "out", base)
    assert sorted(i.row for i in err.issues) == [43, last]
    assert all("first on row 43" in m for m in err.messages), err.messages


def test_the_reported_workbook_keeps_every_continuing_education_student(base, tmp_path):
    """Measured in the issue: GDTX dropped without a word. Every GDTX cell now arrives, and the total
    column was checked against its parts on every row."""
    res = import_files(W.the_reported_workbook(tmp_path), tmp_path / "out", base=base)
    g = pd.read_csv(res.out / "graduates.csv")
    t = W.truth().query("level == 'THCS'")
    assert (g["destination"] == "gdtx").sum() == (t["destination"] == "gdtx").sum() == 12
    assert g.loc[g["destination"] == "gdtx", "students"].sum() == t.loc[t["destination"] == "gdtx", "students"].sum()
    cols = [c for s in res.report["sheets"] for c in s["columns"]]
    assert sum("total of the row" in c["field"] for c in cols) == 3  # one total column per year sheet


def test_a_hidden_column_of_numbers_is_not_dropped_unseen(base, tmp_path):
    files = W.hidden_columns(tmp_path)
    wb = openpyxl.load_workbook(files[0])
    ws = wb.active
    col = ws.max_column + 1
    ws.cell(1, col, "Cột phụ")
    for r in range(2, ws.max_row + 1):
        ws.cell(r, col, r * 3)
    ws.column_dimensions[openpyxl.utils.get_column_letter(col)].hidden = True
    wb.save(files[0])
    err = _refused(files, tmp_path / "out", base)
    assert [(i.check, i.column) for i in err.issues] == [("unmapped_column", "M (Cột phụ)")]
    assert "(cột đang ẩn)" in err.format("vi") and "(a hidden column)" in err.messages[0]
    # mapped out knowingly, it imports
    res = import_files(files, tmp_path / "out", base=base, mapping={"Cột phụ": "bỏ qua"})
    assert res.tables["graduates"] == 84
    assert any("left out as mapped" in c for s in res.report["sheets"] for c in s["ignored_columns"])


def test_a_mapping_line_that_names_nothing_is_an_error(base, tmp_path):
    files = W.mapped_column(tmp_path)
    (tmp_path / "import_map.txt").write_text("Đi học nước ngoài = du học\nkhông có dấu bằng\n", encoding="utf-8")
    err = _refused(files, tmp_path / "out", base)
    assert sorted((i.check, i.file, i.row) for i in err.issues) == [
        ("map_syntax", "import_map.txt", 2), ("map_target", "import_map.txt", 1), ("unmapped_column", "mapped.xlsx", 1)]


def test_command_line_map_and_languages(base, tmp_path, capsys):
    from evaluation.cli import main

    files = [str(p) for p in W.mapped_column(tmp_path)]
    assert main(["import", *files, "--base", str(base), "--out", str(tmp_path / "a")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Không nhập được: 1 lỗi") and "--map \"Đi học nước ngoài=TÊN_CỘT\"" in err
    assert main(["import", *files, "--base", str(base), "--out", str(tmp_path / "a"), "--lang", "en"]) == 1
    assert capsys.readouterr().err.startswith("Import failed: 1 error")
    assert main(["import", *files, "--base", str(base), "--out", str(tmp_path / "a"),
                 "--map", "Đi học nước ngoài=other"]) == 0
    assert capsys.readouterr().out.startswith("đã nhập vào ")
    assert (tmp_path / "a" / "graduates.csv").is_file()
