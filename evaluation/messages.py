"""The message catalogue of ``import`` and ``validate``: every problem in Vietnamese (the default
for people) or English.

Messages are made in English where the problem is found (the English is what the tests and the
logs hold); :func:`translate` turns one into Vietnamese by the catalogue below: each entry is an
English pattern whose ``{placeholders}`` stand for the message's data (numbers, names, codes,
cells as written) and its Vietnamese wording with the same placeholders. Placeholder values that
are themselves words of a fixed set ("a level", " (a hidden column)") are translated through
:data:`PHRASES`. A message no entry fits is shown in English behind a Vietnamese note, never
dropped; ``tests/test_import_messages.py`` holds every message the importer and the validation
can produce to an entry (every literal message of the sources, and every message of the bad-input and corpus tests).

:func:`issue_text` renders one import problem (file, sheet, Excel row, column, value, what is
expected) and :func:`word` the few words around them.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"

#: Words around the messages: key -> (English, Vietnamese).
WORDS: dict[str, tuple[str, str]] = {
    "sheet": ("sheet", "trang tính"),
    "row": ("row", "dòng"),
    "line": ("line", "dòng"),
    "column": ("column", "cột"),
    "value": ("value", "giá trị"),
    "expected": ("expected", "cần"),
    "empty": ("(empty)", "(trống)"),
    "not_shown": ("(not shown)", "(không hiển thị)"),
    "error": ("error", "lỗi"),
    "warning": ("warning", "cảnh báo"),
    "info": ("note", "ghi chú"),
    "failed_head": ("Import failed: {n} error{s}; nothing was written{where}.",
                    "Không nhập được: {n} lỗi; không ghi gì{where}."),
    "to_out": (" to {out}", " vào {out}"),
    "untranslated": ("", "(chưa có bản dịch) "),
    "imported": ("imported into {out} ({rows}); decisions in {report}",
                 "đã nhập vào {out} ({rows}); các quyết định ghi trong {report}"),
    "folder": ("Cohort data folder: {folder}", "Thư mục dữ liệu: {folder}"),
    "failed": ("FAILED: {summary}. The folder does not meet the data contract; nothing downstream runs on it "
               "until every error below is fixed.",
               "KHÔNG ĐẠT: {summary}. Thư mục chưa đúng quy ước dữ liệu; không phân tích nào chạy trên nó cho đến "
               "khi sửa hết các lỗi dưới đây."),
    "ok": ("OK: {summary}. The folder meets the data contract.", "ĐẠT: {summary}. Thư mục đúng quy ước dữ liệu."),
    "summary": ("{e} error{es}, {w} warning{ws}, {i} note{is_}", "{e} lỗi, {w} cảnh báo, {i} ghi chú"),
    "by_check": ("by check", "theo loại kiểm tra"),
    "more": ("... and {n} more [{check}] (all of them: report.to_frame())",
             "... và {n} mục nữa [{check}] (đầy đủ: report.to_frame())"),
    "errors_n": ("error(s)", "lỗi"), "warnings_n": ("warning(s)", "cảnh báo"), "notes_n": ("note(s)", "ghi chú"),
}


def word(key: str, lang: str = DEFAULT_LANG, **kw: Any) -> str:
    en, vi = WORDS[key]
    text = vi if lang == "vi" else en
    return text.format(**kw) if kw else text


#: Fixed phrases that fill a placeholder: English -> Vietnamese.
PHRASES: dict[str, str] = {
    "": "",
    " (a hidden column)": " (cột đang ẩn)",
    "a level": "cấp học",
    "the levels the school teaches": "các cấp trường dạy",
    "a sex": "giới tính",
    "a qualification": "trình độ",
    "a vocational level": "trình độ đào tạo nghề",
    "a destination": "hướng đi",
    "no similar name in the register": "không có tên nào gần giống trong danh mục",
    "no table": "không có bảng nào",
    "(none)": "(không có)",
    "per school, level and year": "theo trường, cấp học và năm",
    "per level and year, whole district": "theo cấp học và năm, toàn huyện",
    "CSV file": "tệp CSV", "Parquet file": "tệp Parquet",
    "CSV file (UTF-8, comma-separated, header row)": "tệp CSV (mã UTF-8, cách nhau bằng dấu phẩy, có dòng tiêu đề)",
    "lines": "dòng", "rows": "dòng", "line": "dòng", "row": "dòng",
    "is": "là", "contains": "chứa",
    "the root of the file system": "thư mục gốc của hệ thống tệp", "your home folder": "thư mục cá nhân của bạn",
    "the repository of the toolkit": "kho mã nguồn của bộ công cụ", "the base folder (--base)": "thư mục nền (--base)",
    "the key file (--key-file)": "tệp khóa (--key-file)",
}

#: (English pattern, Vietnamese). ``{name}`` matches any text; the same names fill the Vietnamese.
CATALOGUE: tuple[tuple[str, str], ...] = (
    ("text without control characters (invisible characters, often copied from a PDF or Word file, that the "
     "workbook and Word reports cannot hold); retype the cell",
     "văn bản không có ký tự điều khiển (ký tự ẩn, thường do sao chép từ tệp PDF hoặc Word, mà báo cáo Excel và "
     "Word không chứa được); hãy gõ lại ô này"),
    ("no personal data here: the cell looks like a phone number, a citizen identity number or a date of birth; "
     "remove it",
     "không có dữ liệu cá nhân ở đây: ô này trông như số điện thoại, số căn cước công dân hoặc ngày sinh; hãy xóa"),
    ("a pseudonymous key, not a person's identity number, phone number, date of birth or name; make the keys with "
     "'python -m evaluation import', which pseudonymises student lists",
     "một mã ẩn danh, không phải số định danh, số điện thoại, ngày sinh hay họ tên của học sinh; hãy tạo mã bằng "
     "'python -m evaluation import', lệnh này ẩn danh danh sách học sinh"),
    # -- cells ------------------------------------------------------------------------------------
    ("a whole number, not true/false", "một số nguyên, không phải đúng/sai"),
    ("a whole number, not a date (the cell is formatted as a date)",
     "một số nguyên, không phải ngày tháng (ô đang được định dạng ngày tháng)"),
    ("a count of students or teachers, not a percentage (the cell is formatted as %); write the number itself",
     "số học sinh hoặc giáo viên, không phải tỷ lệ phần trăm (ô đang được định dạng %); hãy ghi chính con số"),
    ("a count of students or teachers, not a percentage; write the number itself",
     "số học sinh hoặc giáo viên, không phải tỷ lệ phần trăm; hãy ghi chính con số"),
    ("a whole number (e.g. 12)", "một số nguyên (ví dụ 12)"),
    ("a whole number: ',' is the decimal mark in Vietnamese, so this is not a whole number",
     "một số nguyên: dấu ',' là dấu thập phân trong tiếng Việt nên đây không phải số nguyên"),
    ("a whole number (e.g. 12; thousands may be written '1.234')",
     "một số nguyên (ví dụ 12; hàng nghìn có thể viết '1.234')"),
    ("a year such as 2019, not a date ({d}); write the year alone",
     "một năm như 2019, không phải ngày tháng ({d}); chỉ ghi năm"),
    ("a year such as 2019, not a date stored as a number (Excel serial {y} is {d}); write the year alone",
     "một năm như 2019, không phải ngày tháng lưu dạng số (số ngày Excel {y} là {d}); chỉ ghi năm"),
    ("a year such as 2019, not a date; write the year alone", "một năm như 2019, không phải ngày tháng; chỉ ghi năm"),
    ("a year such as 2019 (or a school year such as 2018-2019)", "một năm như 2019 (hoặc năm học như 2018-2019)"),
    ("a year such as 2019", "một năm như 2019"),
    ("a year between 1990 and 2100", "một năm từ 1990 đến 2100"),
    ("a share between 0 and 1 (e.g. 0.25 or 25%)", "một tỷ lệ từ 0 đến 1 (ví dụ 0,25 hoặc 25%)"),
    ("yes or no (x, có, 1, true / không, 0, false, or an empty cell)",
     "có hoặc không (x, có, 1 / không, 0, hoặc để trống)"),
    ("{what}: one of {codes} (or their Vietnamese names)", "{what}: một trong {codes} (hoặc tên tiếng Việt)"),
    ("an ethnic group (Kinh, Khmer, Hoa, the name of another of Vietnam's 54 groups, or 'không rõ')",
     "một dân tộc (Kinh, Khmer, Hoa, tên một dân tộc khác trong 54 dân tộc Việt Nam, hoặc 'không rõ')"),
    # -- layout -----------------------------------------------------------------------------------
    ("a header row naming the columns of table {table} (e.g. {known}) in the first {n} rows; none was found",
     "một dòng tiêu đề ghi tên các cột của bảng {table} (ví dụ {known}) trong {n} dòng đầu; không tìm thấy"),
    ("the school (or other key) of a row that holds numbers; fill it in, or mark the row as a total ('Tổng cộng')",
     "tên trường (hoặc mã) của dòng có số liệu; hãy điền vào, hoặc ghi dòng đó là dòng tổng ('Tổng cộng')"),
    ("one value per cell in the data rows: these cells are merged; unmerge them and write the value in every row "
     "it applies to",
     "mỗi ô một giá trị trong vùng số liệu: các ô này đang gộp (merge); hãy bỏ gộp và ghi giá trị vào từng dòng"),
    # -- columns ----------------------------------------------------------------------------------
    ("one column for {fld}: {n} columns have a header meaning it; delete or rename all but one",
     "một cột cho {fld}: có {n} cột mang tiêu đề cùng nghĩa; hãy xóa hoặc đổi tên, chỉ giữ một cột"),
    ("one meaning for this header: it fits {fields} equally well; rename it, or say which with --map \"{m}\" "
     "(or that line in {f} beside the workbook)",
     "một nghĩa cho tiêu đề này: nó hợp với {fields} như nhau; hãy đổi tên, hoặc chỉ rõ bằng --map \"{m}\" "
     "(hoặc dòng đó trong tệp {f} đặt cạnh tệp Excel)"),
    ("a known meaning for every column holding numbers: this column{hid} holds numbers on {n} rows but its header "
     "fits no column of table {table}; map it with --map \"{h}=FIELD\" or the line '{h2}=FIELD' in {f} beside the "
     "workbook (FIELD: {choices}; 'ignore' leaves it out knowingly)",
     "biết cột này chứa gì: cột này{hid} có số liệu ở {n} dòng nhưng tiêu đề không khớp cột nào của "
     "bảng {table}; hãy chỉ rõ bằng --map \"{h}=TÊN_CỘT\" hoặc dòng '{h2}=TÊN_CỘT' trong tệp {f} đặt cạnh tệp Excel "
     "(TÊN_CỘT: {choices}; 'ignore' để cố ý bỏ qua cột)"),
    ("a header for every column holding numbers: this column{hid} has none and holds numbers on {n} rows; write its "
     "header (e.g. one of: {choices}) or delete the column",
     "một tiêu đề cho cột này: cột này{hid} không có tiêu đề nhưng có số liệu ở {n} dòng; hãy ghi tiêu đề "
     "(ví dụ một trong: {choices}) hoặc xóa cột"),
    ("a column for {want} in the header of table {table}; the header names: {names}",
     "một cột {want} trong tiêu đề bảng {table}; tiêu đề hiện có: {names}"),
    ("column(s) {miss} (long layout) or one column per destination (wide layout: THPT, GDTX, Trung cấp, Sơ cấp, "
     "...); the header names: {names}",
     "cột {miss} (dạng dọc) hoặc mỗi hướng đi một cột (dạng ngang: THPT, GDTX, Trung cấp, Sơ cấp, ...); tiêu đề "
     "hiện có: {names}"),
    ("a column for {missing} (table {table}); the header names: {names}",
     "một cột {missing} (bảng {table}); tiêu đề hiện có: {names}"),
    ("a value: the cell holds a formula whose result was never saved (the file was written by a program that does "
     "not calculate); open the file in Excel or LibreOffice and save it",
     "một giá trị: ô chứa công thức chưa được tính và lưu kết quả (tệp do chương trình không tính toán tạo ra); hãy "
     "mở tệp bằng Excel hoặc LibreOffice rồi lưu lại"),
    ("the graduation year: a column 'Năm tốt nghiệp', a sheet named by its year (e.g. '2019' or '2018-2019'), or "
     "a title above the table naming the school year",
     "năm tốt nghiệp: một cột 'Năm tốt nghiệp', trang tính đặt tên theo năm (ví dụ '2019' hoặc '2018-2019'), hoặc "
     "tiêu đề phía trên bảng ghi năm học"),
    ("the level (THCS or THPT): a column 'Cấp học', a sheet or title naming THCS or THPT, or a school that teaches "
     "one level only",
     "cấp học (THCS hoặc THPT): một cột 'Cấp học', tên trang tính hoặc tiêu đề ghi THCS hay THPT, hoặc trường chỉ "
     "dạy một cấp"),
    # -- totals -----------------------------------------------------------------------------------
    ("the sum of the destination columns on the same row ({s}); the total and its parts disagree",
     "giá trị bằng tổng các cột hướng đi trên cùng dòng ({s}); cột tổng và các phần không khớp"),
    ("the sum of the rows it totals: the rows above sum to {a} (since the previous total: {g}); the total row "
     "disagrees with its parts",
     "giá trị bằng tổng các dòng mà nó cộng: các dòng phía trên cộng lại là {a} (kể từ dòng tổng trước: {g}); dòng "
     "tổng không khớp với các phần"),
    ("the sum of the rows it totals: the rows above sum to {a}; the total row disagrees with its parts",
     "giá trị bằng tổng các dòng mà nó cộng: các dòng phía trên cộng lại là {a}; dòng tổng không khớp với các phần"),
    # -- names and geography ----------------------------------------------------------------------
    ("a commune as it was before 1/7/2025 (geography pre2025): '{v}' is the commune {code} ({name}) formed by the "
     "2025 reorganisation; use the pre-2025 unit: {alts}",
     "xã như trước 1/7/2025 (địa giới pre2025): '{v}' là xã {code} ({name}) hình thành khi sắp xếp năm 2025; hãy "
     "dùng đơn vị trước 2025: {alts}"),
    ("the pre-2025 unit: the post-2025 commune {code} ({name}) was formed from {n} units ({units}) and the data "
     "contract keys communes by pre-2025 unit; which one cannot be inferred",
     "đơn vị trước 2025: xã sau 2025 {code} ({name}) được hình thành từ {n} đơn vị ({units}) và dữ liệu ghi xã theo "
     "đơn vị trước 2025; không thể suy ra là đơn vị nào"),
    ("a commune after 1/7/2025 (geography post2025): '{v}' is the pre-2025 unit {code} ({name}), part of {m} "
     "({mn}) since 1/7/2025",
     "xã sau 1/7/2025 (địa giới post2025): '{v}' là đơn vị trước 2025 {code} ({name}), thuộc {m} ({mn}) từ "
     "1/7/2025"),
    ("a commune after 1/7/2025 (geography post2025): '{v}' is the pre-2025 unit {code} ({name})",
     "xã sau 1/7/2025 (địa giới post2025): '{v}' là đơn vị trước 2025 {code} ({name})"),
    ("exactly one commune: this name fits several, candidates: {c}",
     "đúng một xã: tên này khớp nhiều xã; các khả năng: {c}"),
    ("a commune of the register (communes table or the shipped 2025 crosswalk); candidates: {c}",
     "một xã trong danh mục (bảng xã hoặc bảng đối chiếu 2025 kèm theo); gần giống: {c}"),
    ("a schools table (a 'Trường học' sheet among the inputs, or --base) to match school names to school codes",
     "bảng trường học (trang tính 'Trường học' trong các tệp nhập, hoặc --base) để đối chiếu tên trường với mã "
     "trường"),
    ("exactly one school: this name fits several; candidates: {c}",
     "đúng một trường: tên này khớp nhiều trường; các khả năng: {c}"),
    ("a school of the schools table; candidates: {c}", "một trường trong bảng trường học; gần giống: {c}"),
    # -- files and sheets -------------------------------------------------------------------------
    ("an output folder that does not exist yet or is empty: it already holds files; choose another folder or pass "
     "--overwrite to replace it",
     "thư mục kết quả chưa có hoặc đang trống: thư mục này đã có tệp; hãy chọn thư mục khác hoặc thêm --overwrite "
     "để thay thế"),
    ("a folder the import can write: writing failed ({why}); free some space or choose another folder",
     "một thư mục ghi được: không ghi được ({why}); hãy giải phóng dung lượng đĩa hoặc chọn thư mục khác"),
    ("a file the import can read: reading it failed ({why})", "một tệp đọc được: không đọc được tệp ({why})"),
    ("an output folder of its own: this one {rel} the input file {name}; importing replaces the whole folder, so it "
     "would be deleted, even with --overwrite; choose a new folder",
     "một thư mục kết quả riêng: thư mục này {rel} tệp nhập {name}; nhập dữ liệu sẽ thay thế cả thư mục nên tệp đó "
     "sẽ bị xóa, kể cả khi có --overwrite; hãy chọn thư mục mới"),
    ("an output folder of its own: this one {rel} {what}; importing replaces the whole folder, so it would be "
     "deleted, even with --overwrite; choose a new folder",
     "một thư mục kết quả riêng: thư mục này {rel} {what}; nhập dữ liệu sẽ thay thế cả thư mục nên nó sẽ bị xóa, kể "
     "cả khi có --overwrite; hãy chọn thư mục mới"),
    ("an output folder of its own: this one is a folder of the toolkit's repository that holds files; importing "
     "replaces the whole folder, so they would be deleted, even with --overwrite; choose a folder under data/ or "
     "outside the repository",
     "một thư mục kết quả riêng: thư mục này nằm trong kho mã nguồn của bộ công cụ và đã có tệp; nhập dữ liệu sẽ "
     "thay thế cả thư mục nên các tệp đó sẽ bị xóa, kể cả khi có --overwrite; hãy chọn thư mục trong data/ hoặc "
     "ngoài kho mã nguồn"),
    ("at least one input file", "ít nhất một tệp đầu vào"),
    ("a sheet named after its table (Trường học, Xã, Tốt nghiệp, Tư vấn HN, Học sinh, Nhu cầu lao động, Cơ sở "
     "GDNN, or the contract names schools, communes, graduates, ...) or --kind; this sheet's name and header match "
     "no table",
     "trang tính đặt tên theo bảng (Trường học, Xã, Tốt nghiệp, Tư vấn HN, Học sinh, Nhu cầu lao động, Cơ sở GDNN) "
     "hoặc dùng --kind; tên và tiêu đề của trang tính này không khớp bảng nào"),
    ("a sheet holding table {kind}; the sheets are: {names}",
     "một trang tính chứa bảng {kind}; các trang tính hiện có: {names}"),
    ("at least one sheet with data of a contract table; the sheets are: {names}",
     "ít nhất một trang tính có số liệu của một bảng; các trang tính hiện có: {names}"),
    ("data rows below the header: table {name} is required and this sheet, the only one holding it, has none",
     "các dòng số liệu dưới tiêu đề: bảng {name} là bắt buộc mà trang tính này, nơi duy nhất chứa bảng, không có "
     "dòng nào"),
    ("a sheet with table {name} (required by the data contract), or --base naming a cohort folder that has it; the "
     "inputs hold: {tables}",
     "một trang tính chứa bảng {name} (bắt buộc), hoặc --base chỉ đến thư mục dữ liệu có bảng đó; các tệp nhập "
     "hiện có: {tables}"),
    ("HEADER=FIELD, e.g. \"Đi học nước ngoài=other\"", "TIÊU_ĐỀ=TÊN_CỘT, ví dụ \"Đi học nước ngoài=other\""),
    ("a column of the data contract, a destination code ({codes}), total, note or ignore, for header '{h}'",
     "một cột của quy ước dữ liệu, một mã hướng đi ({codes}), total, note hoặc ignore, cho tiêu đề '{h}'"),
    ("an existing file", "một tệp có thật"),
    ("a workbook or CSV file with data; this file is empty (0 bytes)", "tệp Excel hoặc CSV có số liệu; tệp này rỗng "
     "(0 byte)"),
    ("a workbook without a password: this one is encrypted (password-protected); open it in Excel, remove the "
     "password (File > Info > Protect Workbook > Encrypt with Password, empty) and save it again",
     "tệp Excel không đặt mật khẩu: tệp này được mã hóa bằng mật khẩu; hãy mở bằng Excel, bỏ mật khẩu (File > Info "
     "> Protect Workbook > Encrypt with Password, để trống) rồi lưu lại"),
    ("an Excel workbook in .xlsx format: this is an Excel 97-2003 (.xls) file; open it in Excel or LibreOffice and "
     "save it as .xlsx",
     "tệp Excel dạng .xlsx: đây là tệp Excel 97-2003 (.xls); hãy mở bằng Excel hoặc LibreOffice và lưu thành .xlsx"),
    ("an .xlsx workbook: the file does not start like one (it may be a renamed text, HTML or PDF file); open it in "
     "Excel and save it as .xlsx",
     "tệp Excel .xlsx: tệp không có dạng Excel (có thể là tệp văn bản, HTML hoặc PDF bị đổi tên); hãy mở bằng Excel "
     "và lưu thành .xlsx"),
    ("an .xlsx workbook or a .csv file: {suffix} files are not read; save it as .xlsx",
     "tệp .xlsx hoặc .csv: không đọc được tệp {suffix}; hãy lưu thành .xlsx"),
    ("an .xlsx workbook or a .csv file (this file ends in '{suffix}')",
     "tệp .xlsx hoặc .csv (tệp này có đuôi '{suffix}')"),
    ("a readable .xlsx workbook: its zip container is damaged (a download or copy cut short?); get a fresh copy of "
     "the file", "tệp .xlsx đọc được: tệp bị hỏng (tải về hoặc sao chép chưa xong?); hãy lấy lại bản khác của tệp"),
    ("a readable .xlsx workbook: part {part} of its zip container is damaged; get a fresh copy of the file",
     "tệp .xlsx đọc được: phần {part} của tệp bị hỏng; hãy lấy lại bản khác của tệp"),
    ("an .xlsx workbook: the file is a zip archive but not an Excel workbook (a Word or OpenDocument file?)",
     "tệp Excel .xlsx: đây là tệp nén nhưng không phải tệp Excel (tệp Word hoặc OpenDocument?)"),
    ("a readable .xlsx workbook; openpyxl could not read it ({why})",
     "tệp .xlsx đọc được; openpyxl không đọc được tệp ({why})"),
    ("a CSV file in UTF-8: this one is UTF-16 (Excel's 'Unicode Text'); save it from Excel as 'CSV UTF-8 (Comma "
     "delimited)'",
     "tệp CSV mã UTF-8: tệp này mã UTF-16 ('Unicode Text' của Excel); hãy lưu từ Excel dạng 'CSV UTF-8 (Comma "
     "delimited)'"),
    ("a CSV file in UTF-8: byte {b} (line {line}) is not UTF-8, so the file was saved in another encoding "
     "(Windows-1258, TCVN3 or Latin-1?); save it from Excel as 'CSV UTF-8 (Comma delimited)'",
     "tệp CSV mã UTF-8: byte {b} (dòng {line}) không phải UTF-8, tệp được lưu bằng bảng mã khác (Windows-1258, TCVN3 "
     "hay Latin-1?); hãy lưu từ Excel dạng 'CSV UTF-8 (Comma delimited)'"),
    ("a CSV file with a header row and data; this one has no text", "tệp CSV có dòng tiêu đề và số liệu; tệp này "
     "không có nội dung"),
    # -- students ---------------------------------------------------------------------------------
    ("a student identifier (Mã học sinh / Mã định danh) or the name and date of birth, to make the pseudonymous "
     "student_key",
     "mã học sinh (Mã học sinh / Mã định danh) hoặc họ tên và ngày sinh, để tạo mã ẩn danh student_key"),
    ("each student once: this student (same identifier, or same name and date of birth) is already on row {r} of "
     "{f}, sheet '{s}'",
     "mỗi học sinh một lần: học sinh này (cùng mã, hoặc cùng họ tên và ngày sinh) đã có ở dòng {r} của tệp {f}, "
     "trang tính '{s}'"),
    ("each student once: this student (same identifier, or same name and date of birth) is already on row {r} of "
     "{f}", "mỗi học sinh một lần: học sinh này (cùng mã, hoặc cùng họ tên và ngày sinh) đã có ở dòng {r} của tệp "
     "{f}"),
    ("each student once: this student (same identifier, or same name and date of birth) is already on row {r}",
     "mỗi học sinh một lần: học sinh này (cùng mã, hoặc cùng họ tên và ngày sinh) đã có ở dòng {r}"),
    ("a pseudonymisation key file at {p}: there is no such file", "tệp khóa ẩn danh tại {p}: không có tệp này"),
    ("a key file outside the repository: {p} is inside {root}, where it could be committed or shared with the "
     "data; move it (e.g. to your home folder)",
     "tệp khóa nằm ngoài thư mục mã nguồn: {p} nằm trong {root}, có thể bị đưa lên kho mã hoặc chia sẻ cùng dữ "
     "liệu; hãy chuyển đi (ví dụ vào thư mục cá nhân)"),
    ("a key file outside the output folder {out}", "tệp khóa nằm ngoài thư mục kết quả {out}"),
    ("a secret pseudonymisation key before student records are imported: {rest}",
     "một khóa bí mật để ẩn danh trước khi nhập danh sách học sinh: {rest}"),
    ("a pseudonymisation key of at least {n} characters (the one from {source} has {m})",
     "khóa ẩn danh dài ít nhất {n} ký tự (khóa từ {source} có {m})"),
    # -- validation (the data contract) -----------------------------------------------------------
    ("a number with a decimal point (e.g. 0.25)", "một số thập phân (ví dụ 0,25)"),
    ("true or false (also accepted: 1/0, yes/no)", "đúng hoặc sai (cũng nhận: 1/0, có/không)"),
    ("one of: {codes}", "một trong: {codes}"),
    ("a value between {a} and {b}", "một giá trị từ {a} đến {b}"),
    ("a value of at least {a}", "một giá trị ít nhất là {a}"),
    ("a value of 0 or more", "một giá trị từ 0 trở lên"),
    ("a value of at most {b}", "một giá trị nhiều nhất là {b}"),
    ("a calendar year between {a} and {b}", "một năm từ {a} đến {b}"),
    ("a graduation year of the review cycle ({span})", "một năm tốt nghiệp trong kỳ sơ kết ({span})"),
    ("a column named '{c}' (see the data contract for table {t})", "một cột tên '{c}' (xem quy ước dữ liệu của bảng "
     "{t})"),
    ("a value (this column may not be empty)", "một giá trị (cột này không được để trống)"),
    ("to pass pandera check {c}", "đạt kiểm tra pandera {c}"),
    ("no name, national ID, birth date or contact column in student microdata (personal data): delete this column "
     "and keep only the pseudonymous student_key",
     "không có cột họ tên, số định danh, ngày sinh hay liên lạc trong dữ liệu học sinh (dữ liệu cá nhân): hãy xóa "
     "cột này, chỉ giữ mã ẩn danh student_key"),
    ("a unique {key} (the same key is on {n} rows, first on row {r} of {f}, sheet '{s}')",
     "{key} không trùng (cùng khóa có ở {n} dòng, đầu tiên ở dòng {r} của tệp {f}, trang tính '{s}')"),
    ("a unique {key} (the same key is on {n} rows, first on row {r} of {f})",
     "{key} không trùng (cùng khóa có ở {n} dòng, đầu tiên ở dòng {r} của tệp {f})"),
    ("a unique {key} (the same key is on {n} {w}s, first on {w2} {r})",
     "{key} không trùng (cùng khóa có ở {n} dòng, đầu tiên ở dòng {r})"),
    ("a commune before 1/7/2025 listed in communes (this is a commune after the 2025 reorganisation, formed from "
     "{u})", "một xã trước 1/7/2025 có trong bảng xã (đây là xã sau sắp xếp năm 2025, hình thành từ {u})"),
    ("a {key} listed in {parent}", "một {key} có trong bảng {parent}"),
    ("a level taught by school {s} (levels {l} in schools)", "một cấp học mà trường {s} dạy (bảng trường ghi {l})"),
    ("a destination after {lv}: {ds}", "một hướng đi sau {lv}: {ds}"),
    ("at most the number of counselors on the same row ({n})", "không quá số giáo viên tư vấn trên cùng dòng ({n})"),
    ("a graduates row with students {m} = the number of students rows in the cell ({cell})",
     "một dòng tốt nghiệp có số học sinh {m} = số dòng học sinh của ô ({cell})"),
    ("{m} = the number of students rows in the cell ({cell})", "{m} = số dòng học sinh của ô ({cell})"),
    ("a counseling row for each school-year with graduates (the school-year counts as missing, not as uncovered)",
     "một dòng tư vấn cho mỗi trường-năm có học sinh tốt nghiệp (trường-năm này được tính là thiếu số liệu, không "
     "phải chưa có tư vấn)"),
    ("at most {p} of graduates with destination 'unknown' ({per})",
     "không quá {p} học sinh tốt nghiệp có hướng đi 'không rõ' ({per})"),
    ("graduates rows in every year from the school's first year to the last year of data ({last})",
     "số liệu tốt nghiệp mọi năm từ năm đầu của trường đến năm cuối của dữ liệu ({last})"),
    ("a table {name} ({name2}.csv or {name3}.parquet)", "một bảng {name} ({name2}.csv hoặc {name3}.parquet)"),
    ("an existing folder holding the cohort tables", "một thư mục có thật chứa các bảng dữ liệu"),
    ("only one of {a}.csv or {b}.parquet (remove the other)", "chỉ một trong {a}.csv hoặc {b}.parquet (xóa tệp kia)"),
    ("a file {a}.csv or {b}.parquet in the folder (required table){hint}",
     "một tệp {a}.csv hoặc {b}.parquet trong thư mục (bảng bắt buộc){hint}"),
    ("optional table {a}.csv or {b}.parquet; the report sections that need it are skipped",
     "bảng không bắt buộc {a}.csv hoặc {b}.parquet; các phần báo cáo cần bảng này được bỏ qua"),
    ("a readable {kind}; {reason}", "một {kind} đọc được; {reason}"),
    # -- why a table file cannot be read (evaluation.io.TableReadError; the {reason} above) ---------------
    ("both {a} and {b} exist; keep only one", "có cả {a} và {b}; chỉ giữ một tệp"),
    ("the file is empty", "tệp rỗng"),
    ("line {line} has more values than the header has columns ({n}); quote a value that holds a comma, or give the "
     "extra column a header",
     "dòng {line} có nhiều giá trị hơn số cột của dòng tiêu đề ({n}); đặt giá trị có dấu phẩy trong ngoặc kép, hoặc "
     "đặt tên cho cột thừa"),
    ("its bytes are not UTF-8 (first bad byte at offset {offset}); save it from Excel as 'CSV UTF-8'",
     "tệp không mã hóa UTF-8 (byte sai đầu tiên ở vị trí {offset}); hãy lưu lại từ Excel dạng 'CSV UTF-8'"),
    ("the file has no header row", "tệp không có dòng tiêu đề"),
    ("pandas could not parse it: {detail}", "pandas không đọc được tệp: {detail}"),
    ("its columns are separated by {sep}, not commas (Excel saves CSV so in a Vietnamese or European locale); save "
     "it from Excel as 'CSV UTF-8 (Comma delimited)'",
     "các cột cách nhau bằng {sep}, không phải dấu phẩy (Excel lưu CSV như vậy khi máy đặt vùng Việt Nam hoặc châu "
     "Âu); hãy lưu lại từ Excel dạng 'CSV UTF-8 (Comma delimited)'"),
    ("column '{key}' appears twice in the header (columns {a} and {b}); keep one of them",
     "cột '{key}' xuất hiện hai lần ở dòng tiêu đề (cột {a} và {b}); giữ lại một cột"),
    ("column {name} holds {t} values, not one number, text or true/false per cell; write it as plain values",
     "cột {name} chứa giá trị kiểu {t}, không phải một số, chữ hay đúng/sai mỗi ô; hãy ghi thành giá trị thường"),
    ("at least one data row below the header", "ít nhất một dòng số liệu dưới dòng tiêu đề"),
    # -- safety rules (issue 13): digits, codes, formulas, sizes -------------------------------------
    ("a whole number written with the digits 0-9, at most 15 digits (e.g. 12)",
     "một số nguyên viết bằng các chữ số 0-9, tối đa 15 chữ số (ví dụ 12)"),
    ("a number with a decimal point, written with the digits 0-9 (e.g. 0.25)",
     "một số có dấu thập phân, viết bằng các chữ số 0-9 (ví dụ 0.25)"),
    ("text that does not start with =, +, -, @, a tab or a line break (a spreadsheet would run it as a formula "
     "when the evidence is opened); remove the first character",
     "văn bản không bắt đầu bằng =, +, -, @, dấu tab hoặc dấu xuống dòng (bảng tính sẽ chạy nó như một công thức "
     "khi mở kết quả); hãy xóa ký tự đầu"),
    ("a code: letters and digits (also _ . - /), no spaces, not a placeholder such as '-' or 'NA' (leave the cell "
     "empty when there is none)",
     "một mã: chữ và số (có thể có _ . - /), không có khoảng trắng, không phải ký hiệu thay thế như '-' hay 'NA' "
     "(để trống ô khi không có)"),
    ("at most the number graduated on the same row ({n})", "không quá số người tốt nghiệp trên cùng dòng ({n})"),
    ("a count of at most {n} (a larger number is a typing error)", "một số đếm không quá {n} (số lớn hơn là do gõ nhầm)"),
    ("at least one graduate of {level} in {year}: all {n} rows of this level and year have 0 students; fill in the "
     "counts, or delete the rows of a year without data",
     "ít nhất một học sinh tốt nghiệp {level} năm {year}: cả {n} dòng của cấp học và năm này đều bằng 0; hãy điền "
     "số liệu, hoặc xóa các dòng của năm không có số liệu"),
    ("an input file of at most {mb} MB: this one has {n} MB; split it by year or school",
     "một tệp đầu vào tối đa {mb} MB: tệp này có {n} MB; hãy tách theo năm hoặc theo trường"),
    ("an .xlsx workbook of ordinary data: part {part} unpacks {r} times its packed size (more than {m}); the file "
     "is damaged or built to exhaust memory",
     "một tệp .xlsx chứa dữ liệu thông thường: phần {part} giải nén lớn gấp {r} lần kích thước nén (quá {m}); tệp "
     "bị hỏng hoặc được tạo ra để làm cạn bộ nhớ"),
    ("an .xlsx workbook whose parts unpack to at most {mb} MB: this one unpacks to {n} MB; split it by year or "
     "school",
     "một tệp .xlsx giải nén ra tối đa {mb} MB: tệp này giải nén ra {n} MB; hãy tách theo năm hoặc theo trường"),
    ("a sheet of at most {n} cells: sheet '{s}' has more (rows {r} and beyond); delete the empty or unused rows "
     "and columns",
     "một trang tính tối đa {n} ô: trang '{s}' có nhiều hơn (từ dòng {r} trở đi); hãy xóa các dòng và cột trống "
     "hoặc không dùng"),
    ("a readable .xlsx workbook: its compressed data is damaged (a download or copy cut short?); get a fresh copy "
     "of the file",
     "một tệp .xlsx đọc được: dữ liệu nén bị hỏng (tải xuống hoặc sao chép bị ngắt?); hãy lấy bản sao mới của tệp"),
)


def _compile(pattern: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)\}", pattern)
    rx = ""
    for k, p in enumerate(parts):
        rx += re.escape(p) if k % 2 == 0 else f"(?P<{p}>.*?)"
    return re.compile(rx, re.S)


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[re.Pattern, str], ...]:
    return tuple((_compile(en), vi) for en, vi in CATALOGUE)


def translate(text: str, lang: str = DEFAULT_LANG, *, strict: bool = False) -> str:
    """``text`` (an English message) in ``lang``. A message no catalogue entry fits is returned in
    English behind "(chưa có bản dịch)" (or ``None`` with ``strict``)."""
    if lang == "en" or text is None:
        return text
    for rx, vi in _compiled():
        m = rx.fullmatch(text)
        if m:
            return vi.format(**{k: _part(k, v, lang) for k, v in m.groupdict().items()})
    if strict:
        return None  # type: ignore[return-value]
    return word("untranslated", lang) + text


#: Placeholders that hold a message of their own (a file's reason for being unreadable): translated in turn.
_NESTED = ("reason", "why")


def _part(key: str, value: str, lang: str) -> str:
    """A placeholder's value in ``lang``: a known phrase, a nested message (``_NESTED``), else as it is."""
    if value in PHRASES:
        return PHRASES[value]
    if key in _NESTED and value:
        nested = translate(value, lang, strict=True)
        if nested is not None:
            return nested
    return value


