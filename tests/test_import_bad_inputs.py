"""The catalogue of bad inputs: each case is a fixture built here, one clear message, nothing written.

Every case starts from a clean template workbook (two schools, one commune table, two years)
and breaks one thing. The test asserts the exact message -- file, sheet, row, column, value,
what was expected -- and that the output folder was not created and no temporary folder was
left beside it.
"""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Callable

import openpyxl
import pandas as pd
import pytest

from evaluation.importer import ImportFailed, import_files, write_template
from evaluation.importer.vntext import unicode_to_tcvn3
from evaluation.messages import has_translation
from evaluation.reference import commune_crosswalk


def clean_folder(root: Path) -> Path:
    cw = commune_crosswalk()
    folder = root / "clean"
    folder.mkdir()
    pd.DataFrame({"commune_code": cw["commune_code"], "commune_name": cw["commune_name"],
                  "district_name": cw["district_name"], "province_name": cw["province_name"],
                  "khmer_share": 0.05, "disadvantaged": False}).to_csv(folder / "communes.csv", index=False)
    pd.DataFrame([("S01", "Trường THCS Mỹ Cẩm", "29269", "THCS", False),
                  ("S02", "Trường THPT Càng Long", "29266", "THPT", False),
                  ("S03", "Trường THCS Nhị Long", "29302", "THCS", False),
                  ("S04", "Trường THPT Nhị Long", "29302", "THPT", False)],
                 columns=["school_id", "school_name", "commune_code", "levels", "ethnic_boarding"]
                 ).to_csv(folder / "schools.csv", index=False)
    g = [("S01", y, "THCS", d, n) for y in (2019, 2020) for d, n in (("thpt", 80), ("voc_intermediate", 15))]
    g += [("S02", y, "THPT", d, n) for y in (2019, 2020) for d, n in (("university", 120), ("voc_college", 40))]
    pd.DataFrame(g, columns=["school_id", "year", "level", "destination", "students"]).to_csv(
        folder / "graduates.csv", index=False)
    pd.DataFrame([(s, y, 2, 1) for s in ("S01", "S02", "S03", "S04") for y in (2019, 2020)],
                 columns=["school_id", "year", "counselors", "trained_counselors"]).to_csv(
        folder / "counseling.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def template_bytes(tmp_path_factory) -> bytes:
    root = tmp_path_factory.mktemp("tpl")
    return write_template(root / "mau.xlsx", data=clean_folder(root)).read_bytes()


def edited(tmp: Path, template_bytes: bytes, edit: Callable, name: str = "mau.xlsx") -> Path:
    wb = openpyxl.load_workbook(io.BytesIO(template_bytes))
    edit(wb)
    p = tmp / name
    wb.save(p)
    return p


def failure(paths: list[Path], tmp: Path, **kw) -> list[str]:
    out = tmp / "out" / "cohort"
    before = sorted(x.name for x in tmp.iterdir())
    with pytest.raises(ImportFailed) as e:
        import_files(paths, out, **kw)
    assert not out.exists() and not out.parent.exists() or not any(out.parent.iterdir())
    assert sorted(x.name for x in tmp.iterdir() if x.name != "out") == [b for b in before if b != "out"]
    assert str(e.value).startswith(f"Import failed: {len(e.value.issues)} error")
    assert "nothing was written" in str(e.value).splitlines()[0]
    # every message has its Vietnamese wording (the default of the command line)
    untranslated = [i.expected for i in e.value.issues if not has_translation(i.expected)]
    assert untranslated == []
    assert e.value.format("vi").startswith(f"Không nhập được: {len(e.value.issues)} lỗi; không ghi gì")
    return e.value.messages


def G(wb):  # the graduates sheet
    return wb["Tốt nghiệp"]


# ------------------------------------------------------------------------------------------------
# File-level cases
# ------------------------------------------------------------------------------------------------
def test_empty_file(tmp_path):
    p = tmp_path / "bao_cao.xlsx"
    p.write_bytes(b"")
    assert failure([p], tmp_path) == [
        "bao_cao.xlsx: expected a workbook or CSV file with data; this file is empty (0 bytes) [empty_file]"]


def test_text_file_named_xlsx(tmp_path):
    p = tmp_path / "bao_cao.xlsx"
    p.write_text("STT,Tên trường\n1,THCS Mỹ Cẩm\n", encoding="utf-8")
    assert failure([p], tmp_path) == [
        "bao_cao.xlsx: expected an .xlsx workbook: the file does not start like one (it may be a renamed text, HTML "
        "or PDF file); open it in Excel and save it as .xlsx [not_a_workbook]"]


def test_truncated_workbook(tmp_path, template_bytes):
    p = tmp_path / "bao_cao.xlsx"
    p.write_bytes(template_bytes[: len(template_bytes) // 2])
    assert failure([p], tmp_path) == [
        "bao_cao.xlsx: expected a readable .xlsx workbook: its zip container is damaged (a download or copy cut "
        "short?); get a fresh copy of the file [corrupt_workbook]"]


def test_password_protected_workbook(tmp_path):
    # An encrypted .xlsx is an OLE2 container holding the streams EncryptionInfo and EncryptedPackage;
    # this fixture has the container's signature and the stream names (the detection reads exactly these).
    data = bytearray(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    data += "EncryptionInfo".encode("utf-16-le") + bytes(50) + "EncryptedPackage".encode("utf-16-le") + bytes(400)
    p = tmp_path / "mat_khau.xlsx"
    p.write_bytes(bytes(data))
    assert failure([p], tmp_path) == [
        "mat_khau.xlsx: expected a workbook without a password: this one is encrypted (password-protected); open "
        "it in Excel, remove the password (File > Info > Protect Workbook > Encrypt with Password, empty) and save "
        "it again [password_protected]"]


def test_excel_97_2003_file(tmp_path):
    p = tmp_path / "cu.xls"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024))
    assert failure([p], tmp_path) == [
        "cu.xls: expected an Excel workbook in .xlsx format: this is an Excel 97-2003 (.xls) file; open it in Excel "
        "or LibreOffice and save it as .xlsx [old_excel_format]"]


def test_pdf_file(tmp_path):
    p = tmp_path / "bao_cao.pdf"
    p.write_bytes(b"%PDF-1.4\n%...")
    assert failure([p], tmp_path) == [
        "bao_cao.pdf: expected an .xlsx workbook or a .csv file (this file ends in '.pdf') [unsupported_format]"]


def test_word_document_renamed_xlsx(tmp_path):
    p = tmp_path / "bao_cao.xlsx"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    p.write_bytes(buf.getvalue())
    assert failure([p], tmp_path) == [
        "bao_cao.xlsx: expected an .xlsx workbook: the file is a zip archive but not an Excel workbook (a Word or "
        "OpenDocument file?) [not_a_workbook]"]


def test_csv_in_another_encoding(tmp_path):
    p = tmp_path / "graduates.csv"
    p.write_bytes("school_id,year,level,destination,students\nS01,2019,THCS,thpt,80\n".encode("ascii")
                  + "S01,2019,THCS,Đi làm,15\n".encode("cp1258"))
    assert failure([p], tmp_path) == [
        "graduates.csv, row 3: expected a CSV file in UTF-8: byte 78 (line 3) is not UTF-8, so "
        "the file was saved in another encoding (Windows-1258, TCVN3 or Latin-1?); save it from Excel as 'CSV UTF-8 "
        "(Comma delimited)' [csv_encoding]"]


def test_csv_utf16_with_byte_order_mark(tmp_path):
    p = tmp_path / "graduates.csv"
    p.write_bytes("school_id\tyear\nS01\t2019\n".encode("utf-16"))
    assert failure([p], tmp_path) == [
        "graduates.csv: expected a CSV file in UTF-8: this one is UTF-16 (Excel's 'Unicode Text'); save it from Excel "
        "as 'CSV UTF-8 (Comma delimited)' [csv_encoding]"]


def test_csv_with_no_text(tmp_path):
    p = tmp_path / "graduates.csv"
    p.write_bytes(b"\xef\xbb\xbf\n\n")
    assert failure([p], tmp_path) == [
        "graduates.csv: expected a CSV file with a header row and data; this one has no text [empty_file]"]


def test_output_folder_already_holds_files(tmp_path, template_bytes):
    p = tmp_path / "mau.xlsx"
    p.write_bytes(template_bytes)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "ket_qua_cu.csv").write_text("x\n")
    with pytest.raises(ImportFailed) as e:
        import_files([p], tmp_path / "out")
    assert e.value.messages == [
        f"{tmp_path / 'out'}: expected an output folder that does not exist yet or is empty: it already holds files; "
        "choose another folder or pass --overwrite to replace it [output_exists]"]
    assert sorted(x.name for x in (tmp_path / "out").iterdir()) == ["ket_qua_cu.csv"]


# ------------------------------------------------------------------------------------------------
# Sheets and headers
# ------------------------------------------------------------------------------------------------
def test_missing_sheet_for_kind(tmp_path, template_bytes):
    def edit(wb):
        for name in ("Tư vấn HN",):
            del wb[name]
    p = edited(tmp_path, template_bytes, edit)
    assert failure([p], tmp_path, kind="counseling") == [
        "mau.xlsx: expected a sheet holding table counseling; the sheets are: 'Hướng dẫn', 'Danh mục', 'Trường học', "
        "'Xã', 'Tốt nghiệp', 'Học sinh', 'Nhu cầu lao động', 'Cơ sở GDNN' [sheet_missing]"]


def test_sheet_of_unknown_table(tmp_path, template_bytes):
    def edit(wb):
        ws = wb.create_sheet("Sheet1")
        ws.append(["Họ tên giáo viên", "Môn dạy"])
        ws.append(["A", "Toán"])
    p = edited(tmp_path, template_bytes, edit)
    assert failure([p], tmp_path) == [
        "mau.xlsx, sheet 'Sheet1': expected a sheet named after its table (Trường học, Xã, Tốt nghiệp, Tư vấn HN, Học "
        "sinh, Nhu cầu lao động, Cơ sở GDNN, or the contract names schools, communes, graduates, ...) or --kind; this "
        "sheet's name and header match no table [unknown_sheet]"]


def test_sheet_without_header(tmp_path, template_bytes):
    def edit(wb):
        ws = G(wb)
        ws.delete_rows(1)
    p = edited(tmp_path, template_bytes, edit)
    assert failure([p], tmp_path) == [
        "mau.xlsx, sheet 'Tốt nghiệp': expected a header row naming the columns of table graduates (e.g. Mã trường, "
        "Tên trường, Năm tốt nghiệp, Cấp học, Giới tính, Dân tộc, Hướng đi, Số học sinh) in the first 25 rows; none "
        "was found [no_header]"]


def test_required_table_without_rows(tmp_path, template_bytes):
    def edit(wb):
        G(wb).delete_rows(2, 100)
    p = edited(tmp_path, template_bytes, edit)
    assert failure([p], tmp_path) == [
        "mau.xlsx, sheet 'Tốt nghiệp': expected data rows below the header: table graduates is required and this "
        "sheet, the only one holding it, has none [no_data_rows]"]


def test_missing_column(tmp_path, template_bytes):
    def edit(wb):
        G(wb).delete_cols(7)  # Số học sinh
    p = edited(tmp_path, template_bytes, edit)
    assert failure([p], tmp_path) == [
        "mau.xlsx, sheet 'Tốt nghiệp', row 1: expected column(s) students (long layout) or one column per destination "
        "(wide layout: THPT, GDTX, Trung cấp, Sơ cấp, ...); the header names: A (Mã trường), B (Năm tốt nghiệp), C "
        "(Cấp học), F (Hướng đi) [missing_column]"]


def test_duplicated_header(tmp_path, template_bytes):
    def edit(wb):
        ws = G(wb)
        ws["H1"] = "Số HS"
        for r in range(2, ws.max_row + 1):
            ws.cell(row=r, column=8, value=ws.cell(row=r, column=7).value)
    p = edited(tmp_path, template_bytes, edit)
    assert failure([p], tmp_path) == [
        "mau.xlsx, sheet 'Tốt nghiệp', row 1, column G (Số học sinh), H (Số HS): value 'Số học sinh': expected one "
        "column for students: 2 columns have a header meaning it; delete or rename all but one [duplicate_header]"]


def test_no_year_anywhere(tmp_path, template_bytes):
    def edit(wb):
        G(wb).delete_cols(2)  # Năm tốt nghiệp; the sheet name has no year either
    p = edited(tmp_path, template_bytes, edit)
    assert failure([p], tmp_path) == [
        "mau.xlsx, sheet 'Tốt nghiệp': expected the graduation year: a column 'Năm tốt nghiệp', a sheet named by its "
        "year (e.g. '2019' or '2018-2019'), or a title above the table naming the school year [no_year]"]


# ------------------------------------------------------------------------------------------------
# Cells
# ------------------------------------------------------------------------------------------------
def one_cell(tmp_path, template_bytes, ref: str, value, fmt: str | None = None, sheet: str = "Tốt nghiệp", **kw):
    def edit(wb):
        wb[sheet][ref] = value
        if fmt:
            wb[sheet][ref].number_format = fmt
    return failure([edited(tmp_path, template_bytes, edit)], tmp_path, **kw)


def test_merged_cells_inside_data(tmp_path, template_bytes):
    def edit(wb):
        G(wb).merge_cells("A2:A3")
    assert failure([edited(tmp_path, template_bytes, edit)], tmp_path) == [
        "mau.xlsx, sheet 'Tốt nghiệp', row 2, column A2:A3: value 'S01': expected one value per cell in the data "
        "rows: these cells are merged; unmerge them and write the value in every row it applies to [merged_cells]"]


def test_formula_without_saved_value(tmp_path, template_bytes):
    assert one_cell(tmp_path, template_bytes, "G3", "=G2-65") == [
        "mau.xlsx, sheet 'Tốt nghiệp', row 3, column G (Số học sinh): value '(formula)': expected a value: the cell "
        "holds a formula whose result was never saved (the file was written by a program that does not calculate); "
        "open the file in Excel or LibreOffice and save it [formula_without_value]"]


def test_date_in_year_column(tmp_path, template_bytes):
    assert one_cell(tmp_path, template_bytes, "B2", dt.datetime(2019, 5, 31)) == [
        "mau.xlsx, sheet 'Tốt nghiệp', row 2, column B (Năm tốt nghiệp): value (not shown): expected a year such as "
        "2019, not a date; write the year alone [date_as_year]"]  # a date is never shown: it may be a birth date


def test_date_stored_as_number_in_year_column(tmp_path, template_bytes):
    assert one_cell(tmp_path, template_bytes, "B2", 43616) == [
        "mau.xlsx, sheet 'Tốt nghiệp', row 2, column B (Năm tốt nghiệp): value '43616': expected a year such as 2019, "
        "not a date stored as a number (Excel serial 43616 is 2019-05-31); write the year alone [date_as_year]"]


def test_negative_count(tmp_path, template_bytes):
    assert one_cell(tmp_path, template_bytes, "G3", -15) == [
        "mau.xlsx, sheet 'Tốt nghiệp', row 3, column G (Số học sinh): value '-15': expected a value of 0 or more "
        "[range]"]


def test_percentage_text_where_a_count_belongs(tmp_path, template_bytes):
    assert one_cell(tmp_path, template_bytes, "G3", "15%") == [
        "mau.xlsx, sheet 'Tốt nghiệp', row 3, column G (Số học sinh): value '15%': expected a count of students or "
        "teachers, not a percentage; write the number itself [percentage]"]


def test_percentage_formatted_cell_where_a_count_belongs(tmp_path, template_bytes):
    assert one_cell(tmp_path, template_bytes, "G3", 0.15, fmt="0%") == [
        "mau.xlsx, sheet 'Tốt nghiệp', row 3, column G (Số học sinh): value '0.15': expected a count of students or "
        "teachers, not a percentage (the cell is formatted as %); write the number itself [percentage]"]


def test_decimal_comma_in_a_count(tmp_path, template_bytes):
    assert one_cell(tmp_path, template_bytes, "G3", "12,5") == [
        "mau.xlsx, sheet 'Tốt nghiệp', row 3, column G (Số học sinh): value '12,5': expected a whole number: ',' is "
        "the decimal mark in Vietnamese, so this is not a whole number [type]"]


def test_words_in_a_count(tmp_path, template_bytes):
    assert one_cell(tmp_path, template_bytes, "G3", "mười lăm") == [
        "mau.xlsx, sheet 'Tốt nghiệp', row 3, column G (Số học sinh): value 'mười lăm': expected a whole number (e.g. "
        "12; thousands may be written '1.234') [type]"]


def test_unknown_destination(tmp_path, template_bytes):
    assert one_cell(tmp_path, template_bytes, "F3", "học nghề") == [
        "mau.xlsx, sheet 'Tốt nghiệp', row 3, column F (Hướng đi): value 'học nghề': expected a destination: one of "
        "thpt, gdtx, voc_intermediate, voc_elementary, employment, other, unknown, university, voc_college (or their "
        "Vietnamese names) [code]"]


def test_destination_of_the_other_level(tmp_path, template_bytes):
    assert one_cell(tmp_path, template_bytes, "F3", "Đại học") == [
        "mau.xlsx, sheet 'Tốt nghiệp', row 3, column F (Hướng đi): value 'university': expected a destination after "
        "THCS: thpt, gdtx, voc_intermediate, voc_elementary, employment, other, unknown [destination_level]"]


def test_trained_counselors_above_counselors(tmp_path, template_bytes):
    assert one_cell(tmp_path, template_bytes, "D2", 5, sheet="Tư vấn HN") == [
        "mau.xlsx, sheet 'Tư vấn HN', row 2, column D (Số GV đã qua đào tạo): value '5': expected at most the number "
        "of counselors on the same row (2) [range]"]


def test_same_school_year_twice(tmp_path, template_bytes):
    def edit(wb):
        ws = wb["Tư vấn HN"]
        ws["B3"] = 2019
    assert failure([edited(tmp_path, template_bytes, edit)], tmp_path) == [
        "mau.xlsx, sheet 'Tư vấn HN', row 2, column school_id, year: value 'S01 / 2019': expected a unique school_id "
        "+ year (the same key is on 2 rows, first on row 2) [duplicate_key]",
        "mau.xlsx, sheet 'Tư vấn HN', row 3, column school_id, year: value 'S01 / 2019': expected a unique school_id "
        "+ year (the same key is on 2 rows, first on row 2) [duplicate_key]"]


def test_unknown_school_code(tmp_path, template_bytes):
    assert one_cell(tmp_path, template_bytes, "A3", "S99") == [
        "mau.xlsx, sheet 'Tốt nghiệp', row 3, column A (Mã trường): value 'S99': expected a school_id listed in "
        "schools [reference]"]


def test_year_outside_the_review_cycle(tmp_path, template_bytes):
    assert one_cell(tmp_path, template_bytes, "B3", 2017, years=range(2018, 2026)) == [
        "mau.xlsx, sheet 'Tốt nghiệp', row 3, column B (Năm tốt nghiệp): value '2017': expected a graduation year of "
        "the review cycle (2018-2025) [year_range]"]


# ------------------------------------------------------------------------------------------------
# District report shapes: names, totals, geography
# ------------------------------------------------------------------------------------------------
def district_sheet(wb, rows: list[list], *, title="Tốt nghiệp THCS 2019", total: list | None = None):
    del wb["Tốt nghiệp"]
    ws = wb.create_sheet(title)
    ws.append(["STT", "Tên trường", "Số HS tốt nghiệp", "Học THPT", "Trung cấp"])
    for r in rows:
        ws.append(r)
    if total is not None:
        ws.append(total)
    return ws


def test_total_row_disagrees_with_its_parts(tmp_path, template_bytes):
    def edit(wb):
        district_sheet(wb, [[1, "THCS Mỹ Cẩm", 95, 80, 15], [2, "THCS Nhị Long", 60, 50, 10]],
                       total=[None, "Tổng cộng", 155, 130, 35])
    # column D's total (130) is right and passes; column E's (35) is not
    assert failure([edited(tmp_path, template_bytes, edit)], tmp_path) == [
        "mau.xlsx, sheet 'Tốt nghiệp THCS 2019', row 4, column E (Trung cấp): value '35': expected the sum of the rows "
        "it totals: the rows above sum to 25; the total row disagrees with its parts [total_row]"]


def test_row_total_column_disagrees_with_its_destinations(tmp_path, template_bytes):
    def edit(wb):
        district_sheet(wb, [[1, "THCS Mỹ Cẩm", 96, 80, 15]])
    assert failure([edited(tmp_path, template_bytes, edit)], tmp_path) == [
        "mau.xlsx, sheet 'Tốt nghiệp THCS 2019', row 2, column C (Số HS tốt nghiệp): value '96': expected the sum of "
        "the destination columns on the same row (95); the total and its parts disagree [total_column]"]


def test_numbers_without_a_school(tmp_path, template_bytes):
    def edit(wb):
        district_sheet(wb, [[1, "THCS Mỹ Cẩm", 95, 80, 15], [2, None, 60, 50, 10]])
    assert failure([edited(tmp_path, template_bytes, edit)], tmp_path) == [
        "mau.xlsx, sheet 'Tốt nghiệp THCS 2019', row 3, column B (Tên trường): value (empty): expected the school (or "
        "other key) of a row that holds numbers; fill it in, or mark the row as a total ('Tổng cộng') "
        "[row_without_key]"]


def test_unknown_school_name(tmp_path, template_bytes):
    def edit(wb):
        district_sheet(wb, [[1, "THCS Mỹ Cẩm A", 95, 80, 15]])
    assert failure([edited(tmp_path, template_bytes, edit)], tmp_path) == [
        "mau.xlsx, sheet 'Tốt nghiệp THCS 2019', row 2, column B (Tên trường): value 'THCS Mỹ Cẩm A': expected a "
        "school of the schools table; candidates: S01 (Trường THCS Mỹ Cẩm) [school_unmatched]"]


def test_ambiguous_school_name(tmp_path, template_bytes):
    def edit(wb):
        district_sheet(wb, [[1, "Nhị Long", 95, 80, 15]])
    assert failure([edited(tmp_path, template_bytes, edit)], tmp_path) == [
        "mau.xlsx, sheet 'Tốt nghiệp THCS 2019', row 2, column B (Tên trường): value 'Nhị Long': expected exactly one "
        "school: this name fits several; candidates: S03 (Trường THCS Nhị Long); S04 (Trường THPT Nhị Long) "
        "[school_ambiguous]"]


def test_level_cannot_be_told(tmp_path, template_bytes):
    def edit(wb):
        ws = district_sheet(wb, [[1, "THCS Mỹ Cẩm", 95, 80, 15]], title="Tốt nghiệp 2019")
        ws["D1"] = "Trung cấp"
        ws["E1"] = "Sơ cấp"
        wb["Trường học"]["D2"] = "THCS,THPT"
    assert failure([edited(tmp_path, template_bytes, edit)], tmp_path) == [
        "mau.xlsx, sheet 'Tốt nghiệp 2019', row 2: expected the level (THCS or THPT): a column 'Cấp học', a sheet or "
        "title naming THCS or THPT, or a school that teaches one level only [no_level]"]


def test_commune_of_the_other_geography_by_name(tmp_path, template_bytes):
    def edit(wb):
        ws = wb["Trường học"]
        ws["C1"] = "Xã, thị trấn"
        ws["C3"] = "Xã Càng Long"  # the commune formed on 1/7/2025
    assert failure([edited(tmp_path, template_bytes, edit)], tmp_path) == [
        "mau.xlsx, sheet 'Trường học', row 3, column C (Xã, thị trấn): value 'Xã Càng Long': expected a commune as it "
        "was before 1/7/2025 (geography pre2025): 'Xã Càng Long' is the commune xa_cang_long (Xã Càng Long) formed by "
        "the 2025 reorganisation; use the pre-2025 unit: 29266 (Thị trấn Càng Long), 29269 (Xã Mỹ Cẩm), 29299 (Xã Nhị "
        "Long Phú) [commune_geography]"]


def test_commune_of_the_other_geography_by_code(tmp_path, template_bytes):
    assert one_cell(tmp_path, template_bytes, "C2", "xa_an_truong", sheet="Trường học") == [
        "mau.xlsx, sheet 'Trường học', row 2, column C (Mã xã): value 'xa_an_truong': expected a commune as it was "
        "before 1/7/2025 (geography pre2025): 'xa_an_truong' is the commune xa_an_truong (Xã An Trường) formed by the "
        "2025 reorganisation; use the pre-2025 unit: 29275 (Xã An Trường), 29272 (Xã An Trường A), 29284 (Xã Tân "
        "Bình) [commune_geography]"]


def test_pre2025_unit_in_a_post2025_import(tmp_path, template_bytes):
    assert one_cell(tmp_path, template_bytes, "C2", "29269", sheet="Trường học", geography="post2025") == [
        "mau.xlsx, sheet 'Trường học', row 2, column C (Mã xã): value '29269': expected a commune after 1/7/2025 "
        "(geography post2025): '29269' is the pre-2025 unit 29269 (Xã Mỹ Cẩm), part of xa_cang_long (Xã Càng Long) "
        "since 1/7/2025 [commune_geography]",
        "mau.xlsx, sheet 'Trường học', row 3, column C (Mã xã): value '29266': expected a commune after 1/7/2025 "
        "(geography post2025): '29266' is the pre-2025 unit 29266 (Thị trấn Càng Long), part of xa_cang_long (Xã "
        "Càng Long) since 1/7/2025 [commune_geography]",
        "mau.xlsx, sheet 'Trường học', row 4, column C (Mã xã): value '29302': expected a commune after 1/7/2025 "
        "(geography post2025): '29302' is the pre-2025 unit 29302 (Xã Nhị Long), part of xa_nhi_long (Xã Nhị Long) "
        "since 1/7/2025 [commune_geography]",
        "mau.xlsx, sheet 'Trường học', row 5, column C (Mã xã): value '29302': expected a commune after 1/7/2025 "
        "(geography post2025): '29302' is the pre-2025 unit 29302 (Xã Nhị Long), part of xa_nhi_long (Xã Nhị Long) "
        "since 1/7/2025 [commune_geography]"]


def test_unknown_commune_name_in_tcvn3(tmp_path, template_bytes):
    def edit(wb):
        ws = wb["Trường học"]
        ws["C1"] = "Xã, thị trấn"
        ws["C2"] = unicode_to_tcvn3("Xã Mỹ Cầm")  # a typo (Cầm for Cẩm), typed in a TCVN3 font
    assert failure([edited(tmp_path, template_bytes, edit)], tmp_path) == [
        "mau.xlsx, sheet 'Trường học', row 2, column C (Xã, thị trấn): value 'Xã Mỹ Cầm': expected a commune of the "
        "register (communes table or the shipped 2025 crosswalk); candidates: 29269 (Xã Mỹ Cẩm) [commune_unmatched]"]


def test_every_problem_at_once(tmp_path, template_bytes):
    def edit(wb):
        G(wb)["G3"] = -1
        G(wb)["B4"] = dt.datetime(2020, 6, 1)
        wb["Tư vấn HN"]["C2"] = "hai"
    msgs = failure([edited(tmp_path, template_bytes, edit)], tmp_path)
    assert [m.split(": expected")[0] for m in msgs] == [
        "mau.xlsx, sheet 'Tốt nghiệp', row 4, column B (Năm tốt nghiệp): value (not shown)",  # a date: it may be a birth date
        "mau.xlsx, sheet 'Tư vấn HN', row 2, column C (Số GV tư vấn hướng nghiệp): value 'hai'",
        # found by the contract's checks in the same pass (it used to take a second run)
        "mau.xlsx, sheet 'Tốt nghiệp', row 3, column G (Số học sinh): value '-1'"]
