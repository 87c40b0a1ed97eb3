"""The Vietnamese Excel template: one sheet per contract table, an instructions sheet, drop-downs.

``python -m evaluation template --out FILE.xlsx`` writes it; ``python -m evaluation import
FILE.xlsx --out DIR`` reads it back. It is made to prevent mistakes: every data row (at least
:data:`TEMPLATE_ROWS`) of every column has a check with an error alert on -- a drop-down of the
Vietnamese labels for coded columns (level, destination, sex, ethnicity, yes/no, qualification,
vocational level, VSIC section "F - Xây dựng"), of the codes entered in the schools and communes
sheets for code columns, whole numbers for years and counts, a decimal 0..1 for shares. Headers
are locked (sheet protection without a password; data cells stay free) and each has a Vietnamese
comment saying what its column holds. The communes sheet comes pre-filled with the 14 Càng Long
units before 1/7/2025 and their 2025 merge (from the shipped crosswalk); the Khmer share and the
disadvantaged flag are left for the user. ``--data`` fills the sheets with a folder's tables,
coded columns as the drop-downs' labels, which the importer maps back to the codes.
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties

from ..contract import ALL_TABLES, DESTINATIONS, ETHNICITIES, QUALIFICATIONS, VOC_LEVELS
from ..reference import commune_crosswalk, label
from ..contract import PLAUSIBLE_YEARS, TABLE_SPECS, VSIC_SECTIONS
from .headers import INSTRUCTIONS_SHEET, SHEET_TITLES, sector_label, template_columns

#: Data rows every check covers (the sample alone has 55,311 student rows).
TEMPLATE_ROWS = 100_000

#: (table, column) -> Vietnamese meaning (English after " / "); (None, column) for every table.
_MEANING: dict[tuple[str | None, str], str] = {
    (None, "school_id"): "Mã trường (do phòng GD&ĐT đặt, mỗi trường một mã) / school code",
    (None, "school_name"): "Tên trường như phòng GD&ĐT ghi / school name",
    (None, "commune_code"): "Mã xã (mã Tổng cục Thống kê của đơn vị trước 1/7/2025) / commune code (pre-2025 unit)",
    ("schools", "levels"): "Cấp học của trường: THCS, THPT hoặc THCS,THPT (trường liên cấp) / levels taught",
    ("schools", "ethnic_boarding"): "Chọn 'có' nếu là trường phổ thông dân tộc nội trú (DTNT) / ethnic boarding school",
    (None, "commune_name"): "Tên xã, thị trấn / commune name",
    (None, "district_name"): "Huyện / district",
    (None, "province_name"): "Tỉnh / province",
    (None, "khmer_share"): "Tỷ lệ dân số người Khmer của xã, từ 0 đến 1 (0,25 = 25%) / Khmer share of the population",
    (None, "disadvantaged"): "Chọn 'có' nếu xã thuộc vùng khó khăn / disadvantaged area",
    (None, "merged_into_code"): "Mã xã sau sắp xếp 1/7/2025 (không bắt buộc) / post-2025 commune code (optional)",
    (None, "merged_into_name"): "Tên xã sau sắp xếp 1/7/2025 (không bắt buộc) / post-2025 commune (optional)",
    (None, "year"): "Năm tốt nghiệp, số nguyên (2019 = năm học 2018-2019) / graduation year",
    ("vocational_supply", "year"): "Năm tuyển sinh, số nguyên (ví dụ 2024) / year of the intake",
    ("graduates", "level"): "Cấp tốt nghiệp: THCS hoặc THPT / level of the graduates",
    ("students", "level"): "Cấp tốt nghiệp: THCS hoặc THPT / level of the graduate",
    ("vocational_supply", "level"): "Trình độ đào tạo của nghề: sơ cấp, trung cấp hoặc cao đẳng / training level",
    ("graduates", "sex"): "Giới tính (không bắt buộc: bỏ trống cả cột nếu không chia theo giới) / sex (optional)",
    ("graduates", "ethnicity"): "Dân tộc (không bắt buộc: bỏ trống cả cột nếu không chia) / ethnicity (optional)",
    ("students", "sex"): "Giới tính của học sinh / sex",
    ("students", "ethnicity"): "Dân tộc của học sinh / ethnicity",
    (None, "destination"): "Hướng đi sau tốt nghiệp (chọn trong danh sách) / destination after graduation",
    ("graduates", "students"): "Số học sinh tốt nghiệp theo hướng đi này, số nguyên từ 0 / number of graduates",
    (None, "counselors"): "Số giáo viên làm công tác tư vấn hướng nghiệp trong năm học, số nguyên / counselors",
    (None, "trained_counselors"): "Trong đó số giáo viên đã qua đào tạo, bồi dưỡng tư vấn (không quá cột trước) / "
                                  "of whom trained",
    (None, "sessions"): "Số buổi tư vấn hướng nghiệp trong năm học (không bắt buộc) / sessions (optional)",
    (None, "students_counseled"): "Số học sinh được tư vấn cá nhân (không bắt buộc) / students counseled (optional)",
    (None, "student_key"): "Mã học sinh hoặc mã định danh: được mã hóa (ẩn danh) khi nhập, không bao giờ được ghi ra / "
                           "student identifier: replaced by a keyed pseudonym at import, never written",
    (None, "poor_household"): "Chọn 'có' nếu học sinh thuộc hộ nghèo / poor household",
    (None, "residence_commune_code"): "Mã xã nơi học sinh cư trú (không bắt buộc) / residence commune (optional)",
    (None, "counseled"): "Chọn 'có' nếu học sinh được tư vấn cá nhân / counseled individually",
    (None, "survey_year"): "Năm khảo sát doanh nghiệp, số nguyên / survey year",
    (None, "enterprise_id"): "Mã doanh nghiệp (mã số thuế hoặc mã do huyện đặt) / enterprise code",
    (None, "sector"): "Ngành kinh tế của doanh nghiệp theo VSIC 2018 (chọn trong danh sách) / economic sector",
    (None, "trade"): "Tên nghề / trade",
    ("labour_demand", "qualification"): "Trình độ doanh nghiệp yêu cầu (chọn trong danh sách) / qualification "
                                        "required",
    (None, "workers_needed"): "Số lao động cần tuyển, số nguyên / workers needed",
    (None, "institution_id"): "Mã cơ sở giáo dục nghề nghiệp / institution code",
    (None, "institution_name"): "Tên cơ sở giáo dục nghề nghiệp / institution name",
    (None, "places"): "Chỉ tiêu tuyển sinh của nghề trong năm, số nguyên / training places",
    (None, "enrolled"): "Số học viên tuyển mới, số nguyên / new entrants",
    (None, "graduated"): "Số học viên tốt nghiệp trong năm, số nguyên / graduates of the course",
    (None, "employed_12m"): "Số người tốt nghiệp có việc làm trong 12 tháng (không bắt buộc) / employed within 12 "
                            "months (optional)",
}


def meaning(table: str, column: str) -> str:
    """The Vietnamese comment of a template column (English after " / ")."""
    return _MEANING.get((table, column)) or _MEANING[(None, column)]


_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_UNLOCKED = Protection(locked=False)
_LOCKED = Protection(locked=True)


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
        return [sector_label(c) for c in VSIC_SECTIONS]
    return None


def _cell_label(table: str, column: str, code: str) -> str:
    """What the template's drop-down shows for ``code`` (the importer reads it back)."""
    if column == "sector":
        return sector_label(code) if code in VSIC_SECTIONS else code
    kind = {"sex": "sex", "ethnicity": "ethnicity", "destination": "destination", "qualification": "qualification"}
    if column == "level" and table == "vocational_supply":
        return label("voc_level", code)
    if column in kind:
        return label(kind[column], code)
    return code


