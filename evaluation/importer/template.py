"""The Vietnamese Excel template: one sheet per contract table, an instructions sheet, drop-downs.

``python -m evaluation template --out FILE.xlsx`` writes it; ``python -m evaluation import
FILE.xlsx --out DIR`` reads it back. Headers are Vietnamese (each with a comment giving the
contract column and its meaning); cells with a code list (level, destination, sex, ethnicity,
yes/no, qualification, vocational level, VSIC section) have a drop-down list with the Vietnamese
labels, which the importer maps back to the codes; school and commune codes in other sheets
have a drop-down of the codes entered in the schools and communes sheets. The communes sheet
comes pre-filled with the 14 Càng Long units before 1/7/2025 and their 2025 merge (from the
shipped crosswalk); the Khmer share and the disadvantaged flag are left for the user.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..contract import ALL_TABLES, DESTINATIONS, ETHNICITIES, QUALIFICATIONS, VOC_LEVELS
from ..reference import commune_crosswalk, label
from ..validation import TABLE_SPECS, VSIC_SECTIONS
from .headers import INSTRUCTIONS_SHEET, SHEET_TITLES, template_columns

TEMPLATE_ROWS = 2000  # rows covered by the drop-down lists

_MEANING = {
    "school_id": "Mã trường (do phòng GD&ĐT đặt, duy nhất) / school code",
    "school_name": "Tên trường như phòng GD&ĐT ghi / school name",
    "commune_code": "Mã xã (mã Tổng cục Thống kê, đơn vị trước 1/7/2025) / commune code (pre-2025 unit)",
    "levels": "THCS, THPT hoặc THCS,THPT (trường liên cấp) / levels taught",
    "ethnic_boarding": "Có nếu là trường dân tộc nội trú (DTNT) / ethnic boarding school",
    "commune_name": "Tên xã, thị trấn / commune name",
    "district_name": "Huyện / district", "province_name": "Tỉnh / province",
    "khmer_share": "Tỷ lệ dân số người Khmer, 0..1 hoặc % (vd 0,25 hoặc 25%) / Khmer share of the population",
    "disadvantaged": "Có nếu thuộc vùng khó khăn (chỉ tiêu thấp hơn) / disadvantaged area",
    "merged_into_code": "Mã xã sau sáp nhập 1/7/2025 (tùy chọn) / post-2025 commune code (optional)",
    "merged_into_name": "Tên xã sau sáp nhập 1/7/2025 (tùy chọn) / post-2025 commune (optional)",
    "year": "Năm tốt nghiệp (2018 = năm học 2017-2018) / graduation year",
    "level": "Cấp tốt nghiệp: THCS hoặc THPT / level",
    "sex": "Giới tính (tùy chọn: bỏ trống cả cột nếu không chia) / sex (optional column)",
    "ethnicity": "Dân tộc (tùy chọn) / ethnicity (optional column)",
    "destination": "Hướng đi sau tốt nghiệp / destination",
    "students": "Số học sinh / number of students",
    "counselors": "Số GV làm công tác tư vấn hướng nghiệp / career-counseling teachers",
    "trained_counselors": "Trong đó đã qua đào tạo, bồi dưỡng / of whom trained",
    "sessions": "Số buổi tư vấn trong năm học (tùy chọn) / counseling sessions (optional)",
    "students_counseled": "Số HS được tư vấn cá nhân (tùy chọn) / students counseled individually (optional)",
    "student_key": "Mã học sinh hoặc mã định danh: sẽ được mã hóa khi nhập, không bao giờ được ghi ra / "
                   "student identifier: replaced by a keyed pseudonym at import, never written",
    "poor_household": "Có nếu thuộc hộ nghèo / poor household",
    "residence_commune_code": "Mã xã nơi cư trú (tùy chọn) / residence commune code",
    "counseled": "Có nếu được tư vấn cá nhân / counseled individually",
}

_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def _codes_list(table: str, column: str) -> list[str] | None:
    if column in ("ethnic_boarding", "disadvantaged", "poor_household", "counseled"):
        return ["có", "không"]
    if column == "levels":
        return ["THCS", "THPT", "THCS,THPT"]
    if column == "level":
        if table == "vocational_supply":
            return [label("voc_level", c) for c in VOC_LEVELS]
        return ["THCS", "THPT"]
    if column == "sex":
        return [label("sex", c) for c in ("F", "M")]
    if column == "ethnicity":
        return [label("ethnicity", c) for c in ETHNICITIES]
    if column == "destination":
        codes = list(dict.fromkeys(d for ds in DESTINATIONS.values() for d in ds))
        return [label("destination", c) for c in codes]
    if column == "qualification":
        return [label("qualification", c) for c in QUALIFICATIONS]
    if column == "sector":
        return list(VSIC_SECTIONS)
    return None


def write_template(out: str | Path, *, data: str | Path | None = None, prefill_communes: bool = True) -> Path:
    """Write the Vietnamese import template to ``out`` (.xlsx); returns the path.

    ``data``: a cohort data folder whose tables fill the sheets (to update last cycle's data in
    Excel, or to check a round trip); ``prefill_communes``: without ``data``, fill the communes
    sheet with the shipped Càng Long crosswalk.
    """
    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise ValueError(f"{out}: the template is an Excel workbook; give a file name ending in .xlsx")
    wb = Workbook()
    ins = wb.active
    ins.title = INSTRUCTIONS_SHEET
    _instructions(ins)
    lists = wb.create_sheet("Danh mục")
    lists.sheet_state = "hidden"
    list_col = 0
    sheets = {}
    for table in ALL_TABLES:
        ws = wb.create_sheet(SHEET_TITLES[table])
        sheets[table] = ws
        cols = template_columns(table)
        if table == "students":
            cols = [("student_key", "Mã học sinh")] + [c for c in cols if c[0] != "student_key"]
        for j, (col, head) in enumerate(cols, start=1):
            cell = ws.cell(row=1, column=j, value=head)
            cell.font = Font(bold=True)
            cell.fill = _HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.comment = Comment(f"{col}: {_MEANING.get(col, col)}", "evaluation")
            ws.column_dimensions[get_column_letter(j)].width = max(12, min(40, len(head) + 4))
            values = _codes_list(table, col)
            if values:
                list_col += 1
                L = get_column_letter(list_col)
                for i, v in enumerate(values, start=1):
                    lists.cell(row=i, column=list_col, value=v)
                dv = DataValidation(type="list", formula1=f"='Danh mục'!${L}$1:${L}${len(values)}", allow_blank=True)
                dv.error = "Chọn một giá trị trong danh sách / pick a value from the list"
                dv.showErrorMessage = False  # the importer also accepts other spellings and reports
                ws.add_data_validation(dv)
                dv.add(f"{get_column_letter(j)}2:{get_column_letter(j)}{TEMPLATE_ROWS}")
        ws.freeze_panes = "A2"
    # code drop-downs that refer to other sheets
    def ref(table: str, col: int) -> str:
        L = get_column_letter(col)
        return f"='{SHEET_TITLES[table]}'!${L}$2:${L}${TEMPLATE_ROWS}"

    for table, column, target in (("schools", "commune_code", ("communes", 1)),
                                  ("graduates", "school_id", ("schools", 1)),
                                  ("counseling", "school_id", ("schools", 1)),
                                  ("students", "school_id", ("schools", 1))):
        cols = [c for c, _ in template_columns(table)]
        if table == "students":
            cols = ["student_key"] + [c for c in cols if c != "student_key"]
        j = cols.index(column) + 1
        dv = DataValidation(type="list", formula1=ref(*target), allow_blank=True)
        dv.showErrorMessage = False
        sheets[table].add_data_validation(dv)
        dv.add(f"{get_column_letter(j)}2:{get_column_letter(j)}{TEMPLATE_ROWS}")
    if data is not None:
        _fill(sheets, Path(data))
    elif prefill_communes:
        cw = commune_crosswalk()
        ws = sheets["communes"]
        cols = [c for c, _ in template_columns("communes")]
        for i, row in enumerate(cw.itertuples(index=False), start=2):
            for j, col in enumerate(cols, start=1):
                v = getattr(row, col, None)
                if isinstance(v, str) and v:
                    ws.cell(row=i, column=j, value=v)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


def _instructions(ws) -> None:
    lines = [
        ("Mẫu nhập số liệu sơ kết phân luồng và đào tạo nghề sau THCS, THPT", True),
        ("Data-entry template: vocational streaming and career counseling review", False),
        ("", False),
        ("Cách dùng / How to use", True),
        ("1. Mỗi sheet là một bảng số liệu; không đổi tên sheet và dòng tiêu đề. / One sheet per table; keep sheet "
         "names and the header row.", False),
        ("2. Mỗi dòng một bản ghi; không gộp ô (merge) trong vùng số liệu, không để dòng tổng cộng. / One record per "
         "row; no merged cells in the data, no total rows (total rows are checked and dropped if present).", False),
        ("3. Năm tốt nghiệp: 2019 là khóa tốt nghiệp năm học 2018-2019. / Year = graduation year.", False),
        ("4. Số liệu là số nguyên (1.234 = một nghìn hai trăm ba mươi bốn). / Counts are whole numbers.", False),
        ("5. Sheet Xã đã điền sẵn 14 xã, thị trấn trước 1/7/2025 của huyện Càng Long; điền tỷ lệ người Khmer và vùng "
         "khó khăn. / The communes sheet is pre-filled; fill in the Khmer share and the disadvantaged flag.", False),
        ("6. Sheet Học sinh (không bắt buộc): họ tên, ngày sinh, mã học sinh được mã hóa khi nhập và không bao giờ "
         "được ghi ra; cần khóa bí mật EVALUATION_PSEUDONYM_KEY. / Student list (optional): names, birth dates and "
         "ids are pseudonymised at import and never written; a secret key is required.", False),
        ("7. Nhập: python -m evaluation import <tệp.xlsx> --out <thư mục>. Mọi quyết định được ghi trong "
         "import_report.md. / Import with python -m evaluation import FILE.xlsx --out DIR.", False),
        ("", False),
        ("Bảng / Tables", True),
    ]
    for table in ALL_TABLES:
        need = "bắt buộc / required" if table in ("schools", "communes", "graduates", "counseling") else \
            "không bắt buộc / optional"
        lines.append((f"- {SHEET_TITLES[table]} ({table}): {need}", False))
    for i, (text, bold) in enumerate(lines, start=1):
        c = ws.cell(row=i, column=1, value=text)
        c.font = Font(bold=bold, size=13 if i == 1 else 11)
        c.alignment = Alignment(wrap_text=True)
    ws.column_dimensions["A"].width = 120


def _fill(sheets: dict, folder: Path) -> None:
    """Write a cohort folder's tables into the template's sheets (numbers as numbers, yes/no as
    có/không, codes as codes)."""
    from ..data import read_table, table_files
    from ..validation import coerce_table

    for table, ws in sheets.items():
        if not table_files(folder, table):
            continue
        raw, _ = read_table(folder, table)
        df = coerce_table(table, raw)
        cols = [c for c, _ in template_columns(table)]
        if table == "students":
            cols = ["student_key"] + [c for c in cols if c != "student_key"]
        kinds = {s.name: s.kind for s in TABLE_SPECS[table]}
        present = [c for c in cols if c in df.columns]
        for j, col in enumerate(cols, start=1):
            if col not in present:
                ws.cell(row=1, column=j).value = None  # an optional column the folder does not have
        for i, row in enumerate(df[present].itertuples(index=False), start=2):
            for col, v in zip(present, row):
                j = cols.index(col) + 1
                if v is None or pd.isna(v):
                    continue
                k = kinds.get(col, "str")
                if k == "bool":
                    v = "có" if bool(v) else "không"
                elif k == "int":
                    v = int(v)
                elif k == "float":
                    v = float(v)
                else:
                    v = str(v)
                ws.cell(row=i, column=j, value=v)