def has_translation(text: str) -> bool:
    return translate(text, "vi", strict=True) is not None


def visible(text: str) -> str:
    """``text`` with tabs, line breaks and other control characters written as escapes (``\\t``,
    ``\\r``, ``\\x0b``): printed as they are, they would break or garble the message's line."""
    return re.sub(r"[\x00-\x1f\x7f]", lambda m: {"\t": "\\t", "\r": "\\r", "\n": "\\n"}.get(
        m.group(), f"\\x{ord(m.group()):02x}"), text)


def quote(value: str | None, lang: str = DEFAULT_LANG, limit: int = 80) -> str:
    if value == "":
        return word("empty", lang)
    if value == "(not shown)" or value == "(values not shown)":
        return word("not_shown", lang)
    v = value if len(value) <= limit else value[: limit - 1] + "…"
    return f"'{visible(v)}'"


def issue_text(issue: Any, lang: str = DEFAULT_LANG) -> str:
    """One import problem as a line: file, sheet, Excel row, column, value, what is expected."""
    parts = [issue.file]
    if issue.sheet is not None:
        parts.append(f"{word('sheet', lang)} '{issue.sheet}'")
    if issue.row is not None:
        parts.append(f"{word('row', lang)} {issue.row}")
    if issue.column:
        parts.append(f"{word('column', lang)} {issue.column}")
    head = ", ".join(parts)
    val = f": {word('value', lang)} {quote(issue.value, lang)}" if issue.value is not None else ""
    exp = translate(issue.expected, lang)
    return f"{head}{val}: {word('expected', lang)} {exp} [{issue.check}]"