def _columns(table: str) -> list[tuple[str, str]]:
    cols = template_columns(table)
    if table == "students":
        cols = [("student_key", "Mã học sinh")] + [c for c in cols if c[0] != "student_key"]
    return cols


def _alert(dv: DataValidation, title: str, text: str) -> DataValidation:
    dv.showErrorMessage = True
    dv.errorStyle = "stop"
    dv.errorTitle = title
    dv.error = text
    return dv


def _number_check(table: str, spec) -> DataValidation | None:
    """Whole numbers for years and counts, a decimal 0..1 for shares (error alerts on)."""
    if spec.kind == "int" and spec.year:
        lo, hi = PLAUSIBLE_YEARS
        return _alert(DataValidation(type="whole", operator="between", formula1=str(lo), formula2=str(hi),
                                     allow_blank=True), "Năm không hợp lệ",
                      f"Ghi năm là số nguyên từ {lo} đến {hi} (ví dụ 2019 cho năm học 2018-2019).")
    if spec.kind == "int":
        lo = 0 if spec.min is None else int(spec.min)
        return _alert(DataValidation(type="whole", operator="greaterThanOrEqual", formula1=str(lo), allow_blank=True),
                      "Số không hợp lệ", f"Ghi một số nguyên từ {lo} trở lên (không ghi chữ, dấu % hay số lẻ).")
    if spec.kind == "float":
        return _alert(DataValidation(type="decimal", operator="between", formula1="0", formula2="1", allow_blank=True),
                      "Tỷ lệ không hợp lệ", "Ghi tỷ lệ từ 0 đến 1, ví dụ 0,25 (hoặc 25%).")
    return None


def write_template(out: str | Path, *, data: str | Path | None = None, prefill_communes: bool = True,
                   overwrite: bool = False) -> Path:
    """Write the Vietnamese import template to ``out`` (.xlsx); returns the path.

    Every data row (at least :data:`TEMPLATE_ROWS`) of every sheet has its checks: drop-down lists
    of the Vietnamese labels for coded columns, the codes of the schools and communes sheets for
    code columns, whole numbers for years and counts, a decimal 0..1 for shares, each with an error
    alert on. The header row is locked (the sheets are protected without a password; the data
    cells are not locked, rows may be inserted, deleted, sorted and filtered) and every header
    has a Vietnamese comment. ``data``: a cohort data folder whose tables fill the sheets (codes
    written as the drop-downs' labels); ``prefill_communes``: without ``data``, fill the communes
    sheet with the shipped Càng Long crosswalk.
    """
    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise ValueError(f"{out}: the template is an Excel workbook; give a file name ending in .xlsx")
    if out.exists() and not (overwrite and out.is_file()):
        # a filled-in workbook of the same name would be lost
        raise FileExistsError(f"{out} already exists; nothing was written (give another file name"
                              + (", or overwrite=True / --overwrite to replace it)" if out.is_file() else ")"))
    wb = Workbook()
    ins = wb.active
    ins.title = INSTRUCTIONS_SHEET
    lists = wb.create_sheet("Danh mục")
    lists.sheet_state = "hidden"
    list_col = 0
    sheets = {}
    rows = TEMPLATE_ROWS
    if data is not None:
        rows = max(rows, _largest_table(Path(data)) + 1000)
    last = rows + 1
    for table in ALL_TABLES:
        ws = wb.create_sheet(SHEET_TITLES[table])
        sheets[table] = ws
        specs = {s.name: s for s in TABLE_SPECS[table]}
        for j, (col, head) in enumerate(_columns(table), start=1):
            L = get_column_letter(j)
            cell = ws.cell(row=1, column=j, value=head)
            cell.font = Font(bold=True)
            cell.fill = _HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.protection = _LOCKED
            spec = specs.get(col)
            need = "bắt buộc" if spec is None or spec.required else "không bắt buộc"
            cell.comment = Comment(f"{head} ({need}): {meaning(table, col)}\n[{col}]", "Mẫu nhập liệu",
                                   width=320, height=120)
            ws.column_dimensions[L].width = max(12, min(40, len(head) + 4))
            ws.column_dimensions[L].protection = _UNLOCKED  # data cells stay editable
            values = _codes_list(table, col)
            dv = None
            if values:
                list_col += 1
                LL = get_column_letter(list_col)
                for i, v in enumerate(values, start=1):
                    lists.cell(row=i, column=list_col, value=v)
                dv = _alert(DataValidation(type="list", formula1=f"='Danh mục'!${LL}$1:${LL}${len(values)}",
                                           allow_blank=True),
                            "Giá trị không có trong danh sách", "Chọn một giá trị trong danh sách thả xuống.")
            elif spec is not None:
                dv = _number_check(table, spec)
            if dv is not None:
                ws.add_data_validation(dv)
                dv.add(f"{L}2:{L}{last}")
        ws.freeze_panes = "A2"
        _protect(ws)
    # code drop-downs that refer to other sheets
    def ref(table: str, col: int) -> str:
        L = get_column_letter(col)
        return f"='{SHEET_TITLES[table]}'!${L}$2:${L}${last}"

    for table, column, target, what in (("schools", "commune_code", ("communes", 1), "xã"),
                                        ("graduates", "school_id", ("schools", 1), "trường"),
                                        ("counseling", "school_id", ("schools", 1), "trường"),
                                        ("students", "school_id", ("schools", 1), "trường")):
        cols = [c for c, _ in _columns(table)]
        j = cols.index(column) + 1
        dv = _alert(DataValidation(type="list", formula1=ref(*target), allow_blank=True),
                    "Mã chưa có trong danh sách",
                    f"Chọn một mã {what} đã có ở trang '{SHEET_TITLES[target[0]]}' (thêm {what} vào đó trước).")
        sheets[table].add_data_validation(dv)
        dv.add(f"{get_column_letter(j)}2:{get_column_letter(j)}{last}")
    if data is not None:
        _fill(sheets, Path(data))
    elif prefill_communes:
        cw = commune_crosswalk()
        ws = sheets["communes"]
        cols = [c for c, _ in _columns("communes")]
        for i, row in enumerate(cw.itertuples(index=False), start=2):
            for j, col in enumerate(cols, start=1):
                v = getattr(row, col, None)
                if isinstance(v, str) and v:
                    ws.cell(row=i, column=j, value=v).protection = _UNLOCKED
    _instructions(ins)
    _protect(ins)
    _protect(lists)
    out.parent.mkdir(parents=True, exist_ok=True)
    import io

    from ..fsutil import atomic_write_bytes

    buf = io.BytesIO()
    wb.save(buf)
    atomic_write_bytes(out, buf.getvalue())  # a failed write leaves no half workbook
    return out


def _protect(ws) -> None:
    """Lock the locked cells (the headers) without a password; editing data stays free."""
    p = ws.protection
    p.sheet = True
    for what in ("formatCells", "formatColumns", "formatRows", "insertRows", "deleteRows", "sort", "autoFilter",
                 "insertHyperlinks"):
        setattr(p, what, False)  # False: allowed on the protected sheet


def _largest_table(folder: Path) -> int:
    from ..data import read_table, table_files

    n = 0
    for table in ALL_TABLES:
        if table_files(folder, table):
            n = max(n, len(read_table(folder, table)[0]))
    return n


#: The instructions sheet: (text, style) with style "title", "head" or "" (Vietnamese first).
def _instruction_lines() -> list[tuple[str, str]]:
    L = [
        ("Mẫu nhập số liệu sơ kết phân luồng và đào tạo nghề sau THCS, THPT", "title"),
        ("Data-entry template: vocational streaming and career counseling review (English notes in italics below "
         "each point)", "en"),
        ("", ""),
        ("Cách dùng", "head"),
        ("1. Mỗi trang tính là một bảng số liệu. Không đổi tên trang tính, không sửa dòng tiêu đề (dòng tiêu đề "
         "được khóa; các ô số liệu nhập tự do, có thể chèn, xóa, sắp xếp dòng).", ""),
        ("One sheet per table; the header row is locked, the data cells are free.", "en"),
        ("2. Mỗi dòng một bản ghi. Không gộp ô (merge) trong vùng số liệu; không cần dòng tổng cộng.", ""),
        ("One record per row; no merged cells in the data; no total rows needed.", "en"),
        ("3. Các ô có danh sách thả xuống chỉ nhận giá trị trong danh sách; năm và số lượng chỉ nhận số nguyên. "
         "Nhập sai, Excel (hoặc LibreOffice) sẽ báo ngay.", ""),
        ("Cells with a drop-down accept only its values; years and counts accept whole numbers only.", "en"),
        ("4. Năm tốt nghiệp: 2019 là khóa tốt nghiệp năm học 2018-2019. Số liệu là số nguyên (1.234 = một nghìn "
         "hai trăm ba mươi bốn).", ""),
        ("Year = graduation year (2019 = school year 2018-2019). Counts are whole numbers.", "en"),
        ("5. Di chuột lên ô tiêu đề để xem giải thích của từng cột.", ""),
        ("Hover over a header to read what its column holds.", "en"),
        ("6. Trang Xã đã điền sẵn 14 xã, thị trấn trước 1/7/2025 của huyện Càng Long; điền tỷ lệ người Khmer và "
         "vùng khó khăn.", ""),
        ("The communes sheet is pre-filled; fill in the Khmer share and the disadvantaged flag.", "en"),
        ("7. Trang Học sinh (không bắt buộc): họ tên, ngày sinh, mã học sinh được mã hóa khi nhập và không bao giờ "
         "được ghi ra; cần khóa bí mật EVALUATION_PSEUDONYM_KEY.", ""),
        ("Student list (optional): names, birth dates and ids are pseudonymised at import; a secret key is "
         "required.", "en"),
        ("8. Nhập số liệu: python -m evaluation import <tệp.xlsx> --out <thư mục>. Mọi lỗi được báo một lần, "
         "bằng tiếng Việt, kèm trang tính, dòng và cột; mọi quyết định ghi trong import_report.md.", ""),
        ("Import with python -m evaluation import FILE.xlsx --out DIR (--lang en for English messages).", "en"),
        ("", ""),
        ("Các bảng", "head"),
    ]
    for table in ALL_TABLES:
        need = "bắt buộc" if table in ("schools", "communes", "graduates", "counseling") else "không bắt buộc"
        heads = ", ".join(h for _, h in _columns(table))
        L.append((f"• {SHEET_TITLES[table]} ({need}): {heads}", ""))
    return L


def _instructions(ws) -> None:
    """One text column wide enough to read, each paragraph's row as tall as its wrapped lines (so
    LibreOffice, which does not grow rows for wrapped text of an .xlsx, shows it whole)."""
    width = 72
    ws.column_dimensions["A"].width = width
    ws.sheet_view.showGridLines = False
    for i, (text, style) in enumerate(_instruction_lines(), start=1):
        c = ws.cell(row=i, column=1, value=text or None)
        size = 14 if style == "title" else 12 if style == "head" else 11
        c.font = Font(name="Arial", bold=style in ("title", "head"), italic=style == "en", size=size,
                      color="555555" if style == "en" else None)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        lines = max(1, math.ceil(len(text) * (size / 11) / (width * 1.1)))
        ws.row_dimensions[i].height = round(lines * size * 1.35 + 3, 1)
    ws.print_options.gridLines = False
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToHeight = 0


def _fill(sheets: dict, folder: Path) -> None:
    """Write a cohort folder's tables into the template's sheets: numbers as numbers, yes/no as
    có/không, coded columns as the Vietnamese labels their drop-downs show (the importer maps them
    back to the codes), ids and names as text; every written cell stays editable."""
    from ..data import read_table, table_files
    from ..validation import coerce_table

    for table, ws in sheets.items():
        if not table_files(folder, table):
            continue
        raw, _ = read_table(folder, table)
        df = coerce_table(table, raw)
        cols = [c for c, _ in _columns(table)]
        kinds = {s.name: s.kind for s in TABLE_SPECS[table]}
        coded = {c for c in cols if _codes_list(table, c) is not None and kinds.get(c) != "bool"}
        present = [c for c in cols if c in df.columns]
        for j, col in enumerate(cols, start=1):
            if col not in present:  # an optional column the folder does not have
                ws.cell(row=1, column=j).value = None
                ws.cell(row=1, column=j).comment = None
        labels: dict[str, dict[str, str]] = {c: {} for c in coded}
        for i, row in enumerate(df[present].itertuples(index=False), start=2):
            for col, v in zip(present, row):
                if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
                    continue
                j = cols.index(col) + 1
                k = kinds.get(col, "str")
                if k == "bool":
                    v = "có" if bool(v) else "không"
                elif k == "int":
                    v = int(v)
                elif k == "float":
                    v = float(v)
                elif col in coded:
                    code = str(v)
                    v = labels[col].get(code) or labels[col].setdefault(code, _cell_label(table, col, code))
                else:
                    v = str(v)
                ws.cell(row=i, column=j, value=v).protection = _UNLOCKED
